"""Form pieces every feature uses."""

from functools import lru_cache

from babel import support
from flask import current_app
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms.i18n import messages_path
from wtforms.widgets import Select, html_params

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


class KeyedSelect(Select):
    """A select that renders its options once per process and ``field.options_key``, a key the page sets for a
    long list that many pages show alike (every article a reply can link: 500 options cost 20 ms one by one). A
    field without a key, or with a value chosen, renders as WTForms renders it."""

    LIMIT = 32  # lists kept; all are dropped when there are more

    def __init__(self) -> None:
        super().__init__()
        self._options: dict[object, str] = {}

    def __call__(self, field, **kwargs):
        key = getattr(field, "options_key", None)
        if key is None or field.data:
            return super().__call__(field, **kwargs)
        options = self._options.get(key)
        if options is None:
            chosen, field.data = field.data, None  # kept without any option selected ("" selects the first)
            try:
                whole = str(super().__call__(field))  # attribute values are escaped: the first ">" ends the tag
            finally:
                field.data = chosen
            options = whole[whole.index(">") + 1: -len("</select>")]
            if len(self._options) >= self.LIMIT:
                self._options.clear()
            self._options[key] = options
        kwargs.setdefault("id", field.id)
        for flag in self.validation_attrs:
            if flag not in kwargs and getattr(field.flags, flag, False):
                kwargs[flag] = True
        # html_params escapes every value and the options are WTForms' own rendering, as in Select itself
        return Markup(f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")  # noqa: S704
