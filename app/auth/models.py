"""Users, the support functions they work in, and the roles they hold."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import UTCDateTime, db, utcnow
from app.core.i18n import BilingualName
from app.core.permissions import Role


class SupportFunction(BilingualName, db.Model):
    """A support function (HR, Lön, IT ...) that owns a queue of cases and a set of articles."""

    __tablename__ = "support_function"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    is_confidential: Mapped[bool] = mapped_column(default=False)
    is_first_line: Mapped[bool] = mapped_column(default=False)
    notify_new_cases: Mapped[bool] = mapped_column(default=False)  # mail each new case to ``email``
    sort_order: Mapped[int] = mapped_column(default=0)

    def __repr__(self) -> str:
        return f"<SupportFunction {self.slug}>"


class User(UserMixin, db.Model):
    """A person who logs in; from the directory (``auth_source='ldap'``) or a local account."""

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("directory", "directory_id"),)  # one Lotsen user per person in a directory

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(120), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    auth_source: Mapped[str] = mapped_column(String(10), default="local")
    is_active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # directory users: the directory's name, the person's stable key there (objectGUID / entryUUID, the same
    # after a rename) and when Lotsen last checked the person against it
    directory: Mapped[str | None] = mapped_column(String(40))
    directory_id: Mapped[str | None] = mapped_column(String(100))
    directory_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    role_grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    #: the secret of the log-in session this object was loaded for (not stored; only its hash is)
    login_token: ClassVar[str | None] = None

    def get_id(self) -> str | None:
        """What Flask-Login keeps in the session and the remember cookie: the log-in session's secret, so
        that ending the session on the server ends every copy of the cookie too."""
        return self.login_token

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    @property
    def roles(self) -> set[Role]:
        return {Role.EMPLOYEE} | {Role(grant.role) for grant in self.role_grants}

    @property
    def role_signature(self) -> tuple[tuple[str, str], ...]:
        """Every role the user holds with its function's slug ("" for none), sorted: what ``has_role`` answers
        from, so a key for what is kept per set of roles (the main menu)."""
        return tuple(sorted({(grant.role, grant.function.slug if grant.function else "")
                             for grant in self.role_grants}))

    def has_role(self, role: Role | str, function_slug: str | None = None) -> bool:
        role = Role(role)
        if role is Role.EMPLOYEE:
            return True
        return any(
            grant.role == role
            and (function_slug is None or (grant.function is not None and grant.function.slug == function_slug))
            for grant in self.role_grants
        )

    def functions_for(self, role: Role | str) -> list[SupportFunction]:
        """The support functions in which the user holds ``role``, in display order."""
        found = {g.function.id: g.function for g in self.role_grants if g.role == Role(role) and g.function}
        return sorted(found.values(), key=lambda f: (f.sort_order, f.slug))

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class RoleGrant(db.Model):
    """One role held by one user, for a support function where the role needs one.

    ``source`` says who granted it: ``ldap`` grants are replaced from the directory's groups on every
    log-in, ``local`` grants are kept (made by an administrator or the CLI).
    """

    __tablename__ = "role_grant"
    __table_args__ = (UniqueConstraint("user_id", "role", "function_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10), default="local")

    user: Mapped[User] = relationship(back_populates="role_grants")
    function: Mapped[SupportFunction | None] = relationship(lazy="joined")

    @property
    def label(self) -> str:
        return f"{self.role}:{self.function.slug}" if self.function else self.role


class LoginSession(db.Model):
    """One log-in on one browser. The cookie holds a random secret, the database its hash; log-out,
    a new password, a lost role or a deactivated account delete the rows, and every copy of the cookie
    stops working at once."""

    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    is_remembered: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship(lazy="joined")


PERSONAL_SCOPES = ("forms:submit", "cases:read", "cases:write")
QUEUE_SCOPE = "orders:queue"  # the robots' work queue of approved orders; a token with it carries nothing else
TOKEN_SCOPES = (*PERSONAL_SCOPES, QUEUE_SCOPE)


class AccessToken(db.Model):
    """A personal access token for the JSON API (other systems placing orders as a person): limited to
    its scopes and until its expiry. Only its hash is stored."""

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
