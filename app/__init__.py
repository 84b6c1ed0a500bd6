"""Lotsen, the municipality's service desk: the application factory."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, jsonify, make_response, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix

from app.config import PROJECT_ROOT, ConfigError, instance_path_from, load_config
from app.core import counters, crypto, i18n, logs, security, static, templating, transactions
from app.core.db import db, tune_sqlite
from app.core.extensions import babel, csrf, limiter, login_manager, migrate
from app.core.i18n import LANGUAGES, current_language, select_locale
from app.core.jobs import register_daily, register_periodic

__all__ = ["ConfigError", "create_app", "warm_up"]

log = logging.getLogger(__name__)


def create_app(config_override: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured Lotsen application.

    ``config_override`` wins over the environment; ``LOTSEN_INSTANCE_PATH`` in it moves the instance folder.
    Raises ``ConfigError`` with a readable message when the configuration is unusable.
    """
    overrides = dict(config_override or {})
    instance_path = instance_path_from(os.environ, overrides.pop("LOTSEN_INSTANCE_PATH", None))
    instance_path.mkdir(parents=True, exist_ok=True)

    app = Flask(
        __name__,
        instance_path=str(instance_path),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
    )
    app.jinja_environment = templating.LocalizedEnvironment
    file_config = Flask.config_class(str(instance_path))
    file_config.from_pyfile("config.py", silent=True)
    app.config.update(load_config(instance_path, os.environ, file_config, overrides))

    if app.config["LOTSEN_PROXY_COUNT"]:  # the client's address and scheme as the trusted proxies saw them
        count = app.config["LOTSEN_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)
    _register_cli(app)
    if not app.debug and not app.testing:
        logs.configure_logging(app)
    for chatty in ("weasyprint", "fontTools"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return app


def warm_up(app: Flask) -> None:
    """Load now what the first requests of a new server process would otherwise wait for: every template
    compiled, the search index and its vocabulary open, the Swedish lexicon, the embedding model and the routing
    model (gunicorn calls this before a worker takes requests). A failure is logged; requests then load lazily."""
    from app.selfservice.search import warm_up as warm_up_search
    from app.tickets.routing import current_model

    started = time.perf_counter()
    with app.app_context():
        for code in LANGUAGES:  # each template is compiled per language (templating.LocalizedEnvironment)
            with force_locale(code):
                for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith((".html", ".txt"))):
                    app.jinja_env.get_template(name)
        for step in (warm_up_search, current_model):
            try:
                step()
            except Exception:
                log.exception("warming up (%s) failed; it is loaded on first use instead", step.__name__)
        db.session.remove()
    if _first_worker(app):
        threading.Thread(target=_log_directory_warnings, args=(app,), daemon=True, name="directory-check").start()
    log.info("warmed up in %.1f s", time.perf_counter() - started)


def _first_worker(app: Flask) -> bool:
    """True in the first server process that asks, per server start (gunicorn's master is the parent): start-up
    checks then log once, not once per process."""
    marker = Path(app.instance_path) / f".started-{os.getppid()}"
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        return False
    except OSError:
        return True
    for old in Path(app.instance_path).glob(".started-*"):
        if old != marker:
            old.unlink(missing_ok=True)
    return True


def _log_directory_warnings(app: Flask) -> None:
    """Warn in the log about passwords in clear, unchecked certificates and mapped groups the directory lacks."""
    from app.auth.ldap import directories_from_config
    from app.auth.services import directory_warnings

    with app.app_context():
        for warning in directory_warnings(directories_from_config(app.config)):
            log.warning(warning)


def _init_extensions(app: Flask) -> None:
    logs.init_app(app)  # first: its request id and log line also cover requests other hooks refuse
    db.init_app(app)
    with app.app_context():
        tune_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see that page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    security.init_app(app)
    crypto.init_app(app)
    if app.config["LOTSEN_ENV"] == "production" and not app.config["LOTSEN_DATA_KEY"]:
        log.warning("LOTSEN_DATA_KEY is not set: identity numbers are encrypted with a key derived from "
                    "LOTSEN_SECRET_KEY (changing the secret key would make them unreadable); `flask --app wsgi forms "
                    "new-key` prints the setting that moves them to a key of their own")
    static.init_app(app)
    templating.init_app(app)
    transactions.init_app(app)
    counters.init_app(app)

    @app.before_request
    def refuse_nul_bytes():
        """No stored text may hold a NUL character (PostgreSQL refuses it): say so instead of failing later."""
        if request.blueprint == "api":  # the API checks its parameters and bodies itself, field by field
            return
        sources = [request.args]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sources.append(request.form)
        if any("\x00" in value for values in sources for value in values.values()):
            abort(400, _l("The text contains a character that cannot be stored (a NUL byte). Remove it and "
                          "try again."))


def _register_blueprints(app: Flask) -> None:
    # the view modules register their routes on their feature's blueprint when imported
    from app.api import views as api_views  # noqa: F401
    from app.api.blueprint import bp as api_bp
    from app.auth import views as auth_views  # noqa: F401
    from app.auth.blueprint import bp as auth_bp
    from app.forms import views as forms_views  # noqa: F401
    from app.forms.blueprint import bp as forms_bp
    from app.mailin import views as mailin_views  # noqa: F401
    from app.mailin.blueprint import bp as mailin_bp
    from app.ops import views as ops_views  # noqa: F401
    from app.ops.blueprint import bp as ops_bp
    from app.records import views as records_views  # noqa: F401
    from app.records.blueprint import bp as records_bp
    from app.reports import views as reports_views  # noqa: F401
    from app.reports.blueprint import bp as reports_bp
    from app.selfservice import editor_views, search  # noqa: F401
    from app.selfservice import services as selfservice_services
    from app.selfservice import views as selfservice_views  # noqa: F401
    from app.selfservice.blueprint import bp as selfservice_bp
    from app.tickets import admin_views, notification_views, workspace_views  # noqa: F401
    from app.tickets import views as tickets_views  # noqa: F401
    from app.tickets.blueprint import bp as tickets_bp
    from intranet_widgets import bp as widgets_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(selfservice_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(forms_bp)
    app.register_blueprint(mailin_bp)
    app.register_blueprint(records_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(ops_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(widgets_bp)
    csrf.exempt(api_bp)  # the API authenticates each request with a bearer token, not a session cookie
    search.init_app(app)
    selfservice_services.init_app()


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: (_l("Bad request"), _l("The request could not be understood. Go back and try again.")),
        403: (_l("Access denied"), _l("You do not have permission to see this page. If you think you should, "
                                      "contact the service centre.")),
        404: (_l("Page not found"), _l("The page does not exist or has been moved.")),
        405: (_l("Not allowed"), _l("That action is not possible on this page.")),
        413: (_l("Too large"), _l("What you sent is larger than Lotsen accepts.")),
        429: (_l("Too many attempts"), _l("Too many attempts in a short time. Wait a minute and try again.")),
        500: (_l("Something went wrong"), _l("An unexpected error occurred. Nothing you entered was saved "
                                              "half-way; please try again in a moment.")),
        503: (_l("Lotsen is not available right now"),
              _l("Lotsen cannot reach its database at the moment, so nothing you sent was saved. Wait a minute "
                 "and try again; what you wrote is still in the form if you go back.")),
    }

    def render_error(code: int, message: Any = None) -> Response:
        title, default_message = messages[code]
        if request.path.startswith("/api/"):  # the API answers in JSON, also for URLs it does not know
            slug = HTTP_STATUS_CODES.get(code, "error").lower().replace(" ", "_")
            body = jsonify({"error": {"code": slug, "message": str(message or default_message)}})
        else:
            body = render_template("errors/error.html", code=code, title=title, message=message or default_message)
        return make_response(body, code)

    def http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        # an abort() with a message of our own shows it; Werkzeug's stock descriptions are replaced by ours
        own = exc.description if exc.description != type(exc).description else None
        response = render_error(code, own)
        if getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    for code in messages:
        if code not in (500, 503):
            app.register_error_handler(code, http_error)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, _l("The form had expired or came from another page. Go back, reload the "
                                    "page and send it again."))

    def database_unavailable():
        """A page that needs nothing from the database, not even the logged-in user."""
        g._login_user = login_manager.anonymous_user()  # Flask-Login's per-request user: no lookup
        try:
            db.session.rollback()
        except Exception:  # the connection is gone; the session is thrown away at teardown
            app.logger.debug("rollback failed during a database outage", exc_info=True)
        response = render_error(503)
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        if not transactions.is_database_outage(exc):
            raise exc
        app.logger.error("database unavailable: %s", exc)
        return database_unavailable()

    @app.errorhandler(500)
    def server_error(exc: InternalServerError):
        if transactions.is_database_outage(getattr(exc, "original_exception", None)):
            app.logger.error("database unavailable: %s", exc.original_exception)
            return database_unavailable()
        db.session.rollback()
        return render_error(500)


def _register_template_helpers(app: Flask) -> None:
    @app.context_processor
    def layout_values() -> dict[str, Any]:
        return {"languages": LANGUAGES, "current_language": current_language(), "ask_url": _ask_url}

    def _ask_url(query: str = "") -> str | None:
        """The "ask a question" form, carrying the search words, once the tickets feature provides it."""
        if "tickets.new" not in app.view_functions:
            return None
        return url_for("tickets.new", q=query or None)


def _register_cli(app: Flask) -> None:
    from app.auth.cli import users_cli
    from app.demo import demo_cli
    from app.forms.cli import forms_cli
    from app.mailin.cli import fetch_all, mail_cli
    from app.ops.cli import backup_command, restore_command
    from app.records.cli import archive_cli, daily_retention, retention_cli
    from app.selfservice.cli import articles_cli, search_cli
    from app.tickets.cli import outbox_cli, routing_cli, worker_command

    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(forms_cli)
    app.cli.add_command(articles_cli)
    app.cli.add_command(search_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(retention_cli)
    app.cli.add_command(archive_cli)
    register_daily("retention", daily_retention, "LOTSEN_RETENTION_HOUR")
    app.cli.add_command(mail_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    register_periodic("mail in", fetch_all, "LOTSEN_MAIL_IN_INTERVAL")
    app.cli.add_command(routing_cli)
    app.cli.add_command(worker_command)
