"""Schemathesis hooks for tests/test_api_schemathesis.py (loaded by the Schemathesis process).

A form order has rules JSON Schema cannot say: a personnummer's check digit and date of birth, and the order
of its dates. openapi.json describes them in words; here the requests Schemathesis generates as *valid* are
brought within those rules, the way a real client's orders are, so that "valid data is accepted" is checked
for the rest of the shape. Invalid requests are left as they are: they must still be refused.
"""

from __future__ import annotations

import re
from datetime import date

import schemathesis

PNR = re.compile(r"(?P<century>[0-9]{2})?[0-9]{6}(?P<sign>[-+\u2010-\u2014\u2212]?)[0-9]{4}")


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
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not case.operation.path.startswith("/forms/"):
        return
    body = case.body
    if not isinstance(body, dict):
        return
    employee, employment, end = body.get("employee"), body.get("employment"), body.get("end")
    old = isinstance(employment, dict) and employment.get("form") == "visstid_69"
    if isinstance(employee, dict) and isinstance(employee.get("personnummer"), str):
        employee["personnummer"] = _personnummer(employee["personnummer"], old)
    if isinstance(employee, dict) and employee.get("no_identity_number") is True:
        employee["birth_date"] = "1957-01-01" if old else "1990-01-01"  # a real age for the rules
    if isinstance(employment, dict):
        _in_order(employment, "start_date", "end_date")
        _probation_within_six_months(employment)
    if isinstance(end, dict):
        _in_order(end, "notice_date", "last_day")
