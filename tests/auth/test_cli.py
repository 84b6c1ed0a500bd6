from app.auth import services


def test_users_create_makes_a_local_account_with_roles(runner):
    result = runner.invoke(args=["users", "create", "nod.admin", "--name", "Nöd Admin", "--role", "admin",
                                 "--role", "specialist:it", "--password", "break-glass-123"])
    assert result.exit_code == 0, result.output
    assert "created nod.admin" in result.output
    user = services.get_user("nod.admin")
    assert user.has_role("admin") and user.has_role("specialist", "it")
    assert user.display_name == "Nöd Admin"
    assert user.password_hash and "break-glass-123" not in user.password_hash


def test_users_create_prompts_for_the_password(runner):
    result = runner.invoke(args=["users", "create", "karin"], input="hemligt-losen\nhemligt-losen\n")
    assert result.exit_code == 0, result.output
    assert services.get_user("karin") is not None


def test_users_create_refuses_duplicates_weak_passwords_and_bad_roles(runner, create_user):
    create_user("karin")
    duplicate = runner.invoke(args=["users", "create", "Karin", "--password", "hemligt-losen"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    weak = runner.invoke(args=["users", "create", "olle", "--password", "kort"])
    assert weak.exit_code != 0 and "at least 10 characters" in weak.output
    bad_role = runner.invoke(args=["users", "create", "olle", "--role", "specialist", "--password", "hemligt-losen"])
    assert bad_role.exit_code != 0 and "needs a support function" in bad_role.output
    assert services.get_user("olle") is None


def test_grant_revoke_set_password_and_list(runner, create_user, auth):
    create_user("karin")
    assert runner.invoke(args=["users", "grant", "karin", "manager", "editor:hr"]).exit_code == 0
    result = runner.invoke(args=["users", "list"])
    assert "karin" in result.output and "editor:hr (local)" in result.output
    assert runner.invoke(args=["users", "revoke", "karin", "manager"]).exit_code == 0
    assert runner.invoke(args=["users", "set-password", "karin", "--password", "nytt-losenord-1"]).exit_code == 0
    assert auth.login("karin", "nytt-losenord-1").status_code == 302
    missing = runner.invoke(args=["users", "grant", "nobody", "manager"])
    assert missing.exit_code != 0 and "no user 'nobody'" in missing.output
