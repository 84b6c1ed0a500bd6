"""Language selection: an explicit choice (cookie, then the user's profile), else the configured default."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.support import NullTranslations
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import Domain, format_date, format_datetime, format_decimal, get_locale, get_timezone, to_user_timezone
from flask_login import current_user
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

LANGUAGES = {"sv": "Svenska", "en": "English"}
K = TypeVar("K")
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


def _babel_state() -> Any:
    """Flask-Babel's per-request state (None outside an application context): its ``babel_locale``, once chosen, is
    what the caches below are keyed on."""
    return g.get("_flask_babel") if has_app_context() else None


class RequestDomain(Domain):
    """Flask-Babel's message domain, with the translations looked up once per request and locale.

    Flask-Babel walks ``g`` five times per lookup and a page translates about a hundred strings (templates,
    labels, lazy form texts): about 1 ms of a 4 ms page. The cache sits beside Flask-Babel's own per-request
    state and is keyed on the locale object it holds, so ``force_locale`` (mails in the recipient's
    language) still switches language.
    """

    def get_translations(self) -> NullTranslations:
        state = _babel_state()
        locale = getattr(state, "babel_locale", None)
        if locale is None:  # outside a request, or not chosen yet: Flask-Babel chooses (and remembers) it
            return super().get_translations()
        cached = getattr(state, "lotsen_translations", None)
        if cached is None or cached[0] is not locale:
            cached = state.lotsen_translations = (locale, super().get_translations())
        return cached[1]


SHORT_DATE, SHORT_DATETIME = "yyyy-MM-dd", "yyyy-MM-dd HH:mm"  # Swedish style in both languages, never 11/30/26


def datetime_format(value: datetime | None = None, format: str | None = None, rebase: bool = True) -> str:
    """Flask-Babel's ``datetimeformat`` filter, with the short form (ISO, the same in every language) written
    without Babel's locale data: a list page shows a date per row, and Babel's formatter costs 30 µs each. The
    short form moves the time to the reader's zone with the standard library's ``zoneinfo`` (in C) rather
    than pytz's (in Python, 40 µs a row of a queue); the same rules, from the same time zone database."""
    if format == "short" and isinstance(value, datetime):
        if rebase:
            zone = _zone(str(get_timezone()))
            value = to_user_timezone(value) if zone is None else (
                value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)
        return value.strftime("%Y-%m-%d %H:%M")
    return format_datetime(value, format, rebase)


@cache
def _zone(name: str) -> ZoneInfo | None:
    """The zone of that name, None where the system has no time zone database (pytz's own is then used)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


DATES_KEPT = 4096
_dates: dict[tuple, str] = {}


def date_format(value: date | datetime | None = None, format: str | None = None, rebase: bool = True) -> str:
    """Flask-Babel's ``dateformat`` filter, remembering the last few thousand dates per language, format and time
    zone (the start page lists the same articles' dates to every reader)."""
    if value is None:
        return format_date(value, format, rebase)
    key = (value, format, rebase, current_language(), str(get_timezone()))
    found = _dates.get(key)
    if found is None:
        if len(_dates) >= DATES_KEPT:
            _dates.clear()
        found = _dates[key] = format_date(value, format, rebase)
    return found


def percent(share: float | None, digits: int = 1) -> str:
    """``0.256`` -> ``25,6 %`` in Swedish, ``25.6 %`` in English."""
    if share is None:
        return "–"
    return format_decimal(share * 100, format="#,##0." + "#" * digits) + "\u00a0%"


def init_app(app: Flask) -> None:
    """Flask-Babel with ``RequestDomain``, in Python code and in templates (after ``babel.init_app``); short
    dates as ISO in every language; the ``percent`` and ``number`` filters."""
    babel_state = app.extensions["babel"]
    babel_state.instance.date_formats["date.short"] = SHORT_DATE
    babel_state.instance.date_formats["datetime.short"] = SHORT_DATETIME
    app.jinja_env.filters["dateformat"] = date_format
    app.jinja_env.filters["datetimeformat"] = datetime_format
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["number"] = lambda value, pattern="#,##0.##": format_decimal(value, format=pattern)
    domain = RequestDomain(domain=app.extensions["babel"].default_domain)
    app.extensions["babel"].instance.domain_instance = domain
    def translate(text: str) -> str:
        return domain.get_translations().ugettext(text)

    app.jinja_env.translate_with(_template_language, translate)  # fixed texts translated as templates compile
    app.jinja_env.install_gettext_callables(
        gettext=translate,
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def _template_language() -> str | None:
    """The language a template is rendered in, None outside an application context (no translation)."""
    return current_language() if has_app_context() else None


_labels: dict[tuple[str, int], dict] = {}


def translated(labels: Mapping[K, Any]) -> Mapping[K, str]:
    """A module's table of lazily translated labels (``_l``), in the current language: translated once per process
    and language, not once per use (a queue page shows a status, a priority and a view name per row)."""
    key = (current_language(), id(labels))
    found = _labels.get(key)
    if found is None:
        found = _labels[key] = {name: str(label) for name, label in labels.items()}
    return found


def current_language() -> str:
    """The reader's language code. Asked some thirty times per page (labels, names, templates): the code is kept
    beside Flask-Babel's per-request locale and follows it (``force_locale`` switches it for a mail)."""
    state = _babel_state()
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    kept = getattr(state, "lotsen_language", None)
    if kept is None or kept[0] is not locale:
        kept = state.lotsen_language = (locale, str(locale))
    return kept[1]


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
