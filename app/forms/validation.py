"""Swedish rules for the digital forms, as plain functions over the order's JSON shape.

Problems are returned as ``{"employee.personnummer": "message", ...}`` (field paths), warnings as a list of
messages: a warning asks for a second look but never blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

EMPLOYMENT_FORMS = ("tillsvidare", "provanstallning", "sarskild_visstid", "vikariat", "sasong")
FIXED_TERM_FORMS = ("provanstallning", "sarskild_visstid", "vikariat", "sasong")
PAY_TYPES = ("monthly", "hourly")
MONTHLY_BOUNDS = (10_000, 200_000)
HOURLY_BOUNDS = (100, 1_000)
FULL_TIME_HOURS = 40.0
PROBATION_MAX_MONTHS = 6
SVA_LIMIT_DAYS = 365  # LAS 5 a §: särskild visstid becomes tillsvidare after more than 12 months in five years
END_REASONS = ("own_resignation", "employer_notice", "retirement", "fixed_term_ends", "agreement")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
PNR_RE = re.compile(r"^(\d{2})?(\d{2})(\d{2})(\d{2})([-+]?)(\d{3})(\d)$")


@dataclass
class Result:
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(digits):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def parse_personnummer(raw: str, today: date | None = None) -> tuple[str, bool]:
    """``(YYYYMMDD-NNNN, is_samordningsnummer)`` for a valid personnummer or samordningsnummer.

    Accepts 10 or 12 digits with or without ``-`` or ``+`` (``+`` marks 100 years or older in the 10-digit
    form). Checks a real date (day + 60 for samordningsnummer) and the Luhn check digit. Raises ValueError
    with a message for the user."""
    today = today or datetime.now(STOCKHOLM).date()
    match = PNR_RE.match((raw or "").strip().replace(" ", ""))
    if not match:
        raise ValueError(_l("Write 10 or 12 digits, e.g. 19900101-1234."))
    century, yy, mm, dd, sign, serial, check = match.groups()
    if not luhn_ok(f"{yy}{mm}{dd}{serial}{check}"):
        raise ValueError(_l("The check digit does not match. Check the number."))
    day = int(dd)
    coordination = day > 60
    if coordination:
        day -= 60
    if century:
        year = int(century + yy)
    else:
        year = (today.year // 100) * 100 + int(yy)
        if year > today.year:
            year -= 100
        if sign == "+":
            year -= 100
    try:
        born = date(year, int(mm), day)
    except ValueError:
        raise ValueError(_l("The date in the number does not exist.")) from None
    if born > today:
        raise ValueError(_l("The date in the number is in the future."))
    return f"{born:%Y%m%d}-{serial}{check}", coordination


def mask_personnummer(normalized: str) -> str:
    """``19900101-1234`` -> ``19900101-****`` for lists."""
    return (normalized[:9] + "****") if len(normalized) >= 13 else "****"


def _get(data: dict, path: str) -> Any:
    node: Any = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _text(data: dict, path: str, result: Result, required: bool = True, max_length: int = 200) -> str:
    value = _get(data, path)
    text = str(value).strip() if value is not None else ""
    if required and not text:
        result.errors[path] = str(_l("This field is required."))
    elif len(text) > max_length:
        result.errors[path] = str(_l("At most %(n)s characters.", n=max_length))
    return text


def _date(data: dict, path: str, result: Result, required: bool = True) -> date | None:
    value = _get(data, path)
    if value in (None, ""):
        if required:
            result.errors[path] = str(_l("Give a date (YYYY-MM-DD)."))
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        result.errors[path] = str(_l("Give a date as YYYY-MM-DD."))
        return None


def _number(data: dict, path: str, result: Result, low: float, high: float, message) -> float | None:
    value = _get(data, path)
    if value in (None, ""):
        result.errors[path] = str(_l("This field is required."))
        return None
    try:
        number = float(str(value).replace(",", ".").replace(" ", ""))
    except ValueError:
        result.errors[path] = str(_l("Write a number."))
        return None
    if not low <= number <= high:
        result.errors[path] = str(message)
        return None
    return number


def _months_after(start: date, months: int) -> date:
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, min(day, start.day))
        except ValueError:
            continue
    return date(year, month, 28)


def _person(data: dict, result: Result, today: date | None) -> None:
    """Personnummer (or samordningsnummer), first and last name."""
    raw = _text(data, "employee.personnummer", result, max_length=20)
    if raw:
        try:
            parse_personnummer(raw, today)
        except ValueError as exc:
            result.errors["employee.personnummer"] = str(exc)
    _text(data, "employee.first_name", result, max_length=100)
    _text(data, "employee.last_name", result, max_length=100)


def _employee(data: dict, result: Result, today: date | None) -> None:
    _person(data, result, today)
    _text(data, "employee.address", result, max_length=200)
    email = _text(data, "employee.email", result, required=False, max_length=254)
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        result.errors["employee.email"] = str(_l("Enter a valid e-mail address, such as namn@kommun.se."))


def validate_employment_contract(data: dict, today: date | None = None) -> Result:
    """Every problem of an employment-contract order, with its field path, and the warnings."""
    result = Result()
    _employee(data, result, today)
    for path in ("position.title", "position.workplace", "position.unit", "position.cost_centre",
                 "position.manager"):
        _text(data, path, result)
    _text(data, "position.tasks", result, required=False, max_length=2000)

    form = _get(data, "employment.form")
    if form not in EMPLOYMENT_FORMS:
        result.errors["employment.form"] = str(_l("Choose a form of employment."))
    start = _date(data, "employment.start_date", result)
    end = _date(data, "employment.end_date", result, required=form in FIXED_TERM_FORMS)
    if form == "tillsvidare" and _get(data, "employment.end_date"):
        result.errors["employment.end_date"] = str(_l("A tillsvidareanställning has no end date."))
    if start and end and end < start:
        result.errors["employment.end_date"] = str(_l("The end date must be on or after the start date."))
    if form == "provanstallning" and start and end and end > _months_after(start, PROBATION_MAX_MONTHS):
        result.errors["employment.end_date"] = str(_l("A provanställning can last at most six months."))
    if form == "vikariat":
        _text(data, "employment.substitute_for", result, max_length=200)
    extent = _number(data, "employment.extent_percent", result, 1, 100, _l("Give the extent as 1 to 100 percent."))
    hours = _number(data, "employment.weekly_hours", result, 1, 48,
                    _l("Give the weekly working hours as 1 to 48."))
    if extent and hours and abs(hours - FULL_TIME_HOURS * extent / 100) > 4:
        result.warnings.append(str(_l("%(hours)s hours a week is not %(extent)s %% of full time (%(full)s hours). "
                                      "Check the extent and the hours.", hours=f"{hours:g}", extent=f"{extent:g}",
                                      full=f"{FULL_TIME_HOURS:g}")))
    if form == "sarskild_visstid" and start and end:
        earlier = _get(data, "employment.earlier_fixed_term_days") or 0
        try:
            earlier = int(earlier)
        except (TypeError, ValueError):
            result.errors["employment.earlier_fixed_term_days"] = str(_l("Write a number of days."))
            earlier = 0
        total = earlier + (end - start).days + 1
        if total > SVA_LIMIT_DAYS:
            result.warnings.append(str(_l(
                "Together with earlier fixed-term periods this makes %(days)s days within five years. After more "
                "than 12 months a särskild visstidsanställning becomes a tillsvidareanställning (LAS 5 a §).",
                days=total)))

    pay_type = _get(data, "pay.type")
    if pay_type not in PAY_TYPES:
        result.errors["pay.type"] = str(_l("Choose monthly salary or hourly wage."))
    elif pay_type == "monthly":
        _number(data, "pay.amount", result, *MONTHLY_BOUNDS,
                _l("A monthly salary between %(low)s and %(high)s kronor.", low="10 000", high="200 000"))
    else:
        _number(data, "pay.amount", result, *HOURLY_BOUNDS,
                _l("An hourly wage between %(low)s and %(high)s kronor.", low="100", high="1 000"))
    _text(data, "pay.pay_day", result, max_length=100)
    _text(data, "pay.collective_agreement", result, max_length=200)
    _text(data, "pay.pension", result, max_length=200)
    _text(data, "terms.notice", result, required=False, max_length=2000)
    _text(data, "terms.other", result, required=False, max_length=4000)
    return result


def validate_employment_end(data: dict, today: date | None = None) -> Result:
    """The order to end an employment (avslut av anställning)."""
    result = Result()
    _person(data, result, today)
    _text(data, "position.title", result)
    _text(data, "position.unit", result)
    _text(data, "position.manager", result)
    if _get(data, "end.reason") not in END_REASONS:
        result.errors["end.reason"] = str(_l("Choose why the employment ends."))
    notice = _date(data, "end.notice_date", result, required=False)
    last = _date(data, "end.last_day", result)
    if notice and last and last < notice:
        result.errors["end.last_day"] = str(_l("The last day cannot be before the notice was given."))
    _text(data, "end.comment", result, required=False, max_length=2000)
    return result
