"""Swedish identity numbers: personnummer and samordningsnummer (folkbokföringslagen 18 §, SKV 704).

One normal form is stored and shown everywhere: twelve digits, ``YYYYMMDD-NNNC``. A samordningsnummer keeps
its day + 60 (``19730288-9931``): it is a number of its own, and its birth date is derived, never written back.
The ``+`` of the ten-digit form (100 years or older) is kept as its meaning, the century.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l

# Word, Outlook and phones turn "-" into one of these
DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"))
NUMBER_RE = re.compile(r"^([0-9]{2})?([0-9]{2})([0-9]{2})([0-9]{2})([-+]?)([0-9]{3})([0-9])$")  # ASCII digits only
OLDEST = 120  # no one older is employed: a number that says so is mistyped
COORDINATION_OFFSET = 60


@dataclass(frozen=True)
class IdentityNumber:
    digits: str  # twelve digits, the day + 60 for a samordningsnummer
    birth_date: date
    is_coordination: bool
    written_short: bool  # given in the ten-digit form
    sign: str  # "-", "+" or "" as written

    @property
    def normal(self) -> str:
        return f"{self.digits[:8]}-{self.digits[8:]}"

    @property
    def masked(self) -> str:
        """For lists and case subjects: the date part, never the last four."""
        return f"{self.digits[:8]}-****"

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(digits):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_identity_number(raw: str, today: date) -> IdentityNumber:
    """A valid personnummer or samordningsnummer, written with 10 or 12 digits, with or without ``-``, ``+``
    (or a dash from a word processor) and spaces. Raises ValueError with a message for the user."""
    text = (raw or "").strip().translate(DASHES).replace(" ", "")
    match = NUMBER_RE.match(text)
    if not match:
        raise ValueError(_l("Write 10 or 12 digits, e.g. 19900101-1234."))
    century, yy, mm, dd, sign, serial, check = match.groups()
    if not luhn_ok(f"{yy}{mm}{dd}{serial}{check}"):
        raise ValueError(_l("The check digit does not match. Check the number."))
    if serial == "000":
        raise ValueError(_l("The three digits after the date cannot be 000. Check the number."))
    coordination = int(dd) > COORDINATION_OFFSET
    day = int(dd) - COORDINATION_OFFSET if coordination else int(dd)
    if century:
        born = _real_date(int(century + yy), int(mm), day)
        if born is None:
            raise ValueError(_l("The date in the number does not exist."))
        if born > today:
            raise ValueError(_l("The date in the number is in the future."))
        if sign == "+" and age_on(born, today) < 100:
            raise ValueError(_l("A + means 100 years or older; the date in the number says otherwise. Write -."))
    else:
        # the latest such date that is not in the future (under 100), or a hundred years before with "+"
        year = today.year // 100 * 100 + int(yy)
        if _real_date(year, int(mm), day) is None or _real_date(year, int(mm), day) > today:
            year -= 100
        if sign == "+":
            year -= 100
        born = _real_date(year, int(mm), day)
        if born is None:
            raise ValueError(_l("The date in the number does not exist."))
    if age_on(born, today) > OLDEST:
        raise ValueError(_l("The date in the number gives an age over %(age)s. Check the number.", age=OLDEST))
    digits = f"{born.year:04d}{mm}{dd}{serial}{check}"
    return IdentityNumber(digits, born, coordination, written_short=not century, sign=sign)


def parse_birth_date(raw: str, today: date) -> date:
    """A birth date (YYYY-MM-DD) for someone without a Swedish identity number."""
    try:
        born = date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValueError(_l("Give the birth date as YYYY-MM-DD.")) from None
    if born > today:
        raise ValueError(_l("The birth date is in the future."))
    return born
