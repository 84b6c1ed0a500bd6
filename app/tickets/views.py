from __future__ import annotations

import uuid
from pathlib import Path

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app.auth.services import list_functions
from app.core.db import db
from app.core.permissions import Role
from app.core.transactions import return_to
from app.core.uploads import UploadRejected, upload_limits, uploads_from
from app.tickets import notifications, queries, services
from app.tickets.blueprint import bp
from app.tickets.forms import AskForm, RateForm, ReplyForm
from app.tickets.models import TicketAttachment
from app.tickets.services import mail_context
from app.tickets.sla import office_calendar
from app.tickets.view_helpers import visible_ticket
from app.tickets.workspace_views import render_work_page, resolve_person


def _category_choices() -> list[SelectChoice]:
    choices = [SelectChoice("", _("Don't know – Lotsen will find the right person"))]
    for category in services.list_categories():
        choices.append(SelectChoice(category.slug, category.name, optgroup=category.function.name))
    return choices


@bp.route("/tickets/new", methods=["GET", "POST"])
@login_required
def new():
    form = AskForm()
    form.category.choices = _category_choices()
    if current_user.has_role(Role.MANAGER):
        form.on_behalf_of.render_kw = {**form.on_behalf_of.render_kw, "data-people-search": url_for(
            "auth.people_search")}
    if request.method == "GET":
        form.subject.data = request.args.get("q", "")[:200]
        form.category.data = request.args.get("category", "")
        form.submit_token.data = uuid.uuid4().hex
    if form.validate_on_submit():
        try:
            requester = (services.colleague_for(current_user, resolve_person(form.on_behalf_of.data))
                         if form.on_behalf_of.data else current_user)
            ticket = services.create_ticket(
                requester, form.subject.data, form.description.data,
                category=services.get_category(form.category.data), calendar=office_calendar(), mail=mail_context(),
                created_by=current_user if requester is not current_user else None,
                submit_token=form.submit_token.data or None, uploads=uploads_from(form.files.data),
                **upload_limits())
        except UploadRejected as exc:
            form.files.errors.append(str(exc))
        except services.TicketError as exc:
            getattr(form, exc.field or "description").errors.append(str(exc))
        else:
            return redirect(url_for("tickets.sent", number=ticket.number))
    return render_template("tickets/new.html", form=form), 400 if form.errors else 200


@bp.get("/tickets/<number>/sent")
@login_required
def sent(number: str):
    return render_template("tickets/sent.html", ticket=visible_ticket(number))


@bp.get("/tickets")
@login_required
def mine():
    page = queries.my_cases(current_user, cursor=request.args.get("after"))
    return render_template("tickets/mine.html", page=page)


@bp.get("/tickets/<number>")
@login_required
def show(number: str):
    ticket = visible_ticket(number)
    services.record_view(current_user, ticket, request.remote_addr or "")
    notifications.mark_read(current_user, ticket)
    return _case_page(ticket)


def _case_page(ticket, reply_form: ReplyForm | None = None, rate_form: RateForm | None = None, status: int = 200):
    """The case as the current user sees it; a form sent with problems is shown again with what was typed."""
    if services.can_work(current_user, ticket):
        return render_work_page(ticket, status=status, carried=reply_form)
    events = services.visible_events(ticket, current_user)
    return render_template("tickets/show.html", ticket=ticket, events=events,
                           person_names=queries.names_of({e.data.get("new") for e in events if e.kind == "assign"}
                                                         - {None}),
                           function_names={f.slug: f.name for f in list_functions()},
                           reply_form=reply_form or ReplyForm(), rate_form=rate_form or RateForm(),
                           can_reopen=services.can_reopen(ticket)), status


def _back(ticket, anchor: str | None = None):
    return redirect(url_for("tickets.show", number=ticket.number, _anchor=anchor))


@bp.post("/tickets/<number>/reply")
@login_required
def reply(number: str):
    ticket = visible_ticket(number)
    return_to(url_for("tickets.show", number=ticket.number, _anchor="reply"))
    form = ReplyForm()
    if form.validate_on_submit():
        internal = bool(form.internal.data) and services.can_work(current_user, ticket)
        body = form.body.data
        if form.article.data and services.can_work(current_user, ticket):
            body += "\n\n" + url_for("selfservice.article", slug=form.article.data, _external=True)
        try:
            services.add_reply(ticket, current_user, body, public=not internal, calendar=office_calendar(),
                               mail=mail_context(), uploads=uploads_from(form.files.data),
                               then_wait=bool(form.then_wait.data), **upload_limits())
        except UploadRejected as exc:  # the message stays in the form; only the file needs choosing again
            form.files.errors.append(str(exc))
        else:
            flash(_("Your note is saved.") if internal else _("Your message is sent."), "success")
            return _back(ticket)
    return _case_page(ticket, reply_form=form, status=400)


def _requester_action(number: str, action, done: str):
    """Run a case action for the current user; a refusal comes back to the case page as a message."""
    ticket = visible_ticket(number)
    return_to(url_for("tickets.show", number=ticket.number))
    action(ticket, current_user, office_calendar())
    flash(done, "success")
    return _back(ticket)


@bp.post("/tickets/<number>/close")
@login_required
def close(number: str):
    return _requester_action(number, services.close_by_requester, _("The case is closed."))


@bp.post("/tickets/<number>/reopen")
@login_required
def reopen(number: str):
    return _requester_action(number, services.reopen, _("The case is open again."))


@bp.post("/tickets/<number>/rate")
@login_required
def rate(number: str):
    ticket = visible_ticket(number)
    return_to(url_for("tickets.show", number=ticket.number, _anchor="rate"))
    form = RateForm()
    if form.validate_on_submit():
        services.rate(ticket, current_user, int(form.rating.data), form.comment.data or "")
        flash(_("Thank you for your rating!"), "success")
        return _back(ticket)
    return _case_page(ticket, rate_form=form, status=400)


@bp.get("/tickets/<number>/files/<int:attachment_id>/<path:name>")
@login_required
def attachment(number: str, attachment_id: int, name: str):
    ticket = visible_ticket(number)
    attached = db.session.get(TicketAttachment, attachment_id)
    if attached is None or attached.event.ticket_id != ticket.id:
        abort(404)
    if attached.event not in services.visible_events(ticket, current_user):
        abort(404)
    services.audit_read(current_user, ticket, "download", detail=f"attachment {attached.id}",
                        address=request.remote_addr or "")
    path = Path(current_app.config["LOTSEN_UPLOAD_PATH"]) / "tickets" / attached.stored_name
    if not path.is_file():
        abort(404)
    viewable = attached.content_type.startswith("image/") or attached.content_type in ("application/pdf",
                                                                                          "text/plain")
    inline = viewable and not request.args.get("download")
    mimetype = "text/plain; charset=utf-8" if attached.content_type == "text/plain" else attached.content_type
    return send_file(path, mimetype=mimetype, as_attachment=not inline, download_name=attached.original_name)
