"""Orders through digital forms: drafts, submitting (a case in the handling function's queue), returning to
the manager, approving with a stored, never-changed PDF. Services flush, the caller commits."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import flag_modified

from app.auth.models import User
from app.auth.services import get_function
from app.core import audit, crypto
from app.core.db import add_unless_made, db, utcnow
from app.core.pdf import render_pdf
from app.core.permissions import Role
from app.core.text import as_one_line
from app.core.transactions import DomainError, write_file
from app.forms.identity import parse_identity_number
from app.forms.law import COUNTED_FORMS, Period, Requirement, information_deadlines, missing_requirements
from app.forms.models import FormDocument, FormFollowUp, FormHistory, FormSubmission
from app.forms.registry import FORMS, FormDefinition, get_form
from app.forms.validation import STOCKHOLM, Result, identity_of, identity_text, normalized
from app.tickets import services as tickets
from app.tickets.models import Ticket
from app.tickets.routing import RoutingDecision
from app.tickets.sla import WorkingCalendar

RISK_DAYS = 5  # an order not approved this close to the start risks the seven days of LAS 6 c §
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


def can_requeue(user: User, submission: FormSubmission) -> bool:
    definition = get_form(submission.form_slug)
    return (definition is not None and submission.robot_state == "failed"
            and user.has_role(Role.SPECIALIST, definition.function))


def follow_up_tickets(submission: FormSubmission, reader: User) -> list[Ticket]:
    """The order's follow-up cases that ``reader`` may see (payroll's case is confidential to payroll)."""
    ids = [f.ticket_id for f in submission.follow_ups if f.ticket_id]
    found = db.session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)) if ids else []
    return [t for t in found if tickets.can_view(reader, t)]


def can_complete(user: User, submission: FormSubmission) -> bool:
    """The handling function adds the identity number of an employee sent without one."""
    definition = get_form(submission.form_slug)
    return (definition is not None and submission.status != "draft"
            and bool(((submission.data or {}).get("employee") or {}).get("no_identity_number"))
            and user.has_role(Role.SPECIALIST, definition.function))


@dataclass
class InformationStatus:
    """LAS 6 c §: the written information's deadlines and what the order still lacks."""

    core_due: date
    rest_due: date
    missing: list[Requirement]
    at_risk: bool  # not approved, and the employment starts within RISK_DAYS or has started


def information_status(submission: FormSubmission, today: date | None = None) -> InformationStatus | None:
    if submission.form_slug != "employment-contract":
        return None
    today = today or datetime.now(STOCKHOLM).date()
    try:
        start = date.fromisoformat(((submission.data or {}).get("employment") or {}).get("start_date") or "")
    except ValueError:
        return None
    core, rest = information_deadlines(start)
    return InformationStatus(core, rest, missing_requirements(submission.data or {}),
                             submission.status != "approved" and start - today <= timedelta(days=RISK_DAYS))


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


def _history(submission: FormSubmission, action: str, user: User | None, comment: str = "",
             data: dict | None = None) -> None:
    submission.history.append(FormHistory(action=action, comment=comment, user_id=user.id if user else None,
                                          data=data))


# --- the rules, with the person's earlier employments -------------------------------------------------------
def earlier_periods(person_number: str | None, exclude_id: int | None = None,
                    today: date | None = None) -> list[Period]:
    """The person's fixed-term employments from approved contract orders (a vikariat that ends on a condition
    counts until today); ``source`` is the order's id."""
    if not person_number:
        return []
    today = today or datetime.now(STOCKHOLM).date()
    orders = db.session.scalars(select(FormSubmission).where(
        FormSubmission.person_number == person_number, FormSubmission.form_slug == "employment-contract",
        FormSubmission.status == "approved", FormSubmission.id != (exclude_id or 0)))
    periods = []
    for order in orders:
        employment = (order.data or {}).get("employment") or {}
        if employment.get("form") not in COUNTED_FORMS:
            continue
        try:
            start = date.fromisoformat(employment.get("start_date") or "")
            end = date.fromisoformat(employment["end_date"]) if employment.get("end_date") else today
        except ValueError:
            continue
        periods.append(Period(employment["form"], start, max(start, end), str(order.id)))
    return periods


def check(definition: FormDefinition, data: dict[str, Any], submission: FormSubmission | None = None,
          today: date | None = None) -> Result:
    """The form's rules over ``data``, the conversion rules counted with the person's earlier orders."""
    today = today or datetime.now(STOCKHOLM).date()
    number = identity_of(data.get("employee") or {}, today)
    earlier = earlier_periods(number.normal if number else None, submission.id if submission else None, today)
    return definition.validate(data, today, earlier=earlier)


def sent_versions(submission: FormSubmission) -> list[FormHistory]:
    return [entry for entry in submission.history if entry.data is not None]


def changes_since_last_sent(submission: FormSubmission) -> list[tuple[str, Any, Any]]:
    """``(field path, before, after)`` between the last two versions sent: what a resubmission changed."""
    versions = sent_versions(submission)
    if len(versions) < 2:
        return []
    before, after = versions[-2].data, versions[-1].data
    changes = []
    for section in dict.fromkeys([*before, *after]):
        old, new = before.get(section) or {}, after.get(section) or {}
        for key in dict.fromkeys([*old, *new]):
            if (old.get(key) or None) != (new.get(key) or None):
                changes.append((f"{section}.{key}", old.get(key), new.get(key)))
    return changes


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
               submission: FormSubmission | None = None, submit_token: str | None = None,
               today: date | None = None) -> FormSubmission:
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
    submission.title = as_one_line(definition.title_for(data, today))
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
    today = today or datetime.now(STOCKHOLM).date()
    result = check(definition, data, submission, today)
    if not result.ok:
        raise FormInvalid(result)
    data = normalized(data, today)  # a new object: the stored order and its document hold the normal form
    submission = save_draft(definition, owner, data, submission, submit_token, today)
    number = identity_of(data.get("employee") or {}, today)
    submission.person_number = number.normal if number else None
    resubmitted = submission.status == "returned" and submission.ticket_id is not None
    db.session.flush()
    _claim_for_sending(submission)
    link = order_url(submission)
    if resubmitted:
        ticket = db.session.get(Ticket, submission.ticket_id)
        tickets.add_reply(ticket, owner, str(_l("The order is corrected and sent again: %(link)s", link=link)),
                          public=True, calendar=calendar, mail=mail, uploads=uploads, upload_root=upload_root,
                          max_bytes=max_bytes)
        _history(submission, "resubmitted", owner, data=data)
    else:
        description = str(_l("A new order: %(form)s for %(name)s. Open the order to review it: %(link)s",
                             form=definition.name_sv, name=submission.title.split(": ", 1)[-1], link=link))
        for warning in result.warnings:
            description += f"\n- {warning}"
        decision = RoutingDecision(get_function(definition.function), 1.0, f"form:{definition.slug}")
        ticket = tickets.create_ticket(owner, submission.title, description, category=None, calendar=calendar,
                                       mail=mail, decision=decision, uploads=uploads, upload_root=upload_root,
                                       max_bytes=max_bytes, channel="form", origin_url=link)
        submission.ticket_id = ticket.id
        _history(submission, "submitted", owner, data=data)
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
    with force_locale("sv"):  # the documents are Swedish whoever prints them
        html = render_template(definition.template, data=data, org=organisation, draft=draft,
                               version=version, printed=utcnow(), identity=identity_text,
                               missing=missing_requirements(data) if definition.slug == "employment-contract"
                               else [])
    return render_pdf(html, archival=not draft)


def approve(submission: FormSubmission, reviewer: User, organisation: Organisation, upload_root: Path,
            calendar: WorkingCalendar, mail: tickets.MailContext, acknowledged: bool = False,
            today: date | None = None) -> FormDocument:
    """Approve the order: render its document once, store it with its SHA-256, resolve the case, open the
    form's follow-up cases and put it in the robots' queue. A conversion rule the order passes must be
    ``acknowledged`` by the reviewer."""
    if not can_review(reviewer, submission):
        raise FormForbidden(_l("Only the handling function can approve a submitted order."))
    definition = get_form(submission.form_slug)
    result = check(definition, submission.data, submission, today)
    if result.rule_warnings and not acknowledged:
        raise FormForbidden(_l("The order passes a conversion rule. Read the warning and tick that you have "
                               "checked it before you approve."))
    document = _store_document(submission, definition, reviewer, organisation, upload_root)
    submission.status = "approved"
    submission.approved_at = utcnow()
    submission.approved_by_id = reviewer.id
    comment = f"version {document.version}, SHA-256 {document.sha256}"
    if result.rule_warnings:
        comment += "; " + str(_l("conversion rules checked: %(rules)s", rules=" ".join(result.rule_warnings)))
    _history(submission, "approved", reviewer, comment)
    ticket = db.session.get(Ticket, submission.ticket_id) if submission.ticket_id else None
    if ticket is not None:
        tickets.add_reply(ticket, reviewer, str(_l("The order is approved. The document (version %(version)s) "
                                                   "can be downloaded from the order.", version=document.version)),
                          public=True, calendar=calendar, mail=mail)
        tickets.change_status(ticket, reviewer, "resolved", calendar, mail)
    _open_follow_ups(submission, definition, reviewer, calendar, mail)
    if definition.robot_queue:
        submission.robot_state = "pending"
    db.session.flush()
    return document


def _store_document(submission: FormSubmission, definition: FormDefinition, user: User,
                    organisation: Organisation, upload_root: Path) -> FormDocument:
    version = len(submission.documents) + 1
    pdf = render_document(definition, submission.data, organisation, draft=False, version=version)
    stored = f"{uuid.uuid4().hex}.pdf"
    write_file(upload_root / "forms" / stored, pdf)  # removed again if the request rolls back
    document = FormDocument(version=version, stored_name=stored, sha256=hashlib.sha256(pdf).hexdigest(),
                            size=len(pdf), created_by_id=user.id)
    submission.documents.append(document)
    return document


def _due(calendar: WorkingCalendar, last_day: date, working_days_before: int) -> datetime:
    """The end of the working day ``working_days_before`` working days before ``last_day`` (or the last
    working day on or before it)."""
    day, left = last_day, working_days_before
    while not calendar.is_workday(day) or left:
        if calendar.is_workday(day):
            left -= 1
        day -= timedelta(days=1)
    return calendar.closing_time(day)


def _open_follow_ups(submission: FormSubmission, definition: FormDefinition, reviewer: User,
                     calendar: WorkingCalendar, mail: tickets.MailContext) -> None:
    """One case per follow-up for its function, requested by the ordering manager, due by the last day. The
    cases name the person and the last day, never the identity number (IT and facilities do not need it)."""
    if not definition.follow_ups or any(f.task for f in submission.follow_ups):
        return
    data = submission.data
    last_day = date.fromisoformat(_value(data, definition.last_day_path))
    employee, position = data.get("employee") or {}, data.get("position") or {}
    name = f"{employee.get('first_name', '')} {employee.get('last_name', '')}".strip()
    facts = (f"\n\nArbetstagare: {name}\nBefattning: {position.get('title', '')}, {position.get('unit', '')}"
             f"\nSista anställningsdag: {last_day.isoformat()}\nChef: {position.get('manager', '')}")
    for follow_up in definition.follow_ups:
        decision = RoutingDecision(get_function(follow_up.function), 1.0, f"form:{definition.slug}")
        ticket = tickets.create_ticket(
            submission.owner, as_one_line(f"{follow_up.subject_sv}: {name}")[:200],
            follow_up.description_sv + facts, category=None, calendar=calendar, mail=mail, created_by=reviewer,
            decision=decision, channel="form", submit_token=f"order-{submission.id}-{follow_up.task}")
        ticket.resolution_due_at = _due(calendar, last_day, follow_up.working_days_before)
        submission.follow_ups.append(FormFollowUp(ticket_id=ticket.id, task=follow_up.task))


def _value(data: dict, path: str) -> Any:
    section, key = path.split(".", 1)
    return (data.get(section) or {}).get(key)


def complete_identity_number(submission: FormSubmission, user: User, raw: str, organisation: Organisation,
                             upload_root: Path, today: date | None = None) -> None:
    """Add the identity number of an employee who had none when the order was sent. The number's birth date
    must be the one given; an approved order gets a new version of its document."""
    today = today or datetime.now(STOCKHOLM).date()
    definition = get_form(submission.form_slug)
    if definition is None or not user.has_role(Role.SPECIALIST, definition.function) or submission.status == "draft":
        raise FormForbidden(_l("Only the handling function can complete a sent order."))
    employee = (submission.data or {}).get("employee") or {}
    if not employee.get("no_identity_number"):
        raise FormForbidden(_l("The order already has an identity number."))
    try:
        number = parse_identity_number(raw, today)
    except ValueError as exc:
        raise FormForbidden(exc.args[0]) from None
    if number.birth_date.isoformat() != employee.get("birth_date"):
        raise FormForbidden(_l("The number's birth date (%(number)s) is not the birth date of the order "
                               "(%(order)s). Check the number.", number=number.birth_date.isoformat(),
                               order=employee.get("birth_date")))
    data = normalized({**submission.data, "employee": {**employee, "personnummer": number.normal,
                                                       "no_identity_number": False}}, today)
    submission.data = data
    submission.person_number = number.normal
    submission.title = as_one_line(definition.title_for(data, today))
    ticket = db.session.get(Ticket, submission.ticket_id) if submission.ticket_id else None
    if ticket is not None:  # the case's subject names the order the same way
        ticket.subject = submission.title
    submission.updated_at = utcnow()
    comment = ""
    if submission.status == "approved":
        comment = str(_l("new document version %(version)s",
                         version=_store_document(submission, definition, user, organisation, upload_root).version))
    _history(submission, "completed", user, comment, data=data)
    audit.record(user.id, "identity_completed", "form_submission", submission.id)
    db.session.flush()


def document_path(document: FormDocument, upload_root: Path) -> Path:
    return upload_root / "forms" / document.stored_name


# --- the robots' work queue (RPA) ----------------------------------------------------------------------------
CLAIM_MINUTES = 15
ROBOT_OUTCOMES = ("done", "failed")


class KeyMissing(DomainError):  # noqa: N818
    """A stored identity number that no configured key decrypts: rotating now would lose it."""


def reencrypt_orders() -> int:
    """Write every order's and history entry's identity number again with the first ``LOTSEN_DATA_KEY`` (read
    with any of them), and its keyed hash for finding earlier employments; returns how many orders."""
    count = 0
    for submission in db.session.scalars(select(FormSubmission).execution_options(yield_per=500)):
        if crypto.unreadable(submission.data):
            raise KeyMissing(_l("Order %(id)s cannot be decrypted with the keys in LOTSEN_DATA_KEY: put the old key "
                                "back (after the new one) and run this again.", id=submission.id))
        flag_modified(submission, "data")
        number = ((submission.data or {}).get("employee") or {}).get("personnummer")
        if submission.person_number and number:
            submission.person_number = number  # its keyed hash, with the current key
        count += 1
    for entry in db.session.scalars(select(FormHistory).where(FormHistory.data.is_not(None))):
        if crypto.unreadable(entry.data):
            raise KeyMissing(_l("Order %(id)s cannot be decrypted with the keys in LOTSEN_DATA_KEY: put the old key "
                                "back (after the new one) and run this again.", id=entry.submission_id))
        flag_modified(entry, "data")
    db.session.flush()
    return count


def delete_draft(actor: User, submission: FormSubmission) -> None:
    """A manager throws away a draft of their own that was never sent (nothing is kept of it)."""
    if submission.owner_id != actor.id or submission.status != "draft":
        raise FormForbidden(_l("Only a draft of your own that was never sent can be deleted."))
    db.session.delete(submission)
    db.session.flush()


class ClaimLost(DomainError):  # noqa: N818
    """The claim is not (any more) the order's current one: it expired and another robot took the order."""

    status = 409


def _available(now: datetime):
    return or_(FormSubmission.robot_state == "pending",
               (FormSubmission.robot_state == "claimed") & (FormSubmission.robot_claimed_until < now))


def robot_queue(limit: int = 50) -> list[FormSubmission]:
    """Approved orders waiting for a robot, oldest approval first (a claim that expired is waiting again)."""
    return list(db.session.scalars(select(FormSubmission).where(_available(utcnow()))
                                   .order_by(FormSubmission.approved_at, FormSubmission.id).limit(limit)))


def claim_robot_work(robot: User, key: str | None = None, minutes: int = CLAIM_MINUTES,
                     address: str = "") -> FormSubmission | None:
    """The oldest waiting order, claimed for ``robot`` for ``minutes``: nobody else gets it until the claim
    is reported or expires. The same ``key`` again (a retried request) gives the order it claimed. None when
    the queue is empty. Each claim is audited: the robot reads the whole order."""
    if key:  # the same request again: the claim it made, while it lasts
        again = db.session.scalar(select(FormSubmission).where(
            FormSubmission.robot_claim == key, FormSubmission.robot_claimed_by_id == robot.id,
            FormSubmission.robot_state == "claimed", FormSubmission.robot_claimed_until > utcnow()))
        if again is not None:
            record_view(robot, again, address, action="robot_claim", detail="again")
            return again
    while True:  # another robot may take a candidate at the same moment: try the next until none waits
        now = utcnow()
        candidate = db.session.scalar(select(FormSubmission.id).where(_available(now))
                                      .order_by(FormSubmission.approved_at, FormSubmission.id).limit(1))
        if candidate is None:
            return None
        claim = key or secrets.token_urlsafe(24)
        taken = db.session.execute(
            update(FormSubmission).where(FormSubmission.id == candidate, _available(now))
            .values(robot_state="claimed", robot_claim=claim, robot_claimed_by_id=robot.id,
                    robot_claimed_until=now + timedelta(minutes=minutes),
                    robot_attempts=FormSubmission.robot_attempts + 1)
            .execution_options(synchronize_session=False)).rowcount
        if taken:
            submission = db.session.get(FormSubmission, candidate, populate_existing=True)
            _history(submission, "robot_claimed", robot)
            record_view(robot, submission, address, action="robot_claim")
            db.session.flush()
            return submission


def report_robot_work(submission: FormSubmission, robot: User, claim: str, outcome: str, note: str) -> bool:
    """Done or failed, for the current claim only. Reporting the same outcome again is a no-op (True:
    already reported); a claim that is no longer the order's raises ``ClaimLost``."""
    if outcome not in ROBOT_OUTCOMES:
        raise FormForbidden(_l("The outcome is done or failed."))
    if submission.robot_claim != claim or submission.robot_claimed_by_id != robot.id:
        raise ClaimLost(_l("This claim is no longer valid: it expired and the order was claimed again."))
    if submission.robot_state == outcome:
        return True
    # one conditional change: a claim that expired and was taken over meanwhile changes nothing
    reported = db.session.execute(
        update(FormSubmission).where(FormSubmission.id == submission.id, FormSubmission.robot_claim == claim,
                                     FormSubmission.robot_claimed_by_id == robot.id,
                                     FormSubmission.robot_state == "claimed")
        .values(robot_state=outcome, robot_note=note.strip()[:2000], robot_claimed_until=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(submission)
    if not reported:
        raise ClaimLost(_l("This claim is no longer valid: it expired and the order was claimed again."))
    _history(submission, f"robot_{outcome}", robot, submission.robot_note)
    db.session.flush()
    return False


def requeue_robot_work(submission: FormSubmission, user: User) -> None:
    """Put an order the robot could not finish back in the queue, after someone fixed what stopped it."""
    definition = get_form(submission.form_slug)
    if definition is None or not user.has_role(Role.SPECIALIST, definition.function):
        raise FormForbidden(_l("Only the handling function can put an order back in the robots' queue."))
    if submission.robot_state != "failed":
        raise FormForbidden(_l("Only an order the robot reported as failed can go back in the queue."))
    submission.robot_state, submission.robot_claim = "pending", None
    _history(submission, "robot_requeued", user)
    db.session.flush()
