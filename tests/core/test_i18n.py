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


def test_templates_are_compiled_per_language_with_their_fixed_texts_translated(app, monkeypatch):
    """A template file is compiled once per language with ``_("...")`` already translated: the same template
    in Swedish and in English (also under ``force_locale``, as a mail is), the variables still filled in and
    escaped, and ``{% trans %}`` too; no call to gettext is left for a fixed text."""
    from flask import render_template
    from flask_babel import force_locale
    from jinja2 import ChoiceLoader, DictLoader

    app.jinja_env.loader = ChoiceLoader([DictLoader({
        "probe.html": "{{ _('Log out') }}|{{ _('Hello %(name)s!', name=who) }}|{% trans %}Log out{% endtrans %}",
        "dynamic.html": "{{ _(text) }}"}), app.jinja_env.loader])
    with app.test_request_context("/"):
        swedish = render_template("probe.html", who="<Eva>")
        with force_locale("en"):
            english = render_template("probe.html", who="<Eva>")
        assert render_template("dynamic.html", text="Log out") == "Logga ut"

        def no_gettext(*args, **kwargs):
            raise AssertionError("a fixed text was translated at run time")

        monkeypatch.setitem(app.jinja_env.globals, "gettext", no_gettext)
        assert render_template("probe.html", who="Eva") == "Logga ut|Hej Eva!|Logga ut"
    assert swedish == "Logga ut|Hej &lt;Eva&gt;!|Logga ut"
    assert english == "Log out|Hello &lt;Eva&gt;!|Log out"
    assert {key[2] for key in app.jinja_env.cache if key[1] == "probe.html"} == {"sv", "en"}


def test_template_links_are_remembered_per_endpoint_and_values(app):
    from flask import render_template_string

    with app.test_request_context("/"):
        page = "{{ url_for('selfservice.article', slug=s) }} {{ url_for('static', filename='css/lotsen.css') }}"
        assert render_template_string(page, s="a b") == render_template_string(page, s="a b")
        assert render_template_string(page, s="a b").startswith("/articles/a%20b /static/css/lotsen.css?v=")
        assert render_template_string(page, s="c").startswith("/articles/c ")
    with app.test_request_context("/", base_url="http://lotsen.example/desk/"):
        assert render_template_string(page, s="c").startswith("/desk/articles/c /desk/static/")


def test_short_dates_are_iso_in_both_languages_and_the_same_as_babels(app):
    from datetime import UTC, datetime

    from flask import render_template_string
    from flask_babel import force_locale, format_date, format_datetime

    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 before, 03:30 after the change to summer time
    later = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    with app.test_request_context("/"):
        for language in ("sv", "en"):
            with force_locale(language):
                shown = render_template_string("{{ a|datetimeformat('short') }} {{ b|datetimeformat('short') }} "
                                               "{{ a|dateformat }} {{ a|dateformat }}", a=moment, b=later)
                assert shown == (f"2026-03-29 01:30 2026-03-29 03:30 {format_date(moment)} {format_date(moment)}")
                assert format_datetime(moment, "short") == "2026-03-29 01:30"
        with force_locale("en"):
            assert render_template_string("{{ a|dateformat }}", a=moment) == "Mar 29, 2026"


def test_short_times_in_the_readers_zone_match_babels_across_summer_time(app):
    """Issue 12: a list's short times move to the reader's zone with ``zoneinfo`` instead of pytz (40 µs a
    row): every half hour around both changes of summer time, and a time stored without a zone (UTC), read the
    same as Flask-Babel's ``to_user_timezone`` gives."""
    from datetime import UTC, datetime, timedelta

    from flask_babel import to_user_timezone

    from app.core.i18n import datetime_format

    with app.test_request_context("/"):
        for start in (datetime(2026, 3, 28, 22, tzinfo=UTC), datetime(2026, 10, 24, 22, tzinfo=UTC)):
            for step in range(12):
                moment = start + timedelta(minutes=30 * step)
                assert datetime_format(moment, "short") == to_user_timezone(moment).strftime("%Y-%m-%d %H:%M")
        assert datetime_format(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "short") == "2026-03-29 01:30"
        assert datetime_format(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "short") == "2026-03-29 03:30"
        naive = datetime(2026, 7, 1, 10, 0)  # noqa: DTZ001 (stored without a zone: UTC)
        assert datetime_format(naive, "short") == "2026-07-01 12:00"
        assert datetime_format(datetime(2026, 7, 1, 10, 0, tzinfo=UTC), "short", rebase=False) == "2026-07-01 10:00"


def test_wtforms_messages_are_read_once_per_process_and_follow_the_language(app, client, monkeypatch):
    """Issue 12: Flask-WTF found and parsed WTForms' message file on every request that built a form (about
    100 µs of the log-in and question pages). Lotsen's forms read it once per language and process, and its
    messages still come in the reader's language."""
    from babel import support
    from flask_babel import force_locale
    from werkzeug.datastructures import MultiDict
    from wtforms import IntegerField

    from app.core.forms import Form, wtforms_translations

    wtforms_translations.cache_clear()
    loads = []
    real_load = support.Translations.load
    monkeypatch.setattr(support.Translations, "load", classmethod(
        lambda cls, *args, **kwargs: loads.append(kwargs.get("domain")) or real_load(*args, **kwargs)))
    for _ in range(3):
        assert "Logga in i Lotsen" in client.get("/login").get_data(as_text=True)
    assert loads.count("wtforms") <= 1

    class CountForm(Form):
        count = IntegerField()

    with app.test_request_context("/"):
        for language, message in (("sv", "Inte ett giltigt heltal"), ("en", "Not a valid integer value")):
            with force_locale(language):
                form = CountForm(formdata=MultiDict({"count": "tre"}), meta={"csrf": False})
                assert not form.validate()
                assert any(message in error for error in form.count.errors), form.count.errors
    assert loads.count("wtforms") <= 2
