"""Fixtures: a migrated database (SQLite, or PostgreSQL when LOTSEN_TEST_DATABASE_URL is set), app
factories, a client, a CLI runner, user factories and a log-in helper."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from app import create_app
from app.auth import services as auth_services
from app.auth.models import User
from app.core.db import db, delete_all_rows
from app.core.extensions import limiter
from app.selfservice import queries as selfservice_queries
from app.selfservice import search
from app.tickets.sla import forget_desk_calendar

TEST_DATABASE_URL = os.environ.get("LOTSEN_TEST_DATABASE_URL", "")
DEFAULT_PASSWORD = "ett-bra-losenord"


def pytest_report_header(config) -> str:
    return f"Lotsen test database: {'PostgreSQL ' + TEST_DATABASE_URL if TEST_DATABASE_URL else 'SQLite'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A database URL for this test session: an SQLite file, or a fresh schema in the PostgreSQL database."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'lotsen.db'}"
        return
    schema = f"lotsen_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(TEST_DATABASE_URL)
    with admin_engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin_engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin_engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(database_url, tmp_path_factory) -> str:
    """The session's database with every Alembic migration applied, as ``flask db upgrade`` does."""
    app = create_app({
        "LOTSEN_ENV": "testing", "LOTSEN_DATABASE_URL": database_url,
        "LOTSEN_INSTANCE_PATH": tmp_path_factory.mktemp("migrate-instance"),
    })
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def skip_unless_available(reason: str | None, what: str) -> None:
    """Skip the test when a system part it needs cannot run here (``reason``), except in CI (``CI`` set), where
    every part must run and a missing one is a failure."""
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{what} cannot run: {reason}")
        pytest.skip(reason)


@pytest.fixture
def make_app(migrated_database, tmp_path) -> Iterator[Callable[..., Flask]]:
    """Factory for test apps on the migrated database; keyword arguments override configuration.

    Every table but the seeded support functions and topics is emptied after the test, and search indexes
    are closed (after any background rebuild has finished).
    """
    apps: list[Flask] = []

    def factory(**overrides) -> Flask:
        config = {
            "LOTSEN_ENV": "testing",
            "LOTSEN_INSTANCE_PATH": tmp_path / "instance",
            "LOTSEN_DATABASE_URL": migrated_database,
            "LOTSEN_SECRET_KEY": "test-secret-key",
            "LOTSEN_RATELIMIT_ENABLED": False,
            "LOTSEN_COUNTER_FLUSH_SECONDS": 0,  # view counts written after each request, as a test expects
            "WTF_CSRF_ENABLED": False,
            # words only unless a test asks for the model (tests/selfservice/test_semantic.py): embedding
            # every test's articles would slow the whole suite down
            "LOTSEN_EMBEDDING_MODEL": "off",
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    search.close_all()  # first: it waits for background index rebuilds, which read these tables
    selfservice_queries.forget_kept_lists()
    forget_desk_calendar()
    for app in apps:
        with app.app_context():
            db.session.rollback()
            delete_all_rows(keep=("support_function", "topic", "ticket_category", "sla_target"))
            db.session.commit()
            db.engine.dispose()
    limiter.reset()


@pytest.fixture
def app(make_app) -> Iterator[Flask]:
    """The default test app, with an application context pushed for the test's own queries.

    That context belongs to a twin app on the same database, so every request of the test client still
    gets a fresh application context (its own ``g`` and database session), as in production.
    """
    application = make_app()
    with make_app().app_context():
        yield application


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_user(app) -> Callable[..., User]:
    """Factory: ``create_user("anna", roles=["manager"])`` makes a committed local account."""

    def factory(username: str = "testare", roles=(), password: str = DEFAULT_PASSWORD, **fields) -> User:
        user = auth_services.create_local_user(username, password, roles=roles,
                                               display_name=fields.pop("display_name", username.title()),
                                               **fields)
        db.session.commit()
        return user

    return factory


class AuthActions:
    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, username: str, password: str = DEFAULT_PASSWORD, **extra):
        return self.client.post("/login", data={"username": username, "password": password, **extra})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """The SQL statements sent while the block runs, by any engine: the test client's app has its own, beside
    the one of the test's application context."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)

