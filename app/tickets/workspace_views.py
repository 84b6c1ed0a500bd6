"""The specialists' workspace: queues, the case page's actions, registering cases, ready answers, PDFs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from app.auth.ldap import directories_from_config
from app.auth.models import User
from app.auth.services import get_user, list_functions, search_people, specialists_in
from app.core.db import db, utcnow
from app.core.forms import ConfirmForm, KeyedSelect
from app.core.i18n import current_language, translated
from app.core.pdf import render_pdf
from app.core.permissions import Role, role_required
from app.core.transactions import return_to
from app.core.uploads import UploadRejected, upload_limits, uploads_from
from app.selfservice.queries import articles_by_ids, function_choices, linkable_articles
from app.selfservice.search import as_question, get_index
from app.tickets import queries, routing, services
from app.tickets.blueprint import bp
from app.tickets.forms import (
    ActionForm,
    CannedForm,
    NoticeForm,
    RegisterForm,
    RoutingRuleForm,
    RoutingTestForm,
    WorkForm,
)
from app.tickets.models import PRIORITIES, STATUSES, CannedResponse, Notice
from app.tickets.services import mail_context
from app.tickets.sla import duration_text, office_calendar, sla_state
from app.tickets.view_helpers import visible_ticket, workable_ticket

specialist_required = role_required(Role.SPECIALIST)


STATUS_LABELS = {"new": _l("New"), "open": _l("Open"), "waiting": _l("Waiting for the requester"),
                 "resolved": _l("Resolved"), "closed": _l("Closed")}
REQUESTER_STATUS_LABELS = {**STATUS_LABELS, "waiting": _l("Waiting for you")}  # what the asker reads
REGISTERED_CHANNELS = ("phone", "visit", "email")  # how a specialist can have been contacted
CHANNEL_LABELS = {"portal": _l("Lotsen"), "phone": _l("Phone"), "visit": _l("Visit"), "email": _l("E-mail"),
                  "widget": _l("The intranet"), "form": _l("Digital form")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
VIEW_LABELS = {"unassigned": _l("Unassigned"), "mine": _l("Mine"), "waiting": _l("Waiting on requester"),
               "open": _l("All open"), "due_soon": _l("Due soon"), "breached": _l("Breached"),
               "resolved": _l("Resolved")}


def status_label(status: str, requester: bool = False) -> str:
    """A status in words; ``requester``: as the person who asked reads it ("waiting for you")."""
    return status_labels(requester).get(status, status)


def channel_label(channel: str) -> str:
    return translated(CHANNEL_LABELS).get(channel, channel)


def priority_label(priority: str) -> str:
    return priority_labels().get(priority, priority)


def view_label(view: str) -> str:
    return translated(VIEW_LABELS)[view]


def status_labels(requester: bool = False) -> Mapping[str, str]:
    """Every status in words, for a list to look its rows up in (one translation lookup, not one per row)."""
    return translated(REQUESTER_STATUS_LABELS if requester else STATUS_LABELS)


def priority_labels() -> Mapping[str, str]:
    return translated(PRIORITY_LABELS)


@bp.app_context_processor
def ticket_labels():
    return {"status_label": status_label, "priority_label": priority_label, "sla_duration": duration_text,
            "channel_label": channel_label, "status_labels": status_labels, "priority_labels": priority_labels}


def _colleagues(ticket) -> list[User]:
    return specialists_in(ticket.function)


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


_article_choices: dict[tuple, list[SelectChoice]] = {}


def article_choices(ticket) -> tuple[tuple, list[SelectChoice]]:
    """Published articles to link in a reply, the case's function first, and the key of that list (its options
    are rendered once under it, see ``KeyedSelect``): built once per list, function and language."""
    listed, articles = linkable_articles()
    key = (listed, ticket.function_id, current_language())
    choices = _article_choices.get(key)
    if choices is None:
        ordered = sorted(articles, key=lambda a: (a.function_id != ticket.function_id, a.title))
        choices = [SelectChoice("", _("No article"))] + [SelectChoice(a.slug, a.title) for a in ordered]
        if len(_article_choices) >= KeyedSelect.LIMIT:
            _article_choices.clear()
        _article_choices[key] = choices
    return key, choices


def resolve_person(text: str) -> str:
    """The user name for what was typed: a user name as it is, else the one person whose name, e-mail or user
    name matches (several or none: the text as typed, and the service says it finds nobody)."""
    text = (text or "").strip()
    if get_user(text) is not None:
        return text
    people = search_people(text, directories_from_config(current_app.config), limit=2)
    return people[0].username if len(people) == 1 else text


def own_function(slug: str):
    """The support function ``slug`` if the current specialist works in it (404 unknown, 403 not theirs), from
    the roles loaded with the user: no query."""
    function = next((f for f in current_user.functions_for(Role.SPECIALIST) if f.slug == slug), None)
    if function is None:
        abort(403 if slug in {f.slug for f in function_choices()} else 404)
    return function


TEXT_PREVIEW_BYTES = 4000  # the start of a text attachment shown in the timeline


def _work_form(ticket, events) -> WorkForm:
    form = WorkForm()
    form.status.choices = [SelectChoice(s, status_label(s)) for s in STATUSES]
    form.priority.choices = [SelectChoice(p, priority_label(p)) for p in PRIORITIES]
    form.assignee.choices = [SelectChoice("", _("Nobody"))] + [
        SelectChoice(u.username, u.name) for u in _colleagues(ticket)]
    others = [f for f in list_functions() if f.id != ticket.function_id]
    form.function.choices = [SelectChoice("", _("Stays with %(function)s", function=ticket.function.name))] + [
        SelectChoice(f.slug, f.name) for f in others]
    form.category.choices = [SelectChoice("", _("No category"))] + [
        SelectChoice(c.slug, c.name, optgroup=c.function.name) for c in services.list_categories()
        if c.function_id != ticket.function_id]
    form.article.options_key, form.article.choices = article_choices(ticket)
    now = {"status": ticket.status, "priority": ticket.priority,
           "assignee": ticket.assignee.username if ticket.assignee else ""}
    sent = request.form if request.method == "POST" else {}
    for name, value in now.items():  # what was sent stays; what was not is the case as it is
        if name not in sent:
            getattr(form, name).data = value
    if "seen" not in sent:
        form.seen.data = str(max((e.id for e in events), default=0))
    if "loaded" not in sent:
        form.loaded.data = "|".join(now.values())
    return form


def _text_previews(events) -> dict[int, str]:
    """The start of each text attachment, to read in the timeline without downloading it."""
    root = Path(current_app.config["LOTSEN_UPLOAD_PATH"]) / "tickets"
    previews = {}
    for attached in (a for e in events for a in e.attachments if a.content_type == "text/plain"):
        try:
            with (root / attached.stored_name).open("rb") as handle:
                previews[attached.id] = handle.read(TEXT_PREVIEW_BYTES).decode("utf-8", errors="replace")
        except OSError:
            continue
    return previews


def render_work_page(ticket, form: WorkForm | None = None, status: int = 200, conflict=(), carried=None):
    """The case page of a specialist; ``carried``: a reply form sent to the older reply address, whose text and
    errors are kept. Shown again after a problem (status 400 or 409), its read is audited on its own: the
    request's transaction rolls back."""
    if status >= 400:
        services.audit_read(current_user, ticket, "view", detail="form shown again",
                            address=request.remote_addr or "", at_once=True)
    events = services.visible_events(ticket, current_user)
    form = form or _work_form(ticket, events)
    if carried is not None:
        form.body.data = carried.body.data
        form.body.errors, form.files.errors = list(carried.body.errors), list(carried.files.errors)
    names = queries.names_of({v for e in events if e.kind == "assign" for v in (e.data.get("old"), e.data.get("new"))
                              if v})
    return render_template(
        "tickets/work.html", ticket=ticket, events=events, form=form, conflict=conflict,
        sla=sla_state(ticket, office_calendar(), utcnow()),
        canned=[(c, services.fill_placeholders(c.body, ticket)) for c in services.canned_responses(ticket.function)],
        others=services.others_viewing(ticket, current_user), person_names=names,
        function_names={f.slug: f.name for f in list_functions()},
        suggested=search_articles(as_question(f"{ticket.subject} {ticket.description}")),
        other_cases=queries.other_cases_of(ticket, current_user), previews=_text_previews(events),
        article_button=not services.holds_confidential(ticket),
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
    page = queries.queue(function.id, view, current_user, now, text=request.args.get("q", ""),
                         priority=request.args.get("priority") or None, sort=request.args.get("sort", "activity"),
                         cursor=request.args.get("after"))
    cal = office_calendar()
    return render_template(
        "tickets/queue.html", function=function, view=view, page=page, views=queries.QUEUE_VIEWS,
        view_label=view_label, counts=queries.queue_counts(function.id, current_user, now),
        sla={t.id: sla_state(t, cal, now) for t in page.tickets}, args=request.args,
        my_functions=current_user.functions_for(Role.SPECIALIST), priorities=PRIORITIES, statuses=STATUSES,
        colleagues=queries.colleagues_in(function.id),
        functions=[f for f in function_choices() if f.slug != function.slug],
        filters=queries.filter_links(current_user.id, function.id),
        newest=max((t.id for t in page.tickets), default=0),
    )


def _queue_url(slug: str) -> str:
    """Back to the queue as it was filtered (the page sends its own query string along)."""
    query = request.form.get("back", "")
    return url_for("tickets.queue", slug=slug) + (f"?{query}" if query and query.isprintable() else "")


@bp.get("/workspace/<slug>/new-count")
@specialist_required
def new_count(slug: str):
    """For the queue page's "N new cases" banner: cases in the view newer than the newest shown."""
    function = own_function(slug)
    view = request.args.get("view", "open")
    view = view if view in queries.QUEUE_VIEWS else "open"
    after = request.args.get("after", type=int) or 0
    return {"new": queries.newer_in_view(function.id, view, current_user, utcnow(), after)}


def _queue_post(slug: str, back: str):
    """The checks of a queue page's form: the specialist works in the function and the form is fresh; a refusal
    comes back to ``back`` as a message. Returns the function."""
    function = own_function(slug)
    return_to(back)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return function


@bp.post("/workspace/<slug>/bulk")
@specialist_required
def bulk(slug: str):
    """One change on the chosen cases: assign, status, priority, re-route or close; each audited."""
    function = _queue_post(slug, _queue_url(slug))
    chosen = []
    for number in request.form.getlist("case")[:services.MAX_BULK + 1]:
        ticket = services.get_ticket(number)
        if ticket is None or not services.can_view(current_user, ticket):  # all or nothing, and no hints
            raise services.TicketError(_("You cannot change %(number)s.", number=number[:20]))
        chosen.append(ticket)
    action = request.form.get("bulk_action", "")
    assignee = None
    if action == "assign" and request.form.get("assignee"):
        assignee = next((u for u in specialists_in(function) if u.username == request.form["assignee"]), None)
        if assignee is None:
            raise services.TicketError(_("Choose a colleague in %(function)s.", function=function.name))
    if action == "reroute" and request.form.get("function") not in {f.slug for f in list_functions()}:
        raise services.TicketError(_("Choose a support function."))
    count = services.bulk_update(
        chosen, current_user, action, calendar=office_calendar(), mail=mail_context(),
        status=request.form.get("status", ""), priority=request.form.get("priority", ""), assignee=assignee,
        function_slug=request.form.get("function", ""), reason=request.form.get("reason", ""))
    flash(ngettext("%(num)d case changed.", "%(num)d cases changed.", count), "success")
    return redirect(_queue_url(slug))


@bp.post("/workspace/<slug>/filters")
@specialist_required
def save_filter(slug: str):
    function = _queue_post(slug, _queue_url(slug))
    saved = services.save_filter(current_user, function, request.form.get("name", ""), request.form.get("back", ""))
    flash(_("The filter \u201c%(name)s\u201d is saved.", name=saved.name), "success")
    return redirect(_queue_url(slug))


@bp.post("/workspace/<slug>/filters/<int:filter_id>/delete")
@specialist_required
def delete_filter(slug: str, filter_id: int):
    function = _queue_post(slug, url_for("tickets.queue", slug=slug))
    saved = next((f for f in services.saved_filters(current_user, function) if f.id == filter_id), None)
    if saved is None:
        abort(404)
    services.delete_filter(current_user, saved)
    flash(_("The filter is removed."), "success")
    return redirect(url_for("tickets.queue", slug=slug))


@bp.get("/workspace/<slug>/next")
@specialist_required
def next_case(slug: str):
    """The next case to work: mine or unassigned, not waiting, the most urgent service level first."""
    function = own_function(slug)
    found = queries.next_workable(function, current_user, (request.args.get("after") or "").upper())
    if found is not None:
        return redirect(url_for("tickets.show", number=found.number))
    flash(_("No other case in %(function)s is assigned to you or to nobody.", function=function.name), "info")
    return redirect(url_for("tickets.queue", slug=slug))


def _act(number: str, action) -> object:
    ticket = workable_ticket(number)
    return_to(url_for("tickets.show", number=ticket.number, _anchor="actions"))
    form = _action_form(ticket)
    if not form.validate_on_submit():
        raise services.TicketError(_("The form had expired. Try again."))
    message = action(ticket, form)
    flash(message, "success")
    if not services.can_view(current_user, ticket):  # re-routed away from a confidential function
        return redirect(url_for("tickets.workspace"))
    return redirect(url_for("tickets.show", number=ticket.number))


@bp.post("/tickets/<number>/work")
@specialist_required
def work(number: str):
    """Reply or note, assign, set status and priority, and move the case, in one submit."""
    ticket = workable_ticket(number)
    return_to(url_for("tickets.show", number=ticket.number, _anchor="work"))
    events = services.visible_events(ticket, current_user)
    form = _work_form(ticket, events)
    if not form.validate_on_submit():
        return render_work_page(ticket, form, 400)
    body = (form.body.data or "").strip()
    seen = int(form.seen.data) if (form.seen.data or "").isdigit() else None
    conflict = services.replies_since(ticket, seen, current_user) if body else []
    if conflict and not form.confirm.data:  # a colleague answered while this was written: read it first
        form.confirm.data = "1"
        return render_work_page(ticket, form, 409, conflict=conflict)
    done = []
    cal = office_calendar()
    if body:
        internal = bool(form.internal.data)
        if form.article.data:
            body += "\n\n" + url_for("selfservice.article", slug=form.article.data, _external=True)
        try:
            services.add_reply(ticket, current_user, body, public=not internal, calendar=cal, mail=mail_context(),
                               uploads=uploads_from(form.files.data), then_wait=bool(form.then_wait.data),
                               **upload_limits())
        except UploadRejected as exc:  # the message stays in the form; only the file needs choosing again
            form.files.errors.append(str(exc))
            return render_work_page(ticket, form, 400)
        done.append(_("Your note is saved.") if internal else _("Your message is sent."))
    done += _apply_changes(ticket, form, cal)
    flash(" ".join(done) or _("Nothing was changed."), "success" if done else "info")
    if not services.can_view(current_user, ticket):  # moved to a confidential function the writer is not in
        return redirect(url_for("tickets.workspace"))
    return redirect(url_for("tickets.show", number=ticket.number))


def _apply_changes(ticket, form: WorkForm, cal) -> list[str]:
    """The properties the writer changed on the page (against the values it was loaded with, so a colleague's
    change made meanwhile is not undone), in an order that keeps the writer allowed: moving comes last."""
    done = []
    loaded = dict(zip(("status", "priority", "assignee"), (form.loaded.data or "||").split("|", 2), strict=False))
    wanted = form.assignee.data or ""
    if wanted != loaded.get("assignee", "") and wanted != (ticket.assignee.username if ticket.assignee else ""):
        assignee = next((u for u in _colleagues(ticket) if u.username == wanted), None) if wanted else None
        if wanted and assignee is None:
            raise services.TicketError(_("%(name)s does not work in %(function)s.", name=wanted,
                                         function=ticket.function.name))
        services.assign(ticket, current_user, assignee, mail_context())
        done.append(_("Assigned to %(name)s.", name=assignee.name) if assignee else _("Nobody is assigned now."))
    if form.priority.data and form.priority.data != loaded.get("priority") and form.priority.data != ticket.priority:
        services.set_priority(ticket, current_user, form.priority.data, cal)
        done.append(_("Priority: %(priority)s.", priority=priority_label(ticket.priority)))
    public_wait = form.then_wait.data and form.body.data and not form.internal.data  # the reply set "waiting"
    if (form.status.data and form.status.data != loaded.get("status") and form.status.data != ticket.status
            and not public_wait):
        services.change_status(ticket, current_user, form.status.data, cal, mail_context())
        done.append(_("Status: %(status)s.", status=status_label(ticket.status)))
    if form.function.data:
        if form.function.data not in {f.slug for f in list_functions()}:
            raise services.TicketError(_("Choose a support function."))
        services.reroute(ticket, current_user, form.function.data, form.reason.data or "", cal,
                         category=services.get_category(form.category.data or None), mail=mail_context())
        done.append(_("The case is moved to %(function)s.", function=ticket.function.name))
    return done


@bp.post("/tickets/<number>/presence")
@specialist_required
def presence(number: str):
    """The case page says goodbye (navigator.sendBeacon on leaving): the colleague stops being shown at once."""
    ticket = visible_ticket(number)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.leave_case(current_user, ticket)
    return "", 204


@bp.post("/tickets/<number>/events/<int:event_id>/article")
@specialist_required
def article_from_answer(number: str, event_id: int):
    ticket = visible_ticket(number)
    return_to(url_for("tickets.show", number=ticket.number, _anchor=f"event-{event_id}"))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    event = next((e for e in services.visible_events(ticket, current_user) if e.id == event_id), None)
    if event is None:
        abort(404)
    article = services.draft_article_from(ticket, event, current_user)
    flash(_("A draft article \u201c%(title)s\u201d is handed to the editors of %(function)s.", title=article.title,
            function=ticket.function.name), "success")
    return redirect(url_for("tickets.show", number=ticket.number, _anchor=f"event-{event_id}"))


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
        services.assign(ticket, current_user, assignee, mail_context())
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
        services.reroute(ticket, current_user, form.function.data, form.reason.data or "", office_calendar(),
                         mail=mail_context())
        return _("The case is moved to %(function)s.", function=ticket.function.name)
    return _act(number, action)


@bp.post("/tickets/<number>/merge")
@specialist_required
def merge(number: str):
    def action(ticket, form):
        target = services.merge(ticket, current_user, form.target.data or "", office_calendar())
        return _("Merged into %(number)s.", number=target.number)
    return _act(number, action)


@bp.post("/tickets/<number>/legal-hold")
@specialist_required
def legal_hold(number: str):
    def action(ticket, form):
        on = bool(request.form.get("on"))
        services.set_legal_hold(ticket, current_user, on)
        return _("Legal hold set.") if on else _("Legal hold lifted.")
    return _act(number, action)


@bp.get("/tickets/<number>/pdf")
@specialist_required
def pdf(number: str):
    ticket = workable_ticket(number)
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
    form.channel.choices = [SelectChoice(c, channel_label(c)) for c in REGISTERED_CHANNELS]
    mine = current_user.functions_for(Role.SPECIALIST)
    choices = list_functions() if current_user.has_role(Role.SPECIALIST, "servicecenter") else mine
    form.function.choices = [SelectChoice(f.slug, f.name) for f in choices]
    form.requester.render_kw = {**form.requester.render_kw, "data-people-search": url_for("auth.people_search")}
    if form.validate_on_submit():
        try:
            ticket = services.register_case(current_user, resolve_person(form.requester.data), form.subject.data,
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
        similar = search_articles(as_question(text))
        cases = queries.similar_cases(text, decision.stems, current_user, neighbours=decision.neighbours)
    model = routing.current_model()
    by_meaning = routing.uses_meaning(model)
    return render_template("tickets/routing.html", test_form=test_form, rule_form=rule_form, decision=decision,
                           similar=similar, cases=cases, rules=routing.active_rules(),
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
    return render_template("tickets/notices.html", function=function, form=form,
                           current=services.current_notices(function.slug)), 400 if form.errors else 200
