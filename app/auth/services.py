"""Accounts, roles and log-in. Services flush, the caller commits."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable, Mapping
from functools import cache

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from app.auth.exceptions import InvalidCredentials
from app.auth.ldap import DirectoryEntry, LdapDirectory
from app.auth.models import AccessToken, RoleGrant, SupportFunction, User
from app.core.db import db, utcnow
from app.core.permissions import Role

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


def normalize_username(raw: str) -> str:
    return (raw or "").strip().lower()


def get_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalize_username(username)))


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def list_functions() -> list[SupportFunction]:
    return list(db.session.scalars(select(SupportFunction).order_by(SupportFunction.sort_order)))


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


def grant_role(user: User, role: Role, function_slug: str | None = None, source: str = "local") -> RoleGrant:
    """Give ``user`` the role (idempotent)."""
    if role is Role.EMPLOYEE:
        raise ValueError("everyone is an employee; that role is not granted")
    function = get_function(function_slug) if function_slug else None
    for grant in user.role_grants:
        if grant.role == role and grant.function is function and grant.source == source:
            return grant
    grant = RoleGrant(role=role.value, function=function, source=source)
    user.role_grants.append(grant)
    db.session.flush()
    return grant


def revoke_role(user: User, role: Role, function_slug: str | None = None, source: str = "local") -> None:
    for grant in list(user.role_grants):
        slug = grant.function.slug if grant.function else None
        if grant.role == role and slug == function_slug and grant.source == source:
            user.role_grants.remove(grant)
    db.session.flush()


def set_local_roles(user: User, specs: Iterable[str]) -> None:
    """Replace the user's locally granted roles with ``specs`` (``role`` or ``role:function``)."""
    _replace_grants(user, {parse_role(spec) for spec in specs}, source="local")


def _replace_grants(user: User, wanted: set[tuple[Role, str | None]], source: str) -> None:
    """Make the user's grants from ``source`` exactly ``wanted``; grants from other sources stay."""
    for grant in list(user.role_grants):
        key = (Role(grant.role), grant.function.slug if grant.function else None)
        if grant.source == source and key not in wanted:
            user.role_grants.remove(grant)
    for role, slug in wanted:
        grant_role(user, role, slug, source=source)


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password)
    db.session.flush()


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
        grant_role(user, *parse_role(spec))
    return user


@cache
def _timing_dummy_hash() -> str:
    return generate_password_hash("not a real password")


def authenticate(
    username: str,
    password: str,
    directory: LdapDirectory | None = None,
    group_roles: Mapping[str, list[str]] | None = None,
) -> User:
    """The user whose name and password match, or ``InvalidCredentials`` / ``DirectoryUnavailable``.

    A local account (one with a password hash) is checked locally and never against the directory, so
    break-glass administrators work while the directory is down. Other names go to the directory when one
    is configured, and ``group_roles`` (group DN -> role specs) maps its groups to roles. Unknown names
    cost the same hashing work as known ones.
    """
    username = normalize_username(username)
    if not username or not password:
        raise InvalidCredentials
    user = get_user(username)
    if user is not None and user.password_hash:
        if check_password_hash(user.password_hash, password) and user.is_active:
            return _record_login(user)
        raise InvalidCredentials
    if directory is None:
        check_password_hash(_timing_dummy_hash(), password)
        raise InvalidCredentials
    entry = directory.authenticate(username, password)
    user = sync_directory_user(entry, group_roles or {})
    if not user.is_active:
        raise InvalidCredentials
    return _record_login(user)


def sync_directory_user(entry: DirectoryEntry, group_roles: Mapping[str, list[str]]) -> User:
    """Create or update the local copy of a directory user and replace its directory-granted roles."""
    user = get_user(entry.username)
    if user is None:
        user = User(username=normalize_username(entry.username), auth_source="ldap")
        db.session.add(user)
    user.display_name = entry.display_name or user.display_name
    user.email = entry.email
    user.department = entry.department
    user.title = entry.title
    db.session.flush()

    wanted: set[tuple[Role, str | None]] = set()
    for group_dn in entry.groups:
        for spec in group_roles.get(group_dn.strip().lower(), []):
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


def _record_login(user: User) -> User:
    user.last_login_at = utcnow()
    db.session.flush()
    return user


def set_user_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.flush()



def create_access_token(user: User, name: str) -> str:
    """A new personal access token for the API; the token itself is shown once and only its hash kept."""
    raw = "lot_" + secrets.token_urlsafe(32)
    db.session.add(AccessToken(user_id=user.id, name=name.strip()[:100] or "token",
                               token_hash=hashlib.sha256(raw.encode()).hexdigest()))
    db.session.flush()
    return raw


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to (and note its use), or None."""
    if not raw:
        return None
    token = db.session.scalar(select(AccessToken).where(
        AccessToken.token_hash == hashlib.sha256(raw.encode()).hexdigest()))
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user
