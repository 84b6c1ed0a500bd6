"""Issue 18: reading incoming mail: quoted history and signatures folded away, HTML made plain, machine mail
recognised, and an IMAP server's "no longer exists" answer taken as a mail another reader took."""

from __future__ import annotations

import pytest

from app.core.mailbox import ImapSession
from app.mailin.parsing import MailUnreadable, fold_quoted, html_to_text, parse_mail

OWN = {"lotsen@kommun.example"}


@pytest.mark.parametrize("history", [
    "Den 30 nov. 2026 kl. 10:12 skrev Lotsen <lotsen@kommun.example>:\n> Starta om datorn.",
    "On Mon, 30 Nov 2026 at 10:12, Lotsen <lotsen@kommun.example> wrote:\n> Restart the computer.",
    "-----Ursprungligt meddelande-----\nFrån: Lotsen\nSkickat: den 30 november 2026 10:12\n\nStarta om.",
    "Från: Lotsen <lotsen@kommun.example>\nSkickat: den 30 november 2026 10:12\nTill: Erik\nÄmne: Svar\n\nText",
    "________________________________\nFrom: Lotsen\nSent: Monday\n\nRestart.",
    "-- \nErik Anställd\nLönehandläggare\n070-123 45 67",
    "> Starta om datorn.\n> Hälsningar Lotsen",
])
def test_quoted_history_and_signatures_are_folded(history):
    new, folded = fold_quoted(f"Det hjälpte inte.\n\n{history}")
    assert new == "Det hjälpte inte." and folded == history


def test_answers_written_between_the_quoted_lines_stay_whole():
    text = "> Vilken dator?\nDen bärbara.\n> Vilket rum?\nRum 12."
    assert fold_quoted(text) == (text, "")


def test_a_line_that_only_mentions_from_is_not_history():
    text = "Från: min chef fick jag beskedet att lönen kommer.\nVad gäller?"
    assert fold_quoted(text) == (text, "")


def test_html_keeps_paragraphs_and_line_breaks_and_marks_quotes():
    html = ("<html><head><style>p{margin:0}</style><script>alert(1)</script></head><body>"
            "<div>Hej,<br>skrivaren&nbsp;är trasig.</div><!-- kommentar -->"
            "<blockquote type='cite'><p>Har du startat om den?</p><blockquote>Inre</blockquote></blockquote>"
            "<table><tr><td>Rum</td><td>12</td></tr></table></body></html>")
    text = html_to_text(html)
    assert text.startswith("Hej,\nskrivaren är trasig.")
    assert "> Har du startat om den?" in text and "> > Inre" in text
    assert "Rum 12" in text and "alert" not in text and "margin" not in text and "kommentar" not in text


@pytest.mark.parametrize(("headers", "reason"), [
    ("Auto-Submitted: auto-replied", "Auto-Submitted: auto-replied"),
    ("Auto-Submitted: auto-generated", "Auto-Submitted: auto-generated"),
    ("Precedence: junk", "Precedence: junk"),
    ("Precedence: auto_reply", "Precedence: auto_reply"),
    ("X-Autorespond: yes", "X-Autorespond"),
    ("Return-Path: <>", "null return path"),
    ("List-Unsubscribe: <mailto:off@lista.example>", "mailing list"),
    ("Content-Type: multipart/report; report-type=disposition-notification; boundary=x",
     "report (disposition-notification)"),
])
def test_machine_mail_is_recognised(headers, reason):
    raw = f"From: someone@kommun.example\r\nSubject: x\r\n{headers}\r\n\r\nbody\r\n".encode()
    assert parse_mail(raw, OWN).machine == reason


def test_a_person_s_mail_and_auto_submitted_no_are_not_machine_mail():
    raw = b"From: Erik <Erik@Kommun.Example>\r\nSubject: x\r\nAuto-Submitted: no\r\n\r\nbody\r\n"
    parsed = parse_mail(raw, OWN)
    assert parsed.machine is None and parsed.sender == "erik@kommun.example" and parsed.sender_name == "Erik"


def test_a_mail_without_a_message_id_is_known_by_its_bytes():
    raw = b"From: erik@kommun.example\r\nSubject: x\r\n\r\nbody\r\n"
    assert parse_mail(raw, OWN).message_id == parse_mail(raw, OWN).message_id
    assert parse_mail(raw, OWN).message_id != parse_mail(raw + b"more\r\n", OWN).message_id


def test_an_unknown_charset_is_read_as_far_as_it_goes():
    raw = (b"From: erik@kommun.example\r\nSubject: =?x-okand?q?L=F6n?=\r\n"
           b"Content-Type: text/plain; charset=x-okand\r\n\r\nL\xf6nen \xe4r fel\r\n")
    parsed = parse_mail(raw, OWN)
    assert "nen" in parsed.text and parsed.subject


def test_no_sender_is_unreadable():
    with pytest.raises(MailUnreadable):
        parse_mail(b"Subject: x\r\n\r\nbody\r\n", OWN)


class _Server:
    """An IMAP connection that answers as a server does for a message another reader expunged."""

    capabilities = ("IMAP4REV1", "UIDPLUS")

    def uid(self, command, *args):
        if command == "FETCH":
            return "NO", [b"[EXPUNGEISSUED] Some of the requested messages no longer exist (0.001 + 0.000 secs)."]
        if command == "COPY":
            return "NO", [b"[EXPUNGEISSUED] Some of the requested messages no longer exist."]
        return "NO", [b"[SERVERBUG] Internal error"]


def test_a_message_that_no_longer_exists_is_gone_not_an_error():
    session = ImapSession(_Server())
    assert session.size(b"7") is None and session.fetch(b"7") is None
    session.move(b"7", "Lotsen")  # nothing to move: no error
    with pytest.raises(Exception, match="SERVERBUG"):
        session.uids(10)
