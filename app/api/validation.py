"""What the API accepts, checked at the edge before any service runs: the JSON body, its fields and the query
parameters. Every refusal is an ``ApiError`` that the blueprint answers as ``{"error": {"code", "message"}}``.

These rules and ``openapi.json`` describe the same thing; tests/test_api_schemathesis.py holds them together.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import request

from app.core.text import is_one_line
from app.forms.validation import EMPLOYMENT_FORMS, END_REASONS, PAY_TYPES

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 8  # the deepest accepted body (a form order) is two levels
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
DIGITS = re.compile(r"[0-9]{1,9}")


class ApiError(Exception):
    """A request the API refuses; ``extra`` (e.g. ``fields``) goes into the error object."""

    def __init__(self, status: int, code: str, message: str, **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


# --- the JSON body -----------------------------------------------------------------------------------------
def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _too_deep_or_unencodable(data: Any) -> str | None:
    """Why a parsed body cannot be taken (nested too deeply, unpaired surrogates in a string), or None."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"The JSON is nested too deeply (at most {MAX_DEPTH} levels)."
        if isinstance(node, dict):
            stack += [(key, depth) for key in node]
            stack += [(value, depth + 1) for value in node.values()]
        elif isinstance(node, list):
            stack += [(value, depth + 1) for value in node]
        elif isinstance(node, str):
            try:
                node.encode("utf-8")
            except UnicodeEncodeError:
                return "The JSON contains text that is not valid Unicode (an unpaired surrogate)."
    return None


def json_object() -> dict[str, Any]:
    """The request's body as a JSON object: 415 unless sent as application/json, 413 when too large, 400 when
    empty, not JSON, not an object or nested too deeply."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
    request.max_content_length = MAX_BODY_BYTES  # werkzeug answers 413 beyond this
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise ApiError(400, "bad_request", "The body is empty: send a JSON object.")
    try:
        data = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite)
    except RecursionError:
        raise ApiError(400, "bad_request", f"The JSON is nested too deeply (at most {MAX_DEPTH} levels).") from None
    except ValueError:  # also UnicodeDecodeError
        raise ApiError(400, "bad_request", "The body is not valid JSON.") from None
    problem = _too_deep_or_unencodable(data)
    if problem:
        raise ApiError(400, "bad_request", problem)
    if not isinstance(data, dict):
        raise ApiError(400, "bad_request", "The body must be a JSON object.")
    return data


# --- fields ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Field:
    """One field of a body. ``kind``: ``line`` (one line of text), ``text`` (several lines), ``date``
    (YYYY-MM-DD), ``number``, ``integer``, ``boolean`` or ``choice`` (checked by the form's own rules)."""

    kind: str
    max_length: int = 0
    required: bool = False  # must be present and not blank (the case body; forms say it themselves)
    nullable: bool = False
    pattern: re.Pattern | None = None


def _problem(field: Field, value: Any) -> str | None:
    if value is None:
        return None if field.nullable else ("required" if field.required else "must not be null")
    if field.kind == "choice":
        return None
    if field.kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if field.kind in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be {'an integer' if field.kind == 'integer' else 'a number'}"
        if field.kind == "integer" and isinstance(value, float) and not value.is_integer():
            return "must be an integer"
        return None
    if not isinstance(value, str):
        return "must be a string"
    if "\x00" in value:
        return "must not contain NUL characters"
    if field.kind == "line" and not is_one_line(value):
        return "must be one line without control characters"
    if field.max_length and len(value) > field.max_length:
        return f"at most {field.max_length} characters"
    if field.required and not value.strip():
        return "required"
    if field.kind == "date" and value:
        try:
            date.fromisoformat(value)
        except ValueError:
            return "must be a date (YYYY-MM-DD)"
        if not ISO_DATE.fullmatch(value):
            return "must be a date (YYYY-MM-DD)"
    if field.pattern is not None and value and not field.pattern.fullmatch(value):
        return "has the wrong format"
    return None


def check_fields(data: dict[str, Any], fields: dict[str, Field], prefix: str = "") -> dict[str, str]:
    """Problems per field path: unknown fields, missing required ones, wrong types, NUL, too long."""
    problems = {f"{prefix}{key}": "unknown field" for key in data if key not in fields}
    for key, field in fields.items():
        if key not in data:
            if field.required:
                problems[f"{prefix}{key}"] = "required"
            continue
        problem = _problem(field, data[key])
        if problem:
            problems[f"{prefix}{key}"] = problem
    return problems


def checked(data: dict[str, Any], fields: dict[str, Field]) -> dict[str, Any]:
    """``data`` when every field is right, else 422 naming each wrong field."""
    problems = check_fields(data, fields)
    if problems:
        raise ApiError(422, "invalid", "Some fields are wrong: " + ", ".join(sorted(problems)) + ".",
                       fields=problems)
    return data


CASE = {
    "subject": Field("line", 200, required=True),
    "description": Field("text", 20_000, required=True),
    "token": Field("line", 64),
}

_TEXT = Field("text", 200)
_OPTIONAL_TEXT = Field("text", 200, nullable=True)
_LONG_TEXT = Field("text", 2000, nullable=True)
_PERSON = {
    # a dash from a word processor is a dash; empty when the employee has no Swedish identity number yet
    "personnummer": Field("text", 13, nullable=True,
                          pattern=re.compile("([0-9]{2})?[0-9]{6}[-+\u2010-\u2014\u2212\ufe63\uff0d]?[0-9]{4}")),
    "no_identity_number": Field("boolean", nullable=True),
    "birth_date": Field("date", nullable=True),
    "first_name": Field("text", 100),
    "last_name": Field("text", 100),
}
FORM_SECTIONS: dict[str, dict[str, dict[str, Field]]] = {
    "employment-contract": {
        "employee": {**_PERSON, "address": _TEXT,
                     "email": Field("text", 254, nullable=True,
                                    pattern=re.compile(r"[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+"))},
        "position": {"title": _TEXT, "tasks": Field("text", 2000, nullable=True), "workplace": _OPTIONAL_TEXT,
                     "workplace_varies": Field("boolean", nullable=True), "unit": _TEXT, "cost_centre": _TEXT,
                     "manager": _TEXT},
        "employment": {"form": Field("choice"), "start_date": Field("date"),
                       "end_date": Field("date", nullable=True), "end_condition": _OPTIONAL_TEXT,
                       "substitute_for": _OPTIONAL_TEXT, "extent_percent": Field("number"),
                       "weekly_hours": Field("number"), "earlier_fixed_term_days": Field("integer", nullable=True)},
        "pay": {"type": Field("choice"), "amount": Field("number"), "supplements": _LONG_TEXT,
                "pay_day": Field("text", 100), "pay_method": _OPTIONAL_TEXT, "collective_agreement": _TEXT,
                "pension": _OPTIONAL_TEXT, "pension_institution": _OPTIONAL_TEXT},
        "terms": {"notice": _LONG_TEXT, "overtime": _LONG_TEXT, "schedule_notice": _LONG_TEXT,
                  "training": _LONG_TEXT, "other": Field("text", 4000, nullable=True)},
    },
    "employment-end": {
        "employee": _PERSON,
        "position": {"title": _TEXT, "unit": _TEXT, "manager": _TEXT},
        "end": {"reason": Field("choice"), "notice_date": Field("date", nullable=True), "last_day": Field("date"),
                "comment": Field("text", 2000, nullable=True)},
    },
}
# the choices are the forms' own; listed here so the spec test can compare them
FORM_CHOICES = {"employment.form": EMPLOYMENT_FORMS, "pay.type": PAY_TYPES, "end.reason": END_REASONS}


def checked_order(slug: str, data: dict[str, Any]) -> dict[str, Any]:
    """An order's body in its form's shape (sections of typed fields, nothing else), else 422 per field path.
    Whether the values make a valid order is the form's own rule (app/forms/validation.py)."""
    sections = FORM_SECTIONS[slug]
    problems = {key: "unknown section" for key in data if key not in sections}
    for name, fields in sections.items():
        if name not in data:
            continue  # a missing section: the form names its missing fields
        section = data[name]
        if not isinstance(section, dict):
            problems[name] = "must be an object"
            continue
        problems.update(check_fields(section, fields, prefix=f"{name}."))
    if problems:
        raise ApiError(422, "invalid", "The order has problems.", fields=problems, warnings=[])
    return data


# --- query parameters --------------------------------------------------------------------------------------
def arg(name: str, *, default: str | None = None, choices: tuple[str, ...] = (), max_length: int = 0,
        pattern: re.Pattern | None = None) -> str | None:
    """One query parameter, given at most once: 400 when it is repeated, not one of ``choices``, too long,
    of the wrong form or holds control characters."""
    values = request.args.getlist(name)
    if not values:
        return default
    if len(values) > 1:
        raise _bad_parameter(name, "give it once")
    value = values[0]
    if choices and value not in choices:
        raise _bad_parameter(name, "one of " + ", ".join(choices))
    if not is_one_line(value):
        raise _bad_parameter(name, "must be one line without control characters")
    if max_length and len(value) > max_length:
        raise _bad_parameter(name, f"at most {max_length} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise _bad_parameter(name, "has the wrong format")
    return value


def int_arg(name: str, default: int, low: int, high: int) -> int:
    value = arg(name)
    if value is None:
        return default
    if not DIGITS.fullmatch(value) or not low <= int(value) <= high:
        raise _bad_parameter(name, f"a whole number from {low} to {high}")
    return int(value)


def _bad_parameter(name: str, problem: str) -> ApiError:
    return ApiError(400, "invalid_parameter", f"The parameter {name!r} is wrong: {problem}.", fields={name: problem})
