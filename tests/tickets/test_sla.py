from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from app.core.db import db
from app.tickets import services
from app.tickets.sla import WorkingCalendar, sla_state

STHLM = ZoneInfo("Europe/Stockholm")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=STHLM)


@pytest.fixture
def cal():
    return WorkingCalendar.from_config("08:00-17:00")


@pytest.mark.parametrize(("start", "minutes", "expected"), [
    (local(2026, 11, 23, 9, 0), 60, local(2026, 11, 23, 10, 0)),        # Monday morning
    (local(2026, 11, 27, 16, 0), 120, local(2026, 11, 30, 9, 0)),       # Friday afternoon -> Monday
    (local(2026, 11, 22, 12, 0), 30, local(2026, 11, 23, 8, 30)),       # Sunday -> Monday opening
    (local(2026, 11, 23, 6, 0), 9 * 60, local(2026, 11, 23, 17, 0)),    # a whole working day
    (local(2026, 12, 23, 16, 0), 120, local(2026, 12, 28, 9, 0)),       # Christmas Eve, Day, Boxing Day off
    (local(2026, 6, 18, 16, 30), 60, local(2026, 6, 22, 8, 30)),        # Midsummer Eve is off
    (local(2026, 4, 2, 16, 0), 120, local(2026, 4, 7, 9, 0)),           # Easter: Good Friday, Easter Monday
])
def test_working_minutes_skip_evenings_weekends_and_holidays(cal, start, minutes, expected):
    assert cal.add_working_minutes(start.astimezone(UTC), minutes) == expected.astimezone(UTC)


def test_working_minutes_between(cal):
    assert cal.working_minutes_between(local(2026, 11, 27, 16, 0), local(2026, 11, 30, 9, 0)) == 120
    assert cal.working_minutes_between(local(2026, 11, 30, 9, 0), local(2026, 11, 27, 16, 0)) == 0


def test_waiting_pauses_the_clock(app, people, create_ticket, cal, mail_context):
    ticket = create_ticket("it", "erik")
    ticket.created_at = local(2026, 11, 2, 8, 0).astimezone(UTC)
    ticket.status, ticket.waiting_since = "waiting", local(2026, 11, 2, 9, 0).astimezone(UTC)
    services.set_due_dates(ticket, cal)
    due = ticket.resolution_due_at
    state = sla_state(ticket, cal, local(2026, 11, 20, 9, 0).astimezone(UTC))
    assert state.paused and not state.breached  # the clock stood still while waiting
    services._set_status(ticket, people["ivar"], "open", cal)  # weeks later, in real time
    assert ticket.paused_minutes >= 14 * 9 * 60
    assert ticket.resolution_due_at > due
    db.session.rollback()


def test_breached_even_when_no_working_time_has_passed(app, people, create_ticket, cal):
    ticket = create_ticket("it", "erik")
    ticket.first_response_due_at = local(2026, 11, 28, 10, 0).astimezone(UTC)  # a Saturday
    state = sla_state(ticket, cal, local(2026, 11, 28, 11, 0).astimezone(UTC))
    assert state.breached and state.target == "first_response"
    db.session.rollback()


def test_bad_office_hours_are_refused(tmp_path):
    from app import ConfigError, create_app

    with pytest.raises(ConfigError, match="LOTSEN_OFFICE_HOURS"):
        create_app({"LOTSEN_INSTANCE_PATH": tmp_path, "LOTSEN_OFFICE_HOURS": "17:00-08:00"})
