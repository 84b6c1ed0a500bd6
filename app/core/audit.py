"""The audit log: who looked at or changed what, for confidential cases and other sensitive data."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import UTCDateTime, db, utcnow


class AuditEntry(db.Model):
    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class AuditCullPermit(db.Model):
    """A row here, within a transaction, lets that transaction delete audit entries (the culling of the log on
    its own schedule); without one the database refuses every change and deletion of an entry (triggers of
    migration 0015): the log is append-only for Lotsen."""

    __tablename__ = "audit_cull_permit"

    id: Mapped[int] = mapped_column(primary_key=True)


def cull_entries(before: datetime) -> int:
    """Delete the entries older than ``before`` (the audit log's own retention), under a permit that goes with
    the same flush; returns how many."""
    permit = AuditCullPermit()
    db.session.add(permit)
    db.session.flush()
    removed = db.session.execute(delete(AuditEntry).where(AuditEntry.created_at < before)).rowcount
    db.session.delete(permit)
    db.session.flush()
    return removed


def record_now(user_id: int | None, action: str, object_type: str, object_id: str | int, detail: str = "",
               address: str = "") -> None:
    """An entry written at once in a transaction of its own: a page that showed confidential data stays
    recorded even when the request's own changes roll back (a form shown again with its problems)."""
    with Session(db.engine) as session:
        session.add(AuditEntry(user_id=user_id, action=action, object_type=object_type, object_id=str(object_id),
                               detail=detail[:300], address=address[:64]))
        session.commit()


def record(user_id: int | None, action: str, object_type: str, object_id: str | int, detail: str = "",
           address: str = "") -> AuditEntry:
    """Add an entry to the audit log (flushed with the caller's transaction)."""
    entry = AuditEntry(user_id=user_id, action=action, object_type=object_type, object_id=str(object_id),
                       detail=detail[:300], address=address[:64])
    db.session.add(entry)
    return entry
