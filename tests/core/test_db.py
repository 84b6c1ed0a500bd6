"""The embedded SQLite is tuned for many readers and cheap commits; PostgreSQL is left as it is."""

import pytest
from sqlalchemy import text

from app.core.db import db


def test_sqlite_runs_in_wal_mode_without_an_fsync_per_commit(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL keeps its own settings")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_statistics_commit_without_waiting_for_the_disk_and_only_their_transaction(app):
    """A search log or a batch of view counts does not wait for an fsync on PostgreSQL; the next transaction
    (a case, an order) waits as before. SQLite commits without an fsync of its own anyway (WAL, NORMAL)."""
    from app.core.db import commit_without_waiting

    commit_without_waiting(db.session)
    if db.engine.dialect.name == "postgresql":
        assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "off"
        db.session.commit()
        assert db.session.execute(text("SHOW synchronous_commit")).scalar() == "on"
    db.session.rollback()
