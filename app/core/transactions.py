"""One commit per request, at the edge, and files that follow the database.

- A request that ends with a status below 400 commits; anything else (an error page, a form shown again with
  its problems, a refused change) rolls back. Views and services never commit.
- Services raise ``DomainError`` (or a subclass) for a change the rules do not allow. The edge turns it into
  a message: JSON for the API, a flashed message and a redirect for pages (to the address a view named with
  ``return_to``, else back to the page the request came from). Either way the transaction is rolled back.
- Files written during a transaction (``write_file``) are removed again if it rolls back; files to remove
  (``remove_file_after_commit``) go only once it has committed. So a fault anywhere leaves nothing
  half-written, in the database or on disk.
- The one exception, ``commit_apart``: a before-request hook's own unit of work (a directory re-check),
  committed before the request's own work begins.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, flash, g, jsonify, redirect, request, url_for
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.core.db import db, listen_once
from app.core.security import local_path

log = logging.getLogger(__name__)

NEW_FILES = "lotsen_new_files"
DOOMED_FILES = "lotsen_doomed_files"
FAILED = "lotsen_request_failed"
RETURN_TO = "lotsen_return_to"


class DomainError(ValueError):
    """A change the rules do not allow. The message is for the user; ``field`` names the form field at fault
    when there is one, ``status`` is the API's answer."""

    status = 422

    def __init__(self, message: Any, field: str | None = None):
        super().__init__(str(message))
        self.field = field


def is_database_outage(exc: BaseException | None) -> bool:
    """Whether ``exc`` means the database cannot be reached (refused, dropped, restarting)."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


# --- files -------------------------------------------------------------------------------------------------
def write_file(path: Path, data: bytes) -> Path:
    """Write ``path`` now; it is removed again if the current transaction rolls back."""
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that its end, commit or rollback, is seen (no connection is taken yet)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    session.info.setdefault(NEW_FILES, []).append(path)
    return path


def remove_file_after_commit(path: Path) -> None:
    """Remove ``path`` once the current transaction has committed (kept if it rolls back)."""
    db.session.info.setdefault(DOOMED_FILES, []).append(path)


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.exception("could not remove %s", path)


def files_after_commit(session: Session) -> None:
    session.info.pop(NEW_FILES, None)
    _unlink(session.info.pop(DOOMED_FILES, []))


def files_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is not None:  # a savepoint; the outer transaction decides
        return
    session.info.pop(DOOMED_FILES, None)
    _unlink(session.info.pop(NEW_FILES, []))


# --- the edge ----------------------------------------------------------------------------------------------
def commit_apart() -> None:
    """Commit, before a request's own work begins, what a before-request hook did as a unit of its own (a
    directory re-check of the logged-in person): its outcome stands however the request then ends, and the
    request's own changes still go in one commit at its end."""
    db.session.commit()


def return_to(url: str) -> None:
    """Where a page request goes back to, with the message, when a ``DomainError`` refuses its change."""
    setattr(g, RETURN_TO, url)


def _same_site(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.netloc and parts.netloc != request.host:
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def end_transaction(response: Response) -> Response:
    """Commit when the request succeeded, else roll back; a failed commit becomes the request's error."""
    if g.get(FAILED) or response.status_code >= 400:
        try:
            db.session.rollback()
        except DBAPIError:  # the connection is gone (the 503 page); the session is discarded at teardown
            log.debug("rollback after a failed request did not reach the database", exc_info=True)
        return response
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return response


def init_app(app: Flask) -> None:
    listen_once("after_commit", files_after_commit)
    listen_once("after_soft_rollback", files_after_rollback)
    app.after_request(end_transaction)

    @app.errorhandler(DomainError)
    def refused(exc: DomainError):
        g.setdefault(FAILED, True)
        db.session.rollback()
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": "conflict" if exc.status == 409 else "invalid",
                                      "message": str(exc)}}), exc.status
        flash(str(exc), "error")
        target = g.get(RETURN_TO) or _same_site(request.referrer) or url_for("selfservice.index")
        return redirect(target)
