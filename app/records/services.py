"""Retention (gallring): cases and orders culled under the administrators' rules, drafts nobody sent and old sent
mail removed, each run logged by rule and count, never by content. Services flush, the caller commits; files go
after the commit (``remove_file_after_commit``)."""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import logging
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, delete, exists, func, select, update

from app.auth.models import SupportFunction, User
from app.core import audit
from app.core.db import db
from app.core.mail import OutboxMessage
from app.core.permissions import Role
from app.core.transactions import DomainError, remove_file_after_commit
from app.forms.models import FormFollowUp, FormHistory, FormSubmission
from app.forms.services import document_path
from app.mailin.models import InboundMail
from app.mailin.services import EXTERNAL_SOURCE
from app.records.models import RETENTION_ACTIONS, RETENTION_KINDS, RetentionRule
from app.selfservice.models import SearchLog
from app.tickets.models import Category, Notification, Ticket, TicketAttachment, TicketEvent, TicketPresence
from app.tickets.services import holds_confidential

log = logging.getLogger(__name__)

ANONYMISED_USERNAME = "anonymiserad"
ANONYMISED_SUBJECT = "Anonymiserat ärende (anonymised case)"
ANONYMISED_ORDER = "Anonymiserad beställning (anonymised order)"
CULLED_STATUSES = ("resolved", "closed")
#: what an anonymised case's timeline keeps of each step: codes, never text (reasons, titles, replies)
KEPT_EVENT_DATA = {"status": ("old", "new"), "priority": ("old", "new"), "reroute": ("old", "new"),
                   "assign": ("old", "new"), "merged": ("target",), "merge_in": ("source",), "rating": ("rating",),
                   "created": ("channel",), "legal_hold": ("on",)}
BATCH = 200


class RetentionRefused(DomainError):  # noqa: N818
    """A retention rule the rules do not allow."""


@dataclass
class CullCount:
    """What one rule culled (or would cull) in a run: never which cases, only how many."""

    rule: str
    action: str
    count: int


# --- the rules ------------------------------------------------------------------------------------------------
def list_rules() -> list[RetentionRule]:
    return list(db.session.scalars(select(RetentionRule).order_by(RetentionRule.kind, RetentionRule.form_slug,
                                                                 RetentionRule.function_id, RetentionRule.id)))


def describe_rule(rule: RetentionRule) -> str:
    """The rule in a log line: what it covers and what it does, in words that name no person."""
    if rule.kind == "form":
        subject = f"form {rule.form_slug}"
    else:
        subject = f"cases of {rule.function.slug}" + (f" ({rule.category.slug})" if rule.category else "")
    return f"rule {rule.id}: {subject}, {rule.action} after {rule.months} months"


def save_rule(actor: User, kind: str, months: int, action: str, decision: str = "",
              function: SupportFunction | None = None, category: Category | None = None,
              form_slug: str | None = None) -> RetentionRule:
    """Add a rule, or change the one for the same cases or form (one rule per function and category, or form)."""
    if kind not in RETENTION_KINDS or action not in RETENTION_ACTIONS:
        raise RetentionRefused(_l("Unknown kind of rule or action."))
    if not 1 <= months <= 1200:
        raise RetentionRefused(_l("The time must be between 1 and 1,200 months."), field="months")
    if kind == "case":
        if function is None:
            raise RetentionRefused(_l("Choose the support function whose cases the rule covers."), field="function")
        if category is not None and category.function_id != function.id:
            raise RetentionRefused(_l("The category belongs to another support function."), field="category")
        form_slug = None
    else:
        if not form_slug:
            raise RetentionRefused(_l("Choose the form whose orders the rule covers."), field="form_slug")
        function = category = None
    rule = db.session.scalar(select(RetentionRule).where(
        RetentionRule.kind == kind,
        RetentionRule.function_id.is_(None) if function is None else RetentionRule.function_id == function.id,
        RetentionRule.category_id.is_(None) if category is None else RetentionRule.category_id == category.id,
        RetentionRule.form_slug.is_(None) if form_slug is None else RetentionRule.form_slug == form_slug))
    if rule is None:
        rule = RetentionRule(kind=kind, function=function, category=category, form_slug=form_slug, months=months,
                             action=action)
        db.session.add(rule)
    rule.months, rule.action, rule.decision = months, action, decision.strip()[:200]
    db.session.flush()
    audit.record(actor.id, "retention.rule_saved", "retention_rule", rule.id, describe_rule(rule))
    return rule


def delete_rule(actor: User, rule: RetentionRule) -> None:
    audit.record(actor.id, "retention.rule_deleted", "retention_rule", rule.id, describe_rule(rule))
    db.session.delete(rule)
    db.session.flush()


# --- what is due ----------------------------------------------------------------------------------------------
def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the last day of a shorter month)."""
    year, month = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _due_cases(rule: RetentionRule, now: datetime) -> Select:
    """The ids of the cases ``rule`` culls now: resolved or closed long enough ago, no legal hold, not yet done;
    a function-wide rule leaves the categories that have rules of their own."""
    ended = func.coalesce(Ticket.resolved_at, Ticket.closed_at)  # merged and closed cases have no resolution
    query = (select(Ticket.id).where(Ticket.function_id == rule.function_id,
                                     Ticket.status.in_(CULLED_STATUSES), ended.is_not(None),
                                     ended <= months_before(now, rule.months), Ticket.legal_hold.is_(False))
             .order_by(Ticket.id))
    if rule.action == "anonymise":  # not yet, or written to since (a late note is culled too)
        query = query.where(Ticket.anonymised_at.is_(None) | (Ticket.last_activity_at > Ticket.anonymised_at))
    if rule.category_id is not None:
        return query.where(Ticket.category_id == rule.category_id)
    own_rules = select(RetentionRule.category_id).where(RetentionRule.kind == "case",
                                                         RetentionRule.function_id == rule.function_id,
                                                         RetentionRule.category_id.is_not(None))
    return query.where((Ticket.category_id.is_(None)) | Ticket.category_id.not_in(own_rules))


def _due_orders(rule: RetentionRule, now: datetime) -> Select:
    """The ids of the sent orders of ``rule``'s form approved (or, never approved, last changed) long enough ago,
    whose case has no legal hold (drafts have their own rule)."""
    held = exists().where(Ticket.id == FormSubmission.ticket_id, Ticket.legal_hold.is_(True))
    since = func.coalesce(FormSubmission.approved_at, FormSubmission.updated_at)  # never approved: last change
    query = (select(FormSubmission.id).where(FormSubmission.form_slug == rule.form_slug,
                                             FormSubmission.status != "draft",
                                             since <= months_before(now, rule.months), ~held)
             .order_by(FormSubmission.id))
    if rule.action == "anonymise":
        query = query.where(FormSubmission.anonymised_at.is_(None))
    return query


def due_count(rule: RetentionRule, now: datetime) -> int:
    """How many cases or orders the rule would cull now (for the administrators' page)."""
    return len(db.session.scalars(_due_cases(rule, now) if rule.kind == "case" else _due_orders(rule, now)).all())


# --- culling --------------------------------------------------------------------------------------------------
def anonymised_person() -> User:
    """The stand-in requester of anonymised cases: no name, no address, cannot log in."""
    person = db.session.scalar(select(User).where(User.username == ANONYMISED_USERNAME))
    if person is None:
        person = User(username=ANONYMISED_USERNAME, display_name="Anonymiserad", auth_source="system",
                      is_active=False)
        db.session.add(person)
        db.session.flush()
    return person


def _remove_attachments(ticket_ids: list[int], upload_root: Path) -> None:
    stored = db.session.scalars(select(TicketAttachment.stored_name).join(TicketEvent).where(
        TicketEvent.ticket_id.in_(ticket_ids))).all()
    for name in stored:
        remove_file_after_commit(upload_root / "tickets" / name)
    db.session.execute(delete(TicketAttachment).where(TicketAttachment.event_id.in_(
        select(TicketEvent.id).where(TicketEvent.ticket_id.in_(ticket_ids)))))


def anonymise_cases(ticket_ids: list[int], upload_root: Path, now: datetime) -> None:
    """Remove the person and the text from these cases and keep what the reports count: function, category,
    the requester's department, dates, service levels, rating. The timeline keeps its steps without their
    text, authors or attachments."""
    stand_in = anonymised_person()
    _remove_attachments(ticket_ids, upload_root)
    _forget_case_traces(ticket_ids)  # first: it finds the question's searches by the form token cleared below
    for ticket in db.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids))):
        if ticket.anonymised_at is None:
            ticket.requester_department = ticket.requester.department
        ticket.requester_id, ticket.created_by_id = stand_in.id, None
        ticket.subject, ticket.description, ticket.rating_comment = ANONYMISED_SUBJECT, "", ""
        ticket.origin_url, ticket.submit_token, ticket.anonymised_at = None, None, now
    for event in db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids))):
        kept = KEPT_EVENT_DATA.get(event.kind, ())
        event.body, event.author_id = "", None
        event.data = {key: value for key, value in (event.data or {}).items() if key in kept}
    db.session.flush()


def delete_cases(ticket_ids: list[int], upload_root: Path) -> None:
    """Delete these cases with their timelines and attachments; orders and merged cases that pointed to them
    stay, without the link."""
    _remove_attachments(ticket_ids, upload_root)
    _forget_case_traces(ticket_ids)
    for model in (FormSubmission, FormFollowUp):
        db.session.execute(update(model).where(model.ticket_id.in_(ticket_ids)).values(ticket_id=None)
                           .execution_options(synchronize_session=False))
    db.session.execute(update(Ticket).where(Ticket.merged_into_id.in_(ticket_ids)).values(merged_into_id=None)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids)))
    db.session.execute(delete(Ticket).where(Ticket.id.in_(ticket_ids)))
    db.session.flush()


def _forget_case_traces(ticket_ids: list[int]) -> None:
    """Notifications and presence about the cases (they name them for people), the mails that made or answered
    them (sender and subject), and the searches typed into the question forms that became them (their text is
    the question's)."""
    for model in (Notification, TicketPresence, InboundMail):
        db.session.execute(delete(model).where(model.ticket_id.in_(ticket_ids)))
    tokens = select(Ticket.submit_token).where(Ticket.id.in_(ticket_ids), Ticket.submit_token.is_not(None))
    db.session.execute(delete(SearchLog).where(SearchLog.ask_token.in_(tokens)))


def _cases_of_orders(order_ids: list[int]) -> list[int]:
    """The case each order made and the follow-up cases it opened (they carry the employee's name)."""
    own = select(FormSubmission.ticket_id).where(FormSubmission.id.in_(order_ids),
                                                 FormSubmission.ticket_id.is_not(None))
    follow = select(FormFollowUp.ticket_id).where(FormFollowUp.submission_id.in_(order_ids),
                                                  FormFollowUp.ticket_id.is_not(None))
    return sorted(set(db.session.scalars(own)) | set(db.session.scalars(follow)))


def anonymise_orders(order_ids: list[int], upload_root: Path, now: datetime) -> None:
    """Remove everything about the person from these orders (the form's fields, the identity number, comments,
    the stored documents) and anonymise the cases they made; the form, its dates and its status stay."""
    cases = _cases_of_orders(order_ids)
    if cases:
        anonymise_cases(cases, upload_root, now)
    for order in db.session.scalars(select(FormSubmission).where(FormSubmission.id.in_(order_ids))):
        for document in list(order.documents):
            remove_file_after_commit(document_path(document, upload_root))
            db.session.delete(document)
        order.data, order.title, order.person_number = {}, ANONYMISED_ORDER, None
        order.submit_token, order.robot_note, order.anonymised_at = None, "", now
    db.session.execute(update(FormHistory).where(FormHistory.submission_id.in_(order_ids))
                       .values(comment="", data=None).execution_options(synchronize_session=False))
    db.session.flush()


def delete_orders(order_ids: list[int], upload_root: Path, now: datetime) -> None:
    """Delete these orders with their history and documents; the cases they made are anonymised (their figures
    stay in the reports)."""
    cases = _cases_of_orders(order_ids)
    if cases:
        anonymise_cases(cases, upload_root, now)
    for order in db.session.scalars(select(FormSubmission).where(FormSubmission.id.in_(order_ids))):
        for document in order.documents:
            remove_file_after_commit(document_path(document, upload_root))
        db.session.delete(order)
    db.session.flush()


def _cull(rule: RetentionRule, ids: list[int], upload_root: Path, now: datetime) -> None:
    if rule.kind == "case" and rule.action == "anonymise":
        anonymise_cases(ids, upload_root, now)
    elif rule.kind == "case":
        delete_cases(ids, upload_root)
    elif rule.action == "anonymise":
        anonymise_orders(ids, upload_root, now)
    else:
        delete_orders(ids, upload_root, now)


def run_retention(now: datetime, upload_root: Path, draft_days: int, mail_days: int, audit_months: int = 60,
                  search_months: int = 13, dry_run: bool = False) -> list[CullCount]:
    """Apply every rule, then remove drafts untouched for ``draft_days``, mail sent (or given up) and mail read
    from the mailboxes more than ``mail_days`` ago (held or failed mail nobody dealt with after ``draft_days``),
    external e-mail contacts left without cases, searches older than ``search_months`` and audit entries older
    than ``audit_months``. Each rule's count is logged and audited, never what it culled. With ``dry_run``
    nothing changes and the counts say what would go."""
    counts = []
    for rule in list_rules():
        ids = list(db.session.scalars(_due_cases(rule, now) if rule.kind == "case" else _due_orders(rule, now)))
        if not dry_run:
            for start in range(0, len(ids), BATCH):
                _cull(rule, ids[start:start + BATCH], upload_root, now)
        counts.append(CullCount(describe_rule(rule), rule.action, len(ids)))
    drafts = list(db.session.scalars(select(FormSubmission.id).where(
        FormSubmission.status == "draft", FormSubmission.updated_at <= now - timedelta(days=draft_days))))
    if drafts and not dry_run:
        delete_orders(drafts, upload_root, now)
    counts.append(CullCount(f"drafts never sent, {draft_days} days", "delete", len(drafts)))
    old_mail = (OutboxMessage.sent_at <= now - timedelta(days=mail_days)) | (
        OutboxMessage.failed.is_(True) & (OutboxMessage.created_at <= now - timedelta(days=mail_days)))
    mails = db.session.scalar(select(func.count(OutboxMessage.id)).where(old_mail)) or 0
    if mails and not dry_run:
        db.session.execute(delete(OutboxMessage).where(old_mail))
    counts.append(CullCount(f"sent mail, {mail_days} days", "delete", mails))
    unsettled = InboundMail.outcome.in_(("held", "failed")) & InboundMail.settled_at.is_(None)
    old_inbound = (~unsettled & (InboundMail.received_at <= now - timedelta(days=mail_days))) | (
        unsettled & (InboundMail.received_at <= now - timedelta(days=draft_days)))
    inbound = db.session.scalar(select(func.count(InboundMail.id)).where(old_inbound)) or 0
    if inbound and not dry_run:
        db.session.execute(delete(InboundMail).where(old_inbound))
    counts.append(CullCount(f"mail read from mailboxes, {mail_days} days ({draft_days} held)", "delete", inbound))
    unused_contacts = (User.auth_source == EXTERNAL_SOURCE) & ~exists().where(Ticket.requester_id == User.id) & (
        ~exists().where(InboundMail.sender == User.email))
    contacts = db.session.scalar(select(func.count(User.id)).where(unused_contacts)) or 0
    if contacts and not dry_run:
        db.session.execute(delete(User).where(unused_contacts))
    counts.append(CullCount("e-mail contacts without cases", "delete", contacts))
    old_searches = SearchLog.created_at < months_before(now, search_months)
    searches = db.session.scalar(select(func.count(SearchLog.id)).where(old_searches)) or 0
    if searches and not dry_run:
        db.session.execute(delete(SearchLog).where(old_searches))
    counts.append(CullCount(f"search log, {search_months} months", "delete", searches))
    oldest_kept = months_before(now, audit_months)
    entries = (db.session.scalar(select(func.count(audit.AuditEntry.id)).where(
        audit.AuditEntry.created_at < oldest_kept)) or 0) if dry_run else audit.cull_entries(oldest_kept)
    counts.append(CullCount(f"audit log, {audit_months} months", "delete", entries))
    for count in counts:
        log.info("retention%s: %s: %s %d", " (dry run)" if dry_run else "", count.rule, count.action, count.count)
        if not dry_run and count.count:
            audit.record(None, "retention.run", "retention", count.rule[:60], f"{count.action} {count.count}")
    db.session.flush()
    return counts


# --- a data subject's request ---------------------------------------------------------------------------------
EXPORT_README = """Lotsen: allt som finns om en person / everything Lotsen holds about one person

person.json    kontot, roller / the account and its roles
cases.json     ärenden personen ställt eller registrerat, med händelser / cases they asked or registered
orders.json    beställningar som gäller personnumret / orders about them (by identity number)
searches.json  sökningar personen gjort / their searches
mail.json      e-post från personen som Lotsen läst / mail from them that Lotsen read
audit.json     granskningsloggens poster av och om personen / audit entries by and about them
files/         bilagor och godkända dokument / attachments and approved documents

{withheld}"""
WITHHELD = ("Ärenden hos en sekretessfunktion (HR, lön), beställningar och sådana sökningar listas utan innehåll:\n"
            "innehållet lämnas ut av den som har rollen granskare (dataskyddsombudet). / Cases with a confidential\n"
            "function (HR, payroll), orders and such searches are listed without their content: the content is\n"
            "exported by someone with the auditor role (the data protection officer).\n")


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_person(actor: User, person: User, person_number: str | None, upload_root: Path) -> bytes:
    """A ZIP of everything Lotsen holds about ``person`` (JSON files and the documents), for a data subject's
    request; audited. Content of cases with a confidential function, of orders about the person (found by
    ``person_number``) and of searches made for a confidential function goes only to an exporter who holds the
    auditor role, each such read audited; otherwise they are listed without it. Cases the person registered for
    someone else are listed without their content (they are the other person's)."""
    may_read_confidential = actor.has_role(Role.AUDITOR)
    files: dict[str, Path] = {}
    cases, withheld = [], False
    for ticket in db.session.scalars(select(Ticket).where(
            (Ticket.requester_id == person.id) | (Ticket.created_by_id == person.id)).order_by(Ticket.id)):
        row = {"number": ticket.number, "function": ticket.function.slug, "status": ticket.status,
               "created_at": _when(ticket.created_at), "resolved_at": _when(ticket.resolved_at),
               "asked_by_the_person": ticket.requester_id == person.id}
        confidential = holds_confidential(ticket)
        if (confidential and not may_read_confidential) or ticket.requester_id != person.id:
            withheld = withheld or confidential
            cases.append(row | {"content": "withheld: confidential function" if confidential else
                                "not included: the case is another person's, registered by this one"})
            continue
        if confidential:
            audit.record(actor.id, "download", "ticket", ticket.number, "data subject export")
        events = []
        for event in ticket.events:
            names = []
            for attachment in event.attachments:
                name = f"files/{ticket.number}/{attachment.id}-{attachment.original_name}"
                files[name] = upload_root / "tickets" / attachment.stored_name
                names.append(name)
            events.append({"kind": event.kind, "created_at": _when(event.created_at), "public": event.is_public,
                           "author": event.author.name if event.author else None, "text": event.body,
                           "attachments": names})
        cases.append(row | {"subject": ticket.subject, "description": ticket.description,
                            "category": ticket.category.slug if ticket.category else None, "rating": ticket.rating,
                            "rating_comment": ticket.rating_comment, "events": events})
    orders = []
    about_them = select(FormSubmission).where(FormSubmission.person_number == person_number) if person_number else None
    for order in db.session.scalars(about_them.order_by(FormSubmission.id)) if about_them is not None else ():
        if not may_read_confidential:  # orders are HR's and payroll's: like their cases
            withheld = True
            orders.append({"id": order.id, "form": order.form_slug, "status": order.status,
                           "content": "withheld: confidential function"})
            continue
        audit.record(actor.id, "download", "form_submission", order.id, "data subject export")
        documents = []
        for document in order.documents:
            name = f"files/orders/{order.id}-v{document.version}.pdf"
            files[name] = document_path(document, upload_root)
            documents.append(name)
        orders.append({"id": order.id, "form": order.form_slug, "status": order.status, "title": order.title,
                       "data": order.data,
                       "created_at": _when(order.created_at), "approved_at": _when(order.approved_at),
                       "history": [{"action": h.action, "comment": h.comment, "at": _when(h.created_at)}
                                   for h in order.history], "documents": documents})
    confidential_functions = set(db.session.scalars(select(SupportFunction.id).where(
        SupportFunction.is_confidential.is_(True))))
    searches = []
    typed = select(SearchLog.query, SearchLog.created_at, SearchLog.function_id).where(SearchLog.user_id == person.id)
    for query, at, function_id in db.session.execute(typed.order_by(SearchLog.id)):
        hidden = function_id in confidential_functions and not may_read_confidential
        withheld = withheld or hidden
        searches.append({"query": "withheld: confidential function" if hidden else query, "at": _when(at)})
    entries = [{"at": _when(e.created_at), "by": e.user_id, "action": e.action, "object": f"{e.object_type}:"
                f"{e.object_id}", "detail": e.detail} for e in db.session.scalars(
        select(audit.AuditEntry).where((audit.AuditEntry.user_id == person.id) | (
            (audit.AuditEntry.object_type == "user") & (audit.AuditEntry.object_id == str(person.id))))
        .order_by(audit.AuditEntry.id))]
    mails = []
    if person.email:  # the records of mails read from the mailboxes: sender, subject, what became of them
        for mail in db.session.scalars(select(InboundMail).where(func.lower(InboundMail.sender) == person.email.lower())
                                       .order_by(InboundMail.id)):
            confidential = mail.confidential_function_id is not None or (
                mail.ticket is not None and holds_confidential(mail.ticket))
            hidden = confidential and not may_read_confidential
            withheld = withheld or hidden
            mails.append({"received_at": _when(mail.received_at), "mailbox": mail.mailbox.address if mail.mailbox
                          else None, "outcome": mail.outcome, "case": mail.ticket.number if mail.ticket else None,
                          "subject": "withheld: confidential function" if hidden else mail.subject})
    account = {"username": person.username, "name": person.display_name, "email": person.email,
               "department": person.department, "title": person.title, "source": person.auth_source,
               "directory": person.directory, "created_at": _when(person.created_at),
               "last_login_at": _when(person.last_login_at), "roles": sorted(g.label for g in person.role_grants)}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", EXPORT_README.format(withheld=WITHHELD if withheld else ""))
        for name, content in (("person.json", account), ("cases.json", cases), ("orders.json", orders),
                              ("searches.json", searches), ("mail.json", mails), ("audit.json", entries)):
            archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=2))
        for name, path in files.items():
            if path.exists():
                archive.write(path, name)
    audit.record(actor.id, "person.export", "user", person.id,
                 f"{len(cases)} cases, {len(orders)} orders{', confidential withheld' if withheld else ''}")
    return buffer.getvalue()


# --- the e-archive ----------------------------------------------------------------------------------------------
ARCHIVE_FORMAT = "lotsen-arkiv/1"  # docs/archive-metadata.schema.json describes metadata.json


def retention_rule_for(ticket: Ticket) -> RetentionRule | None:
    """The rule that covers the case: its category's, else its function's; None: kept for good."""
    rules = db.session.scalars(select(RetentionRule).where(RetentionRule.kind == "case",
                                                           RetentionRule.function_id == ticket.function_id)).all()
    return next((r for r in rules if r.category_id == ticket.category_id and r.category_id is not None),
                next((r for r in rules if r.category_id is None), None))


def archive_case(ticket: Ticket, folder: Path, case_pdf: bytes, upload_root: Path) -> dict:
    """Write one case for the e-archive into ``folder``: ``arende.pdf`` (the whole case as PDF/A, rendered by the
    caller), its attachments under ``bilagor/``, the approved documents of orders that made it under
    ``avtal/``, and ``metadata.json`` (format ``lotsen-arkiv/1``). Returns the metadata."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"arende.pdf": case_pdf}
    for event in ticket.events:
        for attachment in event.attachments:
            source = upload_root / "tickets" / attachment.stored_name
            if source.exists():
                files[f"bilagor/{attachment.id}-{Path(attachment.original_name).name}"] = source.read_bytes()
    for order in db.session.scalars(select(FormSubmission).where(FormSubmission.ticket_id == ticket.id)):
        for document in order.documents:
            source = document_path(document, upload_root)
            if source.exists():
                files[f"avtal/{order.form_slug}-{order.id}-v{document.version}.pdf"] = source.read_bytes()
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    rule = retention_rule_for(ticket)
    metadata = {
        "format": ARCHIVE_FORMAT,
        "case_number": ticket.number,
        "title": ticket.subject,
        "function": {"slug": ticket.function.slug, "name": ticket.function.name_sv},
        "category": ticket.category.slug if ticket.category else None,
        "classification": "sekretess" if holds_confidential(ticket) else "offentlig",
        "status": ticket.status,
        "dates": {"registered": _when(ticket.created_at), "resolved": _when(ticket.resolved_at),
                  "closed": _when(ticket.closed_at)},
        "parties": [{"role": "frågeställare", "name": ticket.requester.name,
                     "department": ticket.requester_department or ticket.requester.department}]
        + ([{"role": "handläggare", "name": ticket.assignee.name}] if ticket.assignee else []),
        "retention": {"rule": describe_rule(rule), "months": rule.months, "action": rule.action,
                      "decision": rule.decision} if rule else {"rule": None, "action": "bevaras"},
        "legal_hold": ticket.legal_hold,
        "files": [{"name": name, "sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
                  for name, content in sorted(files.items())],
    }
    (folder / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2), encoding="utf-8")
    return metadata
