"""Who sees which report: a function's lead and administrators its dashboard, the lead alone its people, each
specialist their own figures; confidential functions' comments to their lead only; CSV downloads; a bad period
says so."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from app.auth import services as auth_services
from app.core.audit import AuditEntry
from app.core.db import db
from app.reports import queries as reports_queries
from tests.reports.conftest import rated as _rated


@pytest.mark.parametrize("user, path, status", [
    ("ivar", "/reports/", 200), ("ivar", "/reports/functions/it", 200), ("ivar", "/reports/functions/hr", 403),
    ("ivar", "/reports/functions/it/people", 200), ("ivar", "/reports/functions/hr/people", 403),
    ("ivar", "/reports/desk", 403), ("ivar", "/reports/me", 200), ("ivar", "/reports/functions/nope", 404),
    ("chef.admin", "/reports/desk", 200), ("chef.admin", "/reports/functions/hr", 200),
    ("chef.admin", "/reports/functions/it/people", 403), ("chef.admin", "/reports/departments", 200),
    ("sara", "/reports/", 200), ("sara", "/reports/me", 200), ("sara", "/reports/functions/servicecenter", 403),
    ("sara", "/reports/departments", 403), ("erik", "/reports/", 403), ("erik", "/reports/me", 403),
])
def test_who_sees_which_report(client, auth, leads, user, path, status):
    auth.login(user)
    assert client.get(path).status_code == status


def test_a_lead_sees_the_dashboard_and_drills_to_the_cases(client, auth, leads, create_ticket):
    _rated(create_ticket, "it", "Tog lång tid", leads["ivar"])
    auth.login("ivar")
    page = client.get("/reports/functions/it").get_data(as_text=True)
    assert "Tog lång tid" in page and '<svg role="img"' in page
    assert "/reports/functions/it/cases/opened?from=" in page and "/tickets/" in page  # figures link to cases
    assert "Rapporter" in client.get("/").get_data(as_text=True)  # in the menu


def test_confidential_comments_reach_the_lead_only_and_the_reading_is_logged(client, auth, leads, create_ticket):
    _rated(create_ticket, "hr", "Handläggaren var otrevlig", leads["hugo"])
    auth.login("chef.admin")
    page = client.get("/reports/functions/hr").get_data(as_text=True)
    assert "otrevlig" not in page and "visas bara för" in page
    assert "otrevlig" not in client.get("/reports/desk").get_data(as_text=True)
    auth.login("hanna")
    assert "otrevlig" in client.get("/reports/functions/hr").get_data(as_text=True)
    logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "report_comments")).all()
    assert [entry.user_id for entry in logged] == [leads["hanna"].id]


def test_the_lead_role_is_spelled_like_the_others():
    assert auth_services.parse_role("lead:it") == (auth_services.Role.LEAD, "it")
    with pytest.raises(ValueError, match="needs a support function"):
        auth_services.parse_role("lead")


def test_the_people_page_and_own_figures(client, auth, leads, create_ticket):
    _rated(create_ticket, "it", "Bra", leads["ivar"])
    auth.login("ivar")
    page = client.get("/reports/functions/it/people").get_data(as_text=True)
    assert "Ivar IT" in page
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "report_people")) is not None
    mine = client.get("/reports/me").get_data(as_text=True)
    assert "Ivar IT" in mine and "Bra" in mine


def test_department_table_as_csv_and_a_bad_period(client, auth, leads, create_ticket):
    create_ticket("it", "erik")
    create_ticket("hr", "erik")
    auth.login("ivar")
    today = datetime.now(reports_queries.STOCKHOLM).date()  # the report's days are Stockholm's
    answer = client.get(f"/reports/departments?format=csv&from={today - timedelta(days=3)}&to={today}")
    assert answer.mimetype == "text/csv" and "attachment" in answer.headers["Content-Disposition"]
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeffFörvaltning;Supportfunktion;") and "IT och telefoni" in text
    assert "HR" not in text.split("\n", 1)[1]  # a lead's table holds their own functions only
    weeks = client.get("/reports/functions/it/weeks.csv").get_data(as_text=True)
    assert weeks.splitlines()[0] == "\ufeffVecka (måndag);Öppnade;Löst"
    figures = client.get("/reports/functions/it/figures.csv").get_data(as_text=True).splitlines()
    assert figures[0] == "\ufeffNyckeltal;Denna period;Perioden före" and figures[1] == "Nya ärenden;1;0"
    assert any(line.startswith("Öppna nu, över 30 dagar;0") for line in figures)
    assert client.get("/reports/desk/figures.csv").status_code == 403  # the whole desk: administrators
    page = client.get("/reports/functions/it?from=2026-13-01&to=igår").get_data(as_text=True)
    assert "ÅÅÅÅ-MM-DD" in page or "YYYY-MM-DD" in page
    page = client.get("/reports/functions/it?from=2026-11-30&to=2026-11-01").get_data(as_text=True)
    assert 'role="alert"' in page


def test_the_self_service_report_took_over_the_insights(client, auth, leads, create_user):
    from app.selfservice import services as article_services

    article_services.log_search("hur byter jag glödlampa", 0, leads["erik"])
    article_services.log_search("semester", 3, leads["kalle"])
    db.session.commit()
    auth.login("ivar")
    old = client.get("/editor/insights")
    assert old.status_code == 301 and old.headers["Location"].endswith("/reports/self-service")
    page = client.get("/reports/self-service").get_data(as_text=True)
    assert "hur byter jag glödlampa" in page and "Sökningar" in page
    assert "Dags för granskning" in page


def test_a_figure_drills_down_to_its_cases_showing_subjects_only_to_those_who_may_open_them(
        client, auth, leads, create_ticket):
    _rated(create_ticket, "it", "Bra", leads["ivar"]).subject = "Skrivaren på plan 3"
    _rated(create_ticket, "hr", "Bra", leads["hugo"]).subject = "Min sjukskrivning"
    db.session.commit()
    auth.login("ivar")
    page = client.get("/reports/functions/it/cases/resolved").get_data(as_text=True)
    assert "Skrivaren på plan 3" in page and 'href="/tickets/' in page
    assert client.get("/reports/functions/it/cases/everything").status_code == 404
    assert client.get("/reports/functions/hr/cases/resolved").status_code == 403
    auth.login("chef.admin")
    page = client.get("/reports/functions/hr/cases/resolved").get_data(as_text=True)
    assert "LOT-" in page and "sjukskrivning" not in page  # counted and numbered, never the subject
    page = client.get("/reports/desk/cases/resolved").get_data(as_text=True)
    assert "sjukskrivning" not in page and "Skrivaren på plan 3" in page  # administrators open IT's, not HR's
