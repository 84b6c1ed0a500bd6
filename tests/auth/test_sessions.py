"""Log-in sessions live on the server: log-out, a new password, a lost role or a deactivated account end
every copy of the session and remember cookies; every log-in gets new cookies."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from sqlalchemy import select

from app.auth import services
from app.auth.models import LoginSession
from app.core.audit import AuditEntry
from app.core.db import db
from tests.conftest import DEFAULT_PASSWORD, csrf_token_from


def _cookies(response) -> dict[str, str]:
    jar = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie(header)
        jar.update({name: morsel.value for name, morsel in cookie.items()})
    return jar


def _login(client, remember=True):
    return client.post("/login", data={"username": "karin", "password": DEFAULT_PASSWORD,
                                       **({"remember": "y"} if remember else {})})


def _browser(app, cookies: dict[str, str]):
    """A new browser that has only ``cookies`` (as copied from another)."""
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


@pytest.fixture
def karin(create_user):
    return create_user("karin")


def test_remember_cookie_is_new_at_every_log_in(app, client, karin):
    first = _cookies(_login(client))["remember_token"]
    client.post("/logout")
    second = _cookies(_login(client))["remember_token"]
    assert first != second


def test_log_out_ends_copied_session_and_remember_cookies(app, client, karin):
    copied = _cookies(_login(client))
    assert set(copied) >= {"session", "remember_token"}
    assert _browser(app, copied).get("/").status_code == 200  # a copy works while the log-in lasts
    assert _browser(app, {"remember_token": copied["remember_token"]}).get("/").status_code == 200
    client.post("/logout")
    assert _browser(app, copied).get("/").status_code == 302
    assert _browser(app, {"remember_token": copied["remember_token"]}).get("/").status_code == 302


@pytest.mark.parametrize("change", ["password", "deactivate", "role"])
def test_password_change_deactivation_and_role_loss_end_sessions(app, client, karin, change):
    services.grant_role(karin, *services.parse_role("manager"))
    db.session.commit()
    copied = _cookies(_login(client))
    if change == "password":
        services.set_password(karin, "ett-nytt-bra-losenord")
    elif change == "deactivate":
        services.set_active(karin, False)
    else:
        services.revoke_role(karin, *services.parse_role("manager"))
    db.session.commit()
    assert db.session.scalars(select(LoginSession)).all() == []
    assert _browser(app, copied).get("/").status_code == 302


def test_log_in_starts_a_new_session_with_a_new_csrf_secret(make_app, karin):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
        old_secret = before["csrf_token"]
    response = client.post("/login", data={"username": "karin", "password": DEFAULT_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    client.get("/")
    with client.session_transaction() as after:
        assert "planted" not in after
        assert after.get("csrf_token") != old_secret


def test_log_out_everywhere_from_the_account_page(app, client, karin):
    elsewhere = _cookies(_login(app.test_client()))
    _login(client)
    page = client.get("/account").get_data(as_text=True)
    assert "Där du är inloggad" in page or "Where you are logged in" in page
    assert client.post("/account/sessions/end").status_code == 302
    assert _browser(app, elsewhere).get("/").status_code == 302
    assert client.get("/").status_code == 302


def test_expired_sessions_do_not_log_in(app, client, karin):
    copied = _cookies(_login(client, remember=False))
    row = db.session.scalar(select(LoginSession))
    from datetime import timedelta

    row.expires_at = row.created_at - timedelta(seconds=1)
    db.session.commit()
    assert _browser(app, copied).get("/").status_code == 302


# --- role grants -------------------------------------------------------------------------------------------
def test_an_administrator_cannot_grant_itself_a_confidential_role(app, client, create_user, auth):
    boss = create_user("chefadmin", roles=["admin"])
    auth.login("chefadmin")
    response = client.post(f"/admin/users/{boss.id}", data={"display_name": "Chef", "email": "",
                                                             "is_active": "y", "roles": ["admin", "specialist:hr"]})
    assert response.status_code == 400
    assert "konfidentiella" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not boss.has_role("specialist", "hr")
    # another administrator may, and it is in the audit log
    create_user("annanadmin", roles=["admin"])
    auth.logout()
    auth.login("annanadmin")
    assert client.post(f"/admin/users/{boss.id}", data={"display_name": "Chef", "email": "", "is_active": "y",
                                                        "roles": ["admin", "specialist:hr"]}).status_code == 302
    db.session.expire_all()
    assert boss.has_role("specialist", "hr")
    grants = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "grant",
                                                         AuditEntry.object_id == str(boss.id))).all()
    assert any("specialist:hr (local)" in g.detail for g in grants)


def test_every_grant_and_revoke_is_audited(app, runner, create_user):
    create_user("karin")
    assert runner.invoke(args=["users", "grant", "karin", "specialist:payroll"]).exit_code == 0
    assert runner.invoke(args=["users", "revoke", "karin", "specialist:payroll"]).exit_code == 0
    rows = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "user")
                              .order_by(AuditEntry.id)).all()
    assert [(r.action, r.detail) for r in rows][-2:] == [("grant", "specialist:payroll (local)"),
                                                         ("revoke", "specialist:payroll (local)")]
