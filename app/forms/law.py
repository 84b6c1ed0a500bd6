"""The law an employment order must follow, as plain functions: LAS after the 2022 reform, AB for municipal
employers, the municipal pension agreements, and the written information of LAS 6 c §.

Every limit is a named constant with its source, so HR can check it against the current text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

FIVE_YEARS_DAYS = 5 * 365 + 1  # the five-year window of LAS 5 a §, counted back from the order's last day
SVA_LIMIT_DAYS = 365  # LAS 5 a § first paragraph: särskild visstid for more than 12 months within five years
VIKARIAT_LIMIT_DAYS = 730  # LAS 5 a §: vikariat for more than two years within five years
AB_COMBINED_LIMIT_DAYS = 1095  # AB (municipal employers): särskild visstid and vikariat together more than three years
CHAIN_GAP_MONTHS = 6  # LAS 5 a §: employments "follow each other" when at most six months lie between them
LAS_AGE = 69  # LAS 5 § 4 and 32 a §: fixed-term employment is allowed from the month the employee turns 69
AKAP_KR_FROM_BIRTH_YEAR = 1986  # AKAP-KR for those born 1986 or later, KAP-KL for those born earlier
PENSION_PLANS = ("AKAP-KR", "KAP-KL")
PENSION_INSTITUTION = "KPA Pension"  # administers both municipal plans; the individual part is chosen freely
CORE_DAYS = 7  # LAS 6 c §: the core items within seven calendar days of the start
REST_MONTHS = 1  # the other items within one month of the start

# the forms of employment whose days count towards the conversion rules
COUNTED_FORMS = ("sarskild_visstid", "vikariat", "sasong")


def months_after(start: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day when it has no such day)."""
    month = start.month - 1 + months
    year, month = start.year + month // 12, month % 12 + 1
    if year > date.max.year:
        return date.max
    for day in (start.day, 31, 30, 29, 28):
        if day <= start.day:
            try:
                return date(year, month, day)
            except ValueError:
                continue
    return date(year, month, 28)


def probation_last_day(start: date, months: int = 6) -> date:
    """The last day of a probation of ``months`` calendar months: 2027-01-04 gives 2027-07-03."""
    return months_after(start, months) - timedelta(days=1)


def pension_plan(born: date) -> str:
    return "AKAP-KR" if born.year >= AKAP_KR_FROM_BIRTH_YEAR else "KAP-KL"


@dataclass(frozen=True)
class Period:
    """One fixed-term employment: from Lotsen's approved orders (``source`` the order's title and id) or the
    days the manager reported from elsewhere."""

    form: str
    start: date
    end: date
    source: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Count:
    rule: str  # "sva", "vikariat", "ab"
    days: int
    limit: int
    periods: tuple[Period, ...]

    @property
    def passed(self) -> bool:
        return self.days > self.limit


RULE_TEXT = {
    "sva": _l("Särskild visstidsanställning (with vikariat and seasonal employment that followed on it): "
              "%(days)s days within five years. After more than 12 months it becomes a tillsvidareanställning "
              "(LAS 5 a §)."),
    "vikariat": _l("Vikariat: %(days)s days within five years. After more than two years it becomes a "
                   "tillsvidareanställning (LAS 5 a §)."),
    "ab": _l("Särskild visstid and vikariat together: %(days)s days within five years. After more than three "
             "years it becomes a tillsvidareanställning under AB for municipal employers."),
}


def _clipped(period: Period, since: date) -> Period | None:
    if period.end < since:
        return None
    return Period(period.form, max(period.start, since), period.end, period.source)


def _chains(periods: list[Period]) -> list[list[Period]]:
    """Employments that followed each other: at most six months between one's end and the next start."""
    chains: list[list[Period]] = []
    for period in sorted(periods, key=lambda p: p.start):
        if chains and period.start <= months_after(max(p.end for p in chains[-1]), CHAIN_GAP_MONTHS):
            chains[-1].append(period)
        else:
            chains.append([period])
    return chains


def _days(periods: list[Period]) -> int:
    """Calendar days covered, overlaps counted once."""
    covered: set[date] = set()
    for period in periods:
        covered.update(period.start + timedelta(days=i) for i in range(period.days))
    return len(covered)


def conversion_counts(new: Period, earlier: list[Period]) -> list[Count]:
    """The days each conversion rule counts for the new fixed-term employment together with the earlier ones,
    within the five years that end on its last day."""
    since = new.end - timedelta(days=FIVE_YEARS_DAYS - 1)
    periods = [p for p in (_clipped(p, since) for p in [*earlier, new]) if p and p.form in COUNTED_FORMS]
    counts = []
    if new.form == "sarskild_visstid":
        sva = [p for chain in _chains(periods) if any(p.form == "sarskild_visstid" for p in chain) for p in chain]
        counts.append(Count("sva", _days(sva), SVA_LIMIT_DAYS, tuple(sva)))
    if new.form == "vikariat":
        vik = [p for p in periods if p.form == "vikariat"]
        counts.append(Count("vikariat", _days(vik), VIKARIAT_LIMIT_DAYS, tuple(vik)))
    if new.form in ("sarskild_visstid", "vikariat"):
        both = [p for p in periods if p.form in ("sarskild_visstid", "vikariat")]
        counts.append(Count("ab", _days(both), AB_COMBINED_LIMIT_DAYS, tuple(both)))
    return counts


def count_text(count: Count) -> str:
    return str(RULE_TEXT[count.rule] % {"days": count.days})


# --- LAS 6 c §: what the written information must hold -----------------------------------------------------
@dataclass(frozen=True)
class Requirement:
    key: str
    label: object
    core: bool  # within seven days of the start (the rest within a month)


REQUIREMENTS = (
    Requirement("parties", _l("Employer and employee, with addresses"), True),
    Requirement("workplace", _l("Workplace, or that it varies or the employee chooses"), True),
    Requirement("title", _l("Title, position or kind of work"), True),
    Requirement("tasks", _l("Main tasks"), True),
    Requirement("start", _l("Start date"), True),
    Requirement("form", _l("Form of employment"), True),
    Requirement("end", _l("End date or the condition that ends a fixed-term employment"), True),
    Requirement("probation", _l("Length and terms of a probation"), True),
    Requirement("base_pay", _l("Starting pay"), True),
    Requirement("pay_components", _l("Other parts of the pay and benefits, each listed apart"), True),
    Requirement("pay_when", _l("How often and how the pay is paid"), True),
    Requirement("hours", _l("Normal working day or week"), True),
    Requirement("overtime", _l("Overtime and additional hours (mertid): rules and pay"), True),
    Requirement("schedule", _l("Shifts and the shortest notice of schedule changes"), True),
    Requirement("vacation", _l("Paid vacation"), False),
    Requirement("notice", _l("Notice periods and how notice is given"), False),
    Requirement("training", _l("The right to training the employer provides"), False),
    Requirement("agreement", _l("Collective agreements that apply"), False),
    Requirement("pension", _l("Pension plan and the institution that manages it"), False),
    Requirement("social_insurance", _l("The social insurance the employer pays for"), False),
)


def _filled(value) -> bool:
    return value not in (None, "") and (not isinstance(value, str) or bool(value.strip()))


def states_a_period(text: str) -> bool:
    """Whether a notice text says how long (digits or Swedish number words with a unit of time)."""
    return bool(re.search(r"\b(\d+|en|ett|två|tre|fyra|fem|sex|one|two|three|four|five|six)\s+"
                          r"(dag|dagar|vecka|veckor|månad|månader|days?|weeks?|months?)\b", text or "", re.I))


def requirements_met(data: dict) -> dict[str, bool]:
    """Each 6 c § item of the contract and whether the order holds it (the fixed texts of the document, such
    as vacation and social insurance, always do)."""
    e, p, m = data.get("employee") or {}, data.get("position") or {}, data.get("employment") or {}
    pay, t = data.get("pay") or {}, data.get("terms") or {}
    form = m.get("form")
    return {
        "parties": all(_filled(e.get(k)) for k in ("first_name", "last_name", "address")),
        "workplace": _filled(p.get("workplace")) or bool(p.get("workplace_varies")),
        "title": _filled(p.get("title")),
        "tasks": _filled(p.get("tasks")),
        "start": _filled(m.get("start_date")),
        "form": _filled(form),
        "end": form in ("tillsvidare", "provanstallning") or _filled(m.get("end_date"))
        or _filled(m.get("end_condition")),
        "probation": form != "provanstallning" or _filled(m.get("end_date")),
        "base_pay": _filled(pay.get("amount")),
        "pay_components": _filled(pay.get("supplements")),
        "pay_when": _filled(pay.get("pay_day")) and _filled(pay.get("pay_method")),
        "hours": _filled(m.get("weekly_hours")),
        "overtime": _filled(t.get("overtime")),
        "schedule": _filled(t.get("schedule_notice")),
        "vacation": True,
        "notice": states_a_period(t.get("notice") or ""),
        "training": _filled(t.get("training")),
        "agreement": _filled(pay.get("collective_agreement")),
        "pension": _filled(pay.get("pension")) and _filled(pay.get("pension_institution")),
        "social_insurance": True,
    }


def missing_requirements(data: dict) -> list[Requirement]:
    met = requirements_met(data)
    return [r for r in REQUIREMENTS if not met[r.key]]


def information_deadlines(start: date) -> tuple[date, date]:
    """The last days for the core items (seven calendar days after the start) and for the rest (one month)."""
    return start + timedelta(days=CORE_DAYS), months_after(start, REST_MONTHS)


def notice_text(form: str | None) -> str:
    """The notice periods stated in the contract, by form of employment (LAS 11 §, 15 § and 31 §)."""
    if form == "provanstallning":
        return ("Provanställningen kan avbrytas före prövotidens slut utan särskilt skäl. Arbetsgivaren lämnar "
                "besked minst två veckor i förväg (LAS 31 §). Löper prövotiden ut utan att avbrytas övergår "
                "anställningen i en tillsvidareanställning.")
    if form in ("sarskild_visstid", "vikariat", "sasong", "visstid_69"):
        return ("Anställningen upphör utan uppsägning när anställningstiden är slut. Under anställningen gäller "
                "för arbetstagaren en uppsägningstid av en månad (LAS 11 §) om inte kollektivavtalet säger annat. "
                "Arbetsgivaren lämnar skriftligt besked om att anställningen upphör enligt LAS 15 §.")
    return ("Arbetstagarens uppsägningstid är en månad. Arbetsgivarens uppsägningstid är en månad vid kortare "
            "sammanlagd anställningstid än två år och ökar därefter med en månad för vartannat år, till sex "
            "månader efter tio år (LAS 11 §). Uppsägning ska vara skriftlig.")
