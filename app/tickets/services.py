"""Cases: asking, replying, notes, status, assignment, re-routing, merging, rating, and who may see what.

Services flush, the caller commits: a case, its first timeline entry, its attachments and its e-mails are
written in one transaction, so a crash half-way leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import SupportFunction, User
from app.auth.services import get_function, get_user
from app.core import audit, counters
from app.core.db import add_unless_made, commit_without_waiting, db, utcnow
from app.core.mail import enqueue
from app.core.permissions import Role
from app.core.text import is_one_line
from app.core.transactions import DomainError
from app.core.uploads import StoredFile, Upload, store_upload
from app.selfservice.models import Article
from app.selfservice.services import ArticleData, create_article, get_article, link_searches_to_question, slugify
from app.tickets import notifications
from app.tickets.models import (
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    CannedResponse,
    Category,
    Notice,
    SavedFilter,
    SlaTarget,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketEvent,
    TicketPresence,
)
from app.tickets.routing import RoutingDecision, decide_route
from app.tickets.sla import WorkingCalendar

REOPEN_DAYS = 14
PRESENCE_MINUTES = 5
DEFAULT_SLA_HOURS = (9.0, 45.0)  # one working day to a first answer, a working week to resolve


class TicketError(DomainError):
    """A change to a case that is not allowed; the message is for the user."""


@dataclass
class MailContext:
    """What e-mails need from the app: where to link, the calendar, and how to render text."""

    base_url: str
    default_locale: str
    render: object  # callable(template_name, **context) -> str


def mail_context() -> MailContext:
    """The running app's e-mail context (links to LOTSEN_BASE_URL, texts from the templates)."""
    return MailContext(current_app.config["LOTSEN_BASE_URL"], current_app.config["BABEL_DEFAULT_LOCALE"],
                       render_template)


# --- who may see and do what -------------------------------------------------------------------------------
def is_party(user: User, ticket: Ticket) -> bool:
    """The requester, and whoever registered the case for them, except in a confidential function: an HR or
    payroll case is between the requester and that function, whoever wrote it down."""
    if user.id == ticket.requester_id:
        return True
    return user.id == ticket.created_by_id and not ticket.function.is_confidential


def works_in(user: User, function: SupportFunction) -> bool:
    return user.has_role(Role.SPECIALIST, function.slug)


def can_view(user: User, ticket: Ticket) -> bool:
    """The requester (and whoever registered the case for them) and the specialists of its function.

    HR and payroll cases are confidential to those functions: nobody else, administrators included."""
    if is_party(user, ticket) or works_in(user, ticket.function):
        return True
    return not ticket.function.is_confidential and user.has_role(Role.ADMIN)


def can_work(user: User, ticket: Ticket) -> bool:
    return works_in(user, ticket.function)


def is_sealed(event: TicketEvent, ticket: Ticket, user: User) -> bool:
    """Whether ``event`` is hidden from ``user``: what a confidential function wrote (notes, replies and
    their attachments) stays with that function and the requester after the case moves on. The question
    itself and the hand-over note travel with the case."""
    if event.kind in ("created", "reroute") or event.function_id in (None, ticket.function_id):
        return False
    if user.id == ticket.requester_id and event.is_public:
        return False
    written_in = db.session.get(SupportFunction, event.function_id)
    return written_in is not None and written_in.is_confidential and not works_in(user, written_in)


def visible_events(ticket: Ticket, user: User) -> list[TicketEvent]:
    """The timeline as ``user`` may read it: public entries for the requester (and, on a case that is not
    confidential, whoever registered it or an administrator), everything for the function's specialists; sealed
    entries for neither."""
    events = ticket.events if can_work(user, ticket) else public_events(ticket)
    return [e for e in events if not is_sealed(e, ticket, user)]


def holds_confidential(ticket: Ticket) -> bool:
    """Whether the case is with a confidential function, or holds text written while it was with one."""
    if ticket.function.is_confidential:
        return True
    earlier = {e.function_id for e in ticket.events} - {None, ticket.function_id}
    return any(f is not None and f.is_confidential for f in (db.session.get(SupportFunction, i) for i in earlier))


def audit_read(user: User, ticket: Ticket, action: str, detail: str = "", address: str = "",
               at_once: bool = False) -> None:
    """Note a look at, or a download from, a case that holds confidential text (also after it moved on).
    ``at_once``: in a transaction of its own, for a page that shows the case while its request rolls back."""
    if holds_confidential(ticket):
        (audit.record_now if at_once else audit.record)(user.id, action, "ticket", ticket.number, detail=detail,
                                                        address=address)


def _note_presence(session: Session, seen: dict[tuple[int, int], int]) -> None:
    """Write who had which case open, as of now (the batch's time: at most a flush interval late)."""
    commit_without_waiting(session)
    now = utcnow()
    for ticket_id, user_id in seen:
        if not session.execute(update(TicketPresence).where(
                TicketPresence.ticket_id == ticket_id, TicketPresence.user_id == user_id).values(seen_at=now)).rowcount:
            try:
                with session.begin_nested():
                    session.add(TicketPresence(ticket_id=ticket_id, user_id=user_id, seen_at=now))
            except IntegrityError:  # another process wrote it first (its time is as good), or the case is gone
                continue


presence_seen = counters.register("case_presence", _note_presence)


def record_view(user: User, ticket: Ticket, address: str = "") -> None:
    """Audit every look at a confidential case, at once; note a specialist's presence, in a batch (see
    ``app.core.counters``: reading a case is not a write of its own)."""
    audit_read(user, ticket, "view", address=address)
    if can_work(user, ticket):
        presence_seen.add((ticket.id, user.id))


def leave_case(user: User, ticket: Ticket) -> None:
    """The specialist closed the case page: colleagues stop seeing them as "also looking" at once."""
    presence_seen.discard((ticket.id, user.id))
    db.session.execute(delete(TicketPresence).where(TicketPresence.ticket_id == ticket.id,
                                                    TicketPresence.user_id == user.id))


def others_viewing(ticket: Ticket, user: User) -> list[User]:
    since = utcnow() - timedelta(minutes=PRESENCE_MINUTES)
    rows = db.session.scalars(select(TicketPresence).where(
        TicketPresence.ticket_id == ticket.id, TicketPresence.user_id != user.id, TicketPresence.seen_at >= since))
    return [row.user for row in rows]


# --- reading -----------------------------------------------------------------------------------------------
def get_ticket(number: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.number == number.upper()))


def list_categories() -> list[Category]:
    return list(db.session.scalars(select(Category).order_by(Category.sort_order, Category.slug)))


def get_category(slug: str | None) -> Category | None:
    if not slug:
        return None
    return db.session.scalar(select(Category).where(Category.slug == slug))


def public_events(ticket: Ticket) -> list[TicketEvent]:
    return [e for e in ticket.events if e.is_public]


def canned_responses(function: SupportFunction) -> list[CannedResponse]:
    return list(db.session.scalars(
        select(CannedResponse).where(CannedResponse.function_id == function.id).order_by(CannedResponse.title)))


def fill_placeholders(text: str, ticket: Ticket) -> str:
    return text.replace("{first_name}", ticket.requester.first_name).replace("{case_number}", ticket.number)


# --- service levels ----------------------------------------------------------------------------------------
def _targets(ticket: Ticket) -> tuple[float, float]:
    target = db.session.scalar(select(SlaTarget).where(
        SlaTarget.function_id == ticket.function_id, SlaTarget.priority == ticket.priority))
    return (target.first_response_hours, target.resolution_hours) if target else DEFAULT_SLA_HOURS


def set_due_dates(ticket: Ticket, calendar: WorkingCalendar) -> None:
    first, resolution = _targets(ticket)
    ticket.first_response_due_at = calendar.add_working_minutes(ticket.created_at, first * 60 + ticket.paused_minutes)
    ticket.resolution_due_at = calendar.add_working_minutes(
        ticket.created_at, resolution * 60 + ticket.paused_minutes)


# --- creating ----------------------------------------------------------------------------------------------
def _next_number(year: int) -> tuple[int, str]:
    counter = db.session.get(TicketCounter, year)
    if counter is None:
        try:
            with db.session.begin_nested():
                db.session.add(TicketCounter(year=year, last=0))
        except IntegrityError:
            pass  # another request created the year's counter first
    db.session.execute(update(TicketCounter).where(TicketCounter.year == year).values(last=TicketCounter.last + 1))
    sequence = db.session.scalar(select(TicketCounter.last).where(TicketCounter.year == year))
    return sequence, f"LOT-{year}-{sequence:06d}"


def _store(uploads: Iterable[Upload], upload_root: Path | None, max_bytes: int) -> list[StoredFile]:
    """Check and write the uploads (removed again on rollback); raises ``UploadRejected`` for a bad one."""
    if upload_root is None:
        return []
    return [store_upload(u.filename, u.stream, upload_root / "tickets", max_bytes) for u in uploads]


def attach_files(event: TicketEvent, files: Iterable[StoredFile]) -> None:
    """Attach stored files (``store_upload``'s results) to a case's event."""
    for stored in files:
        event.attachments.append(TicketAttachment(
            original_name=stored.original_name, stored_name=stored.stored_name,
            content_type=stored.content_type, size=stored.size))


def find_by_token(token: str | None, requester: User) -> Ticket | None:
    """The case this person already sent with this one-time form token (a token is nobody else's)."""
    if not token:
        return None
    return db.session.scalar(select(Ticket).where(Ticket.submit_token == token, Ticket.requester_id == requester.id))


def create_ticket(
    requester: User,
    subject: str,
    description: str,
    *,
    category: Category | None,
    calendar: WorkingCalendar,
    mail: MailContext,
    created_by: User | None = None,
    channel: str = "portal",
    submit_token: str | None = None,
    uploads: Iterable[Upload] = (),
    upload_root: Path | None = None,
    max_bytes: int = 0,
    priority: str = "normal",
    decision: RoutingDecision | None = None,
    origin_url: str | None = None,
    acknowledge: bool = True,
) -> Ticket:
    """Register a case, route it, set its service-level clock and tell the requester (unless ``acknowledge`` is
    False: a mail from an unknown sender).

    The same form sent twice (a double click, a reloaded page, two requests at the same moment) gives the
    one case of its ``submit_token``; files are stored only for the request that made the case."""
    existing = find_by_token(submit_token, requester)
    if existing is not None:
        return existing
    subject, description = subject.strip(), description.strip()
    if not subject or not description:
        raise TicketError(_l("Write a subject and a description."))
    check_one_line(subject)
    decision = decision or decide_route(category, subject, description)
    now = utcnow()
    sequence, number = _next_number(now.year)
    ticket = Ticket(
        number=number, year=now.year, sequence=sequence, subject=subject[:200], description=description,
        status="new", priority=priority if priority in PRIORITIES else "normal", channel=channel,
        function=decision.function, category=category, requester=requester, created_by=created_by,
        suggested_function=decision.suggested, routing_confidence=decision.confidence,
        submit_token=submit_token, created_at=now, last_activity_at=now, paused_minutes=0, origin_url=origin_url,
        first_function_id=decision.function.id, reroute_count=0, reopen_count=0,
    )
    set_due_dates(ticket, calendar)
    made = add_unless_made(ticket, lambda: find_by_token(submit_token, requester))
    if made is not ticket:  # another request with this token got there first
        return made
    event = TicketEvent(kind="created", is_public=True, author=created_by or requester, body=description,
                        function_id=ticket.function_id, data={"channel": channel, "routing": decision.reason})
    ticket.events.append(event)
    attach_files(event, _store(uploads, upload_root, max_bytes))
    db.session.flush()
    if submit_token:  # the searches were typed by whoever filled in the form
        link_searches_to_question(submit_token, created_by or requester, ticket.function_id)
    if acknowledge:
        _mail(requester, "created", ticket, mail)
    notifications.case_arrived(ticket, mail, actor=created_by)
    return ticket


def check_one_line(text: str) -> None:
    """A subject is one line of text: no line breaks or other control characters (they break e-mail)."""
    if not is_one_line(text):
        raise TicketError(_l("The subject must be one line without special characters."), "subject")


# --- working a case ----------------------------------------------------------------------------------------
def add_event(ticket: Ticket, kind: str, author: User | None, body: str = "", public: bool = False,
              **data) -> TicketEvent:
    """A step on the case's timeline (in its current function), which counts as activity on the case."""
    event = TicketEvent(kind=kind, author=author, body=body, is_public=public, data=data,
                        function_id=ticket.function_id)
    ticket.events.append(event)
    ticket.last_activity_at = utcnow()
    return event


def add_reply(ticket: Ticket, author: User, body: str, *, public: bool, calendar: WorkingCalendar,
              mail: MailContext, uploads: Iterable[Upload] = (), upload_root: Path | None = None,
              max_bytes: int = 0, then_wait: bool = False) -> TicketEvent:
    """A public reply or an internal note (specialists only). A requester's reply reopens a waiting case."""
    body = body.strip()
    if not body:
        raise TicketError(_l("Write a message."))
    specialist = can_work(author, ticket)
    if not specialist:
        if not is_party(author, ticket):
            raise TicketError(_l("You cannot reply to this case."))
        if not public:
            raise TicketError(_l("Only specialists can write internal notes."))
        if ticket.status == "closed":
            raise TicketError(_l("The case is closed. Ask a new question instead."))
    files = _store(uploads, upload_root, max_bytes)  # a refused file stops the reply before anything changes
    event = add_event(ticket, "reply" if public else "note", author, body, public)
    attach_files(event, files)
    if specialist and public:
        if ticket.first_response_at is None:
            ticket.first_response_at = event.created_at or utcnow()
            ticket.first_response_minutes = max(0, round(calendar.working_minutes_between(
                ticket.created_at, ticket.first_response_at)) - ticket.paused_minutes)
        if then_wait:
            _set_status(ticket, author, "waiting", calendar)
        elif ticket.status == "new":
            _set_status(ticket, author, "open", calendar)
        _mail(ticket.requester, "reply", ticket, mail, body=body)
    elif not specialist:
        if ticket.status in ("waiting", "resolved"):
            _set_status(ticket, author, "open", calendar)
        if ticket.assignee is not None:  # in the app, and by mail as the assignee chose
            notifications.notify([ticket.assignee], ticket, "requester_reply", mail, author, body)
        else:
            notifications.notify(notifications.specialists_of(ticket.function), ticket, "requester_reply", mail,
                                 author, body)
            if ticket.function.email:
                _mail_address(ticket.function.email, "requester_reply", ticket, mail, body=body)
    db.session.flush()
    return event


def _set_status(ticket: Ticket, actor: User, status: str, calendar: WorkingCalendar) -> None:
    old = ticket.status
    if old == status:
        return
    now = utcnow()
    if old == "waiting" and ticket.waiting_since is not None:
        ticket.paused_minutes += int(calendar.working_minutes_between(ticket.waiting_since, now))
        ticket.waiting_since = None
        set_due_dates(ticket, calendar)
    if status == "waiting":
        ticket.waiting_since = now
    if status == "resolved":
        ticket.resolved_at = now
    if status == "closed":
        ticket.closed_at = now
    if status in ("resolved", "closed") and old in OPEN_STATUSES:
        ticket.resolution_minutes = max(0, round(calendar.working_minutes_between(ticket.created_at, now))
                                        - ticket.paused_minutes)
    if status in OPEN_STATUSES:
        if old in ("resolved", "closed"):
            ticket.reopen_count += 1
            ticket.resolved_at = ticket.resolution_minutes = None
        ticket.closed_at = None
    ticket.status = status
    add_event(ticket, "status", actor, public=True, old=old, new=status)


def change_status(ticket: Ticket, actor: User, status: str, calendar: WorkingCalendar, mail: MailContext) -> None:
    if status not in STATUSES:
        raise TicketError(_l("Unknown status."))
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can change its status."))
    was = ticket.status
    _set_status(ticket, actor, status, calendar)
    if status == "resolved" and was != "resolved":
        _mail(ticket.requester, "resolved", ticket, mail)
        notifications.case_resolved(ticket, mail, actor)
    db.session.flush()


def assign(ticket: Ticket, actor: User, assignee: User | None, mail: MailContext | None = None) -> None:
    """Give the case to a colleague in its function (or to nobody); they are notified (by mail too with
    ``mail``, as they chose)."""
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can assign it."))
    if assignee is not None and not works_in(assignee, ticket.function):
        raise TicketError(_l("%(name)s does not work in %(function)s.", name=assignee.name,
                             function=ticket.function.name))
    if ticket.assignee_id == (assignee.id if assignee else None):
        return
    old = ticket.assignee.username if ticket.assignee else None
    ticket.assignee = assignee
    add_event(ticket, "assign", actor, old=old, new=assignee.username if assignee else None)
    if assignee is not None:
        notifications.notify([assignee], ticket, "assigned", mail, actor)
    db.session.flush()


def set_priority(ticket: Ticket, actor: User, priority: str, calendar: WorkingCalendar) -> None:
    if priority not in PRIORITIES:
        raise TicketError(_l("Unknown priority."))
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can change its priority."))
    if ticket.priority == priority:
        return
    add_event(ticket, "priority", actor, old=ticket.priority, new=priority)
    ticket.priority = priority
    set_due_dates(ticket, calendar)
    db.session.flush()


def set_legal_hold(ticket: Ticket, actor: User, on: bool) -> None:
    """Keep the case from every retention rule (a dispute, an appeal, a request for the records), or let the
    rules apply again; only the case's function may, and it is audited."""
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can set a legal hold."))
    if ticket.legal_hold == on:
        return
    ticket.legal_hold = on
    add_event(ticket, "legal_hold", actor, on=on)
    audit.record(actor.id, "legal_hold_set" if on else "legal_hold_lifted", "ticket", ticket.number)
    db.session.flush()


def reroute(ticket: Ticket, actor: User, function_slug: str, reason: str, calendar: WorkingCalendar,
            category: Category | None = None, mail: MailContext | None = None) -> None:
    """Move a case that landed wrong to another function (the reason stays in the timeline). The category goes
    with it: ``category`` when it belongs to the new function, else none (the old one belongs to the old)."""
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can re-route it."))
    target = get_function(function_slug)
    if target.id == ticket.function_id:
        raise TicketError(_l("The case is already with %(function)s.", function=target.name))
    if not reason.strip():
        raise TicketError(_l("Say why the case is re-routed."))
    add_event(ticket, "reroute", actor, reason.strip(), old=ticket.function.slug, new=target.slug)
    ticket.reroute_count += 1
    if target.is_confidential and ticket.submit_token:  # what was searched for the question goes with it
        link_searches_to_question(ticket.submit_token, ticket.created_by or ticket.requester, target.id)
    ticket.function = target
    ticket.category = category if category is not None and category.function_id == target.id else None
    ticket.assignee = None
    set_due_dates(ticket, calendar)
    db.session.flush()
    notifications.case_arrived(ticket, mail, actor)


def merge(ticket: Ticket, actor: User, target_number: str, calendar: WorkingCalendar) -> Ticket:
    """Close ``ticket`` as a duplicate of another case; its description joins the other's timeline."""
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can merge it."))
    target = get_ticket(target_number.strip())
    if target is None or target.id == ticket.id or not can_view(actor, target):
        raise TicketError(_l("There is no other case %(number)s that you can see.", number=target_number))
    if target.function_id != ticket.function_id and (ticket.function.is_confidential or
                                                      target.function.is_confidential):
        raise TicketError(_l("A case of a confidential function can only be merged with another case of the "
                             "same function. Re-route it first if it belongs elsewhere."))
    if target.merged_into_id is not None:
        raise TicketError(_l("%(number)s is itself merged into another case.", number=target.number))
    add_event(target, "merge_in", actor, ticket.description, public=False, source=ticket.number)
    add_event(ticket, "merged", actor, public=True, target=target.number)
    ticket.merged_into = target
    _set_status(ticket, actor, "closed", calendar)
    db.session.flush()
    return target


def replies_since(ticket: Ticket, seen_event_id: int | None, reader: User) -> list[TicketEvent]:
    """Replies and notes others wrote on the case after the event the reader last saw (a colleague answered
    while the reader was writing)."""
    if seen_event_id is None:
        return []
    return [e for e in visible_events(ticket, reader)
            if e.id > seen_event_id and e.kind in ("reply", "note") and e.author_id != reader.id]


def draft_article_from(ticket: Ticket, event: TicketEvent, actor: User) -> Article:
    """Hand a good answer to the editors: a draft article in the case's function with the question and the
    answer, for them to rewrite without personal details and publish."""
    if not can_work(actor, ticket):
        raise TicketError(_l("Only the case's support function can make an article of its answers."))
    if (event.ticket_id != ticket.id or event.kind != "reply" or not event.is_public or not event.body.strip()
            or event.author is None or not works_in(event.author, ticket.function)):
        raise TicketError(_l("Only a specialist's public answer can become an article."))
    if holds_confidential(ticket):  # the draft would be read by editors and administrators outside the function
        raise TicketError(_l("An answer on a confidential case cannot become an article. Write the article "
                             "without the case's details instead."))
    base = slugify(ticket.subject)[:80] or "svar"
    slug = next(s for s in (base, *(f"{base}-{n}" for n in range(2, 1000))) if get_article(s) is None)
    summary = str(_l("Draft from case %(number)s. Remove names and other personal details before publishing.",
                     number=ticket.number))
    question, answer = _l("Question"), _l("Answer")
    body = f"## {question}\n\n{ticket.description.strip()}\n\n## {answer}\n\n{event.body.strip()}\n"
    article = create_article(ArticleData(title=ticket.subject, slug=slug, summary=summary, body=body,
                                         lang=actor.locale or "sv", function=ticket.function.slug, tags=[]), actor)
    add_event(ticket, "article_draft", actor, public=False, slug=article.slug, title=article.title)
    db.session.flush()
    return article


def close_by_requester(ticket: Ticket, actor: User, calendar: WorkingCalendar) -> None:
    if not is_party(actor, ticket):
        raise TicketError(_l("You cannot close this case."))
    if ticket.status == "closed":
        return
    _set_status(ticket, actor, "closed", calendar)
    db.session.flush()


def can_reopen(ticket: Ticket, now: datetime | None = None) -> bool:
    now = now or utcnow()
    finished = ticket.resolved_at or ticket.closed_at
    return (ticket.status in ("resolved", "closed") and ticket.merged_into_id is None and finished is not None
            and now - finished <= timedelta(days=REOPEN_DAYS))


def reopen(ticket: Ticket, actor: User, calendar: WorkingCalendar) -> None:
    if not (is_party(actor, ticket) or can_work(actor, ticket)):
        raise TicketError(_l("You cannot reopen this case."))
    if not can_reopen(ticket):
        raise TicketError(_l("A case can be reopened within %(days)s days of being resolved. Ask a new question "
                             "instead.", days=REOPEN_DAYS))
    _set_status(ticket, actor, "open", calendar)
    db.session.flush()


def rate(ticket: Ticket, actor: User, rating: int, comment: str) -> None:
    if not is_party(actor, ticket):
        raise TicketError(_l("Only the person who asked can rate the help."))
    if ticket.status not in ("resolved", "closed") or ticket.merged_into_id is not None:
        raise TicketError(_l("You can rate the help once the case is resolved."))
    if ticket.rating is not None:
        raise TicketError(_l("You have already rated this case. Thank you!"))
    if not ticket.asks_rating:
        raise TicketError(_l("Cases from digital forms are not rated."))
    if rating not in range(1, 6):
        raise TicketError(_l("Choose a rating from 1 to 5."))
    ticket.rating = rating
    ticket.rating_comment = comment.strip()[:2000]
    add_event(ticket, "rating", actor, ticket.rating_comment, public=True, rating=rating)
    db.session.flush()


def colleague_for(manager: User, username: str) -> User:
    """The colleague a manager asks on behalf of: someone in the manager's own department (förvaltning).
    The colleague is the requester, gets the mails and decides; the manager can follow the case as long
    as it is not confidential."""
    if not manager.has_role(Role.MANAGER):
        raise TicketError(_l("Only managers can ask on behalf of a colleague."), "on_behalf_of")
    colleague = get_user(username)
    if colleague is None or not colleague.is_active:
        raise TicketError(_l("There is no user with that name."), "on_behalf_of")
    if not manager.department or manager.department.casefold() != colleague.department.casefold():
        raise TicketError(_l("You can ask on behalf of colleagues in your own department (%(department)s) only.",
                             department=manager.department or "–"), "on_behalf_of")
    return colleague


def register_case(specialist: User, requester_username: str, subject: str, description: str, channel: str,
                  function_slug: str, calendar: WorkingCalendar, mail: MailContext) -> Ticket:
    """A case for someone who phoned, came to the desk or e-mailed, so first-line work is counted too."""
    requester = get_user(requester_username)
    if requester is None:
        raise TicketError(_l("There is no user %(name)s. Check the user name.", name=requester_username))
    function = get_function(function_slug)
    if not works_in(specialist, function) and not specialist.has_role(Role.SPECIALIST, "servicecenter"):
        raise TicketError(_l("You cannot register cases for %(function)s.", function=function.name))
    decision = RoutingDecision(function, 1.0, f"registered by {specialist.username}")
    return create_ticket(requester, subject, description, category=None, calendar=calendar, mail=mail,
                         created_by=specialist, channel=channel, decision=decision)


def save_canned_response(function: SupportFunction, actor: User, title: str, body: str,
                         response: CannedResponse | None = None) -> CannedResponse:
    if not works_in(actor, function):
        raise TicketError(_l("Only %(function)s can edit its ready answers.", function=function.name))
    if not title.strip() or not body.strip():
        raise TicketError(_l("Write a title and a text."))
    response = response or CannedResponse(function=function)
    response.title, response.body = title.strip()[:120], body.strip()
    db.session.add(response)
    db.session.flush()
    return response


# --- e-mail ------------------------------------------------------------------------------------------------
def _mail(recipient: User, kind: str, ticket: Ticket, mail: MailContext, body: str = "") -> None:
    """Queue an e-mail in the recipient's language (sent after commit by the outbox worker)."""
    _mail_address(recipient.email, kind, ticket, mail, body, recipient.locale or mail.default_locale, recipient)


def _mail_address(address: str, kind: str, ticket: Ticket, mail: MailContext, body: str = "",
                  locale: str | None = None, recipient: User | None = None) -> None:
    """Mail about a confidential case (HR, payroll) carries the case number and a link, never its subject or
    text: mail is forwarded, printed and read on shared screens."""
    locale = locale or mail.default_locale
    link = f"{mail.base_url.rstrip('/')}/tickets/{ticket.number}"
    confidential = ticket.function.is_confidential
    with force_locale(locale):
        subjects = {
            "created": _("We have received your question %(number)s", number=ticket.number),
            "reply": _("New answer on %(number)s", number=ticket.number),
            "resolved": (_("%(number)s is resolved – how did we do?", number=ticket.number) if ticket.asks_rating
                     else _("%(number)s is resolved", number=ticket.number)),
            "requester_reply": _("%(number)s: the requester has replied", number=ticket.number),
        }
        text = mail.render(f"email/ticket_{kind}.txt", ticket=ticket, recipient=recipient, link=link,
                           body="" if confidential else body, confidential=confidential)
        subject = subjects[kind] if confidential else f"{subjects[kind]}: {ticket.subject}"
        enqueue(address, subject[:300], text, case=ticket.number)


# --- notices -------------------------------------------------------------------------------------------------
def current_notices(function_slug: str | None = None, now: datetime | None = None) -> list[Notice]:
    now = now or utcnow()
    query = select(Notice).where(Notice.starts_at <= now, Notice.ends_at > now)
    if function_slug:
        query = query.where(Notice.function_id == get_function(function_slug).id)
    return list(db.session.scalars(query.order_by(Notice.starts_at.desc())))


def publish_notice(function: SupportFunction, author: User, title: str, body: str, hours: float) -> Notice:
    """A notice shown from now for ``hours`` hours (specialists of the function only)."""
    if not works_in(author, function):
        raise TicketError(_l("Only %(function)s can publish its notices.", function=function.name))
    if not title.strip():
        raise TicketError(_l("Write a title."))
    if not 0 < hours <= 24 * 30:
        raise TicketError(_l("A notice is shown for 1 hour to 30 days."))
    now = utcnow()
    notice = Notice(function=function, title=title.strip()[:200], body=body.strip()[:2000], starts_at=now,
                    ends_at=now + timedelta(hours=hours), created_by_id=author.id, updated_at=now)
    db.session.add(notice)
    db.session.flush()
    return notice


def expire_notice(notice: Notice, author: User) -> None:
    if not works_in(author, notice.function):
        raise TicketError(_l("Only %(function)s can publish its notices.", function=notice.function.name))
    notice.ends_at = notice.updated_at = utcnow()
    db.session.flush()


# --- many cases at once, and a specialist's saved filters ----------------------------------------------------
BULK_ACTIONS = ("assign", "status", "priority", "reroute", "close")
MAX_BULK = 200


def bulk_update(tickets: list[Ticket], actor: User, action: str, *, calendar: WorkingCalendar, mail: MailContext,
                status: str = "", priority: str = "", assignee: User | None = None, function_slug: str = "",
                reason: str = "") -> int:
    """The same change on each chosen case, through the same rules as one at a time, each audited. One case the
    actor may not change stops the whole batch (the request rolls back): nothing is half done."""
    if action not in BULK_ACTIONS:
        raise TicketError(_l("Choose what to do with the chosen cases."))
    if not tickets:
        raise TicketError(_l("Choose one or more cases."))
    if len(tickets) > MAX_BULK:
        raise TicketError(_l("At most %(count)s cases at a time.", count=MAX_BULK))
    for ticket in tickets:
        if not can_work(actor, ticket):
            raise TicketError(_l("You cannot change %(number)s.", number=ticket.number))
        if action == "assign":
            assign(ticket, actor, assignee, mail)
        elif action == "status":
            change_status(ticket, actor, status, calendar, mail)
        elif action == "priority":
            set_priority(ticket, actor, priority, calendar)
        elif action == "reroute":
            reroute(ticket, actor, function_slug, reason, calendar, mail=mail)
        else:
            change_status(ticket, actor, "closed", calendar, mail)
        value = {"assign": assignee.username if assignee else "", "status": status, "priority": priority,
                 "reroute": function_slug, "close": "closed"}[action]
        audit.record(actor.id, f"bulk_{action}", "ticket", ticket.number, detail=value)
    db.session.flush()
    return len(tickets)


def saved_filters(user: User, function: SupportFunction) -> list[SavedFilter]:
    return list(db.session.scalars(SAVED_FILTERS, {"user_id": user.id, "function_id": function.id}))


SAVED_FILTERS = (select(SavedFilter).where(SavedFilter.user_id == bindparam("user_id"),
                                           SavedFilter.function_id == bindparam("function_id"))
                 .order_by(SavedFilter.name))


def save_filter(user: User, function: SupportFunction, name: str, query: str) -> SavedFilter:
    """Keep the queue's current filter under ``name`` (the same name again replaces it)."""
    name = name.strip()
    if not name or not is_one_line(name) or len(name) > 80:
        raise TicketError(_l("Give the filter a name of at most 80 characters on one line."))
    found = db.session.scalar(select(SavedFilter).where(
        SavedFilter.user_id == user.id, SavedFilter.function_id == function.id, SavedFilter.name == name))
    if found is None:
        found = SavedFilter(user_id=user.id, function_id=function.id, name=name)
        db.session.add(found)
    found.query = query[:500]
    db.session.flush()
    return found


def delete_filter(user: User, saved: SavedFilter) -> None:
    if saved.user_id != user.id:
        raise TicketError(_l("That filter is not yours."))
    db.session.delete(saved)
    db.session.flush()
