"""``flask --app wsgi retention run``: culling under the retention rules; ``archive export``: the e-archive."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app, render_template
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from app.auth.models import SupportFunction
from app.core import audit
from app.core.db import db, utcnow
from app.core.pdf import render_pdf
from app.records import services
from app.tickets.models import Ticket
from app.tickets.routing import retrain_if_stale

retention_cli = AppGroup("retention", help="Retention (gallring): cull cases, orders, drafts and sent mail.")


def run_retention(dry_run: bool = False) -> list[services.CullCount]:
    """One run with the app's settings: the rules, then drafts and old mail."""
    config = current_app.config
    return services.run_retention(utcnow(), Path(config["LOTSEN_UPLOAD_PATH"]), config["LOTSEN_DRAFT_DAYS"],
                                  config["LOTSEN_SENT_MAIL_DAYS"], config["LOTSEN_AUDIT_KEEP_MONTHS"],
                                  config["LOTSEN_SEARCH_LOG_MONTHS"], dry_run=dry_run)


def daily_retention() -> str:
    """The worker's daily run (registered in app/__init__.py): the counts in one line."""
    counts = run_retention()
    return ", ".join(f"{count.rule}: {count.count}" for count in counts) or "no rules"


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would be culled now; change nothing.")
def run_command(dry_run: bool) -> None:
    """Cull what the retention rules say is due (the worker does this once a day at LOTSEN_RETENTION_HOUR)."""
    counts = run_retention(dry_run)
    for count in counts:
        click.echo(f"{'would ' if dry_run else ''}{count.action}: {count.count:6d}  {count.rule}")
    if dry_run:
        db.session.rollback()
        return
    db.session.commit()
    if any(count.count for count in counts):
        retrain_if_stale()  # the routing model keeps vectors of resolved cases: retrain without the culled


archive_cli = AppGroup("archive", help="The e-archive: cases and approved contracts as PDF/A with metadata.")


@archive_cli.command("export")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--case", "numbers", multiple=True, help="A case number; repeat for several (default: all resolved).")
@click.option("--function", "function_slug", default=None, help="Only the cases of this support function.")
def archive_export(out_dir: Path, numbers: tuple[str, ...], function_slug: str | None) -> None:
    """Write resolved or closed cases (not anonymised) for the e-archive: one folder per case with the whole case
    as PDF/A, its attachments, the approved contracts and metadata.json (docs/archive-metadata.schema.json),
    and manifest.json listing them. Every case written is audited."""
    query = select(Ticket).where(Ticket.anonymised_at.is_(None)).order_by(Ticket.id)
    if numbers:
        query = query.where(Ticket.number.in_(numbers))
    else:
        query = query.where(Ticket.status.in_(services.CULLED_STATUSES))
    if function_slug:
        query = query.join(SupportFunction, SupportFunction.id == Ticket.function_id).where(
            SupportFunction.slug == function_slug)
    upload_root = Path(current_app.config["LOTSEN_UPLOAD_PATH"])
    written = []
    for ticket in db.session.scalars(query):
        with current_app.test_request_context(), force_locale("sv"):
            html = render_template("pdf/ticket.html", ticket=ticket, events=list(ticket.events), printed_at=utcnow())
        metadata = services.archive_case(ticket, out_dir / ticket.number, render_pdf(html, archival=True),
                                         upload_root)
        audit.record(None, "archive.export", "ticket", ticket.number, f"{len(metadata['files'])} files")
        db.session.commit()  # each case written is recorded, whatever happens to the next
        written.append({"case_number": ticket.number, "folder": ticket.number})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "manifest.json").write_text(json.dumps({"format": services.ARCHIVE_FORMAT, "exported_at":
                                                       utcnow().isoformat(), "cases": written}, indent=2))
    db.session.commit()
    click.echo(f"{len(written)} cases written to {out_dir}")
