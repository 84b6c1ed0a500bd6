"""Accounts, roles and log-in. Services flush, the caller commits."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, delete, or_, select, update
from sqlalchemy.orm import joinedload, lazyload
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.exceptions import AccountBlocked, DirectoryUnavailable, InvalidCredentials, UnknownUser
from app.auth.ldap import DirectoryEntry, LdapDirectory, LoginName, normalize_dn
from app.auth.models import (
    PERSONAL_SCOPES,
    QUEUE_SCOPE,
    TOKEN_SCOPES,
    AccessToken,
    LoginSession,
    RoleGrant,
    SupportFunction,
    User,
)
from app.core import audit
from app.core.db import db, utcnow
from app.core.permissions import Role
from app.core.transactions import DomainError

log = logging.getLogger(__name__)

# slug, Swedish name, English name, confidential, first line, order
DEFAULT_FUNCTIONS: tuple[tuple[str, str, str, bool, bool, int], ...] = (
    ("servicecenter", "Servicecenter", "Service centre", False, True, 0),
    ("hr", "HR", "HR", True, False, 10),
    ("payroll", "Lön", "Payroll", True, False, 20),
    ("it", "IT och telefoni", "IT and telephony", False, False, 30),
    ("facilities", "Lokaler", "Premises", False, False, 40),
    ("procurement", "Inköp", "Procurement", False, False, 50),
)


class UserExists(Exception):  # noqa: N818
    """A user with that name already exists."""


class AccountRefused(DomainError):  # noqa: N818
    """An account that cannot be made (the user name is taken)."""


class RoleRefused(DomainError):  # noqa: N818
    """A role change the rules do not allow (such as granting oneself a confidential function's role)."""


class TokenInvalid(DomainError):  # noqa: N818
    """An access token request that cannot be granted (unknown scope, expiry out of range)."""


def normalize_username(raw: str) -> str:
    return (raw or "").strip().lower()


def get_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalize_username(username)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def list_functions() -> list[SupportFunction]:
    return list(db.session.scalars(_functions_query()))


@cache
def _functions_query() -> Select:
    return select(SupportFunction).order_by(SupportFunction.sort_order)


def get_function(slug: str) -> SupportFunction:
    function = db.session.scalar(select(SupportFunction).where(SupportFunction.slug == slug))
    if function is None:
        known = ", ".join(f.slug for f in list_functions())
        raise ValueError(f"unknown support function {slug!r} (known: {known})")
    return function


def ensure_support_functions() -> list[SupportFunction]:
    """Create the default support functions that are missing; existing ones are left as edited."""
    existing = {f.slug for f in list_functions()}
    for slug, name_sv, name_en, confidential, first_line, order in DEFAULT_FUNCTIONS:
        if slug not in existing:
            db.session.add(SupportFunction(
                slug=slug, name_sv=name_sv, name_en=name_en, is_confidential=confidential,
                is_first_line=first_line, sort_order=order,
            ))
    db.session.flush()
    return list_functions()


def parse_role(spec: str) -> tuple[Role, str | None]:
    """``manager`` -> (MANAGER, None); ``specialist:hr`` -> (SPECIALIST, 'hr'). Raises ValueError."""
    name, _, function_slug = spec.strip().partition(":")
    try:
        role = Role(name.strip().lower())
    except ValueError:
        raise ValueError(f"unknown role {name!r} (roles: {', '.join(r.value for r in Role)})") from None
    function_slug = function_slug.strip().lower() or None
    if role.needs_function and not function_slug:
        raise ValueError(f"role {role.value} needs a support function, e.g. {role.value}:hr")
    if not role.needs_function and function_slug:
        raise ValueError(f"role {role.value} does not take a support function")
    return role, function_slug


def _audit_grant(action: str, user: User, label: str, source: str, actor: User | None) -> None:
    """Every grant and revoke leaves a line: who, whose role, which role, and through what."""
    audit.record(actor.id if actor else None, action, "user", user.id, detail=f"{label} ({source})")


def grant_role(user: User, role: Role, function_slug: str | None = None, source: str = "local",
               actor: User | None = None) -> RoleGrant:
    """Give ``user`` the role (idempotent). Nobody may give themselves a role in a confidential function:
    that takes another administrator, so reading HR cases always involves two people."""
    if role is Role.EMPLOYEE:
        raise ValueError("everyone is an employee; that role is not granted")
    function = get_function(function_slug) if function_slug else None
    for grant in user.role_grants:
        if grant.role == role and grant.function is function and grant.source == source:
            return grant
    if actor is not None and role is Role.AUDITOR and (actor.id == user.id or _made_by(user, actor)):
        # the auditor reads confidential content in a data subject's export: like a confidential function's role
        raise RoleRefused(_l("The auditor role lets its holder read confidential cases in exports: another "
                             "administrator must give it."), "roles")
    if actor is not None and actor.id == user.id and function is not None and function.is_confidential:
        raise RoleRefused(_l("You cannot give yourself a role in %(function)s, which handles confidential "
                             "cases. Ask another administrator to do it.", function=function.name), "roles")
    if actor is not None and function is not None and function.is_confidential and _made_by(user, actor):
        # whoever made a local account knows its password: for them it is like giving themselves the role
        raise RoleRefused(_l("You made this account, so another administrator must give it a role in "
                             "%(function)s, which handles confidential cases.", function=function.name), "roles")
    grant = RoleGrant(role=role.value, function=function, source=source)
    user.role_grants.append(grant)
    db.session.flush()
    _audit_grant("grant", user, grant.label, source, actor)
    return grant


def _made_by(user: User, actor: User) -> bool:
    return user.auth_source == "local" and db.session.scalar(select(audit.AuditEntry.id).where(
        audit.AuditEntry.action == "user_create", audit.AuditEntry.object_type == "user",
        audit.AuditEntry.object_id == str(user.id), audit.AuditEntry.user_id == actor.id)) is not None


def revoke_role(user: User, role: Role, function_slug: str | None = None, source: str = "local",
                actor: User | None = None) -> None:
    """Take a role away; the user's log-in sessions end, so the change holds in every open browser."""
    for grant in list(user.role_grants):
        slug = grant.function.slug if grant.function else None
        if grant.role == role and slug == function_slug and grant.source == source:
            user.role_grants.remove(grant)
            _audit_grant("revoke", user, grant.label, source, actor)
            end_all_sessions(user)
    db.session.flush()


def set_local_roles(user: User, specs: Iterable[str], actor: User | None = None) -> None:
    """Replace the user's locally granted roles with ``specs`` (``role`` or ``role:function``)."""
    _replace_grants(user, {parse_role(spec) for spec in specs}, "local", actor)


def _replace_grants(user: User, wanted: set[tuple[Role, str | None]], source: str,
                    actor: User | None = None) -> None:
    """Make the user's grants from ``source`` exactly ``wanted``; grants from other sources stay."""
    for grant in list(user.role_grants):
        key = (Role(grant.role), grant.function.slug if grant.function else None)
        if grant.source == source and key not in wanted:
            revoke_role(user, *key, source=source, actor=actor)
    for role, slug in sorted(wanted, key=lambda w: (w[0].value, w[1] or "")):
        grant_role(user, role, slug, source=source, actor=actor)


def set_password(user: User, password: str) -> None:
    """A new password ends every log-in session of the user."""
    user.password_hash = generate_password_hash(password)
    end_all_sessions(user)
    db.session.flush()


def set_active(user: User, active: bool) -> None:
    """Activate or deactivate an account; deactivating ends its sessions at once."""
    if user.is_active and not active:
        end_all_sessions(user)
    user.is_active = active
    db.session.flush()


# --- log-in sessions ---------------------------------------------------------------------------------------
def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def open_session(user: User, lifetime: timedelta, remembered: bool = False, user_agent: str = "",
                 address: str = "") -> str:
    """A new log-in session for ``user``; returns its secret (also set as ``user.login_token``). The user's
    expired sessions (with their browser and address) are deleted on the way."""
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id,
                                                  LoginSession.expires_at <= utcnow()))
    raw = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_hash(raw), is_remembered=remembered,
                                user_agent=user_agent[:200], address=address[:64],
                                expires_at=utcnow() + lifetime))
    db.session.flush()
    user.login_token = raw
    return raw


def user_for_session(raw: str) -> User | None:
    """The active user of a live log-in session, or None (ended, expired, unknown or deactivated)."""
    if not raw:
        return None
    found = db.session.execute(_session_user_query(), {"token_hash": _hash(raw), "now": utcnow()}
                               ).unique().scalar_one_or_none()
    if found is None or not found.is_active:
        return None
    found.login_token = raw
    return found


@cache
def _session_user_query() -> Select:
    """One query for the session's user and the user's roles, built once: every request of a logged-in person
    asks it, and building the statement cost more than running it."""
    return (select(User).join(LoginSession, LoginSession.user_id == User.id)
            .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.expires_at > bindparam("now"))
            .options(joinedload(User.role_grants)))


def end_session(raw: str | None) -> None:
    if raw:
        db.session.execute(delete(LoginSession).where(LoginSession.token_hash == _hash(raw)))


def end_all_sessions(user: User) -> None:
    db.session.execute(delete(LoginSession).where(LoginSession.user_id == user.id))


def list_sessions(user: User) -> list[LoginSession]:
    return list(db.session.scalars(select(LoginSession).where(
        LoginSession.user_id == user.id, LoginSession.expires_at > utcnow()).order_by(LoginSession.created_at.desc())))


def create_local_user(
    username: str,
    password: str | None,
    display_name: str = "",
    email: str = "",
    roles: Iterable[str] = (),
    department: str = "",
    title: str = "",
) -> User:
    """A local account (demo users, break-glass administrators). Roles as ``role`` or ``role:function``."""
    username = normalize_username(username)
    if not username:
        raise ValueError("a user name is required")
    if get_user(username) is not None:
        raise UserExists(username)
    user = User(
        username=username, display_name=display_name, email=email, department=department, title=title,
        auth_source="local", password_hash=generate_password_hash(password) if password else None,
    )
    db.session.add(user)
    db.session.flush()
    for spec in roles:
        grant_role(user, *parse_role(spec), actor=None)
    return user


@cache
def _timing_dummy_hash() -> str:
    return generate_password_hash("not a real password")


def authenticate(username: str, password: str, directories: Sequence[LdapDirectory] = ()) -> User:
    """The user whose name and password match, or ``InvalidCredentials`` (``AccountBlocked`` with the directory's
    reason) / ``DirectoryUnavailable``.

    A local account (one with a password hash) is checked locally and never against the directory, so
    break-glass administrators work while the directory is down. Other names go to the directories, in the order
    configured: a name with a domain part (``KOMMUN\\name``, ``name@kommun.se``) to the directory of that domain.
    The password is tried in the first directory that knows the person and nowhere else, and the directory's
    groups map to roles (``group_roles``). Unknown names cost the same hashing work as known ones.
    """
    plain = normalize_username(username)
    if not plain or not password:
        raise InvalidCredentials
    user = get_user(plain)
    if user is not None and user.password_hash:
        if check_password_hash(user.password_hash, password) and user.is_active:
            return _record_login(user)
        raise InvalidCredentials
    login = LoginName.parse(username)
    for directory in _directories_for(login, directories):
        try:
            entry = directory.authenticate(login, password)
        except UnknownUser:
            continue  # not in this directory; a later one may know the name
        if directory.required_group and not _member_of(entry, directory.required_group):
            log.warning("directory %s: %s is not in the required group; log-in refused", directory.name, entry.dn)
            raise AccountBlocked("not_permitted")
        user = sync_directory_user(entry, directory.group_roles, adopt_by_name=directory is directories[0])
        if not user.is_active:
            raise InvalidCredentials
        return _record_login(user)
    if not directories:
        check_password_hash(_timing_dummy_hash(), password)
    raise InvalidCredentials


def _directories_for(login: LoginName, directories: Sequence[LdapDirectory]) -> list[LdapDirectory]:
    """The directories to look for ``login`` in: those of its domain part when it has one that some directory
    names, else those that name no domains (every directory when none names any)."""
    if login.domain:
        picked = [d for d in directories if login.domain in d.domains]
        if picked:
            return picked
        return [d for d in directories if not d.domains]
    return list(directories)


def _member_of(entry: DirectoryEntry, group_dn: str) -> bool:
    return normalize_dn(group_dn) in {normalize_dn(g) for g in entry.groups}


def _free_username(name: str, directory: str) -> str:
    """``name`` when no other Lotsen user has it, else ``name@directory`` (then with a number)."""
    candidates = [name, f"{name}@{directory}", *(f"{name}@{directory}{n}" for n in range(2, 100))]
    return next(candidate for candidate in candidates if get_user(candidate) is None)


def sync_directory_user(entry: DirectoryEntry, group_roles: Mapping[str, list[str]],
                        adopt_by_name: bool = True) -> User:
    """Create or update the local copy of a directory user and replace its directory-granted roles.

    The person is found by the directory's name and stable key, so a renamed account (a new sAMAccountName
    after a marriage) keeps its cases and roles and takes the new name. A user from before stable keys (no
    directory noted) is adopted by its user name only by the first directory (``adopt_by_name``), where those
    users came from; a user of a directory without stable keys only by that directory."""
    name = normalize_username(entry.username)
    user = None
    if entry.directory_id:
        user = db.session.scalar(select(User).where(User.directory == entry.directory,
                                                    User.directory_id == entry.directory_id))
    if user is None:
        earlier = get_user(name)
        if earlier is not None and earlier.auth_source == "ldap" and earlier.directory_id is None and (
                earlier.directory == entry.directory or (earlier.directory is None and adopt_by_name)):
            user = earlier  # made before stable keys (or by a directory without them), by this directory
    if user is None:
        user = User(username=_free_username(name, entry.directory), auth_source="ldap")
        db.session.add(user)
    elif user.username != name and not user.username.startswith(name + "@") and get_user(name) is None:
        audit.record(None, "user.renamed", "user", user.id, f"{user.username} -> {name} ({entry.directory})")
        user.username = name
    user.directory = entry.directory or None
    user.directory_id = entry.directory_id or None
    user.directory_checked_at = utcnow()
    user.display_name = entry.display_name or user.display_name
    user.email = entry.email
    user.department = entry.department
    user.title = entry.title
    db.session.flush()

    wanted: set[tuple[Role, str | None]] = set()
    mapped = {normalize_dn(group_dn): specs for group_dn, specs in group_roles.items()}
    for group_dn in entry.groups:
        for spec in mapped.get(normalize_dn(group_dn), []):
            try:
                wanted.add(parse_role(spec))
            except ValueError as exc:
                log.error("LOTSEN_LDAP_GROUP_ROLES for %s: %s", group_dn, exc)
    known = {f.slug for f in list_functions()}
    valid = {(role, slug) for role, slug in wanted if slug is None or slug in known}
    for role, slug in wanted - valid:
        log.error("LOTSEN_LDAP_GROUP_ROLES: unknown support function %r for role %s", slug, role.value)
    _replace_grants(user, valid, source="ldap")
    return user


RECHECK_RETRY = timedelta(minutes=15)  # after the directory could not be asked


def directory_recheck_due(user: User, hours: float) -> bool:
    """Whether a logged-in directory user is due to be checked against the directory again."""
    if hours <= 0 or user.auth_source != "ldap":
        return False
    checked = user.directory_checked_at
    return checked is None or utcnow() - checked >= timedelta(hours=hours)


def claim_directory_recheck(user: User) -> bool:
    """Take the due check of ``user`` for this request: False when a parallel request took it first."""
    claimed = db.session.execute(
        update(User).where(User.id == user.id, User.directory_checked_at.is_(None) if user.directory_checked_at is None
                           else User.directory_checked_at == user.directory_checked_at)
        .values(directory_checked_at=utcnow()).execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def recheck_directory_user(user: User, directories: Sequence[LdapDirectory], hours: float) -> str | None:
    """Check a logged-in directory user against the directory again: attributes and roles follow it, and a
    person who is disabled, gone or out of the required group loses every session and access token. Returns the
    reason, or None. A directory that cannot be asked is asked again in 15 minutes."""
    directory = next((d for d in directories if d.name == user.directory), None)
    if directory is None and user.directory is None and directories:
        directory = directories[0]  # a user from before directories had names
    if directory is None:
        return None
    try:
        entry = (directory.lookup(user.directory_id) if user.directory_id
                 else directory.lookup_login(LoginName(user.username)))  # a user from before stable keys
    except (DirectoryUnavailable, InvalidCredentials):
        user.directory_checked_at = utcnow() - timedelta(hours=hours) + RECHECK_RETRY
        return None
    reason = None
    if entry is None:
        reason = "removed"
    elif entry.disabled:
        reason = "disabled"
    elif directory.required_group and not _member_of(entry, directory.required_group):
        reason = "not_permitted"
    if reason is None:
        sync_directory_user(entry, directory.group_roles, adopt_by_name=directory is directories[0])
        return None
    end_all_sessions(user)
    for token in list_access_tokens(user):
        revoke_access_token(token)
    user.directory_checked_at = utcnow()
    audit.record(None, "session.ended_by_directory", "user", user.id, f"{directory.name}: {reason}")
    log.warning("directory %s: %s is %s; every Lotsen session and access token of the user ended", directory.name,
                user.username, reason)
    return reason


def directory_warnings(directories: Sequence[LdapDirectory], ask: bool = True) -> list[str]:
    """What is wrong or weak in the directory settings: passwords that would travel in clear, certificates not
    checked, and (``ask``: by asking each directory) mapped or required groups that do not exist."""
    warnings = []
    for directory in directories:
        if directory.clear_text_passwords():
            warnings.append(f"directory {directory.name}: passwords travel unencrypted over ldap:// "
                            "(use ldaps:// or LOTSEN_LDAP_START_TLS=true)")
        if not directory.require_cert:
            warnings.append(f"directory {directory.name}: LOTSEN_LDAP_REQUIRE_CERT is off, so the directory's "
                            "certificate is not checked (anyone in the middle can read passwords)")
        groups = [*directory.group_roles, *([directory.required_group] if directory.required_group else [])]
        if not ask or not groups:
            continue
        try:
            missing = directory.missing_groups(groups)
        except DirectoryUnavailable as exc:
            warnings.append(f"directory {directory.name}: cannot be asked whether its mapped groups exist ({exc})")
            continue
        warnings += [f"directory {directory.name}: the group {dn} in the settings does not exist: its members get "
                     "no roles" for dn in missing]
    return warnings


def _record_login(user: User) -> User:
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def set_user_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.flush()



MAX_TOKEN_DAYS = 365


def create_access_token(user: User, name: str, scopes: Iterable[str] = PERSONAL_SCOPES, days: int = 90,
                        actor: User | None = None) -> tuple[str, AccessToken]:
    """A new personal access token for the API, limited to ``scopes`` and valid for ``days``. The secret
    is returned once; only its hash is kept."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in TOKEN_SCOPES]
    if unknown or not wanted:
        raise TokenInvalid(_l("Choose one or more of the scopes %(scopes)s.", scopes=", ".join(TOKEN_SCOPES)),
                           "scopes")
    if QUEUE_SCOPE in wanted and len(wanted) > 1:
        raise TokenInvalid(_l("A token for the robots' work queue carries only the scope %(scope)s.",
                              scope=QUEUE_SCOPE), "scopes")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenInvalid(_l("A token is valid for 1 to %(days)s days.", days=MAX_TOKEN_DAYS), "days")
    raw = "lot_" + secrets.token_urlsafe(32)
    token = AccessToken(user_id=user.id, name=name.strip()[:100] or "token", token_hash=_hash(raw),
                        scopes=" ".join(wanted), expires_at=utcnow() + timedelta(days=days))
    db.session.add(token)
    db.session.flush()
    audit.record((actor or user).id, "token_create", "access_token", token.id,
                 detail=f"{user.username}: {token.name} [{token.scopes}] {days} d")
    return raw, token


def list_access_tokens(user: User | None = None) -> list[AccessToken]:
    query = select(AccessToken).order_by(AccessToken.created_at.desc())
    if user is not None:
        query = query.where(AccessToken.user_id == user.id)
    return list(db.session.scalars(query))


def revoke_access_token(token: AccessToken, actor: User | None = None) -> None:
    """Delete a token at once; its owner or an operator (CLI) may."""
    audit.record(actor.id if actor else None, "token_revoke", "access_token", token.id,
                 detail=f"{token.user.username}: {token.name}")
    db.session.delete(token)
    db.session.flush()


def token_for(raw: str) -> AccessToken | None:
    """The live token for a bearer secret (its user active, not expired), its use noted; else None."""
    if not raw:
        return None
    token = db.session.scalar(select(AccessToken).where(AccessToken.token_hash == _hash(raw)))
    if token is None or not token.user.is_active or token.expires_at <= utcnow():
        return None
    token.last_used_at = utcnow()
    return token


@dataclass(frozen=True)
class Person:
    """Someone to choose in a form: known to Lotsen, or found in the directory."""

    username: str
    name: str
    department: str


def search_people(text: str, directories: Sequence[LdapDirectory] = (), limit: int = 10) -> list[Person]:
    """People whose name, user name, e-mail or department holds each word of ``text``: Lotsen's users first, then
    the directory's (when configured and reachable) for people who have not logged in yet."""
    words = text.split()[:4]
    if not words or len(text.strip()) < 2:
        return []
    query = select(User).where(User.is_active.is_(True))
    for word in words:
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(column.ilike(like, escape="\\") for column in (
            User.display_name, User.username, User.email, User.department))))
    found = {u.username: Person(u.username, u.name, u.department)
             for u in db.session.scalars(query.order_by(User.display_name).limit(limit))}
    known = {u.directory_id for u in db.session.scalars(query.limit(limit)) if u.directory_id}
    for directory in directories:
        if len(found) >= limit:
            break
        try:
            for entry in directory.search_people(text, limit):
                if entry.directory_id not in known:
                    found.setdefault(normalize_username(entry.username), Person(
                        normalize_username(entry.username), entry.display_name or entry.username, entry.department))
        except DirectoryUnavailable:
            pass  # Lotsen's own users still answer
    return list(found.values())[:limit]


USERS_PAGE = 50


def find_users(text: str = "", page: int = 1) -> tuple[list[User], bool]:
    """One page of users (all, or those matching each word of ``text`` by name, user name, e-mail or
    department), and whether there is a next page."""
    query = select(User)
    for word in text.split()[:4]:
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(*(column.ilike(like, escape="\\") for column in (
            User.display_name, User.username, User.email, User.department))))
    rows = list(db.session.scalars(query.order_by(User.username).offset((page - 1) * USERS_PAGE)
                                   .limit(USERS_PAGE + 1)))
    return rows[:USERS_PAGE], len(rows) > USERS_PAGE


def create_account(actor: User, username: str, password: str, display_name: str, email: str = "",
                   department: str = "", roles: Iterable[str] = ()) -> User:
    """A local account made by an administrator (audited, with the roles it got)."""
    roles = list(roles)
    try:
        user = create_local_user(username, password, display_name, email, (), department)
    except UserExists:
        raise AccountRefused(_l("There is already a user %(username)s.",
                                username=normalize_username(username))) from None
    audit.record(actor.id, "user_create", "user", user.id, detail=f"{user.username} [{' '.join(roles)}]")
    db.session.flush()
    for spec in roles:  # as the administrator: the rules on confidential roles apply
        grant_role(user, *parse_role(spec), actor=actor)
    return user


def specialists_in(function: SupportFunction) -> list[User]:
    """The active specialists of a support function, by name: one query, however many users Lotsen knows."""
    return list(db.session.scalars(_specialists_query(), {"function_id": function.id}))


@cache
def _specialists_query() -> Select:
    granted = select(RoleGrant.user_id).where(RoleGrant.role == Role.SPECIALIST.value,
                                              RoleGrant.function_id == bindparam("function_id"))
    return (select(User).where(User.is_active.is_(True), User.id.in_(granted))
            .options(lazyload(User.role_grants))  # names are what is shown
            .order_by(User.display_name, User.username))
