"""The mail outbox: messages are stored in the same transaction as the change that causes them and sent
later by a worker (``flask --app wsgi outbox send``) with retries, so an SMTP outage loses nothing.

This is the only module that talks SMTP. Without ``LOTSEN_SMTP_HOST`` (the embedded default) messages are
written as ``.eml`` files to ``<instance>/mail`` instead, so a demo shows what would have been sent.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import time
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import String, Text, or_, select
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import UTCDateTime, db, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
BATCH = 50


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    failed: Mapped[bool] = mapped_column(default=False)


def enqueue(recipient: str, subject: str, body: str) -> OutboxMessage | None:
    """Queue a mail; it is sent only if the caller's transaction commits. No address, no mail."""
    if not recipient or "@" not in recipient:
        return None
    message = OutboxMessage(recipient=recipient, subject=subject[:300], body=body)
    db.session.add(message)
    return message


def _build(message: OutboxMessage, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Message-ID"] = make_msgid(domain=sender.rsplit("@", 1)[-1].strip(">") or "lotsen.local")
    mail.set_content(message.body)
    return mail


def _claim(limit: int) -> list[OutboxMessage]:
    """Due messages, locked so that two workers never send the same one (SKIP LOCKED on PostgreSQL)."""
    now = utcnow()
    query = (select(OutboxMessage)
             .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False),
                    or_(OutboxMessage.next_attempt_at <= now, OutboxMessage.next_attempt_at.is_(None)))
             .order_by(OutboxMessage.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return list(db.session.scalars(query))


def send_due(config: dict[str, Any], instance_path: Path) -> tuple[int, int]:
    """Send what is due; returns (sent, failed this round). Commits after each message."""
    sent = failed = 0
    sender = config["LOTSEN_MAIL_FROM"]
    messages = _claim(BATCH)
    if not messages:
        db.session.commit()
        return 0, 0
    transport = _open_transport(config)
    try:
        for message in messages:
            try:
                deliver = transport or _file_transport(instance_path)
                deliver(_build(message, sender))
            except (OSError, smtplib.SMTPException) as exc:
                message.attempts += 1
                message.last_error = str(exc)[:500]
                message.failed = message.attempts >= MAX_ATTEMPTS
                message.next_attempt_at = utcnow() + timedelta(minutes=2 ** min(message.attempts, 8))
                failed += 1
                log.warning("mail %s to %s failed (attempt %d): %s", message.id, message.recipient,
                            message.attempts, exc)
            else:
                message.sent_at = utcnow()
                message.attempts += 1
                sent += 1
            db.session.commit()
    finally:
        if transport is not None:
            transport.close()
    return sent, failed


class _SmtpTransport:
    def __init__(self, config: dict[str, Any]):
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def __call__(self, mail: EmailMessage) -> None:
        if self.connection is None:
            cfg = self.config
            self.connection = smtplib.SMTP(cfg["LOTSEN_SMTP_HOST"], cfg["LOTSEN_SMTP_PORT"], timeout=10)
            if cfg["LOTSEN_SMTP_STARTTLS"]:
                self.connection.starttls(context=ssl.create_default_context())
            if cfg["LOTSEN_SMTP_USER"]:
                self.connection.login(cfg["LOTSEN_SMTP_USER"], cfg["LOTSEN_SMTP_PASSWORD"])
        try:
            self.connection.send_message(mail)
        except (OSError, smtplib.SMTPException):
            self.close()
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None


def _open_transport(config: dict[str, Any]) -> _SmtpTransport | None:
    return _SmtpTransport(config) if config.get("LOTSEN_SMTP_HOST") else None


def _file_transport(instance_path: Path):
    folder = instance_path / "mail"
    folder.mkdir(parents=True, exist_ok=True)

    def deliver(mail: EmailMessage) -> None:
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{abs(hash(mail['Message-ID'])) % 10**8:08d}.eml"
        (folder / name).write_bytes(bytes(mail))

    return deliver
