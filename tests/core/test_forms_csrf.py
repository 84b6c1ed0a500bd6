"""The CSRF input every page's forms carry, written out as WTForms would render it."""

from __future__ import annotations

from wtforms.widgets import HiddenInput

from app.core.forms import ConfirmForm, csrf_field


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
