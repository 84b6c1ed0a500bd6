"""Administrators' pages for mail in: the mailboxes (secrets write-only) and the mail that was held or could not
be imported. Held or failed mail of a confidential function's mailbox is for that function's specialists only,
as its cases are."""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app.auth.services import list_functions
from app.core import audit
from app.core.db import db
from app.core.forms import ConfirmForm
from app.core.mailbox import MailboxError
from app.core.permissions import Role, role_required
from app.core.transactions import return_to
from app.mailin import services
from app.mailin.blueprint import bp
from app.mailin.forms import MailboxForm
from app.mailin.models import InboundMail, Mailbox

admin_required = role_required(Role.ADMIN)
AUTOMATIC = ""


@bp.get("/admin/mailboxes")
@admin_required
def mailboxes():
    return render_template("mailin/mailboxes.html", mailboxes=services.list_mailboxes(),
                           unsettled=[row for row in services.list_unsettled() if _may_handle(row)])


def _form(mailbox: Mailbox | None) -> MailboxForm:
    form = MailboxForm(obj=mailbox)
    if "secret" not in request.form:  # never the stored secret (a form without the field would take it)
        form.secret.data = ""
    form.function.choices = [SelectChoice(AUTOMATIC, _("Any function: routed automatically (the general address)"))]
    form.function.choices += [SelectChoice(f.slug, f.name) for f in list_functions()]
    if mailbox is not None and not form.is_submitted():
        form.function.data = mailbox.function.slug if mailbox.function else AUTOMATIC
    return form


@bp.route("/admin/mailboxes/new", methods=["GET", "POST"])
@bp.route("/admin/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
@admin_required
def edit_mailbox(mailbox_id: int | None = None):
    mailbox = db.get_or_404(Mailbox, mailbox_id) if mailbox_id else None
    form = _form(mailbox)
    if form.validate_on_submit():
        function = next((f for f in list_functions() if f.slug == form.function.data), None)
        try:
            services.save_mailbox(current_user, mailbox, address=form.address.data, function=function,
                                  host=form.host.data, port=form.port.data, security=form.security.data,
                                  username=form.username.data, auth=form.auth.data, secret=form.secret.data or "",
                                  oauth_client_id=form.oauth_client_id.data or "",
                                  oauth_tenant=form.oauth_tenant.data or "",
                                  oauth_token_url=form.oauth_token_url.data or "", folder=form.folder.data or "",
                                  done_folder=form.done_folder.data or "", is_active=form.is_active.data)
        except services.MailboxRefused as exc:
            db.session.rollback()
            getattr(form, exc.field or "address").errors.append(str(exc))
        else:
            flash(_("The mailbox is saved."), "success")
            return redirect(url_for("mailin.mailboxes"))
    return render_template("mailin/edit_mailbox.html", form=form, mailbox=mailbox), 400 if form.errors else 200


@bp.post("/admin/mailboxes/<int:mailbox_id>/delete")
@admin_required
def delete_mailbox(mailbox_id: int):
    return_to(url_for("mailin.mailboxes"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_mailbox(current_user, db.get_or_404(Mailbox, mailbox_id))
    flash(_("The mailbox is removed. Mail already in Lotsen stays."), "success")
    return redirect(url_for("mailin.mailboxes"))


@bp.post("/admin/mailboxes/<int:mailbox_id>/test")
@admin_required
def test_mailbox(mailbox_id: int):
    """Log in and count what waits in the folder, without reading or moving anything."""
    return_to(url_for("mailin.edit_mailbox", mailbox_id=mailbox_id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    mailbox = db.get_or_404(Mailbox, mailbox_id)
    try:
        waiting = services.count_waiting(mailbox, current_app.config)
    except MailboxError as exc:
        flash(_("Lotsen could not read the mailbox: %(error)s", error=str(exc)), "error")
    else:
        flash(ngettext("Lotsen logged in. %(num)d mail waits in %(folder)s.",
                       "Lotsen logged in. %(num)d mails wait in %(folder)s.", waiting, folder=mailbox.folder),
              "success")
    return redirect(url_for("mailin.edit_mailbox", mailbox_id=mailbox_id))


def _may_handle(row: InboundMail) -> bool:
    """A mail about a confidential function's case (or in its mailbox) is for that function's specialists, as its
    cases are; the rest is for administrators."""
    if row.confidential_function is not None:
        return current_user.has_role(Role.SPECIALIST, row.confidential_function.slug)
    return current_user.has_role(Role.ADMIN)


def _unsettled(row_id: int) -> InboundMail:
    row = db.get_or_404(InboundMail, row_id)
    if row.settled_at is not None or row.outcome not in ("held", "failed") or not _may_handle(row):
        abort(404)
    return row


@bp.get("/mail/held")
@login_required
def held():
    if not current_user.has_role(Role.ADMIN) and not any(
            f.is_confidential for f in current_user.functions_for(Role.SPECIALIST)):
        abort(404)
    rows = [row for row in services.list_unsettled() if _may_handle(row)]
    for row in rows:  # senders and subjects of confidential mail are read here
        if row.confidential_function is not None:
            audit.record(current_user.id, "inbound_mail_list", "inbound_mail", row.id, detail="held mail list")
    return render_template("mailin/held.html", unsettled=rows)


@bp.get("/mail/held/<int:row_id>.eml")
@login_required
def download(row_id: int):
    row = _unsettled(row_id)
    if row.raw is None:
        abort(404)
    audit.record(current_user.id, "inbound_mail_read", "inbound_mail", row.id, detail=row.message_id[:200])
    return Response(row.raw, mimetype="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="lotsen-mail-{row.id}.eml"'})


@bp.post("/mail/held/<int:row_id>")
@login_required
def settle(row_id: int):
    return_to(url_for("mailin.held"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    row = _unsettled(row_id)
    if request.form.get("action") == "release":
        result = services.release_held(current_user, row, current_app.config,
                                       Path(current_app.config["LOTSEN_UPLOAD_PATH"]))
        flash(_("The mail is let through: %(number)s.", number=result.ticket.number if result.ticket else "–"),
              "success")
    else:
        services.dismiss(current_user, row)
        flash(_("The mail is dismissed and its content removed."), "success")
    return redirect(url_for("mailin.held"))
