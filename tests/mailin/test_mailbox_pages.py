"""Issue 18: administrators connect mailboxes in the browser (secrets stored encrypted and never shown again), test
the log-in, and deal with held or failed mail; a confidential function's failed mail is for its specialists only."""

from __future__ import annotations

from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db
from app.mailin import services
from app.mailin.cli import fetch_all
from app.mailin.models import InboundMail, Mailbox

FORM = {"address": "it-support@kommun.example", "function": "it", "host": "imap.kommun.example", "port": "993",
        "security": "tls", "username": "it-support", "auth": "password", "secret": "Hemligt-losen-1",
        "oauth_client_id": "", "oauth_tenant": "", "oauth_token_url": "", "folder": "INBOX",
        "done_folder": "Lotsen", "is_active": "y"}


def test_only_administrators_reach_the_mailboxes(client, auth, people):
    auth.login("ivar")
    assert client.get("/admin/mailboxes").status_code == 403
    assert client.post("/admin/mailboxes/new", data=FORM).status_code == 403
    auth.logout()
    auth.login("chef.admin")
    page = client.get("/admin/mailboxes")
    assert page.status_code == 200 and "Brevlådor" in page.get_data(as_text=True)
    assert "/admin/mailboxes" in client.get("/admin/service-desk").get_data(as_text=True)


def test_a_saved_secret_is_encrypted_and_never_shown_again(client, auth, people):
    auth.login("chef.admin")
    assert client.post("/admin/mailboxes/new", data=FORM).status_code == 302
    box = db.session.scalar(select(Mailbox))
    assert box.function.slug == "it" and "Hemligt-losen-1" not in box.secret and box.secret.startswith("enc:")
    page = client.get(f"/admin/mailboxes/{box.id}").get_data(as_text=True)
    assert "Hemligt-losen-1" not in page and box.secret not in page

    assert client.post(f"/admin/mailboxes/{box.id}", data={**FORM, "secret": "", "folder": "Inkorg"}
                       ).status_code == 302
    db.session.expire_all()
    assert services.imap_settings(box, {"LOTSEN_MAIL_IN_TIMEOUT": 5, "LOTSEN_MAIL_IN_CA_FILE": "",
                                        "LOTSEN_MAIL_IN_REQUIRE_CERT": True}).password == "Hemligt-losen-1"
    assert box.folder == "Inkorg"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "mailbox_save")).all()
    assert [e.detail for e in entries] == ["it-support@kommun.example (secret changed)",
                                           "it-support@kommun.example (secret kept)"]
    assert all("Hemligt" not in e.detail for e in entries)


def test_bad_settings_come_back_with_a_message_and_what_was_typed(client, auth, people):
    auth.login("chef.admin")
    page = client.post("/admin/mailboxes/new", data={**FORM, "port": "99999", "secret": ""})
    text = page.get_data(as_text=True)
    assert page.status_code == 400 and "En port är ett tal från 1 till 65535." in text
    assert 'value="imap.kommun.example"' in text
    page = client.post("/admin/mailboxes/new", data={**FORM, "auth": "oauth2"})
    assert page.status_code == 400 and "OAuth 2.0 behöver programmets klient-id." in page.get_data(as_text=True)
    page = client.post("/admin/mailboxes/new", data={**FORM, "done_folder": "INBOX"})
    assert page.status_code == 400
    assert db.session.scalar(select(Mailbox)) is None


def test_the_log_in_test_says_how_many_mails_wait(client, auth, app, dovecot, mailbox, people):
    box = mailbox("it")
    from tests.mailin.conftest import mail
    dovecot.deliver(box.account, bytes(mail(to=box.address)))
    auth.login("chef.admin")
    page = client.post(f"/admin/mailboxes/{box.id}/test", follow_redirects=True).get_data(as_text=True)
    assert "Lotsen loggade in. 1 mejl väntar i INBOX." in page
    assert len(dovecot.messages(box.account)) == 1  # nothing was read or moved


def test_failed_mail_of_a_confidential_mailbox_is_for_its_specialists_only(client, auth, app, dovecot, mailbox,
                                                                           people):
    hr_box, it_box = mailbox("hr"), mailbox("it")
    dovecot.deliver(hr_box.account, b"Subject: sjukintyg\r\n\r\nmin diagnos\r\n")
    dovecot.deliver(it_box.account, b"Subject: skrivare\r\n\r\ntrasig\r\n")
    fetch_all()
    hr_row, it_row = db.session.scalars(select(InboundMail).order_by(InboundMail.mailbox_id)).all()

    auth.login("chef.admin")
    listing = client.get("/mail/held").get_data(as_text=True)
    assert f"/mail/held/{it_row.id}.eml" in listing and f"/mail/held/{hr_row.id}" not in listing
    assert client.get(f"/mail/held/{hr_row.id}.eml").status_code == 404
    assert client.post(f"/mail/held/{hr_row.id}", data={"action": "dismiss"}).status_code == 404
    auth.logout()

    auth.login("hanna")
    listing = client.get("/mail/held").get_data(as_text=True)
    assert f"/mail/held/{hr_row.id}.eml" in listing and f"/mail/held/{it_row.id}" not in listing
    download = client.get(f"/mail/held/{hr_row.id}.eml")
    assert download.status_code == 200 and download.data.endswith(b"min diagnos\r\n")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "inbound_mail_read")).user_id == \
        people["hanna"].id
    assert client.post(f"/mail/held/{hr_row.id}", data={"action": "dismiss"}).status_code == 302
    db.session.expire_all()
    assert hr_row.raw is None and hr_row.settled_at is not None
    assert client.get(f"/mail/held/{hr_row.id}.eml").status_code == 404
    auth.logout()

    auth.login("erik")
    assert client.get("/mail/held").status_code == 404


def test_the_saved_secret_goes_only_to_the_server_it_was_given_for(client, auth, people):
    """Pointing a mailbox at another server, port, user or token address takes the secret again: otherwise an
    administrator could have Lotsen send the saved password to a server of their own ("Testa inloggningen")."""
    auth.login("chef.admin")
    client.post("/admin/mailboxes/new", data=FORM)
    box = db.session.scalar(select(Mailbox))
    for change in ({"host": "evil.example"}, {"port": "143", "security": "starttls"}, {"username": "other"},
                   {"auth": "oauth2", "oauth_client_id": "x", "oauth_token_url": "https://evil.example/token"}):
        page = client.post(f"/admin/mailboxes/{box.id}", data={**FORM, "secret": "", **change})
        assert page.status_code == 400, change
        assert "Skriv lösenordet eller klienthemligheten igen" in page.get_data(as_text=True)
    without_field = {k: v for k, v in FORM.items() if k != "secret"}  # a form without the field at all
    assert client.post(f"/admin/mailboxes/{box.id}", data={**without_field, "folder": "Inkorg"}).status_code == 302
    db.session.expire_all()
    assert services.imap_settings(box, {"LOTSEN_MAIL_IN_TIMEOUT": 5, "LOTSEN_MAIL_IN_CA_FILE": "",
                                        "LOTSEN_MAIL_IN_REQUIRE_CERT": True}).password == "Hemligt-losen-1"
    page = client.post(f"/admin/mailboxes/{box.id}", data={**FORM, "security": "none", "port": "143"})
    assert page.status_code == 400 and "bara till en server på den här datorn" in page.get_data(as_text=True)


def test_specialists_of_a_confidential_function_find_their_held_mail_from_the_queue(client, auth, people):
    auth.login("hanna")
    assert "/mail/held" in client.get("/workspace/hr").get_data(as_text=True)
    page = client.get("/mail/held")
    assert page.status_code == 200 and "Inget väntar." in page.get_data(as_text=True)
    auth.logout()
    auth.login("ivar")  # IT's cases are not confidential: its held mail is the administrators'
    assert "/mail/held" not in client.get("/workspace/it").get_data(as_text=True)
    assert client.get("/mail/held").status_code == 404
