"""The mail outbox: messages are stored in the same transaction as the change that causes them and sent
later by a worker (``flask --app wsgi outbox send``) with retries, so an SMTP outage loses nothing.

What the outbox guarantees:

- **At most once per claim.** A worker claims a batch in one short transaction (``claimed_by``, a token of
  its own, and ``claimed_until``, a lease) and commits before it sends anything, so the claim survives the
  commit after each message that the row locks of ``SELECT ... FOR UPDATE`` did not. Other workers skip
  claimed rows; the lease is renewed while a long round runs. If a worker dies, its claim expires after
  ``CLAIM_LEASE`` and the next round sends the mail.
- **A stable Message-ID.** Each row gets its Message-ID once, at enqueue, and every attempt carries it, so a
  mail sent again after a crash between "sent" and "marked sent" is recognisable as the same mail.
- **One bad message never blocks the others.** A message that cannot be built (a line break in a header)
  is marked failed at once with the reason; a message the server refuses is retried with growing pauses
  and marked failed after ``MAX_ATTEMPTS``. Administrators see and resend failed mails at ``/admin/outbox``.
- **A dead server costs one attempt, not a batch.** At the first connection-level failure (refused, timed
  out after ``LOTSEN_SMTP_TIMEOUT``, disconnected) the round ends; that message gets its retry and the rest
  of the batch is released without being charged an attempt.

This is the only module that talks SMTP. Without ``LOTSEN_SMTP_HOST`` (the embedded default) messages are
written as ``.eml`` files to ``<instance>/mail`` instead, so a demo shows what would have been sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import smtplib
import socket
import ssl
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import String, Text, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BATCH = 50
CLAIM_LEASE = timedelta(minutes=5)
LOCAL_ZONE = ZoneInfo("Europe/Stockholm")
# C0 and C1 controls, DEL and the Unicode line and paragraph separators: none belongs in a subject line.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def new_message_id(sender: str = "") -> str:
    """A globally unique Message-ID in the sender's domain (``lotsen.local`` without one)."""
    domain = parseaddr(sender)[1].rpartition("@")[2].strip() or "lotsen.local"
    return make_msgid(domain=domain)


def _default_message_id() -> str:
    return new_message_id(current_app.config.get("LOTSEN_MAIL_FROM", "") if has_app_context() else "")


# A mail about a case carries the case's number in its Message-ID, signed, so that an answer to it (whose
# In-Reply-To and References name it) finds its case, and Lotsen knows its own mail when it comes back in.
_CASE_MESSAGE_ID = re.compile(r"<lotsen\.([A-Z0-9-]{1,40})\.([0-9a-f]{16})\.([0-9a-f]{16})@[^<>\s]+>")


def _case_tag(case: str, nonce: str) -> str:
    key = hashlib.sha256(b"lotsen-mail-id:" + current_app.config["SECRET_KEY"].encode()).digest()
    return hmac.new(key, f"{case}.{nonce}".encode(), hashlib.sha256).hexdigest()[:16]


def case_message_id(case: str) -> str:
    """A Message-ID for a mail about ``case`` (a case number), in the sender's domain."""
    domain = parseaddr(current_app.config.get("LOTSEN_MAIL_FROM", ""))[1].rpartition("@")[2].strip()
    nonce = secrets.token_hex(8)
    return f"<lotsen.{case}.{nonce}.{_case_tag(case, nonce)}@{domain or 'lotsen.local'}>"


def cases_named_in(header: str) -> list[str]:
    """The cases whose Lotsen mails a header (Message-ID, In-Reply-To, References) names, newest last; only
    Message-IDs that Lotsen made and signed count."""
    found = []
    for match in _CASE_MESSAGE_ID.finditer(header or ""):
        case, nonce, tag = match.groups()
        if hmac.compare_digest(tag, _case_tag(case, nonce)):
            found.append(case)
    return found


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(255), unique=True, default=_default_message_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    failed: Mapped[bool] = mapped_column(default=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FailingAddress(db.Model):
    """An address whose mail bounced (a delivery report said it failed): nothing is queued for it until
    ``until``, so a dead address does not bounce every notification back."""

    __tablename__ = "failing_address"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    bounces: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


def mark_failing(address: str, reason: str, days: float) -> FailingAddress:
    """Stop mailing ``address`` for ``days`` (again, when it bounces again)."""
    address = address.strip().lower()
    row = db.session.scalar(select(FailingAddress).where(FailingAddress.address == address))
    if row is None:
        row = FailingAddress(address=address, bounces=0)
        db.session.add(row)
    row.until, row.reason, row.bounces = utcnow() + timedelta(days=days), reason[:300], row.bounces + 1
    db.session.flush()
    return row


def is_failing(address: str, now: datetime | None = None) -> bool:
    return db.session.scalar(select(FailingAddress.id).where(
        FailingAddress.address == address.strip().lower(), FailingAddress.until > (now or utcnow()))) is not None


def enqueue(recipient: str, subject: str, body: str, case: str | None = None) -> OutboxMessage | None:
    """Queue a mail; it is sent only if the caller's transaction commits. No address, no mail.

    Control characters in the subject (a line break pasted into a case's subject) become spaces, and the
    message gets the Message-ID that every attempt to send it will carry (naming ``case``, a case number, when
    the mail is about one, so that an answer finds it).
    """
    if not recipient or "@" not in recipient:
        return None
    if is_failing(recipient):
        log.info("mail to %s not queued: its mail bounces", recipient)
        return None
    message = OutboxMessage(recipient=recipient, subject=_CONTROL_CHARACTERS.sub(" ", subject)[:300], body=body,
                            message_id=case_message_id(case) if case else _default_message_id())
    db.session.add(message)
    return message


def _build(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = _CONTROL_CHARACTERS.sub(" ", message.subject)  # rows queued before enqueue cleaned it
    mail["Message-ID"] = message.message_id
    mail["Date"] = format_datetime(utcnow())  # RFC 5322 requires it; the time of this attempt
    # Lotsen's mail is machine mail: no out-of-office or other automatic answer to it (RFC 3834; Exchange reads
    # X-Auto-Response-Suppress), so an auto-reply can never start a loop with a desk that reads mail
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    mail.set_content(message.body)
    return mail


# --- sending -------------------------------------------------------------------------------------------

class TransportError(Exception):
    """The mail server cannot be reached or dropped the connection: the round ends."""


def _connection_level(exc: Exception) -> bool:
    """Disconnected, timed out, reset, or 421 (the server is closing): the server is down, not the message."""
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code == 421
    return isinstance(exc, OSError) and not isinstance(exc, smtplib.SMTPException)


def _due(now: datetime) -> tuple:
    return (OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False),
            or_(OutboxMessage.next_attempt_at <= now, OutboxMessage.next_attempt_at.is_(None)),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))


def _claim(worker: str, limit: int) -> list[int]:
    """Claim up to ``limit`` due messages for ``worker``; returns their ids (flushes only; the caller commits).

    Two statements in one transaction: the due ids, locked on PostgreSQL with SKIP LOCKED so that a worker
    claiming at the same moment takes others, then the claim of exactly those ids, with the conditions
    repeated so that a row claimed in between (SQLite does not lock on SELECT) is not taken twice. Not one
    ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)``: PostgreSQL may run that
    subquery again for every row of a nested-loop join and so claim far more than ``n`` rows (it claimed all
    100 queued rows for a batch of 7 in our test).
    """
    now = utcnow()
    candidates = select(OutboxMessage.id).where(*_due(now)).order_by(OutboxMessage.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(candidates))
    if not ids:
        return []
    db.session.execute(update(OutboxMessage)
                       .where(OutboxMessage.id.in_(ids), *_due(now))
                       .values(claimed_by=worker, claimed_until=now + CLAIM_LEASE)
                       .execution_options(synchronize_session=False))
    return list(db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.claimed_by == worker,
                                                                  OutboxMessage.sent_at.is_(None))
                                   .order_by(OutboxMessage.id)))


def _renew(worker: str) -> None:
    db.session.execute(update(OutboxMessage)
                       .where(OutboxMessage.claimed_by == worker, OutboxMessage.sent_at.is_(None))
                       .values(claimed_until=utcnow() + CLAIM_LEASE)
                       .execution_options(synchronize_session=False))


def _release(worker: str, ids: list[int]) -> None:
    if ids:
        db.session.execute(update(OutboxMessage)
                           .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
                                  OutboxMessage.sent_at.is_(None))
                           .values(claimed_by=None, claimed_until=None)
                           .execution_options(synchronize_session=False))


def _charge(message: OutboxMessage, error: str, *, permanent: bool = False) -> None:
    message.attempts += 1
    message.last_error = error[:500]
    message.failed = permanent or message.attempts >= MAX_ATTEMPTS
    message.next_attempt_at = utcnow() + timedelta(minutes=2 ** min(message.attempts, 8))
    message.claimed_by = message.claimed_until = None
    log.warning("mail %s to %s failed (attempt %d%s): %s", message.id, message.recipient, message.attempts,
                ", given up" if message.failed else "", error)


def send_due(config: dict[str, Any], instance_path: Path, batch: int = BATCH) -> tuple[int, int]:
    """Send what is due; returns (sent, failed this round).

    The worker's unit of work, so unlike a service it commits: the claim before anything is sent, then each
    message as it is marked sent or charged an attempt, and at the end the release of what was not tried.
    """
    worker = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(6)}"
    pending = _claim(worker, batch)
    db.session.commit()
    if not pending:
        return 0, 0
    renew_at = time.monotonic() + CLAIM_LEASE.total_seconds() / 2
    sent = failed = 0
    sender = config["LOTSEN_MAIL_FROM"]
    transport = _open_transport(config) or _file_transport(instance_path)
    try:
        while pending:
            if time.monotonic() >= renew_at:
                _renew(worker)
                db.session.commit()
                renew_at = time.monotonic() + CLAIM_LEASE.total_seconds() / 2
            message = db.session.get(OutboxMessage, pending.pop(0))
            if message is None or message.claimed_by != worker or message.sent_at is not None:
                continue  # our lease ran out during a very slow send and another worker took it
            try:
                mail = _build(message, sender)
            except Exception as exc:  # any malformed field: retrying cannot help
                _charge(message, f"cannot build the message: {exc}", permanent=True)
                failed += 1
                db.session.commit()
                continue
            try:
                transport(mail)
            except TransportError as exc:
                _charge(message, str(exc.__cause__ or exc))
                failed += 1
                db.session.commit()
                break
            except Exception as exc:  # refused by the server: retried later
                _charge(message, str(exc) or exc.__class__.__name__)
                failed += 1
            else:
                message.sent_at = utcnow()
                message.attempts += 1
                message.claimed_by = message.claimed_until = None
                sent += 1
            db.session.commit()
    finally:
        transport.close()
        # What was claimed but not tried goes back uncharged. A message in flight when the worker is
        # interrupted keeps its claim until the lease ends: it may already be at the server.
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
            _release(worker, pending)
            db.session.commit()
    return sent, failed


class _SmtpTransport:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        connection = smtplib.SMTP(cfg["LOTSEN_SMTP_HOST"], cfg["LOTSEN_SMTP_PORT"],
                                  timeout=cfg.get("LOTSEN_SMTP_TIMEOUT", 10))
        try:
            if cfg["LOTSEN_SMTP_STARTTLS"]:
                connection.starttls(context=ssl.create_default_context())
            if cfg["LOTSEN_SMTP_USER"]:
                connection.login(cfg["LOTSEN_SMTP_USER"], cfg["LOTSEN_SMTP_PASSWORD"])
        except BaseException:
            connection.close()
            raise
        return connection

    def __call__(self, mail: EmailMessage) -> None:
        if self.connection is None:
            try:
                self.connection = self._connect()
            except OSError as exc:  # refused, timed out, TLS or log-in failure: no message can go now
                raise TransportError(str(exc)) from exc
        try:
            self.connection.send_message(mail)
        except Exception as exc:
            self.close()
            if _connection_level(exc):
                raise TransportError(str(exc)) from exc
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            with contextlib.suppress(OSError):
                self.connection.close()
            self.connection = None


def _open_transport(config: dict[str, Any]) -> _SmtpTransport | None:
    return _SmtpTransport(config) if config.get("LOTSEN_SMTP_HOST") else None


class _FileTransport:
    def __init__(self, folder: Path):
        self.folder = folder

    def __call__(self, mail: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.strftime('%Y%m%d-%H%M%S')}-{abs(hash(mail['Message-ID'])) % 10**8:08d}.eml"
            (self.folder / name).write_bytes(bytes(mail))
        except OSError as exc:  # a full or missing disk fails every message alike
            raise TransportError(str(exc)) from exc

    def close(self) -> None:
        pass


def _file_transport(instance_path: Path) -> _FileTransport:
    return _FileTransport(Path(instance_path) / "mail")


# --- the administrator's view ---------------------------------------------------------------------------

def count_outbox(now: datetime | None = None) -> dict[str, int]:
    """Messages waiting to be sent, sent since midnight (Stockholm time) and given up."""
    now = now or utcnow()
    midnight = now.astimezone(LOCAL_ZONE).replace(hour=0, minute=0, second=0, microsecond=0)

    def count(*conditions) -> int:
        return db.session.scalar(select(func.count(OutboxMessage.id)).where(*conditions)) or 0

    return {
        "queued": count(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False)),
        "sent_today": count(OutboxMessage.sent_at >= midnight),
        "failed": count(OutboxMessage.failed.is_(True)),
    }


def list_troubled_messages(limit: int = 500) -> list[OutboxMessage]:
    """Failed messages and messages waiting for a retry, failed first, then by next attempt."""
    return list(db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None),
               or_(OutboxMessage.failed.is_(True), OutboxMessage.attempts > 0))
        .order_by(OutboxMessage.failed.desc(), OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)))


def _reset_for_resend(*conditions) -> int:
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), *conditions)
        .values(failed=False, attempts=0, next_attempt_at=utcnow())
        .execution_options(synchronize_session="fetch"))
    return result.rowcount or 0


def resend_message(message_id: int) -> bool:
    """Send an unsent message again at the next round, with a fresh count of attempts and the same
    Message-ID; False when there is no such unsent message. A worker's claim on it is left alone."""
    return _reset_for_resend(OutboxMessage.id == message_id) == 1


def resend_failed() -> int:
    """Send every failed message again (as ``resend_message``); returns how many."""
    return _reset_for_resend(OutboxMessage.failed.is_(True))
