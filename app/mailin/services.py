"""Mail in: a message from a function's mailbox becomes a case, or a reply on the case it answers, or nothing
at all when a machine sent it.

The order of the checks is the order of the dangers: a mail already imported (the same Message-ID) is skipped;
machine mail (auto-replies, bounces, lists, Lotsen's own mail coming back) never makes or reopens a case and is
never answered, and a bounce stops mail to the failing address; a sender who mails too often, or a case reopened
by mail too often within the hour, is held for an administrator. Only then does a person's mail make a case or a
reply. Services flush; the fetch (``fetch_mailbox``) commits each message before it moves it on the server, so
a worker that dies mid-batch fetches the rest next time and never doubles one.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import SupportFunction, User
from app.core import audit
from app.core.crypto import data_keys
from app.core.db import add_unless_made, db, utcnow
from app.core.mail import OutboxMessage, cases_named_in, mark_failing
from app.core.mailbox import SECURITY, ImapSettings, MailboxError, open_mailbox
from app.core.transactions import DomainError
from app.core.uploads import UploadRejected, store_upload
from app.mailin.models import MAIL_AUTH, InboundMail, Mailbox
from app.mailin.parsing import MailUnreadable, ParsedMail, parse_mail, stand_in_message_id
from app.tickets import notifications
from app.tickets.models import Ticket, TicketEvent
from app.tickets.routing import RoutingDecision, decide_route
from app.tickets.services import (
    add_event,
    add_reply,
    attach_files,
    can_reopen,
    can_work,
    create_ticket,
    get_ticket,
    holds_confidential,
    mail_context,
    reopen,
)
from app.tickets.sla import office_calendar

log = logging.getLogger(__name__)
_MESSAGE_IDS = re.compile(r"<[^<>\s]{1,250}>")
CASE_NUMBER = re.compile(r"\bLOT-\d{4}-\d{6}\b")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
EXTERNAL_SOURCE = "mail"  # User.auth_source of a sender Lotsen does not know: a contact, never a log-in
NO_SUBJECT = "(utan ämne)"
NO_TEXT = "(Mailet hade ingen text.)"


class MailboxRefused(DomainError):  # noqa: N818
    """A mailbox's settings cannot be saved; the message is for the administrator."""


# --- mailboxes -------------------------------------------------------------------------------------------------
def list_mailboxes() -> list[Mailbox]:
    return list(db.session.scalars(select(Mailbox).order_by(Mailbox.address)))


def save_mailbox(actor: User, mailbox: Mailbox | None, *, address: str, function: SupportFunction | None, host: str,
                 port: int, security: str, username: str, auth: str, secret: str, oauth_client_id: str,
                 oauth_tenant: str, oauth_token_url: str, folder: str, done_folder: str, is_active: bool) -> Mailbox:
    """Create or change a mailbox. An empty ``secret`` keeps the stored one: secrets are never shown again."""
    address = address.strip().lower()
    if "@" not in address:
        raise MailboxRefused(_l("Write the mailbox's e-mail address."), "address")
    if security not in SECURITY or auth not in MAIL_AUTH:
        raise MailboxRefused(_l("Choose how Lotsen connects and logs in."), "security")
    if auth == "oauth2" and not oauth_client_id.strip():
        raise MailboxRefused(_l("OAuth 2.0 needs the application's client id."), "oauth_client_id")
    if auth == "oauth2" and not (oauth_tenant.strip() or oauth_token_url.strip()):
        raise MailboxRefused(_l("OAuth 2.0 needs the tenant (or the token address)."), "oauth_tenant")
    if oauth_token_url.strip() and not oauth_token_url.strip().startswith("https://"):
        raise MailboxRefused(_l("The token address must start with https://."), "oauth_token_url")
    if security == "none" and host.strip().lower() not in LOOPBACK:
        raise MailboxRefused(_l("Without encryption Lotsen connects only to a server on this machine (127.0.0.1)."),
                            "security")
    if folder.strip() == done_folder.strip():
        raise MailboxRefused(_l("Handled mail must go to another folder than new mail."), "done_folder")
    taken = db.session.scalar(select(Mailbox).where(Mailbox.address == address))
    if taken is not None and taken is not mailbox:
        raise MailboxRefused(_l("Another mailbox already has this address."), "address")
    connection = (host.strip(), port, security, username.strip(), auth, oauth_client_id.strip() if auth == "oauth2"
                  else "", oauth_tenant.strip() if auth == "oauth2" else "",
                  oauth_token_url.strip() if auth == "oauth2" else "")
    if not secret and (mailbox is None or connection != _connection(mailbox)):
        # the saved secret goes only where it went before: nobody can send it to a server of their choosing
        raise MailboxRefused(_l("Write the password or client secret again: the server or the log-in changed.")
                             if mailbox is not None else _l("Write the password or client secret."), "secret")
    if mailbox is None:
        mailbox = Mailbox()
        db.session.add(mailbox)
    mailbox.address, mailbox.function, mailbox.host, mailbox.port = address, function, host.strip(), port
    mailbox.security, mailbox.username, mailbox.auth = security, username.strip(), auth
    mailbox.oauth_client_id = oauth_client_id.strip() if auth == "oauth2" else ""
    mailbox.oauth_tenant = oauth_tenant.strip() if auth == "oauth2" else ""
    mailbox.oauth_token_url = oauth_token_url.strip() if auth == "oauth2" else ""
    mailbox.folder, mailbox.done_folder = folder.strip() or "INBOX", done_folder.strip() or "Lotsen"
    mailbox.is_active = is_active
    if secret:
        mailbox.secret = data_keys().encrypt(secret)
    db.session.flush()
    audit.record(actor.id, "mailbox_save", "mailbox", mailbox.id,
                 detail=f"{address} ({'secret changed' if secret else 'secret kept'})")
    return mailbox


def _connection(mailbox: Mailbox) -> tuple:
    return (mailbox.host, mailbox.port, mailbox.security, mailbox.username, mailbox.auth, mailbox.oauth_client_id,
            mailbox.oauth_tenant, mailbox.oauth_token_url)


def delete_mailbox(actor: User, mailbox: Mailbox) -> None:
    audit.record(actor.id, "mailbox_delete", "mailbox", mailbox.id, detail=mailbox.address)
    db.session.delete(mailbox)
    db.session.flush()


def imap_settings(mailbox: Mailbox, config) -> ImapSettings:
    return ImapSettings(
        host=mailbox.host, port=mailbox.port, security=mailbox.security, username=mailbox.username,
        password=data_keys().decrypt(mailbox.secret) if mailbox.secret else "",
        oauth_client_id=mailbox.oauth_client_id if mailbox.auth == "oauth2" else "",
        oauth_tenant=mailbox.oauth_tenant, oauth_token_url=mailbox.oauth_token_url, folder=mailbox.folder,
        timeout=config["LOTSEN_MAIL_IN_TIMEOUT"], ca_file=config["LOTSEN_MAIL_IN_CA_FILE"] or "",
        require_cert=config["LOTSEN_MAIL_IN_REQUIRE_CERT"])


def count_waiting(mailbox: Mailbox, config) -> int:
    """Log in and count the mails in the new-mail folder, reading and moving nothing (raises ``MailboxError``)."""
    with open_mailbox(imap_settings(mailbox, config)) as session:
        return len(session.uids(100_000))


# --- fetching ----------------------------------------------------------------------------------------------------
def fetch_mailbox(mailbox: Mailbox, config, commit: Callable[[], None], upload_root: Path,
                  batch: int = 50) -> dict[str, int]:
    """Read up to ``batch`` new messages: each is imported and committed, then moved to the done folder. A
    message that is already known (fetched before a crash stopped the move) is only moved. Returns the count of
    each outcome. The mailbox's last error is kept for the administrators' page."""
    counts: dict[str, int] = {}
    mailbox_id = mailbox.id
    try:
        with open_mailbox(imap_settings(mailbox, config)) as session:
            session.ensure_folder(mailbox.done_folder)
            largest = config["LOTSEN_MAIL_IN_MAX_MB"] * 1024 * 1024
            for uid in session.uids(batch):
                size = session.size(uid)
                if size is None:
                    continue  # gone meanwhile
                if size > largest:
                    message_id = session.message_id(uid)
                    if message_id is None:
                        continue
                    row = _too_large(db.session.get(Mailbox, mailbox_id), message_id, size, config)
                    commit()
                else:
                    raw = session.fetch(uid)
                    if raw is None:
                        continue
                    row = _import_or_keep(mailbox_id, raw, config, upload_root, commit)
                counts[row.outcome] = counts.get(row.outcome, 0) + 1
                session.move(uid, db.session.get(Mailbox, mailbox_id).done_folder)
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.last_error = ""
    except Exception as exc:  # this mailbox's trouble must not keep the next ones from being read
        db.session.rollback()
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.last_error = (str(exc) if isinstance(exc, MailboxError) else exc.__class__.__name__)[:500]
        if isinstance(exc, MailboxError):
            log.warning("mailbox %s: %s", mailbox.address, exc)
        else:
            log.exception("mailbox %s could not be read", mailbox.address)
        counts["error"] = 1
    mailbox.last_fetch_at = utcnow()
    commit()
    return counts


def _import_or_keep(mailbox_id: int, raw: bytes, config, upload_root: Path, commit: Callable[[], None]
                    ) -> InboundMail:
    """Import one mail and commit. Whatever goes wrong with it (a refused subject, a fault of ours) rolls all of
    it back, files included, and keeps the mail, bytes and all, as failed for the people who may read it: the
    rest of the batch goes on and the mail is never fetched again and again."""
    try:
        row = import_mail(db.session.get(Mailbox, mailbox_id), raw, config, upload_root)
        commit()
        return row
    except Exception as exc:
        db.session.rollback()
        log.error("mailbox %s: a mail could not be imported (%s)", mailbox_id, exc.__class__.__name__)
        reason = str(exc) if isinstance(exc, DomainError) else exc.__class__.__name__  # no mail text in it
        try:
            parsed = parse_mail(raw, own_addresses(config))
        except MailUnreadable:
            parsed = None
        row = _record(parsed.message_id if parsed else stand_in_message_id(raw), db.session.get(Mailbox, mailbox_id),
                      "failed", f"import failed: {reason}", raw=raw, parsed=parsed)
        commit()
        return row


def _too_large(mailbox: Mailbox, message_id: str, size: int, config) -> InboundMail:
    """A message above ``LOTSEN_MAIL_IN_MAX_MB`` is not downloaded: it is moved to the done folder and listed
    for an administrator (known by its Message-ID, so a move that failed does not list it twice)."""
    return _record(message_id, mailbox, "failed", f"too large ({size // (1024 * 1024)} MB > "
                   f"{config['LOTSEN_MAIL_IN_MAX_MB']} MB); left unread in the folder {mailbox.done_folder}")


def own_addresses(config) -> set[str]:
    """Lotsen's sender address and every mailbox's: mail from these is Lotsen's own, come back."""
    sender = config.get("LOTSEN_MAIL_FROM", "")
    found = {sender.rpartition("<")[2].rstrip(">").strip().lower()} if "@" in sender else set()
    return found | set(db.session.scalars(select(Mailbox.address)))


def import_mail(mailbox: Mailbox | None, raw: bytes, config, upload_root: Path) -> InboundMail:
    """Turn one message into a case, a reply, or nothing (recorded with the reason); never twice. Flushes (and
    rolls back its transaction, still empty, when another reader recorded the same mail first)."""
    try:
        parsed = parse_mail(raw, own_addresses(config))
    except MailUnreadable as exc:
        return _record(stand_in_message_id(raw), mailbox, "failed", f"unreadable: {exc}", raw=raw)
    known = _known(parsed.message_id)
    if known is not None and known.fingerprint not in (None, parsed.fingerprint()):
        parsed.message_id = stand_in_message_id(raw)  # another mail under a reused Message-ID: imported as itself
        known = _known(parsed.message_id)
    if known is not None:
        return known
    row = InboundMail(message_id=parsed.message_id, mailbox=mailbox, sender=parsed.sender,
                      subject=parsed.subject[:300], outcome="failed", reason="importing",
                      fingerprint=parsed.fingerprint(), confidential_function=_confidential(mailbox, None))
    db.session.add(row)
    try:  # the first write of this mail's transaction, so no savepoint: SQLite's driver commits at its release
        db.session.flush()
    except IntegrityError:  # another worker took the mail at the same moment: this transaction holds nothing
        db.session.rollback()
        return _known(parsed.message_id) or _record(parsed.message_id, mailbox, "failed", "taken by another reader")
    if cases_named_in(parsed.message_id):
        return _settle(row, "ignored", "Lotsen's own mail")
    if parsed.bounce is not None:
        _note_bounce(parsed)
    if parsed.machine:
        return _settle(row, "ignored", f"machine mail: {parsed.machine}")
    hour_ago = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(select(func.count(InboundMail.id)).where(
        InboundMail.sender == parsed.sender, InboundMail.received_at >= hour_ago, InboundMail.id != row.id)) or 0
    if recent >= config["LOTSEN_MAIL_IN_SENDER_HOURLY"]:
        return _settle(row, "held", f"more than {config['LOTSEN_MAIL_IN_SENDER_HOURLY']} mails in an hour",
                       raw=raw)
    ticket = _answered_case(parsed)
    if ticket is not None:
        row.confidential_function = _confidential(mailbox, ticket)
        return _reply(row, ticket, parsed, config, upload_root, raw)
    return _new_case(row, mailbox, parsed, config, upload_root)


def _known(message_id: str) -> InboundMail | None:
    return db.session.scalar(select(InboundMail).where(InboundMail.message_id == message_id))


def _record(message_id: str, mailbox: Mailbox | None, outcome: str, reason: str, raw: bytes | None = None,
            parsed: ParsedMail | None = None) -> InboundMail:
    known = _known(message_id)
    if known is not None:
        return known
    ticket = _answered_case(parsed) if parsed is not None else None
    row = InboundMail(message_id=message_id, mailbox=mailbox, outcome=outcome, reason=reason[:300], raw=raw,
                      sender=parsed.sender if parsed else "", subject=parsed.subject[:300] if parsed else "",
                      confidential_function=_confidential(mailbox, ticket))
    return add_unless_made(row, lambda: _known(message_id))


def _confidential(mailbox: Mailbox | None, ticket: Ticket | None) -> SupportFunction | None:
    """The confidential function whose people alone may read a held or failed mail: the case's, when the mail
    answers a case that holds confidential content, else its mailbox's when that function is confidential. Kept on
    the mail, so it holds when the mailbox is removed or changed."""
    if ticket is not None and holds_confidential(ticket):
        return ticket.function if ticket.function.is_confidential else _first_confidential(ticket)
    if mailbox is not None and mailbox.function is not None and mailbox.function.is_confidential:
        return mailbox.function
    return None


def _first_confidential(ticket: Ticket) -> SupportFunction | None:
    """The confidential function a case passed through (its content stays theirs when it moves on)."""
    ids = {e.function_id for e in ticket.events if e.function_id is not None}
    return db.session.scalar(select(SupportFunction).where(SupportFunction.id.in_(ids),
                                                           SupportFunction.is_confidential.is_(True)).limit(1))


def _settle(row: InboundMail, outcome: str, reason: str = "", *, ticket: Ticket | None = None,
            raw: bytes | None = None, confidential: SupportFunction | None = None) -> InboundMail:
    row.outcome, row.reason, row.ticket, row.raw = outcome, reason[:300], ticket, raw
    row.confidential_function = confidential or row.confidential_function
    db.session.flush()
    return row


def _note_bounce(parsed: ParsedMail) -> None:
    """A delivery report about a mail Lotsen sent (the returned headers carry its signed Message-ID, which the
    outbox still knows): when the address it was sent to is among the failed ones, Lotsen mails it no more for
    ``LOTSEN_MAIL_BOUNCE_DAYS``, and the case gets an internal note and an in-app notification (never a mail,
    which could bounce in turn). A report about anything else, or forged, changes nothing."""
    sent = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.message_id.in_(_MESSAGE_IDS.findall(parsed.bounce.original)))) if cases_named_in(
        parsed.bounce.original) else None
    if sent is None or sent.recipient.lower() not in parsed.bounce.failed:
        return
    days = current_app.config["LOTSEN_MAIL_BOUNCE_DAYS"]
    mark_failing(sent.recipient, "bounced", days)
    ticket = get_ticket(cases_named_in(sent.message_id)[0])
    if ticket is None:
        return
    event = TicketEvent(kind="note", is_public=False, author=None, function_id=ticket.function_id,
                        body=str(_l("Mail to %(addresses)s could not be delivered. Lotsen sends that address "
                                    "no mail for %(days)s days; reach the person another way.",
                                    addresses=sent.recipient, days=f"{days:g}")),
                        data={"bounce": [sent.recipient]})
    ticket.events.append(event)
    db.session.flush()
    watchers = [ticket.assignee] if ticket.assignee else notifications.specialists_of(ticket.function)
    notifications.notify(watchers, ticket, "mail_trouble", None)


def _answered_case(parsed: ParsedMail) -> Ticket | None:
    """The case this mail answers: named by the Lotsen mail it replies to, else by a case number in the subject
    when the sender is that case's requester."""
    for number in reversed(cases_named_in(parsed.answers)):
        ticket = get_ticket(number)
        if ticket is not None:
            return _follow_merges(ticket)
    found = CASE_NUMBER.search(parsed.subject)
    ticket = get_ticket(found.group(0)) if found else None
    # case numbers run in order and a From line is easily forged: the number alone finds only a case that holds
    # nothing confidential, and only for its requester's address (a confidential case needs Lotsen's signed ID)
    if ticket is not None and ticket.requester.email.lower() == parsed.sender and not holds_confidential(ticket):
        return _follow_merges(ticket)
    return None


def _follow_merges(ticket: Ticket) -> Ticket:
    seen = set()
    while ticket.merged_into is not None and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = ticket.merged_into
    return ticket


def _people_with(address: str) -> list[User]:
    return list(db.session.scalars(select(User).where(func.lower(User.email) == address, User.is_active.is_(True),
                                                      User.auth_source.not_in((EXTERNAL_SOURCE, "system")))))


def _sender(parsed: ParsedMail) -> tuple[User, bool]:
    """The Lotsen user with the sender's address, or the sender kept as an external contact (True)."""
    people = _people_with(parsed.sender)
    if len(people) == 1:
        return people[0], False
    username = f"{EXTERNAL_SOURCE}:{parsed.sender}"[:120]
    contact = db.session.scalar(select(User).where(User.username == username))
    if contact is None:
        contact = User(username=username, display_name=parsed.sender_name or parsed.sender, email=parsed.sender,
                       auth_source=EXTERNAL_SOURCE, password_hash=None)
        contact = add_unless_made(contact, lambda: db.session.scalar(select(User).where(User.username == username)))
    return contact, True


def _files(parsed: ParsedMail, config, upload_root: Path) -> tuple[list, list[str]]:
    """The attachments, checked as uploads are; the refused ones by name and reason."""
    stored, refused = [], []
    for attachment in parsed.attachments:
        try:
            stored.append(store_upload(attachment.name, io.BytesIO(attachment.data), upload_root / "tickets",
                                       config["LOTSEN_MAX_UPLOAD_MB"] * 1024 * 1024))
        except UploadRejected as exc:
            refused.append(f"{attachment.name}: {exc}")
    return stored, refused


def _attach(event: TicketEvent, stored: list, refused: list[str], parsed: ParsedMail) -> None:
    attach_files(event, stored)
    event.data = {**(event.data or {}), "by_mail": True, "folded": parsed.folded,
                  **({"refused": refused} if refused else {})}


def _new_case(row: InboundMail, mailbox: Mailbox | None, parsed: ParsedMail, config, upload_root: Path
              ) -> InboundMail:
    requester, external = _sender(parsed)
    subject = parsed.subject or NO_SUBJECT
    text = parsed.text or NO_TEXT
    if mailbox is not None and mailbox.function is not None:
        decision = RoutingDecision(mailbox.function, 1.0, f"mailbox {mailbox.address}")
    else:
        decision = decide_route(None, subject, text)
    stored, refused = _files(parsed, config, upload_root)
    # an unknown sender gets no automatic acknowledgement: its From line may be forged (backscatter) and its
    # auto-responder may lack RFC 3834's headers (a loop); the specialists' answers still reach the address
    ticket = create_ticket(requester, subject, text, category=None, calendar=office_calendar(), mail=mail_context(),
                           channel="email", decision=decision, acknowledge=not external)
    created = ticket.events[0]
    _attach(created, stored, refused, parsed)
    if external:
        created.data = {**created.data, "external": True}
    db.session.flush()
    return _settle(row, "case", "external sender" if external else "", ticket=ticket,
                   confidential=_confidential(mailbox, ticket))


def _reply(row: InboundMail, ticket: Ticket, parsed: ParsedMail, config, upload_root: Path, raw: bytes
           ) -> InboundMail:
    people = _people_with(parsed.sender)
    author = people[0] if len(people) == 1 else None
    if author is None and ticket.requester.auth_source == EXTERNAL_SOURCE and ticket.requester.email == parsed.sender:
        author = ticket.requester
    is_requester = author is not None and author.id == ticket.requester_id
    if ticket.function.is_confidential and not is_requester and not (author and can_work(author, ticket)):
        # nobody but the requester adds to a confidential case by mail; the content is not kept either
        return _settle(row, "ignored", "not the requester of a confidential case")
    calendar, mail = office_calendar(), mail_context()
    text = parsed.text or NO_TEXT
    if is_requester and ticket.status in ("resolved", "closed"):
        hour_ago = utcnow() - timedelta(hours=1)
        reopened = db.session.scalar(select(func.count(InboundMail.id)).where(
            InboundMail.ticket_id == ticket.id, InboundMail.reopened_case.is_(True),
            InboundMail.received_at >= hour_ago)) or 0
        if reopened >= config["LOTSEN_MAIL_IN_REOPENS_HOURLY"]:
            return _settle(row, "held", "the case was reopened by mail too often this hour", ticket=ticket,
                           raw=raw)
        if ticket.status == "closed":
            if not can_reopen(ticket):
                return _follow_up(row, ticket, parsed, config, upload_root)
            reopen(ticket, author, calendar)
        row.reopened_case = True
    stored, refused = _files(parsed, config, upload_root)  # only once the mail is taken: no file without its row
    if is_requester:
        event = add_reply(ticket, author, text, public=True, calendar=calendar, mail=mail)
    elif author is not None and can_work(author, ticket):  # a specialist answering a notification: kept internal
        event = add_reply(ticket, author, text, public=False, calendar=calendar, mail=mail)
    else:  # someone else on the thread (a colleague in copy): an internal note for the specialists to weigh
        event = add_event(ticket, "note", author, text, mail_from=parsed.sender)
        watchers = [ticket.assignee] if ticket.assignee else notifications.specialists_of(ticket.function)
        notifications.notify(watchers, ticket, "mail_trouble", mail, author, text)
    _attach(event, stored, refused, parsed)
    db.session.flush()
    return _settle(row, "reply", "" if is_requester else "not from the requester", ticket=ticket)


def _follow_up(row: InboundMail, ticket: Ticket, parsed: ParsedMail, config, upload_root: Path) -> InboundMail:
    """An answer to a case closed too long ago to reopen becomes a new case in the same function that names it."""
    requester = ticket.requester
    stored, refused = _files(parsed, config, upload_root)
    text = str(_l("Follow-up to %(number)s.", number=ticket.number)) + "\n\n" + (parsed.text or NO_TEXT)
    decision = RoutingDecision(ticket.function, 1.0, f"follow-up to {ticket.number}")
    new = create_ticket(requester, parsed.subject or NO_SUBJECT, text, category=None, calendar=office_calendar(),
                        mail=mail_context(), channel="email", decision=decision)
    _attach(new.events[0], stored, refused, parsed)
    db.session.flush()
    return _settle(row, "case", f"follow-up to {ticket.number}", ticket=new)


# --- held and failed mail ----------------------------------------------------------------------------------------
def list_unsettled(limit: int = 200) -> list[InboundMail]:
    return list(db.session.scalars(
        select(InboundMail).where(InboundMail.outcome.in_(("held", "failed")), InboundMail.settled_at.is_(None))
        .order_by(InboundMail.received_at.desc()).limit(limit)))


def release_held(actor: User, row: InboundMail, config, upload_root: Path) -> InboundMail:
    """Import a held mail after all (the sender's hourly limit does not apply to it)."""
    if row.outcome != "held" or row.raw is None or row.settled_at is not None:
        raise MailboxRefused(_l("Only a held mail can be let through."))
    raw, mailbox = row.raw, row.mailbox
    parsed = parse_mail(raw, own_addresses(config))
    ticket = _answered_case(parsed)
    result = (_reply(row, ticket, parsed, {**config, "LOTSEN_MAIL_IN_REOPENS_HOURLY": 10**6}, upload_root, raw)
              if ticket is not None else _new_case(row, mailbox, parsed, config, upload_root))
    result.settled_at = utcnow()
    audit.record(actor.id, "inbound_mail_release", "inbound_mail", row.id, detail=row.message_id[:200])
    db.session.flush()
    return result


def dismiss(actor: User, row: InboundMail) -> None:
    """An administrator has looked at a held or failed mail and let it go: its bytes are removed."""
    row.settled_at, row.raw = utcnow(), None
    audit.record(actor.id, "inbound_mail_dismiss", "inbound_mail", row.id, detail=row.message_id[:200])
    db.session.flush()
