"""Entry point: ``gunicorn wsgi:app`` in production, ``flask --app wsgi ...`` for commands."""

import sys

from app import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    sys.exit(f"Lotsen configuration error: {exc}")
