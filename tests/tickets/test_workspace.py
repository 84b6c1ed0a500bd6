import re
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db, utcnow
from app.core.mail import OutboxMessage
from app.tickets.models import CannedResponse, Ticket


def test_specialist_reply_note_wait_and_requester_answer(client, auth, people, create_ticket):
    ticket = create_ticket("it", "erik")
    auth.login("ivar")
    client.post(f"/tickets/{ticket.number}/assign", data={"take": "1"})
    client.post(f"/tickets/{ticket.number}/reply", data={"body": "Intern: kolla garantin", "internal": "y"})
    client.post(f"/tickets/{ticket.number}/reply", data={"body": "Hej Erik! Prova att starta om.",
                                                          "then_wait": "y"})
    db.session.expire_all()
    assert ticket.assignee.username == "ivar" and ticket.status == "waiting"
    assert ticket.first_response_at is not None
    mails = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.recipient for m in mails] == ["erik@kommun.example", "erik@kommun.example"]
    assert "Prova att starta om" in mails[1].body
    auth.logout()

    auth.login("erik")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Prova att starta om" in page and "kolla garantin" not in page
    client.post(f"/tickets/{ticket.number}/reply", data={"body": "Det hjälpte inte."})
    db.session.expire_all()
    assert ticket.status == "open"
    assert db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first().recipient \
        == "ivar@kommun.example"
    refused = client.post(f"/tickets/{ticket.number}/reply", data={"body": "x", "internal": "y"})
    assert refused.status_code == 302
    assert not any(e.kind == "note" and e.author.username == "erik" for e in ticket.events)


def test_resolve_rate_reopen_and_close(client, auth, people, create_ticket):
    ticket = create_ticket("it", "erik")
    auth.login("ivar")
    client.post(f"/tickets/{ticket.number}/status", data={"status": "resolved"})
    mail = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    assert "är löst" in mail.subject and "#rate" in mail.body
    auth.logout()
    auth.login("erik")
    assert client.post(f"/tickets/{ticket.number}/rate", data={"comment": "bra"}).status_code == 400
    client.post(f"/tickets/{ticket.number}/rate", data={"rating": "5", "comment": "Snabbt!"})
    db.session.expire_all()
    assert ticket.rating == 5 and ticket.rating_comment == "Snabbt!"
    client.post(f"/tickets/{ticket.number}/reopen")
    db.session.expire_all()
    assert ticket.status == "open"
    client.post(f"/tickets/{ticket.number}/close")
    db.session.expire_all()
    assert ticket.status == "closed"


def test_reopen_only_within_14_days(client, auth, people, create_ticket):
    ticket = create_ticket("it", "erik")
    ticket.status, ticket.resolved_at = "resolved", utcnow() - timedelta(days=15)
    db.session.commit()
    auth.login("erik")
    html = client.post(f"/tickets/{ticket.number}/reopen", follow_redirects=True).get_data(as_text=True)
    assert "inom 14 dagar" in html
    db.session.expire_all()
    assert ticket.status == "resolved"


def test_reroute_with_a_reason_and_confidentiality_follows(client, auth, people, create_ticket):
    ticket = create_ticket("it", "erik", subject="Min lön är fel")
    auth.login("ivar")
    missing = client.post(f"/tickets/{ticket.number}/reroute", data={"function": "hr", "reason": ""},
                          follow_redirects=True)
    assert "Skriv varför ärendet flyttas." in missing.get_data(as_text=True)
    response = client.post(f"/tickets/{ticket.number}/reroute", data={"function": "hr", "reason": "Gäller lön"})
    assert response.headers["Location"] == "/workspace"
    assert client.get(f"/tickets/{ticket.number}").status_code == 404
    auth.logout()
    auth.login("hanna")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Gäller lön" in page and "Flyttat från IT och telefoni till HR." in page  # names, never slugs


def test_merge_a_duplicate(client, auth, people, create_ticket):
    first = create_ticket("it", "erik", subject="Skrivaren")
    duplicate = create_ticket("it", "erik", subject="Skrivaren igen", description="Samma problem som förut.")
    auth.login("ivar")
    client.post(f"/tickets/{duplicate.number}/merge", data={"target": first.number})
    db.session.expire_all()
    assert duplicate.status == "closed" and duplicate.merged_into_id == first.id
    assert any(e.kind == "merge_in" and "Samma problem" in e.body for e in first.events)
    bad = client.post(f"/tickets/{first.number}/merge", data={"target": "LOT-1999-000001"},
                      follow_redirects=True)
    assert "Det finns inget annat ärende" in bad.get_data(as_text=True)


def test_priority_and_assignment_to_a_colleague_only(client, auth, people, create_ticket):
    ticket = create_ticket("hr", "erik")
    auth.login("hanna")
    client.post(f"/tickets/{ticket.number}/assign", data={"assignee": "hugo"})
    bad = client.post(f"/tickets/{ticket.number}/assign", data={"assignee": "ivar"}, follow_redirects=True)
    assert "arbetar inte inom HR" in bad.get_data(as_text=True)
    due_before = ticket.first_response_due_at
    client.post(f"/tickets/{ticket.number}/priority", data={"priority": "urgent"})
    db.session.expire_all()
    assert ticket.assignee.username == "hugo" and ticket.priority == "urgent"
    assert ticket.first_response_due_at < due_before


# URL x role: who may open what. HR cases are confidential to HR; IT cases are not.
ACCESS = {
    # role:   (HR case, IT case, HR queue, IT queue)
    "erik": (200, 200, 403, 403),    # the requester of both cases
    "kalle": (404, 404, 403, 403),   # another employee
    "anna": (404, 404, 403, 403),    # a manager
    "hanna": (200, 404, 200, 403),   # HR specialist
    "ivar": (404, 200, 403, 200),    # IT specialist
    "sara": (404, 404, 403, 403),    # service centre
    "chef.admin": (404, 200, 403, 403),  # administrators do not see confidential cases
}


@pytest.mark.parametrize("username", list(ACCESS))
def test_access_matrix(client, auth, people, create_ticket, username):
    hr_case = create_ticket("hr", "erik")
    it_case = create_ticket("it", "erik")
    auth.login(username)
    hr, it, hr_queue, it_queue = ACCESS[username]
    assert client.get(f"/tickets/{hr_case.number}").status_code == hr
    assert client.get(f"/tickets/{it_case.number}").status_code == it
    assert client.get(f"/tickets/{hr_case.number}/pdf").status_code in ((200,) if hr == 200 and username == "hanna"
                                                                        else (403, 404))
    assert client.post(f"/tickets/{hr_case.number}/reply", data={"body": "x"}).status_code in (
        (302,) if hr == 200 else (404,))
    assert client.get("/workspace/hr").status_code == hr_queue
    assert client.get("/workspace/it").status_code == it_queue


def test_guessing_a_case_number_reveals_nothing(client, auth, people, create_ticket):
    create_ticket("hr", "erik")
    auth.login("kalle")
    assert client.get("/tickets/LOT-2026-000001").status_code == client.get("/tickets/LOT-2026-999999").status_code


def test_every_view_of_a_confidential_case_is_audited(client, auth, people, create_ticket):
    hr_case = create_ticket("hr", "erik")
    it_case = create_ticket("it", "erik")
    auth.login("hanna")
    client.get(f"/tickets/{hr_case.number}")
    auth.logout()
    auth.login("erik")
    client.get(f"/tickets/{hr_case.number}")
    client.get(f"/tickets/{it_case.number}")
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "ticket")).all()
    assert sorted((e.object_id, e.action) for e in entries) == [(hr_case.number, "view")] * 2
    assert {e.user_id for e in entries} == {people["hanna"].id, people["erik"].id}


def test_queue_views_filters_search_and_keyset_pages(client, auth, people, create_ticket):
    tickets = [create_ticket("it", "erik", subject=f"Ärende {n}") for n in range(28)]
    tickets[0].assignee = people["ivar"]
    tickets[1].status = "waiting"
    tickets[2].first_response_due_at = utcnow() - timedelta(hours=1)
    tickets[3].priority = "urgent"
    db.session.commit()
    auth.login("ivar")
    page = client.get("/workspace/it?view=open").get_data(as_text=True)
    assert page.count('href="/tickets/LOT-') == 25
    after = re.search(r'after=([^"&]+)">Nästa sida', page).group(1)
    rest = client.get(f"/workspace/it?view=open&after={after}").get_data(as_text=True)
    assert rest.count('href="/tickets/LOT-') == 3
    assert tickets[0].number in client.get("/workspace/it?view=mine").get_data(as_text=True)
    assert tickets[0].number not in client.get("/workspace/it?view=unassigned").get_data(as_text=True)
    assert tickets[1].number in client.get("/workspace/it?view=waiting").get_data(as_text=True)
    breached = client.get("/workspace/it?view=breached").get_data(as_text=True)
    assert tickets[2].number in breached and "försenat" in breached
    urgent = client.get("/workspace/it?view=open&priority=urgent").get_data(as_text=True)
    assert urgent.count('href="/tickets/LOT-') == 1
    found = client.get("/workspace/it?view=open&q=Ärende 27").get_data(as_text=True)
    assert tickets[27].number in found and found.count('href="/tickets/LOT-') == 1


def test_register_a_phone_case(client, auth, people):
    auth.login("sara")
    response = client.post("/workspace/register", data={"requester": "erik", "channel": "phone",
                                                        "function": "it", "subject": "Ringde om VPN",
                                                        "description": "VPN startar inte hemma."})
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket))
    assert ticket.channel == "phone" and ticket.created_by.username == "sara" and ticket.requester.username == "erik"
    bad = client.post("/workspace/register", data={"requester": "okand", "channel": "visit", "function": "it",
                                                   "subject": "x", "description": "y"})
    assert "Det finns ingen användare okand" in bad.get_data(as_text=True)


def test_ready_answers_fill_in_placeholders(client, auth, people, create_ticket):
    ticket = create_ticket("it", "erik")
    auth.login("ivar")
    client.post("/workspace/it/canned", data={"title": "Omstart", "body": "Hej {first_name}! Ärende {case_number}."})
    assert db.session.scalar(select(CannedResponse).where(CannedResponse.title == "Omstart"))
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert f"Hej Erik! Ärende {ticket.number}." in page
    assert client.get("/workspace/hr/canned").status_code == 403


def test_colleagues_see_who_else_has_the_case_open(client, auth, people, create_ticket, app):
    ticket = create_ticket("hr", "erik")
    other = app.test_client()
    other.post("/login", data={"username": "hugo", "password": "ett-bra-losenord"})
    other.get(f"/tickets/{ticket.number}")
    auth.login("hanna")
    assert "Tittar också på ärendet just nu: Hugo HR." in client.get(f"/tickets/{ticket.number}").get_data(
        as_text=True)


def test_case_pdf_has_the_whole_timeline(client, auth, people, create_ticket, tmp_path):
    ticket = create_ticket("it", "erik", subject="Skärmen är svart")
    auth.login("ivar")
    client.post(f"/tickets/{ticket.number}/reply", data={"body": "Intern åtgärd: byt kabel", "internal": "y"})
    response = client.get(f"/tickets/{ticket.number}/pdf")
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    pdf = tmp_path / "case.pdf"
    pdf.write_bytes(response.data)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert ticket.number in text and "Skärmen är svart" in text and "Intern åtgärd: byt kabel" in text


def test_a_reply_can_link_an_article(client, auth, people, create_ticket):
    from app.selfservice import services as article_services

    article_services.create_article(article_services.ArticleData(
        "Starta om datorn", "starta-om", "", "Håll in knappen.", "sv", "it", [], "published"), None)
    db.session.commit()
    ticket = create_ticket("it", "erik")
    auth.login("ivar")
    assert "Starta om datorn" in client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    client.post(f"/tickets/{ticket.number}/reply", data={"body": "Se artikeln.", "article": "starta-om"})
    db.session.expire_all()
    assert ticket.events[-2].body.endswith("/articles/starta-om") or ticket.events[-1].body.endswith(
        "/articles/starta-om")


def test_queue_counts_and_due_soon_follow_the_viewer_and_the_time(app, people, create_ticket):
    """The views' conditions are built once; the viewer and the time come as parameters on every query."""
    from app.tickets import queries

    tickets = [create_ticket("it", "erik", subject=f"Räkna {n}") for n in range(4)]
    now = utcnow()
    tickets[0].assignee = people["ivar"]
    tickets[1].resolution_due_at = now + timedelta(minutes=30)
    tickets[2].first_response_due_at = now - timedelta(minutes=5)
    tickets[3].status = "waiting"
    db.session.commit()
    it = tickets[0].function_id
    counts = queries.queue_counts(it, people["ivar"], now)
    assert counts["mine"] == 1 and counts["unassigned"] == 3 and counts["waiting"] == 1
    assert counts["due_soon"] >= 1 and counts["breached"] >= 1
    assert queries.queue_counts(it, people["sara"], now)["mine"] == 0
    due = queries.queue(it, "due_soon", people["ivar"], now).tickets
    assert tickets[1] in due and tickets[3] not in due
    assert tickets[1] not in queries.queue(it, "due_soon", people["ivar"], now + timedelta(hours=3)).tickets


def test_a_colleague_on_the_same_case_is_shown_and_opening_a_case_writes_nothing(app, client, auth, people,
                                                                                  create_ticket, create_user):
    """Presence is noted in a batch (as article views are): opening a case that holds nothing confidential is no
    write of its own; once written, a colleague opening the case sees who else has it open."""
    from app.core import counters
    from app.tickets import services
    from tests.conftest import AuthActions, counted_statements

    app.config["LOTSEN_COUNTER_FLUSH_SECONDS"] = 3600
    case = create_ticket("it", "erik", subject="Skärmen flimrar")
    auth.login("ivar")
    client.get(f"/tickets/{case.number}")
    with counted_statements() as statements:
        assert client.get(f"/tickets/{case.number}").status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert services.presence_seen.pending(app) == {(case.id, people["ivar"].id): 2}
    create_user("iris", roles=["specialist:it"], display_name="Iris IT")
    colleague = app.test_client()
    AuthActions(colleague).login("iris")
    assert "Tittar också" not in colleague.get(f"/tickets/{case.number}").get_data(as_text=True)  # not written yet
    counters.flush(app)
    assert "Tittar också på ärendet just nu: Ivar IT." in colleague.get(f"/tickets/{case.number}").get_data(
        as_text=True)
    counters.flush(app)  # the colleague's own presence: written again, not twice
    counters.flush(app)
    assert "Tittar också på ärendet just nu: Iris IT." in client.get(f"/tickets/{case.number}").get_data(
        as_text=True)


def test_presence_on_a_case_that_is_gone_does_not_hold_up_the_others(app, client, auth, people, create_ticket):
    from app.core import counters
    from app.tickets import services
    from app.tickets.models import TicketPresence

    app.config["LOTSEN_COUNTER_FLUSH_SECONDS"] = 3600
    kept, gone = create_ticket("it", "erik", subject="Kvar"), create_ticket("it", "erik", subject="Borta")
    auth.login("ivar")
    client.get(f"/tickets/{kept.number}")
    with app.test_request_context():
        services.presence_seen.add((gone.id + 1000, people["ivar"].id))  # a case deleted since it was opened
    counters.flush(app)
    assert services.presence_seen.pending(app) == {}
    assert kept.id in set(db.session.scalars(select(TicketPresence.ticket_id)))
