"""Administration in the browser (issue 14): service levels, office hours, closing days, mailboxes, categories,
users with search, paging and local accounts; all audited, with clear messages."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import delete, select

from app.core.audit import AuditEntry
from app.core.db import db
from app.tickets import services
from app.tickets.models import Category, SlaTarget, Ticket
from app.tickets.sla import STOCKHOLM, office_calendar


def test_only_administrators_reach_the_settings(client, auth, people):
    auth.login("hanna")
    assert client.get("/admin/service-desk").status_code == 403
    auth.logout()
    auth.login("chef.admin")
    page = client.get("/admin/service-desk").get_data(as_text=True)
    assert "Inställningar för servicedesken" in page and "Servicenivåer i arbetstimmar" in page


@pytest.fixture
def seeded_targets():
    """The seeded service levels (kept between tests) as they were, after the test."""
    kept = [(t.function_id, t.priority, t.first_response_hours, t.resolution_hours)
            for t in db.session.scalars(select(SlaTarget))]
    yield
    db.session.rollback()
    db.session.execute(delete(SlaTarget))
    db.session.add_all(SlaTarget(function_id=f, priority=p, first_response_hours=a, resolution_hours=b)
                       for f, p, a, b in kept)
    db.session.commit()


def test_service_levels_are_saved_validated_and_used(client, auth, people, create_ticket, seeded_targets):
    auth.login("chef.admin")
    data = {"action": "sla", "function": "it", **{f"first-{p}": "4" for p in ("low", "normal", "high", "urgent")},
            **{f"resolution-{p}": "16,5" for p in ("low", "normal", "high", "urgent")}}
    client.post("/admin/service-desk", data=data)
    it = services.get_function("it") if hasattr(services, "get_function") else None
    rows = db.session.scalars(select(SlaTarget).where(SlaTarget.function_id == it.id)).all()
    assert {(r.priority, r.first_response_hours, r.resolution_hours) for r in rows} >= {("normal", 4.0, 16.5)}
    bad = client.post("/admin/service-desk", data={**data, "first-high": "20"}, follow_redirects=True)
    assert "Första svaret kan inte ha senare tidsgräns än lösningen." in bad.get_data(as_text=True)
    worse = client.post("/admin/service-desk", data={**data, "first-low": "fyra"}, follow_redirects=True)
    assert "Skriv timmarna som tal" in worse.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "settings_sla"))


def test_office_hours_and_a_closing_day_change_the_working_calendar(app, client, auth, people):
    auth.login("chef.admin")
    assert "skriv tiderna som 08:00-16:30" in client.post("/admin/service-desk", data={
        "action": "hours", "hours": "16:00-08:00"}, follow_redirects=True).get_data(as_text=True)
    client.post("/admin/service-desk", data={"action": "hours", "hours": "07:30-16:00"})
    client.post("/admin/service-desk", data={"action": "add_day", "day": "2027-05-07",
                                             "note": "Klämdag efter Kristi himmelsfärd"})
    with app.test_request_context():
        calendar = office_calendar()
    assert (calendar.opens, calendar.closes) == (time(7, 30), time(16, 0))
    assert not calendar.is_workday(date(2027, 5, 7)) and calendar.is_workday(date(2027, 5, 10))
    friday = datetime(2027, 5, 6, 15, 0, tzinfo=STOCKHOLM)
    assert calendar.add_working_minutes(friday, 120).astimezone(STOCKHOLM).date() == date(2027, 5, 10)
    page = client.get("/admin/service-desk").get_data(as_text=True)
    assert "2027-05-07 – Klämdag efter Kristi himmelsfärd" in page
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"settings_hours", "settings_closing_day"} <= actions


def test_a_functions_mailbox_gets_new_cases_when_it_wants_them(client, auth, people, create_ticket):
    from app.core.mail import OutboxMessage

    it = services.get_function("it")
    seeded = (it.email, it.notify_new_cases)  # the support functions are seed data shared by the tests
    try:
        auth.login("chef.admin")
        bad = client.post("/admin/service-desk", data={"action": "mailbox", "function": "it", "email": "it-support",
                                                       "notify_new_cases": "1"}, follow_redirects=True)
        assert "Fyll i en giltig e-postadress" in bad.get_data(as_text=True)
        client.post("/admin/service-desk", data={"action": "mailbox", "function": "it",
                                                 "email": "it-support@kommun.example", "notify_new_cases": "1"})
        db.session.expire_all()  # the function as the request left it
        ticket = create_ticket("it", "erik", subject="Skrivaren")
        mails = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == "it-support@kommun.example"))
        mails = list(mails)
        assert any(ticket.number in m.subject for m in mails), [(m.recipient, m.subject) for m in mails]
    finally:
        db.session.rollback()
        it = services.get_function("it")
        it.email, it.notify_new_cases = seeded
        db.session.commit()


def test_categories_are_added_and_removed_and_cases_keep_their_function(client, auth, people, calendar,
                                                                          mail_context):
    auth.login("chef.admin")
    client.post("/admin/service-desk", data={"action": "add_category", "function": "it",
                                             "name_sv": "Mobiltelefon", "name_en": "Mobile phone"})
    category = db.session.scalar(select(Category).where(Category.name_sv == "Mobiltelefon"))
    assert category.slug == "mobiltelefon" and category.function.slug == "it"
    ticket = services.create_ticket(people["erik"], "Telefonen", "Den laddar inte.", category=category,
                                    calendar=calendar, mail=mail_context)
    db.session.commit()
    category_id, ticket_id = category.id, ticket.id
    client.post("/admin/service-desk", data={"action": "remove_category", "function": "it",
                                             "category_id": category_id})
    db.session.expire_all()
    assert db.session.get(Category, category_id) is None
    moved = db.session.get(Ticket, ticket_id)
    assert moved.category_id is None and moved.function.slug == "it"


def test_users_are_found_paged_and_made(client, auth, people, create_user):
    for n in range(55):
        create_user(f"vikarie{n:02d}", display_name=f"Vikarie {n:02d}", department="Skolförvaltningen")
    auth.login("chef.admin")
    first = client.get("/admin/users?q=skolförvaltningen").get_data(as_text=True)
    assert first.count('href="/admin/users/') == 50 and "Nästa sida" in first
    second = client.get("/admin/users?q=skolförvaltningen&page=2").get_data(as_text=True)
    assert second.count('href="/admin/users/') == 5 and "Föregående sida" in second
    roles = client.get("/admin/users?q=hanna").get_data(as_text=True)
    table = roles.split("<tbody>")[1].split("</tbody>")[0]
    assert "Specialist inom HR" in table and "specialist:hr" not in table  # readable labels
    short = client.post("/admin/users", data={"username": "konsult.ek", "display_name": "Eva Ek",
                                              "password": "kort"})
    assert short.status_code == 400 and "minst 12 tecken" in short.get_data(as_text=True)
    made = client.post("/admin/users", data={"username": "konsult.ek", "display_name": "Eva Ek",
                                             "password": "ett-bra-losenord", "roles": ["specialist:it"]})
    assert made.status_code == 302
    again = client.post("/admin/users", data={"username": "konsult.ek", "display_name": "Eva Ek",
                                              "password": "ett-bra-losenord"})
    assert "Det finns redan en användare konsult.ek." in again.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user_create"))
