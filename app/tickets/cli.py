"""``flask --app wsgi outbox send``: deliver queued e-mails (once, or in a loop as a worker)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.mail import send_due

outbox_cli = AppGroup("outbox", help="The e-mail outbox.")


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending every LOTSEN_OUTBOX_INTERVAL seconds until stopped.")
def send_command(loop: bool) -> None:
    """Send the e-mails that are due; failed ones are retried later with growing pauses."""
    config = current_app.config
    instance = Path(current_app.instance_path)
    while True:
        sent, failed = send_due(config, instance)
        if sent or failed or not loop:
            click.echo(f"outbox: {sent} sent, {failed} failed (will retry)")
        if not loop:
            return
        time.sleep(config["LOTSEN_OUTBOX_INTERVAL"])
