"""Personal data and records: retention rules (and, as they come, the audit log and the archive)."""

from flask import Blueprint

bp = Blueprint("records", __name__)
