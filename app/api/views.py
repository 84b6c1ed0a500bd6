"""The JSON API, version 1. Public reads (search, articles, notices) are cacheable, rate limited for
anonymous callers and open to the allowed intranet origins (CORS, without credentials); a person's cases and
asking need the Lotsen session (the widgets, same origin) or a bearer token. Every refusal is a JSON error
that openapi.json documents: requests are checked in app/api/validation.py before a service runs."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from flask import current_app, g, jsonify, make_response, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from app.api.blueprint import bp
from app.api.validation import CASE, ApiError, Field, arg, checked, checked_order, int_arg, json_object
from app.auth.models import QUEUE_SCOPE
from app.auth.services import token_for
from app.core.db import db
from app.core.extensions import limiter, process_share
from app.core.permissions import Role
from app.core.text import is_one_line
from app.forms import services as forms
from app.forms.models import FormSubmission
from app.forms.registry import FORMS, get_form
from app.selfservice import queries as articles
from app.selfservice import services as article_services
from app.selfservice.search import QUERY_MAX_LENGTH, get_index
from app.tickets import services as tickets
from app.tickets.models import Ticket
from app.tickets.queries import my_cases as cases_of
from app.tickets.services import mail_context
from app.tickets.sla import office_calendar

OPENAPI = Path(__file__).resolve().parent / "openapi.json"
MAX_LIMIT = 20
MAX_IDEMPOTENCY_KEY = 64
LANGS = ("sv", "en")
FUNCTION_SLUG = re.compile(r"([a-z][a-z0-9_-]{0,39})?")  # empty: every function
# Only these answer cross-origin requests: public, the same for everyone, never with the caller's cookies.
PUBLIC_ENDPOINTS = frozenset({"api.openapi", "api.search", "api.article_list", "api.notice_list"})


def _anonymous_limit() -> str:
    return process_share(current_app.config["LOTSEN_API_ANONYMOUS_LIMIT"])


limiter.limit(_anonymous_limit, exempt_when=lambda: current_user.is_authenticated)(bp)


@bp.after_request
def cors(response):
    """Pages of the allowed intranet origins may read the public endpoints from their own scripts. The widgets
    themselves run in Lotsen's origin and need no CORS; nothing person-specific is shared cross-origin."""
    origin = request.headers.get("Origin")
    if request.endpoint in PUBLIC_ENDPOINTS:
        if origin and origin in current_app.config["LOTSEN_WIDGET_ORIGINS"]:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET"
            response.headers["Access-Control-Expose-Headers"] = "ETag"
        response.vary.add("Origin")
    return response


@bp.errorhandler(HTTPException)
def json_error(exc: HTTPException):
    response, status = _error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)
    for name, value in exc.get_headers():  # keep Allow (405), Retry-After (429), ...
        if name.lower() != "content-type":
            response.headers[name] = value
    return response, status


@bp.errorhandler(ApiError)
def refused(exc: ApiError):
    return _error(exc.status, exc.code, exc.message, **exc.extra)


def _error(status: int, code: str, message: str, **extra):
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def _cacheable(payload: dict, max_age: int = 60):
    """A public JSON response with an ETag; an unchanged resource answers 304."""
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    response = make_response(body)
    response.mimetype = "application/json"
    response.set_etag(hashlib.sha256(body.encode()).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    return response.make_conditional(request)


def _article_json(article) -> dict:
    return {"slug": article.slug, "title": article.title, "summary": article.summary, "lang": article.lang,
            "function": article.function.slug, "function_name": article.function.name,
            "url": url_for("selfservice.article", slug=article.slug, _external=True)}


def _limit() -> int:
    return int_arg("limit", 5, 1, MAX_LIMIT)


def _function() -> str | None:
    return arg("function", pattern=FUNCTION_SLUG) or None


@bp.get("/openapi.json")
def openapi():
    return _cacheable(json.loads(OPENAPI.read_text(encoding="utf-8")), max_age=3600)


@bp.get("/search")
def search():
    text = arg("q", default="", max_length=QUERY_MAX_LENGTH).strip()
    lang, function, limit = arg("lang", choices=LANGS), _function(), _limit()
    ask = arg("ask", max_length=64)
    if not text:
        return jsonify({"query": "", "results": [], "suggestion": None})
    result = get_index().search(text, limit=limit, function=function, complete_last=True, prefer_lang=lang)
    found = articles.articles_by_ids([hit.article_id for hit in result.hits])
    results = [_article_json(found[h.article_id]) for h in result.hits if h.article_id in found]
    if ask:  # suggestions shown in the ask widget count towards deflection
        article_services.log_search(text, len(results), current_user if current_user.is_authenticated else None,
                                    "ask", ask, function)
    return jsonify({"query": text, "results": results, "suggestion": result.corrected_query})


@bp.get("/articles")
def article_list():
    sort = arg("sort", default="popular", choices=("popular", "newest"))
    lang, function, limit = arg("lang", choices=LANGS), _function(), _limit()
    tag = arg("tag", max_length=100)
    # lang is the reader's language: first, and another language's article only where it has no translation
    pool = (articles.recent_articles if sort == "newest" else articles.popular_articles)(200, prefer_lang=lang)
    chosen = [a for a in pool if (not function or a.function.slug == function) and (not tag or tag in a.tags)]
    return _cacheable({"sort": sort, "articles": [_article_json(a) for a in chosen[:limit]]})


@bp.get("/notices")
def notice_list():
    function = _function()
    try:
        current = tickets.current_notices(function)
    except ValueError:
        return _error(404, "not_found", f"There is no support function {function!r}.")
    return _cacheable({"notices": [
        {"id": n.id, "title": n.title, "body": n.body, "function": n.function.slug, "function_name": n.function.name,
         "until": n.ends_at.isoformat()} for n in current]}, max_age=30)


class _ScopeMissing(Exception):  # noqa: N818
    """The bearer token is valid but not for this kind of call."""


def _caller(scope: str):
    """The person calling: a live bearer token's owner (the token must carry ``scope``), else the Lotsen
    session (the widgets)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        # the directory re-check before the request may have looked the token up already
        token = g.lotsen_bearer_token if "lotsen_bearer_token" in g else token_for(header[7:].strip())
        if token is not None and scope not in token.scope_list:
            raise _ScopeMissing(scope)
        return (token.user if token else None), True
    return (current_user if current_user.is_authenticated else None), False


@bp.errorhandler(_ScopeMissing)
def scope_missing(exc: _ScopeMissing):
    return _error(403, "insufficient_scope", f"The access token does not allow this; it needs the scope {exc}.")


def _login_required_error():
    return _error(401, "login_required", "Log in to Lotsen first.", login_url=url_for("auth.login", _external=True))


@bp.get("/me/cases")
def my_cases():
    user, _ = _caller("cases:read")
    if user is None:
        return _login_required_error()
    page = cases_of(user, open_only=arg("open", default="1", choices=("0", "1")) == "1", limit=_limit())
    return jsonify({"cases": [
        {"number": t.number, "subject": t.subject, "status": t.status, "function": t.function.slug,
         "function_name": t.function.name, "last_activity": t.last_activity_at.isoformat(),
         "url": url_for("tickets.show", number=t.number, _external=True)} for t in page.tickets]})


@bp.post("/cases")
def ask():
    """Ask a question (routed automatically). Session callers send the CSRF token in X-CSRFToken."""
    user, by_token = _caller("cases:write")
    if user is None:
        return _login_required_error()
    if not by_token:
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError:
            return _error(400, "csrf", "The form had expired. Reload and try again.")
    data = checked(json_object(), CASE)
    try:
        ticket = tickets.create_ticket(user, data["subject"], data["description"], category=None,
                                       calendar=office_calendar(), mail=mail_context(), channel="widget",
                                       submit_token=data.get("token") or None)
    except tickets.TicketError as exc:
        return _error(422, "invalid", str(exc))
    return jsonify({"number": ticket.number, "function": ticket.function.slug, "function_name": ticket.function.name,
                    "url": url_for("tickets.show", number=ticket.number, _external=True)}), 201


@bp.post("/forms/<slug>")
def submit_form(slug: str):
    """Place an order as the token's owner: 201 with the order and its case, 422 with every problem."""
    user, by_token = _caller("forms:submit")
    if user is None or not by_token:
        return _error(401, "unauthorized", "A valid personal access token is required (Authorization: Bearer ...).")
    definition = get_form(slug)
    if definition is None:
        return _error(404, "not_found", f"There is no form {slug!r}.")
    lang = arg("lang", default="en", choices=LANGS)
    data = checked_order(slug, json_object())
    with force_locale(lang):
        try:
            submission, warnings = forms.submit(definition, user, data, None, office_calendar(), mail_context(),
                                                _order_url, submit_token=_idempotency_key())
        except forms.AlreadySent as exc:  # the same Idempotency-Key again: the order it made
            return _order_json(exc.submission, []), 200
        except forms.FormInvalid as exc:
            return _error(422, "invalid", "The order has problems.", fields=exc.result.errors,
                          warnings=exc.result.warnings)
        except forms.FormForbidden as exc:
            return _error(403, "forbidden", str(exc))
    return _order_json(submission, warnings), 201


def _idempotency_key() -> str | None:
    """A caller's ``Idempotency-Key``: the same key again gives the same order, never a second one."""
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > MAX_IDEMPOTENCY_KEY or not is_one_line(key):
        raise ApiError(400, "invalid_parameter", f"Idempotency-Key: at most {MAX_IDEMPOTENCY_KEY} characters, "
                                                 "without control characters.")
    return key or None


def _order_json(submission, warnings: list[str]):
    ticket = db.session.get(Ticket, submission.ticket_id) if submission.ticket_id else None
    return jsonify({"id": submission.id, "status": submission.status, "case": ticket.number if ticket else None,
                    "url": _order_url(submission), "warnings": warnings})


def _order_url(submission) -> str:
    return url_for("forms.show", submission_id=submission.id, _external=True)


# --- the robots' work queue ------------------------------------------------------------------------------------
ROBOT_REPORT = {
    "claim": Field("line", 64, required=True),
    "outcome": Field("choice", required=True),
    "note": Field("text", 2000, nullable=True),
}


def _robot():
    """The robot calling: a token with only the queue's scope, whose owner works in the function that handles
    the queued orders (HR): it reads the whole order, identity number included."""
    user, by_token = _caller(QUEUE_SCOPE)
    if user is None or not by_token:
        raise ApiError(401, "unauthorized", "A valid access token with the scope orders:queue is required.")
    if not any(user.has_role(Role.SPECIALIST, d.function) for d in FORMS.values() if d.robot_queue):
        raise ApiError(403, "forbidden", "The token's owner does not work in the function that handles the orders.")
    return user


def _queued(submission) -> dict:
    definition = get_form(submission.form_slug)
    return {"id": submission.id, "form": submission.form_slug, "state": submission.robot_state,
            "approved_at": submission.approved_at.isoformat() if submission.approved_at else None,
            "last_day": (submission.data or {}).get("end", {}).get("last_day") if definition.last_day_path else None,
            "url": _order_url(submission)}


@bp.get("/robot/orders")
def robot_orders():
    """Approved orders waiting for a robot (no personal data: claim one to read it)."""
    _robot()
    return jsonify({"orders": [_queued(s) for s in forms.robot_queue(limit=int_arg("limit", 20, 1, 100))]})


@bp.post("/robot/orders/claim")
def robot_claim():
    """Claim the oldest waiting order: 200 with the claim and the order, 204 when the queue is empty."""
    robot = _robot()
    submission = forms.claim_robot_work(robot, key=_idempotency_key(), address=request.remote_addr or "")
    if submission is None:
        return "", 204
    return jsonify({"claim": submission.robot_claim, "claimed_until": submission.robot_claimed_until.isoformat(),
                    "order": {**_queued(submission), "data": submission.data}})


@bp.post("/robot/orders/<int:order_id>/report")
def robot_report(order_id: int):
    """Report the claimed order done or failed; the same report again answers the same."""
    robot = _robot()
    body = checked(json_object(), ROBOT_REPORT)
    if body["outcome"] not in forms.ROBOT_OUTCOMES:
        raise ApiError(422, "invalid", "outcome: done or failed.", fields={"outcome": "done or failed"})
    submission = db.session.get(FormSubmission, order_id)
    if submission is None or submission.robot_state is None:
        return _error(404, "not_found", "There is no such order in the robots' queue.")
    try:
        again = forms.report_robot_work(submission, robot, body["claim"], body["outcome"], body.get("note") or "")
    except forms.ClaimLost as exc:
        return _error(409, "claim_lost", str(exc))
    return jsonify({"id": submission.id, "state": submission.robot_state, "already_reported": again})
