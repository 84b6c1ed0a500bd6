"""Users, roles, log-in and log-out (local accounts and LDAP / Active Directory)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.auth import views  # noqa: E402, F401  (registers the routes on bp)
