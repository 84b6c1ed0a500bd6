"""Form pieces every feature uses."""

from flask import current_app
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with CSRF protection."""


CSRF_INPUT = Markup('<input name="{}" type="hidden" value="{}">')


def csrf_field(form: FlaskForm | None = None) -> Markup:
    """The form's hidden CSRF input without an ``id``: a page with several forms would repeat it. Empty when CSRF
    is off (tests). Written out: WTForms' widget took 33 µs per form, a page has one to four. Without a form: the
    request's token, as a ``ConfirmForm`` carries it, for a button's form (no form object built to render it;
    the view that takes the post checks it with ``ConfirmForm``)."""
    if form is None:
        if not current_app.config.get("WTF_CSRF_ENABLED", True):
            return Markup("")
        return CSRF_INPUT.format(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), generate_csrf())
    field = getattr(form, "csrf_token", None)
    return CSRF_INPUT.format(field.name, field.current_token) if field is not None else Markup("")
