"""Orders through digital forms: drafts, submitting (a case in the handling function's queue), returning to
the manager, approving with a stored, never-changed PDF. Services flush, the caller commits."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from app.auth.models import User
from app.auth.services import get_function
from app.core import audit
from app.core.db import add_unless_made, db, utcnow
from app.core.pdf import render_pdf
from app.core.permissions import Role
from app.core.text import as_one_line
from app.core.transactions import DomainError, write_file
from app.forms.models import FormDocument, FormHistory, FormSubmission
from app.forms.registry import FORMS, FormDefinition, get_form
from app.forms.validation import Result, parse_personnummer
from app.tickets import services as tickets
from app.tickets.models import Ticket
from app.tickets.routing import RoutingDecision
from app.tickets.sla import WorkingCalendar

READERS = ("hr", "payroll")  # besides the ordering manager, these functions may read orders


class FormInvalid(DomainError):  # noqa: N818
    """The order breaks the form's rules; ``result`` has every problem by field."""

    def __init__(self, result: Result):
        super().__init__(_l("The order has problems. Correct the marked fields."))
        self.result = result


class FormForbidden(DomainError):  # noqa: N818
    """The user may not do that with this order."""


class AlreadySent(DomainError):  # noqa: N818
    """The order was sent already (the same form sent twice, or from two tabs); ``submission`` is it."""

    status = 409

    def __init__(self, submission: FormSubmission):
        super().__init__(_l("This order has already been sent. Here it is."))
        self.submission = submission


@dataclass
class Organisation:
    name: str
    address: str
    org_number: str


# --- who may do what ---------------------------------------------------------------------------------------
def can_view(user: User, submission: FormSubmission) -> bool:
    """The ordering manager; HR and payroll once the order is sent (a draft is the manager's own)."""
    if submission.owner_id == user.id:
        return True
    return submission.status != "draft" and any(user.has_role(Role.SPECIALIST, f) for f in READERS)


def can_edit(user: User, submission: FormSubmission) -> bool:
    return submission.owner_id == user.id and submission.status in ("draft", "returned")


def can_review(user: User, submission: FormSubmission) -> bool:
    definition = get_form(submission.form_slug)
    return (definition is not None and submission.status == "submitted"
            and user.has_role(Role.SPECIALIST, definition.function))


def record_view(user: User, submission: FormSubmission, address: str = "", action: str = "view",
                detail: str = "") -> None:
    """Every look at an order, and every download of its documents, is in the audit log."""
    audit.record(user.id, action, "form_submission", submission.id, detail=detail, address=address)


def submissions_for(user: User) -> list[FormSubmission]:
    return list(db.session.scalars(select(FormSubmission).where(FormSubmission.owner_id == user.id)
                                   .order_by(FormSubmission.updated_at.desc())))


def awaiting_review(user: User) -> list[FormSubmission]:
    slugs = [s for s, d in FORMS.items() if user.has_role(Role.SPECIALIST, d.function)]
    if not slugs:
        return []
    return list(db.session.scalars(select(FormSubmission).where(
        FormSubmission.form_slug.in_(slugs), FormSubmission.status == "submitted")
        .order_by(FormSubmission.submitted_at)))


def _history(submission: FormSubmission, action: str, user: User | None, comment: str = "") -> None:
    submission.history.append(FormHistory(action=action, comment=comment, user_id=user.id if user else None))


# --- drafts and submitting ---------------------------------------------------------------------------------
def find_by_token(owner: User, token: str | None) -> FormSubmission | None:
    if not token:
        return None
    return db.session.scalar(select(FormSubmission).where(FormSubmission.owner_id == owner.id,
                                                          FormSubmission.submit_token == token))


def _new_submission(definition: FormDefinition, owner: User, token: str | None) -> FormSubmission:
    """A new order row, or the one this form (its one-time ``token``) already made, even at the same moment
    in another request."""
    existing = find_by_token(owner, token)
    if existing is not None:
        return existing
    submission = FormSubmission(form_slug=definition.slug, owner=owner, status="draft", submit_token=token)
    return add_unless_made(submission, lambda: find_by_token(owner, token))


def save_draft(definition: FormDefinition, owner: User, data: dict[str, Any],
               submission: FormSubmission | None = None, submit_token: str | None = None) -> FormSubmission:
    """Keep what the manager has written so far, valid or not."""
    if not owner.has_role(definition.submit_role):
        raise FormForbidden(_l("Only managers can order %(form)s.", form=definition.name))
    if submission is None:
        submission = _new_submission(definition, owner, submit_token)
    if submission.status == "submitted" or submission.status == "approved":
        raise AlreadySent(submission)
    if not can_edit(owner, submission):
        raise FormForbidden(_l("This order can no longer be changed."))
    submission.data = data
    # the title is the order's case subject: one line, whatever control characters the fields held
    submission.title = as_one_line(definition.title_for(data))
    submission.updated_at = utcnow()
    _history(submission, "saved", owner)
    db.session.flush()
    return submission


def _claim_for_sending(submission: FormSubmission) -> None:
    """Move the order from draft (or returned) to submitted in one conditional UPDATE, so that of several
    requests sending it at the same moment exactly one goes on; the others get ``AlreadySent``."""
    now = utcnow()
    claimed = db.session.execute(
        update(FormSubmission)
        .where(FormSubmission.id == submission.id, FormSubmission.status.in_(("draft", "returned")))
        .values(status="submitted", submitted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.refresh(submission)
        raise AlreadySent(submission)
    submission.status, submission.submitted_at = "submitted", now


def submit(definition: FormDefinition, owner: User, data: dict[str, Any], submission: FormSubmission | None,
           calendar: WorkingCalendar, mail: tickets.MailContext, order_url, uploads=(), upload_root=None,
           max_bytes: int = 0, today: date | None = None,
           submit_token: str | None = None) -> tuple[FormSubmission, list[str]]:
    """Validate and send the order to the handling function: a new case, or the same case again after a
    return. Returns the order and the rules' warnings; raises ``FormInvalid`` with every problem, and
    ``AlreadySent`` when this order (or this form's ``submit_token``) was sent already: one order, one case,
    one mail, however often the button is pressed."""
    result = definition.validate(data, today)
    if not result.ok:
        raise FormInvalid(result)
    submission = save_draft(definition, owner, data, submission, submit_token)
    pnr, _ = parse_personnummer(data["employee"]["personnummer"], today)
    data["employee"]["personnummer"] = pnr
    submission.data = dict(data)
    resubmitted = submission.status == "returned" and submission.ticket_id is not None
    db.session.flush()
    _claim_for_sending(submission)
    link = order_url(submission)
    if resubmitted:
        ticket = db.session.get(Ticket, submission.ticket_id)
        tickets.add_reply(ticket, owner, str(_l("The order is corrected and sent again: %(link)s", link=link)),
                          public=True, calendar=calendar, mail=mail, uploads=uploads, upload_root=upload_root,
                          max_bytes=max_bytes)
        _history(submission, "resubmitted", owner)
    else:
        description = str(_l("A new order: %(form)s for %(name)s. Open the order to review it: %(link)s",
                             form=definition.name_sv, name=submission.title.split(": ", 1)[-1], link=link))
        for warning in result.warnings:
            description += f"\n- {warning}"
        decision = RoutingDecision(get_function(definition.function), 1.0, f"form:{definition.slug}")
        ticket = tickets.create_ticket(owner, submission.title, description, category=None, calendar=calendar,
                                       mail=mail, decision=decision, uploads=uploads, upload_root=upload_root,
                                       max_bytes=max_bytes)
        submission.ticket_id = ticket.id
        _history(submission, "submitted", owner)
    db.session.flush()
    return submission, result.warnings


def return_to_owner(submission: FormSubmission, reviewer: User, comment: str, calendar: WorkingCalendar,
                    mail: tickets.MailContext) -> None:
    """Send the order back for changes; the comment reaches the manager by the case and e-mail."""
    if not can_review(reviewer, submission):
        raise FormForbidden(_l("Only the handling function can return a submitted order."))
    if not comment.strip():
        raise FormForbidden(_l("Say what needs to change."))
    submission.status = "returned"
    submission.updated_at = utcnow()
    _history(submission, "returned", reviewer, comment.strip())
    ticket = db.session.get(Ticket, submission.ticket_id) if submission.ticket_id else None
    if ticket is not None:
        tickets.add_reply(ticket, reviewer, str(_l("The order is returned for changes: %(comment)s",
                                                   comment=comment.strip())),
                          public=True, calendar=calendar, mail=mail, then_wait=True)
    db.session.flush()


# --- documents ---------------------------------------------------------------------------------------------
def render_document(definition: FormDefinition, data: dict[str, Any], organisation: Organisation,
                    draft: bool, version: int | None = None) -> bytes:
    """The form's PDF; a draft carries a large UTKAST mark."""
    return render_pdf(render_template(definition.template, data=data, org=organisation, draft=draft,
                                      version=version, printed=utcnow()))


def approve(submission: FormSubmission, reviewer: User, organisation: Organisation, upload_root: Path,
            calendar: WorkingCalendar, mail: tickets.MailContext) -> FormDocument:
    """Approve the order: render its document once, store it with its SHA-256, and resolve the case."""
    if not can_review(reviewer, submission):
        raise FormForbidden(_l("Only the handling function can approve a submitted order."))
    definition = get_form(submission.form_slug)
    version = len(submission.documents) + 1
    pdf = render_document(definition, submission.data, organisation, draft=False, version=version)
    stored = f"{uuid.uuid4().hex}.pdf"
    write_file(upload_root / "forms" / stored, pdf)  # removed again if the approval rolls back
    document = FormDocument(version=version, stored_name=stored, sha256=hashlib.sha256(pdf).hexdigest(),
                            size=len(pdf), created_by_id=reviewer.id)
    submission.documents.append(document)
    submission.status = "approved"
    submission.approved_at = utcnow()
    submission.approved_by_id = reviewer.id
    _history(submission, "approved", reviewer, f"version {version}, SHA-256 {document.sha256}")
    ticket = db.session.get(Ticket, submission.ticket_id) if submission.ticket_id else None
    if ticket is not None:
        tickets.add_reply(ticket, reviewer, str(_l("The order is approved. The document (version %(version)s) "
                                                   "can be downloaded from the order.", version=version)),
                          public=True, calendar=calendar, mail=mail)
        tickets.change_status(ticket, reviewer, "resolved", calendar, mail)
    db.session.flush()
    return document


def document_path(document: FormDocument, upload_root: Path) -> Path:
    return upload_root / "forms" / document.stored_name
