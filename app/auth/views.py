from __future__ import annotations

import time
from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from limits import parse_many

from app.auth import services
from app.auth.blueprint import bp
from app.auth.exceptions import AccountBlocked, DirectoryUnavailable, InvalidCredentials
from app.auth.forms import LoginForm, NewUserForm, TokenForm, UserForm
from app.auth.ldap import LoginName, directories_from_config
from app.auth.models import AccessToken, User
from app.core import metrics
from app.core.db import db
from app.core.extensions import limiter, login_manager, process_share
from app.core.forms import ConfirmForm
from app.core.i18n import LANGUAGE_COOKIE, LANGUAGES
from app.core.permissions import Role, role_required
from app.core.security import local_path
from app.core.transactions import commit_apart

FAILED_LOGIN_STATUS = 401


@login_manager.user_loader
def load_user(token: str) -> User | None:
    return services.user_for_session(token)


@bp.before_app_request
def recheck_directory_user():
    """A logged-in directory user (or the owner of an API access token) due for a check is looked up in the
    directory before the request's own work; one who is disabled, removed or out of the required group is logged
    out and loses every session and token. The check's outcome is committed
    at once, on its own: whatever the request then does, or however it ends, the check is not repeated until
    it is due again (and not by several requests at once)."""
    hours = current_app.config["LOTSEN_LDAP_RECHECK_HOURS"]
    if hours <= 0 or request.endpoint in (None, "static", "ops.healthz", "ops.readyz", "ops.metrics_page"):
        return
    user = current_user._get_current_object() if current_user.is_authenticated else None
    header = request.headers.get("Authorization", "")
    if user is None and header.lower().startswith("bearer "):  # a robot with a person's access token
        token = g.lotsen_bearer_token = services.token_for(header[7:].strip())  # the API reuses it
        user = token.user if token else None
    if user is None or not services.directory_recheck_due(user, hours) or not services.claim_directory_recheck(user):
        return
    commit_apart()  # the claim, before the directory is asked: no lock is held while it answers
    ended = services.recheck_directory_user(user, directories_from_config(current_app.config), hours)
    commit_apart()
    if ended:
        logout_user()
        session.clear()
        g.lotsen_bearer_token = None  # its token is revoked with the rest


def _pair_limit() -> str:
    return process_share(current_app.config["LOTSEN_LOGIN_RATE_LIMIT"])


def _address_limit() -> str:
    return process_share(current_app.config["LOTSEN_LOGIN_ADDRESS_LIMIT"])


def _typed_username() -> str:
    """The account a log-in is for, whichever form it was typed in (``KOMMUN\\name`` and ``name@domain`` count
    as ``name``), so that the forms do not multiply the limits."""
    return services.normalize_username(LoginName.parse(request.form.get("username", "")).local_part)


def _pair_key() -> str:
    """Failures count per user name *and* address: someone else's failures never lock a person out."""
    return f"login-pair:{_typed_username()}@{request.remote_addr or ''}"


def _failed_login(response) -> bool:
    return response.status_code == FAILED_LOGIN_STATUS


ACCOUNT_WINDOW = parse_many("100 per 15 minutes")[0]  # one account's failures, from any address


def _account_key() -> tuple[str, str]:
    return "login-account", _typed_username()


def _account_delay() -> float:
    """Seconds to wait before checking this account's password: nothing at first, then doubling with every
    failure from any address beyond ``LOTSEN_LOGIN_SLOWDOWN_AFTER`` in 15 minutes, up to
    ``LOTSEN_LOGIN_MAX_DELAY``. Guessing slows to a crawl, while the right password still gets in."""
    if not limiter.enabled:
        return 0.0
    failures = ACCOUNT_WINDOW.amount - limiter.limiter.get_window_stats(ACCOUNT_WINDOW, *_account_key()).remaining
    failures *= current_app.config.get("LOTSEN_RATELIMIT_PROCESSES", 1)  # this process sees its share of them
    beyond = failures - current_app.config["LOTSEN_LOGIN_SLOWDOWN_AFTER"]
    return 0.0 if beyond < 0 else min(current_app.config["LOTSEN_LOGIN_MAX_DELAY"], 0.25 * 2 ** beyond)


def _record_account_failure() -> None:
    if limiter.enabled:
        limiter.limiter.hit(ACCOUNT_WINDOW, *_account_key())


def _landing(user) -> str:
    """Where a log-in lands without a page asked for: specialists on their queue, everyone else on the start."""
    return url_for("tickets.workspace") if user.has_role(Role.SPECIALIST) else url_for("selfservice.index")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_pair_limit, methods=["POST"], key_func=_pair_key, deduct_when=_failed_login,
               scope="login-pair")
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed_login, scope="login-address")
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(local_path(form.next.data) or url_for("selfservice.index"))
    error, status = None, 200
    if form.validate_on_submit():
        time.sleep(_account_delay())
        try:
            user = services.authenticate(form.username.data, form.password.data,
                                         directories_from_config(current_app.config))
        except AccountBlocked as exc:
            _record_account_failure()
            metrics.LOGIN_FAILURES.inc()
            error, status = _blocked_message(exc.reason), FAILED_LOGIN_STATUS
        except InvalidCredentials:
            _record_account_failure()
            metrics.LOGIN_FAILURES.inc()
            error, status = _("Wrong user name or password."), FAILED_LOGIN_STATUS
        except DirectoryUnavailable:
            metrics.DIRECTORY_ERRORS.inc()
            error, status = _("The staff directory cannot be reached right now, so your password cannot be "
                              "checked. Please try again in a few minutes."), 503
        else:
            remember = bool(form.remember.data)
            config = current_app.config
            lifetime = (timedelta(days=config["LOTSEN_REMEMBER_DAYS"]) if remember
                        else timedelta(hours=config["LOTSEN_SESSION_HOURS"]))
            session.clear()  # a new session, with a new CSRF secret, for every log-in
            services.open_session(user, lifetime, remember, request.user_agent.string, request.remote_addr or "")
            login_user(user, remember=remember, duration=lifetime)
            return redirect(local_path(form.next.data) or _landing(user))
    return render_template("auth/login.html", form=form, error=error), status


def _blocked_message(reason: str) -> str:
    """What a person can do when the directory accepted the password but refuses the log-in."""
    messages = {
        "password_expired": _("Your password has expired. Change it on a work computer (Ctrl+Alt+Delete, "
                              "\"Change a password\") or at the IT service desk, then log in with the new one."),
        "must_change_password": _("You must choose a new password before you can log in. Log in on a work "
                                  "computer and change it there, or ask the IT service desk."),
        "locked": _("Your account is locked after too many wrong passwords. Wait a while and try again, or "
                    "contact the IT service desk to have it unlocked."),
        "disabled": _("Your account is disabled. Contact your manager or the IT service desk."),
        "account_expired": _("Your account has expired. Contact your manager or the IT service desk."),
        "not_now": _("Your account may not log in at this time of day. Contact the IT service desk."),
        "not_here": _("Your account may not log in from here. Contact the IT service desk."),
        "not_permitted": _("Your account does not have access to Lotsen. Contact your manager or the IT "
                           "service desk."),
    }
    return messages.get(reason, _("Wrong user name or password."))


@bp.post("/logout")
@login_required
def logout():
    services.end_session(current_user.login_token)
    logout_user()
    session.clear()
    flash(_("You are now logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.get("/people/search")
@login_required
def people_search():
    """People to choose as you type (registering a case, asking for a colleague): specialists and managers."""
    if not (current_user.has_role(Role.SPECIALIST) or current_user.has_role(Role.MANAGER)):
        abort(403)
    text = (request.args.get("q") or "")[:100]
    people = services.search_people(text, directories_from_config(current_app.config))
    return {"people": [{"username": p.username, "name": p.name, "department": p.department} for p in people]}


@bp.get("/language/<code>")
def set_language(code: str):
    if code not in LANGUAGES:
        abort(404)
    if current_user.is_authenticated:
        services.set_user_locale(current_user, code)
    response = redirect(local_path(request.args.get("next")) or url_for("selfservice.index"))
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


@bp.route("/admin/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users():
    """Find users by name, user name, e-mail or department, page through them, and make local accounts."""
    form = NewUserForm()
    form.roles.choices = _role_choices()
    if form.validate_on_submit():
        try:
            made = services.create_account(current_user, form.username.data, form.password.data,
                                           form.display_name.data, form.email.data or "",
                                           form.department.data or "", form.roles.data)
        except (services.AccountRefused, services.RoleRefused) as exc:
            form.username.errors.append(str(exc))
        else:
            flash(_("The account %(username)s is made.", username=made.username), "success")
            return redirect(url_for("auth.edit_user", user_id=made.id))
    text = (request.args.get("q") or "")[:100]
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    found, more = services.find_users(text, page)
    return render_template("auth/users.html", users=found, form=form, q=text, page=page, more=more,
                           role_label=role_label), 400 if form.errors else 200


def role_label(label: str) -> str:
    """A role code as people read it: ``specialist:hr`` is "Specialist in HR"."""
    names = {f.slug: f.name for f in services.list_functions()}
    name, _sep, function = label.partition(":")
    if name == "specialist":
        return _("Specialist in %(function)s", function=names.get(function, function))
    if name == "editor":
        return _("Editor for %(function)s", function=names.get(function, function))
    if name == "lead":
        return _("Lead of %(function)s", function=names.get(function, function))
    return {"manager": _("Manager"), "admin": _("Administrator"), "auditor": _("Auditor (reads the audit log)")}.get(
        name, label)


def _role_choices() -> list[tuple[str, str]]:
    choices = [(Role.MANAGER.value, _("Manager")), (Role.ADMIN.value, _("Administrator")),
               (Role.AUDITOR.value, _("Auditor (reads the audit log)"))]
    for function in services.list_functions():
        choices.append((f"specialist:{function.slug}", _("Specialist in %(function)s", function=function.name)))
        choices.append((f"editor:{function.slug}", _("Editor for %(function)s", function=function.name)))
        choices.append((f"lead:{function.slug}", _("Lead of %(function)s", function=function.name)))
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
            form.roles.errors.append(_("You cannot remove your own administrator role or deactivate yourself."))
        else:
            if user.auth_source == "local":
                user.display_name = form.display_name.data.strip()
                user.email = form.email.data.strip()
            try:
                services.set_active(user, form.is_active.data)
                services.set_local_roles(user, form.roles.data, actor=current_user)
            except services.RoleRefused as exc:
                form.roles.errors.append(str(exc))
            else:
                flash(_("Saved the changes for %(name)s.", name=user.name), "success")
                return redirect(url_for("auth.users"))
    ldap_roles = [g for g in user.role_grants if g.source == "ldap"]
    return render_template("auth/edit_user.html", user=user, form=form,
                           ldap_roles=ldap_roles), 400 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form, new_token = TokenForm(), None
    if form.validate_on_submit():
        try:
            new_token, _token = services.create_access_token(current_user, form.name.data, form.scopes.data,
                                                             int(form.days.data))
        except services.TokenInvalid as exc:
            form.scopes.errors.append(str(exc))
        else:
            form = TokenForm(formdata=None)
    return render_template("auth/account.html", form=form, new_token=new_token,
                           tokens=services.list_access_tokens(current_user),
                           sessions=services.list_sessions(current_user)), 400 if form.errors else 200


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    token = db.session.get(AccessToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.revoke_access_token(token, current_user)
    flash(_("The token %(name)s no longer works.", name=token.name), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/end")
@login_required
def end_sessions():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.end_all_sessions(current_user)
    logout_user()
    session.clear()
    flash(_("You are logged out on every computer and phone."), "success")
    return redirect(url_for("auth.login"))
