"""The outbox against a real SMTP server on loopback (aiosmtpd)."""

import asyncio
import contextlib
import socket
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from app.core.db import db, utcnow
from app.core.mail import OutboxMessage, enqueue, send_due


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


class SlowInbox(Inbox):
    """Takes a few milliseconds per mail (without blocking other connections), as a real server does."""

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        await asyncio.sleep(0.005)
        return await super().handle_DATA(server, session, envelope)


@contextlib.contextmanager
def _running(inbox):
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server():
    with _running(Inbox()) as server:
        yield server


@pytest.fixture
def slow_smtp_server():
    with _running(SlowInbox()) as server:
        yield server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_queued_mail_is_sent_only_after_commit(app, smtp_server):
    controller, inbox = smtp_server
    config = {**app.config, "LOTSEN_SMTP_HOST": "127.0.0.1", "LOTSEN_SMTP_PORT": controller.port}
    enqueue("erik@kommun.example", "Hej", "Rollback me")
    db.session.rollback()
    enqueue("erik@kommun.example", "Ärende LOT-2026-000001", "Åäö i texten")
    db.session.commit()
    assert send_due(config, app.instance_path) == (1, 0)
    assert len(inbox.messages) == 1
    received = inbox.messages[0]
    assert received["To"] == "erik@kommun.example"
    assert "Åäö i texten" in received.get_payload(decode=True).decode("utf-8")
    assert send_due(config, app.instance_path) == (0, 0)


def test_an_smtp_outage_loses_nothing(app, smtp_server):
    controller, inbox = smtp_server
    down = {**app.config, "LOTSEN_SMTP_HOST": "127.0.0.1", "LOTSEN_SMTP_PORT": _free_port()}
    enqueue("erik@kommun.example", "Hej", "Kommer fram till slut")
    db.session.commit()
    assert send_due(down, app.instance_path) == (0, 1)
    message = db.session.scalar(select(OutboxMessage))
    assert message.sent_at is None and message.attempts == 1 and message.next_attempt_at > utcnow()
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    up = {**down, "LOTSEN_SMTP_PORT": controller.port}
    assert send_due(up, app.instance_path) == (1, 0)
    assert len(inbox.messages) == 1


def test_without_smtp_mail_goes_to_files(app, runner, tmp_path):
    enqueue("erik@kommun.example", "Hej", "Till fil")
    db.session.commit()
    result = runner.invoke(args=["outbox", "send"])
    assert "1 sent" in result.output
    files = list((tmp_path / "instance" / "mail").glob("*.eml"))
    assert len(files) == 1 and b"Till fil" in files[0].read_bytes()


# --- claims, stable Message-IDs, bad messages, timeouts, a worker that survives ---------------------------

def _smtp(app, port, **extra):
    return {**app.config, "LOTSEN_SMTP_HOST": "127.0.0.1", "LOTSEN_SMTP_PORT": port, **extra}


def _ids_at(inbox) -> list[str]:
    return [received["Message-ID"] for received in inbox.messages]


def _send_until_done(app, port, batch, sent, errors):
    """One sender: its own app context and session, rounds until it finds nothing to claim."""
    try:
        with app.app_context():
            config = _smtp(app, port)
            while (result := send_due(config, app.instance_path, batch=batch)) != (0, 0):
                sent.append(result[0])
            db.session.remove()
    except Exception as exc:  # reported by the test, not lost in the thread
        errors.append(exc)


def test_two_senders_deliver_every_mail_exactly_once(app, make_app, slow_smtp_server):
    controller, inbox = slow_smtp_server
    for number in range(100):
        enqueue(f"user{number}@kommun.example", f"Ärende {number}", "Hej")
    db.session.commit()
    stored = set(db.session.scalars(select(OutboxMessage.message_id)))
    sent: tuple[list[int], list[int]] = ([], [])
    errors: list[Exception] = []
    senders = [threading.Thread(target=_send_until_done, args=(make_app(), controller.port, 7, sent[n], errors))
               for n in range(2)]
    senders[0].start()
    deadline = time.monotonic() + 10
    while len(inbox.messages) < 3 and time.monotonic() < deadline:  # out of step: the first is mid-batch
        time.sleep(0.001)
    senders[1].start()
    for sender in senders:
        sender.join(timeout=120)
    assert errors == []
    received = Counter(_ids_at(inbox))
    assert [mid for mid, count in received.items() if count > 1] == [], "sent twice"
    assert set(received) == stored and len(inbox.messages) == 100
    assert sum(sent[0]) > 0 and sum(sent[1]) > 0, "both senders took part"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(OutboxMessage.sent_at.is_(None))) == 0
    assert db.session.scalar(select(func.count()).where(OutboxMessage.claimed_by.is_not(None))) == 0


def test_a_round_claims_at_most_one_batch(app, smtp_server):
    controller, inbox = smtp_server
    for number in range(12):
        enqueue("erik@kommun.example", f"Hej {number}", "x")
    db.session.commit()
    assert send_due(_smtp(app, controller.port), app.instance_path, batch=5) == (5, 0)
    assert len(inbox.messages) == 5
    assert db.session.scalar(select(func.count()).where(OutboxMessage.claimed_by.is_not(None))) == 0


def test_a_claim_held_by_a_live_worker_is_left_alone(app, smtp_server):
    controller, inbox = smtp_server
    message = enqueue("erik@kommun.example", "Hej", "Någon annan skickar")
    message.claimed_by, message.claimed_until = "other-worker", utcnow() + timedelta(minutes=4)
    db.session.commit()
    assert send_due(_smtp(app, controller.port), app.instance_path) == (0, 0)
    assert inbox.messages == []


def test_a_dead_workers_claim_expires_and_the_mail_goes_with_its_stored_message_id(app, smtp_server):
    controller, inbox = smtp_server
    message = enqueue("erik@kommun.example", "Hej", "Arbetaren dog mitt i")
    message.claimed_by, message.claimed_until = "dead-worker", utcnow() - timedelta(seconds=1)
    db.session.commit()
    stored_id = message.message_id
    assert send_due(_smtp(app, controller.port), app.instance_path) == (1, 0)
    assert _ids_at(inbox) == [stored_id]
    db.session.expire_all()
    assert message.sent_at is not None and message.claimed_by is None


def test_the_message_id_is_given_at_enqueue_and_kept_through_retries(app, smtp_server):
    controller, inbox = smtp_server
    message = enqueue("erik@kommun.example", "Hej", "Samma id varje gång")
    db.session.commit()
    stored_id = message.message_id
    assert stored_id.startswith("<") and stored_id.endswith("@kommun.example>")
    assert send_due(_smtp(app, _free_port()), app.instance_path) == (0, 1)
    message.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert send_due(_smtp(app, controller.port), app.instance_path) == (1, 0)
    assert _ids_at(inbox) == [stored_id]
    assert db.session.get(OutboxMessage, message.id).message_id == stored_id


def test_enqueue_replaces_control_characters_in_the_subject(app):
    message = enqueue("erik@kommun.example", "Hej\r\nBcc: evil@example.com\tslut\x00", "x")
    assert message.subject == "Hej  Bcc: evil@example.com slut "


def test_a_message_that_cannot_be_built_fails_alone(app, smtp_server):
    controller, inbox = smtp_server
    enqueue("erik@kommun.example", "Innan", "1")
    enqueue("erik@kommun.example\r\nBcc: evil@example.com", "Trasig", "2")
    # queued before enqueue cleaned subjects: sent with spaces instead of line breaks
    db.session.add(OutboxMessage(recipient="erik@kommun.example", subject="Gammal\r\nBcc: evil@example.com",
                                 body="3"))
    enqueue("erik@kommun.example", "Efter", "4")
    db.session.commit()
    config = _smtp(app, controller.port)
    assert send_due(config, app.instance_path) == (3, 1)
    bad = db.session.scalar(select(OutboxMessage).where(OutboxMessage.subject == "Trasig"))
    assert bad.failed and bad.sent_at is None and bad.claimed_by is None
    assert bad.last_error.startswith("cannot build the message") and "linefeed" in bad.last_error
    assert sorted(m["Subject"] for m in inbox.messages) == ["Efter", "Gammal  Bcc: evil@example.com", "Innan"]
    assert all(m["Bcc"] is None for m in inbox.messages)
    assert send_due(config, app.instance_path) == (0, 0)


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections (the kernel's backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


def test_a_hanging_server_ends_the_round_and_the_rest_wait_uncharged(app, silent_server):
    for number in range(3):
        enqueue("erik@kommun.example", f"Hej {number}", "Servern svarar aldrig")
    db.session.commit()
    config = _smtp(app, silent_server, LOTSEN_SMTP_TIMEOUT=0.5)
    started = time.monotonic()
    assert send_due(config, app.instance_path) == (0, 1)
    assert time.monotonic() - started < 5
    first, *rest = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    assert first.attempts == 1 and first.next_attempt_at > utcnow() and "timed out" in first.last_error
    assert [(m.attempts, m.claimed_by, m.sent_at) for m in rest] == [(0, None, None)] * 2
    assert all(m.next_attempt_at <= utcnow() for m in rest)


def test_smtp_timeout_is_a_setting(make_app, monkeypatch):
    monkeypatch.setenv("LOTSEN_SMTP_TIMEOUT", "2.5")
    assert make_app().config["LOTSEN_SMTP_TIMEOUT"] == 2.5
    monkeypatch.delenv("LOTSEN_SMTP_TIMEOUT")
    assert make_app().config["LOTSEN_SMTP_TIMEOUT"] == 10


@pytest.mark.parametrize("command", [["outbox", "send", "--loop"], ["worker"]])
def test_the_worker_survives_a_database_error(app, runner, monkeypatch, smtp_server, command):
    from app.tickets import cli

    controller, inbox = smtp_server
    # the command runs in the test's application context, as `flask` runs it in its own
    current_app.config.update(LOTSEN_SMTP_HOST="127.0.0.1", LOTSEN_SMTP_PORT=controller.port)
    enqueue("erik@kommun.example", "Hej", "Efter avbrottet")
    db.session.commit()
    calls, pauses = [], []
    real_send_due = cli.send_due

    def flaky_send_due(*args, **kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return real_send_due(*args, **kwargs)

    monkeypatch.setattr(cli, "send_due", flaky_send_due)
    monkeypatch.setattr(cli, "retrain_if_stale", lambda: False)
    monkeypatch.setattr(cli.time, "sleep", pauses.append)
    result = runner.invoke(args=[*command, "--rounds", "3"])
    assert result.exit_code == 0, result.output
    assert len(calls) == 3 and len(inbox.messages) == 1
    assert pauses[:2] == [1, 2], "the pause grows while the database is away"
    assert "server closed the connection" in result.output


def test_lotsen_s_mail_says_it_is_automatic_and_when_it_was_sent(app, smtp_server):
    """Issue 18: a Date header (RFC 5322 requires one, Lotsen sent none) and the marks that stop out-of-office
    and other automatic answers (RFC 3834 Auto-Submitted, Exchange's X-Auto-Response-Suppress): no mail loop can
    start from Lotsen's own notifications."""
    from email.utils import parsedate_to_datetime

    controller, inbox = smtp_server
    config = {**app.config, "LOTSEN_SMTP_HOST": "127.0.0.1", "LOTSEN_SMTP_PORT": controller.port}
    enqueue("erik@kommun.example", "Ärende LOT-2026-000001", "Svar på ditt ärende")
    db.session.commit()
    assert send_due(config, app.instance_path) == (1, 0)
    received = inbox.messages[0]
    assert abs((parsedate_to_datetime(received["Date"]) - utcnow()).total_seconds()) < 60
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["X-Auto-Response-Suppress"] == "All"
