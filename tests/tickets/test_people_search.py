"""Finding people as you type (issue 14): by name, user name, e-mail or department, never an exact user name."""

from __future__ import annotations

from sqlalchemy import select

from app.core.db import db
from app.tickets.models import Ticket


def test_specialists_find_people_by_name_department_or_email(client, auth, people, create_user):
    create_user("asa.oberg", display_name="Åsa Öberg", department="Vård- och omsorgsförvaltningen")
    auth.login("sara")
    found = client.get("/people/search?q=Öberg").get_json()["people"]
    assert found == [{"username": "asa.oberg", "name": "Åsa Öberg", "department": "Vård- och omsorgsförvaltningen"}]
    assert client.get("/people/search?q=omsorg").get_json()["people"][0]["username"] == "asa.oberg"
    assert client.get("/people/search?q=kommun.example").get_json()["people"]  # e-mail addresses
    assert client.get("/people/search?q=%25").get_json()["people"] == []  # LIKE's wildcard is text
    auth.logout()
    auth.login("erik")  # an employee has no one to choose
    assert client.get("/people/search?q=Öberg").status_code == 403


def test_a_phone_case_is_registered_by_the_persons_name(client, auth, people, create_user):
    create_user("asa.oberg", display_name="Åsa Öberg", department="Vård")
    auth.login("sara")
    page = client.get("/workspace/register").get_data(as_text=True)
    assert 'list="people-options"' in page and 'data-people-search="/people/search"' in page
    response = client.post("/workspace/register", data={
        "requester": "Åsa Öberg", "channel": "phone", "function": "it", "subject": "Skrivaren",
        "description": "Ringde om skrivaren."})
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "Skrivaren"))
    assert ticket.requester.username == "asa.oberg" and ticket.channel == "phone"

