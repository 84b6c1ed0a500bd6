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
