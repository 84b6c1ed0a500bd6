"""Administrators' pages for the machinery behind cases: the e-mail outbox and the service desk's settings."""

from __future__ import annotations

from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.auth.services import list_functions
from app.core import audit, mail
from app.core.db import db
from app.core.forms import ConfirmForm
from app.core.permissions import Role, role_required
from app.core.transactions import return_to
from app.tickets import settings
from app.tickets.blueprint import bp
from app.tickets.models import PRIORITIES, Category, ClosingDay
from app.tickets.services import list_categories
from app.tickets.sla import STOCKHOLM

admin_required = role_required(Role.ADMIN)


@bp.route("/admin/outbox")
@admin_required
def outbox():
    return render_template("tickets/outbox.html", counts=mail.count_outbox(),
                           messages=mail.list_troubled_messages(), max_attempts=mail.MAX_ATTEMPTS)


@bp.route("/admin/outbox/<int:message_id>/resend", methods=["POST"])
@admin_required
def outbox_resend(message_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not mail.resend_message(message_id):
        abort(404)
    audit.record(current_user.id, "resend", "outbox_message", message_id)
    flash(_("The mail is sent again at the next round."), "success")
    return redirect(url_for("tickets.outbox"))


@bp.route("/admin/outbox/resend-failed", methods=["POST"])
@admin_required
def outbox_resend_failed():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = mail.resend_failed()
    audit.record(current_user.id, "resend", "outbox_message", "failed", detail=f"{count} mails")
    flash(ngettext("%(num)d failed mail is sent again at the next round.",
                   "%(num)d failed mails are sent again at the next round.", count), "success")
    return redirect(url_for("tickets.outbox"))


@bp.route("/admin/service-desk", methods=["GET", "POST"])
@admin_required
def desk_settings():
    """Office hours, closing days, and per function: service-level targets, mailbox and categories."""
    functions = list_functions()
    if request.method == "POST":
        return_to(url_for("tickets.desk_settings"))
        if not ConfirmForm().validate_on_submit():
            abort(400)
        action, form = request.form.get("action", ""), request.form
        function = next((f for f in functions if f.slug == form.get("function")), None)
        if action == "hours":
            flash(_("The office hours are %(hours)s.", hours=settings.set_office_hours(
                current_user, form.get("hours", ""))), "success")
        elif action == "add_day":
            day = settings.add_closing_day(current_user, form.get("day", ""), form.get("note", ""))
            flash(_("%(day)s is a closing day.", day=day.day.isoformat()), "success")
        elif action == "remove_day":
            settings.remove_closing_day(current_user, db.get_or_404(ClosingDay, form.get("day_id", type=int)))
            flash(_("The closing day is removed."), "success")
        elif function is None:
            abort(404)
        elif action == "sla":
            settings.set_sla_targets(current_user, function, {
                p: (form.get(f"first-{p}", ""), form.get(f"resolution-{p}", "")) for p in PRIORITIES})
            flash(_("The service levels of %(function)s are saved.", function=function.name), "success")
        elif action == "mailbox":
            settings.set_mailbox(current_user, function, form.get("email", ""), bool(form.get("notify_new_cases")))
            flash(_("The mailbox of %(function)s is saved.", function=function.name), "success")
        elif action == "add_category":
            settings.add_category(current_user, function, form.get("name_sv", ""), form.get("name_en", ""))
            flash(_("The category is added."), "success")
        elif action == "remove_category":
            category = db.get_or_404(Category, form.get("category_id", type=int))
            if category.function_id != function.id:
                abort(404)
            settings.remove_category(current_user, category)
            flash(_("The category is removed."), "success")
        else:
            abort(400)
        return redirect(url_for("tickets.desk_settings", _anchor=f"function-{function.slug}" if function else None))
    today = datetime.now(STOCKHOLM).date()
    return render_template(
        "tickets/desk_settings.html", functions=functions, priorities=PRIORITIES,
        targets={f.slug: settings.sla_targets(f) for f in functions},
        categories={f.slug: [c for c in list_categories() if c.function_id == f.id] for f in functions},
        hours=settings.office_hours() or current_app.config["LOTSEN_OFFICE_HOURS"],
        closing=settings.closing_days(today))
