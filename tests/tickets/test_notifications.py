"""Notifications (issue 14): in the app and by e-mail as each person chose, without confidential text in mail;
the daily summary; service-level warnings from the worker; the first line's "sent on" view."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.db import db, utcnow
from app.core.mail import OutboxMessage
from app.tickets import notifications, services
from app.tickets.models import Notification


def _mails_to(address: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == address)))


def test_assigned_in_the_app_and_by_mail_never_to_oneself(client, auth, people, create_ticket):
    ticket = create_ticket("hr", "erik", subject="Lönesamtal")
    auth.login("hanna")
    client.post(f"/tickets/{ticket.number}/assign", data={"take": "1"})  # herself: nobody is told
    assert db.session.scalar(select(Notification).where(Notification.kind == "assigned")) is None
    client.post(f"/tickets/{ticket.number}/assign", data={"assignee": "hugo"})
    [note] = db.session.scalars(select(Notification).where(Notification.kind == "assigned"))
    assert note.user_id == people["hugo"].id and note.mailed_at is not None
    [mail] = [m for m in _mails_to("hugo@kommun.example") if "tilldelas" in m.subject]
    assert ticket.number in mail.subject and "Lönesamtal" not in mail.subject + mail.body  # HR: no text


def test_a_new_case_is_in_the_app_and_mailed_only_to_who_wants_it(client, auth, people, create_ticket):
    auth.login("hugo")
    client.post("/account/notifications", data={"new_case": "immediately", "assigned": "immediately",
                                                "requester_reply": "immediately", "mail_trouble": "immediately",
                                                "sla_warning": "immediately", "forwarded_resolved": "daily"})
    auth.logout()
    ticket = create_ticket("hr", "erik", subject="Min sjukskrivning och konflikten med chefen")
    kinds = {(n.user_id, n.kind) for n in db.session.scalars(select(Notification))}
    assert (people["hanna"].id, "new_case") in kinds and (people["hugo"].id, "new_case") in kinds
    assert _mails_to("hanna@kommun.example") == []  # new cases are not mailed unless chosen
    [mail] = _mails_to("hugo@kommun.example")
    assert ticket.number in mail.subject and "sjukskrivning" not in (mail.subject + mail.body).lower()
    auth.login("hanna")
    page = client.get("/").get_data(as_text=True)
    assert 'class="unread-count">1' in page
    assert ticket.number in client.get("/notifications").get_data(as_text=True)
    client.get(f"/tickets/{ticket.number}")  # opening the case reads its notifications
    assert 'class="unread-count"' not in client.get("/").get_data(as_text=True)


def test_assignment_and_the_requesters_reply_reach_the_assignee(client, auth, people, create_ticket):
    ticket = create_ticket("it", "erik", subject="Skärmen")
    auth.login("ivar")
    client.post(f"/tickets/{ticket.number}/work", data={"assignee": "ivar", "status": "new", "priority": "normal"})
    auth.logout()
    auth.login("erik")
    client.post(f"/tickets/{ticket.number}/reply", data={"body": "Den är fortfarande svart."})
    reply = db.session.scalar(select(Notification).where(Notification.kind == "requester_reply"))
    assert reply.user_id == people["ivar"].id
    assert any("svart" in m.body for m in _mails_to("ivar@kommun.example"))  # at once is the default


def test_the_daily_summary_collects_what_was_chosen_daily(app, people, create_ticket, mail_context):
    notifications.save_settings(people["hanna"], {"new_case": "daily", "assigned": "off",
                                                  "requester_reply": "immediately", "mail_trouble": "immediately",
                                                  "sla_warning": "immediately", "forwarded_resolved": "daily"})
    first = create_ticket("hr", "erik", subject="Semester")
    second = create_ticket("hr", "kalle", subject="Föräldraledighet")
    assert _mails_to("hanna@kommun.example") == []
    sent = notifications.send_digests(utcnow() + timedelta(seconds=1), mail_context)
    db.session.commit()
    [digest] = _mails_to("hanna@kommun.example")
    assert sent >= 1 and first.number in digest.body and second.number in digest.body
    assert "Semester" not in digest.body  # HR is confidential: numbers and links only
    assert notifications.send_digests(utcnow() + timedelta(seconds=2), mail_context) == 0  # never twice


def test_the_worker_warns_once_before_a_service_level_breaks(app, people, create_ticket, mail_context):
    ticket = create_ticket("it", "erik")
    ticket.first_response_due_at = utcnow() + timedelta(minutes=30)
    db.session.commit()
    assert notifications.warn_due_soon(utcnow(), timedelta(hours=2), mail_context) == 1
    assert notifications.warn_due_soon(utcnow(), timedelta(hours=2), mail_context) == 0
    warned = {n.user_id for n in db.session.scalars(select(Notification).where(Notification.kind == "sla_warning"))}
    assert warned == {people["ivar"].id}


def test_the_first_line_sees_what_it_sent_on_and_hears_when_it_is_resolved(client, auth, people, create_ticket,
                                                                           calendar, mail_context):
    to_it = create_ticket("servicecenter", "erik", subject="Skrivaren")
    to_hr = create_ticket("servicecenter", "erik", subject="Min sjukskrivning")
    services.reroute(to_it, people["sara"], "it", "Gäller IT", calendar)
    services.reroute(to_hr, people["sara"], "hr", "Gäller HR", calendar)
    services.change_status(to_it, people["ivar"], "resolved", calendar, mail_context)
    db.session.commit()
    resolved = db.session.scalar(select(Notification).where(Notification.kind == "forwarded_resolved"))
    assert resolved.user_id == people["sara"].id and resolved.ticket_id == to_it.id
    auth.login("sara")
    page = client.get("/workspace/servicecenter/forwarded").get_data(as_text=True)
    assert to_it.number in page and "Skrivaren" in page and "Löst" in page
    assert to_hr.number in page and "Min sjukskrivning" not in page  # confidential now: number and status only
    assert client.get("/workspace/it/forwarded").status_code == 403
