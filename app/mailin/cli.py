"""``flask --app wsgi mail fetch``: read the functions' mailboxes once (the worker does it every
``LOTSEN_MAIL_IN_INTERVAL`` seconds)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.db import db
from app.mailin.models import Mailbox
from app.mailin.services import fetch_mailbox, list_mailboxes

mail_cli = AppGroup("mail", help="E-mail in: the support functions' mailboxes.")


def fetch_all(address: str | None = None) -> str:
    """Read every active mailbox (or the one with ``address``); a line saying what came of it ("" if nothing)."""
    config = current_app.config
    lines = []
    for mailbox in list_mailboxes():
        if (address and mailbox.address != address.lower()) or (not address and not mailbox.is_active):
            continue
        counts = fetch_mailbox(mailbox, config, db.session.commit, Path(config["LOTSEN_UPLOAD_PATH"]))
        mailbox = db.session.get(Mailbox, mailbox.id)
        if counts.get("error"):
            lines.append(f"{mailbox.address}: error: {mailbox.last_error}")
        elif counts:
            lines.append(f"{mailbox.address}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())))
    return "; ".join(lines)


@mail_cli.command("fetch")
@click.option("--mailbox", "address", help="Read only the mailbox with this address (even if turned off).")
def fetch_command(address: str | None) -> None:
    """Read new mail: each becomes a case, a reply on its case, or nothing (machine mail), and is moved to the
    mailbox's done folder."""
    if address and address.lower() not in {m.address for m in list_mailboxes()}:
        raise click.ClickException(f"no mailbox {address}")
    click.echo(fetch_all(address) or "mail: nothing new")
