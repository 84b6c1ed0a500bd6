"""Every figure of the reports against a small hand-built set of cases whose answers are known, and the working
minutes each case keeps (a Friday evening, a holiday, a paused case)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.core.db import db
from app.reports import queries
from app.tickets import services
from app.tickets.models import Ticket

STOCKHOLM = queries.STOCKHOLM


def local(*parts) -> datetime:
    return datetime(*parts, tzinfo=STOCKHOLM).astimezone(UTC)


@pytest.fixture
def clock(monkeypatch):
    """Set the time the case services see."""
    def at(*parts):
        monkeypatch.setattr(services, "utcnow", lambda: local(*parts))
    return at


def test_a_case_asked_on_a_friday_evening_answered_on_monday_took_one_working_hour(
        app, people, create_ticket, calendar, mail_context, clock):
    clock(2026, 11, 27, 18, 0)  # Friday, after closing
    ticket = create_ticket("it", "erik")
    assert ticket.first_function_id == ticket.function_id and ticket.reroute_count == 0
    clock(2026, 11, 30, 9, 0)  # Monday 09:00
    services.add_reply(ticket, people["ivar"], "Starta om datorn.", public=True, calendar=calendar, mail=mail_context)
    assert ticket.first_response_minutes == 60


def test_a_holiday_and_a_weekend_are_not_working_time(app, people, create_ticket, calendar, mail_context, clock):
    clock(2026, 4, 30, 16, 30)  # Thursday before the first of May (a Friday holiday)
    ticket = create_ticket("it", "erik")
    clock(2026, 5, 4, 8, 30)  # Monday
    services.change_status(ticket, people["ivar"], "resolved", calendar, mail_context)
    assert ticket.resolution_minutes == 60


def test_time_waiting_for_the_requester_is_taken_off_and_a_reopening_counts(
        app, people, create_ticket, calendar, mail_context, clock):
    clock(2026, 11, 30, 8, 0)  # Monday
    ticket = create_ticket("it", "erik")
    clock(2026, 11, 30, 9, 0)
    services.add_reply(ticket, people["ivar"], "Vilken dator?", public=True, calendar=calendar, mail=mail_context,
                       then_wait=True)
    clock(2026, 12, 1, 9, 0)  # the requester answers the next morning: 09-17 and 08-09 paused
    services.add_reply(ticket, people["erik"], "Den bärbara.", public=True, calendar=calendar, mail=mail_context)
    clock(2026, 12, 1, 10, 0)
    services.change_status(ticket, people["ivar"], "resolved", calendar, mail_context)
    assert ticket.paused_minutes == 9 * 60
    assert ticket.resolution_minutes == (9 * 60 + 2 * 60) - 9 * 60
    clock(2026, 12, 1, 11, 0)
    services.add_reply(ticket, people["erik"], "Den startar inte igen.", public=True, calendar=calendar,
                       mail=mail_context)
    assert ticket.reopen_count == 1 and ticket.resolution_minutes is None and ticket.resolved_at is None


def _case(create_ticket, function: str, requester: str, created: datetime, *, resolved: datetime | None = None,
          first: int | None = None, resolution: int | None = None, rating: int | None = None, comment: str = "",
          in_time: bool = True, reopened: int = 0, moved_from: str | None = None, assignee=None) -> Ticket:
    ticket = create_ticket(function, requester)
    ticket.created_at, ticket.first_response_minutes = created, first
    ticket.first_response_at = created if first is not None else None
    ticket.first_response_due_at = created if in_time else created.replace(year=created.year - 1)
    if resolved is not None:
        ticket.status, ticket.resolved_at, ticket.resolution_minutes = "resolved", resolved, resolution
        ticket.resolution_due_at = resolved if in_time else resolved.replace(year=resolved.year - 1)
    ticket.rating, ticket.rating_comment, ticket.reopen_count = rating, comment, reopened
    if moved_from is not None:
        ticket.first_function_id = services.get_function(moved_from).id
        ticket.reroute_count = 1
    ticket.assignee = assignee
    return ticket


def test_the_dashboard_figures_of_a_known_set(app, people, create_ticket):
    it = services.get_function("it")
    week1, week2 = local(2026, 11, 2, 10, 0), local(2026, 11, 9, 10, 0)  # Mondays
    ivar = people["ivar"]
    # IT: four cases in the period, three resolved; one arrived at the service centre and was moved to IT
    _case(create_ticket, "it", "erik", week1, resolved=week1, first=10, resolution=60, rating=5, comment="Snabbt!",
          assignee=ivar)
    _case(create_ticket, "it", "kalle", week1, resolved=week2, first=30, resolution=600, rating=3, in_time=False,
          reopened=1, assignee=ivar)
    _case(create_ticket, "it", "erik", week2, resolved=week2, first=50, resolution=120, rating=4,
          moved_from="servicecenter", assignee=ivar)
    _case(create_ticket, "it", "kalle", week2, first=None)  # still open, unanswered
    _case(create_ticket, "it", "erik", local(2026, 10, 20, 10, 0), resolved=local(2026, 10, 21, 10, 0),
          first=5, resolution=20, rating=1)  # the period before
    _case(create_ticket, "servicecenter", "erik", week1, resolved=week1, first=5, resolution=15)
    db.session.commit()
    period = queries.Period(date(2026, 11, 2), date(2026, 11, 15))
    first_line = [services.get_function("servicecenter").id]
    found = queries.figures(it.id, period, first_line)
    assert (found.opened, found.resolved) == (4, 3)
    assert found.opened_per_week == [2, 2] and found.resolved_per_week == [1, 2]
    assert (found.first_response.count, found.first_response.median, found.first_response.p90) == (3, 30, 50)
    assert (found.resolution.median, found.resolution.p90) == (120, 600)
    assert found.first_response_in_time == pytest.approx(2 / 3)
    assert found.resolution_in_time == pytest.approx(2 / 3)
    assert found.reopened == pytest.approx(1 / 3)
    assert found.solved_without_handover is None  # IT is not the first line
    assert found.rating_average == pytest.approx(4.0) and found.rating_count == 3
    assert found.ratings == {1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    assert found.rerouted == 0  # of the cases that first landed in IT, none moved
    service_centre = queries.figures(first_line[0], period, first_line)
    assert service_centre.rerouted == pytest.approx(1 / 2)  # two landed there, one went on to IT
    assert service_centre.solved_without_handover == 1.0
    desk = queries.figures(None, period, first_line)
    assert (desk.opened, desk.resolved) == (5, 4)
    assert desk.solved_without_handover == pytest.approx(1 / 4)
    before = queries.figures(it.id, period.before(), first_line)
    assert (before.opened, before.resolved, before.rating_average) == (1, 1, 1.0)
    assert [t.rating_comment for t in queries.latest_comments(it.id, period)] == ["Snabbt!"]
    assert queries.backlog_by_age(it.id, local(2026, 11, 15, 12, 0)) == [0, 0, 1, 0, 0]

    people_found = queries.people(it.id, period)
    assert [(p.user.username, p.resolved, p.rating_count) for p in people_found] == [("ivar", 3, 3)]
    assert people_found[0].first_response_average == pytest.approx(30)
    assert people_found[0].rating_average == pytest.approx(4.0)


def test_the_departments_use_per_function_and_month(app, people, create_user, create_ticket):
    people["olle"] = create_user("olle", display_name="Olle Omsorg", department="Vård- och omsorgsförvaltningen")
    _case(create_ticket, "it", "olle", local(2026, 10, 31, 23, 30))  # Swedish time: still October
    _case(create_ticket, "it", "olle", local(2026, 11, 1, 0, 30))
    _case(create_ticket, "hr", "olle", local(2026, 11, 20, 12, 0))
    _case(create_ticket, "it", "olle", local(2026, 12, 1, 0, 30))  # after the period
    db.session.commit()
    months, rows = queries.department_use(queries.Period(date(2026, 10, 1), date(2026, 11, 30)), None)
    assert months == ["2026-10", "2026-11"]
    mine = [(r.function.slug, r.per_month, r.total) for r in rows if r.department == "Vård- och omsorgsförvaltningen"]
    assert mine == [("hr", [0, 1], 1), ("it", [1, 1], 2)] or mine == [("it", [1, 1], 2), ("hr", [0, 1], 1)]
    it_only = queries.department_use(queries.Period(date(2026, 10, 1), date(2026, 11, 30)),
                                     [services.get_function("it").id])[1]
    assert {r.function.slug for r in it_only} == {"it"}
