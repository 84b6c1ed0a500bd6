"""Schemathesis hooks for tests/test_api_schemathesis.py (loaded by the Schemathesis process).

A form order has rules JSON Schema cannot say: a personnummer's check digit and date of birth, and the order
of its dates. openapi.json describes them in words; here the requests Schemathesis generates as *valid* are
brought within those rules, the way a real client's orders are, so that "valid data is accepted" is checked
for the rest of the shape. Only values of the right shape are changed, so invalid requests stay invalid.
"""

from __future__ import annotations

import re
from datetime import date

import schemathesis

PNR = re.compile(r"(?P<century>[0-9]{2})?[0-9]{6}(?P<sign>[-+\u2010-\u2014\u2212\ufe63\uff0d]?)[0-9]{4}")


def _personnummer(generated: str, born_1957: bool = False) -> str:
    """A valid personnummer written the way the generated one is (10 or 12 digits, its separator; a "+" in
    the 12-digit form, which only a centenarian may carry, becomes "-"). ``born_1957``: someone over 69."""
    match = PNR.fullmatch(generated)
    if match is None:
        return generated
    sign = "-" if match["century"] and match["sign"] == "+" else match["sign"]
    date_part, rest = ("570101", "1230") if born_1957 else ("900101", "2302")
    return f"{'19' if match['century'] else ''}{date_part}{sign}{rest}"


def _date(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def _in_order(section: dict, first: str, last: str) -> None:
    start, end = _date(section.get(first)), _date(section.get(last))
    if start and end and end < start:
        section[first], section[last] = section[last], section[first]


def _probation_within_six_months(employment: dict) -> None:
    start, end = _date(employment.get("start_date")), _date(employment.get("end_date"))
    if employment.get("form") == "provanstallning" and start and end and (end - start).days > 180:
        employment["end_date"] = employment["start_date"]


@schemathesis.hook
def before_call(context, case, kwargs):
    # every mode: a "negative" case whose only fault would be one of these rules is schema-valid (it must be
    # accepted); the fixes touch only values already of the right shape, so a case's real fault stays
    if not case.operation.path.startswith("/forms/"):
        return
    for body in {id(b): b for b in (case.body, kwargs.get("json")) if isinstance(b, dict)}.values():
        _within_the_rules(body)  # the body as generated and as it is about to be sent (a copy in some phases)


def _within_the_rules(body: dict) -> None:
    employee, employment, end = body.get("employee"), body.get("employment"), body.get("end")
    old = isinstance(employment, dict) and employment.get("form") == "visstid_69"
    if isinstance(employee, dict) and isinstance(employee.get("personnummer"), str):
        employee["personnummer"] = _personnummer(employee["personnummer"], old)
    if isinstance(employee, dict) and employee.get("no_identity_number") is True:
        employee["birth_date"] = "1957-01-01" if old else "1990-01-01"  # a real age for the rules
    if isinstance(employment, dict):
        _in_order(employment, "start_date", "end_date")
        if _date(employment.get("start_date")):  # after the birth; for visstid_69, after the 69th birthday
            employment["start_date"] = max(employment["start_date"], "2027-01-04" if old else "2004-01-01")
            if _date(employment.get("end_date")) and employment["end_date"] < employment["start_date"]:
                employment["end_date"] = employment["start_date"]
        _probation_within_six_months(employment)
    if isinstance(end, dict):
        _in_order(end, "notice_date", "last_day")


@schemathesis.hook
def map_body(context, body):
    """The same, at generation, for every phase (fuzzing mutates bodies before_call may not see)."""
    operation = getattr(context, "operation", None)
    if isinstance(body, dict) and operation is not None and operation.path.startswith("/forms/"):
        _within_the_rules(body)
    return body
