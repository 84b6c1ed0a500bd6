"""Operations: ``/healthz``, ``/readyz`` and ``/metrics``."""

from flask import Blueprint

bp = Blueprint("ops", __name__)
