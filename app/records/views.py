"""Administrators' pages: the retention rules (with what each would cull now) and the audit log (also for
auditors)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import User
from app.auth.services import get_user, list_functions
from app.core import audit
from app.core.db import db, utcnow
from app.core.forms import ConfirmForm
from app.core.permissions import Role, role_required
from app.core.spreadsheet import csv_response
from app.core.transactions import return_to
from app.forms.identity import parse_identity_number
from app.forms.registry import FORMS
from app.records import queries, services
from app.records.blueprint import bp
from app.records.models import RETENTION_ACTIONS, RetentionRule
from app.tickets.services import list_categories
from app.tickets.sla import STOCKHOLM

admin_required = role_required(Role.ADMIN)


@bp.route("/admin/retention", methods=["GET", "POST"])
@admin_required
def retention():
    functions = list_functions()
    if request.method == "POST":
        return_to(url_for("records.retention"))
        if not ConfirmForm().validate_on_submit():
            abort(400)
        form = request.form
        if form.get("action") == "delete":
            services.delete_rule(current_user, db.get_or_404(RetentionRule, form.get("rule_id", type=int)))
            flash(_("The retention rule is removed."), "success")
            return redirect(url_for("records.retention"))
        function = next((f for f in functions if f.slug == form.get("function")), None)
        category = next((c for c in list_categories() if c.slug == form.get("category")), None)
        try:
            services.save_rule(current_user, form.get("kind", ""), form.get("months", type=int) or 0,
                               form.get("cull", ""), form.get("decision", ""), function=function, category=category,
                               form_slug=form.get("form_slug") if form.get("form_slug") in FORMS else None)
        except services.RetentionRefused as exc:  # the page again, with what was typed and what is wrong
            db.session.rollback()
            return _retention_page(functions, typed=form, error=str(exc)), 400
        flash(_("The retention rule is saved."), "success")
        return redirect(url_for("records.retention"))
    return _retention_page(functions)


def _retention_page(functions, typed=None, error: str | None = None) -> str:
    now = utcnow()
    rules = services.list_rules()
    return render_template("records/retention.html", rules=rules, functions=functions,
                           categories=list_categories(), forms=FORMS, actions=RETENTION_ACTIONS,
                           due={rule.id: services.due_count(rule, now) for rule in rules},
                           typed=typed or {}, error=error)


def _day(name: str) -> datetime | None:
    """A date from the query string as the start of that day in Stockholm (UTC), None if absent or not a date."""
    raw = (request.args.get(name) or "").strip()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None
    return datetime.combine(day, time.min, tzinfo=STOCKHOLM).astimezone(UTC)


@bp.get("/admin/audit")
@role_required(Role.ADMIN, Role.AUDITOR)
def audit_log():
    """The audit log for administrators and auditors; every reading is itself written to the log."""
    username = (request.args.get("person") or "").strip()
    person = get_user(username) if username else None
    end = _day("to")
    search = queries.AuditFilter(
        person=person, object_type=(request.args.get("object_type") or "").strip()[:40],
        object_id=(request.args.get("object_id") or "").strip()[:60], action=(request.args.get("action") or "")[:40],
        start=_day("from"), end=end + timedelta(days=1) if end else None)
    unknown_person = bool(username) and person is None
    if request.args.get("format") == "csv":
        audit.record(current_user.id, "audit.export", "audit_entry", "-", search.describe())
        rows = [] if unknown_person else queries.audit_rows(search)
        return csv_response("lotsen-audit.csv", [_("Time"), _("Who"), _("User name"), _("Action"), _("Object"),
                                                 _("Object id"), _("Detail"), _("Address")],
                            [[entry.created_at.isoformat(), name or "", user or "", entry.action, entry.object_type,
                              entry.object_id, entry.detail, entry.address] for entry, name, user in rows])
    audit.record(current_user.id, "audit.read", "audit_entry", "-", search.describe())
    rows, next_before = ([], None) if unknown_person else queries.audit_page(
        search, request.args.get("before", type=int))
    next_url = url_for("records.audit_log", **{key: value for key, value in request.args.items() if key != "before"},
                       before=next_before) if next_before else None
    return render_template("records/audit.html", rows=rows, next_url=next_url, args=request.args,
                           unknown_person=unknown_person, actions=queries.audit_actions(),
                           object_types=queries.audit_object_types())


@bp.post("/admin/users/<int:user_id>/export")
@admin_required
def export_person(user_id: int):
    """Everything Lotsen holds about one person, as a ZIP (a data subject's request); audited."""
    person = db.get_or_404(User, user_id)
    return_to(url_for("auth.edit_user", user_id=person.id))
    if not ConfirmForm().validate_on_submit():
        abort(400)
    raw = (request.form.get("person_number") or "").strip()
    today = datetime.now(STOCKHOLM).date()
    number = None
    if raw:
        try:
            number = parse_identity_number(raw, today).normal
        except ValueError as exc:  # the form again, with what was typed and what is wrong
            return render_template("records/export.html", person=person, typed=raw,
                                   error=str(exc)), 400
    data = services.export_person(current_user, person, number, Path(current_app.config["LOTSEN_UPLOAD_PATH"]))
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="lotsen-{person.username}-{today.isoformat()}.zip"'})
