"""Logs a municipality's IT can follow: every request gets an id (the proxy's ``X-Request-ID`` through the
configured proxies, else a new one), answered in the ``X-Request-ID`` header and shown on error pages, and one log
line when it ends: id, user id (never a name or an identity number), endpoint, method, status and milliseconds.
Every log line of the request carries the id. ``LOTSEN_LOG_FORMAT=json`` writes each line as one JSON object
(``python-json-logger``), in the web processes and the worker alike.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect as sa_inspect

from app.core import metrics

REQUEST_ID_HEADER = "X-Request-ID"
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
request_log = logging.getLogger("lotsen.request")


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (empty outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id", "") if has_request_context() else ""
        return True


def configure_logging(app: Flask) -> None:
    """Root logging at INFO to standard error, as text or JSON lines, each with the request id."""
    handler = logging.StreamHandler(sys.stderr)
    if app.config["LOTSEN_LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                                           rename_fields={"levelname": "level", "asctime": "time"}))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "lotsen", False)]:
        root.removeHandler(old)
    handler.lotsen = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _user_id(user: object) -> int | None:
    """The logged-in user's id, read from the identity map: the request's commit (run before this hook) has
    expired the user's attributes, and reading ``user.id`` would load the row again on every request."""
    state = sa_inspect(user, raiseerr=False)
    if state is not None and state.identity:
        return state.identity[0]
    return getattr(user, "id", None)


def init_app(app: Flask) -> None:
    """Registered before every other extension's hooks (app/__init__.py), so that a request refused early (CSRF,
    a rate limit, too large) still gets its id, its log line and its count."""
    trust_proxy = app.config["LOTSEN_PROXY_COUNT"] > 0

    @app.before_request
    def name_the_request():
        given = request.headers.get(REQUEST_ID_HEADER, "") if trust_proxy else ""
        g.request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_the_request(response):
        started = g.get("request_started")
        if "request_id" not in g:  # refused before this module's first hook ran (it runs first; to be sure)
            g.request_id = uuid.uuid4().hex
        seconds = time.perf_counter() - started if started is not None else 0.0
        endpoint = request.endpoint or "unknown"
        response.headers[REQUEST_ID_HEADER] = g.request_id
        method = request.method if request.method in METHODS else "other"  # the client names it: few labels
        metrics.observe_request(endpoint, method, response.status_code, seconds)
        user_id = _user_id(g.get("_login_user"))
        request_log.info("%s %s %s %.1f ms user %s", method, endpoint, response.status_code, seconds * 1000,
                         user_id, extra={"request_id": g.request_id,
            "user_id": user_id, "endpoint": endpoint, "method": method,
            "status": response.status_code, "ms": round(seconds * 1000, 1)})
        return response
