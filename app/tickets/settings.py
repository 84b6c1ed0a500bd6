"""The service desk's settings, changed by administrators in the browser: service-level targets per function and
priority, office hours, extra closing days, each function's mailbox and its categories. Every change is audited.
Services flush and never commit; the caller commits."""

from __future__ import annotations

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.auth.models import SupportFunction, User
from app.core import audit
from app.core.db import db
from app.core.text import is_one_line
from app.tickets.models import PRIORITIES, Category, ClosingDay, DeskSetting, SlaTarget, Ticket
from app.tickets.services import DEFAULT_SLA_HOURS, TicketError
from app.tickets.sla import OFFICE_HOURS_KEY, forget_desk_calendar, parse_office_hours

MAX_HOURS = 2000.0  # a year of working hours
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def sla_targets(function: SupportFunction) -> dict[str, tuple[float, float]]:
    """(first answer, resolution) in working hours per priority; the defaults where nothing is set."""
    rows = {t.priority: t for t in db.session.scalars(select(SlaTarget).where(SlaTarget.function_id == function.id))}
    return {p: (rows[p].first_response_hours, rows[p].resolution_hours) if p in rows else DEFAULT_SLA_HOURS
            for p in PRIORITIES}


def set_sla_targets(actor: User, function: SupportFunction, wanted: dict[str, tuple[str, str]]) -> None:
    """New targets from what was typed ("4" or "4,5" hours); a first answer must come before the resolution."""
    parsed = {}
    for priority in PRIORITIES:
        first_text, resolution_text = wanted.get(priority, ("", ""))
        try:
            first = float(first_text.replace(",", ".").strip())
            resolution = float(resolution_text.replace(",", ".").strip())
        except ValueError:
            raise TicketError(_l("Write the hours as numbers, such as 4 or 4,5.")) from None
        if not (0 < first <= MAX_HOURS and 0 < resolution <= MAX_HOURS):
            raise TicketError(_l("Targets are more than 0 and at most %(hours)s working hours.", hours=int(MAX_HOURS)))
        if first > resolution:
            raise TicketError(_l("The first answer cannot be due after the resolution."))
        parsed[priority] = (first, resolution)
    rows = {t.priority: t for t in db.session.scalars(select(SlaTarget).where(SlaTarget.function_id == function.id))}
    for priority, (first, resolution) in parsed.items():
        row = rows.get(priority) or SlaTarget(function_id=function.id, priority=priority)
        row.first_response_hours, row.resolution_hours = first, resolution
        db.session.add(row)
    audit.record(actor.id, "settings_sla", "support_function", function.slug,
                 detail=" ".join(f"{p}={f:g}/{r:g}" for p, (f, r) in parsed.items()))
    db.session.flush()


def office_hours() -> str | None:
    setting = db.session.get(DeskSetting, OFFICE_HOURS_KEY)
    return setting.value if setting else None


def set_office_hours(actor: User, text: str) -> str:
    try:
        value = parse_office_hours(text)
    except ValueError as exc:
        raise TicketError(exc.args[0]) from None
    setting = db.session.get(DeskSetting, OFFICE_HOURS_KEY) or DeskSetting(key=OFFICE_HOURS_KEY, value=value)
    setting.value = value
    db.session.add(setting)
    audit.record(actor.id, "settings_hours", "desk_setting", OFFICE_HOURS_KEY, detail=value)
    db.session.flush()
    forget_desk_calendar()
    return value


def closing_days(since: date) -> list[ClosingDay]:
    return list(db.session.scalars(select(ClosingDay).where(ClosingDay.day >= since).order_by(ClosingDay.day)))


def add_closing_day(actor: User, text: str, note: str) -> ClosingDay:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise TicketError(_l("Give the day as YYYY-MM-DD.")) from None
    if not is_one_line(note) or len(note) > 200:
        raise TicketError(_l("Write the note on one line, at most 200 characters."))
    if db.session.scalar(select(ClosingDay).where(ClosingDay.day == day)) is not None:
        raise TicketError(_l("%(day)s is already a closing day.", day=day.isoformat()))
    row = ClosingDay(day=day, note=note.strip())
    db.session.add(row)
    audit.record(actor.id, "settings_closing_day", "closing_day", day.isoformat(), detail=note.strip()[:200])
    db.session.flush()
    forget_desk_calendar()
    return row


def remove_closing_day(actor: User, row: ClosingDay) -> None:
    audit.record(actor.id, "settings_closing_day_removed", "closing_day", row.day.isoformat())
    db.session.delete(row)
    db.session.flush()
    forget_desk_calendar()


def set_mailbox(actor: User, function: SupportFunction, email: str, notify_new_cases: bool) -> None:
    """The function's shared address (requesters' replies when nobody is assigned, and, when wanted, new
    cases)."""
    email = email.strip()
    if email and (not EMAIL_RE.match(email) or len(email) > 254):
        raise TicketError(_l("Enter a valid e-mail address, such as namn@kommun.se."))
    if notify_new_cases and not email:
        raise TicketError(_l("Give the mailbox's address to have new cases sent there."))
    function.email, function.notify_new_cases = email, notify_new_cases
    audit.record(actor.id, "settings_mailbox", "support_function", function.slug,
                 detail=f"{email} new={'yes' if notify_new_cases else 'no'}")
    db.session.flush()


def _slug(text: str) -> str:
    folded = text.lower().translate(str.maketrans("åäöéü", "aaoeu"))
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:50]


def add_category(actor: User, function: SupportFunction, name_sv: str, name_en: str) -> Category:
    name_sv, name_en = name_sv.strip(), name_en.strip() or name_sv.strip()
    if not name_sv or len(name_sv) > 120 or len(name_en) > 120 or not is_one_line(name_sv + name_en):
        raise TicketError(_l("Give the category a Swedish name (and an English one) of at most 120 characters."))
    base = _slug(name_sv) or "kategori"
    slug = next(s for s in (base, *(f"{base}-{n}" for n in range(2, 100)))
                if db.session.scalar(select(Category).where(Category.slug == s)) is None)
    order = max((c.sort_order for c in db.session.scalars(select(Category).where(
        Category.function_id == function.id))), default=0) + 10
    category = Category(slug=slug, function_id=function.id, name_sv=name_sv, name_en=name_en, sort_order=order)
    db.session.add(category)
    audit.record(actor.id, "settings_category", "ticket_category", slug, detail=f"{function.slug}: {name_sv}")
    db.session.flush()
    return category


def remove_category(actor: User, category: Category) -> None:
    """A category no longer offered; its cases keep their function and lose the category."""
    audit.record(actor.id, "settings_category_removed", "ticket_category", category.slug, detail=category.name_sv)
    # explicit, since SQLite does not enforce the foreign key's ON DELETE SET NULL
    db.session.execute(update(Ticket).where(Ticket.category_id == category.id).values(category_id=None)
                       .execution_options(synchronize_session=False))
    db.session.delete(category)
    db.session.flush()
