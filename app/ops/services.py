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
import re
import shutil
import sqlite3
from contextlib import closing, suppress
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from app.auth.models import SupportFunction, User
from app.config import PROJECT_ROOT
from app.core import embeddings
from app.core.db import db, utcnow
from app.core.jobs import WorkerHeartbeat
from app.core.mail import OutboxMessage
from app.core.transactions import DomainError
from app.forms.models import FormDocument
from app.forms.services import document_path
from app.selfservice.search import IndexUnavailableError, get_index
from app.tickets.models import Ticket

log = logging.getLogger(__name__)
BACKUP_FORMAT = "lotsen-backup/1"
SECRET_WORDS = ("SECRET", "PASSWORD", "KEY", "TOKEN", "DATABASE_URL", "CREDENTIAL")  # left out of a backup


class BackupRefused(DomainError):  # noqa: N818
    """A backup or restore that cannot be done; the message says why."""


# --- readiness -----------------------------------------------------------------------------------------------
@cache
def migration_head() -> str:
    """The newest migration this code knows (what ``db upgrade`` brings the database to); read once per process."""
    return _scripts().get_current_head() or ""


@cache
def _scripts() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return ScriptDirectory.from_config(config)


def readiness(max_index_lag: int) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Each check's state: the database answers, its schema is current, the search index opens and is at most
    ``max_index_lag`` revisions behind (it first catches up, as before a search, at most every few seconds: a host
    the load balancer took out gets no searches to do it), the embedding model is loaded or knowingly off. No
    personal data, no settings, no secrets."""
    checks: dict[str, dict[str, Any]] = {}
    try:
        db.session.execute(text("SELECT 1"))
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        checks["database"] = {"ok": True}
        expected = migration_head()
        checks["migrations"] = {"ok": current == expected, "current": current, "expected": expected}
        index = get_index()
        if current == expected:
            with suppress(IndexUnavailableError):  # missing or broken: handed to the one background rebuild
                index.catch_up()
        state = index.health(db.session)
        checks["search_index"] = {"ok": state["open"] and state["behind"] <= max_index_lag, **state}
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
DATABASE = "lotsen.db"
_PASSWORD_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


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


def _without_secrets(value: Any) -> Any:
    """A setting's value with passwords taken out wherever they hide: inside URLs (``redis://:pw@host``) and
    under secret-sounding keys of nested settings (a directory's ``bind_password``)."""
    if isinstance(value, str):
        return _PASSWORD_IN_URL.sub(r"\1***@", value)
    if isinstance(value, dict):
        return {k: _without_secrets(v) for k, v in value.items() if not _secret_name(str(k))}
    if isinstance(value, list | tuple):
        return [_without_secrets(v) for v in value]
    return value if isinstance(value, bool | int | float | None) else str(value)


def _secret_name(name: str) -> bool:
    return any(word in name.upper() for word in SECRET_WORDS)


def _settings(config) -> dict[str, Any]:
    return {name: _without_secrets(value) for name, value in sorted(config.items())
            if name.startswith("LOTSEN_") and not _secret_name(name) and name != "LOTSEN_DIRECTORIES"}


def _copy_files(source: Path, target: Path) -> None:
    """Every regular file below ``source``; one removed meanwhile (retention) is skipped, links are not followed."""
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        destination = target / path.relative_to(source)
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(path, destination)
        except FileNotFoundError:
            continue


def _files_of_rows(database: Path) -> list[str]:
    """The files the copied database's rows name, relative to the upload folder."""
    with closing(sqlite3.connect(database)) as copy:
        attachments = [f"tickets/{name}" for (name,) in copy.execute("SELECT stored_name FROM ticket_attachment")]
        documents = [str(Path(document_path(FormDocument(stored_name=name), Path())))
                     for (name,) in copy.execute("SELECT stored_name FROM form_document")]
    return attachments + documents


def backup(target: Path, config) -> dict[str, Any]:
    """Write a backup of the running instance into ``target`` (which must not exist or be empty): built in a
    folder beside it and renamed when complete, readable by its owner only. Returns the manifest."""
    source = _sqlite_path()
    if target.exists() and any(target.iterdir()):
        raise BackupRefused(f"{target} is not empty: a backup goes into a new or empty folder.")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700, parents=True)
    try:
        with closing(sqlite3.connect(partial / DATABASE)) as copy, \
                closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)) as original:
            original.backup(copy)  # page by page, consistent, while others write (SQLite's online backup API)
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal or -shm beside it
            schema = copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            cases = copy.execute("SELECT count(*) FROM ticket").fetchone()[0]
        uploads = Path(config["LOTSEN_UPLOAD_PATH"])
        if uploads.is_dir():
            _copy_files(uploads, partial / "files")
        missing = [name for name in _files_of_rows(partial / DATABASE) if not (partial / "files" / name).is_file()]
        (partial / "settings.json").write_text(json.dumps(_settings(config), ensure_ascii=False, indent=2),
                                               encoding="utf-8")
        files = {str(path.relative_to(partial)): {"size": path.stat().st_size, "sha256": _digest(path)}
                 for path in sorted(partial.rglob("*")) if path.is_file()}
        manifest = {"format": BACKUP_FORMAT, "created_at": utcnow().isoformat(), "schema": schema, "cases": cases,
                    "files": files, "missing_files": missing}
        (partial / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in partial.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if missing:
        log.warning("backup %s: %d files named by rows were removed while it was taken", target, len(missing))
    return manifest


def verify(source: Path) -> dict[str, Any]:
    """The backup's manifest, after checking that exactly its files are there, each with its size and checksum,
    none outside the folder and none a link; raises ``BackupRefused``."""
    try:
        manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupRefused(f"{source} holds no readable manifest.json: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT or not isinstance(
            manifest.get("files"), dict):
        raise BackupRefused(f"{source} is not a Lotsen backup.")
    listed = manifest["files"]
    if DATABASE not in listed:
        raise BackupRefused(f"The manifest does not list {DATABASE}; nothing was restored.")
    root = source.resolve()
    for name in listed:
        path = Path(name)
        if path.is_absolute() or ".." in path.parts or not (root / path).resolve().is_relative_to(root):
            raise BackupRefused(f"The manifest names a file outside the backup ({name}); nothing was restored.")
    present = {str(path.relative_to(source)) for path in source.rglob("*")
               if (path.is_file() or path.is_symlink()) and path.name != "manifest.json"}
    if present != set(listed):
        extra = sorted(present - set(listed))[:3] or sorted(set(listed) - present)[:3]
        raise BackupRefused(f"The backup's files differ from its manifest ({', '.join(extra)}); nothing was "
                            "restored.")
    for name, expected in listed.items():
        path = source / name
        if path.is_symlink() or path.stat().st_size != expected.get("size") or _digest(path) != expected.get(
                "sha256"):
            raise BackupRefused(f"{name} is missing or changed since the backup was taken; nothing was restored.")
    return manifest


def _is_empty() -> bool:
    """No users and no cases. Only a database without Lotsen's tables counts as empty without them: an error
    (a lock, a broken file) is not emptiness."""
    if not inspect(db.engine).has_table("user_account"):
        return True
    return not db.session.scalar(select(func.count(User.id))) and not db.session.scalar(
        select(func.count(Ticket.id)))


def restore(source: Path, config) -> dict[str, Any]:
    """Put a verified backup into this instance, which must be empty (no users, no cases) and not in use (stop
    the web processes and workers first): the database, then the files the manifest lists. Refuses a backup
    from a schema this code does not know (newer code made it)."""
    manifest = verify(source)
    if manifest.get("schema") and manifest["schema"] != migration_head():
        try:
            _scripts().get_revision(manifest["schema"])
        except Exception as exc:
            raise BackupRefused(f"The backup's schema {manifest['schema']} is newer than this code knows; install "
                                "that release or a newer one first.") from exc
    target = _sqlite_path()
    if not _is_empty():
        raise BackupRefused("This instance already holds users or cases; restore into an empty instance.")
    uploads = Path(config["LOTSEN_UPLOAD_PATH"])
    if uploads.is_dir() and any(path.is_file() for path in uploads.rglob("*")):
        raise BackupRefused(f"{uploads} is not empty; restore into an empty instance.")
    db.session.remove()
    db.engine.dispose()
    if target.exists():
        try:  # nobody may have it open: a server writing into a replaced file would lose its writes
            with closing(sqlite3.connect(target, timeout=1, isolation_level=None)) as live:
                live.execute("BEGIN EXCLUSIVE")
                live.execute("ROLLBACK")
        except sqlite3.OperationalError as exc:
            raise BackupRefused("The database is in use: stop Lotsen's web processes and workers, then restore."
                                ) from exc
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(target)) as copy, \
            closing(sqlite3.connect(f"file:{source / DATABASE}?mode=ro", uri=True)) as original:
        original.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
    for name in manifest["files"]:
        if name.startswith("files/"):
            destination = uploads / Path(name).relative_to("files")
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / name, destination)
    return manifest


def schema_is_current(manifest: dict[str, Any]) -> bool:
    return manifest.get("schema") == migration_head()


def rebuild_search() -> int:
    """The search index from the restored articles, and the embeddings of any article that lacks them (the
    stored ones came with the database). Returns the number of articles indexed."""
    index = get_index()
    count = index.rebuild()
    if index.semantic_model() is not None:
        index.semantic.catch_up()
    return count
