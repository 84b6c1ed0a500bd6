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
