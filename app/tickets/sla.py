"""Service levels in working time: Monday to Friday office hours, Swedish public and de facto holidays off
(the ``holidays`` library: public holidays plus Midsummer Eve, Christmas Eve and New Year's Eve), and the extra
closing days (klämdagar) administrators add. Office hours set in the browser win over ``LOTSEN_OFFICE_HOURS``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from time import monotonic
from zoneinfo import ZoneInfo

import holidays
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.db import db
from app.tickets.models import ClosingDay, DeskSetting

STOCKHOLM = ZoneInfo("Europe/Stockholm")
DUE_SOON_MINUTES = 120


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Sweden(years=year, include_sundays=False, categories=("public", "de_facto")))


OFFICE_HOURS_KEY = "office_hours"
DESK_RECHECK_SECONDS = 30.0  # other processes see a change of hours or closing days within this time
_desk: tuple[float, str | None, frozenset[date]] | None = None


@dataclass(frozen=True)
class WorkingCalendar:
    opens: time
    closes: time
    closed: frozenset[date] = frozenset()  # extra closing days

    @classmethod
    def from_config(cls, office_hours: str, closed: frozenset[date] = frozenset()) -> WorkingCalendar:
        start, end = office_hours.split("-")
        return cls(time.fromisoformat(start), time.fromisoformat(end), closed)

    def is_workday(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(day.year) and day not in self.closed

    def _bounds(self, day: date) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, STOCKHOLM), datetime.combine(day, self.closes, STOCKHOLM))

    def closing_time(self, day: date) -> datetime:
        """The end of the working day ``day`` (in UTC)."""
        return self._bounds(day)[1].astimezone(UTC)

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of working time after ``start`` (both in UTC)."""
        current = start.astimezone(STOCKHOLM)
        remaining = timedelta(minutes=minutes)
        for _ in range(3660):  # ten years of days at most
            day = current.date()
            if self.is_workday(day):
                opens, closes = self._bounds(day)
                begin = max(current, opens)
                if begin < closes:
                    if begin + remaining <= closes:
                        return (begin + remaining).astimezone(UTC)
                    remaining -= closes - begin
            current = datetime.combine(day + timedelta(days=1), time(0), STOCKHOLM)
        raise ValueError("working time too far ahead")

    def working_minutes_between(self, start: datetime, end: datetime) -> float:
        """Working minutes from ``start`` to ``end`` (0 if end is not after start)."""
        if end <= start:
            return 0.0
        local_start, local_end = start.astimezone(STOCKHOLM), end.astimezone(STOCKHOLM)
        total = timedelta()
        day = local_start.date()
        while day <= local_end.date():
            if self.is_workday(day):
                opens, closes = self._bounds(day)
                begin, finish = max(opens, local_start), min(closes, local_end)
                if finish > begin:
                    total += finish - begin
            day += timedelta(days=1)
        return total.total_seconds() / 60


def parse_office_hours(text: str) -> str:
    """``08:00-16:30`` as given, or ValueError with a message for the user."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(_l("Write the hours as 08:00-16:30.")) from None
    if end <= start:
        raise ValueError(_l("The office closes after it opens: write the hours as 08:00-16:30."))
    return f"{start:%H:%M}-{end:%H:%M}"


def _desk_settings() -> tuple[str | None, frozenset[date]]:
    global _desk
    now = monotonic()
    if _desk is None or now - _desk[0] > DESK_RECHECK_SECONDS:
        setting = db.session.get(DeskSetting, OFFICE_HOURS_KEY)
        closed = frozenset(db.session.scalars(select(ClosingDay.day)))
        _desk = (now, setting.value if setting else None, closed)
    return _desk[1], _desk[2]


def forget_desk_calendar() -> None:
    """Read the office hours and closing days again at the next calendar (after this process changed them)."""
    global _desk
    _desk = None


def office_calendar() -> WorkingCalendar:
    """The working calendar of the running app: office hours (set in the browser, else LOTSEN_OFFICE_HOURS) and
    the extra closing days."""
    hours, closed = _desk_settings()
    return WorkingCalendar.from_config(hours or current_app.config["LOTSEN_OFFICE_HOURS"], closed)


def duration_text(minutes: float) -> str:
    """Working time as people say it: ``2 h 30 min``, ``45 min``, ``3 h`` (the same in Swedish and English)."""
    total = round(abs(minutes))
    hours, rest = divmod(total, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


@dataclass(frozen=True)
class SlaState:
    """What the workspace shows: which target is running, working minutes left, breached or due soon."""

    target: str | None  # "first_response", "resolution" or None when nothing is running
    minutes_left: float | None
    breached: bool
    due_soon: bool
    paused: bool


def sla_state(ticket, calendar: WorkingCalendar, now: datetime) -> SlaState:
    if ticket.status in ("resolved", "closed"):
        return SlaState(None, None, False, False, False)
    paused = ticket.status == "waiting"
    if ticket.first_response_at is None and ticket.first_response_due_at is not None:
        target, due = "first_response", ticket.first_response_due_at
    elif ticket.resolution_due_at is not None:
        target, due = "resolution", ticket.resolution_due_at
    else:
        return SlaState(None, None, False, False, paused)
    reference = ticket.waiting_since if paused and ticket.waiting_since else now
    if reference >= due:  # past the moment, even if no working time has passed since (a weekend)
        return SlaState(target, -calendar.working_minutes_between(due, reference), True, False, paused)
    left = calendar.working_minutes_between(reference, due)
    return SlaState(target, left, False, left <= DUE_SOON_MINUTES, paused)
