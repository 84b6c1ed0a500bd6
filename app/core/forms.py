"""Form pieces every feature uses."""

from flask_wtf import FlaskForm
from markupsafe import Markup


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with CSRF protection."""


def csrf_field(form: FlaskForm) -> Markup:
    """The form's hidden CSRF input without an ``id``: a page with several forms would repeat it. Empty when CSRF
    is off (tests)."""
    field = getattr(form, "csrf_token", None)
    return field(id=False) if field is not None else Markup("")
