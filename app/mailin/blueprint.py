"""Mail in: the administrators' pages for mailboxes and for held or failed mail."""

from flask import Blueprint

bp = Blueprint("mailin", __name__)
