"""The directory adapter: the only module that talks to LDAP / Active Directory (python-ldap).

Log-in is the classic search-then-bind: bind as the service account, find the user's entry with an escaped
filter, bind as that entry with the given password, then read its groups.

Every call ends within the directory's ``timeout`` whatever the server does. libldap bounds the TCP connect and
each operation but not an ``ldaps://`` TLS handshake, so Lotsen opens the connections itself: the TCP connect,
StartTLS and the TLS handshake (Python's ``ssl``, with the directory's CA file and certificate checking) run
under the call's deadline, and libldap speaks LDAP over a socket it is handed. On a TLS connection that socket
is one end of a socket pair whose other end a small thread carries over the TLS connection (``_Tunnel``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import select
import socket
import ssl
import struct
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import ldap
import ldap.dn
from ldap.controls import SimplePagedResultsControl
from ldap.filter import escape_filter_chars

from app.auth.exceptions import (
    AccountBlocked,
    AmbiguousUser,
    DirectoryUnavailable,
    InvalidCredentials,
    TryAgainSoon,
    UnknownUser,
)

log = logging.getLogger(__name__)

#: Active Directory's ``data`` codes in a refused bind's diagnostic message, as the reasons Lotsen tells apart
#: (525 unknown user and 52e wrong password stay "wrong user name or password")
AD_BIND_REASONS = {
    "530": "not_now", "531": "not_here", "532": "password_expired", "533": "disabled", "701": "account_expired",
    "773": "must_change_password", "775": "locked",
}
IN_CHAIN = "1.2.840.113556.1.4.1941"  # AD's LDAP_MATCHING_RULE_IN_CHAIN: nested groups in one search
ACCOUNT_DISABLED = 0x2  # userAccountControl
NEVER_EXPIRES = (0, 0x7FFFFFFFFFFFFFFF)  # accountExpires
START_TLS_OID = b"1.3.6.1.4.1.1466.20037"
TUNNEL_IDLE_LIMIT = 300.0  # seconds a TLS tunnel waits for either side before it gives up


def normalize_dn(dn: str) -> str:
    """A DN in one canonical form for comparing: attribute names and values in lower case, no spaces around
    the separators (``CN=Lotsen HR, OU=Grupper`` and ``cn=lotsen hr,ou=grupper`` are the same group, as the
    directory itself compares them). A string that is not a DN is only trimmed and lower-cased."""
    try:
        parts = ldap.dn.str2dn(dn.strip())
    except ldap.DECODING_ERROR:
        return dn.strip().lower()
    return ldap.dn.dn2str([[(name.lower(), value.lower(), kind) for name, value, kind in rdn] for rdn in parts])


@dataclass(frozen=True)
class LoginName:
    """What a person typed as their user name, in the three forms staff use: ``asa.oberg``,
    ``asa.oberg@kommun.se`` (a user principal name) and ``KOMMUN\\asa.oberg`` (NetBIOS domain and name)."""

    name: str  # the name without a NetBIOS domain; the whole UPN for the UPN form
    domain: str | None = None  # lower-case domain part, if any
    is_upn: bool = False

    @classmethod
    def parse(cls, raw: str) -> LoginName:
        text = (raw or "").strip()
        if "\\" in text:
            domain, _, name = text.partition("\\")
            return cls(name.strip(), domain.strip().lower() or None)
        if "@" in text:
            local, _, domain = text.rpartition("@")
            if local and domain:
                return cls(text, domain.lower(), is_upn=True)
        return cls(text)

    @property
    def local_part(self) -> str:
        return self.name.rpartition("@")[0] if self.is_upn else self.name


@dataclass
class DirectoryEntry:
    dn: str
    username: str
    display_name: str = ""
    email: str = ""
    department: str = ""
    title: str = ""
    groups: list[str] = field(default_factory=list)
    directory: str = ""  # the name of the directory the entry came from
    directory_id: str = ""  # the stable key (objectGUID / entryUUID), the same after a rename
    disabled: bool = False  # AD: the account is disabled or has expired


class _Deadline:
    def __init__(self, seconds: float, uri: str) -> None:
        self.end, self.uri = time.monotonic() + seconds, uri

    def left(self) -> float:
        remaining = self.end - time.monotonic()
        if remaining <= 0:
            raise DirectoryUnavailable(f"{self.uri}: no answer within the time limit")
        return remaining


class _Tunnel(threading.Thread):
    """Carries libldap's plain LDAP bytes over a TLS connection Python holds (one thread per connection; it ends
    when either side closes). The TLS side is read without blocking: a TLS record that holds no data (a TLS 1.3
    session ticket) must not stop the bytes that wait on the other side."""

    def __init__(self, tls: ssl.SSLSocket, timeout: float) -> None:
        super().__init__(daemon=True, name="ldap-tls")
        self.tls, self.timeout = tls, timeout
        self.outer, self.inner = socket.socketpair()

    def run(self) -> None:
        try:
            self.tls.setblocking(False)
            while True:
                ready = [self.tls] if self.tls.pending() else select.select(
                    [self.inner, self.tls], [], [], TUNNEL_IDLE_LIMIT)[0]
                if not ready:
                    return
                if self.inner in ready:
                    data = self.inner.recv(65536)
                    if not data:
                        return
                    self.tls.settimeout(self.timeout)  # a write waits for room, within the time limit
                    self.tls.sendall(data)
                    self.tls.setblocking(False)
                if self.tls in ready:
                    try:
                        data = self.tls.recv(65536)
                    except ssl.SSLWantReadError:
                        continue  # a record without data, or only part of one
                    if not data:
                        return
                    self.inner.sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (self.tls, self.inner):
                sock.close()


def _host_port(uri: str) -> tuple[str, str, int]:
    """Scheme, host and port of one ``ldap://`` or ``ldaps://`` URI."""
    match = re.fullmatch(r"(ldaps?)://(\[[^\]]+\]|[^:/]+)(?::(\d+))?/?", uri.strip(), re.IGNORECASE)
    if not match:
        raise ValueError(f"not an ldap:// or ldaps:// URI: {uri!r}")
    scheme = match.group(1).lower()
    return scheme, match.group(2).strip("[]"), int(match.group(3) or (636 if scheme == "ldaps" else 389))


def split_uris(value: str) -> list[str]:
    """The URIs of ``LOTSEN_LDAP_URI``: several domain controllers, separated by spaces or commas, tried in
    order."""
    return [part for part in re.split(r"[\s,]+", value.strip()) if part]


@functools.lru_cache(maxsize=16)
def _tls_context(ca_file: str, require_cert: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    if not require_cert:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _set_socket_timeouts(sock: socket.socket, seconds: float) -> None:
    """Kernel-level send and receive timeouts: they bound libldap's own reads and writes on the socket."""
    value = struct.pack("ll", int(seconds), int((seconds % 1) * 1_000_000))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, value)


MAX_START_TLS_ANSWER = 16_384


def _read_exactly(sock: socket.socket, count: int, deadline: _Deadline) -> bytes:
    data = b""
    while len(data) < count:
        sock.settimeout(deadline.left())  # the whole answer within the call's time, however it trickles in
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def _read_ber(sock: socket.socket, deadline: _Deadline) -> bytes:
    """The content of one BER element from the socket (a bounded size)."""
    _tag, length = _read_exactly(sock, 2, deadline)
    if length & 0x80:
        size = length & 0x7F
        if not 0 < size <= 4:
            raise ConnectionError("not an LDAP answer")
        length = int.from_bytes(_read_exactly(sock, size, deadline), "big")
    if length > MAX_START_TLS_ANSWER:
        raise ConnectionError("not an LDAP answer")
    return _read_exactly(sock, length, deadline)


def _ber_elements(content: bytes) -> Iterator[tuple[int, bytes]]:
    at = 0
    while at + 2 <= len(content):
        tag, length = content[at], content[at + 1]
        at += 2
        if length & 0x80:
            size = length & 0x7F
            length, at = int.from_bytes(content[at:at + size], "big"), at + size
        yield tag, content[at:at + length]
        at += length


def _start_tls(sock: socket.socket, deadline: _Deadline) -> None:
    """The StartTLS extended operation (RFC 4511 4.14), sent and answered before the TLS handshake."""
    name = b"\x80" + bytes([len(START_TLS_OID)]) + START_TLS_OID
    message = b"\x02\x01\x01" + b"\x77" + bytes([len(name)]) + name
    sock.settimeout(deadline.left())
    sock.sendall(b"\x30" + bytes([len(message)]) + message)
    content = _read_ber(sock, deadline)
    for tag, value in _ber_elements(content):
        if tag == 0x78:  # ExtendedResponse: its first element is the result code
            first = next(_ber_elements(value), None)
            if first is None or first[0] != 0x0A or not first[1]:
                break
            code = int.from_bytes(first[1], "big")
            if code != 0:
                raise ConnectionRefusedError(f"StartTLS refused (result code {code})")
            return
    raise ConnectionError("no answer to StartTLS that LDAP would give")


class _Connection:
    """One LDAP connection to one URI under a deadline: each operation gets the time left of the whole call."""

    def __init__(self, directory: LdapDirectory, deadline: _Deadline, uri: str) -> None:
        self.directory, self.deadline, self.uri = directory, deadline, uri
        self.conn = directory._open(uri, deadline)

    def _arm(self) -> float:
        left = self.deadline.left()
        self.conn.set_option(ldap.OPT_TIMEOUT, left)
        return left

    def bind(self, dn: str, password: str) -> None:
        self._arm()
        self.conn.simple_bind_s(dn, password)

    def search(self, base: str, scope: int, search_filter: str, attributes: Sequence[str] | None,
               limit: int = 0) -> list[tuple[str, dict[str, list[bytes]]]]:
        """Every entry the search finds, page by page (Active Directory answers at most 1,000 entries to a
        search without paging); search references are dropped. ``limit`` stops early."""
        page_size = self.directory.page_size
        control = SimplePagedResultsControl(True, size=page_size if not limit else min(limit, page_size), cookie="")
        found: list[tuple[str, dict[str, list[bytes]]]] = []
        while True:
            self._arm()
            message = self.conn.search_ext(base, scope, search_filter, list(attributes) if attributes else None,
                                           serverctrls=[control])
            _kind, results, _id, controls = self.conn.result3(message, all=1, timeout=self._arm())
            found += [(dn, attrs) for dn, attrs in results if dn and isinstance(attrs, dict)]
            cookie = next((c.cookie for c in controls or () if c.controlType == SimplePagedResultsControl.controlType),
                          b"")
            if not cookie or (limit and len(found) >= limit):
                return found[:limit] if limit else found
            control.cookie = cookie

    def read_ranged(self, dn: str, attributes: dict[str, list[bytes]]) -> dict[str, list[bytes]]:
        """``attributes`` with ranged values read to the end: Active Directory returns at most 1,500 values of a
        multi-valued attribute at once (``memberOf;range=0-1499``) and the rest only when asked for by range."""
        merged = {key: values for key, values in attributes.items() if ";range=" not in key.lower()}
        for key, values in attributes.items():
            match = re.fullmatch(r"(.+);range=(\d+)-(\d+|\*)", key, re.IGNORECASE)
            if not match:
                continue
            name, end = match.group(1), match.group(3)
            collected = list(values)
            while end != "*":
                wanted = f"{name};range={int(end) + 1}-*"
                answer = self.search(dn, ldap.SCOPE_BASE, "(objectClass=*)", [wanted])
                more = answer[0][1] if answer else {}
                ranged = next(((k, v) for k, v in more.items() if k.lower().startswith(name.lower() + ";range=")),
                              None)
                if ranged is None:
                    break
                collected += ranged[1]
                end = ranged[0].rpartition("-")[2]
            merged[name] = collected
        return merged

    def close(self) -> None:
        with contextlib.suppress(ldap.LDAPError):
            self.conn.unbind_s()


class _BindPace:
    """Password attempts for one account at least ``interval`` apart after a wrong one, in this process: a script
    or a double click never feeds Active Directory's lock-out counter faster than a person types. An attempt that
    comes too soon waits its turn (the answer is the same as ever, so it tells nothing about the account); one
    whose turn is further away than the call's time is refused as a wrong password, without asking."""

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_turn(self, dn: str, interval: float, deadline: _Deadline) -> None:
        key = normalize_dn(dn)
        with self._lock:
            now = time.monotonic()
            turn = max(now, self._next.get(key, 0.0))
            if turn - now >= deadline.left():
                raise TryAgainSoon
            self._next[key] = turn + interval  # the next attempt's turn, should this one fail
        time.sleep(turn - now)

    def done(self, dn: str, failed: bool) -> None:
        """After the attempt: a right password frees the account's turn at once."""
        if not failed:
            with self._lock:
                self._next.pop(normalize_dn(dn), None)
        elif len(self._next) > 10_000:
            with self._lock:
                now = time.monotonic()
                self._next = {key: turn for key, turn in self._next.items() if turn > now}

    def forget(self) -> None:
        with self._lock:
            self._next.clear()


BIND_PACE = _BindPace()


@dataclass
class LdapDirectory:
    uri: str
    user_base_dn: str
    user_filter: str = "(uid={username})"
    upn_filter: str = "(userPrincipalName={upn})"
    bind_dn: str = ""
    bind_password: str = ""
    group_base_dn: str = ""
    group_filter: str = "(&(objectClass=groupOfNames)(member={user_dn}))"
    name_attrs: tuple[str, ...] = ("displayName", "cn")
    email_attrs: tuple[str, ...] = ("mail",)
    department_attrs: tuple[str, ...] = ("department", "ou")
    title_attrs: tuple[str, ...] = ("title",)
    id_attrs: tuple[str, ...] = ("objectGUID", "entryUUID")
    timeout: float = 5.0
    start_tls: bool = False
    ca_file: str = ""
    require_cert: bool = True
    name: str = "default"
    domains: tuple[str, ...] = ()  # NetBIOS names and UPN suffixes that pick this directory (lower case)
    page_size: int = 500
    bind_interval: float = 2.0
    group_roles: Mapping[str, list[str]] = field(default_factory=dict)
    required_group: str = ""

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> LdapDirectory:
        """A directory from one set of settings: the ``LOTSEN_LDAP_*`` names without the prefix, in lower case
        (``uri``, ``user_base_dn``, ``attr_name`` ...), as ``app.config`` validates them."""
        def attrs(key: str) -> tuple[str, ...]:
            return tuple(a.strip() for a in settings[key].split(",") if a.strip())

        return cls(
            uri=settings["uri"], user_base_dn=settings["user_base_dn"], user_filter=settings["user_filter"],
            upn_filter=settings["upn_filter"], bind_dn=settings["bind_dn"], bind_password=settings["bind_password"],
            group_base_dn=settings["group_base_dn"], group_filter=settings["group_filter"],
            name_attrs=attrs("attr_name"), email_attrs=attrs("attr_email"),
            department_attrs=attrs("attr_department"), title_attrs=attrs("attr_title"), id_attrs=attrs("attr_id"),
            timeout=settings["timeout"], start_tls=settings["start_tls"], ca_file=settings["ca_file"],
            require_cert=settings["require_cert"], name=settings["name"],
            domains=tuple(d.lower() for d in settings["domains"]), page_size=settings["page_size"],
            bind_interval=settings["bind_interval"], group_roles=settings["group_roles"],
            required_group=settings["required_group"],
        )

    @property
    def login_attr(self) -> str:
        """The attribute the user filter matches the name against (``uid``, ``sAMAccountName``)."""
        match = re.search(r"\(([\w-]+)=\{username\}\)", self.user_filter)
        return match.group(1) if match else "uid"

    def clear_text_passwords(self) -> bool:
        """True when a password would travel unencrypted to some URI of this directory."""
        return not self.start_tls and any(_host_port(uri)[0] == "ldap" for uri in split_uris(self.uri))

    # --- the calls ----------------------------------------------------------------------------------------------
    def authenticate(self, login: LoginName | str, password: str) -> DirectoryEntry:
        """Check the password against the directory and return the user's entry with its groups."""
        login = LoginName.parse(login) if isinstance(login, str) else login
        if not login.name or not password:
            # An empty password would be an anonymous bind, which many servers let "succeed".
            raise InvalidCredentials
        deadline = _Deadline(self.timeout, self.uri)
        with self._service(deadline) as service:
            found = self._find(service, login)
            if found is None:
                raise UnknownUser
            dn, attributes = found
            BIND_PACE.wait_turn(dn, self.bind_interval, deadline)
            failed = True
            try:
                user = _Connection(self, deadline, service.uri)  # the domain controller that found the person
                try:
                    user.bind(dn, password)
                    failed = False
                finally:
                    user.close()
            except ldap.INVALID_CREDENTIALS as exc:
                reason = self._refusal(exc)
                if reason:
                    log.warning("directory %s refused %s: %s", self.name, dn, reason)
                    raise AccountBlocked(reason) from exc
                raise InvalidCredentials from exc
            except ldap.LDAPError as exc:
                raise self._unavailable(exc) from exc
            finally:
                BIND_PACE.done(dn, failed)
            return self._entry(service, dn, attributes, with_groups=True)

    def lookup_login(self, login: LoginName) -> DirectoryEntry | None:
        """The entry ``login`` names, with groups, None when there is none; as the service account."""
        deadline = _Deadline(self.timeout, self.uri)
        with self._service(deadline) as conn:
            found = self._find(conn, login)
            return self._entry(conn, *found, with_groups=True) if found else None

    def lookup(self, directory_id: str) -> DirectoryEntry | None:
        """The entry with this stable key (with groups and whether it is disabled), None when it is gone; as the
        service account (re-checking a logged-in person)."""
        deadline = _Deadline(self.timeout, self.uri)
        with self._service(deadline) as conn:
            for attr in self.id_attrs:
                value = self._id_filter_value(attr, directory_id)
                if value is None:
                    continue
                found = self._search_users(conn, f"({attr}={value})")
                if len(found) == 1:
                    return self._entry(conn, *found[0], with_groups=True)
            return None

    def missing_groups(self, group_dns: Sequence[str]) -> list[str]:
        """Which of these group DNs do not exist in the directory (checked at start-up)."""
        deadline = _Deadline(self.timeout, self.uri)
        missing = []
        with self._service(deadline) as conn:
            for dn in group_dns:
                try:
                    conn.search(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
                except ldap.NO_SUCH_OBJECT:
                    missing.append(dn)
                except ldap.INVALID_DN_SYNTAX:
                    missing.append(dn)
        return missing

    def search_people(self, text: str, limit: int = 10) -> list[DirectoryEntry]:
        """Up to ``limit`` people whose user name, name or e-mail holds ``text`` (the text escaped, so it can never
        change the filter); as the service account. Raises DirectoryUnavailable when the directory is away."""
        needle = escape_filter_chars(text.strip())
        if len(text.strip()) < 2:
            return []
        names = dict.fromkeys([self.login_attr, *self.name_attrs, *self.email_attrs])
        search_filter = "(|" + "".join(f"({name}=*{needle}*)" for name in names) + ")"
        deadline = _Deadline(self.timeout, self.uri)
        with self._service(deadline) as conn:
            found = conn.search(self.user_base_dn, ldap.SCOPE_SUBTREE, search_filter, self._wanted(), limit=limit)
            return [self._entry(conn, dn, attributes) for dn, attributes in found
                    if self._first(attributes, (self.login_attr,))][:limit]

    # --- the parts ----------------------------------------------------------------------------------------------
    def _wanted(self) -> list[str]:
        return [self.login_attr, "userPrincipalName", *self.name_attrs, *self.email_attrs, *self.department_attrs,
                *self.title_attrs, *self.id_attrs, "memberOf", "userAccountControl", "accountExpires"]

    @contextlib.contextmanager
    def _service(self, deadline: _Deadline) -> Iterator[_Connection]:
        """A connection bound as the service account to the first domain controller in the list that answers;
        a silent or unreachable one leaves the rest of the time to the next. LDAP errors inside become
        DirectoryUnavailable."""
        uris = split_uris(self.uri)
        conn, last_error = None, "no URI"
        for position, uri in enumerate(uris):
            attempt = _Deadline(min(deadline.left() / (len(uris) - position), deadline.left()), uri)
            try:
                conn = _Connection(self, attempt, uri)
                conn.bind(self.bind_dn, self.bind_password)
            except ldap.INVALID_CREDENTIALS as exc:
                conn.close()
                log.error("directory %s: the service account %s was refused", self.name, self.bind_dn)
                raise DirectoryUnavailable("service account refused") from exc
            except (DirectoryUnavailable, ldap.LDAPError) as exc:
                if conn is not None:
                    conn.close()
                    conn = None
                log.warning("directory %s: %s did not answer: %s", self.name, uri, exc)
                last_error = f"{uri}: {exc}"
                continue
            conn.deadline = deadline  # what follows has the rest of the call's time
            break
        if conn is None:
            log.warning("directory %s (%s) unavailable: %s", self.name, self.uri, last_error)
            raise DirectoryUnavailable(last_error)
        try:
            yield conn
        except ldap.LDAPError as exc:
            raise self._unavailable(exc) from exc
        finally:
            conn.close()

    def _unavailable(self, exc: ldap.LDAPError) -> DirectoryUnavailable:
        if isinstance(exc, ldap.TIMEOUT | ldap.SERVER_DOWN | ldap.CONNECT_ERROR | ldap.UNAVAILABLE | ldap.BUSY):
            log.warning("directory %s (%s) unavailable: %s", self.name, self.uri, exc)
        else:
            log.error("directory %s (%s) error: %s", self.name, self.uri, exc)
        return DirectoryUnavailable(str(exc))

    def _open(self, uri: str, deadline: _Deadline) -> Any:
        """A libldap connection to ``uri`` over a socket Lotsen connected (and, for ``ldaps://`` and StartTLS,
        encrypted and checked) within the deadline. Raises DirectoryUnavailable."""
        scheme, host, port = _host_port(uri)
        sock = None
        try:
            sock = socket.create_connection((host, port), timeout=deadline.left())
            if scheme == "ldaps" or self.start_tls:
                if scheme == "ldap":
                    _start_tls(sock, deadline)
                sock.settimeout(deadline.left())  # the handshake as a whole, however the server trickles
                sock = _tls_context(self.ca_file, self.require_cert).wrap_socket(sock, server_hostname=host)
                tunnel = _Tunnel(sock, self.timeout)
                tunnel.start()
                sock = tunnel.outer
            else:
                sock.settimeout(None)
            _set_socket_timeouts(sock, self.timeout)
            address = f"[{host}]" if ":" in host else host
            fd = sock.detach()
            try:
                conn = ldap.initialize(f"ldap://{address}:{port}", fileno=fd)
            except BaseException:
                os.close(fd)
                raise
        except ssl.SSLCertVerificationError as exc:
            log.error("directory %s: the certificate of %s is not trusted (%s); set LOTSEN_LDAP_CA_FILE to the "
                      "certificate of the CA that signed it", self.name, uri, exc.verify_message)
            raise DirectoryUnavailable(f"{uri}: certificate not trusted ({exc.verify_message})") from exc
        except (OSError, ssl.SSLError, ldap.LDAPError) as exc:
            raise DirectoryUnavailable(f"{uri}: {exc}") from exc
        finally:
            if sock is not None and sock.fileno() != -1:
                sock.close()
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        return conn

    @staticmethod
    def _refusal(exc: ldap.INVALID_CREDENTIALS) -> str | None:
        """Active Directory's reason for refusing a right password, from the bind's diagnostic message."""
        info = exc.args[0].get("info", "") if exc.args and isinstance(exc.args[0], dict) else ""
        if isinstance(info, bytes):
            info = info.decode("utf-8", "replace")
        match = re.search(r"\bdata ([0-9a-f]+)\b", info, re.IGNORECASE)
        return AD_BIND_REASONS.get(match.group(1).lower()) if match else None

    def _search_users(self, conn: _Connection, search_filter: str) -> list[tuple[str, dict[str, list[bytes]]]]:
        return conn.search(self.user_base_dn, ldap.SCOPE_SUBTREE, search_filter, self._wanted())

    def _find(self, conn: _Connection, login: LoginName) -> tuple[str, dict[str, list[bytes]]] | None:
        """The one entry ``login`` names. A UPN is looked up as such; when nothing has that UPN and its domain is
        one of this directory's, its local part is tried as a user name. Several matches log in nobody."""
        filters = []
        if login.is_upn:
            filters.append(self.upn_filter.replace("{upn}", escape_filter_chars(login.name)))
            if login.domain in self.domains:
                filters.append(self.user_filter.replace("{username}", escape_filter_chars(login.local_part)))
        else:
            filters.append(self.user_filter.replace("{username}", escape_filter_chars(login.name)))
        for search_filter in filters:
            entries = self._search_users(conn, search_filter)
            if len(entries) == 1:
                return entries[0]
            if entries:
                log.warning("directory %s: user filter %s matched %d entries; refusing", self.name, search_filter,
                            len(entries))
                raise AmbiguousUser
        return None

    def _entry(self, conn: _Connection, dn: str, attributes: dict[str, list[bytes]],
               with_groups: bool = False) -> DirectoryEntry:
        attributes = conn.read_ranged(dn, attributes) if with_groups else attributes
        return DirectoryEntry(
            dn=dn,
            username=self._first(attributes, (self.login_attr,)),
            display_name=self._first(attributes, self.name_attrs),
            email=self._first(attributes, self.email_attrs),
            department=self._first(attributes, self.department_attrs),
            title=self._first(attributes, self.title_attrs),
            groups=self._groups(conn, dn, attributes) if with_groups else [],
            directory=self.name,
            directory_id=self._stable_id(attributes),
            disabled=self._disabled(attributes),
        )

    def _groups(self, conn: _Connection, dn: str, attributes: dict[str, list[bytes]]) -> list[str]:
        lowered = {key.lower(): values for key, values in attributes.items()}
        groups = {value.decode("utf-8") for value in lowered.get("memberof", [])}
        if self.group_base_dn:
            search_filter = self.group_filter.replace("{user_dn}", escape_filter_chars(dn))
            groups.update(group_dn for group_dn, _ in conn.search(self.group_base_dn, ldap.SCOPE_SUBTREE,
                                                                   search_filter, ["1.1"]))
        return sorted(groups)

    def _stable_id(self, attributes: dict[str, list[bytes]]) -> str:
        lowered = {key.lower(): values for key, values in attributes.items()}
        for attr in self.id_attrs:
            values = lowered.get(attr.lower())
            if not values:
                continue
            raw = values[0]
            if attr.lower() == "objectguid" and len(raw) == 16:
                return str(uuid.UUID(bytes_le=raw))
            return raw.decode("utf-8", "replace").strip().lower()
        return ""

    @staticmethod
    def _id_filter_value(attr: str, directory_id: str) -> str | None:
        if attr.lower() == "objectguid":
            try:
                return "".join(f"\\{byte:02x}" for byte in uuid.UUID(directory_id).bytes_le)
            except ValueError:
                return None
        return escape_filter_chars(directory_id)

    @staticmethod
    def _disabled(attributes: dict[str, list[bytes]]) -> bool:
        lowered = {key.lower(): values for key, values in attributes.items()}
        try:
            control = int(lowered.get("useraccountcontrol", [b"0"])[0])
            expires = int(lowered.get("accountexpires", [b"0"])[0])
        except ValueError:
            return False
        if control & ACCOUNT_DISABLED:
            return True
        if expires in NEVER_EXPIRES:
            return False
        # accountExpires counts 100-nanosecond steps from 1601-01-01 (a Windows FILETIME)
        unix_seconds = expires / 10_000_000 - 11_644_473_600
        return unix_seconds < datetime.now(UTC).timestamp()

    @staticmethod
    def _first(attributes: dict[str, list[bytes]], names: tuple[str, ...]) -> str:
        lowered = {key.lower(): values for key, values in attributes.items()}
        for name in names:
            values = lowered.get(name.lower())
            if values:
                return values[0].decode("utf-8")
        return ""


def directories_from_config(config: Mapping[str, Any]) -> list[LdapDirectory]:
    """The configured directories in the order they are tried (``LOTSEN_DIRECTORIES``, built by app.config from
    ``LOTSEN_LDAP_*`` and ``LOTSEN_LDAP_DIRECTORIES``); empty when LDAP is off."""
    return [LdapDirectory.from_settings(settings) for settings in config.get("LOTSEN_DIRECTORIES", ())]
