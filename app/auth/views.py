from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import bp, services
from app.auth.exceptions import DirectoryUnavailable, InvalidCredentials
from app.auth.forms import LoginForm, UserForm
from app.auth.ldap import LdapDirectory
from app.auth.models import User
from app.core.db import db
from app.core.extensions import limiter, login_manager
from app.core.i18n import LANGUAGE_COOKIE, LANGUAGES
from app.core.permissions import Role, role_required

FAILED_LOGIN_STATUS = 401


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never send a user to another host after log-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


def _login_limit() -> str:
    return current_app.config["LOTSEN_LOGIN_RATE_LIMIT"]


def _username_key() -> str:
    return "login-user:" + services.normalize_username(request.form.get("username", ""))


def _failed_login(response) -> bool:
    return response.status_code == FAILED_LOGIN_STATUS


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_username_key, deduct_when=_failed_login,
               scope="login-user")
@limiter.limit(_login_limit, methods=["POST"], deduct_when=_failed_login, scope="login-address")
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(form.next.data) or url_for("selfservice.index"))
    error, status = None, 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(
                form.username.data, form.password.data,
                LdapDirectory.from_config(current_app.config), current_app.config["LOTSEN_LDAP_GROUP_ROLES"],
            )
        except InvalidCredentials:
            db.session.rollback()
            error, status = _("Wrong user name or password."), FAILED_LOGIN_STATUS
        except DirectoryUnavailable:
            db.session.rollback()
            error, status = _("The staff directory cannot be reached right now, so your password cannot be "
                              "checked. Please try again in a few minutes."), 503
        else:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(form.next.data) or url_for("selfservice.index"))
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You are now logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.get("/language/<code>")
def set_language(code: str):
    if code not in LANGUAGES:
        abort(404)
    if current_user.is_authenticated:
        services.set_user_locale(current_user, code)
        db.session.commit()
    response = redirect(_safe_next(request.args.get("next")) or url_for("selfservice.index"))
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.get("/admin/users")
@role_required(Role.ADMIN)
def users():
    return render_template("auth/users.html", users=services.list_users())


def _role_choices() -> list[tuple[str, str]]:
    choices = [(Role.MANAGER.value, _("Manager")), (Role.ADMIN.value, _("Administrator"))]
    for function in services.list_functions():
        choices.append((f"specialist:{function.slug}", _("Specialist in %(function)s", function=function.name)))
        choices.append((f"editor:{function.slug}", _("Editor for %(function)s", function=function.name)))
    return choices


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_user(user_id: int):
    user = db.get_or_404(User, user_id)
    local_roles = [g.label for g in user.role_grants if g.source == "local"]
    form = UserForm(obj=user, data={"roles": local_roles} if request.method == "GET" else None)
    form.roles.choices = _role_choices()
    if form.validate_on_submit():
        if user.id == current_user.id and ("admin" not in form.roles.data or not form.is_active.data):
            flash(_("You cannot remove your own administrator role or deactivate yourself."), "error")
        else:
            if user.auth_source == "local":
                user.display_name = form.display_name.data.strip()
                user.email = form.email.data.strip()
            user.is_active = form.is_active.data
            services.set_local_roles(user, form.roles.data)
            db.session.commit()
            flash(_("Saved the changes for %(name)s.", name=user.name), "success")
            return redirect(url_for("auth.users"))
    ldap_roles = [g for g in user.role_grants if g.source == "ldap"]
    return render_template("auth/edit_user.html", user=user, form=form, ldap_roles=ldap_roles)
