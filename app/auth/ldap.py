"""The directory adapter: the only module that talks to LDAP / Active Directory (python-ldap).

Log-in is the classic search-then-bind: bind as the service account, find the user's entry with an escaped
filter, bind as that entry with the given password, then read its groups.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import ldap
from ldap.filter import escape_filter_chars

from app.auth.exceptions import DirectoryUnavailable, InvalidCredentials

log = logging.getLogger(__name__)


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
