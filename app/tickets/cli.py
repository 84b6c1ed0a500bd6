"""``flask --app wsgi outbox send``: deliver queued e-mails (once, or in a loop as a worker)."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from app.core.db import db, utcnow
from app.core.jobs import DAILY_JOBS, PERIODIC_JOBS, beat
from app.core.mail import send_due
from app.tickets import notifications
from app.tickets.routing import decide_route, retrain_if_stale, train_and_save
from app.tickets.services import mail_context
from app.tickets.sla import DUE_SOON_MINUTES, STOCKHOLM

log = logging.getLogger(__name__)
worker_log = logging.getLogger("lotsen.worker")
FIRST_PAUSE, LONGEST_PAUSE = 1.0, 60.0

outbox_cli = AppGroup("outbox", help="The e-mail outbox.")
# Tests stop a loop after a number of rounds; nobody else needs to.
rounds_option = click.option("--rounds", type=click.IntRange(min=1), default=None, hidden=True)


def run_rounds(one_round: Callable[[], None], interval: float, max_rounds: int | None = None) -> None:
    """Run ``one_round`` every ``interval`` seconds until stopped (or ``max_rounds`` times).

    A worker must outlive whatever goes wrong in a round, above all a database that is restarted or
    unreachable: the error is reported, the session rolled back and thrown away (its connection may be
    dead), and the next round comes after a pause that doubles from 1 s to 60 s while the errors last.
    """
    rounds, pause_after_error = 0, 0.0
    while True:
        try:
            one_round()
        except Exception as exc:
            pause_after_error = min(max(pause_after_error * 2, FIRST_PAUSE), LONGEST_PAUSE)
            pause = pause_after_error
            kind = "database error" if isinstance(exc, SQLAlchemyError) else "error"
            say(f"{kind} in worker round, next try in {pause:g} s: {exc.__class__.__name__}: {exc}", err=True)
            if not isinstance(exc, SQLAlchemyError):
                log.exception("worker round failed")
            with contextlib.suppress(Exception):
                db.session.rollback()
        else:
            pause_after_error, pause = 0.0, interval
        finally:
            with contextlib.suppress(Exception):
                db.session.remove()
        rounds += 1
        if max_rounds is not None and rounds >= max_rounds:
            return
        time.sleep(pause)


def say(text: str, err: bool = False) -> None:
    """A worker's line: as text on the terminal, or, with ``LOTSEN_LOG_FORMAT=json``, a JSON log line like the web
    processes' (warnings for errors)."""
    if current_app.config.get("LOTSEN_LOG_FORMAT") == "json":
        worker_log.log(logging.WARNING if err else logging.INFO, text)
    else:
        click.echo(text, err=err)


def _report(sent: int, failed: int) -> None:
    say(f"outbox: {sent} sent, {failed} failed (will retry)")


@outbox_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending every LOTSEN_OUTBOX_INTERVAL seconds until stopped.")
@rounds_option
def send_command(loop: bool, rounds: int | None) -> None:
    """Send the e-mails that are due; failed ones are retried later with growing pauses. With --loop a
    database or mail server outage does not stop it: it waits and carries on."""
    config = current_app.config
    instance = Path(current_app.instance_path)
    if not loop:
        _report(*send_due(config, instance))
        return

    digested_on = None

    def one_round() -> None:
        nonlocal digested_on
        notices = notifications.warn_due_soon(utcnow(), timedelta(minutes=DUE_SOON_MINUTES), mail_context())
        local = datetime.now(STOCKHOLM)
        digests = 0
        if local.hour >= config["LOTSEN_DIGEST_HOUR"] and digested_on != local.date():
            digests, digested_on = notifications.send_digests(utcnow(), mail_context()), local.date()
        if notices or digests:
            db.session.commit()
            say(f"notifications: {notices} cases near their service level, {digests} daily summaries")
        sent, failed = send_due(config, instance)
        if sent or failed:
            _report(sent, failed)

    run_rounds(one_round, config["LOTSEN_OUTBOX_INTERVAL"], rounds)


routing_cli = AppGroup("routing", help="Automatic routing of questions to support functions.")


@routing_cli.command("batch")
def routing_batch() -> None:
    """Read `subject<TAB>body` lines on stdin; print one JSON line each: the function Lotsen judges
    responsible, its confidence, and the queue the case would land in."""
    retrain_if_stale()
    for line in sys.stdin:
        subject, _, body = line.rstrip("\n").partition("\t")
        decision = decide_route(None, subject, body, train_if_missing=True, explain=0)
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
@rounds_option
def worker_command(rounds: int | None) -> None:
    """The background worker: sends the outbox, runs the periodic jobs (reading the mailboxes) and the daily jobs
    (retention) and retrains the routing model after new corrections.
    It survives database and mail server outages: it waits and carries on."""
    config = current_app.config
    instance = Path(current_app.instance_path)
    done_on: dict[str, object] = {}
    next_run: dict[str, float] = {}
    name = socket.gethostname()[:120]  # one series per host: a restarted worker takes over its row

    def one_round() -> None:
        sent, failed = send_due(config, instance)
        if sent or failed:
            _report(sent, failed)
        for job in PERIODIC_JOBS.values():
            if time.monotonic() >= next_run.get(job.name, 0.0):
                next_run[job.name] = time.monotonic() + config[job.interval_setting]
                summary = job.run()
                if summary:
                    say(f"{job.name}: {summary}")
        local = datetime.now(STOCKHOLM)
        for job in DAILY_JOBS.values():
            if local.hour >= config[job.hour_setting] and done_on.get(job.name) != local.date():
                summary = job.run()
                db.session.commit()
                done_on[job.name] = local.date()
                say(f"{job.name}: {summary}")
        try:
            if retrain_if_stale():
                say("routing model retrained")
        except SQLAlchemyError:
            raise  # the database is away: the loop waits before the next round
        except Exception as exc:  # a training problem must not stop the mail; the next round tries again
            db.session.rollback()
            say(f"routing retraining failed: {exc}", err=True)
        beat(name)
        db.session.commit()

    run_rounds(one_round, config["LOTSEN_OUTBOX_INTERVAL"], rounds)
