"""Digital forms (e-tjänster): a registry of forms, the employment contract order first."""

from flask import Blueprint

bp = Blueprint("forms", __name__)
