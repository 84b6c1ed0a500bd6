"""``flask --app wsgi outbox send``: deliver queued e-mails (once, or in a loop as a worker)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.core.db import db
from app.core.mail import send_due
from app.tickets.routing import decide_route, retrain_if_stale, train_and_save

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


routing_cli = AppGroup("routing", help="Automatic routing of questions to support functions.")


@routing_cli.command("batch")
def routing_batch() -> None:
    """Read `subject<TAB>body` lines on stdin; print one JSON line each: the function Lotsen judges
    responsible, its confidence, and the queue the case would land in."""
    retrain_if_stale()
    for line in sys.stdin:
        subject, _, body = line.rstrip("\n").partition("\t")
        decision = decide_route(None, subject, body, train_if_missing=True)
        function = (decision.suggested or decision.function).slug
        click.echo(json.dumps({"function": function, "confidence": round(decision.confidence, 4),
                               "queue": decision.function.slug}))


@routing_cli.command("retrain")
def routing_retrain() -> None:
    """Train the routing model from scratch on articles, seed examples and resolved cases."""
    started = time.perf_counter()
    model = train_and_save()
    seen = ", ".join(f"{label}: {count}" for label, count in sorted(model.trained_on.items()) if label != "state")
    click.echo(f"trained in {time.perf_counter() - started:.1f} s on {seen}")


@click.command("worker")
def worker_command() -> None:
    """The background worker: sends the outbox and retrains the routing model after new corrections."""
    config = current_app.config
    instance = Path(current_app.instance_path)
    while True:
        sent, failed = send_due(config, instance)
        if sent or failed:
            click.echo(f"outbox: {sent} sent, {failed} failed (will retry)")
        try:
            if retrain_if_stale():
                click.echo("routing model retrained")
        except Exception as exc:  # the worker keeps running; the next round tries again
            click.echo(f"routing retraining failed: {exc}", err=True)
        db.session.remove()
        time.sleep(config["LOTSEN_OUTBOX_INTERVAL"])
