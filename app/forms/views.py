from __future__ import annotations

import uuid
from pathlib import Path

from flask import abort, current_app, flash, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app.auth.services import get_function
from app.core.db import db
from app.core.forms import ConfirmForm
from app.core.transactions import return_to
from app.core.uploads import UploadRejected, upload_limits, uploads_from
from app.forms import services
from app.forms.blueprint import bp
from app.forms.forms import (
    FORM_CLASSES,
    data_to_form,
    employment_form_labels,
    field_labels,
    field_name,
    form_to_data,
    labelled,
)
from app.forms.models import FormSubmission
from app.forms.registry import FORMS, get_form
from app.tickets.services import mail_context
from app.tickets.sla import office_calendar

HISTORY_LABELS = {
    "saved": _l("saved"), "submitted": _l("sent the order"), "resubmitted": _l("sent the corrected order"),
    "returned": _l("returned it for changes"), "approved": _l("approved it"),
    "completed": _l("added the identity number"), "robot_claimed": _l("took the routine steps (robot)"),
    "robot_done": _l("did the routine steps (robot)"), "robot_failed": _l("could not do the routine steps (robot)"),
    "robot_requeued": _l("put the order back in the robots' queue"),
}


def organisation() -> services.Organisation:
    cfg = current_app.config
    return services.Organisation(cfg["LOTSEN_ORG_NAME"], cfg["LOTSEN_ORG_ADDRESS"], cfg["LOTSEN_ORG_NUMBER"])


def order_url(submission: FormSubmission) -> str:
    return url_for("forms.show", submission_id=submission.id, _external=True)


def visible_submission(submission_id: int) -> FormSubmission:
    submission = db.session.get(FormSubmission, submission_id)
    if submission is None or not services.can_view(current_user, submission):
        abort(404)
    return submission


@bp.get("/forms")
@login_required
def index():
    to_review = services.awaiting_review(current_user)
    return render_template("forms/index.html", forms=FORMS, mine=services.submissions_for(current_user),
                           to_review=to_review, information={s.id: services.information_status(s) for s in to_review})


def _edit(definition, submission=None):
    if not current_user.has_role(definition.submit_role):
        abort(403)
    form_class = FORM_CLASSES[definition.slug]
    form = form_class()
    result, refused = None, False
    if request.method == "GET":
        data_to_form(form, submission.data if submission else {})
        if submission is None:
            for name, value in form_class.DEFAULTS.items():
                getattr(form, name).data = value
            form.position__manager.data = current_user.name if hasattr(form, "position__manager") else None
            form.submit_token.data = uuid.uuid4().hex
    elif form.validate_on_submit():
        data = form_to_data(form)
        action = request.form.get("action", "draft")
        try:
            if action == "preview":  # the draft is saved first: nothing written is lost to a preview
                submission = services.save_draft(definition, current_user, data, submission,
                                                 form.submit_token.data or None)
                services.record_view(current_user, submission, request.remote_addr or "", "download", "preview.pdf")
                pdf = services.render_document(definition, submission.data, organisation(), draft=True)
                return _pdf_response(pdf, f"{definition.slug}-utkast.pdf")
            if action == "submit":
                submission, _warnings = services.submit(
                    definition, current_user, data, submission, office_calendar(), mail_context(), order_url,
                    uploads_from(form.files.data), **upload_limits(), submit_token=form.submit_token.data or None)
                flash(_("The order is sent to %(function)s. Follow it under My cases.",
                        function=get_function(definition.function).name), "success")
                return redirect(url_for("forms.show", submission_id=submission.id))
            submission = services.save_draft(definition, current_user, data, submission,
                                             form.submit_token.data or None)
            flash(_("The draft is saved. You can continue later from My forms."), "success")
            return redirect(url_for("forms.edit", submission_id=submission.id))
        except services.AlreadySent as exc:  # the same form sent again: show the order it made
            return_to(url_for("forms.show", submission_id=exc.submission.id))
            raise
        except services.FormInvalid as exc:
            result = exc.result
            for path, message in result.errors.items():
                field = getattr(form, field_name(path), None)
                if field is not None:
                    field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        except (services.FormForbidden, UploadRejected) as exc:
            flash(str(exc), "error")
            refused = True
    return render_template("forms/edit.html", definition=definition, form=form, submission=submission,
                           result=result), 400 if result or refused else 200


@bp.route("/forms/<slug>/new", methods=["GET", "POST"])
@login_required
def new(slug: str):
    definition = get_form(slug) or abort(404)
    return _edit(definition)


@bp.route("/forms/<int:submission_id>/edit", methods=["GET", "POST"])
@login_required
def edit(submission_id: int):
    submission = visible_submission(submission_id)
    if not services.can_edit(current_user, submission):
        if request.method == "POST":  # sent already, from another tab or by a second click
            flash(str(services.AlreadySent(submission)), "info")
        return redirect(url_for("forms.show", submission_id=submission.id))
    return _edit(get_form(submission.form_slug), submission)


@bp.post("/forms/<int:submission_id>/delete")
@login_required
def delete_draft(submission_id: int):
    submission = visible_submission(submission_id)
    return_to(url_for("forms.edit", submission_id=submission.id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.delete_draft(current_user, submission)
    flash(_("The draft is deleted."), "success")
    return redirect(url_for("forms.index"))


@bp.get("/forms/<int:submission_id>")
@login_required
def show(submission_id: int):
    submission = visible_submission(submission_id)
    services.record_view(current_user, submission, request.remote_addr or "")
    definition = get_form(submission.form_slug)
    can_review = services.can_review(current_user, submission)
    return render_template("forms/show.html", submission=submission, definition=definition,
                           can_edit=services.can_edit(current_user, submission), can_review=can_review,
                           can_complete=services.can_complete(current_user, submission),
                           shown=labelled(definition.slug, definition.sections, submission.data),
                           result=services.check(definition, submission.data, submission),
                           information=services.information_status(submission),
                           changes=services.changes_since_last_sent(submission) if can_review else [],
                           field_labels=field_labels(definition.slug), form_labels=employment_form_labels(),
                           history_labels=HISTORY_LABELS,
                           follow_up_tickets=services.follow_up_tickets(submission, current_user),
                           can_complete_robot=services.can_requeue(current_user, submission))


def _pdf_response(pdf: bytes, filename: str):
    response = make_response(pdf)
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/forms/<int:submission_id>/preview.pdf")
@login_required
def preview(submission_id: int):
    submission = visible_submission(submission_id)
    if submission.status == "approved":  # the approved document is the one to read
        abort(404)
    services.record_view(current_user, submission, request.remote_addr or "", "download", "preview.pdf")
    pdf = services.render_document(get_form(submission.form_slug), submission.data, organisation(), draft=True)
    return _pdf_response(pdf, f"order-{submission.id}-utkast.pdf")


@bp.get("/forms/<int:submission_id>/documents/<int:version>.pdf")
@login_required
def document(submission_id: int, version: int):
    submission = visible_submission(submission_id)
    found = next((d for d in submission.documents if d.version == version), None) or abort(404)
    services.record_view(current_user, submission, request.remote_addr or "", "download",
                         f"document v{found.version}")
    path = services.document_path(found, Path(current_app.config["LOTSEN_UPLOAD_PATH"]))
    return send_file(path, mimetype="application/pdf", as_attachment=True,
                     download_name=f"{submission.form_slug}-{submission.id}-v{found.version}.pdf")


def _review(submission_id: int, action) -> object:
    """Run a reviewer's action on an order; a refusal comes back to the order as a message."""
    submission = visible_submission(submission_id)
    return_to(url_for("forms.show", submission_id=submission.id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    flash(action(submission), "success")
    return redirect(url_for("forms.show", submission_id=submission.id))


@bp.post("/forms/<int:submission_id>/return")
@login_required
def return_order(submission_id: int):
    def action(submission):
        services.return_to_owner(submission, current_user, request.form.get("comment", ""), office_calendar(),
                                 mail_context())
        return _("The order is returned to %(name)s.", name=submission.owner.name)
    return _review(submission_id, action)


@bp.post("/forms/<int:submission_id>/approve")
@login_required
def approve(submission_id: int):
    def action(submission):
        found = services.approve(submission, current_user, organisation(),
                                 Path(current_app.config["LOTSEN_UPLOAD_PATH"]), office_calendar(), mail_context(),
                                 acknowledged=request.form.get("acknowledge") == "1")
        return _("Approved. The document (version %(version)s) is stored.", version=found.version)
    return _review(submission_id, action)


@bp.post("/forms/<int:submission_id>/identity")
@login_required
def complete_identity(submission_id: int):
    def action(submission):
        services.complete_identity_number(submission, current_user, request.form.get("personnummer", ""),
                                          organisation(), Path(current_app.config["LOTSEN_UPLOAD_PATH"]))
        return _("The identity number is added.")
    return _review(submission_id, action)


@bp.post("/forms/<int:submission_id>/robot/requeue")
@login_required
def requeue(submission_id: int):
    def action(submission):
        services.requeue_robot_work(submission, current_user)
        return _("The order is back in the robots' queue.")
    return _review(submission_id, action)
