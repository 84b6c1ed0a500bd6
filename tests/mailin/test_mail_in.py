"""Issue 18: mail to a function's mailbox becomes a case with its attachments, an answer from the requester's mail
program lands on the same case, machine mail never makes or reopens a case, and no mail is imported twice. Mail
is delivered to a real Dovecot and read over IMAP (TLS, the test CA)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import func, select

from app.auth.models import User
from app.core.db import db
from app.core.mail import FailingAddress, OutboxMessage, enqueue
from app.mailin import services
from app.mailin.cli import fetch_all
from app.mailin.models import InboundMail
from app.tickets import services as tickets
from app.tickets.models import Notification, Ticket, TicketAttachment
from tests.mailin.conftest import mail

PDF = b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n"


def deliver(dovecot, box, message) -> None:
    dovecot.deliver(box.account, bytes(message) if isinstance(message, EmailMessage) else message)


def cases() -> list[Ticket]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ticket).order_by(Ticket.id)))


def outcomes() -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(r.outcome, r.reason) for r in db.session.scalars(select(InboundMail).order_by(InboundMail.id))]


def last_mail_about(ticket: Ticket, to: str) -> OutboxMessage:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == to)
                              .order_by(OutboxMessage.id.desc())).first()


def test_a_mail_becomes_a_case_with_its_attachment_and_leaves_the_folder(app, dovecot, mailbox, people):
    box = mailbox("payroll")
    message = mail(to=box.address)
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename="lönespecifikation.pdf")
    deliver(dovecot, box, message)

    assert "1 case" in fetch_all()

    [case] = cases()
    assert (case.function.slug, case.channel, case.requester.username) == ("payroll", "email", "erik")
    assert case.subject == "Fel på lönen" and "OB-tillägget" in case.description
    [attached] = db.session.scalars(select(TicketAttachment)).all()
    assert attached.original_name == "lönespecifikation.pdf" and attached.size == len(PDF)
    assert case.events[0].data["by_mail"] is True
    assert dovecot.messages(box.account) == [] and len(dovecot.messages(box.account, "Lotsen")) == 1
    acknowledgement = last_mail_about(case, "erik@kommun.example")
    assert case.number in acknowledgement.subject
    assert fetch_all() == ""  # nothing new: the handled mail is not read again


def test_outlook_html_with_an_encoded_swedish_subject_and_a_signature_logo(app, dovecot, mailbox, people):
    box = mailbox("payroll")
    raw = (
        "From: =?utf-8?q?Erik_Anst=C3=A4lld?= <erik@kommun.example>\r\n"
        f"To: {box.address}\r\n"
        "Subject: =?utf-8?q?Semesterers=C3=A4ttning_f=C3=B6r_juni?=\r\n"
        "Message-ID: <AM0PR01MB1234.outlook@kommun.example>\r\n"
        "Date: Mon, 30 Nov 2026 09:12:00 +0100\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/related; boundary="rel"\r\n\r\n'
        "--rel\r\n"
        "Content-Type: text/html; charset=windows-1252\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "<html><head><style>p.MsoNormal{margin:0}</style></head><body><div class=3DWordSection1>"
        "<p class=3DMsoNormal><span style=3D'font-size:11pt'>Hej!<o:p></o:p></span></p>"
        "<p class=3DMsoNormal><span>Jag har inte f=E5tt min semesterers=E4ttning.</span></p>"
        "<p class=3DMsoNormal>&nbsp;</p><p class=3DMsoNormal>-- <br>Erik Anst=E4lld<br>"
        "<img src=3D'cid:image001.png@01DA'></p></div></body></html>\r\n"
        "--rel\r\n"
        "Content-Type: image/png\r\nContent-ID: <image001.png@01DA>\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\r\n"
        "--rel--\r\n").encode("latin-1")
    deliver(dovecot, box, raw)

    fetch_all()

    [case] = cases()
    assert case.subject == "Semesterersättning för juni"
    assert case.description == "Hej!\nJag har inte fått min semesterersättning."
    assert "Erik Anställd" in case.events[0].data["folded"]  # the signature, folded away
    assert "MsoNormal" not in case.description and db.session.scalar(select(func.count(TicketAttachment.id))) == 0


def test_an_answer_from_the_requesters_mail_program_lands_on_the_case_and_reopens_it(
        app, dovecot, mailbox, people, create_ticket, calendar, mail_context):
    box = mailbox("it")
    case = create_ticket("it", requester="erik")
    tickets.add_reply(case, people["ivar"], "Starta om datorn.", public=True, calendar=calendar, mail=mail_context)
    tickets.change_status(case, people["ivar"], "resolved", calendar, mail_context)
    db.session.commit()
    ours = last_mail_about(case, "erik@kommun.example")
    answer = mail(to=box.address, subject=f"SV: {ours.subject}", In_Reply_To=ours.message_id,
                  References=ours.message_id,
                  body=f"Det hjälpte inte, skärmen är fortfarande svart.\n\nDen 30 nov. 2026 kl. 10:12 skrev "
                       f"Lotsen <lotsen@kommun.example>:\n> Starta om datorn.\n> {case.number}")
    deliver(dovecot, box, answer)

    assert "1 reply" in fetch_all()

    assert len(cases()) == 1
    db.session.refresh(case)
    reply = [e for e in case.events if e.kind == "reply"][-1]
    assert reply.author.username == "erik" and reply.is_public
    assert reply.body == "Det hjälpte inte, skärmen är fortfarande svart."
    assert "Starta om datorn." in reply.data["folded"]
    assert case.status == "open" and case.reopen_count == 1


def test_a_case_number_in_the_subject_finds_the_case_only_for_its_requester(
        app, dovecot, mailbox, people, create_ticket):
    box = mailbox("it")
    case = create_ticket("it", requester="erik")
    deliver(dovecot, box, mail(to=box.address, subject=f"Ang. {case.number}", body="En sak till."))
    deliver(dovecot, box, mail(sender="kalle@kommun.example", to=box.address, subject=f"Ang. {case.number}",
                               body="Jag har samma fel."))

    fetch_all()

    first, second = cases()
    assert first.id == case.id and [e.body for e in first.events if e.kind == "reply"] == ["En sak till."]
    assert second.requester.username == "kalle" and second.description == "Jag har samma fel."


def test_machine_mail_never_makes_a_case_or_reopens_one(app, dovecot, mailbox, people, create_ticket, calendar,
                                                        mail_context):
    box = mailbox("it")
    case = create_ticket("it", requester="erik")
    tickets.change_status(case, people["ivar"], "resolved", calendar, mail_context)
    db.session.commit()
    ours = last_mail_about(case, "erik@kommun.example")
    machine = [
        mail(subject="Automatiskt svar: " + ours.subject, In_Reply_To=ours.message_id, Auto_Submitted="auto-replied",
             body="Jag är tjänstledig till 1 december."),
        mail(subject="Frånvaro", X_Autoreply="yes", body="Borta."),
        mail(subject="Nyhetsbrev", Precedence="bulk", body="Veckans nyheter."),
        mail(subject="Lista", List_Id="<personal.kommun.example>", body="Till alla."),
        mail(sender="MAILER-DAEMON@kommun.example", subject="Undeliverable", body="Could not deliver."),
        mail(sender="lotsen@kommun.example", subject="Lotsen själv", body="Vår egen."),
    ]
    own = mail(sender="Lotsen <lotsen@kommun.example>", subject=ours.subject, body=ours.body)
    del own["Message-ID"]
    own["Message-ID"] = ours.message_id  # Lotsen's own notification, come back through a function's mailbox
    for message in [*machine, own]:
        deliver(dovecot, box, message)

    fetch_all()

    assert [c.id for c in cases()] == [case.id]
    db.session.refresh(case)
    assert case.status == "resolved" and case.reopen_count == 0
    assert [o for o, _ in outcomes()] == ["ignored"] * 7
    assert outcomes()[0][1] == "machine mail: Auto-Submitted: auto-replied"
    assert outcomes()[-1][1] == "Lotsen's own mail"
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
        OutboxMessage.recipient.like("%kommun.example"), OutboxMessage.subject.like("%Automatiskt%"))) == 0


def test_a_bounce_stops_mail_to_the_address_and_tells_the_specialists(app, dovecot, mailbox, people, create_ticket):
    box = mailbox("it")
    case = create_ticket("it", requester="erik")
    ours = last_mail_about(case, "erik@kommun.example")
    bounce = EmailMessage()
    bounce["From"], bounce["To"] = "MAILER-DAEMON@kommun.example", "lotsen@kommun.example"
    bounce["Subject"], bounce["Message-ID"] = "Undelivered Mail Returned to Sender", make_msgid()
    bounce.set_content("The mail could not be delivered.")
    bounce.make_mixed()
    status = EmailMessage()
    status.set_content("Reporting-MTA: dns; mx.kommun.example\n\nFinal-Recipient: rfc822; erik@kommun.example\n"
                       "Action: failed\nStatus: 5.1.1\n")
    returned = EmailMessage()
    returned["Message-ID"], returned["Subject"] = ours.message_id, ours.subject
    returned.set_content("...")
    raw = bytes(bounce).replace(b"multipart/mixed", b"multipart/report; report-type=delivery-status", 1)
    boundary = bounce.get_boundary().encode()
    raw = raw.replace(b"--" + boundary + b"--", (
        b"--" + boundary + b"\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; mx.kommun.example\r\n\r\nFinal-Recipient: rfc822; erik@kommun.example\r\n"
        b"Action: failed\r\nStatus: 5.1.1\r\n\r\n"
        b"--" + boundary + b"\r\nContent-Type: message/rfc822\r\n\r\n" + bytes(returned) + b"\r\n"
        b"--" + boundary + b"--"))
    deliver(dovecot, box, raw)

    fetch_all()

    assert [c.id for c in cases()] == [case.id]
    assert outcomes()[0][0] == "ignored"
    failing = db.session.scalar(select(FailingAddress))
    assert failing.address == "erik@kommun.example"
    db.session.refresh(case)
    note = case.events[-1]
    assert note.kind == "note" and not note.is_public and "erik@kommun.example" in note.body
    told = db.session.scalars(select(Notification).where(Notification.kind == "mail_trouble")).all()
    assert [n.user_id for n in told] == [people["ivar"].id]
    assert enqueue("erik@kommun.example", "Ny fråga", "text") is None  # nothing more goes there for a while


def test_the_same_mail_twice_and_a_crash_between_import_and_move_make_one_case(app, dovecot, mailbox, people):
    box = mailbox("payroll")
    message = mail(to=box.address)
    deliver(dovecot, box, message)
    deliver(dovecot, box, message)  # the same Message-ID delivered again
    # a worker that imported and committed the first mail, then died before moving it:
    services.import_mail(box, bytes(message), app.config, app.config["LOTSEN_UPLOAD_PATH"])
    db.session.commit()

    fetch_all()

    assert len(cases()) == 1 and len(outcomes()) == 1
    assert dovecot.messages(box.account) == [] and len(dovecot.messages(box.account, "Lotsen")) == 2


def test_an_unknown_sender_is_kept_as_an_external_contact_and_the_case_flagged(app, dovecot, mailbox, people,
                                                                             calendar, mail_context):
    box = mailbox(None)  # the general address: routed like a question
    deliver(dovecot, box, mail(sender="Leverantör AB <order@leverantor.example>", to=box.address,
                               subject="Faktura för skrivare", body="Hej, fakturan för de nya skrivarna."))

    fetch_all()

    [case] = cases()
    assert case.requester.auth_source == "mail" and case.requester.email == "order@leverantor.example"
    assert case.requester.password_hash is None and case.events[0].data["external"] is True
    assert outcomes() == [("case", "external sender")]
    # no automatic acknowledgement (a forged From would make Lotsen mail strangers), but answers reach them
    assert last_mail_about(case, "order@leverantor.example") is None
    tickets.add_reply(case, people["sara"], "Vi har tagit emot fakturan.", public=True, calendar=calendar,
                      mail=mail_context)
    db.session.commit()
    assert "Vi har tagit emot fakturan." in last_mail_about(case, "order@leverantor.example").body


def test_a_reply_to_a_confidential_case_is_taken_only_from_its_requester(
        app, dovecot, mailbox, people, create_ticket):
    box = mailbox("hr")
    case = create_ticket("hr", requester="erik", subject="Sjukskrivning", description="Jag är sjukskriven.")
    ours = last_mail_about(case, "erik@kommun.example")
    deliver(dovecot, box, mail(sender="kalle@kommun.example", to=box.address, subject=ours.subject,
                               In_Reply_To=ours.message_id, body="Eriks diagnos är hemlig."))
    deliver(dovecot, box, mail(to=box.address, subject=ours.subject, In_Reply_To=ours.message_id,
                               body="Läkarintyget kommer i morgon."))

    fetch_all()

    db.session.refresh(case)
    assert [e.body for e in case.events if e.kind == "reply"] == ["Läkarintyget kommer i morgon."]
    refused = db.session.scalars(select(InboundMail).order_by(InboundMail.id)).first()
    assert (refused.outcome, refused.raw) == ("ignored", None)
    assert "diagnos" not in str([(e.body, e.data) for e in case.events])


def test_a_sender_who_mails_too_often_is_held_and_can_be_let_through(app, dovecot, mailbox, people):
    app.config["LOTSEN_MAIL_IN_SENDER_HOURLY"] = 2
    from flask import current_app
    current_app.config["LOTSEN_MAIL_IN_SENDER_HOURLY"] = 2
    box = mailbox("payroll")
    for number in range(3):
        deliver(dovecot, box, mail(to=box.address, subject=f"Fråga {number}", body=f"Text {number}"))

    fetch_all()

    assert [o for o, _ in outcomes()] == ["case", "case", "held"]
    held = db.session.scalars(select(InboundMail).where(InboundMail.outcome == "held")).one()
    assert held.raw is not None
    services.release_held(people["admin"], held, app.config, app.config["LOTSEN_UPLOAD_PATH"])
    db.session.commit()
    assert [c.subject for c in cases()] == ["Fråga 0", "Fråga 1", "Fråga 2"]
    assert held.settled_at is not None


def test_a_mail_that_cannot_be_read_is_kept_for_an_administrator(app, dovecot, mailbox, people):
    box = mailbox("payroll")
    deliver(dovecot, box, b"Subject: no sender at all\r\n\r\njust text\r\n")

    fetch_all()

    assert cases() == []
    [row] = db.session.scalars(select(InboundMail)).all()
    assert row.outcome == "failed" and row.reason.startswith("unreadable") and row.raw.endswith(b"just text\r\n")


def test_a_large_attachment_and_a_mail_over_the_limit(app, dovecot, mailbox, people):
    box = mailbox("payroll")
    big = mail(to=box.address, subject="Stor bilaga")
    big.add_attachment(PDF + b"1" * (10 * 1024 * 1024), maintype="application", subtype="pdf", filename="stor.pdf")
    deliver(dovecot, box, big)
    fetch_all()
    assert len(cases()) == 1
    assert db.session.scalar(select(TicketAttachment.size)) > 10 * 1024 * 1024

    from flask import current_app
    current_app.config["LOTSEN_MAIL_IN_MAX_MB"] = 1
    del big["Message-ID"]
    big["Message-ID"] = make_msgid(domain="kommun.example")
    deliver(dovecot, box, big)
    fetch_all()
    assert len(cases()) == 1
    assert outcomes()[-1][0] == "failed" and "too large" in outcomes()[-1][1]
    assert dovecot.messages(box.account) == []  # moved on, not read again and again


def test_a_wrong_password_is_shown_on_the_mailbox_and_nothing_is_lost(app, dovecot, mailbox, people):
    box = mailbox("payroll")
    deliver(dovecot, box, mail(to=box.address))
    services.save_mailbox(people["admin"], box, address=box.address, function=box.function, host=box.host,
                          port=box.port, security="tls", username=box.username, auth="password", secret="fel",
                          oauth_client_id="", oauth_tenant="", oauth_token_url="", folder="INBOX",
                          done_folder="Lotsen", is_active=True)
    db.session.commit()

    assert "error" in fetch_all()

    db.session.refresh(box)
    assert "servern nekade inloggningen" in box.last_error and cases() == []
    assert len(dovecot.messages(box.account)) == 1


def test_starttls_and_a_forwarded_chain_keeps_what_was_forwarded(app, dovecot, mailbox, people):
    box = mailbox("it", security="starttls")
    deliver(dovecot, box, mail(to=box.address, subject="VB: Skrivaren på plan 3", body=(
        "Kan ni titta på detta?\n\n________________________________\nFrån: Kalle Kollega <kalle@kommun.example>\n"
        "Skickat: den 29 november 2026 15:02\nTill: Erik Anställd\nÄmne: Skrivaren på plan 3\n\n"
        "Skrivaren på plan 3 skriver bara ut tomma sidor.")))

    fetch_all()

    [case] = cases()
    assert "tomma sidor" in case.description and case.subject == "VB: Skrivaren på plan 3"


def test_external_contacts_cannot_log_in(app, dovecot, mailbox, people, client):
    box = mailbox("payroll")
    deliver(dovecot, box, mail(sender="okand@example.org", to=box.address))
    fetch_all()
    contact = db.session.scalar(select(User).where(User.auth_source == "mail"))
    for password in ("", "x", "demo"):
        assert client.post("/login", data={"username": contact.username, "password": password}).status_code != 302


def test_oauth2_xoauth2_end_to_end(app, dovecot, mailbox, people):
    """The client-credentials grant at the token address (HTTPS, checked against the test CA), then XOAUTH2 at
    Dovecot, whose oauth2 passdb asks the same service whether the token is live."""
    box = mailbox("payroll")
    dovecot.oauth.clients["lotsen-app"] = ("app-secret", box.account)
    services.save_mailbox(people["admin"], box, address=box.address, function=box.function, host=box.host,
                          port=box.port, security="tls", username=box.account, auth="oauth2", secret="app-secret",
                          oauth_client_id="lotsen-app", oauth_tenant="", oauth_token_url=dovecot.oauth.token_url,
                          folder="INBOX", done_folder="Lotsen", is_active=True)
    db.session.commit()
    deliver(dovecot, box, mail(to=box.address))
    granted = dovecot.oauth.grants

    assert "1 case" in fetch_all()
    assert dovecot.oauth.grants == granted + 1
    assert "method=XOAUTH2" in (dovecot.folder / "dovecot.log").read_text()

    dovecot.oauth.clients["lotsen-app"] = ("rotated-secret", box.account)  # the secret was changed in Entra ID
    deliver(dovecot, box, mail(to=box.address, subject="Igen"))
    assert "error" in fetch_all()
    db.session.refresh(box)
    assert "tokentjänsten nekade klienten (HTTP 401)" in box.last_error


def test_retention_culls_read_mail_contacts_without_cases_and_the_mail_of_anonymised_cases(
        app, dovecot, mailbox, people):
    from datetime import timedelta

    from app.core.db import utcnow
    from app.records import services as records

    box = mailbox("payroll")
    deliver(dovecot, box, mail(sender="Leverantör <order@leverantor.example>", to=box.address,
                               subject="Hemlig faktura"))
    deliver(dovecot, box, b"Subject: trasig\r\n\r\nutan avsandare\r\n")  # failed, waits for an administrator
    fetch_all()
    [case] = cases()
    month_ago = utcnow() - timedelta(days=31)
    for row in db.session.scalars(select(InboundMail)):
        row.received_at = month_ago
    db.session.commit()

    counts = {c.rule: c.count for c in records.run_retention(utcnow(), app.config["LOTSEN_UPLOAD_PATH"], 90, 30)}
    db.session.commit()

    assert counts["mail read from mailboxes, 30 days (90 held)"] == 1
    assert [r.outcome for r in db.session.scalars(select(InboundMail))] == ["failed"]  # not dealt with yet
    assert counts["e-mail contacts without cases"] == 0  # the contact still has the case

    records.anonymise_cases([case.id], app.config["LOTSEN_UPLOAD_PATH"], utcnow())
    db.session.commit()
    counts = {c.rule: c.count for c in records.run_retention(utcnow(), app.config["LOTSEN_UPLOAD_PATH"], 90, 30)}
    db.session.commit()
    assert counts["e-mail contacts without cases"] == 1
    assert db.session.scalar(select(User).where(User.email == "order@leverantor.example")) is None


def test_anonymising_a_case_removes_the_mail_that_made_it(app, dovecot, mailbox, people):
    from app.core.db import utcnow
    from app.records import services as records

    box = mailbox("payroll")
    deliver(dovecot, box, mail(to=box.address, subject="Åsa Öbergs lön"))
    fetch_all()
    [case] = cases()
    records.anonymise_cases([case.id], app.config["LOTSEN_UPLOAD_PATH"], utcnow())
    db.session.commit()
    assert db.session.scalar(select(func.count(InboundMail.id))) == 0


def test_the_worker_reads_the_mailboxes(app, dovecot, mailbox, people, runner):
    box = mailbox("payroll")
    address = box.address
    deliver(dovecot, box, mail(to=address))

    result = runner.invoke(args=["worker", "--rounds", "1"])  # its round ends by removing the session

    assert f"mail in: {address}: 1 case" in result.output
    assert len(cases()) == 1
    result = runner.invoke(args=["mail", "fetch", "--mailbox", "nobody@kommun.example"])
    assert result.exit_code != 0 and "no mailbox nobody@kommun.example" in result.output


def test_mail_taken_by_another_reader_mid_batch_is_skipped_not_an_error(app, dovecot, mailbox, people,
                                                                         monkeypatch):
    """Another reader (a second worker, a person in Outlook) moves a mail away after this reader listed it: the
    server answers that the message no longer exists, and the rest of the batch goes on."""
    from app.core import mailbox as imap

    box = mailbox("payroll")
    deliver(dovecot, box, mail(to=box.address, subject="Första"))
    deliver(dovecot, box, mail(to=box.address, subject="Andra"))
    listed = imap.ImapSession.uids

    def list_then_lose_the_first(session, limit):
        uids = listed(session, limit)
        other = dovecot.imap(box.account)  # the other reader takes the first mail away
        other.select("INBOX")
        other.uid("STORE", uids[0], "+FLAGS", r"(\Deleted)")
        other.expunge()
        other.logout()
        return uids

    monkeypatch.setattr(imap.ImapSession, "uids", list_then_lose_the_first)

    assert fetch_all().endswith("1 case")

    assert [c.subject for c in cases()] == ["Andra"]
    db.session.refresh(box)
    assert box.last_error == ""


def test_mail_gone_between_its_size_and_its_content_is_skipped(app, dovecot, mailbox, people, monkeypatch):
    from app.core import mailbox as imap

    box = mailbox("payroll")
    deliver(dovecot, box, mail(to=box.address, subject="Första"))
    deliver(dovecot, box, mail(to=box.address, subject="Andra"))
    measured, lost = imap.ImapSession.size, []

    def measure_then_lose(session, uid):
        size = measured(session, uid)
        if not lost:
            other = dovecot.imap(box.account)
            other.select("INBOX")
            other.uid("STORE", uid, "+FLAGS", r"(\Deleted)")
            other.expunge()
            other.logout()
            lost.append(uid)
        return size

    monkeypatch.setattr(imap.ImapSession, "size", measure_then_lose)

    assert fetch_all().endswith("1 case")
    assert [c.subject for c in cases()] == ["Andra"]


def test_a_data_subject_export_lists_their_mail_without_confidential_subjects(app, dovecot, mailbox, people,
                                                                              client, auth):
    import io
    import json
    import zipfile

    it_box, payroll_box = mailbox("it"), mailbox("payroll")
    deliver(dovecot, it_box, mail(to=it_box.address, subject="Skrivaren är trasig"))
    deliver(dovecot, payroll_box, mail(to=payroll_box.address, subject="Mitt lönekonto"))
    fetch_all()
    auth.login("chef.admin")

    archive = zipfile.ZipFile(io.BytesIO(client.post(f"/admin/users/{people['erik'].id}/export", data={}).data))

    mails = json.loads(archive.read("mail.json"))
    assert [(m["outcome"], m["subject"]) for m in mails] == [
        ("case", "Skrivaren är trasig"), ("case", "withheld: confidential function")]
