"""Notifications for specialists: a new case in the function's queue, a case assigned to me, the requester
replied, a service level about to break, and (for the first line) a case it sent on was resolved.

Each is shown in the app until read, and mailed as the person chose per kind: at once, in a daily digest, or
not at all. A mail about a confidential case carries its number and a link, never its subject or text.
Services flush and never commit; the caller commits.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update

from app.auth.models import SupportFunction, User
from app.auth.services import specialists_in
from app.core.db import db, read_plain, utcnow
from app.core.mail import enqueue
from app.tickets.models import DELIVERIES, NOTIFICATION_KINDS, Notification, NotificationSetting, Ticket

DEFAULT_DELIVERY = {"new_case": "off", "assigned": "immediately", "requester_reply": "immediately",
                    "mail_trouble": "immediately", "sla_warning": "immediately", "forwarded_resolved": "daily"}
KIND_LABELS = {
    "new_case": _l("A new case in my function's queue"),
    "assigned": _l("A case is assigned to me"),
    "requester_reply": _l("The requester replied"),
    "mail_trouble": _l("Mail about a case bounced, or someone else than the requester wrote"),
    "sla_warning": _l("A service level is about to break"),
    "forwarded_resolved": _l("A case I sent on is resolved or late"),
}
DELIVERY_LABELS = {"immediately": _l("E-mail at once"), "daily": _l("Daily summary by e-mail"),
                   "off": _l("Only in Lotsen")}


def settings_of(user: User) -> dict[str, str]:
    """How ``user`` wants each kind by e-mail (the defaults where nothing is chosen)."""
    chosen = {s.kind: s.delivery for s in db.session.scalars(
        select(NotificationSetting).where(NotificationSetting.user_id == user.id))}
    return {kind: chosen.get(kind, DEFAULT_DELIVERY[kind]) for kind in NOTIFICATION_KINDS}


def save_settings(user: User, wanted: dict[str, str]) -> None:
    for kind in NOTIFICATION_KINDS:
        delivery = wanted.get(kind, DEFAULT_DELIVERY[kind])
        if delivery not in DELIVERIES:
            raise ValueError(f"unknown delivery {delivery!r}")
        row = db.session.scalar(select(NotificationSetting).where(
            NotificationSetting.user_id == user.id, NotificationSetting.kind == kind))
        if row is None:
            db.session.add(NotificationSetting(user_id=user.id, kind=kind, delivery=delivery))
        else:
            row.delivery = delivery
    db.session.flush()


def specialists_of(function: SupportFunction) -> list[User]:
    return specialists_in(function)


def notify(users: list[User], ticket: Ticket, kind: str, mail, actor: User | None = None,
           body: str = "") -> None:
    """Tell each of ``users`` (never the one who did it) in the app, and by mail if they want it at once
    (``mail``: the app's mail context; None, as in a command without one, keeps it in the app)."""
    for user in {u.id: u for u in users if u is not None and (actor is None or u.id != actor.id)}.values():
        note = Notification(user_id=user.id, ticket_id=ticket.id, kind=kind, created_at=utcnow())
        db.session.add(note)
        if mail is not None and user.email and settings_of(user)[kind] == "immediately":
            _send(user, [note], ticket, mail, body)
            note.mailed_at = note.created_at
    db.session.flush()


def _send(user: User, notes: list[Notification], ticket: Ticket | None, mail, body: str = "") -> None:
    base = mail.base_url.rstrip("/")
    with force_locale(user.locale or mail.default_locale):
        if ticket is not None:
            confidential = ticket.function.is_confidential
            subject = f"{ticket.number}: {KIND_LABELS[notes[0].kind]}"
            if not confidential:
                subject += f" – {ticket.subject}"
            text = mail.render("email/notification.txt", recipient=user, ticket=ticket, kind=notes[0].kind,
                               label=KIND_LABELS[notes[0].kind], confidential=confidential,
                               body="" if confidential else body, link=f"{base}/tickets/{ticket.number}")
        else:
            subject = _("Lotsen: %(count)s notifications since yesterday", count=len(notes))
            text = mail.render("email/notification_digest.txt", recipient=user, notes=notes, labels=KIND_LABELS,
                               base=base)
        enqueue(user.email, subject[:300], text, case=ticket.number if ticket is not None else None)


# --- what happens to cases --------------------------------------------------------------------------------
def case_arrived(ticket: Ticket, mail, actor: User | None = None) -> None:
    """A case reached a function's queue (asked, registered or moved there): its specialists, and the
    function's mailbox when the function wants new cases there."""
    notify(specialists_of(ticket.function), ticket, "new_case", mail, actor)
    if mail is not None and ticket.function.email and ticket.function.notify_new_cases:
        with force_locale(mail.default_locale):
            confidential = ticket.function.is_confidential
            subject = _("New case %(number)s", number=ticket.number) + ("" if confidential else f": {ticket.subject}")
            text = mail.render("email/notification.txt", recipient=None, ticket=ticket, kind="new_case",
                               label=KIND_LABELS["new_case"], confidential=confidential,
                               body="" if confidential else ticket.description,
                               link=f"{mail.base_url.rstrip('/')}/tickets/{ticket.number}")
            enqueue(ticket.function.email, subject[:300], text, case=ticket.number)


def case_resolved(ticket: Ticket, mail, actor: User | None = None) -> None:
    """The first line hears how the cases it sent on ended: whoever re-routed it from a first-line function."""
    notify(_forwarders(ticket), ticket, "forwarded_resolved", mail, actor)


def _forwarders(ticket: Ticket) -> list[User]:
    first_line = {f.slug for f in db.session.scalars(select(SupportFunction).where(
        SupportFunction.is_first_line.is_(True)))}
    return [e.author for e in ticket.events
            if e.kind == "reroute" and e.author is not None and (e.data or {}).get("old") in first_line]


def warn_due_soon(now: datetime, soon: timedelta, mail) -> int:
    """Once per case: its assignee (or, unassigned, its function's specialists) when a service level will
    break within ``soon``; a first-line sender when a case it sent on is late. Returns how many cases."""
    warned = select(Notification.ticket_id).where(Notification.kind == "sla_warning")
    due = db.session.scalars(select(Ticket).where(
        Ticket.status.in_(("new", "open")), Ticket.id.not_in(warned),
        ((Ticket.first_response_at.is_(None)) & (Ticket.first_response_due_at <= now + soon))
        | (Ticket.resolution_due_at <= now + soon))).all()
    for ticket in due:
        people = [ticket.assignee] if ticket.assignee else specialists_of(ticket.function)
        notify(people, ticket, "sla_warning", mail)
        notify(_forwarders(ticket), ticket, "forwarded_resolved", mail)  # a case the first line sent on is late
    return len(due)


def send_digests(now: datetime, mail) -> int:
    """One mail per person with yesterday's notifications they want as a daily summary. Returns the mails."""
    pending = db.session.scalars(select(Notification).where(
        Notification.mailed_at.is_(None), Notification.created_at <= now)).all()
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for note in pending:
        by_user[note.user_id].append(note)
    sent = 0
    for user_id, notes in by_user.items():
        user = db.session.get(User, user_id)
        wanted = settings_of(user)
        daily = [n for n in notes if wanted[n.kind] == "daily"]
        if daily and user.email:
            _send(user, daily, None, mail)
            sent += 1
        for note in notes:  # what is not wanted by mail is never mailed later either
            note.mailed_at = now
    db.session.flush()
    return sent


# --- reading --------------------------------------------------------------------------------------------------
def unread_count(user: User) -> int:
    return read_plain(UNREAD_COUNT, {"user_id": user.id}).scalar() or 0


UNREAD_COUNT = select(func.count(Notification.id)).where(Notification.user_id == bindparam("user_id"),
                                                         Notification.read_at.is_(None))


def recent(user: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_read(user: User, ticket: Ticket | None = None) -> None:
    """All of ``user``'s notifications read, or those about ``ticket`` (opening the case reads them). Looks
    first: opening a case with nothing unread writes nothing."""
    unread = select(Notification.id).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if ticket is not None:
        unread = unread.where(Notification.ticket_id == ticket.id)
    ids = list(db.session.scalars(unread.limit(500)))
    if ids:
        db.session.execute(update(Notification).where(Notification.id.in_(ids)).values(read_at=utcnow())
                           .execution_options(synchronize_session=False))
