"""Notifications in the app, their e-mail settings, and the first line's view of the cases it sent on."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import SelectChoice

from app.core.db import db
from app.core.forms import ConfirmForm
from app.core.permissions import Role
from app.tickets import notifications, services
from app.tickets.blueprint import bp
from app.tickets.forms import NotificationSettingsForm
from app.tickets.models import DELIVERIES, NOTIFICATION_KINDS, Ticket, TicketEvent
from app.tickets.workspace_views import own_function, specialist_required

FORWARDED_LIMIT = 100


@bp.app_context_processor
def unread_notifications():
    """The header's unread marker, for specialists only (one small count query)."""
    def count() -> int:
        if not current_user.is_authenticated or not current_user.has_role(Role.SPECIALIST):
            return 0
        return notifications.unread_count(current_user)
    return {"unread_notifications": count}


@bp.route("/notifications", methods=["GET", "POST"])
@login_required
def notification_list():
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            return redirect(url_for("tickets.notification_list"))
        notifications.mark_read(current_user)
        flash(_("All notifications are marked as read."), "success")
        return redirect(url_for("tickets.notification_list"))
    return render_template("tickets/notifications.html", notes=notifications.recent(current_user),
                           labels=notifications.KIND_LABELS)


@bp.route("/account/notifications", methods=["GET", "POST"])
@login_required
def notification_settings():
    form = NotificationSettingsForm()
    current = notifications.settings_of(current_user)
    choices = [SelectChoice(d, notifications.DELIVERY_LABELS[d]) for d in DELIVERIES]
    for kind in NOTIFICATION_KINDS:
        field = getattr(form, kind)
        field.choices = choices
        field.label.text = notifications.KIND_LABELS[kind]
        if request.method == "GET":
            field.data = current[kind]
    if form.validate_on_submit():
        notifications.save_settings(current_user, {kind: getattr(form, kind).data for kind in NOTIFICATION_KINDS})
        flash(_("Your notification settings are saved."), "success")
        return redirect(url_for("tickets.notification_settings"))
    return render_template("tickets/notification_settings.html", form=form), 400 if form.errors else 200


@bp.get("/workspace/<slug>/forwarded")
@specialist_required
def forwarded(slug: str):
    """What the first line sent on: where each case went, how it stands, and when it was resolved. A case now
    with a confidential function shows only its number, function and status."""
    function = own_function(slug)
    moved = select(TicketEvent.ticket_id).where(TicketEvent.kind == "reroute",
                                                TicketEvent.data["old"].as_string() == function.slug)
    cases = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(moved))
                                    .order_by(Ticket.last_activity_at.desc()).limit(FORWARDED_LIMIT)))
    return render_template("tickets/forwarded.html", function=function, cases=cases,
                           readable={t.id for t in cases if services.can_view(current_user, t)})
