"""The small faults found on the way (issue 14): each would fail on the code before the fix."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale

from app.core.db import db, utcnow
from app.tickets.models import Ticket
from app.tickets.sla import SlaState, duration_text

ROOT_PAGES_BY_USER = {
    "sara": ["/", "/tickets", "/workspace/servicecenter", "/workspace/register", "/workspace/servicecenter/notices",
             "/workspace/servicecenter/canned", "/account"],
    "admin": ["/admin/routing", "/users", "/outbox"],
}


def test_the_notice_form_asks_for_a_headline_not_a_dismissal(client, auth, people):
    auth.login("sara")
    page = client.get("/workspace/servicecenter/notices").get_data(as_text=True)
    assert "Uppsägning" not in page and ">Rubrik</label>" in page


def test_register_offers_channels_in_words(client, auth, people):
    auth.login("sara")
    page = client.get("/workspace/register").get_data(as_text=True)
    assert '<option value="phone">Telefon</option>' in page and '<option value="visit">Besök</option>' in page
    assert ">phone<" not in page and 'value="form"' not in page


def test_waiting_reads_as_waiting_for_the_requester_to_specialists(client, auth, people, create_ticket):
    ticket = create_ticket("it")
    ticket.status = "waiting"
    ticket.waiting_since = utcnow()
    db.session.commit()
    auth.login("ivar")
    work = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Väntar på den som frågat" in work and "Väntar på dig" not in work
    assert "Väntar på den som frågat" in client.get("/workspace/it?view=waiting").get_data(as_text=True)
    auth.logout()
    auth.login("erik")
    assert "Väntar på dig" in client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Väntar på dig" in client.get("/tickets").get_data(as_text=True)


@pytest.mark.parametrize(("minutes", "text"), [(150, "2 h 30 min"), (45, "45 min"), (-60, "1 h"), (540, "9 h"),
                                                 (0.4, "0 min")])
def test_working_time_in_words(minutes, text):
    assert duration_text(minutes) == text


def test_the_service_level_agrees_in_swedish_and_has_no_decimal_point(app):
    from flask import render_template_string

    page = '{% from "tickets/_sla.html" import sla_text %}{{ sla_text(sla, sla_duration) }}'
    with app.test_request_context("/"):
        late = render_template_string(page, sla=SlaState("resolution", -540, True, False, False))
        first = render_template_string(page, sla=SlaState("first_response", 150, False, True, False))
    assert "Lösning: försenad 9 h" in late and "sla-breached" in late and "9.0" not in late
    assert "Första svar: 2 h 30 min kvar" in first and "sla-soon" in first


def test_percentages_use_the_locales_decimal_sign(app):
    with app.test_request_context("/"):
        assert app.jinja_env.from_string("{{ 0.256|percent }}").render() == "25,6\u00a0%"
        with force_locale("en"):
            assert app.jinja_env.from_string("{{ 0.256|percent }}").render() == "25.6\u00a0%"


def test_the_english_ui_shows_iso_dates(client, auth, people, create_ticket):
    ticket = create_ticket("it")
    auth.login("erik")
    client.get("/language/en")
    page = client.get("/tickets").get_data(as_text=True)
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page) and not re.search(r"\d{1,2}/\d{1,2}/\d{2}", page)
    assert ticket.number in page


def test_pages_with_several_forms_have_unique_ids(client, auth, people, create_ticket):
    ticket = create_ticket("servicecenter")
    for username, paths in ROOT_PAGES_BY_USER.items():
        auth.login(username)
        for path in [*paths, f"/tickets/{ticket.number}"] if username == "sara" else paths:
            page = client.get(path).get_data(as_text=True)
            ids = re.findall(r'\sid="([^"]+)"', page)
            assert len(ids) == len(set(ids)), (path, sorted({i for i in ids if ids.count(i) > 1}))
        auth.logout()


def test_favicon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200 and answer.mimetype == "image/vnd.microsoft.icon"


def test_make_run_gives_the_demo_mails_its_own_address():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    demo = makefile.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    assert "LOTSEN_BASE_URL" in demo and "$(PORT)" in demo


def test_the_widget_shows_notices_in_stockholm_time_without_seconds():
    from pathlib import Path

    script = (Path(__file__).resolve().parents[2] / "intranet_widgets/static/widget.js").read_text()
    assert 'timeZone: "Europe/Stockholm"' in script and 'timeStyle: "short"' in script


def test_due_dates_of_cases_are_shown_in_working_hours(client, auth, people, create_ticket):
    ticket = create_ticket("it")
    ticket.first_response_due_at = utcnow() + timedelta(minutes=5)
    db.session.commit()
    auth.login("ivar")
    page = client.get("/workspace/it").get_data(as_text=True)
    assert "Första svar:" in page and "arbetstimmar" not in page
    assert db.session.get(Ticket, ticket.id)


def test_a_cursor_without_a_time_zone_is_a_page_not_a_server_error(client, auth, people, create_ticket):
    """Review of #12: the built-once paging statement types its cursor, which refused a hand-made cursor
    without a zone with a 500."""
    import base64

    create_ticket("it", "erik")
    auth.login("ivar")
    naive = base64.urlsafe_b64encode(b"2099-01-01T00:00:00|999999").decode().rstrip("=")
    assert client.get(f"/workspace/it?after={naive}").status_code == 200
    assert client.get(f"/workspace/it?sort=due&after={naive}").status_code == 200
    assert client.get(f"/tickets?after={naive}").status_code == 200


def test_the_link_memo_keeps_no_long_addresses(client):
    """Review of #12: the language links carry the page's own address; a long query string per request would
    have filled the memo with large entries (about 130 MB per process when full)."""
    remembered = client.application.jinja_env.globals["url_for"]
    kept = next(c.cell_contents for c in remembered.__closure__ if isinstance(c.cell_contents, dict))
    for n in range(50):
        client.get(f"/login?n={n}&p={'x' * 3500}")
    assert all(len(url) < 1000 for url in kept.values())
