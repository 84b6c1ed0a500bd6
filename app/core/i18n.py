"""Language selection: an explicit choice (cookie, then the user's profile), else the configured default."""

from __future__ import annotations

from flask import current_app, has_request_context, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

LANGUAGES = {"sv": "Svenska", "en": "English"}
LANGUAGE_COOKIE = "lotsen_lang"


def select_locale() -> str:
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in LANGUAGES:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def localized(sv: str, en: str) -> str:
    """Pick the Swedish or English form of a data value (such as a support function's name)."""
    return en if current_language() == "en" else sv


class BilingualName:
    """Model mixin: a name in Swedish and English, shown in the reader's language."""

    name_sv: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))

    @property
    def name(self) -> str:
        return localized(self.name_sv, self.name_en)
