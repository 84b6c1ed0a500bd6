"""``flask --app wsgi forms validate|render FORM FILE.json``: check or render an order from JSON; ``new-key`` and
``rotate-key`` for the key that encrypts identity numbers at rest."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core import crypto
from app.core.db import db
from app.forms import services
from app.forms.registry import FORMS, get_form
from app.forms.validation import normalized

forms_cli = AppGroup("forms", help="Digital forms: check and render orders given as JSON; the data key.")


@forms_cli.command("new-key")
def new_key_command() -> None:
    """Print a new key for LOTSEN_DATA_KEY (identity numbers at rest), with the setting to use while the numbers
    are still under the key derived from LOTSEN_SECRET_KEY."""
    key = crypto.new_key()
    if crypto.data_keys().derived:
        click.echo(f"LOTSEN_DATA_KEY={key},{crypto.derived_key(current_app.config['SECRET_KEY'])}")
        click.echo("(the second key is the one in use now, derived from LOTSEN_SECRET_KEY: keep it until "
                   "`flask --app wsgi forms rotate-key` has run, then set LOTSEN_DATA_KEY to the first alone)",
                   err=True)
    else:
        click.echo(key)


@forms_cli.command("rotate-key")
def rotate_key_command() -> None:
    """Encrypt every stored identity number again with the first key of LOTSEN_DATA_KEY (after putting a new key
    first; the old ones may go once this has run)."""
    try:
        count = services.reencrypt_orders()
    except services.KeyMissing as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{count} orders written again with the first key of LOTSEN_DATA_KEY")


def _load(form: str, file: Path):
    definition = get_form(form)
    if definition is None:
        raise click.BadParameter(f"unknown form {form!r} (forms: {', '.join(FORMS)})", param_hint="FORM")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{file}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise click.ClickException(f"{file}: the order must be a JSON object")
    return definition, data


@forms_cli.command("validate")
@click.argument("form")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def validate_command(form: str, file: Path) -> None:
    """Print every problem with its field path and exit 1, or print ok (warnings are printed too)."""
    definition, data = _load(form, file)
    result = definition.validate(data, None)
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for path, message in result.errors.items():
        click.echo(f"{path}: {message}")
    if not result.ok:
        sys.exit(1)
    click.echo("ok")


@forms_cli.command("render")
@click.argument("form")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The PDF to write.")
@click.option("--draft", is_flag=True, help="Mark the document UTKAST.")
def render_command(form: str, file: Path, out: Path, draft: bool) -> None:
    """Render the order's document as PDF (the order must be valid)."""
    definition, data = _load(form, file)
    result = definition.validate(data, None)
    if not result.ok:
        for path, message in result.errors.items():
            click.echo(f"{path}: {message}", err=True)
        sys.exit(1)
    cfg = current_app.config
    organisation = services.Organisation(cfg["LOTSEN_ORG_NAME"], cfg["LOTSEN_ORG_ADDRESS"], cfg["LOTSEN_ORG_NUMBER"])
    out.write_bytes(services.render_document(definition, normalized(data), organisation, draft=draft))
    click.echo(f"wrote {out}")
