"""Read-side helpers: the specialists' queues and "Mina ärenden", paged by keyset (never OFFSET), so a page
costs the same on the first page and the thousandth, with a million cases."""

from __future__ import annotations

import base64
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select, and_, bindparam, case, func, literal_column, or_, select, tuple_
from sqlalchemy.orm import defaultload, lazyload, load_only

from app.auth.models import RoleGrant, SupportFunction, User
from app.core.db import db, read_plain
from app.core.permissions import Role
from app.tickets.models import OPEN_STATUSES, SavedFilter, Ticket, TicketEvent
from app.tickets.routing import FIRST_LINE, text_features
from app.tickets.services import SAVED_FILTERS, can_view

QUEUE_VIEWS = ("unassigned", "mine", "waiting", "open", "due_soon", "breached", "resolved")
SORTS = ("activity", "created", "due")
PAGE_SIZE = 25
DUE_SOON = timedelta(hours=2)


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: str | None


def _encode(value, ticket_id: int) -> str:
    raw = f"{value.isoformat() if isinstance(value, datetime) else value}|{ticket_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, ticket_id = raw.rsplit("|", 1)
        moment = datetime.fromisoformat(value)  # a hand-made cursor may lack the zone Lotsen writes
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)), int(ticket_id)
    except (ValueError, UnicodeDecodeError):
        return None


# A list shows who asked and who has the case, never their roles: not loading those saves two queries a page.
# A list shows no category either (a case page does): not joining it saves two joins a row.
# Nor its function: a queue's cases are in the viewer's own function, already loaded with the viewer's roles.
LIST_OPTIONS = (defaultload(Ticket.requester).lazyload(User.role_grants),
                defaultload(Ticket.assignee).lazyload(User.role_grants), lazyload(Ticket.category),
                lazyload(Ticket.function))
# "Mina ärenden" shows the person's own cases: no requester, no assignee.
# Nor the columns the list does not show: a case has some thirty, and building each row's object is the page's
# cost per row.
MINE_OPTIONS = (lazyload(Ticket.requester), lazyload(Ticket.assignee), lazyload(Ticket.category),
                load_only(Ticket.number, Ticket.subject, Ticket.status, Ticket.function_id,
                          Ticket.last_activity_at))


def _among(column, values: tuple[str, ...]):
    """``column IN ('a', 'b')`` with the code's own constant values written into the statement: an ``IN`` of
    parameters is rewritten into the SQL on every run (with the function's ``IN`` before, 3 % of a queue page)."""
    if not all(re.fullmatch(r"[a-z_]+", value) for value in values):
        raise ValueError(f"not a constant of the code: {values!r}")
    return column.in_([literal_column(f"'{value}'") for value in values])


OPEN = _among(Ticket.status, OPEN_STATUSES)
DONE = _among(Ticket.status, ("resolved", "closed"))


SORT_COLUMNS = {"activity": (Ticket.last_activity_at, True), "created": (Ticket.created_at, True),
                "due": (Ticket.resolution_due_at, False)}


def _paged(query: Select, sort: str, with_cursor: bool, limit: int, options: tuple) -> Select:
    """``query`` ordered by ``sort``, one row more than a page, after the cursor's position (the parameters
    ``cursor_value`` and ``cursor_id``) when ``with_cursor``."""
    column, descending = SORT_COLUMNS[sort]
    if with_cursor:
        key = tuple_(column, Ticket.id)
        bound = tuple_(bindparam("cursor_value", type_=column.type), bindparam("cursor_id", type_=Ticket.id.type))
        query = query.where(key < bound if descending else key > bound)
    order = (column.desc(), Ticket.id.desc()) if descending else (column.asc(), Ticket.id.asc())
    return query.options(*options).order_by(*order).limit(limit + 1)


def _keyset(statement: Callable[[bool], Select], sort: str, cursor: str | None, limit: int, params: dict) -> Page:
    """One page by keyset: ``statement(with_cursor)`` is the paged statement, its parameters ``params``."""
    column = SORT_COLUMNS[sort][0]
    position = _decode(cursor)
    if position is not None:
        params = {**params, "cursor_value": position[0], "cursor_id": position[1]}
    rows = list(db.session.scalars(statement(position is not None), params))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = _encode(getattr(rows[-1], column.key), rows[-1].id) if more and rows else None
    return Page(rows, next_cursor)


def queue(function_id: int, view: str, user: User, now: datetime, *, text: str = "",
          priority: str | None = None, sort: str = "activity", cursor: str | None = None,
          limit: int = PAGE_SIZE) -> Page:
    """One page of a specialist's queue view of a support function."""
    sort = sort if sort in SORTS else "activity"
    view = view if view in VIEW_CONDITIONS else "open"
    params = {**_view_params(user, now), "queue_function": function_id, "queue_priority": priority}
    if text.strip():  # a search: its words make a statement of their own
        searched = _queue_query(view, bool(priority)).where(text_condition(text.strip()))
        return _keyset(lambda with_cursor: _paged(searched, sort, with_cursor, limit, LIST_OPTIONS),
                       sort, cursor, limit, params)
    return _keyset(lambda with_cursor: _queue_statement(view, bool(priority), sort, with_cursor, limit),
                   sort, cursor, limit, params)


@cache
def _queue_statement(view: str, with_priority: bool, sort: str, with_cursor: bool, limit: int) -> Select:
    """A queue page's statement, built once per shape (building costs more than running it)."""
    return _paged(_queue_query(view, with_priority), sort, with_cursor, limit, LIST_OPTIONS)


def _build_view_conditions() -> dict:
    """Each view's condition, built once: the viewer and the time come as parameters (``_view_params``), since
    building SQLAlchemy expressions costs more than running the queue's queries."""
    open_ = OPEN
    viewer = bindparam("queue_viewer", type_=Ticket.assignee_id.type)
    now = bindparam("queue_now", type_=Ticket.resolution_due_at.type)
    soon = bindparam("queue_soon", type_=Ticket.resolution_due_at.type)
    return {
        "unassigned": and_(open_, Ticket.assignee_id.is_(None)),
        "mine": and_(open_, Ticket.assignee_id == viewer),
        "waiting": Ticket.status == "waiting",
        "open": open_,
        "due_soon": and_(open_, Ticket.status != "waiting", or_(
            and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at.between(now, soon)),
            Ticket.resolution_due_at.between(now, soon))),
        "breached": and_(open_, Ticket.status != "waiting", or_(
            and_(Ticket.first_response_at.is_(None), Ticket.first_response_due_at < now),
            Ticket.resolution_due_at < now)),
        "resolved": DONE,
    }


VIEW_CONDITIONS = _build_view_conditions()
COUNTED_VIEWS = QUEUE_VIEWS[:-1]  # every view but "resolved" is a subset of the open cases
# One function, compared with ``=``: a list of them, as an expanding ``IN``, is rewritten on every run (3 % of the
# queue page's time).
QUEUE_FUNCTION = Ticket.function_id == bindparam("queue_function", type_=Ticket.function_id.type)
QUEUE_COUNTS = select(*[func.count(case((VIEW_CONDITIONS[view], 1))) for view in COUNTED_VIEWS]).where(
    QUEUE_FUNCTION, OPEN)


def _view_params(user: User, now: datetime) -> dict:
    return {"queue_viewer": user.id, "queue_now": now, "queue_soon": now + DUE_SOON}


def _queue_query(view: str, with_priority: bool = False) -> Select:
    """The cases of a view, the function (``queue_function``) and priority (``queue_priority``) as parameters."""
    query = select(Ticket).where(QUEUE_FUNCTION, VIEW_CONDITIONS.get(view, VIEW_CONDITIONS["open"]))
    if with_priority:
        query = query.where(Ticket.priority == bindparam("queue_priority", type_=Ticket.priority.type))
    return query


def _like(word: str) -> str:
    return "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def text_condition(needle: str):
    """The case number, or every word somewhere in the case: subject, question, the replies and notes written
    while the case was with its current function (never text sealed from it), or the requester's name, user
    name or e-mail."""
    words = []
    for word in needle.split()[:6]:
        like = _like(word)
        in_events = select(TicketEvent.id).where(
            TicketEvent.ticket_id == Ticket.id, TicketEvent.body.ilike(like, escape="\\"),
            or_(TicketEvent.function_id.is_(None), TicketEvent.function_id == Ticket.function_id)).exists()
        requester = select(User.id).where(User.id == Ticket.requester_id, or_(
            User.display_name.ilike(like, escape="\\"), User.username.ilike(like, escape="\\"),
            User.email.ilike(like, escape="\\"))).exists()
        words.append(or_(Ticket.subject.ilike(like, escape="\\"), Ticket.description.ilike(like, escape="\\"),
                         in_events, requester))
    return or_(Ticket.number == needle.upper(), and_(*words))


def newer_in_view(function_id: int, view: str, user: User, now: datetime, after_id: int) -> int:
    """How many cases in the view arrived after the one with id ``after_id`` (the queue page's "N new")."""
    query = _queue_query(view).where(Ticket.id > after_id)
    return db.session.scalar(select(func.count()).select_from(query.subquery()),
                             {**_view_params(user, now), "queue_function": function_id}) or 0


def my_cases(user: User, *, cursor: str | None = None, limit: int = PAGE_SIZE, open_only: bool = False) -> Page:
    """The cases a person asked, or registered for someone else (not confidential ones), most recently active
    first."""
    return _keyset(lambda with_cursor: _my_cases_statement(open_only, with_cursor, limit), "activity", cursor, limit,
                   {"mine_person": user.id})


@cache
def _my_cases_statement(open_only: bool, with_cursor: bool, limit: int) -> Select:
    return _paged(MY_CASES_OPEN if open_only else MY_CASES, "activity", with_cursor, limit, MINE_OPTIONS)


def _build_my_cases() -> Select:
    """Built once, the person as a parameter (see ``_build_view_conditions``)."""
    person = bindparam("mine_person", type_=Ticket.requester_id.type)
    confidential = select(SupportFunction.id).where(SupportFunction.is_confidential)
    return select(Ticket).where(or_(Ticket.requester_id == person, and_(
        Ticket.created_by_id == person, Ticket.function_id.not_in(confidential))))


MY_CASES = _build_my_cases()
MY_CASES_OPEN = MY_CASES.where(OPEN)


COUNT_CAP = 1000


def queue_counts(function_id: int, user: User, now: datetime) -> dict[str, int]:
    """How many cases each open view holds, in one pass over the open cases (shown as "1000+" beyond
    ``COUNT_CAP``)."""
    row = read_plain(QUEUE_COUNTS, {**_view_params(user, now), "queue_function": function_id}).one()
    return {view: min(count or 0, COUNT_CAP + 1) for view, count in zip(COUNTED_VIEWS, row, strict=True)}


class Colleague(NamedTuple):
    username: str
    name: str


COLLEAGUES = (select(User.username, User.display_name)
              .where(User.is_active.is_(True), User.id.in_(select(RoleGrant.user_id).where(
                  RoleGrant.role == Role.SPECIALIST.value,
                  RoleGrant.function_id == bindparam("function_id", type_=RoleGrant.function_id.type))))
              .order_by(User.display_name, User.username))


def colleagues_in(function_id: int) -> list[Colleague]:
    """The active specialists of a support function by name, for the queue's "assign to" list: names only, no
    user objects (``specialists_in`` builds each with its thirty columns; the queue page shows two)."""
    return [Colleague(username, display_name or username)
            for username, display_name in read_plain(COLLEAGUES, {"function_id": function_id})]


class FilterLink(NamedTuple):
    id: int
    name: str
    query: str


FILTER_LINKS = SAVED_FILTERS.with_only_columns(SavedFilter.id, SavedFilter.name, SavedFilter.query)


def filter_links(user_id: int, function_id: int) -> list[FilterLink]:
    """A specialist's saved filters in a function, for the queue page's links (``services.saved_filters`` gives
    the objects, to change them)."""
    return [FilterLink(*row) for row in read_plain(FILTER_LINKS, {"user_id": user_id, "function_id": function_id})]


@dataclass
class MonthStat:
    month: str
    created: int
    rerouted_away: int

    @property
    def share(self) -> float:
        return self.rerouted_away / self.created if self.created else 0.0


def reroute_stats(function_slug: str, function_id: int, months: int = 6) -> list[MonthStat]:
    """Per month: cases that first landed in the function, and how many of them a specialist moved elsewhere,
    which is how routing quality shows in real life. (Arrived = still here + moved away - moved in.)"""
    first = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    here = Counter(f"{t:%Y-%m}" for t in db.session.scalars(
        select(Ticket.created_at).where(Ticket.function_id == function_id, Ticket.created_at >= first)))
    moved_away, moved_in = Counter(), Counter()
    for when, data in db.session.execute(select(TicketEvent.created_at, TicketEvent.data).where(
            TicketEvent.kind == "reroute", TicketEvent.created_at >= first)):
        data = data or {}
        if data.get("old") == function_slug:
            moved_away[f"{when:%Y-%m}"] += 1
        if data.get("new") == function_slug:
            moved_in[f"{when:%Y-%m}"] += 1
    result, month = [], first
    for _ in range(months):
        key = f"{month:%Y-%m}"
        result.append(MonthStat(key, max(0, here[key] + moved_away[key] - moved_in[key]), moved_away[key]))
        month = (month + timedelta(days=32)).replace(day=1)
    return result


# --- similar resolved cases, for explaining routing -----------------------------------------------------------
SIMILAR_CANDIDATES = 400  # most recent resolved cases sharing a weighty word, scored in full
SIMILAR_MIN = 0.15  # cosine similarity below which a case is not "similar"


@dataclass
class SimilarCases:
    visible: list[tuple[Ticket, float]]  # (case, similarity), most similar first
    confidential: list[tuple[SupportFunction, int]]  # cases the viewer may not read: function and count only


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(value * b[term] for term, value in a.items() if term in b)
    norm = (sum(v * v for v in a.values()) * sum(v * v for v in b.values())) ** 0.5
    return dot / norm if norm else 0.0


def similar_cases(text: str, stems: list[str], user: User, limit: int = 5,
                  neighbours: Sequence[tuple[str, float]] = ()) -> SimilarCases:
    """Resolved cases most like ``text``: first those the routing model found closest in meaning
    (``neighbours``: its exemplar keys with their similarity), then recent ones that contain one of ``stems``
    (the words that weighed most), scored by their words. Cases ``user`` may not see (HR and payroll cases,
    administrators included) are only counted per function, and never among the visible ones."""
    closest = {int(key.partition(":")[2]): score for key, score in neighbours if key.startswith("case:")}
    scored: list[tuple[Ticket, float]] = []
    if closest:
        found = {t.id: t for t in db.session.scalars(select(Ticket).where(
            Ticket.id.in_(closest), Ticket.status.in_(("resolved", "closed")), Ticket.merged_into_id.is_(None)))}
        scored = [(found[i], score) for i, score in sorted(closest.items(), key=lambda item: -item[1]) if i in found]
    needles = [stem for stem in dict.fromkeys(stems) if len(stem) >= 3][:8]
    if needles:
        matches = [func.lower(column).contains(stem, autoescape=True)
                   for stem in needles for column in (Ticket.subject, Ticket.description)]
        candidates = db.session.scalars(
            select(Ticket).join(SupportFunction, Ticket.function_id == SupportFunction.id)
            .where(Ticket.status.in_(("resolved", "closed")), Ticket.merged_into_id.is_(None),
                   SupportFunction.slug != FIRST_LINE, or_(*matches), Ticket.id.not_in(list(closest) or [0]))
            .order_by(Ticket.id.desc()).limit(SIMILAR_CANDIDATES))
        query = text_features(text)
        by_words = [(ticket, _cosine(query, text_features(f"{ticket.subject} {ticket.description}")))
                    for ticket in candidates]
        scored += sorted((pair for pair in by_words if pair[1] >= SIMILAR_MIN), key=lambda pair: -pair[1])
    visible, hidden = [], Counter()
    for ticket, score in scored:
        if can_view(user, ticket):
            if len(visible) < limit:
                visible.append((ticket, score))
        elif sum(hidden.values()) < limit:
            hidden[ticket.function] += 1
    return SimilarCases(visible, sorted(hidden.items(), key=lambda item: (-item[1], item[0].name)))


def other_cases_of(ticket: Ticket, reader: User, limit: int = 5) -> list[Ticket]:
    """The requester's other cases that ``reader`` may see, most recently active first."""
    rows = db.session.scalars(select(Ticket).where(Ticket.requester_id == ticket.requester_id, Ticket.id != ticket.id)
                              .order_by(Ticket.last_activity_at.desc()).limit(limit * 4))
    return [t for t in rows if can_view(reader, t)][:limit]


def names_of(usernames: set[str]) -> dict[str, str]:
    """Display names by user name (the timeline stores user names)."""
    if not usernames:
        return {}
    return {u.username: u.name for u in db.session.scalars(select(User).where(User.username.in_(usernames)))}


def next_workable(function: SupportFunction, user: User, after_number: str = "") -> Ticket | None:
    """The most urgent case to work next: new or open (not waiting), mine or nobody's, first due first."""
    return db.session.scalar(select(Ticket).where(
        Ticket.function_id == function.id, Ticket.status.in_(("new", "open")), Ticket.number != after_number,
        or_(Ticket.assignee_id == user.id, Ticket.assignee_id.is_(None)))
        .order_by(Ticket.assignee_id.is_(None), Ticket.resolution_due_at.is_(None), Ticket.resolution_due_at,
                  Ticket.id).limit(1))
