"""Retention rules: how long a function's cases (of a category) or a form's orders are kept, and how they go."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SupportFunction
from app.core.db import UTCDateTime, db, utcnow
from app.tickets.models import Category

RETENTION_ACTIONS = ("anonymise", "delete")
RETENTION_KINDS = ("case", "form")


class RetentionRule(db.Model):
    """Cases of ``function`` (of ``category``, or any category when None) are culled ``months`` after they were
    resolved; orders of the form ``form_slug`` ``months`` after they were approved (or last changed, when never
    approved). ``action`` is ``anonymise`` (the figures stay, the person and the text go) or ``delete``."""

    __tablename__ = "retention_rule"
    __table_args__ = (UniqueConstraint("kind", "function_id", "category_id", "form_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_category.id", ondelete="CASCADE"))
    form_slug: Mapped[str | None] = mapped_column(String(60))
    months: Mapped[int]
    action: Mapped[str] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(200), default="")  # the retention decision it follows
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    function: Mapped[SupportFunction | None] = relationship(lazy="joined")
    category: Mapped[Category | None] = relationship(lazy="joined")
