"""Form pieces every feature uses."""

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """An empty form: a button that posts with CSRF protection."""
