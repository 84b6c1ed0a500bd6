"""Administrators' pages for the machinery behind cases: the e-mail outbox."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.core import audit, mail
from app.core.forms import ConfirmForm
from app.core.permissions import Role, role_required
from app.tickets.blueprint import bp

admin_required = role_required(Role.ADMIN)


@bp.route("/admin/outbox")
@admin_required
def outbox():
    return render_template("tickets/outbox.html", counts=mail.count_outbox(),
                           messages=mail.list_troubled_messages(), confirm=ConfirmForm(),
                           max_attempts=mail.MAX_ATTEMPTS)


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
