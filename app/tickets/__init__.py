"""Cases: asking a question, "Mina ärenden", the specialists' workspace, service levels and e-mail."""

from flask import Blueprint

bp = Blueprint("tickets", __name__)

from app.tickets import admin_views, views, workspace_views  # noqa: E402, F401  (registers the routes on bp)
