"""Reports: dashboards per support function and for the whole desk, departments' use, people's own figures."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")
