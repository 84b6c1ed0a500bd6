from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.db import db


def test_migrations_match_the_models(app):
    """``flask db upgrade`` builds exactly the schema the models describe (nothing left to autogenerate)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_db_upgrade_command_is_idempotent(runner):
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
