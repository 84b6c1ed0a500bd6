from app.core.db import db


def test_swedish_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="sv">' in html
    assert "Logga in i Lotsen" in html


def test_language_switch_is_remembered_in_a_cookie(client):
    response = client.get("/language/en?next=/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert "lotsen_lang=en" in response.headers["Set-Cookie"]
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Log in to Lotsen" in html
    client.get("/language/sv")
    assert "Logga in i Lotsen" in client.get("/login").get_data(as_text=True)


def test_language_choice_is_stored_on_the_user(app, client, create_user, auth):
    user = create_user("karin")
    auth.login("karin")
    client.get("/language/en")
    db.session.refresh(user)
    assert user.locale == "en"
    other_browser = app.test_client()
    other_browser.post("/login", data={"username": "karin", "password": "ett-bra-losenord"})
    assert "What do you need help with?" in other_browser.get("/").get_data(as_text=True)


def test_unknown_language_and_foreign_next(client):
    assert client.get("/language/de").status_code == 404
    assert client.get("/language/en?next=https://evil.example/").headers["Location"] == "/"


def test_support_function_names_follow_the_language(client, create_user, auth):
    create_user("karin")
    auth.login("karin")
    assert "IT och telefoni" in client.get("/").get_data(as_text=True)
    client.get("/language/en")
    assert "IT and telephony" in client.get("/").get_data(as_text=True)


def test_layout_has_landmarks_and_skip_link(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'class="skip-link" href="#main"' in html
    assert '<main id="main"' in html
    assert "<header" in html and "<footer" in html
    assert 'aria-label="Språk"' in html
    assert "https://" not in html.split("<body>")[0], "no outside resources in <head>"


def test_translations_follow_force_locale_within_a_request(app):
    """Translations are looked up once per request and locale: a mail in the recipient's language in the
    middle of a Swedish page still comes out in English, and the page goes on in Swedish."""
    from flask import render_template_string
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"):
        assert gettext("Log out") == "Logga ut"
        with force_locale("en"):
            assert gettext("Log out") == "Log out"
            assert render_template_string("{{ _('Log out') }}") == "Log out"
        assert render_template_string("{{ _('Log out') }}") == "Logga ut"
        assert gettext("Log out") == "Logga ut"
