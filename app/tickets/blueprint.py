"""Cases: asking a question, "Mina ärenden", the specialists' workspace, service levels and e-mail."""

from flask import Blueprint

bp = Blueprint("tickets", __name__)
