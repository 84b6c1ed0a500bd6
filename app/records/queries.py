"""The audit log as people read it: filtered by person, object, action and period, newest first, page by page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.core.audit import AuditEntry
from app.core.db import db

AUDIT_PAGE = 100
AUDIT_CSV_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilter:
    person: User | None = None  # entries by the person, and entries about them
    object_type: str = ""
    object_id: str = ""
    action: str = ""
    start: datetime | None = None
    end: datetime | None = None

    def describe(self) -> str:
        """The filter in the audit entry of its reading (what was looked for, not what was found)."""
        parts = [f"person={self.person.username}" if self.person else "",
                 f"object={self.object_type}:{self.object_id}" if self.object_type or self.object_id else "",
                 f"action={self.action}" if self.action else "",
                 f"from={self.start:%Y-%m-%d}" if self.start else "", f"to={self.end:%Y-%m-%d}" if self.end else ""]
        return " ".join(part for part in parts if part) or "all"


def _statement(search: AuditFilter) -> Select:
    actor = aliased(User)
    query = (select(AuditEntry, actor.display_name, actor.username)
             .outerjoin(actor, actor.id == AuditEntry.user_id).order_by(AuditEntry.id.desc()))
    if search.person is not None:
        query = query.where(or_(AuditEntry.user_id == search.person.id,
                                (AuditEntry.object_type == "user") & (AuditEntry.object_id == str(search.person.id))))
    if search.object_type:
        query = query.where(AuditEntry.object_type == search.object_type)
    if search.object_id:
        query = query.where(AuditEntry.object_id == search.object_id)
    if search.action:
        query = query.where(AuditEntry.action == search.action)
    if search.start:
        query = query.where(AuditEntry.created_at >= search.start)
    if search.end:
        query = query.where(AuditEntry.created_at < search.end)
    return query


def audit_page(search: AuditFilter, before_id: int | None = None) -> tuple[list, int | None]:
    """One page of entries (with the actor's name and user name), and the id to continue before, if more."""
    query = _statement(search)
    if before_id:
        query = query.where(AuditEntry.id < before_id)
    rows = db.session.execute(query.limit(AUDIT_PAGE + 1)).all()
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return rows, (rows[-1][0].id if more and rows else None)


def audit_rows(search: AuditFilter) -> list:
    """Every matching entry, newest first, up to a limit (the CSV export)."""
    return db.session.execute(_statement(search).limit(AUDIT_CSV_LIMIT)).all()


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def audit_object_types() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.object_type).distinct().order_by(AuditEntry.object_type)))
