"""Swedish rules for the digital forms, as plain functions over the order's JSON shape.

Problems are returned as ``{"employee.personnummer": "message", ...}`` (field paths), warnings as a list of
messages: a warning asks for a second look but never blocks.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from app.forms import law
from app.forms.identity import IdentityNumber, age_on, parse_birth_date, parse_identity_number

EMPLOYMENT_FORMS = ("tillsvidare", "provanstallning", "sarskild_visstid", "vikariat", "sasong", "visstid_69")
FIXED_TERM_FORMS = ("provanstallning", "sarskild_visstid", "vikariat", "sasong", "visstid_69")
PAY_TYPES = ("monthly", "hourly")
MONTHLY_BOUNDS = (10_000, 200_000)
HOURLY_BOUNDS = (100, 1_000)
FULL_TIME_HOURS = 40.0
END_REASONS = ("own_resignation", "employer_notice", "retirement", "fixed_term_ends", "agreement")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
MIN_AGE = 13  # the youngest anyone may be employed for light work (Arbetsmiljöverket, AFS 2012:3)


@dataclass
class Result:
    errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    rule_warnings: list[str] = field(default_factory=list)  # conversion rules passed: HR must acknowledge
    counts: list[law.Count] = field(default_factory=list)  # the days each conversion rule counted

    @property
    def ok(self) -> bool:
        return not self.errors


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


def _person(data: dict, result: Result, today: date) -> date | None:
    """Personnummer or samordningsnummer (or, for someone who has neither yet, the birth date), first and last
    name. Returns the birth date when it is known."""
    born = None
    if _get(data, "employee.no_identity_number"):
        if _text(data, "employee.personnummer", result, required=False, max_length=20):
            result.errors["employee.personnummer"] = str(_l(
                "Leave the number empty, or untick that the employee has no Swedish identity number."))
        raw = _get(data, "employee.birth_date")
        if raw in (None, ""):
            result.errors["employee.birth_date"] = str(_l("Give the birth date (YYYY-MM-DD)."))
        else:
            try:
                born = parse_birth_date(raw, today)
            except ValueError as exc:
                result.errors["employee.birth_date"] = str(exc)
    elif raw := _text(data, "employee.personnummer", result, max_length=20):
        try:
            number = parse_identity_number(raw, today)
        except ValueError as exc:
            result.errors["employee.personnummer"] = str(exc)
        else:
            born = number.birth_date
            if number.age_on(today) < MIN_AGE:
                result.errors["employee.personnummer"] = _too_young(number, today)
    if born is not None and age_on(born, today) < MIN_AGE and "employee.personnummer" not in result.errors:
        result.errors["employee.birth_date"] = str(_l("The birth date gives the age %(age)s. Check the date.",
                                                      age=age_on(born, today)))
    _text(data, "employee.first_name", result, max_length=100)
    _text(data, "employee.last_name", result, max_length=100)
    return born


def _too_young(number: IdentityNumber, today: date) -> str:
    message = str(_l("The number gives the age %(age)s. Check the number.", age=number.age_on(today)))
    if number.written_short and number.sign != "+":
        message += " " + str(_l("Is the person 100 years or older? Then write + instead of - "
                                "(for example %(example)s).", example=f"{number.digits[2:8]}+{number.digits[8:]}"))
    return message


def identity_of(employee: dict, today: date) -> IdentityNumber | None:
    """The employee's valid identity number, or None (none given, or not valid)."""
    try:
        return parse_identity_number(str(employee.get("personnummer") or ""), today)
    except ValueError:
        return None


def _employee(data: dict, result: Result, today: date) -> date | None:
    born = _person(data, result, today)
    _text(data, "employee.address", result, max_length=200)
    email = _text(data, "employee.email", result, required=False, max_length=254)
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        result.errors["employee.email"] = str(_l("Enter a valid e-mail address, such as namn@kommun.se."))
    return born


def validate_employment_contract(data: dict, today: date | None = None, earlier: list[law.Period] = ()) -> Result:
    """Every problem of an employment-contract order, with its field path, and the warnings. ``earlier``:
    the person's fixed-term employments from Lotsen's own approved orders, for the conversion rules."""
    today = today or datetime.now(STOCKHOLM).date()
    result = Result()
    born = _employee(data, result, today)
    for path in ("position.title", "position.unit", "position.cost_centre", "position.manager"):
        _text(data, path, result)
    _text(data, "position.workplace", result, required=not _get(data, "position.workplace_varies"))
    _text(data, "position.tasks", result, required=False, max_length=2000)

    form = _get(data, "employment.form")
    if form not in EMPLOYMENT_FORMS:
        result.errors["employment.form"] = str(_l("Choose a form of employment."))
    start = _date(data, "employment.start_date", result)
    condition = _text(data, "employment.end_condition", result, required=False, max_length=200)
    if form == "vikariat" and condition:
        end = _date(data, "employment.end_date", result, required=False)
    else:
        end = _date(data, "employment.end_date", result, required=form in FIXED_TERM_FORMS)
    if condition and form != "vikariat":
        result.errors["employment.end_condition"] = str(_l("Only a vikariat can end on a condition."))
    if form == "tillsvidare" and _get(data, "employment.end_date"):
        result.errors["employment.end_date"] = str(_l("A tillsvidareanställning has no end date."))
    if start and end and end < start:
        result.errors["employment.end_date"] = str(_l("The end date must be on or after the start date."))
    if form == "provanstallning" and start and end and end > law.probation_last_day(start):
        result.errors["employment.end_date"] = str(_l(
            "A provanställning can last at most six months: from %(start)s, the last day is %(last)s.",
            start=start.isoformat(), last=law.probation_last_day(start).isoformat()))
    if form == "vikariat":
        _text(data, "employment.substitute_for", result, max_length=200)
    if born and start and start < born:
        result.errors["employment.start_date"] = str(_l("The employment cannot start before the employee was born."))
    elif form == "visstid_69" and born and start and age_on(born, start) < law.LAS_AGE:
        result.errors["employment.form"] = str(_l(
            "Fixed-term employment from age 69 needs an employee who has turned 69 by the start (LAS 5 § 4); "
            "on %(start)s the employee is %(age)s.", start=start.isoformat(), age=age_on(born, start)))
    extent = _number(data, "employment.extent_percent", result, 1, 100, _l("Give the extent as 1 to 100 percent."))
    hours = _number(data, "employment.weekly_hours", result, 1, 48,
                    _l("Give the weekly working hours as 1 to 48."))
    if extent and hours and abs(hours - FULL_TIME_HOURS * extent / 100) > 4:
        result.warnings.append(str(_l("%(hours)s hours a week is not %(extent)s %% of full time (%(full)s hours). "
                                      "Check the extent and the hours.", hours=format_decimal(hours, "#,##0.##"),
                                      extent=format_decimal(extent, "#,##0.##"),
                                      full=format_decimal(FULL_TIME_HOURS, "#,##0.##"))))
    reported = _days_elsewhere(data, result)
    if form in law.COUNTED_FORMS and start and end and end >= start:
        _conversion(form, start, end, reported, list(earlier), result)

    _pay(data, result, born)
    for path in ("terms.notice", "terms.overtime", "terms.schedule_notice", "terms.training"):
        _text(data, path, result, required=False, max_length=2000)
    _text(data, "terms.other", result, required=False, max_length=4000)
    return result


def _days_elsewhere(data: dict, result: Result) -> int:
    """Fixed-term days the manager reports from before Lotsen or from other parts of the employer."""
    value = _get(data, "employment.earlier_fixed_term_days") or 0
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if not 0 <= days <= law.FIVE_YEARS_DAYS:
        result.errors["employment.earlier_fixed_term_days"] = str(_l(
            "Write a number of days from 0 to %(most)s.", most=law.FIVE_YEARS_DAYS))
        return 0
    return days


def _conversion(form: str, start: date, end: date, reported: int, earlier: list[law.Period],
                result: Result) -> None:
    new = law.Period(form, start, end, "")
    if reported:  # reported days are of the same form, ending the day before this one begins
        earlier = [*earlier, law.Period(form, start - timedelta(days=reported), start - timedelta(days=1),
                                        "reported")]
    result.counts = law.conversion_counts(new, earlier)
    for count in result.counts:
        if count.passed:
            result.rule_warnings.append(law.count_text(count))
            result.warnings.append(law.count_text(count))


def _pay(data: dict, result: Result, born: date | None) -> None:
    pay_type = _get(data, "pay.type")
    if pay_type not in PAY_TYPES:
        result.errors["pay.type"] = str(_l("Choose monthly salary or hourly wage."))
    elif pay_type == "monthly":
        _number(data, "pay.amount", result, *MONTHLY_BOUNDS,
                _l("A monthly salary between %(low)s and %(high)s kronor.", low="10 000", high="200 000"))
    else:
        _number(data, "pay.amount", result, *HOURLY_BOUNDS,
                _l("An hourly wage between %(low)s and %(high)s kronor.", low="100", high="1 000"))
    _text(data, "pay.supplements", result, required=False, max_length=2000)
    _text(data, "pay.pay_day", result, max_length=100)
    _text(data, "pay.pay_method", result, required=False, max_length=200)
    _text(data, "pay.collective_agreement", result, max_length=200)
    _text(data, "pay.pension_institution", result, required=False, max_length=200)
    plan = _text(data, "pay.pension", result, required=False, max_length=200)
    if born and plan:
        expected = law.pension_plan(born)
        named = [p for p in law.PENSION_PLANS if p.lower() in plan.lower()]
        if named and expected not in named:
            result.errors["pay.pension"] = str(_l(
                "Born %(year)s: the pension plan is %(plan)s (AKAP-KR for those born 1986 or later, KAP-KL "
                "before). Leave the field empty to have it filled in.", year=born.year, plan=expected))


def validate_employment_end(data: dict, today: date | None = None, earlier: list[law.Period] = ()) -> Result:
    """The order to end an employment (avslut av anställning)."""
    today = today or datetime.now(STOCKHOLM).date()
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


def normalized(data: dict, today: date | None = None) -> dict:
    """A copy of a valid order in the one stored form: the identity number as ``YYYYMMDD-NNNC`` (a
    samordningsnummer as such), no birth date beside a number, the pension plan by birth year and its
    institution, and the notice periods of LAS when left empty. A new object, so the change is saved."""
    today = today or datetime.now(STOCKHOLM).date()
    data = copy.deepcopy(data)
    employee = data.setdefault("employee", {})
    number = identity_of(employee, today)
    born = None
    if number is not None:
        employee["personnummer"] = number.normal
        employee.pop("birth_date", None)
        employee.pop("no_identity_number", None)
        born = number.birth_date
    elif employee.get("no_identity_number"):
        employee["personnummer"] = ""
        employee["no_identity_number"] = True
        born = parse_birth_date(employee.get("birth_date"), today)
        employee["birth_date"] = born.isoformat()
    if "pay" in data and born is not None:
        pay = data["pay"]
        if not (pay.get("pension") or "").strip():
            pay["pension"] = law.pension_plan(born)
        if not (pay.get("pension_institution") or "").strip():
            pay["pension_institution"] = law.PENSION_INSTITUTION
    if "terms" in data or "employment" in data:
        terms = data.setdefault("terms", {})
        if not (terms.get("notice") or "").strip():  # a text the manager wrote is kept, even a vague one
            terms["notice"] = law.notice_text((data.get("employment") or {}).get("form"))
    return data


def identity_text(employee: dict, today: date | None = None) -> str:
    """The employee's identity as shown on pages and in documents (in the current language)."""
    today = today or datetime.now(STOCKHOLM).date()
    number = identity_of(employee, today)
    if number is not None:
        return number.normal + (" " + str(_l("(samordningsnummer)")) if number.is_coordination else "")
    if employee.get("no_identity_number"):
        return str(_l("No Swedish identity number yet, born %(date)s", date=employee.get("birth_date") or "?"))
    return str(employee.get("personnummer") or "–")
