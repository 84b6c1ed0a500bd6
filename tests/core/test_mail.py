"""The outbox against a real SMTP server on loopback (aiosmtpd)."""

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlalchemy import select

from app.core.db import db, utcnow
from app.core.mail import OutboxMessage, enqueue, send_due


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


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
