import re

import pytest
from flask import current_app

from app.core.db import db
from app.core.extensions import limiter, process_share
from tests.conftest import DEFAULT_PASSWORD


def test_login_page_has_labelled_fields(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="username">Användarnamn</label>' in html
    assert '<label for="password">Lösenord</label>' in html
    assert 'autocomplete="current-password"' in html


def test_start_page_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_local_login_and_logout(client, create_user, auth):
    create_user("karin", display_name="Karin Karlsson")
    response = auth.login("karin")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert "Hej Karin!" in client.get("/").get_data(as_text=True)

    response = auth.logout()
    assert response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302


def test_user_name_is_case_insensitive_and_trimmed(create_user, auth):
    create_user("karin")
    assert auth.login("  Karin ").status_code == 302


def test_last_login_is_recorded(app, create_user, auth):
    user = create_user("karin")
    assert user.last_login_at is None
    auth.login("karin")
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_wrong_password_and_unknown_user_look_the_same(client, create_user, auth):
    create_user("karin")
    wrong = auth.login("karin", "fel-losenord")
    unknown = auth.login("finns.inte", "fel-losenord")
    assert wrong.status_code == unknown.status_code == 401
    assert "Fel användarnamn eller lösenord." in wrong.get_data(as_text=True)

    def without_token(html: str) -> str:
        return re.sub(r'value="[^"]*"', "", html)

    assert without_token(wrong.get_data(as_text=True)).replace("karin", "X") == without_token(
        unknown.get_data(as_text=True)).replace("finns.inte", "X")


def test_inactive_user_cannot_log_in(app, create_user, auth):
    user = create_user("karin")
    user.is_active = False
    db.session.commit()
    assert auth.login("karin").status_code == 401


def test_empty_fields_get_messages_and_keep_the_user_name(client):
    response = client.post("/login", data={"username": "karin", "password": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Fyll i ditt lösenord." in html
    assert 'value="karin"' in html
    assert 'aria-invalid="true"' in html


def test_next_parameter_is_followed_only_within_the_site(client, create_user, auth):
    create_user("karin")
    assert auth.login("karin", next="/admin/users").headers["Location"] == "/admin/users"
    auth.logout()
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        assert auth.login("karin", next=evil).headers["Location"] == "/"
        auth.logout()


def test_session_cookie_is_http_only_and_lax(client, create_user, auth):
    create_user("karin")
    response = auth.login("karin")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


@pytest.fixture
def limited_client(make_app, create_user):
    app = make_app(LOTSEN_RATELIMIT_ENABLED=True, LOTSEN_LOGIN_RATE_LIMIT="3 per minute",
                   LOTSEN_LOGIN_ADDRESS_LIMIT="5 per minute", LOTSEN_LOGIN_SLOWDOWN_AFTER=3,
                   LOTSEN_LOGIN_MAX_DELAY=0.05)
    limiter.reset()
    create_user("karin")
    return app.test_client()


def _login(client, username, password, address="127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_overrides={"REMOTE_ADDR": address})


def test_repeated_failed_logins_are_refused_for_a_while(limited_client):
    for _ in range(3):
        assert _login(limited_client, "karin", "fel").status_code == 401
    response = _login(limited_client, "karin", DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "För många försök" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_each_of_several_processes_counting_on_its_own_gets_its_share_of_the_limit(make_app, create_user):
    """Two gunicorn workers with in-memory counters: each refuses after half the limit, so an attacker whose
    attempts are spread over both gets no more than the limit in all."""
    app = make_app(LOTSEN_RATELIMIT_ENABLED=True, LOTSEN_LOGIN_RATE_LIMIT="4 per minute",
                   LOTSEN_LOGIN_ADDRESS_LIMIT="100 per minute", LOTSEN_RATELIMIT_PROCESSES=2)
    limiter.reset()
    create_user("karin")
    client = app.test_client()
    for _ in range(2):
        assert _login(client, "karin", "fel").status_code == 401
    assert _login(client, "karin", "fel").status_code == 429


def test_process_share_divides_every_amount_rounding_up(app):
    current_app.config["LOTSEN_RATELIMIT_PROCESSES"] = 3
    assert process_share("5 per minute;20 per hour") == "2 per minute;7 per hour"
    assert process_share("60/minute, 1000 per 15 minutes") == "20/minute, 334 per 15 minutes"
    current_app.config["LOTSEN_RATELIMIT_PROCESSES"] = 1
    assert process_share("5 per minute") == "5 per minute"


def test_someone_elses_failures_never_lock_the_right_password_out(limited_client):
    """An attacker hammering 'karin' from one address must not lock Karin out at her own address."""
    for _ in range(10):
        _login(limited_client, "karin", "fel", address="10.9.9.9")
    assert _login(limited_client, "karin", "fel", address="10.9.9.9").status_code == 429
    assert _login(limited_client, "karin", DEFAULT_PASSWORD, address="10.1.1.1").status_code == 302


def test_an_account_under_attack_is_slowed_down_not_locked(limited_client, monkeypatch):
    from app.auth import views

    waits = []
    monkeypatch.setattr(views.time, "sleep", waits.append)
    for n in range(6):  # from six addresses, so no pair or address limit is reached
        _login(limited_client, "karin", "fel", address=f"10.0.0.{n}")
    assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] > 0  # from the fourth attempt on
    assert _login(limited_client, "karin", DEFAULT_PASSWORD, address="10.1.1.1").status_code == 302
    assert waits[-1] == 0.05  # capped at LOTSEN_LOGIN_MAX_DELAY


def test_rate_limit_treats_unknown_user_names_the_same(limited_client):
    for _ in range(3):
        assert _login(limited_client, "finns.inte", "fel").status_code == 401
    assert _login(limited_client, "finns.inte", "fel").status_code == 429


def test_successful_logins_do_not_count(limited_client):
    for _ in range(5):
        assert _login(limited_client, "karin", DEFAULT_PASSWORD).status_code == 302
        limited_client.post("/logout")


def test_one_address_trying_many_names_is_refused(limited_client):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        _login(limited_client, name, "fel")
    # a sixth name from the same address is refused: the per-address limit applies too
    assert _login(limited_client, "a6", "fel").status_code == 429
    assert _login(limited_client, "a6", "fel", address="10.2.2.2").status_code == 401


def test_forwarded_addresses_count_only_through_configured_proxies(make_app, create_user):
    app = make_app(LOTSEN_RATELIMIT_ENABLED=True, LOTSEN_LOGIN_RATE_LIMIT="2 per minute",
                   LOTSEN_LOGIN_ADDRESS_LIMIT="100 per minute", LOTSEN_PROXY_COUNT=1)
    limiter.reset()
    create_user("karin")
    client = app.test_client()

    def attempt(forwarded):
        return client.post("/login", data={"username": "karin", "password": "fel"},
                           headers={"X-Forwarded-For": forwarded}, environ_overrides={"REMOTE_ADDR": "10.0.0.1"})

    for _ in range(2):
        attempt("192.0.2.1")
    assert attempt("192.0.2.1").status_code == 429
    assert attempt("192.0.2.2").status_code == 401  # behind the proxy, people are told apart
    # without a configured proxy the header is ignored: a client cannot pick an address of its own
    plain = make_app(LOTSEN_RATELIMIT_ENABLED=True, LOTSEN_LOGIN_RATE_LIMIT="2 per minute").test_client()
    for forwarded in ("198.51.100.1", "198.51.100.2"):
        plain.post("/login", data={"username": "karin", "password": "fel"}, headers={"X-Forwarded-For": forwarded})
    assert plain.post("/login", data={"username": "karin", "password": "fel"},
                      headers={"X-Forwarded-For": "198.51.100.3"}).status_code == 429


def test_every_role_of_a_logged_in_person_is_loaded_with_the_session(client, create_user):
    """The session, the user and all their roles come in one query; a person with several roles keeps them all."""
    create_user("multi", roles=["specialist:it", "editor:it", "specialist:hr"])
    client.post("/login", data={"username": "multi", "password": DEFAULT_PASSWORD})
    for path in ("/", "/workspace/it", "/workspace/hr", "/editor/articles"):
        assert client.get(path).status_code == 200, path
