"""Access tokens for the API: scoped, expiring, listed and revocable from the CLI and the browser."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth import services
from app.auth.models import AccessToken
from app.core.db import db, utcnow


def _bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def test_cli_creates_lists_and_revokes_tokens(app, runner, create_user):
    create_user("anna", roles=["manager"])
    made = runner.invoke(args=["users", "tokens", "create", "anna", "HR-robot", "--scope", "cases:read",
                               "--days", "30"])
    assert made.exit_code == 0, made.output
    raw = made.stdout.strip().splitlines()[0]
    client = app.test_client()
    assert client.get("/api/v1/me/cases", headers=_bearer(raw)).status_code == 200
    listed = runner.invoke(args=["users", "tokens", "list", "anna"])
    assert "HR-robot" in listed.output and "cases:read" in listed.output
    token = db.session.scalar(select(AccessToken))
    assert runner.invoke(args=["users", "tokens", "revoke", str(token.id)]).exit_code == 0
    assert client.get("/api/v1/me/cases", headers=_bearer(raw)).status_code == 401


def test_a_token_only_does_what_its_scopes_allow(app, create_user):
    anna = create_user("anna", roles=["manager"])
    raw, _ = services.create_access_token(anna, "läsare", ["cases:read"], 30)
    db.session.commit()
    client = app.test_client()
    response = client.post("/api/v1/cases", json={"subject": "Hej", "description": "Fråga"}, headers=_bearer(raw))
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "insufficient_scope"
    assert client.post("/api/v1/forms/employment-contract", json={}, headers=_bearer(raw)).status_code == 403


def test_an_expired_token_no_longer_works(app, create_user):
    anna = create_user("anna", roles=["manager"])
    raw, token = services.create_access_token(anna, "gammal", ["cases:read"], 30)
    token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert app.test_client().get("/api/v1/me/cases", headers=_bearer(raw)).status_code == 401


def test_owner_creates_sees_and_revokes_tokens_in_the_browser(app, client, auth, create_user):
    create_user("anna", roles=["manager"])
    other = create_user("kalle")
    _, foreign = services.create_access_token(other, "kalles", ["cases:read"], 30)
    db.session.commit()
    auth.login("anna")
    refused = client.post("/account", data={"name": "robot", "days": "90"})
    assert refused.status_code == 400
    page = client.post("/account", data={"name": "robot", "scopes": ["forms:submit"], "days": "90"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "lot_" in html and "forms:submit" in html and "kalles" not in html
    mine = db.session.scalar(select(AccessToken).where(AccessToken.name == "robot"))
    assert client.post(f"/account/tokens/{foreign.id}/revoke").status_code == 404
    assert client.post(f"/account/tokens/{mine.id}/revoke").status_code == 302
    assert db.session.scalars(select(AccessToken.name)).all() == ["kalles"]
