"""The portal: start page, self-study articles and search."""

from flask import Blueprint

bp = Blueprint("selfservice", __name__)

from app.selfservice import editor_views, views  # noqa: E402, F401  (registers the routes on bp)
