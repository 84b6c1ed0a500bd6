"""Operations: is this host ready to serve, the figures ``/metrics`` reads from the database, and backup and
restore of the embedded default (SQLite and the instance's files).

A backup is a folder: ``lotsen.db`` (a consistent copy taken with SQLite's online backup API while Lotsen
serves), ``files/`` (uploads and stored PDFs), ``settings.json`` (the instance's ``LOTSEN_*`` settings without
secrets) and ``manifest.json`` (the schema revision and every file's size and SHA-256). The database is copied
before the files: every row in the copy had its file written before it was committed, so the copy's files
cover its rows (a file that arrived later is only extra).
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.models import SupportFunction, User
from app.config import PROJECT_ROOT
from app.core import embeddings
from app.core.db import db, utcnow
from app.core.jobs import WorkerHeartbeat
from app.core.mail import OutboxMessage
from app.core.transactions import DomainError
from app.selfservice.search import get_index
from app.tickets.models import Ticket

log = logging.getLogger(__name__)
BACKUP_FORMAT = "lotsen-backup/1"
SECRET_WORDS = ("SECRET", "PASSWORD", "KEY", "TOKEN", "DATABASE_URL")  # settings a backup leaves out


class BackupRefused(DomainError):  # noqa: N818
    """A backup or restore that cannot be done; the message says why."""


# --- readiness -----------------------------------------------------------------------------------------------
def migration_head() -> str:
    """The newest migration this code knows (what ``db upgrade`` brings the database to)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(config).get_current_head() or ""


def readiness(max_index_lag: int) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Each check's state: the database answers, its schema is current, the search index opens and is at most
    ``max_index_lag`` revisions behind, the embedding model is loaded or knowingly off. No personal data, no
    settings, no secrets."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        db.session.execute(text("SELECT 1"))
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        checks["database"] = {"ok": True}
        expected = migration_head()
        checks["migrations"] = {"ok": current == expected, "current": current, "expected": expected}
        index = get_index().health(db.session)
        checks["search_index"] = {"ok": index["open"] and index["behind"] <= max_index_lag, **index}
    except SQLAlchemyError as exc:
        db.session.rollback()
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        checks["migrations"] = checks["search_index"] = {"ok": False, "error": "the database does not answer"}
    if not embeddings.configured_name():
        checks["embedding_model"] = {"ok": True, "state": "off"}
    else:
        loaded = embeddings.current_model() is not None
        checks["embedding_model"] = {"ok": loaded, "state": "loaded" if loaded else "failed"}
    return all(check["ok"] for check in checks.values()), checks


# --- figures for /metrics ------------------------------------------------------------------------------------
class DatabaseFigures(Collector):
    """Figures read from the database when Prometheus asks (the same from whichever host it asks)."""

    def collect(self):
        up = GaugeMetricFamily("lotsen_database_up", "1 when the database answered this scrape")
        try:
            families = list(self._figures())
        except SQLAlchemyError:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _figures(self):
        now = utcnow()
        waiting = (OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False))
        queued, oldest = db.session.execute(select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at))
                                            .where(*waiting)).one()
        failed = db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.failed.is_(True)))
        yield GaugeMetricFamily("lotsen_outbox_queued", "Mails waiting to be sent", value=queued or 0)
        yield GaugeMetricFamily("lotsen_outbox_failed", "Mails given up after their attempts", value=failed or 0)
        yield GaugeMetricFamily("lotsen_outbox_oldest_age_seconds", "Age of the oldest mail waiting to be sent",
                                value=(now - oldest).total_seconds() if oldest else 0)
        hour_ago = now - timedelta(hours=1)
        first_line = select(SupportFunction.id).where(SupportFunction.is_first_line.is_(True))
        opened, straight = db.session.execute(select(
            func.count(Ticket.id),
            func.count(Ticket.id).filter(Ticket.first_function_id.not_in(first_line)))
            .where(Ticket.created_at >= hour_ago)).one()
        yield GaugeMetricFamily("lotsen_cases_opened_last_hour", "Cases opened in the last hour", value=opened)
        yield GaugeMetricFamily("lotsen_cases_routed_straight_share_last_hour",
                                "Share of the last hour's cases that went straight to a support function "
                                "(not through the service centre)", value=straight / opened if opened else 0)
        yield GaugeMetricFamily("lotsen_search_index_behind_revisions",
                                "Article revisions this host's search index has not seen yet",
                                value=get_index().health(db.session)["behind"])
        beats = GaugeMetricFamily("lotsen_worker_heartbeat_age_seconds",
                                  "Seconds since each worker last finished a round", labels=["worker"])
        for worker, seen in db.session.execute(select(WorkerHeartbeat.worker, WorkerHeartbeat.seen_at)):
            beats.add_metric([worker], (now - seen).total_seconds())
        yield beats
        db.session.rollback()  # a scrape reads only


# --- backup and restore --------------------------------------------------------------------------------------
def _sqlite_path() -> Path:
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupRefused("This command backs up the embedded SQLite database. For PostgreSQL use pg_dump and "
                            "copy the upload folder beside it (README, Operations).")
    return Path(url.database)


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def _settings(config) -> dict[str, Any]:
    return {name: value if isinstance(value, bool | int | float | str | list | None) else str(value)
            for name, value in sorted(config.items())
            if name.startswith("LOTSEN_") and not any(word in name for word in SECRET_WORDS)}


def backup(target: Path, config) -> dict[str, Any]:
    """Write a backup of the running instance into ``target`` (new or empty); returns the manifest."""
    source = _sqlite_path()
    if target.exists() and any(target.iterdir()):
        raise BackupRefused(f"{target} is not empty: a backup goes into a new or empty folder.")
    target.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(target / "lotsen.db")
    original = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        original.backup(copy)  # page by page, consistent, while others write (SQLite's online backup API)
    finally:
        original.close()
        copy.close()
    uploads = Path(config["LOTSEN_UPLOAD_PATH"])
    if uploads.is_dir():
        shutil.copytree(uploads, target / "files")
    (target / "settings.json").write_text(json.dumps(_settings(config), ensure_ascii=False, indent=2),
                                          encoding="utf-8")
    with sqlite3.connect(target / "lotsen.db") as check:
        schema = check.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        cases = check.execute("SELECT count(*) FROM ticket").fetchone()[0]
    files = {str(path.relative_to(target)): {"size": path.stat().st_size, "sha256": _digest(path)}
             for path in sorted(target.rglob("*")) if path.is_file()}
    manifest = {"format": BACKUP_FORMAT, "created_at": utcnow().isoformat(), "schema": schema, "cases": cases,
                "files": files}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


def verify(source: Path) -> dict[str, Any]:
    """The backup's manifest, after every file's size and checksum are checked; raises ``BackupRefused``."""
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"{source} holds no readable manifest.json: {exc}") from exc
    if manifest.get("format") != BACKUP_FORMAT:
        raise BackupRefused(f"{source} is not a Lotsen backup ({manifest.get('format')!r}).")
    for name, expected in manifest["files"].items():
        path = source / name
        if not path.is_file() or path.stat().st_size != expected["size"] or _digest(path) != expected["sha256"]:
            raise BackupRefused(f"{name} is missing or changed since the backup was taken; nothing was restored.")
    return manifest


def _is_empty() -> bool:
    try:
        return not db.session.scalar(select(func.count(User.id))) and not db.session.scalar(
            select(func.count(Ticket.id)))
    except SQLAlchemyError:  # no tables yet
        db.session.rollback()
        return True


def restore(source: Path, config) -> dict[str, Any]:
    """Put a verified backup into this instance, which must be empty (no users, no cases): the database file,
    then the files. The caller rebuilds the search index afterwards (``rebuild_search``)."""
    manifest = verify(source)
    target = _sqlite_path()
    if not _is_empty():
        raise BackupRefused("This instance already holds users or cases; restore into an empty instance.")
    uploads = Path(config["LOTSEN_UPLOAD_PATH"])
    if uploads.is_dir() and any(uploads.rglob("*")):
        raise BackupRefused(f"{uploads} is not empty; restore into an empty instance.")
    db.session.remove()
    db.engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    copy = sqlite3.connect(target)
    original = sqlite3.connect(f"file:{source / 'lotsen.db'}?mode=ro", uri=True)
    try:
        original.backup(copy)
    finally:
        original.close()
        copy.close()
    if (source / "files").is_dir():
        shutil.copytree(source / "files", uploads, dirs_exist_ok=True)
    return manifest


def rebuild_search() -> int:
    """The search index from the restored articles, and the embeddings of any article that lacks them (the
    stored ones came with the database). Returns the number of articles indexed."""
    index = get_index()
    count = index.rebuild()
    if index.semantic_model() is not None:
        index.semantic.catch_up()
    return count
