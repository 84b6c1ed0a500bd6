"""The Swedish rules, table by table."""

import copy
import json
from datetime import date
from pathlib import Path

import pytest

from app.forms.validation import (
    mask_personnummer,
    parse_personnummer,
    validate_employment_contract,
    validate_employment_end,
)

TODAY = date(2026, 11, 22)
EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "docs/examples/employment-contract.json").read_text())


def order(**changes):
    data = copy.deepcopy(EXAMPLE)
    for path, value in changes.items():
        section, key = path.split("__")
        data[section][key] = value
    return data


@pytest.mark.parametrize(("raw", "normalized", "coordination"), [
    ("19900101-2302", "19900101-2302", False),
    ("199001012302", "19900101-2302", False),
    ("900101-2302", "19900101-2302", False),
    ("9001012302", "19900101-2302", False),
    ("900101+2302", "18900101-2302", False),  # "+": a hundred years or older
    ("19900161-2390", "19900101-2390", True),  # samordningsnummer: day + 60
])
def test_valid_personnummer(raw, normalized, coordination):
    assert parse_personnummer(raw, TODAY) == (normalized, coordination)


@pytest.mark.parametrize(("raw", "message"), [
    ("19900101-2303", "check digit"),
    ("19900230-2306", "does not exist"),
    ("20300101-2305", "future"),
    ("1990-01-01", "10 or 12 digits"),
    ("abc", "10 or 12 digits"),
    ("", "10 or 12 digits"),
])
def test_invalid_personnummer(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_personnummer(raw, TODAY)


def test_masking():
    assert mask_personnummer("19900101-2302") == "19900101-****"


def test_the_example_order_is_valid():
    assert validate_employment_contract(EXAMPLE, TODAY).errors == {}


@pytest.mark.parametrize(("changes", "path", "message"), [
    ({"employee__first_name": ""}, "employee.first_name", "required"),
    ({"employee__email": "inte-en-adress"}, "employee.email", "valid e-mail"),
    ({"position__cost_centre": " "}, "position.cost_centre", "required"),
    ({"employment__form": "fast"}, "employment.form", "form of employment"),
    ({"employment__form": "tillsvidare"}, "employment.end_date", "no end date"),
    ({"employment__end_date": ""}, "employment.end_date", "date"),
    ({"employment__end_date": "2026-12-01"}, "employment.end_date", "on or after the start"),
    ({"employment__end_date": "30/6 2027"}, "employment.end_date", "YYYY-MM-DD"),
    ({"employment__form": "provanstallning", "employment__end_date": "2027-07-05"}, "employment.end_date",
     "at most six months"),
    ({"employment__form": "vikariat", "employment__substitute_for": ""}, "employment.substitute_for", "required"),
    ({"employment__extent_percent": 0}, "employment.extent_percent", "1 to 100"),
    ({"employment__extent_percent": 120}, "employment.extent_percent", "1 to 100"),
    ({"employment__weekly_hours": 60}, "employment.weekly_hours", "1 to 48"),
    ({"pay__type": "weekly"}, "pay.type", "monthly salary or hourly"),
    ({"pay__amount": -5}, "pay.amount", "between"),
    ({"pay__amount": 900_000}, "pay.amount", "between"),
    ({"pay__type": "hourly", "pay__amount": 27500}, "pay.amount", "hourly wage between"),
    ({"pay__amount": "mycket"}, "pay.amount", "number"),
    ({"pay__collective_agreement": ""}, "pay.collective_agreement", "required"),
])
def test_rules_name_the_field(changes, path, message):
    result = validate_employment_contract(order(**changes), TODAY)
    assert path in result.errors and message in result.errors[path]


def test_provanstallning_of_exactly_six_months_is_fine():
    result = validate_employment_contract(order(employment__form="provanstallning", employment__start_date="2027-01-04",
                                                employment__end_date="2027-07-04"), TODAY)
    assert "employment.end_date" not in result.errors


def test_tillsvidare_needs_no_end_date():
    assert validate_employment_contract(order(employment__form="tillsvidare", employment__end_date=None), TODAY).ok


def test_warnings_never_block():
    result = validate_employment_contract(order(employment__earlier_fixed_term_days=300), TODAY)
    assert result.ok and any("LAS 5 a" in w for w in result.warnings)
    result = validate_employment_contract(order(employment__extent_percent=50, employment__weekly_hours=40), TODAY)
    assert result.ok and any("of full time" in w for w in result.warnings)


def test_end_of_employment_rules():
    data = {"employee": {"personnummer": "19900101-2302", "first_name": "Åsa", "last_name": "Öberg"},
            "position": {"title": "Lärare", "unit": "Skolan", "manager": "Anna"},
            "end": {"reason": "own_resignation", "notice_date": "2027-01-10", "last_day": "2027-01-05"}}
    result = validate_employment_end(data, TODAY)
    assert "end.last_day" in result.errors
    data["end"]["last_day"] = "2027-04-10"
    assert validate_employment_end(data, TODAY).ok
