"""The edge: one commit per request, files that follow the database, clear answers when the database is
gone."""

from __future__ import annotations

import socket

from sqlalchemy import select

from app import create_app
from app.auth import services as auth_services
from app.auth.models import User
from app.core.db import db
from app.core.transactions import DomainError, remove_file_after_commit, write_file


def test_a_successful_request_commits_once_and_a_refused_one_rolls_back(make_app):
    app = make_app()

    @app.post("/made")
    def made():
        auth_services.create_local_user("hel", "losenord-123")
        return "ok"

    @app.post("/refused")
    def refused():
        auth_services.create_local_user("halv", "losenord-123")
        raise DomainError("Det går inte.")

    client = app.test_client()
    assert client.post("/made").status_code == 200
    response = client.post("/refused", headers={"Referer": "http://localhost/made"})
    assert response.status_code == 302 and response.headers["Location"] == "/made"
    with app.app_context():
        names = db.session.scalars(select(User.username)).all()
    assert "hel" in names and "halv" not in names


def test_files_written_in_a_rolled_back_request_are_removed_and_removals_wait_for_the_commit(make_app, tmp_path):
    app = make_app()
    kept, written = tmp_path / "kept.bin", tmp_path / "written.bin"
    kept.write_bytes(b"old")

    @app.post("/fail")
    def fail():
        write_file(written, b"new")
        remove_file_after_commit(kept)
        raise DomainError("nej")

    @app.post("/ok")
    def ok():
        remove_file_after_commit(kept)
        return "ok"

    client = app.test_client()
    client.post("/fail")
    assert not written.exists() and kept.exists()
    client.post("/ok")
    assert not kept.exists()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_database_outage_answers_a_lotsen_503_page(client, auth, create_user, tmp_path):
    create_user("karin")
    auth.login("karin")  # logged in while the database was up
    url = f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/lotsen"
    down = create_app({"LOTSEN_ENV": "testing", "LOTSEN_INSTANCE_PATH": tmp_path / "down", "LOTSEN_DATABASE_URL": url,
                       "LOTSEN_SECRET_KEY": "test-secret-key", "WTF_CSRF_ENABLED": False}).test_client()
    for cookie in client._cookies.values():
        down.set_cookie(cookie.key, cookie.value)
    for path in ("/", "/tickets", "/workspace"):
        response = down.get(path)
        html = response.get_data(as_text=True)
        assert response.status_code == 503, path
        assert "inte tillgänglig just nu" in html and "sparades" in html
        assert response.headers["Retry-After"] == "30"
    assert down.post("/tickets/new", data={"subject": "a", "description": "b"}).status_code == 503
    api = down.get("/api/v1/me/cases")
    assert api.status_code == 503 and api.get_json()["error"]["code"] == "service_unavailable"
    anonymous = create_app({"LOTSEN_ENV": "testing", "LOTSEN_INSTANCE_PATH": tmp_path / "down",
                            "LOTSEN_DATABASE_URL": url, "LOTSEN_SECRET_KEY": "test-secret-key",
                            "WTF_CSRF_ENABLED": False}).test_client()
    assert anonymous.post("/login", data={"username": "a", "password": "b"}).status_code == 503


def test_hsts_over_https_only(make_app):
    plain = make_app().test_client().get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    secure = make_app(LOTSEN_SESSION_COOKIE_SECURE=True).test_client().get("/login", base_url="https://lotsen.test")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_refusal_never_sends_the_browser_to_another_site(make_app):
    app = make_app()

    @app.post("/refused")
    def refused():
        raise DomainError("Det går inte.")

    client = app.test_client()
    for referrer in ("http://evil.example/x", "//evil.example/x", "http://localhost/\\evil.example",
                     "/\\evil.example", "http://localhost//evil.example"):
        response = client.post("/refused", headers={"Referer": referrer})
        assert response.status_code == 302 and response.headers["Location"] == "/", referrer
