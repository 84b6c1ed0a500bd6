"""Reading an incoming mail: who sent it, what it answers, its text (HTML made plain, quoted history and
signature folded away), its attachments, and whether a machine sent it (then it never makes or reopens a case).

Python's ``email`` package (policy ``default``) decodes headers, encoded words and charsets; BeautifulSoup turns
HTML into text, because mail HTML (Outlook's above all) is rarely well-formed and a hand-written parser would
choke on it.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import parseaddr

from bs4 import BeautifulSoup, CData, NavigableString

from app.core.text import as_one_line

MAX_SUBJECT = 200
# A line that begins quoted history: "Den 30 nov. 2026 kl. 10:12 skrev Anna <a@b.se>:", "On ... wrote:",
# Outlook's "-----Ursprungligt meddelande-----" and its header block ("Från: ... / Skickat: ...").
_REPLY_HEADER = re.compile(
    r"^\s*(den .{4,200} skrev .{0,200}:|on .{4,200} wrote:|-{2,}\s*(original message|ursprungligt meddelande|"
    r"originalmeddelande)\s*-{2,}|_{10,})\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\**(från|from)\s*:\**\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\**(skickat|sent|datum|date|till|to)\s*:", re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$")
# "Fwd:", Outlook's "VB:" (Swedish), "WG:" (German), "TR:" (French), "VS:" (Norwegian): the quoted mail is the point
_FORWARD = re.compile(r"^\s*(fwd?|vb|wg|tr|vs)\s*:", re.IGNORECASE)
_BLOCK_TAGS = frozenset(("p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "pre", "ul", "ol",
                         "hr"))
_SKIPPED_TAGS = frozenset(("style", "script", "head", "title", "meta"))
_QUOTE_IN, _QUOTE_OUT = "\x01", "\x02"  # marks around a <blockquote>'s text while it is walked
_MACHINE_SENDERS = ("mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply", "donotreply")
_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")


class MailUnreadable(Exception):  # noqa: N818
    """The bytes are not a mail Lotsen can read; kept for an administrator."""


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class Bounce:
    """A delivery report: the addresses that failed for good, and the headers that name the mail that failed."""

    failed: list[str]
    original: str  # Message-ID, In-Reply-To and References of the returned mail, as text


@dataclass
class ParsedMail:
    message_id: str
    sender: str  # the address, lower case
    sender_name: str
    subject: str
    answers: str  # In-Reply-To and References, as text
    text: str  # the new part
    folded: str  # quoted history and signature
    attachments: list[Attachment] = field(default_factory=list)
    machine: str | None = None  # why a machine sent it, or None for a person
    bounce: Bounce | None = None

    def fingerprint(self) -> str:
        """What the mail says, whatever path it took: a second mail under the same Message-ID that says
        something else is another mail (a broken mailer reusing IDs), not a second delivery of this one."""
        parts = [self.sender, self.subject, self.text, self.folded,
                 *(f"{a.name}:{hashlib.sha256(a.data).hexdigest()}" for a in self.attachments)]
        return hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()


def stand_in_message_id(raw: bytes) -> str:
    """A mail without a Message-ID is known by a hash of its bytes: the same mail fetched twice is the same."""
    return f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@lotsen.invalid>"


def parse_mail(raw: bytes, own_addresses: set[str]) -> ParsedMail:
    """Read ``raw``; raises ``MailUnreadable``. ``own_addresses`` are Lotsen's sender and its mailboxes."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        message_id = _message_id(_header(message, "Message-ID")) or stand_in_message_id(raw)
        name, address = parseaddr(_header(message, "From"))
        if not address or "@" not in address:
            name, address = parseaddr(_header(message, "Sender"))
        subject = as_one_line(_header(message, "Subject"))[:MAX_SUBJECT]
        answers = f"{_header(message, 'In-Reply-To')} {_header(message, 'References')}"
        body = _body_text(message)
        attachments = list(_attachments(message))
    except MailUnreadable:
        raise
    except Exception as exc:  # the email package raises many kinds on broken input; their text may quote the mail
        raise MailUnreadable(exc.__class__.__name__) from exc
    if not address or "@" not in address:
        raise MailUnreadable("no sender address")
    body = body.replace("\x00", "")
    text, folded = (body.strip(), "") if _FORWARD.match(subject) else fold_quoted(body)
    parsed = ParsedMail(message_id=message_id, sender=address.strip().lower()[:254],
                        sender_name=as_one_line(name)[:200], subject=subject, answers=answers, text=text,
                        folded=folded, attachments=attachments)
    parsed.bounce = _bounce(message)
    parsed.machine = machine_reason(message, parsed.sender, own_addresses)
    return parsed


def _message_id(value: str) -> str:
    """The Message-ID as stored: a longer one than the column holds is known by its hash (two long IDs with the
    same beginning are two mails)."""
    value = value.strip()
    return value if len(value) <= 255 else f"<sha256.{hashlib.sha256(value.encode()).hexdigest()[:40]}@long.invalid>"


def _header(message: Message, name: str) -> str:
    value = message.get(name)
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:  # an undecodable encoded word: the raw header, as far as it goes
        return str(getattr(value, "_parse_tree", "")) or ""


def machine_reason(message: Message, sender: str, own_addresses: set[str]) -> str | None:
    """Why this mail was sent by a machine (RFC 3834 and what mail systems actually send), or None."""
    auto = _header(message, "Auto-Submitted").strip().lower()
    if auto and auto.split("(")[0].split(";")[0].strip() != "no":  # RFC 3834 lets a comment follow "no"
        return f"Auto-Submitted: {auto[:40]}"
    precedence = _header(message, "Precedence").strip().lower()
    if precedence in _PRECEDENCE:
        return f"Precedence: {precedence}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.get(name) is not None:
            return name
    if message.get_content_type() == "multipart/report":
        return f"report ({message.get_param('report-type') or 'unknown'})"
    if message.get("Return-Path") is not None and _header(message, "Return-Path").strip() in ("<>", ""):
        return "null return path"
    if any(message.get(name) is not None for name in ("List-Id", "List-Unsubscribe", "List-Post")):
        return "mailing list"
    if sender.partition("@")[0] in _MACHINE_SENDERS:
        return "mail system sender"
    if sender in own_addresses:
        return "Lotsen's own address"
    return None


def _body_text(message: Message) -> str:
    """The chosen body (plain text before HTML), followed by any further inline text parts: Apple Mail puts the
    text written after an inline attachment in a part of its own."""
    body = message.get_body(preferencelist=("plain", "html")) if isinstance(message, EmailMessage) else None
    if body is None:
        return ""
    texts = [_part_text(body)]
    for part in _further_texts(message, body):
        texts.append(_part_text(part))
    return "\n\n".join(text for text in texts if text)


def _part_text(part: Message) -> str:
    content = _decoded_text(part)
    return html_to_text(content) if part.get_content_type() == "text/html" else _tidy(content)


def _further_texts(message: Message, body: Message) -> list[Message]:
    """Inline text/plain parts directly inside a multipart/mixed, after the body (not the body's alternatives)."""
    if message.get_content_type() != "multipart/mixed":
        return []
    found, seen_body = [], False
    for part in message.get_payload():
        if part is body or (part.is_multipart() and any(p is body for p in part.walk())):
            seen_body = True
        elif seen_body and part.get_content_type() == "text/plain" and part.get_content_disposition() != "attachment":
            found.append(part)
    return found


def _decoded_text(part: Message) -> str:
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or wrong charset: the bytes as far as they read
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def html_to_text(html: str) -> str:
    """Readable text from mail HTML: paragraphs and line breaks kept, quoted blocks marked with "> ", no styles,
    scripts or comments. One walk over the parsed tree, without recursion: the time grows with the size of the
    mail however deeply its elements nest."""
    soup = BeautifulSoup(html, "html.parser")
    pieces: list[str] = []
    stack: list[tuple[object, bool]] = [(soup, False)]
    while stack:
        node, leaving = stack.pop()
        if isinstance(node, NavigableString):
            if type(node) is NavigableString or isinstance(node, CData):  # not comments, doctypes, ...
                pieces.append(str(node))
            continue
        name = node.name
        if leaving:
            pieces.append(f"\n{_QUOTE_OUT}\n" if name == "blockquote" else "\n" if name in _BLOCK_TAGS else " ")
            continue
        if name in _SKIPPED_TAGS:
            continue
        if name == "br":
            pieces.append("\n")
            continue
        if name == "blockquote":
            pieces.append(f"\n{_QUOTE_IN}\n")
        if name in _BLOCK_TAGS or name in ("td", "th", "blockquote"):
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    lines, depth = [], 0
    for line in "".join(pieces).split("\n"):
        if line in (_QUOTE_IN, _QUOTE_OUT):
            depth = depth + 1 if line == _QUOTE_IN else max(depth - 1, 0)
            continue
        words = " ".join(line.replace("\xa0", " ").split())
        lines.append(("> " * depth + words).rstrip() if depth else words)
    return _tidy("\n".join(lines))


def _tidy(text: str) -> str:
    lines = [" ".join(line.replace("\xa0", " ").split()) if not line.startswith(">") else line.rstrip()
             for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    tidy = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", tidy).strip()


def fold_quoted(text: str) -> tuple[str, str]:
    """(the new part, the quoted history and signature). Everything from the first line that starts quoted
    history, or from a signature separator, is folded; so is a closing block of "> " lines. A mail that is all
    quote (answers written between the quoted lines) stays whole."""
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        if _REPLY_HEADER.match(line) or _SIGNATURE.match(line) or (
                _OUTLOOK_FROM.match(line) and any(_OUTLOOK_NEXT.match(n) for n in lines[index + 1:index + 5])):
            cut = index
            break
    first_quote = next((i for i, line in enumerate(lines) if line.startswith(">")), len(lines))
    while cut > first_quote and (lines[cut - 1].startswith(">") or not lines[cut - 1].strip()):
        cut -= 1
    new, folded = "\n".join(lines[:cut]).strip(), "\n".join(lines[cut:]).strip()
    if not new:
        return text.strip(), ""
    return new, folded


def _attachments(message: Message):
    """The attached files: named parts and attached mails (as .eml); not the body, its other forms, or images
    shown inside the HTML (signature logos)."""
    body = message.get_body(preferencelist=("plain", "html")) if isinstance(message, EmailMessage) else None
    count = 0
    for part in _leaves(message):
        if part is body:
            continue
        disposition = part.get_content_disposition()
        kind = part.get_content_type()
        if disposition != "attachment" and (kind in ("text/plain", "text/html") or part.get("Content-ID")):
            continue
        if kind == "message/rfc822":
            inner = part.get_payload()
            data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
            name = part.get_filename() or "vidarebefordrat.eml"
        elif kind in ("message/delivery-status", "text/rfc822-headers"):
            continue
        else:
            data = part.get_payload(decode=True) or b""
            count += 1
            name = part.get_filename() or f"bilaga-{count}"
        yield Attachment(name=name.replace("\n", " ")[:200], content_type=kind, data=data)


def _leaves(message: Message):
    """The parts below ``message``, not descending into attached mails (they count as one attachment)."""
    if not message.is_multipart():
        yield message
        return
    for part in message.get_payload():
        if part.get_content_type() == "message/rfc822":
            yield part
        elif part.is_multipart():
            yield from _leaves(part)
        else:
            yield part


def _bounce(message: Message) -> Bounce | None:
    if message.get_content_type() != "multipart/report" or message.get_param("report-type") != "delivery-status":
        return None
    failed, original = [], ""
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            for block in part.get_payload():
                action = str(block.get("Action", "")).strip().lower()
                recipient = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
                address = recipient.partition(";")[2].strip() or recipient.strip()
                if action == "failed" and "@" in address:
                    failed.append(address.lower()[:254])
        elif kind in ("message/rfc822", "text/rfc822-headers") and not original:
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                headers = inner[0]
            else:
                headers = email.message_from_string(_decoded_text(part), policy=email.policy.default)
            original = " ".join(_header(headers, name) for name in ("Message-ID", "In-Reply-To", "References"))
    return Bounce(failed=failed, original=original)

