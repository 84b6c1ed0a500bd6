"""Issue 18, a review of mail in: confidential mail stays with its function wherever it arrived, bounces act only
on Lotsen's own mail, a hanging server or a pathological mail stops nothing else, a saved secret goes nowhere
new, and no mail is lost or half-imported."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.auth.models import User
from app.auth.services import get_function
from app.core.audit import AuditEntry
from app.core.db import db
from app.core.mail import FailingAddress, OutboxMessage
from app.core.mailbox import ImapSession
from app.mailin import services
from app.mailin.cli import fetch_all
from app.mailin.parsing import fold_quoted, html_to_text, parse_mail
from app.tickets import services as tickets
from app.tickets.models import Notification, Ticket, TicketAttachment
from tests.mailin.conftest import mail


def _box(people, function, address):
    row = services.save_mailbox(
        people["admin"], None, address=address, function=get_function(function) if function else None,
        host="127.0.0.1", port=1, security="tls", username="x", auth="password", secret="Brevlada-123",
        oauth_client_id="", oauth_tenant="", oauth_token_url="", folder="INBOX", done_folder="Lotsen",
        is_active=True)
    db.session.commit()
    return row


def _import(app, box, raw):
    row = services.import_mail(box, raw if isinstance(raw, bytes) else bytes(raw), app.config,
                               Path(app.config["LOTSEN_UPLOAD_PATH"]))
    db.session.commit()
    return row


def _ours(to):
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == to)
                              .order_by(OutboxMessage.id.desc())).first()


def _set(name, value, app):
    for config in (app.config, current_app.config):
        config[name] = value


def test_held_mail_about_an_hr_case_is_for_hr_wherever_it_arrived(app, client, auth, people, create_ticket,
                                                                   calendar, mail_context):
    general = _box(people, None, "lotsen@kommun.example")
    case = create_ticket("hr", requester="erik", subject="Sjukskrivning", description="x")
    tickets.change_status(case, people["hanna"], "resolved", calendar, mail_context)
    db.session.commit()
    _set("LOTSEN_MAIL_IN_REOPENS_HOURLY", 0, app)
    row = _import(app, general, mail(to=general.address, subject="Re: om min diagnos",
                                     In_Reply_To=_ours("erik@kommun.example").message_id, body="Utbrändhet."))
    assert row.outcome == "held" and row.confidential_function.slug == "hr"

    auth.login("chef.admin")
    assert "om min diagnos" not in client.get("/mail/held").get_data(as_text=True)
    assert client.get(f"/mail/held/{row.id}.eml").status_code == 404
    auth.logout()
    auth.login("hanna")
    assert "om min diagnos" in client.get("/mail/held").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "inbound_mail_list")).user_id == \
        people["hanna"].id


def test_removing_the_hr_mailbox_does_not_hand_its_held_mail_to_administrators(app, client, auth, people):
    hr = _box(people, "hr", "hr@kommun.example")
    _set("LOTSEN_MAIL_IN_SENDER_HOURLY", 0, app)
    row = _import(app, hr, mail(to=hr.address, subject="Min sjukskrivning", body="diagnos"))
    services.delete_mailbox(people["admin"], hr)
    db.session.commit()
    auth.login("chef.admin")
    assert "Min sjukskrivning" not in client.get("/mail/held").get_data(as_text=True)
    assert client.get(f"/mail/held/{row.id}.eml").status_code == 404


def test_the_export_withholds_an_hr_answer_that_came_to_the_general_address(app, client, auth, people,
                                                                              create_ticket):
    import io
    import json
    import zipfile

    general = _box(people, None, "lotsen@kommun.example")
    create_ticket("hr", requester="erik", subject="Sjukskrivning", description="x")
    _import(app, general, mail(to=general.address, subject="Re: diagnosen",
                               In_Reply_To=_ours("erik@kommun.example").message_id, body="mer"))
    auth.login("chef.admin")
    archive = zipfile.ZipFile(io.BytesIO(client.post(f"/admin/users/{people['erik'].id}/export", data={}).data))
    assert [m["subject"] for m in json.loads(archive.read("mail.json"))] == ["withheld: confidential function"]


def _report(failed: str, original_id: str, n: int = 0, sender: str = "MAILER-DAEMON@mx.kommun.example") -> bytes:
    return (f"From: {sender}\r\nTo: lotsen@kommun.example\r\nSubject: Undeliverable\r\n"
            f"Message-ID: <dsn{n}@mx>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            "--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
            "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
            f"--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {original_id}\r\nSubject: x\r\n\r\n"
            "--b--\r\n").encode()


def test_a_forged_or_foreign_bounce_silences_nobody(app, people, create_ticket):
    general = _box(people, None, "lotsen@kommun.example")
    create_ticket("it", requester="erik")
    ours = _ours("erik@kommun.example").message_id
    _import(app, general, _report("hanna@kommun.example", "<f1@evil.example>", 1, "someone@evil.example"))
    _import(app, general, _report("hanna@kommun.example", ours, 2))  # names our mail, but not its recipient
    assert db.session.scalar(select(func.count(FailingAddress.id))) == 0
    _import(app, general, _report("erik@kommun.example", ours, 3))
    assert db.session.scalar(select(FailingAddress.address)) == "erik@kommun.example"


def test_a_bounce_never_mails_anyone_so_it_cannot_loop(app, people, create_ticket, mail_context):
    general = _box(people, None, "lotsen@kommun.example")
    case = create_ticket("it", requester="erik")
    tickets.assign(case, people["ivar"], people["ivar"], mail_context)
    db.session.commit()
    before = db.session.scalar(select(func.count(OutboxMessage.id)))
    _import(app, general, _report("erik@kommun.example", _ours("erik@kommun.example").message_id))
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == before
    assert db.session.scalar(select(Notification.kind).where(Notification.user_id == people["ivar"].id,
                                                             Notification.kind == "mail_trouble"))


def test_a_hanging_server_keeps_no_other_mailbox_from_being_read(app, dovecot, mailbox, people):
    good = mailbox("it")
    dovecot.deliver(good.account, bytes(mail(to=good.address, subject="Skrivaren")))
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    open_connections = []

    def serve():  # greets, answers CAPABILITY, then never answers the log-in
        while True:
            connection, _ = listener.accept()
            connection.sendall(b"* OK ready\r\n")
            data = b""
            while b"\r\n" not in data:
                data += connection.recv(1000)
            connection.sendall(b"* CAPABILITY IMAP4rev1\r\n" + data.split()[0] + b" OK done\r\n")
            open_connections.append(connection)

    threading.Thread(target=serve, daemon=True).start()
    services.save_mailbox(people["admin"], None, address="a-hangs@kommun.example", function=get_function("it"),
                          host="127.0.0.1", port=listener.getsockname()[1], security="none", username="x",
                          auth="password", secret="s", oauth_client_id="", oauth_tenant="", oauth_token_url="",
                          folder="INBOX", done_folder="Lotsen", is_active=True)
    db.session.commit()
    _set("LOTSEN_MAIL_IN_TIMEOUT", 3, app)  # the good mailbox must log in within it on a busy machine too

    summary = fetch_all()

    assert "a-hangs@kommun.example: error: anslutningen bröts" in summary
    assert [t.subject for t in db.session.scalars(select(Ticket))] == ["Skrivaren"]


def test_pathological_mail_is_read_in_time_that_grows_with_its_size():
    """Before: folding re-scanned the lines above at every step back, and each HTML element cost a walk of its
    siblings; 64 KB took 20 s and a 1 MB mail hours, while the worker (and the outbox) waited."""
    text = "a\n" * 50_000 + "> b\n" * 50_000
    new, folded = fold_quoted(text)
    assert new.count("a") == 50_000 and folded.count("> b") == 50_000
    assert html_to_text("<div>" * 20_000 + "djupt" + "</div>" * 20_000) == "djupt"
    assert html_to_text("<p>x</p>" * 50_000).count("x") == 50_000


def test_a_refused_import_leaves_nothing_half_written_and_keeps_the_mail(app, people, monkeypatch):
    box = _box(people, "it", "it@kommun.example")
    message = mail(sender="lev@supplier.example", to=box.address, subject="Faktura", body="hej")
    message.add_attachment(b"%PDF-1.4\n" + b"0" * 100, maintype="application", subtype="pdf", filename="f.pdf")

    def refuse(*args, **kwargs):
        raise tickets.TicketError("nej")

    monkeypatch.setattr(services, "create_ticket", refuse)
    upload_root = Path(app.config["LOTSEN_UPLOAD_PATH"])

    row = services._import_or_keep(box.id, bytes(message), app.config, upload_root, db.session.commit)

    assert (row.outcome, row.reason, row.raw) == ("failed", "import failed: nej", bytes(message))
    assert list((upload_root / "tickets").glob("*")) == []
    assert db.session.scalar(select(User).where(User.username == "mail:lev@supplier.example")) is None
    assert row.message_id == message["Message-ID"]


def test_a_control_character_in_an_encoded_subject_still_makes_a_case(app, people):
    box = _box(people, "it", "it@kommun.example")
    raw = (b"From: erik@kommun.example\r\nSubject: =?utf-8?q?Faktura=07_123=00?=\r\n"
           b"Message-ID: <c1@kommun.example>\r\n\r\nhej\x00 d\xc3\xa5\r\n")
    row = _import(app, box, raw)
    assert row.outcome == "case" and row.ticket.subject == "Faktura 123"
    assert "\x00" not in row.ticket.description


def test_another_mail_under_a_reused_message_id_is_not_dropped(app, people):
    box = _box(people, "it", "it@kommun.example")
    first = mail(sender="erik@kommun.example", to=box.address, subject="Skrivaren", body="a")
    second = mail(sender="kalle@kommun.example", to=box.address, subject="Datorn", body="b")
    del second["Message-ID"]
    second["Message-ID"] = first["Message-ID"]
    _import(app, box, first)
    _import(app, box, second)
    _import(app, box, second)  # and that one again: still one case of it
    _import(app, box, first.as_bytes().replace(b"\nTo:", b"\nX-Delivered-To: it@kommun.example\nTo:"))
    assert sorted(t.subject for t in db.session.scalars(select(Ticket))) == ["Datorn", "Skrivaren"]


def test_text_after_an_inline_attachment_is_kept():
    raw = (b"From: erik@kommun.example\r\nSubject: Avtal\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="m"\r\n\r\n'
           b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nH\xc3\xa4r \xc3\xa4r avtalet.\r\n"
           b"--m\r\nContent-Type: application/pdf\r\nContent-Disposition: inline; filename=avtal.pdf\r\n\r\n"
           b"%PDF-1.4 x\r\n"
           b"--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSkriv under senast fredag.\r\n--m--\r\n")
    parsed = parse_mail(raw, set())
    assert parsed.text == "Här är avtalet.\n\nSkriv under senast fredag."
    assert [a.name for a in parsed.attachments] == ["avtal.pdf"]


def test_auto_submitted_no_with_a_comment_is_a_person(app, people):
    raw = b"From: erik@kommun.example\r\nSubject: x\r\nAuto-Submitted: no (written by hand)\r\n\r\nbody\r\n"
    assert parse_mail(raw, set()).machine is None


def test_answers_while_a_case_is_open_do_not_use_up_its_reopenings(app, people, create_ticket, calendar,
                                                                     mail_context):
    box = _box(people, "it", "it@kommun.example")
    case = create_ticket("it", requester="erik")
    ours = _ours("erik@kommun.example").message_id
    _set("LOTSEN_MAIL_IN_REOPENS_HOURLY", 1, app)
    for n in range(3):
        assert _import(app, box, mail(to=box.address, In_Reply_To=ours, body=f"Tillägg {n}")).outcome == "reply"
    tickets.change_status(case, people["ivar"], "resolved", calendar, mail_context)
    db.session.commit()
    first = _import(app, box, mail(to=box.address, In_Reply_To=ours, body="Nej, fortfarande fel."))
    assert (first.outcome, first.reopened_case) == ("reply", True)
    tickets.change_status(case, people["ivar"], "resolved", calendar, mail_context)
    db.session.commit()
    assert _import(app, box, mail(to=box.address, In_Reply_To=ours, body="Igen.")).outcome == "held"


def test_without_uidplus_lotsen_expunges_nothing(monkeypatch):
    """A plain EXPUNGE would also remove what other readers had marked deleted ("Lotsen never deletes mail")."""
    commands = []

    class Server:
        capabilities = ("IMAP4REV1",)

        def uid(self, command, *args):
            commands.append(command)
            return "OK", [b""]

        def expunge(self):
            commands.append("EXPUNGE")
            return "OK", [b""]

    ImapSession(Server()).move(b"7", "Lotsen")
    assert commands == ["COPY", "STORE"]


def test_an_attachment_that_is_refused_is_listed_on_the_case(app, people):
    box = _box(people, "it", "it@kommun.example")
    message = mail(to=box.address)
    message.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream", filename="virus.exe")
    row = _import(app, box, message)
    assert row.outcome == "case" and row.ticket.events[0].data["refused"][0].startswith("virus.exe: ")
    assert db.session.scalar(select(func.count(TicketAttachment.id))) == 0


def test_a_case_number_alone_never_writes_on_a_confidential_case(app, people, create_ticket):
    """A From line is easily forged and case numbers run in order: an HR case takes mail only through Lotsen's
    signed Message-ID, so a guessed number makes a new case instead."""
    box = _box(people, "it", "it@kommun.example")
    case = create_ticket("hr", requester="erik", subject="Sjukskrivning", description="x")
    row = _import(app, box, mail(sender="Erik <erik@kommun.example>", to=box.address,
                                 subject=f"ang {case.number}", body="Jag säger upp mig."))
    db.session.refresh(case)
    assert row.outcome == "case" and row.ticket_id != case.id
    assert [e.kind for e in case.events] == ["created"]


def test_a_held_answer_leaves_no_attachment_file_without_its_row(app, people, create_ticket, calendar,
                                                                  mail_context):
    """Before: the attachments were stored before the reopening limit held the mail, so their files stayed on
    disk with no row naming them."""
    box = _box(people, "it", "it@kommun.example")
    case = create_ticket("it", requester="erik")
    tickets.change_status(case, people["ivar"], "resolved", calendar, mail_context)
    db.session.commit()
    _set("LOTSEN_MAIL_IN_REOPENS_HOURLY", 0, app)
    answer = mail(to=box.address, In_Reply_To=_ours("erik@kommun.example").message_id, body="Fortfarande fel.")
    answer.add_attachment(b"%PDF-1.4\n" + b"0" * 100, maintype="application", subtype="pdf", filename="bild.pdf")
    assert _import(app, box, answer).outcome == "held"
    assert list((Path(app.config["LOTSEN_UPLOAD_PATH"]) / "tickets").glob("*")) == []
