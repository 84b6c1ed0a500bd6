"""The CSRF input every page's forms carry, written out as WTForms would render it."""

from __future__ import annotations

from wtforms.widgets import HiddenInput

from app.core.forms import ConfirmForm
from app.core.templating import csrf_field


def test_the_csrf_input_is_written_out_as_wtforms_renders_it(make_app, monkeypatch):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context("/"):
        form, prefixed = ConfirmForm(), ConfirmForm(prefix="second")
        expected = [str(form.csrf_token(id=False)), str(prefixed.csrf_token(id=False))]
        monkeypatch.setattr(HiddenInput, "__call__", lambda *a, **k: (_ for _ in ()).throw(AssertionError("widget")))
        assert [str(csrf_field(form)), str(csrf_field(prefixed))] == expected  # without WTForms' widget
        assert 'name="second-csrf_token"' in expected[1]
    with make_app().test_request_context("/"):  # CSRF off (tests): nothing
        assert csrf_field(ConfirmForm()) == ""


def test_a_button_form_carries_the_requests_token_without_a_form_object(make_app, monkeypatch):
    """``csrf_field()``: the token a ``ConfirmForm`` would carry, with no form built to render it (a specialist's
    queue and case pages have many buttons); the post it sends passes ``ConfirmForm``'s check."""
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    app = make_app(WTF_CSRF_ENABLED=True)
    with app.test_request_context("/"):
        expected = str(csrf_field(ConfirmForm()))
        with monkeypatch.context() as patched:
            built = []
            patched.setattr(FlaskForm, "__init__", lambda self, *a, **k: built.append(self))
            written = str(csrf_field())
        assert written == expected and built == []
        token = written.split('value="')[1].split('"')[0]
        assert ConfirmForm(formdata=MultiDict({"csrf_token": token})).validate()
        assert not ConfirmForm(formdata=MultiDict({"csrf_token": "forged"})).validate()
    with make_app().test_request_context("/"):  # CSRF off (tests): nothing
        assert csrf_field() == ""


def test_a_sessions_signed_token_is_reused_for_a_minute_and_its_posts_pass(make_app, create_user, monkeypatch):
    """Issue 12: signing the token cost 48 µs of every logged-in page (the layout's log-out form carries one). A
    session's signed token is reused for up to a minute, posts carrying it pass, another session gets its own,
    and after the minute it is signed anew."""
    from app.core import templating
    from tests.conftest import DEFAULT_PASSWORD, csrf_token_from

    app = make_app(WTF_CSRF_ENABLED=True)
    create_user("erik")
    create_user("sara")
    signed = []
    real = templating.generate_csrf
    monkeypatch.setattr(templating, "generate_csrf", lambda: signed.append(1) or real())

    def logged_in(username):
        browser = app.test_client()
        token = csrf_token_from(browser.get("/login").get_data(as_text=True))
        browser.post("/login", data={"csrf_token": token, "username": username, "password": DEFAULT_PASSWORD})
        return browser

    erik, sara = logged_in("erik"), logged_in("sara")
    before = len(signed)
    first = csrf_token_from(erik.get("/").get_data(as_text=True))
    again = csrf_token_from(erik.get("/").get_data(as_text=True))
    assert first == again and len(signed) == before + 1  # signed once for two pages
    assert csrf_token_from(sara.get("/").get_data(as_text=True)) != first and len(signed) == before + 2
    monkeypatch.setattr(templating, "SIGNED_TOKEN_REUSE_SECONDS", 0.0)
    erik.get("/")
    assert len(signed) == before + 3  # the minute is over: signed anew
    assert erik.post("/logout", data={"csrf_token": again}).status_code == 302  # the reused token is accepted
    assert erik.get("/tickets").status_code == 302  # logged out
    assert sara.post("/logout", data={"csrf_token": first}).status_code == 400  # not another session's
