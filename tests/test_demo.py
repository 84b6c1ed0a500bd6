import pytest

from app.auth import services
from app.core.permissions import Role
from app.demo import DEMO_PASSWORD, DEMO_USERS


def test_demo_load_is_idempotent_and_covers_every_role(runner):
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    assert f"{len(DEMO_USERS)} new users" in first.output
    second = runner.invoke(args=["demo", "load"])
    assert "0 new users" in second.output
    roles = set()
    for user in services.list_users():
        roles |= {str(role) for role in user.roles}
    assert roles == {str(role) for role in Role}  # every role has a demo user
    for function in ("hr", "payroll", "it", "facilities", "procurement", "servicecenter"):
        assert any(u.has_role("specialist", function) for u in services.list_users())


@pytest.mark.parametrize("username", [u[0] for u in DEMO_USERS])
def test_every_demo_user_can_log_in(runner, client, auth, username):
    runner.invoke(args=["demo", "load"])
    assert auth.login(username, DEMO_PASSWORD).status_code == 302
    assert client.get("/").status_code == 200


def test_demo_load_refuses_production(make_app):
    app = make_app(LOTSEN_ENV="production", LOTSEN_SECRET_KEY="p" * 40)
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "refusing to create demo accounts in production" in result.output
