"""The specialists' workspace: queues, the case page's actions, registering cases, ready answers, PDFs."""

from __future__ import annotations

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.models import User
from app.auth.services import get_function, list_functions, list_users
from app.core.db import db, utcnow
from app.core.forms import ConfirmForm
from app.core.pdf import render_pdf
from app.core.permissions import Role, role_required
from app.core.transactions import return_to
from app.selfservice.queries import articles_by_ids, popular_articles
from app.selfservice.search import get_index
from app.tickets import queries, routing, services
from app.tickets.blueprint import bp
from app.tickets.forms import (
    ActionForm,
    CannedForm,
    NoticeForm,
    RegisterForm,
    ReplyForm,
    RoutingRuleForm,
    RoutingTestForm,
)
from app.tickets.models import CHANNELS, PRIORITIES, STATUSES, CannedResponse, Notice
from app.tickets.services import mail_context
from app.tickets.sla import office_calendar, sla_state
from app.tickets.view_helpers import visible_ticket

specialist_required = role_required(Role.SPECIALIST)


STATUS_LABELS = {"new": _l("New"), "open": _l("Open"), "waiting": _l("Waiting for you"),
                 "resolved": _l("Resolved"), "closed": _l("Closed")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
VIEW_LABELS = {"unassigned": _l("Unassigned"), "mine": _l("Mine"), "waiting": _l("Waiting on requester"),
               "open": _l("All open"), "due_soon": _l("Due soon"), "breached": _l("Breached"),
               "resolved": _l("Resolved")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def priority_label(priority: str) -> str:
    return str(PRIORITY_LABELS.get(priority, priority))


def view_label(view: str) -> str:
    return str(VIEW_LABELS[view])


@bp.app_context_processor
def ticket_labels():
    return {"status_label": status_label, "priority_label": priority_label}


def _colleagues(ticket) -> list[User]:
    return [u for u in list_users() if u.is_active and services.works_in(u, ticket.function)]


def _action_form(ticket) -> ActionForm:
    form = ActionForm()
    form.status.choices = [SelectChoice(s, status_label(s)) for s in STATUSES]
    form.priority.choices = [SelectChoice(p, priority_label(p)) for p in PRIORITIES]
    form.assignee.choices = [SelectChoice("", _("Nobody"))] + [
        SelectChoice(u.username, u.name) for u in _colleagues(ticket)]
    form.function.choices = [SelectChoice(f.slug, f.name) for f in list_functions() if f.id != ticket.function_id]
    if request.method == "GET":
        form.status.data, form.priority.data = ticket.status, ticket.priority
        form.assignee.data = ticket.assignee.username if ticket.assignee else ""
    return form


def article_choices(ticket) -> list[SelectChoice]:
    """Published articles to link in a reply, the case's function first."""
    articles = sorted(popular_articles(limit=500), key=lambda a: (a.function_id != ticket.function_id, a.title))
    return [SelectChoice("", _("No article"))] + [SelectChoice(a.slug, a.title) for a in articles]


def own_function(slug: str):
    """The support function ``slug`` if the current specialist works in it (404 unknown, 403 not theirs)."""
    if slug not in {f.slug for f in list_functions()}:
        abort(404)
    function = get_function(slug)
    if not services.works_in(current_user, function):
        abort(403)
    return function


def render_work_page(ticket, reply_form: ReplyForm | None = None, status: int = 200):
    canned = services.canned_responses(ticket.function)
    reply_form = reply_form or ReplyForm()
    reply_form.article.choices = article_choices(ticket)
    return render_template(
        "tickets/work.html", ticket=ticket, events=services.visible_events(ticket, current_user),
        reply_form=reply_form,
        actions=_action_form(ticket), sla=sla_state(ticket, office_calendar(), utcnow()),
        canned=[(c, services.fill_placeholders(c.body, ticket)) for c in canned],
        others=services.others_viewing(ticket, current_user),
    ), status


@bp.get("/workspace")
@specialist_required
def workspace():
    functions = current_user.functions_for(Role.SPECIALIST)
    return redirect(url_for("tickets.queue", slug=functions[0].slug))


@bp.get("/workspace/<slug>")
@specialist_required
def queue(slug: str):
    function = own_function(slug)
    view = request.args.get("view", "open")
    view = view if view in queries.QUEUE_VIEWS else "open"
    now = utcnow()
    page = queries.queue([function.id], view, current_user, now, text=request.args.get("q", ""),
                         priority=request.args.get("priority") or None, sort=request.args.get("sort", "activity"),
                         cursor=request.args.get("after"))
    cal = office_calendar()
    return render_template(
        "tickets/queue.html", function=function, view=view, page=page, views=queries.QUEUE_VIEWS,
        view_label=view_label, counts=queries.queue_counts([function.id], current_user, now),
        sla={t.id: sla_state(t, cal, now) for t in page.tickets}, args=request.args,
        my_functions=current_user.functions_for(Role.SPECIALIST), priorities=PRIORITIES,
    )


def _act(number: str, action) -> object:
    ticket = visible_ticket(number)
    if not services.can_work(current_user, ticket):
        abort(403)
    return_to(url_for("tickets.show", number=ticket.number, _anchor="actions"))
    form = _action_form(ticket)
    if not form.validate_on_submit():
        raise services.TicketError(_("The form had expired. Try again."))
    message = action(ticket, form)
    flash(message, "success")
    if not services.can_view(current_user, ticket):  # re-routed away from a confidential function
        return redirect(url_for("tickets.workspace"))
    return redirect(url_for("tickets.show", number=ticket.number))


@bp.post("/tickets/<number>/status")
@specialist_required
def set_status(number: str):
    def action(ticket, form):
        services.change_status(ticket, current_user, form.status.data, office_calendar(), mail_context())
        return _("Status: %(status)s.", status=status_label(ticket.status))
    return _act(number, action)


@bp.post("/tickets/<number>/assign")
@specialist_required
def assign(number: str):
    def action(ticket, form):
        username = current_user.username if request.form.get("take") else form.assignee.data
        assignee = next((u for u in _colleagues(ticket) if u.username == username), None) if username else None
        if username and assignee is None:
            raise services.TicketError(_("%(name)s does not work in %(function)s.", name=username,
                                         function=ticket.function.name))
        services.assign(ticket, current_user, assignee)
        return _("Assigned to %(name)s.", name=assignee.name) if assignee else _("Nobody is assigned now.")
    return _act(number, action)


@bp.post("/tickets/<number>/priority")
@specialist_required
def set_priority(number: str):
    def action(ticket, form):
        services.set_priority(ticket, current_user, form.priority.data, office_calendar())
        return _("Priority: %(priority)s.", priority=priority_label(ticket.priority))
    return _act(number, action)


@bp.post("/tickets/<number>/reroute")
@specialist_required
def reroute(number: str):
    def action(ticket, form):
        if form.function.data not in {f.slug for f in list_functions()}:
            raise services.TicketError(_("Choose a support function."))
        services.reroute(ticket, current_user, form.function.data, form.reason.data or "", office_calendar())
        return _("The case is moved to %(function)s.", function=ticket.function.name)
    return _act(number, action)


@bp.post("/tickets/<number>/merge")
@specialist_required
def merge(number: str):
    def action(ticket, form):
        target = services.merge(ticket, current_user, form.target.data or "", office_calendar())
        return _("Merged into %(number)s.", number=target.number)
    return _act(number, action)


@bp.get("/tickets/<number>/pdf")
@specialist_required
def pdf(number: str):
    ticket = visible_ticket(number)
    if not services.can_work(current_user, ticket):
        abort(403)
    services.audit_read(current_user, ticket, "download", detail="case PDF", address=request.remote_addr or "")
    html = render_template("pdf/ticket.html", ticket=ticket, events=services.visible_events(ticket, current_user),
                           printed_at=utcnow())
    response = make_response(render_pdf(html))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{ticket.number}.pdf"'
    return response


@bp.route("/workspace/register", methods=["GET", "POST"])
@specialist_required
def register():
    form = RegisterForm()
    form.channel.choices = [SelectChoice(c, c) for c in CHANNELS if c not in ("portal", "widget")]
    mine = current_user.functions_for(Role.SPECIALIST)
    choices = list_functions() if current_user.has_role(Role.SPECIALIST, "servicecenter") else mine
    form.function.choices = [SelectChoice(f.slug, f.name) for f in choices]
    if form.validate_on_submit():
        try:
            ticket = services.register_case(current_user, form.requester.data, form.subject.data,
                                            form.description.data, form.channel.data, form.function.data,
                                            office_calendar(), mail_context())
        except services.TicketError as exc:
            form.requester.errors.append(str(exc))
        else:
            flash(_("Registered %(number)s.", number=ticket.number), "success")
            if services.can_view(current_user, ticket):
                return redirect(url_for("tickets.show", number=ticket.number))
            return redirect(url_for("tickets.workspace"))
    return render_template("tickets/register.html", form=form), 400 if form.errors else 200


@bp.route("/workspace/<slug>/canned", methods=["GET", "POST"])
@specialist_required
def canned(slug: str):
    function = own_function(slug)
    editing = None
    if request.args.get("edit"):
        editing = db.session.get(CannedResponse, request.args.get("edit", type=int))
        if editing is None or editing.function_id != function.id:
            abort(404)
    form = CannedForm(obj=editing) if request.method == "GET" else CannedForm()
    if form.validate_on_submit():
        try:
            services.save_canned_response(function, current_user, form.title.data, form.body.data, editing)
        except services.TicketError as exc:
            form.title.errors.append(str(exc))
        else:
            flash(_("The ready answer is saved."), "success")
            return redirect(url_for("tickets.canned", slug=slug))
    return render_template("tickets/canned.html", function=function, form=form, editing=editing,
                           responses=services.canned_responses(function)), 400 if form.errors else 200


@bp.get("/workspace/<slug>/stats")
@specialist_required
def stats(slug: str):
    function = own_function(slug)
    return render_template("tickets/stats.html", function=function,
                           months=queries.reroute_stats(function.slug, function.id))


admin_required = role_required(Role.ADMIN)


@bp.route("/admin/routing", methods=["GET", "POST"])
@admin_required
def routing_admin():
    test_form, rule_form = RoutingTestForm(prefix="test"), RoutingRuleForm(prefix="rule")
    rule_form.function.choices = [SelectChoice(f.slug, f.name) for f in list_functions()]
    decision = similar = cases = None
    if request.method == "POST" and request.form.get("action") == "rule" and rule_form.validate_on_submit():
        try:
            routing.add_rule(rule_form.phrase.data, rule_form.function.data, rule_form.priority.data or 0)
        except ValueError as exc:
            rule_form.phrase.errors.append(str(exc))
        else:
            flash(_("The rule is saved and used at once."), "success")
            return redirect(url_for("tickets.routing_admin"))
    elif request.method == "POST" and request.form.get("action") == "delete" and ConfirmForm().validate_on_submit():
        routing.delete_rule(request.form.get("rule_id", type=int))
        flash(_("The rule is removed."), "success")
        return redirect(url_for("tickets.routing_admin"))
    elif request.method == "POST" and test_form.validate_on_submit():
        decision = routing.decide_route(None, test_form.subject.data or "", test_form.body.data or "")
        text = f"{test_form.subject.data} {test_form.body.data}"
        similar = search_articles(text)
        cases = queries.similar_cases(text, decision.stems, current_user, neighbours=decision.neighbours)
    model = routing.current_model()
    by_meaning = routing.uses_meaning(model)
    return render_template("tickets/routing.html", test_form=test_form, rule_form=rule_form, decision=decision,
                           similar=similar, cases=cases, rules=routing.active_rules(), confirm=ConfirmForm(),
                           calibration=(model.calibration if by_meaning else model.words_calibration)
                           if model else None, by_meaning=by_meaning,
                           embedding_model=model.embedding_model if model else None,
                           threshold=routing.direct_threshold(model),
                           words_threshold=routing.direct_threshold(model, by_meaning=False) if by_meaning else None,
                           overridden=current_app.config["LOTSEN_ROUTING_MIN_CONFIDENCE"] is not None,
                           ), 400 if rule_form.errors else 200


def search_articles(text: str):
    hits = get_index().search(text, limit=3).hits
    found = articles_by_ids([h.article_id for h in hits])
    return [found[h.article_id] for h in hits if h.article_id in found]


@bp.route("/workspace/<slug>/notices", methods=["GET", "POST"])
@specialist_required
def notices(slug: str):
    function = own_function(slug)
    form = NoticeForm()
    if request.method == "POST" and request.form.get("expire") and ConfirmForm().validate_on_submit():
        notice = db.session.get(Notice, request.form.get("expire", type=int))
        if notice is None or notice.function_id != function.id:
            abort(404)
        services.expire_notice(notice, current_user)
        flash(_("The notice is no longer shown."), "success")
        return redirect(url_for("tickets.notices", slug=slug))
    if form.validate_on_submit():
        try:
            services.publish_notice(function, current_user, form.title.data, form.body.data or "",
                                    float(form.hours.data))
        except services.TicketError as exc:
            form.title.errors.append(str(exc))
        else:
            flash(_("The notice is published."), "success")
            return redirect(url_for("tickets.notices", slug=slug))
    return render_template("tickets/notices.html", function=function, form=form, confirm=ConfirmForm(),
                           current=services.current_notices(function.slug)), 400 if form.errors else 200
