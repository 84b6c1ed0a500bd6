"""The access check shared by the case pages."""

from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.tickets import services


def visible_ticket(number: str):
    """The case if the current user may see it; 404 otherwise, so guessing numbers reveals nothing."""
    ticket = services.get_ticket(number)
    if ticket is None or not services.can_view(current_user, ticket):
        abort(404)
    return ticket


def workable_ticket(number: str):
    """The case if the current user may see it (else 404) and works in its function (else 403)."""
    ticket = visible_ticket(number)
    if not services.can_work(current_user, ticket):
        abort(403)
    return ticket
