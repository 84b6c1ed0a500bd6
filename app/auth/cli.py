"""``flask --app wsgi users ...``: local accounts and role grants from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.auth import services
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
    """Grant roles (manager, admin, specialist:FUNCTION, editor:FUNCTION) to a user."""
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
    """Take locally granted roles away from a user."""
    user = _existing_user(username)
    for spec in _roles(roles):
        services.revoke_role(user, *services.parse_role(spec))
    db.session.commit()
    click.echo(f"{user.username}: {', '.join(sorted(g.label for g in user.role_grants)) or 'employee'}")


@users_cli.command("token")
@click.argument("username")
@click.argument("name")
def create_token(username: str, name: str) -> None:
    """Create a personal access token for the JSON API (printed once; keep it secret)."""
    user = _existing_user(username)
    raw = services.create_access_token(user, name)
    db.session.commit()
    click.echo(raw)
