"""The directory adapter: the only module that talks to LDAP / Active Directory (python-ldap).

Log-in is the classic search-then-bind: bind as the service account, find the user's entry with an escaped
filter, bind as that entry with the given password, then read its groups.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ldap
import ldap.dn
from ldap.filter import escape_filter_chars

from app.auth.exceptions import DirectoryUnavailable, InvalidCredentials

log = logging.getLogger(__name__)


def normalize_dn(dn: str) -> str:
    """A DN in one canonical form for comparing: attribute names and values in lower case, no spaces around
    the separators (``CN=Lotsen HR, OU=Grupper`` and ``cn=lotsen hr,ou=grupper`` are the same group, as the
    directory itself compares them). A string that is not a DN is only trimmed and lower-cased."""
    try:
        parts = ldap.dn.str2dn(dn.strip())
    except ldap.DECODING_ERROR:
        return dn.strip().lower()
    return ldap.dn.dn2str([[(name.lower(), value.lower(), kind) for name, value, kind in rdn] for rdn in parts])


@dataclass
class DirectoryEntry:
    dn: str
    username: str
    display_name: str = ""
    email: str = ""
    department: str = ""
    title: str = ""
    groups: list[str] = field(default_factory=list)


@dataclass
class LdapDirectory:
    uri: str
    user_base_dn: str
    user_filter: str = "(uid={username})"
    bind_dn: str = ""
    bind_password: str = ""
    group_base_dn: str = ""
    group_filter: str = "(&(objectClass=groupOfNames)(member={user_dn}))"
    name_attrs: tuple[str, ...] = ("displayName", "cn")
    email_attrs: tuple[str, ...] = ("mail",)
    department_attrs: tuple[str, ...] = ("department", "ou")
    title_attrs: tuple[str, ...] = ("title",)
    timeout: float = 5.0
    start_tls: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LdapDirectory | None:
        """The directory described by ``LOTSEN_LDAP_*`` settings, or None when LDAP is not configured."""
        if not config.get("LOTSEN_LDAP_URI"):
            return None

        def attrs(name: str) -> tuple[str, ...]:
            return tuple(a.strip() for a in config[name].split(",") if a.strip())

        return cls(
            uri=config["LOTSEN_LDAP_URI"],
            user_base_dn=config["LOTSEN_LDAP_USER_BASE_DN"],
            user_filter=config["LOTSEN_LDAP_USER_FILTER"],
            bind_dn=config["LOTSEN_LDAP_BIND_DN"],
            bind_password=config["LOTSEN_LDAP_BIND_PASSWORD"],
            group_base_dn=config["LOTSEN_LDAP_GROUP_BASE_DN"],
            group_filter=config["LOTSEN_LDAP_GROUP_FILTER"],
            name_attrs=attrs("LOTSEN_LDAP_ATTR_NAME"),
            email_attrs=attrs("LOTSEN_LDAP_ATTR_EMAIL"),
            department_attrs=attrs("LOTSEN_LDAP_ATTR_DEPARTMENT"),
            title_attrs=attrs("LOTSEN_LDAP_ATTR_TITLE"),
            timeout=config["LOTSEN_LDAP_TIMEOUT"],
            start_tls=config["LOTSEN_LDAP_START_TLS"],
        )

    def authenticate(self, username: str, password: str) -> DirectoryEntry:
        """Check the password against the directory and return the user's entry with its groups."""
        if not username or not password:
            # An empty password would be an anonymous bind, which many servers let "succeed".
            raise InvalidCredentials
        try:
            service = self._connect()
            try:
                self._bind(service, self.bind_dn, self.bind_password, service_account=True)
                dn, attributes = self._find_user(service, username)
                user = self._connect()
                try:
                    self._bind(user, dn, password, service_account=False)
                finally:
                    user.unbind_s()
                groups = self._groups(service, dn, attributes)
            finally:
                service.unbind_s()
        except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR, ldap.UNAVAILABLE, ldap.BUSY) as exc:
            log.warning("directory %s unavailable: %s", self.uri, exc)
            raise DirectoryUnavailable(str(exc)) from exc
        except ldap.LDAPError as exc:
            log.error("directory %s error: %s", self.uri, exc)
            raise DirectoryUnavailable(str(exc)) from exc
        return DirectoryEntry(
            dn=dn,
            username=username,
            display_name=self._first(attributes, self.name_attrs),
            email=self._first(attributes, self.email_attrs),
            department=self._first(attributes, self.department_attrs),
            title=self._first(attributes, self.title_attrs),
            groups=groups,
        )

    def search_people(self, text: str, limit: int = 10) -> list[DirectoryEntry]:
        """Up to ``limit`` people whose user name, name or e-mail holds ``text`` (the text escaped, so it can never
        change the filter); as the service account. Raises DirectoryUnavailable when the directory is away."""
        needle = escape_filter_chars(text.strip())
        if len(text.strip()) < 2:
            return []
        login = re.search(r"\((\w+)=\{username\}\)", self.user_filter)
        login_attr = login.group(1) if login else "uid"
        names = dict.fromkeys([login_attr, *self.name_attrs, *self.email_attrs])
        search_filter = "(|" + "".join(f"({name}=*{needle}*)" for name in names) + ")"
        wanted = [login_attr, *self.name_attrs, *self.email_attrs, *self.department_attrs, *self.title_attrs]
        found: list[DirectoryEntry] = []
        try:
            conn = self._connect()
            try:
                self._bind(conn, self.bind_dn, self.bind_password, service_account=True)
                message = conn.search_ext(self.user_base_dn, ldap.SCOPE_SUBTREE, search_filter, wanted,
                                          sizelimit=limit)
                try:
                    while True:
                        kind, results, *_ = conn.result3(message, all=0, timeout=self.timeout)
                        for dn, attributes in results or []:
                            if dn and isinstance(attributes, dict) and self._first(attributes, (login_attr,)):
                                found.append(self._entry(dn, self._first(attributes, (login_attr,)), attributes))
                        if kind == ldap.RES_SEARCH_RESULT or not results:
                            break
                except ldap.SIZELIMIT_EXCEEDED:
                    pass  # the first ``limit`` are enough to choose from
            finally:
                conn.unbind_s()
        except ldap.LDAPError as exc:
            log.warning("directory %s: people search failed: %s", self.uri, exc)
            raise DirectoryUnavailable(str(exc)) from exc
        return found[:limit]

    def _entry(self, dn: str, username: str, attributes: dict[str, list[bytes]]) -> DirectoryEntry:
        return DirectoryEntry(dn=dn, username=username, display_name=self._first(attributes, self.name_attrs),
                              email=self._first(attributes, self.email_attrs),
                              department=self._first(attributes, self.department_attrs),
                              title=self._first(attributes, self.title_attrs))

    def _connect(self) -> Any:
        conn = ldap.initialize(self.uri)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, ldap.VERSION3)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, self.timeout)
        conn.set_option(ldap.OPT_TIMEOUT, self.timeout)
        if self.start_tls:
            conn.start_tls_s()
        return conn

    def _bind(self, conn: Any, dn: str, password: str, *, service_account: bool) -> None:
        try:
            conn.simple_bind_s(dn, password)
        except ldap.INVALID_CREDENTIALS as exc:
            if service_account:
                log.error("the LDAP service account %s was refused", dn)
                raise DirectoryUnavailable("service account refused") from exc
            raise InvalidCredentials from exc

    def _find_user(self, conn: Any, username: str) -> tuple[str, dict[str, list[bytes]]]:
        search_filter = self.user_filter.replace("{username}", escape_filter_chars(username))
        wanted = [*self.name_attrs, *self.email_attrs, *self.department_attrs, *self.title_attrs, "memberOf"]
        results = conn.search_s(self.user_base_dn, ldap.SCOPE_SUBTREE, search_filter, wanted)
        entries = [(dn, attrs) for dn, attrs in results if dn]  # drop search references
        if len(entries) != 1:
            if entries:
                log.warning("user filter %s matched %d entries; refusing", search_filter, len(entries))
            raise InvalidCredentials
        return entries[0]

    def _groups(self, conn: Any, dn: str, attributes: dict[str, list[bytes]]) -> list[str]:
        groups = {value.decode("utf-8") for value in attributes.get("memberOf", [])}
        if self.group_base_dn:
            search_filter = self.group_filter.replace("{user_dn}", escape_filter_chars(dn))
            for group_dn, _attrs in conn.search_s(self.group_base_dn, ldap.SCOPE_SUBTREE, search_filter, ["1.1"]):
                if group_dn:
                    groups.add(group_dn)
        return sorted(groups)

    @staticmethod
    def _first(attributes: dict[str, list[bytes]], names: tuple[str, ...]) -> str:
        lowered = {key.lower(): values for key, values in attributes.items()}
        for name in names:
            values = lowered.get(name.lower())
            if values:
                return values[0].decode("utf-8")
        return ""
