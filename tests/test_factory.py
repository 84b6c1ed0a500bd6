import subprocess
import sys

import pytest

from app import ConfigError, create_app


def test_testing_app_is_configured(app):
    assert app.testing
    assert app.config["SQLALCHEMY_DATABASE_URI"]
    assert app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_default_database_lives_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("LOTSEN_DATABASE_URL", raising=False)
    first = create_app({"LOTSEN_INSTANCE_PATH": tmp_path / "a"})
    second = create_app({"LOTSEN_INSTANCE_PATH": tmp_path / "b"})
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'a' / 'lotsen.db'}"
    assert second.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'b' / 'lotsen.db'}"
    assert first.instance_path == str(tmp_path / "a")


def test_instance_path_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LOTSEN_INSTANCE_PATH", str(tmp_path / "from-env"))
    monkeypatch.delenv("LOTSEN_DATABASE_URL", raising=False)
    app = create_app()
    assert app.instance_path == str(tmp_path / "from-env")
    assert (tmp_path / "from-env").is_dir()


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    first = create_app({"LOTSEN_INSTANCE_PATH": tmp_path})
    second = create_app({"LOTSEN_INSTANCE_PATH": tmp_path})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="LOTSEN_SECRET_KEY must be set in production"):
        create_app({"LOTSEN_INSTANCE_PATH": tmp_path, "LOTSEN_ENV": "production"})


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="too short"):
        create_app({"LOTSEN_INSTANCE_PATH": tmp_path, "LOTSEN_ENV": "production", "LOTSEN_SECRET_KEY": "abc"})


def test_production_sends_cookies_over_https_only(tmp_path):
    app = create_app({"LOTSEN_INSTANCE_PATH": tmp_path, "LOTSEN_ENV": "production",
                      "LOTSEN_SECRET_KEY": "x" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://host/db", "postgresql+nosuchdriver://host/db"])
def test_bad_database_url_gives_a_clear_message(tmp_path, monkeypatch, url):
    monkeypatch.setenv("LOTSEN_DATABASE_URL", url)
    with pytest.raises(ConfigError, match="LOTSEN_DATABASE_URL is not a usable database URL"):
        create_app({"LOTSEN_INSTANCE_PATH": tmp_path})


@pytest.mark.parametrize(("name", "value", "message"), [
    ("LOTSEN_ENV", "staging", "LOTSEN_ENV: expected one of"),
    ("LOTSEN_LDAP_START_TLS", "perhaps", "LOTSEN_LDAP_START_TLS: expected true or false"),
    ("LOTSEN_LDAP_TIMEOUT", "-1", "LOTSEN_LDAP_TIMEOUT"),
    ("LOTSEN_LDAP_GROUP_ROLES", "[1, 2]", "LOTSEN_LDAP_GROUP_ROLES"),
    ("LOTSEN_LDAP_GROUP_ROLES", "{not json", "LOTSEN_LDAP_GROUP_ROLES"),
    ("LOTSEN_DEFAULT_LOCALE", "de", "LOTSEN_DEFAULT_LOCALE"),
])
def test_invalid_environment_values_name_the_variable(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        create_app({"LOTSEN_INSTANCE_PATH": tmp_path})


def test_ldap_needs_a_user_base(tmp_path, monkeypatch):
    monkeypatch.setenv("LOTSEN_LDAP_URI", "ldap://127.0.0.1:389")
    with pytest.raises(ConfigError, match="LOTSEN_LDAP_USER_BASE_DN"):
        create_app({"LOTSEN_INSTANCE_PATH": tmp_path})


def test_instance_config_file_is_read_and_environment_wins(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text('LOTSEN_DEFAULT_LOCALE = "en"\nLOTSEN_LDAP_TIMEOUT = 2.0\n')
    monkeypatch.setenv("LOTSEN_LDAP_TIMEOUT", "3")
    app = create_app({"LOTSEN_INSTANCE_PATH": tmp_path})
    assert app.config["BABEL_DEFAULT_LOCALE"] == "en"
    assert app.config["LOTSEN_LDAP_TIMEOUT"] == 3.0


def test_flask_command_reports_configuration_errors(tmp_path, project_root):
    env = {"PATH": "/usr/bin:/bin", "LOTSEN_INSTANCE_PATH": str(tmp_path), "LOTSEN_DATABASE_URL": "not a url"}
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], cwd=project_root,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Lotsen configuration error: LOTSEN_DATABASE_URL" in result.stderr


def test_warm_up_loads_what_the_first_requests_would_wait_for(app):
    """gunicorn warms each new process up before it takes requests: the templates compiled, the search index
    open (a first search otherwise opens it, reads its vocabulary and the Swedish lexicon)."""
    from app import warm_up
    from app.selfservice.search import close_all, get_index

    get_index(app).catch_up(force=True)  # an index exists, as on a server that has run before
    close_all()
    assert get_index(app)._index is None
    warm_up(app)
    assert get_index(app)._index is not None
    assert len(app.jinja_env.cache) >= 30
    assert "selfservice/search.html" in {key[1] for key in app.jinja_env.cache}


def test_gunicorn_warms_each_worker_up(project_root):
    from app import warm_up

    config = (project_root / "gunicorn.conf.py").read_text(encoding="utf-8")
    assert "warm_up(app)" in config and callable(warm_up)
