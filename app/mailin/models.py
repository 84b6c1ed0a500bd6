"""Mail in: the functions' mailboxes and every message read from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SupportFunction
from app.core.db import UTCDateTime, db, utcnow
from app.tickets.models import Ticket

MAIL_AUTH = ("password", "oauth2")


class Mailbox(db.Model):
    """An IMAP mailbox whose new mail becomes cases of ``function`` (routed automatically when None: the general
    address). ``secret`` holds the password or the OAuth client secret, encrypted with the data key; it is never
    shown again once saved."""

    __tablename__ = "mailbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(254), unique=True)  # what people write to: lon@kommun.se
    function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id", ondelete="SET NULL"))
    host: Mapped[str] = mapped_column(String(200))
    port: Mapped[int]
    security: Mapped[str] = mapped_column(String(10), default="tls")
    username: Mapped[str] = mapped_column(String(254))
    auth: Mapped[str] = mapped_column(String(10), default="password")
    secret: Mapped[str] = mapped_column(String(1000), default="")
    oauth_client_id: Mapped[str] = mapped_column(String(200), default="")
    oauth_tenant: Mapped[str] = mapped_column(String(200), default="")
    oauth_token_url: Mapped[str] = mapped_column(String(500), default="")
    folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    done_folder: Mapped[str] = mapped_column(String(200), default="Lotsen")
    is_active: Mapped[bool] = mapped_column(default=True)
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    function: Mapped[SupportFunction | None] = relationship(lazy="joined")


class InboundMail(db.Model):
    """One message read from a mailbox, kept by its Message-ID so that it is never imported twice. ``raw`` keeps
    the bytes of a message that was held or failed until an administrator has dealt with it; the others keep only
    their headers' essentials."""

    __tablename__ = "inbound_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    mailbox_id: Mapped[int | None] = mapped_column(ForeignKey("mailbox.id", ondelete="SET NULL"), index=True)
    sender: Mapped[str] = mapped_column(String(254), default="", index=True)
    subject: Mapped[str] = mapped_column(String(300), default="")
    # a new case, a reply on a case, ignored (machine mail: no case, no answer), held for an administrator (a sender
    # mailing too often), or failed (could not be read or imported: kept, with its bytes)
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(300), default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # ParsedMail.fingerprint(): what the mail says
    # the confidential function whose specialists alone may read this mail (None: administrators handle it)
    confidential_function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id",
                                                                            ondelete="SET NULL"))
    reopened_case: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a held or failed one dealt with

    mailbox: Mapped[Mailbox | None] = relationship(lazy="joined")
    ticket: Mapped[Ticket | None] = relationship()
    confidential_function: Mapped[SupportFunction | None] = relationship(lazy="joined")
