"""The Swedish rules, table by table."""

import copy
import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from app.forms import law
from app.forms.identity import parse_identity_number
from app.forms.validation import (
    normalized,
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


@pytest.mark.parametrize(("raw", "normal", "born", "coordination"), [
    ("19900101-2302", "19900101-2302", "1990-01-01", False),
    ("199001012302", "19900101-2302", "1990-01-01", False),
    ("900101-2302", "19900101-2302", "1990-01-01", False),
    ("9001012302", "19900101-2302", "1990-01-01", False),
    ("090527+1474", "19090527-1474", "1909-05-27", False),
    # a samordningsnummer keeps its day + 60: it is the number, the birth date is derived
    ("19730288-9931", "19730288-9931", "1973-02-28", True),
    ("7302889931", "19730288-9931", "1973-02-28", True),
    ("900101–2302", "19900101-2302", "1990-01-01", False),  # an en dash from Word or Outlook
    ("900101—2302", "19900101-2302", "1990-01-01", False),
    (" 900101 - 2302 ", "19900101-2302", "1990-01-01", False),
    # a 99-year-old with "-" whose birthday is still to come this year: last century, not "in the future"
    ("261215-1239", "19261215-1239", "1926-12-15", False),
])
def test_valid_identity_numbers(raw, normal, born, coordination):
    number = parse_identity_number(raw, TODAY)
    assert (number.normal, number.birth_date.isoformat(), number.is_coordination) == (normal, born, coordination)


@pytest.mark.parametrize(("raw", "message"), [
    ("19900101-2303", "check digit"),
    ("19900230-2306", "does not exist"),
    ("20300101-2305", "future"),
    ("1990-01-01", "10 or 12 digits"),
    ("abc", "10 or 12 digits"),
    ("", "10 or 12 digits"),
    ("900101-0009", "cannot be 000"),  # Skatteverket's serials are 001-999
    ("19570101+1230", "100 years or older"),  # a 12-digit number with "+" that is not 100
    ("900101+2302", "over 120"),  # "+" makes it 1890: mistyped
    ("１９９００１０１-２３０２", "10 or 12 digits"),  # digits of other scripts are not read as digits
])
def test_invalid_identity_numbers(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_identity_number(raw, TODAY)


def test_a_hundred_year_old_written_with_a_dash_gets_the_hint():
    """260527-1473 with "-" is a baby born this year; the rule says so and tells how to write 100 years."""
    result = validate_employment_contract(order(employee__personnummer="260527-1473"), TODAY)
    message = result.errors["employee.personnummer"]
    assert "age 0" in message and "write + instead of -" in message and "260527+1473" in message
    assert validate_employment_contract(order(employee__personnummer="260527+1473"), TODAY).ok


def test_normalising_keeps_the_samordningsnummer_and_makes_a_new_object():
    data = order(employee__personnummer="7302889931")
    stored = normalized(data, TODAY)
    assert stored is not data and stored["employee"] is not data["employee"]
    assert stored["employee"]["personnummer"] == "19730288-9931"
    assert data["employee"]["personnummer"] == "7302889931"  # what was given is not changed in place
    assert parse_identity_number(stored["employee"]["personnummer"], TODAY).is_coordination


def test_an_employee_without_an_identity_number_gives_a_birth_date():
    data = order(employee__personnummer="", employee__no_identity_number=True, employee__birth_date="1995-03-02")
    assert validate_employment_contract(data, TODAY).ok
    stored = normalized(data, TODAY)
    assert stored["employee"]["birth_date"] == "1995-03-02" and stored["pay"]["pension"] == "AKAP-KR"
    missing = validate_employment_contract(order(employee__personnummer="", employee__no_identity_number=True),
                                           TODAY)
    assert "birth date" in missing.errors["employee.birth_date"]
    both = validate_employment_contract({**data, "employee": {**data["employee"],
                                                              "personnummer": "19900101-2302"}}, TODAY)
    assert "Leave the number empty" in both.errors["employee.personnummer"]


@pytest.mark.parametrize(("number", "plan"), [
    ("19851231-1232", "KAP-KL"), ("19860101-1231", "AKAP-KR"), ("19900101-2302", "AKAP-KR"),
    ("19600101-1232", "KAP-KL")])
def test_the_pension_plan_follows_the_birth_year(number, plan):
    number = number[:-1] + next(c for c in "0123456789"
                                if _luhn(number[2:8] + number[9:12] + c))
    stored = normalized(order(employee__personnummer=number, pay__pension=""), TODAY)
    assert stored["pay"]["pension"] == plan and stored["pay"]["pension_institution"] == "KPA Pension"
    other = "KAP-KL" if plan == "AKAP-KR" else "AKAP-KR"
    result = validate_employment_contract(order(employee__personnummer=number, pay__pension=other), TODAY)
    assert plan in result.errors["pay.pension"]


def _luhn(digits):
    from app.forms.identity import luhn_ok
    return luhn_ok(digits)


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
    ({"employment__form": "provanstallning", "employment__end_date": "2027-07-04"}, "employment.end_date",
     "the last day is 2027-07-03"),
    ({"employment__form": "vikariat", "employment__end_date": None}, "employment.end_date", "date"),
    ({"employment__form": "tillsvidare", "employment__end_date": None, "employment__end_condition": "när Eva "
      "kommer tillbaka"}, "employment.end_condition", "Only a vikariat"),
    ({"employment__form": "visstid_69"}, "employment.form", "turned 69"),
    ({"employment__earlier_fixed_term_days": -3}, "employment.earlier_fixed_term_days", "from 0"),
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


@pytest.mark.parametrize(("start", "last"), [
    ("2027-01-04", "2027-07-03"), ("2027-08-31", "2028-02-28"), ("2027-09-01", "2028-02-29"),
    ("2027-03-31", "2027-09-29")])
def test_provanstallning_is_six_calendar_months(start, last):
    assert law.probation_last_day(date.fromisoformat(start)).isoformat() == last
    ok = order(employment__form="provanstallning", employment__start_date=start, employment__end_date=last)
    assert "employment.end_date" not in validate_employment_contract(ok, TODAY).errors


def test_a_vikariat_may_end_on_a_condition():
    data = order(employment__form="vikariat", employment__end_date=None, employment__substitute_for="Eva Ek",
                 employment__end_condition="till dess att Eva Ek återgår i tjänst")
    assert validate_employment_contract(data, TODAY).ok
    assert law.requirements_met(normalized(data, TODAY))["end"]


def test_fixed_term_from_69():
    old = order(employment__form="visstid_69", employee__personnummer="19570101-1230",
                employment__start_date="2027-01-04", employment__end_date="2027-12-31")
    assert validate_employment_contract(old, TODAY).ok


def test_tillsvidare_needs_no_end_date():
    assert validate_employment_contract(order(employment__form="tillsvidare", employment__end_date=None), TODAY).ok


def test_warnings_never_block():
    result = validate_employment_contract(order(employment__earlier_fixed_term_days=300), TODAY)
    assert result.ok and any("LAS 5 a" in w for w in result.warnings) and result.rule_warnings
    assert [(c.rule, c.days) for c in result.counts] == [("sva", 478), ("ab", 478)]
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


def _period(form, start, end, source="1"):
    return law.Period(form, date.fromisoformat(start), date.fromisoformat(end), source)


def test_the_chain_rule_counts_a_vikariat_between_two_sarskild_visstid():
    """Employments that follow each other within six months count together towards the 12 months of 5 a §."""
    earlier = [_period("sarskild_visstid", "2024-01-01", "2024-06-30"),
               _period("vikariat", "2024-09-01", "2025-02-28", "2")]
    new = _period("sarskild_visstid", "2025-06-01", "2025-12-31", "")
    sva = law.conversion_counts(new, earlier)[0]
    assert sva.rule == "sva" and sva.days == 182 + 181 + 214 and sva.passed
    apart = [_period("vikariat", "2023-01-01", "2023-03-31", "2")]
    late = _period("sarskild_visstid", "2024-01-01", "2024-06-30", "")  # more than six months after the vikariat
    assert law.conversion_counts(late, apart)[0].days == 182


def test_vikariat_over_two_years_and_the_ab_rule():
    earlier = [_period("vikariat", "2022-01-01", "2023-12-31"), _period("sarskild_visstid", "2024-02-01",
                                                                         "2024-12-31", "2")]
    counts = {c.rule: c for c in law.conversion_counts(_period("vikariat", "2025-01-01", "2025-06-30", ""), earlier)}
    assert counts["vikariat"].passed and counts["vikariat"].days == 730 + 181
    assert counts["ab"].days == 730 + 335 + 181 and counts["ab"].passed
    # five years back from the new period's end: what ended before that window does not count
    old = [_period("vikariat", "2015-01-01", "2016-12-31")]
    assert law.conversion_counts(_period("vikariat", "2025-01-01", "2025-06-30", ""), old)[0].days == 181


def test_the_6c_checklist():
    assert law.missing_requirements(normalized(EXAMPLE, TODAY)) == []
    bare = normalized(order(pay__supplements="", terms__training="", terms__overtime=""), TODAY)
    assert [r.key for r in law.missing_requirements(bare)] == ["pay_components", "overtime", "training"]
    vague = normalized(order(terms__notice="Enligt AB och LAS."), TODAY)  # kept as written, but not enough
    assert vague["terms"]["notice"] == "Enligt AB och LAS." and "notice" in [
        r.key for r in law.missing_requirements(vague)]
    assert "LAS 11 §" in normalized(order(terms__notice=""), TODAY)["terms"]["notice"]


def test_every_written_form_of_thousands_of_numbers_gives_one_normal_form():
    """Numbers built the way Skatteverket builds them (a date, a serial 001-999, the Luhn digit; day + 60 for a
    samordningsnummer), each written in every form people use: all give the same normal form and birth date."""
    import random

    from app.forms.identity import luhn_ok

    rng = random.Random(13)  # noqa: S311 (test data, not secrets)
    for _ in range(3000):
        oldest = date(TODAY.year - 119, 1, 1)  # no one over 120 is employed
        born = oldest + timedelta(days=rng.randrange((TODAY - oldest).days))
        coordination = rng.random() < 0.3
        day = born.day + (60 if coordination else 0)
        serial = f"{rng.randrange(1, 1000):03d}"
        head = f"{born:%y%m}{day:02d}{serial}"
        check = next(c for c in "0123456789" if luhn_ok(head + c))
        normal = f"{born.year}{born:%m}{day:02d}-{serial}{check}"
        short_sign = "+" if TODAY.year - born.year - ((TODAY.month, TODAY.day) < (born.month, born.day)) >= 100 \
            else "-"
        short = f"{born:%y%m}{day:02d}"
        written = [normal, normal.replace("-", ""), normal.replace("-", "–"), f"{short}{short_sign}{serial}{check}",
                   f"{short}{short_sign.replace('-', '‑')}{serial}{check}"]
        if short_sign == "-":
            written.append(f"{short}{serial}{check}")
        for raw in written:
            number = parse_identity_number(raw, TODAY)
            assert (number.normal, number.birth_date, number.is_coordination) == (normal, born, coordination), raw
        with pytest.raises(ValueError):  # a wrong check digit is always caught
            parse_identity_number(normal[:-1] + str((int(check) + 1) % 10), TODAY)
