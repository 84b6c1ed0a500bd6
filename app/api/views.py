"""The JSON API, version 1. Public reads (search, articles, notices) are cacheable and rate limited for
anonymous callers; a person's cases and asking need the Lotsen session (the widgets) or a bearer token."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from flask import current_app, jsonify, make_response, request, url_for
from flask_babel import force_locale
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from app.api.blueprint import bp
from app.auth.services import token_for
from app.core.db import db
from app.core.extensions import limiter
from app.forms import services as forms
from app.forms.registry import get_form
from app.selfservice import queries as articles
from app.selfservice import services as article_services
from app.selfservice.search import get_index
from app.tickets import services as tickets
from app.tickets.models import Ticket
from app.tickets.queries import my_cases as cases_of
from app.tickets.services import mail_context
from app.tickets.sla import office_calendar

OPENAPI = Path(__file__).resolve().parent / "openapi.json"
MAX_LIMIT = 20


def _anonymous_limit() -> str:
    return current_app.config["LOTSEN_API_ANONYMOUS_LIMIT"]


limiter.limit(_anonymous_limit, exempt_when=lambda: current_user.is_authenticated)(bp)


@bp.after_request
def cors(response):
    """Pages of the allowed intranet origins may call the API from their own scripts."""
    origin = request.headers.get("Origin")
    if origin and origin in current_app.config["LOTSEN_WIDGET_ORIGINS"]:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-CSRFToken"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
    response.vary.add("Origin")
    return response


@bp.errorhandler(HTTPException)
def json_error(exc: HTTPException):
    return _error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)


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
    return max(1, min(MAX_LIMIT, request.args.get("limit", default=5, type=int) or 5))


@bp.get("/openapi.json")
def openapi():
    return _cacheable(json.loads(OPENAPI.read_text(encoding="utf-8")), max_age=3600)


@bp.get("/search")
def search():
    text = (request.args.get("q") or "").strip()[:200]
    lang = request.args.get("lang") if request.args.get("lang") in ("sv", "en") else None
    if not text:
        return jsonify({"query": "", "results": [], "suggestion": None})
    result = get_index().search(text, limit=_limit(), function=request.args.get("function") or None,
                                complete_last=True, prefer_lang=lang)
    found = articles.articles_by_ids([hit.article_id for hit in result.hits])
    results = [_article_json(found[h.article_id]) for h in result.hits if h.article_id in found]
    if request.args.get("ask"):  # suggestions shown in the ask widget count towards deflection
        article_services.log_search(text, len(results), current_user if current_user.is_authenticated else None,
                                    "ask", request.args["ask"][:64], request.args.get("function") or None)
    return jsonify({"query": text, "results": results, "suggestion": result.corrected_query})


@bp.get("/articles")
def article_list():
    sort = request.args.get("sort", "popular")
    lang = request.args.get("lang") if request.args.get("lang") in ("sv", "en") else None
    pool = (articles.recent_articles if sort == "newest" else articles.popular_articles)(200, lang)
    function, tag = request.args.get("function"), request.args.get("tag")
    chosen = [a for a in pool if (not function or a.function.slug == function) and (not tag or tag in a.tags)]
    return _cacheable({"sort": "newest" if sort == "newest" else "popular",
                       "articles": [_article_json(a) for a in chosen[:_limit()]]})


@bp.get("/notices")
def notice_list():
    function = request.args.get("function") or None
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
        token = token_for(header[7:].strip())
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
    page = cases_of(user, open_only=request.args.get("open", "1") != "0", limit=_limit())
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
    data = request.get_json(silent=True) or {}
    subject, description = str(data.get("subject", "")).strip(), str(data.get("description", "")).strip()
    if not subject or not description:
        return _error(422, "invalid", "Write a subject and a description.",
                      fields={k: "required" for k, v in (("subject", subject), ("description", description)) if not v})
    token = str(data.get("token", ""))[:64] or None
    try:
        ticket = tickets.create_ticket(user, subject[:200], description[:20_000], category=None,
                                       calendar=office_calendar(), mail=mail_context(), channel="widget",
                                       submit_token=token)
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
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "bad_request", "The body must be a JSON object in the form's shape.")
    lang = request.args.get("lang") if request.args.get("lang") in ("sv", "en") else "en"
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
    key = request.headers.get("Idempotency-Key", "").strip()
    return key[:64] or None


def _order_json(submission, warnings: list[str]):
    ticket = db.session.get(Ticket, submission.ticket_id) if submission.ticket_id else None
    return jsonify({"id": submission.id, "status": submission.status, "case": ticket.number if ticket else None,
                    "url": _order_url(submission), "warnings": warnings})


def _order_url(submission) -> str:
    return url_for("forms.show", submission_id=submission.id, _external=True)
