"""The portal: start page, self-study articles and search."""

from flask import Blueprint

bp = Blueprint("selfservice", __name__)
