"""Fixtures for mail in: a real Dovecot IMAP server (tests/mailin/dovecot.py), mailboxes in Lotsen that read it,
and the case fixtures of tests/tickets."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from flask import current_app

from app.auth.services import get_function
from app.core.db import db, utcnow
from app.mailin import services
from tests.conftest import skip_unless_available
from tests.tickets.conftest import calendar, create_ticket, mail_context, people  # noqa: F401  (fixtures)

_accounts = itertools.count(1)


@pytest.fixture(scope="session")
def dovecot():
    """A running Dovecot, once per test session. Where it cannot run, the tests that need it are skipped, except
    in CI (``CI`` set), where that is a failure."""
    from tests.mailin.dovecot import Dovecot, unavailable_reason

    skip_unless_available(unavailable_reason(), "the mail-in tests")
    server = Dovecot()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def mailbox(app, dovecot, people):  # noqa: F811  (the imported fixture)
    """Factory: ``mailbox("payroll")`` connects a new IMAP account of the test server as that function's mailbox
    (None: the general address, routed automatically); the row has ``.account``, the IMAP user."""
    for config in (app.config, current_app.config):
        config["LOTSEN_MAIL_IN_CA_FILE"] = dovecot.cert_file
        config["LOTSEN_MAIL_FROM"] = "Lotsen <lotsen@kommun.example>"

    def factory(function: str | None = "payroll", security: str = "tls"):
        account = f"box{next(_accounts)}"
        dovecot.add_user(account)
        row = services.save_mailbox(
            people["admin"], None, address=f"{account}@kommun.example",
            function=get_function(function) if function else None, host="127.0.0.1",
            port=dovecot.tls_port if security == "tls" else dovecot.port, security=security, username=account,
            auth="password", secret="Brevlada-123", oauth_client_id="", oauth_tenant="", oauth_token_url="",
            folder="INBOX", done_folder="Lotsen", is_active=True)
        db.session.commit()
        row.account = account
        return row

    return factory


def mail(sender: str = "erik@kommun.example", to: str = "lon@kommun.example", subject: str = "Fel på lönen",
         body: str = "Hej! Min lön för november saknar OB-tillägget.", **headers) -> EmailMessage:
    """A mail as a mail program sends it (Date and Message-ID included); keyword arguments add headers
    (``In_Reply_To`` becomes In-Reply-To)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="kommun.example")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message
