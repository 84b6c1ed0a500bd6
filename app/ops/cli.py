"""``flask --app wsgi backup DIR`` and ``flask --app wsgi restore DIR``: the embedded default's backup."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.ops import services


@click.command("backup")
@with_appcontext
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def backup_command(folder: Path) -> None:
    """Back up the SQLite database (consistently, while Lotsen serves), the uploads and stored PDFs, and the
    settings without secrets into FOLDER (new or empty), with a manifest of checksums."""
    try:
        manifest = services.backup(folder, current_app.config)
    except services.BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"backup in {folder}: schema {manifest['schema']}, {manifest['cases']} cases, "
               f"{len(manifest['files'])} files")


@click.command("restore")
@with_appcontext
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Restore a backup made by ``backup`` into this empty instance (checksums checked first), then rebuild the
    search index and any missing embeddings. Run ``db upgrade`` afterwards when the code is newer."""
    try:
        manifest = services.restore(folder, current_app.config)
    except services.BackupRefused as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"restored {folder}: schema {manifest['schema']}, {manifest['cases']} cases, "
               f"{len(manifest['files'])} files checked")
    if not services.schema_is_current(manifest):  # the code is newer: its models do not fit the old schema yet
        click.echo("the backup is from an older release: run `flask --app wsgi db upgrade`, then "
                   "`flask --app wsgi search reindex`")
        return
    click.echo(f"{services.rebuild_search()} articles indexed")
