"""IMAP: reading a support function's mailbox (the only module that talks IMAP; mail-in in ``app/mailin/``).

A session logs in (a password, or OAuth 2.0 through SASL XOAUTH2 as Exchange Online requires), selects the
folder that new mail arrives in, lists what is there, fetches one message at a time and moves each handled
message to a folder of its own (``MOVE`` where the server has it, else ``COPY`` + ``\\Deleted`` + expunge).
Handled mail leaves the folder, so what is there is what is new; a message that vanished meanwhile (another
client, a server that answers "no longer exists") is skipped, not an error. Every network step has the
mailbox's time limit.
"""

from __future__ import annotations

import contextlib
import imaplib
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests
from flask_babel import lazy_gettext as _l

SECURITY = ("tls", "starttls", "none")
MICROSOFT_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"  # noqa: S105 (an address)
MICROSOFT_SCOPE = "https://outlook.office365.com/.default"
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_GONE = re.compile(r"EXPUNGEISSUED|no longer exist|NONEXISTENT", re.IGNORECASE)


class MailboxError(Exception):
    """The mailbox cannot be read now (unreachable, refused log-in, no such folder); the message says why, in the
    language of the moment (the default language in the worker), with the server's own words kept as they are."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str  # tls (IMAPS, 993), starttls (143) or none (a server on this machine only)
    username: str
    password: str = ""  # or, for OAuth 2.0, the client secret
    oauth_client_id: str = ""  # set: log in with XOAUTH2 and a token from the client-credentials grant
    oauth_token_url: str = ""  # Microsoft's for the tenant when empty
    oauth_tenant: str = ""
    oauth_scope: str = MICROSOFT_SCOPE
    folder: str = "INBOX"
    timeout: float = 30.0
    ca_file: str = ""
    require_cert: bool = True


def access_token(settings: ImapSettings) -> str:
    """An OAuth 2.0 access token for the mailbox (client-credentials grant, as Exchange Online's app-only IMAP
    access uses)."""
    url = settings.oauth_token_url or MICROSOFT_TOKEN_URL.format(tenant=settings.oauth_tenant)
    try:
        answer = requests.post(url, data={"grant_type": "client_credentials", "client_id": settings.oauth_client_id,
                                          "client_secret": settings.password, "scope": settings.oauth_scope},
                               timeout=settings.timeout,
                               verify=settings.ca_file or True if settings.require_cert else False)
        token = answer.json().get("access_token") if answer.ok else None
    except (requests.RequestException, ValueError) as exc:
        raise MailboxError(_l("the token service did not answer: %(error)s", error=exc.__class__.__name__)) from exc
    if not token:
        raise MailboxError(_l("the token service refused the client (HTTP %(status)s)", status=answer.status_code))
    return str(token)


def _tls_context(settings: ImapSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    if not settings.require_cert:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSession:
    """An open, logged-in connection with the new-mail folder selected (``open_mailbox`` makes one)."""

    def __init__(self, connection: imaplib.IMAP4) -> None:
        self.connection = connection
        self.can_move = "MOVE" in connection.capabilities
        self.has_uidplus = "UIDPLUS" in connection.capabilities

    def _ok(self, what: str, answer: tuple) -> list:
        status, data = answer
        if status != "OK":
            raise MailboxError(f"{what}: {_text(data)}")
        return data

    def _unless_gone(self, what: str, answer: tuple) -> list | None:
        """The answer's data, or None when the server says the message no longer exists (RFC 5530
        ``EXPUNGEISSUED``: another reader took it away after we listed it)."""
        status, data = answer
        if status != "OK" and _GONE.search(_text(data)):
            return None
        return self._ok(what, answer)

    def uids(self, limit: int) -> list[bytes]:
        """The first ``limit`` messages in the folder, oldest first (not those marked deleted)."""
        data = self._ok("search", self.connection.uid("SEARCH", None, "UNDELETED"))
        return (data[0] or b"").split()[:limit]

    def message_id(self, uid: bytes) -> str | None:
        """The Message-ID header's value (of a message too large to download), "" without one, None when gone."""
        data = self._unless_gone("header", self.connection.uid(
            "FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"))
        for part in data or []:
            if isinstance(part, tuple) and len(part) == 2:
                value = part[1].decode("ascii", "replace").partition(":")[2].strip()
                return " ".join(value.split())[:255]
        return None

    def size(self, uid: bytes) -> int | None:
        """The message's size in bytes, None when it is no longer there."""
        data = self._unless_gone("size", self.connection.uid("FETCH", uid, "(RFC822.SIZE)")) or []
        for part in data:
            found = _SIZE.search(part if isinstance(part, bytes) else b"")
            if found:
                return int(found.group(1))
        return None

    def fetch(self, uid: bytes) -> bytes | None:
        """The whole message as received (not marked seen), None when it is no longer there."""
        data = self._unless_gone("fetch", self.connection.uid("FETCH", uid, "(BODY.PEEK[])")) or []
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                return part[1]
        return None

    def ensure_folder(self, folder: str) -> None:
        status, _ = self.connection.create(_quoted(folder))
        if status != "OK":  # it exists already (the usual case) or cannot be made: the move will say which
            return
        with contextlib.suppress(imaplib.IMAP4.error):
            self.connection.subscribe(_quoted(folder))

    def move(self, uid: bytes, folder: str) -> None:
        if self.can_move:
            self._unless_gone(f"move to {folder}", self.connection.uid("MOVE", uid, _quoted(folder)))
            return
        if self._unless_gone(f"copy to {folder}", self.connection.uid("COPY", uid, _quoted(folder))) is None:
            return
        self._ok("mark as moved", self.connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"))
        if self.has_uidplus:  # this message only; a plain EXPUNGE would also remove what others marked deleted,
            self._ok("expunge", self.connection.uid("EXPUNGE", uid))  # so without UIDPLUS it stays marked


def _text(data) -> str:
    parts = [p.decode(errors="replace") if isinstance(p, bytes) else str(p) for p in (data or [])]
    return " ".join(parts)[:200] or "no answer"


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    if settings.security not in SECURITY:
        raise MailboxError(_l("unknown encryption %(security)s", security=settings.security))
    if settings.security == "tls":
        return imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=_tls_context(settings),
                                 timeout=settings.timeout)
    connection = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            connection.starttls(_tls_context(settings))
        except BaseException:
            connection.shutdown()
            raise
    return connection


@contextlib.contextmanager
def open_mailbox(settings: ImapSettings) -> Iterator[ImapSession]:
    """Connect, log in and select the new-mail folder; log out at the end. Raises ``MailboxError``."""
    token = access_token(settings) if settings.oauth_client_id else None
    try:
        connection = _connect(settings)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(_l("cannot connect to %(server)s: %(error)s", server=f"{settings.host}:{settings.port}",
                               error=exc)) from exc
    try:
        try:
            if token is not None:
                auth = f"user={settings.username}\x01auth=Bearer {token}\x01\x01".encode()
                connection.authenticate("XOAUTH2", lambda _challenge: auth)
            else:
                connection.login(settings.username, settings.password)
            status, data = connection.select(_quoted(settings.folder))
        except (OSError, imaplib.IMAP4.abort) as exc:  # timed out or dropped after the greeting
            raise MailboxError(_l("the connection broke: %(error)s", error=exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxError(_l("the server refused the log-in: %(error)s", error=exc)) from exc
        if status != "OK":
            raise MailboxError(_l("there is no folder %(folder)s: %(error)s", folder=settings.folder,
                                  error=_text(data)))
        session = ImapSession(connection)
        try:
            yield session
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise MailboxError(_l("the connection broke: %(error)s", error=exc)) from exc
        except imaplib.IMAP4.error as exc:
            raise MailboxError(str(exc)) from exc
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            connection.close()
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error, socket.timeout):
            connection.logout()
