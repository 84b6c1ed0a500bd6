"""Helpers shared by the case pages: the working calendar, e-mail context, uploads and the access check."""

from __future__ import annotations

from pathlib import Path

from flask import abort, current_app, render_template
from flask_login import current_user

from app.tickets import services
from app.tickets.sla import WorkingCalendar


def calendar() -> WorkingCalendar:
    return WorkingCalendar.from_config(current_app.config["LOTSEN_OFFICE_HOURS"])


def mail_context() -> services.MailContext:
    return services.MailContext(current_app.config["LOTSEN_BASE_URL"], current_app.config["BABEL_DEFAULT_LOCALE"],
                                render_template)


def upload_settings() -> dict:
    return {"upload_root": Path(current_app.config["LOTSEN_UPLOAD_PATH"]),
            "max_bytes": current_app.config["LOTSEN_MAX_UPLOAD_MB"] * 1024 * 1024}


def uploads_from(field) -> list[services.Upload]:
    return [services.Upload(f.filename, f.stream) for f in (field.data or []) if f and f.filename]


def visible_ticket(number: str):
    """The case if the current user may see it; 404 otherwise, so guessing numbers reveals nothing."""
    ticket = services.get_ticket(number)
    if ticket is None or not services.can_view(current_user, ticket):
        abort(404)
    return ticket
