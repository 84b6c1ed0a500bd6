"""The database: declarative base with a constraint naming convention, and UTC timestamps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, delete, event, text
from sqlalchemy.engine import Engine, Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.expression import Executable
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
T = TypeVar("T")


def tune_sqlite(engine: Engine) -> None:
    """The embedded SQLite in WAL mode with ``synchronous=NORMAL``: readers never wait for a writer, and a commit
    costs no fsync of its own (the log is synced at checkpoints). A crash of Lotsen loses nothing committed; a
    power cut or OS crash can lose the last moments' commits, never corrupt the file. PostgreSQL is untouched."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def listen_once(identifier: str, listener: Callable) -> None:
    """Have ``listener`` follow the sessions' ``identifier`` event (``after_commit``, ``before_commit`` ...):
    installed once, however many apps a process makes (the tests make one per test)."""
    if not event.contains(db.session, identifier, listener):
        event.listen(db.session, identifier, listener)


def commit_without_waiting(session: Session) -> None:
    """Let the current transaction's commit return before its log reaches the disk (PostgreSQL's
    ``synchronous_commit = off``, for this transaction only): for statistics a plain GET writes (search logs, view
    counts), which would otherwise wait for an fsync each. A crash of the database server may lose the last
    fraction of a second of them, never part of one, and nothing else; SQLite already commits that way."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))


def read_plain(statement: Executable, params: dict) -> Result:
    """Run a read of columns or counts (never of model objects) in the request's transaction, after flushing what
    is pending as the ORM would, without the ORM's per-statement work: about 25 µs less for a count, 50 µs for
    the queue's counts, asked on every page of a specialist."""
    db.session.flush()
    return db.session.connection().execute(statement, params)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (portable to SQLite), always hands back timezone-aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use app.core.db.utcnow()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def add_unless_made(row: T, made_already: Callable[[], T | None]) -> T:
    """Insert ``row`` in a savepoint. When a unique constraint says another request made it first (the same form
    sent twice at the same moment), return what ``made_already`` finds instead; any other conflict raises."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        existing = made_already()
        if existing is None:
            raise
        return existing
    return row


def delete_all_rows(keep: tuple[str, ...] = ()) -> None:
    """Empty every table except those named in ``keep``, children first (used by test fixtures). The audit log
    goes first, under a cull permit (it is append-only otherwise)."""
    tables = db.metadata.tables
    if "audit_entry" not in keep and "audit_cull_permit" in tables:
        db.session.execute(tables["audit_cull_permit"].insert().values(id=1))
        db.session.execute(delete(tables["audit_entry"]))
    for table in reversed(db.metadata.sorted_tables):
        if table.name not in keep:
            db.session.execute(delete(table))
