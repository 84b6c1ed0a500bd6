"""The JSON API (/api/v1): thin, it calls the same services as the pages."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")
