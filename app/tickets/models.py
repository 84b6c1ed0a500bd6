"""Cases (tickets), their timeline, attachments, categories, canned responses and service-level targets."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SupportFunction, User
from app.core.db import UTCDateTime, db, utcnow
from app.core.i18n import BilingualName
from app.core.uploads import StoredFileColumns

STATUSES = ("new", "open", "waiting", "resolved", "closed")
OPEN_STATUSES = ("new", "open", "waiting")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("portal", "phone", "visit", "email", "widget", "form")  # form: opened by a digital form
RATED_CHANNELS = ("portal", "phone", "visit", "email", "widget")  # a form's case is not rated


class Category(BilingualName, db.Model):
    """A help topic people pick when they ask ("Lönespecifikation", "Dator och skrivare" ...)."""

    __tablename__ = "ticket_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"))
    sort_order: Mapped[int] = mapped_column(default=0)

    function: Mapped[SupportFunction] = relationship(lazy="joined")


class Ticket(db.Model):
    __tablename__ = "ticket"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        UniqueConstraint("requester_id", "submit_token"),  # one case per sent form and person
        # Keyset pages walk these in order: (last activity, id) or (due, id) within a function, a requester,
        # a registering colleague or an assignee; status is filtered on the way.
        Index("ix_ticket_function_activity", "function_id", "last_activity_at", "id"),
        Index("ix_ticket_function_due", "function_id", "resolution_due_at", "id"),
        Index("ix_ticket_requester_activity", "requester_id", "last_activity_at", "id"),
        Index("ix_ticket_created_by_activity", "created_by_id", "last_activity_at", "id"),
        Index("ix_ticket_assignee_activity", "assignee_id", "last_activity_at", "id"),
        # the reports: a function's cases by the day they arrived, and by the day they were resolved
        Index("ix_ticket_function_created", "function_id", "created_at"),
        Index("ix_ticket_function_resolved", "function_id", "resolved_at"),
        Index("ix_ticket_created", "created_at"),
        Index("ix_ticket_resolved", "resolved_at"),
        # the open cases (a small part of all, once the years pile up): backlogs and queue counts
        Index("ix_ticket_open_function_created", "function_id", "created_at",
              postgresql_where=text("status IN ('new', 'open', 'waiting')"),
              sqlite_where=text("status IN ('new', 'open', 'waiting')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="new")
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    channel: Mapped[str] = mapped_column(String(10), default="portal")
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_category.id", ondelete="SET NULL"))
    requester_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    suggested_function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id"))
    routing_confidence: Mapped[float | None]
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id", ondelete="SET NULL"))
    submit_token: Mapped[str | None] = mapped_column(String(64))
    origin_url: Mapped[str | None] = mapped_column(String(500))  # what the case is about (a form's order)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_minutes: Mapped[int] = mapped_column(default=0)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    # Kept for the reports, written as the case moves, so that figures are sums and orders in the database:
    # where the case first landed, how often it was moved and reopened, and its working minutes (the service
    # levels' calendar) to the first answer and to the resolution, paused time taken off.
    first_function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id"))
    reroute_count: Mapped[int] = mapped_column(default=0)
    reopen_count: Mapped[int] = mapped_column(default=0)
    first_response_minutes: Mapped[int | None]
    resolution_minutes: Mapped[int | None]
    # Personal data and records: a legal hold keeps the case from every retention rule; an anonymised case keeps
    # its figures and its requester's department (for the reports) but no person and no text.
    legal_hold: Mapped[bool] = mapped_column(default=False)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requester_department: Mapped[str | None] = mapped_column(String(200))

    function: Mapped[SupportFunction] = relationship(foreign_keys=[function_id], lazy="joined")
    suggested_function: Mapped[SupportFunction | None] = relationship(foreign_keys=[suggested_function_id])
    category: Mapped[Category | None] = relationship(lazy="joined")
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    merged_into: Mapped[Ticket | None] = relationship(remote_side=[id])
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketEvent.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def asks_rating(self) -> bool:
        return self.channel in RATED_CHANNELS

    def __repr__(self) -> str:
        return f"<Ticket {self.number} {self.status}>"


class TicketEvent(db.Model):
    """One entry of a case's timeline: a reply, an internal note, or a change (status, assignee, route ...)."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    is_public: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    #: the function the case was with when this was written (what a confidential function wrote stays its own)
    function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    author: Mapped[User | None] = relationship(lazy="joined")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="selectin"
    )


class TicketAttachment(StoredFileColumns, db.Model):
    __tablename__ = "ticket_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_event.id", ondelete="CASCADE"), index=True)

    event: Mapped[TicketEvent] = relationship(back_populates="attachments")


class CannedResponse(db.Model):
    """A ready answer of a support function; ``{first_name}`` and ``{case_number}`` are filled in."""

    __tablename__ = "canned_response"

    id: Mapped[int] = mapped_column(primary_key=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)

    function: Mapped[SupportFunction] = relationship()


class SlaTarget(db.Model):
    """Service-level targets of a function for one priority, in working hours."""

    __tablename__ = "sla_target"
    __table_args__ = (UniqueConstraint("function_id", "priority"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"))
    priority: Mapped[str] = mapped_column(String(10))
    first_response_hours: Mapped[float]
    resolution_hours: Mapped[float]


class TicketPresence(db.Model):
    """Who had a case open, and when last: so colleagues see that someone else is on it."""

    __tablename__ = "ticket_presence"
    __table_args__ = (UniqueConstraint("ticket_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class TicketCounter(db.Model):
    """The last case number used in a year (LOT-2026-000123), incremented atomically."""

    __tablename__ = "ticket_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class RoutingRule(db.Model):
    """An administrator's rule: a word or phrase in a question sends it to a function (higher priority first)."""

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrase: Mapped[str] = mapped_column(String(200))
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"))
    priority: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    function: Mapped[SupportFunction] = relationship(lazy="joined")


class Notice(db.Model):
    """A current notice from a support function ("E-posten fungerar inte just nu"), shown until it expires."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    function: Mapped[SupportFunction] = relationship(lazy="joined")


class SavedFilter(db.Model):
    """A specialist's own named queue filter (view, search words, priority, sort) in one function."""

    __tablename__ = "saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "function_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(500), default="")  # the queue page's query string
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


NOTIFICATION_KINDS = ("new_case", "assigned", "requester_reply", "mail_trouble", "sla_warning", "forwarded_resolved")
DELIVERIES = ("immediately", "daily", "off")


class Notification(db.Model):
    """Something a specialist should know about a case, shown in the app until read (and mailed as chosen)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # in a mail of its own or a daily digest

    ticket: Mapped[Ticket] = relationship(lazy="joined")


class NotificationSetting(db.Model):
    """How a person wants each kind of notification by e-mail: at once, in a daily digest, or not at all."""

    __tablename__ = "notification_setting"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    delivery: Mapped[str] = mapped_column(String(20), default="immediately")


class ClosingDay(db.Model):
    """A day the service desk is closed beyond the public holidays (a klämdag the municipality decides)."""

    __tablename__ = "closing_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    note: Mapped[str] = mapped_column(String(200), default="")


class DeskSetting(db.Model):
    """A service-desk setting changed in the browser (office hours), over the start-up configuration."""

    __tablename__ = "desk_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))
