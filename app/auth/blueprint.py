"""Users, roles, log-in and log-out (local accounts and LDAP / Active Directory)."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
