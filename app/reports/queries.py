"""The reports' figures, each an aggregate query in the database (sums of conditions, counts, one ordered row
for a percentile), never rows loaded into Python: they stay the same few queries at a million cases.

Times are working minutes by the service levels' calendar, kept on each case as it moves
(``Ticket.first_response_minutes``, ``Ticket.resolution_minutes``, paused time taken off). A case counts for the
function that holds it now; the re-route share counts by the function where it first landed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select

from app.auth.models import SupportFunction, User
from app.core.db import db
from app.tickets.models import OPEN_STATUSES, Ticket

STOCKHOLM = ZoneInfo("Europe/Stockholm")
AGE_BUCKETS = ((0, 1), (1, 3), (3, 7), (7, 30), (30, None))  # days open: the backlog by age
RATINGS = (1, 2, 3, 4, 5)
LATEST_COMMENTS = 5


@dataclass(frozen=True)
class Period:
    """Whole days ``first`` to ``last`` (both included), in Swedish time."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), STOCKHOLM)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), STOCKHOLM)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def before(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def weeks(self) -> list[tuple[date, datetime, datetime]]:
        """Monday-based weeks overlapping the period, cut to it: (Monday, start, end)."""
        monday = self.first - timedelta(days=self.first.weekday())
        weeks = []
        while monday <= self.last:
            start = max(datetime.combine(monday, time(0), STOCKHOLM), self.start)
            end = min(datetime.combine(monday + timedelta(days=7), time(0), STOCKHOLM), self.end)
            weeks.append((monday, start, end))
            monday += timedelta(days=7)
        return weeks

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """Calendar months overlapping the period, cut to it: ("2026-11", start, end)."""
        months, first = [], self.first.replace(day=1)
        while first <= self.last:
            following = (first + timedelta(days=32)).replace(day=1)
            start = max(datetime.combine(first, time(0), STOCKHOLM), self.start)
            end = min(datetime.combine(following, time(0), STOCKHOLM), self.end)
            months.append((f"{first:%Y-%m}", start, end))
            first = following
        return months


@dataclass
class Percentiles:
    count: int
    median: int | None
    p90: int | None


@dataclass
class Figures:
    """One function's (or the whole desk's) figures for a period."""

    opened: int
    resolved: int
    opened_per_week: list[int]
    resolved_per_week: list[int]
    first_response: Percentiles
    resolution: Percentiles
    first_response_in_time: float | None  # share of first answers within the target
    resolution_in_time: float | None
    solved_without_handover: float | None  # resolved by the first line, never moved
    rerouted: float | None  # of the cases that first landed here, the share moved elsewhere
    reopened: float | None
    rating_average: float | None
    rating_count: int
    ratings: dict[int, int] = field(default_factory=dict)


def _share(part: int | None, whole: int | None) -> float | None:
    return (part or 0) / whole if whole else None


def _scope(function_id: int | None) -> list[ColumnElement]:
    return [] if function_id is None else [Ticket.function_id == function_id]


def _count_if(condition: ColumnElement) -> ColumnElement:
    return func.sum(case((condition, 1), else_=0))


def _percentile_columns(column) -> list[ColumnElement]:
    """On PostgreSQL, the count, median and 90th percentile of ``column`` as columns of the figures' own pass
    (``percentile_disc`` is the nearest rank, ignoring nulls); elsewhere none (``_percentiles`` asks)."""
    if db.engine.dialect.name != "postgresql":
        return []
    return [func.count(column), *(func.percentile_disc(q).within_group(column) for q in (0.5, 0.9))]


def _percentiles(column, conditions: list[ColumnElement], found: tuple = ()) -> Percentiles:
    """Median and 90th percentile by nearest rank: from ``found`` (``_percentile_columns``' values) when the
    database computed them, else the count, then the one row at each rank (SQLite has no percentile function)."""
    if found:
        count, median, p90 = found
        return Percentiles(count or 0, median, p90)
    conditions = [*conditions, column.is_not(None)]
    count = db.session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    if not count:
        return Percentiles(0, None, None)
    ranked = select(column).where(*conditions).order_by(column)
    median, p90 = (db.session.scalar(ranked.offset(max(0, -(-count * q // 100) - 1)).limit(1)) for q in (50, 90))
    return Percentiles(count, median, p90)


def figures(function_id: int | None, period: Period, first_line_ids: list[int]) -> Figures:
    """The dashboard's figures for ``function_id`` (None: the whole desk) in ``period``."""
    scope, start, end = _scope(function_id), period.start, period.end
    created = and_(Ticket.created_at >= start, Ticket.created_at < end)
    resolved = and_(Ticket.resolved_at >= start, Ticket.resolved_at < end)
    weeks, n_weeks = period.weeks(), len(period.weeks())
    opened_row = db.session.execute(select(
        func.count(), _count_if(and_(Ticket.first_response_at.is_not(None),
                                     Ticket.first_response_at <= Ticket.first_response_due_at)),
        _count_if(Ticket.first_response_at.is_not(None)),
        *[_count_if(and_(Ticket.created_at >= a, Ticket.created_at < b)) for _, a, b in weeks],
        *_percentile_columns(Ticket.first_response_minutes), _count_if(Ticket.reroute_count > 0),
    ).where(created, *scope)).one()
    resolved_row = db.session.execute(select(
        func.count(), _count_if(Ticket.resolved_at <= Ticket.resolution_due_at),
        _count_if(Ticket.resolution_due_at.is_not(None)),
        _count_if(and_(Ticket.function_id.in_(first_line_ids or [0]), Ticket.reroute_count == 0)),
        _count_if(Ticket.reopen_count > 0), func.avg(Ticket.rating), func.count(Ticket.rating),
        *[_count_if(Ticket.rating == rating) for rating in RATINGS],
        *[_count_if(and_(Ticket.resolved_at >= a, Ticket.resolved_at < b)) for _, a, b in weeks],
        *_percentile_columns(Ticket.resolution_minutes),
    ).where(resolved, *scope)).one()
    weekly_resolved = 7 + len(RATINGS)
    if function_id is None:  # every case landed somewhere in the desk: the first pass counted the moved ones
        moved, arrived = opened_row[-1], opened_row[0]
    else:
        moved, arrived = db.session.execute(select(_count_if(Ticket.reroute_count > 0), func.count()).where(
            created, Ticket.first_function_id == function_id)).one()
    first_line_scope = function_id is None or function_id in first_line_ids
    return Figures(
        opened=opened_row[0], resolved=resolved_row[0],
        opened_per_week=[v or 0 for v in opened_row[3:3 + n_weeks]],
        resolved_per_week=[v or 0 for v in resolved_row[weekly_resolved:weekly_resolved + n_weeks]],
        first_response=_percentiles(Ticket.first_response_minutes, [created, *scope], opened_row[3 + n_weeks:-1]),
        resolution=_percentiles(Ticket.resolution_minutes, [resolved, *scope],
                                resolved_row[weekly_resolved + n_weeks:]),
        first_response_in_time=_share(opened_row[1], opened_row[2]),
        resolution_in_time=_share(resolved_row[1], resolved_row[2]),
        solved_without_handover=_share(resolved_row[3], resolved_row[0]) if first_line_scope else None,
        rerouted=_share(moved, arrived), reopened=_share(resolved_row[4], resolved_row[0]),
        rating_average=float(resolved_row[5]) if resolved_row[5] is not None else None,
        rating_count=resolved_row[6] or 0,
        ratings={rating: resolved_row[7 + i] or 0 for i, rating in enumerate(RATINGS)},
    )


def backlog_by_age(function_id: int | None, now: datetime) -> list[int]:
    """Open cases now, by days since they arrived (``AGE_BUCKETS``)."""
    buckets = []
    for low, high in AGE_BUCKETS:
        condition = Ticket.created_at <= now - timedelta(days=low)
        if high is not None:
            condition = and_(condition, Ticket.created_at > now - timedelta(days=high))
        buckets.append(_count_if(condition))
    row = db.session.execute(select(*buckets).where(Ticket.status.in_(OPEN_STATUSES),
                                                    *_scope(function_id))).one()
    return [value or 0 for value in row]


def latest_comments(function_id: int | None, period: Period, limit: int = LATEST_COMMENTS) -> list[Ticket]:
    """The latest ratings with a comment, newest first."""
    return list(db.session.scalars(select(Ticket).where(
        Ticket.resolved_at >= period.start, Ticket.resolved_at < period.end, Ticket.rating.is_not(None),
        Ticket.rating_comment != "", *_scope(function_id)).order_by(Ticket.resolved_at.desc()).limit(limit)))


@dataclass
class PersonFigures:
    user: User
    resolved: int
    first_response_average: float | None
    resolution_average: float | None
    rating_average: float | None
    rating_count: int


def people(function_id: int, period: Period, user_id: int | None = None) -> list[PersonFigures]:
    """Per specialist (the case's assignee): cases resolved in the period, average working minutes to the first
    answer and to the resolution, ratings. ``user_id``: that person only."""
    conditions = [Ticket.resolved_at >= period.start, Ticket.resolved_at < period.end,
                  Ticket.function_id == function_id, Ticket.assignee_id.is_not(None)]
    if user_id is not None:
        conditions.append(Ticket.assignee_id == user_id)
    rows = db.session.execute(select(
        Ticket.assignee_id, func.count(), func.avg(Ticket.first_response_minutes),
        func.avg(Ticket.resolution_minutes), func.avg(Ticket.rating), func.count(Ticket.rating),
    ).where(*conditions).group_by(Ticket.assignee_id)).all()
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_([r[0] for r in rows] or [0])))}
    found = [PersonFigures(users[r[0]], r[1], _float(r[2]), _float(r[3]), _float(r[4]), r[5] or 0) for r in rows]
    return sorted(found, key=lambda p: p.user.name.lower())


def _float(value) -> float | None:
    return float(value) if value is not None else None


def person_comments(user_id: int, function_id: int, period: Period, limit: int = 20) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(
        Ticket.assignee_id == user_id, Ticket.function_id == function_id, Ticket.resolved_at >= period.start,
        Ticket.resolved_at < period.end, Ticket.rating.is_not(None)).order_by(Ticket.resolved_at.desc())
        .limit(limit)))


@dataclass
class DepartmentRow:
    department: str
    function: SupportFunction
    per_month: list[int]

    @property
    def total(self) -> int:
        return sum(self.per_month)


def department_use(period: Period, function_ids: list[int] | None) -> tuple[list[str], list[DepartmentRow]]:
    """Cases per requester's department, per function, per month (arrived in the period): for sharing the cost
    of the service by use. ``function_ids``: only those functions (None: all)."""
    months = period.months()
    conditions = [Ticket.created_at >= period.start, Ticket.created_at < period.end]
    if function_ids is not None:
        conditions.append(Ticket.function_id.in_(function_ids or [0]))
    department = func.coalesce(Ticket.requester_department, User.department)  # kept when a case is anonymised
    rows = db.session.execute(
        select(department, Ticket.function_id,
               *[_count_if(and_(Ticket.created_at >= a, Ticket.created_at < b)) for _, a, b in months])
        .join(User, User.id == Ticket.requester_id).where(*conditions)
        .group_by(department, Ticket.function_id)).all()
    functions = {f.id: f for f in db.session.scalars(select(SupportFunction))}
    result = [DepartmentRow(row[0] or "", functions[row[1]], [v or 0 for v in row[2:]]) for row in rows]
    result.sort(key=lambda r: (r.department.lower(), r.function.sort_order))
    return [label for label, _, _ in months], result


CASES_SHOWN = 200
FIGURE_CASES = ("opened", "resolved", "late_first_response", "late_resolution", "reopened", "rerouted", "backlog")


def figure_cases(figure: str, function_id: int | None, period: Period,
                 limit: int = CASES_SHOWN) -> tuple[list[Ticket], int]:
    """The cases behind a dashboard figure (``FIGURE_CASES``), newest first, at most ``limit``, and how many
    there are in all."""
    created = [Ticket.created_at >= period.start, Ticket.created_at < period.end]
    resolved = [Ticket.resolved_at >= period.start, Ticket.resolved_at < period.end]
    conditions, order = {
        "opened": (created, Ticket.created_at),
        "resolved": (resolved, Ticket.resolved_at),
        "late_first_response": ([*created, Ticket.first_response_at > Ticket.first_response_due_at],
                                Ticket.created_at),
        "late_resolution": ([*resolved, Ticket.resolved_at > Ticket.resolution_due_at], Ticket.resolved_at),
        "reopened": ([*resolved, Ticket.reopen_count > 0], Ticket.resolved_at),
        "rerouted": ([*created, Ticket.reroute_count > 0], Ticket.created_at),
        "backlog": ([Ticket.status.in_(OPEN_STATUSES)], Ticket.created_at),
    }[figure]
    if function_id is not None:  # moved cases count where they first landed, the others where they are
        scope = Ticket.first_function_id == function_id if figure == "rerouted" else Ticket.function_id == function_id
        conditions = [*conditions, scope]
    total = db.session.scalar(select(func.count()).select_from(Ticket).where(*conditions)) or 0
    rows = db.session.scalars(select(Ticket).where(*conditions).order_by(order.desc(), Ticket.id.desc())
                              .limit(limit))
    return list(rows), total
