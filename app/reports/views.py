"""The reports' pages: a dashboard per support function (its lead, administrators) and for the whole desk
(administrators), the departments' use with CSV, the function's people (its lead only) and a specialist's own
figures (the specialist only)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Response, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import SupportFunction, User
from app.auth.services import list_functions
from app.core import audit
from app.core.db import utcnow
from app.core.permissions import Role, role_required
from app.core.spreadsheet import csv_response
from app.reports import queries
from app.reports.blueprint import bp
from app.selfservice import queries as article_queries
from app.selfservice import services as article_services
from app.tickets.services import can_view

reader_required = role_required(Role.LEAD, Role.ADMIN)
DEFAULT_DAYS = 28
LONGEST_DAYS = 366
EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # beyond them the period before cannot be dated
REVIEW_AHEAD_DAYS = 30  # articles due for review within this many days are listed


def _period() -> queries.Period:
    """The period asked for (``from``, ``to``: ISO dates), else the last four weeks; a bad one is said so."""
    today = utcnow().astimezone(queries.STOCKHOLM).date()
    default = queries.Period(today - timedelta(days=DEFAULT_DAYS - 1), today)
    if "from" not in request.args and "to" not in request.args:
        return default
    try:
        period = queries.Period(date.fromisoformat(request.args.get("from", "")),
                                date.fromisoformat(request.args.get("to", "")))
    except ValueError:
        flash(_("Write the dates as YYYY-MM-DD, for example 2026-11-01. The last four weeks are shown."), "error")
        return default
    if period.last < period.first or period.days > LONGEST_DAYS or period.first < EARLIEST_DAY or (
            period.last > LATEST_DAY):
        flash(_("Choose a period of one day to a year, the first day before the last. The last four weeks are "
                "shown."), "error")
        return default
    return period


def _leads(user: User, function: SupportFunction) -> bool:
    return user.has_role(Role.LEAD, function.slug)


def _readable_function(slug: str) -> SupportFunction:
    function = next((f for f in list_functions() if f.slug == slug), None) or abort(404)
    if not (current_user.has_role(Role.ADMIN) or _leads(current_user, function)):
        abort(403)
    return function


def _dashboards() -> list[SupportFunction]:
    if current_user.has_role(Role.ADMIN):
        return list_functions()
    return current_user.functions_for(Role.LEAD)


@bp.get("/")
@role_required(Role.LEAD, Role.ADMIN, Role.SPECIALIST, Role.EDITOR)
def index():
    return render_template("reports/index.html", dashboards=_dashboards() if current_user.has_role(Role.LEAD)
                           or current_user.has_role(Role.ADMIN) else [],
                           led=current_user.functions_for(Role.LEAD),
                           worked=current_user.functions_for(Role.SPECIALIST))


def _dashboard(function: SupportFunction | None):
    period = _period()
    functions = list_functions()
    first_line = [f.id for f in functions if f.is_first_line]
    function_id = function.id if function else None
    now, previous = queries.figures(function_id, period, first_line), queries.figures(
        function_id, period.before(), first_line)
    # the requesters' own words: a confidential function's only to its lead (not administrators); read, audited
    show_comments = function is None or not function.is_confidential or _leads(current_user, function)
    comments = queries.latest_comments(function_id, period) if show_comments else []
    if function is not None and function.is_confidential and comments:
        audit.record(current_user.id, "report_comments", "function", function.id,
                     detail=f"{len(comments)} comments, {period.first}..{period.last}")
    if function is None:  # the whole desk: confidential functions' comments are left out
        confidential = {f.id for f in functions if f.is_confidential}
        comments = [t for t in comments if t.function_id not in confidential]
    return render_template(
        "reports/dashboard.html", function=function, period=period, now=now, previous=previous,
        weeks=[monday for monday, _, _ in period.weeks()],
        week_labels=[f"{monday:%m-%d}" for monday, _, _ in period.weeks()],
        backlog=queries.backlog_by_age(function_id, utcnow()),
        age_buckets=queries.AGE_BUCKETS, comments=comments, can_view=lambda t: can_view(current_user, t),
        works_in=function is not None and current_user.has_role(Role.SPECIALIST, function.slug),
        leads=function is not None and _leads(current_user, function))


@bp.get("/functions/<slug>/cases/<figure>")
@reader_required
def function_cases(slug: str, figure: str):
    return _cases(_readable_function(slug), figure)


@bp.get("/desk/cases/<figure>")
@role_required(Role.ADMIN)
def desk_cases(figure: str):
    return _cases(None, figure)


def _cases(function: SupportFunction | None, figure: str):
    """The cases behind a figure. A case the viewer may not open (a confidential function's, or any case for a
    lead who does not work in the function) shows its number and dates, not its subject."""
    if figure not in queries.FIGURE_CASES:
        abort(404)
    period = _period()
    cases, total = queries.figure_cases(figure, function.id if function else None, period)
    # a case moved on into a confidential function is counted, never listed, for those who may not open it
    hidden = [t for t in cases if t.function.is_confidential and not can_view(current_user, t)
              and (function is None or t.function_id != function.id)]
    cases = [t for t in cases if t not in hidden]
    return render_template("reports/cases.html", function=function, figure=figure, period=period, cases=cases,
                           total=total, hidden=len(hidden), shown=queries.CASES_SHOWN,
                           can_view=lambda t: can_view(current_user, t))


@bp.get("/desk")
@role_required(Role.ADMIN)
def desk():
    return _dashboard(None)


@bp.get("/functions/<slug>")
@reader_required
def function_dashboard(slug: str):
    return _dashboard(_readable_function(slug))


@bp.get("/functions/<slug>/<any(weeks, figures):kind>.csv")
@reader_required
def function_csv(slug: str, kind: str):
    return _dashboard_csv(_readable_function(slug), kind)


@bp.get("/desk/<any(weeks, figures):kind>.csv")
@role_required(Role.ADMIN)
def desk_csv(kind: str):
    return _dashboard_csv(None, kind)


def _dashboard_csv(function: SupportFunction | None, kind: str) -> Response:
    """A dashboard's numbers as CSV: per week (``weeks``), or every figure beside the period before, the ratings
    and the backlog by age (``figures``)."""
    period = _period()
    first_line = [f.id for f in list_functions() if f.is_first_line]
    function_id = function.id if function else None
    now = queries.figures(function_id, period, first_line)
    name = f"lotsen-{function.slug if function else 'desk'}-{kind}-{period.first}-{period.last}.csv"
    if kind == "weeks":
        rows = [[monday.isoformat(), opened, resolved] for (monday, _, _), opened, resolved
                in zip(period.weeks(), now.opened_per_week, now.resolved_per_week, strict=True)]
        return csv_response(name, [_("Week (Monday)"), _("Opened"), _("Resolved")], rows)
    before = queries.figures(function_id, period.before(), first_line)
    rows = [[label, _value(getattr(now, *path)), _value(getattr(before, *path))] for label, path in (
        (_("Cases opened"), ("opened",)), (_("Cases resolved"), ("resolved",)),
        (_("First answer, median (working minutes)"), ("first_response",)),
        (_("Resolution, median (working minutes)"), ("resolution",)),
        (_("First answers within the service level"), ("first_response_in_time",)),
        (_("Resolutions within the service level"), ("resolution_in_time",)),
        (_("Solved by the first line without hand-over"), ("solved_without_handover",)),
        (_("Re-routed elsewhere (of the cases that first landed here)"), ("rerouted",)),
        (_("Reopened (of the resolved)"), ("reopened",)), (_("Satisfaction, average of 1–5"), ("rating_average",)))]
    rows += [[_("Rating %(rating)s", rating=rating), now.ratings[rating], before.ratings[rating]]
             for rating in queries.RATINGS]
    backlog = queries.backlog_by_age(function_id, utcnow())
    rows += [[_("Open now, %(low)s–%(high)s days", low=low, high=high) if high else
              _("Open now, over %(low)s days", low=low), count, ""]
             for (low, high), count in zip(queries.AGE_BUCKETS, backlog, strict=True)]
    return csv_response(name, [_("Figure"), _("This period"), _("Period before")], rows)


def _value(value) -> str | int:
    """A figure as a spreadsheet reads it: medians in minutes, shares as decimals, none as empty."""
    if isinstance(value, queries.Percentiles):
        value = value.median
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


@bp.get("/departments")
@reader_required
def departments():
    """Cases per department, function and month. Administrators see every function, a lead their own."""
    period = _period()
    allowed = None if current_user.has_role(Role.ADMIN) else [f.id for f in current_user.functions_for(Role.LEAD)]
    months, rows = queries.department_use(period, allowed)
    if request.args.get("format") == "csv":
        return csv_response(f"lotsen-departments-{period.first}-{period.last}.csv",
                    [_("Department"), _("Support function"), *months, _("Total")],
                    [[r.department or _("(no department)"), r.function.name, *r.per_month, r.total] for r in rows])
    return render_template("reports/departments.html", period=period, months=months, rows=rows)


@bp.get("/functions/<slug>/people")
@role_required(Role.LEAD)
def function_people(slug: str):
    """The function's people's figures, for coaching: its lead only (personal data about employees)."""
    function = next((f for f in current_user.functions_for(Role.LEAD) if f.slug == slug), None) or abort(403)
    period = _period()
    found = queries.people(function.id, period)
    audit.record(current_user.id, "report_people", "function", function.id,
                 detail=f"{len(found)} people, {period.first}..{period.last}")
    return render_template("reports/people.html", function=function, period=period, people=found, own=False)


@bp.get("/me")
@role_required(Role.SPECIALIST)
def mine():
    """A specialist's own figures and the comments on their cases, per function they work in."""
    period = _period()
    sections = [(f, queries.people(f.id, period, current_user.id),
                 queries.person_comments(current_user.id, f.id, period))
                for f in current_user.functions_for(Role.SPECIALIST)]
    for function, _people, comments in sections:
        if function.is_confidential and comments:
            audit.record(current_user.id, "report_comments", "function", function.id,
                         detail=f"own, {len(comments)} comments, {period.first}..{period.last}")
    return render_template("reports/mine.html", period=period, sections=sections)


@bp.get("/self-service")
@role_required(Role.EDITOR, Role.SPECIALIST, Role.LEAD, Role.ADMIN)
def self_service():
    """Searches, what they did not find, articles read and rated, questions not sent, reviews due. The text of
    searches only for the functions the reader may read (``readable_function_ids``); the articles' figures for
    the functions they edit, work or lead in (administrators: all)."""
    period = _period()
    since, until = period.start, period.end
    readable = article_services.readable_function_ids(current_user)
    slugs = article_services.editable_function_slugs(current_user)
    if slugs is not None:
        slugs = sorted(set(slugs) | {f.slug for role in (Role.SPECIALIST, Role.LEAD)
                                     for f in current_user.functions_for(role)})
    else:  # administrators: every function whose readers' comments they may read
        slugs = [f.slug for f in list_functions() if f.id in readable]
    today = utcnow().astimezone(queries.STOCKHOLM).date()
    review_by = today + timedelta(days=REVIEW_AHEAD_DAYS)
    return render_template(
        "reports/self_service.html", period=period, totals=article_queries.search_totals(since, until),
        zero_results=article_queries.zero_result_queries(readable, since, until),
        no_clicks=article_queries.no_click_queries(readable, since, until),
        feedback=article_queries.feedback_totals(slugs, since, until),
        unhelpful=article_queries.most_unhelpful_articles(slugs), most_read=article_queries.most_read(slugs),
        deflection=article_queries.deflection(since, until),
        due=article_queries.due_for_review(slugs, review_by), review_by=review_by, today=today)
