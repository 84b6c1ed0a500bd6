import io
import re

from sqlalchemy import func, select

from app.core.db import db
from app.core.mail import OutboxMessage
from app.tickets.models import Ticket


def _token(html: str) -> str:
    return re.search(r'name="submit_token" type="hidden" value="([^"]+)"', html).group(1)


def test_ask_a_question_get_a_case_number_and_a_mail(client, auth, people):
    auth.login("erik")
    form = client.get("/tickets/new?q=skrivaren+fungerar+inte").get_data(as_text=True)
    assert 'value="skrivaren fungerar inte"' in form
    assert "Vet inte" in form and '<optgroup label="IT och telefoni">' in form
    data = {"category": "skrivare", "subject": "Skrivaren fungerar inte", "description": "Papperstopp hela tiden.",
            "submit_token": _token(form)}
    response = client.post("/tickets/new", data=data)
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert re.fullmatch(r"LOT-\d{4}-000001", ticket.number)
    assert ticket.function.slug == "it" and ticket.status == "new"
    assert ticket.first_response_due_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert ticket.number in page and "Vad händer nu" in page
    mail = db.session.scalar(select(OutboxMessage))
    assert mail.recipient == "erik@kommun.example" and ticket.number in mail.subject
    assert "Hej Erik," in mail.body and f"http://127.0.0.1:5000/tickets/{ticket.number}" in mail.body


def test_a_double_click_never_makes_two_cases(client, auth, people):
    auth.login("erik")
    token = _token(client.get("/tickets/new").get_data(as_text=True))
    data = {"category": "", "subject": "Hjälp", "description": "Vet inte vart jag ska vända mig.",
            "submit_token": token}
    first = client.post("/tickets/new", data=data)
    second = client.post("/tickets/new", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(Ticket.id))) == 1


def test_dont_know_goes_to_the_service_centre(client, auth, people):
    auth.login("erik")
    client.post("/tickets/new", data={"category": "", "subject": "Fråga", "description": "Något.",
                                      "submit_token": "t1"})
    assert db.session.scalar(select(Ticket)).function.slug == "servicecenter"


def test_missing_fields_keep_what_was_written(client, auth, people):
    auth.login("erik")
    response = client.post("/tickets/new", data={"category": "skrivare", "subject": "",
                                                 "description": "Min långa beskrivning", "submit_token": "t2"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Skriv ett kort ämne." in html and "Min långa beskrivning" in html
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_attachments_are_checked_and_a_bad_one_leaves_no_half_case(client, auth, people):
    auth.login("erik")
    data = {"category": "skrivare", "subject": "Skärmbild", "description": "Se bild.", "submit_token": "t3",
            "files": [(io.BytesIO(b"MZ"), "program.exe")]}
    response = client.post("/tickets/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "filer av den typen tas inte emot" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Ticket.id))) == 0
    data["files"] = [(io.BytesIO(b"\x89PNG\r\n\x1a\nbild"), "skarm.png")]
    assert client.post("/tickets/new", data=data, content_type="multipart/form-data").status_code == 302
    ticket = db.session.scalar(select(Ticket))
    attached = ticket.events[0].attachments[0]
    served = client.get(f"/tickets/{ticket.number}/files/{attached.id}/skarm.png")
    assert served.data.startswith(b"\x89PNG")


def test_managers_can_ask_on_behalf_of_a_colleague(client, auth, people):
    for name in ("anna", "kalle"):
        people[name].department = "Tekniska förvaltningen"
    db.session.commit()
    auth.login("anna")
    client.post("/tickets/new", data={"category": "skrivare", "subject": "Skrivare",
                                      "description": "Gäller Kalle.", "on_behalf_of": "kalle",
                                      "submit_token": "t4"})
    ticket = db.session.scalar(select(Ticket))
    assert ticket.requester.username == "kalle" and ticket.created_by.username == "anna"
    assert client.get(f"/tickets/{ticket.number}").status_code == 200
    auth.logout()
    auth.login("erik")
    response = client.post("/tickets/new", data={"category": "", "subject": "x", "description": "y",
                                                 "on_behalf_of": "kalle", "submit_token": "t5"})
    assert "Bara chefer kan" in response.get_data(as_text=True)


def test_my_cases_lists_my_cases_only_with_keyset_pages(client, auth, people, create_ticket):
    for n in range(30):
        create_ticket("it", "erik", subject=f"Fråga {n}")
    create_ticket("it", "kalle", subject="Kalles fråga")
    auth.login("erik")
    first = client.get("/tickets").get_data(as_text=True)
    assert first.count("/tickets/LOT-") == 25 and "Kalles fråga" not in first
    after = re.search(r'href="/tickets\?after=([^"]+)"', first).group(1)
    second = client.get(f"/tickets?after={after}").get_data(as_text=True)
    assert second.count("/tickets/LOT-") == 5
    assert not set(re.findall(r"LOT-\d+-\d+", first)) & set(re.findall(r"LOT-\d+-\d+", second))
