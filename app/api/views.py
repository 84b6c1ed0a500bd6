from __future__ import annotations

from flask import jsonify, request, url_for
from flask_babel import force_locale

from app.api import bp
from app.auth.services import user_for_token
from app.core.db import db
from app.forms import services as forms
from app.forms.registry import get_form
from app.tickets.models import Ticket
from app.tickets.view_helpers import calendar, mail_context


def order_url(submission) -> str:
    return url_for("forms.show", submission_id=submission.id, _external=True)


def _error(status: int, code: str, message: str, **extra):
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


@bp.post("/forms/<slug>")
def submit_form(slug: str):
    """Place an order as the token's owner: 201 with the order and its case, 422 with every problem."""
    header = request.headers.get("Authorization", "")
    user = user_for_token(header[7:].strip() if header.lower().startswith("bearer ") else "")
    if user is None:
        return _error(401, "unauthorized", "A valid personal access token is required (Authorization: Bearer ...).")
    definition = get_form(slug)
    if definition is None:
        return _error(404, "not_found", f"There is no form {slug!r}.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "bad_request", "The body must be a JSON object in the form's shape.")
    lang = request.args.get("lang", "en") if request.args.get("lang") in ("sv", "en") else "en"
    with force_locale(lang):
        try:
            submission = forms.submit(definition, user, data, None, calendar(), mail_context(), order_url)
        except forms.FormInvalid as exc:
            db.session.rollback()
            return _error(422, "invalid", "The order has problems.", fields=exc.result.errors,
                          warnings=exc.result.warnings)
        except forms.FormForbidden as exc:
            db.session.rollback()
            return _error(403, "forbidden", str(exc))
        warnings = definition.validate(submission.data, None).warnings
    db.session.commit()
    ticket = db.session.get(Ticket, submission.ticket_id)
    return jsonify({"id": submission.id, "status": submission.status, "case": ticket.number if ticket else None,
                    "url": order_url(submission), "warnings": warnings}), 201
