"""``flask --app wsgi users ...``: local accounts and role grants from the command line."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from app.auth import services
from app.auth.ldap import directories_from_config
from app.auth.models import TOKEN_SCOPES, AccessToken
from app.core.db import db

users_cli = AppGroup("users", help="Manage Lotsen users and their roles.")

MIN_PASSWORD_LENGTH = 10


def _check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.BadParameter(f"use at least {MIN_PASSWORD_LENGTH} characters", param_hint="password")
    return password


def _roles(specs: tuple[str, ...]) -> tuple[str, ...]:
    for spec in specs:
        try:
            services.parse_role(spec)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--role") from exc
    return specs


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "display_name", default="", help="Display name, e.g. 'Anna Andersson'.")
@click.option("--email", default="")
@click.option("--role", "roles", multiple=True,
              help="manager, admin, specialist:FUNCTION or editor:FUNCTION; repeat for several.")
@click.password_option(help="Prompted for when not given.")
def create_user(username: str, display_name: str, email: str, roles: tuple[str, ...], password: str) -> None:
    """Create a local account (for example a break-glass administrator)."""
    _check_password(password)
    try:
        user = services.create_local_user(username, password, display_name, email, _roles(roles))
    except services.UserExists:
        raise click.ClickException(f"user {services.normalize_username(username)!r} already exists") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"created {user.username} ({', '.join(sorted(r.value for r in user.roles))})")


@users_cli.command("list")
def list_users() -> None:
    """List users with their source and roles."""
    for user in services.list_users():
        roles = ", ".join(sorted(f"{g.label} ({g.source})" for g in user.role_grants)) or "employee"
        state = "" if user.is_active else " [inactive]"
        click.echo(f"{user.username:24} {user.auth_source:6} {user.name:30} {roles}{state}")


def _existing_user(username: str):
    user = services.get_user(username)
    if user is None:
        raise click.ClickException(f"no user {services.normalize_username(username)!r}")
    return user


@users_cli.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for when not given.")
def set_password(username: str, password: str) -> None:
    """Set the password of a local account."""
    user = _existing_user(username)
    services.set_password(user, _check_password(password))
    db.session.commit()
    click.echo(f"password set for {user.username}")


@users_cli.command("grant")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
def grant(username: str, roles: tuple[str, ...]) -> None:
    """Grant roles (manager, admin, specialist:FUNCTION, editor:FUNCTION) to a user (written to the audit log)."""
    user = _existing_user(username)
    try:
        for spec in _roles(roles):
            services.grant_role(user, *services.parse_role(spec))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{user.username}: {', '.join(sorted(g.label for g in user.role_grants))}")


@users_cli.command("revoke")
@click.argument("username")
@click.argument("roles", nargs=-1, required=True)
def revoke(username: str, roles: tuple[str, ...]) -> None:
    """Take locally granted roles away from a user (written to the audit log; the user's sessions end)."""
    user = _existing_user(username)
    for spec in _roles(roles):
        services.revoke_role(user, *services.parse_role(spec))
    db.session.commit()
    click.echo(f"{user.username}: {', '.join(sorted(g.label for g in user.role_grants)) or 'employee'}")


tokens_cli = AppGroup("tokens", help="Personal access tokens for the JSON API.")
users_cli.add_command(tokens_cli)


@tokens_cli.command("create")
@click.argument("username")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, type=click.Choice(TOKEN_SCOPES), required=True,
              help="What the token may do; repeat for several.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(1, services.MAX_TOKEN_DAYS),
              help="Days until the token expires.")
def create_token(username: str, name: str, scopes: tuple[str, ...], days: int) -> None:
    """Create a personal access token (printed once; keep it secret)."""
    user = _existing_user(username)
    try:
        raw, token = services.create_access_token(user, name, scopes, days)
    except services.TokenInvalid as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(raw)
    click.echo(f"token {token.id} for {user.username}: {token.scopes}, expires {token.expires_at:%Y-%m-%d}", err=True)


@tokens_cli.command("list")
@click.argument("username", required=False)
def list_tokens(username: str | None) -> None:
    """List access tokens (all, or one user's): id, owner, name, scopes, expiry and last use."""
    user = _existing_user(username) if username else None
    for token in services.list_access_tokens(user):
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        click.echo(f"{token.id:6} {token.user.username:20} {token.name:24} {token.scopes:40} "
                   f"expires {token.expires_at:%Y-%m-%d}  {used}")


@tokens_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int) -> None:
    """Revoke (delete) a token at once."""
    token = db.session.get(AccessToken, token_id)
    if token is None:
        raise click.ClickException(f"no token {token_id}")
    services.revoke_access_token(token)
    db.session.commit()
    click.echo(f"revoked token {token_id} ({token.name})")


@users_cli.command("check-directory")
def check_directory() -> None:
    """Check the directory settings: reach each directory with the service account, say where passwords would
    travel in clear or certificates go unchecked, and list mapped groups that do not exist."""
    directories = directories_from_config(current_app.config)
    if not directories:
        click.echo("LDAP is off (LOTSEN_LDAP_URI is empty): only local accounts log in.")
        return
    warnings = services.directory_warnings(directories)
    for directory in directories:
        click.echo(f"{directory.name}: {directory.uri} (domains: {', '.join(directory.domains) or 'any'})")
    for warning in warnings:
        click.echo(f"WARNING: {warning}", err=True)
    if warnings:
        raise SystemExit(1)
    click.echo("The directory settings look right.")
