from sqlalchemy import select

from app.auth import services as auth_services
from app.auth.models import User
from app.core.db import db


def test_not_found_page_is_friendly_and_swedish(client):
    response = client.get("/finns-inte")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Sidan finns inte" in html
    assert 'lang="sv"' in html
    assert "Gå till startsidan" in html


def test_forbidden_page(client, create_user, auth):
    create_user("vanlig")
    auth.login("vanlig")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Åtkomst nekad" in response.get_data(as_text=True)


def test_crash_mid_request_leaves_nothing_half_written(make_app):
    app = make_app(PROPAGATE_EXCEPTIONS=False)

    @app.get("/crash")
    def crash():
        auth_services.create_local_user("halv", "losenord-123")
        raise RuntimeError("boom")

    response = app.test_client().get("/crash")
    assert response.status_code == 500
    assert "Något gick fel" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "halv")) is None


def test_csrf_is_enforced_on_forms(make_app):
    app = make_app(WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"username": "a", "password": "b"})
    assert response.status_code == 400
    assert "Formuläret hade gått ut" in response.get_data(as_text=True)


def test_pages_refuse_framing_and_carry_security_headers(client):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
