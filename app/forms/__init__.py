"""Digital forms (e-tjänster): a registry of forms, the employment contract order first."""

from flask import Blueprint

bp = Blueprint("forms", __name__)

from app.forms import views  # noqa: E402, F401  (registers the routes on bp)
