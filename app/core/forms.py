"""Form pieces every feature uses."""

from functools import lru_cache

from babel import support
from flask import current_app
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path

from app.core.i18n import current_language


@lru_cache(maxsize=16)
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' own messages ("Not a valid integer value.") in ``locale``, read from disk once per process."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """The base of Lotsen's forms: Flask-WTF's, with WTForms' built-in messages in the reader's language from a
    per-process cache (Flask-WTF finds and parses the message file anew on every request that builds a form)."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_translations(current_language())


class ConfirmForm(Form):
    """An empty form: a button that posts with CSRF protection."""
