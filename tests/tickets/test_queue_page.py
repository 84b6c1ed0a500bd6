"""The queue (issue 14): search in what was written, bulk actions, saved filters, "N new", landing after log-in."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db
from app.tickets import services
from app.tickets.models import SavedFilter, Ticket


def test_search_finds_words_in_messages_notes_and_the_requester(client, auth, people, create_ticket, calendar,
                                                                 mail_context):
    printer = create_ticket("it", "erik", subject="Skrivaren", description="Den skriver inget.")
    screen = create_ticket("it", "kalle", subject="Skärmen", description="Svart.")
    services.add_reply(screen, people["ivar"], "Bytt grafikkortet på plan 3", public=False, calendar=calendar,
                       mail=mail_context)
    db.session.commit()
    auth.login("ivar")
    for words, expected, absent in (("grafikkortet", screen, printer), ("Kalle", screen, printer),
                                    ("skriver inget", printer, screen), ("50%_", None, None)):
        page = client.get(f"/workspace/it?q={words}").get_data(as_text=True)
        if expected is not None:
            assert expected.number in page and absent.number not in page, words
        else:
            assert "Inga ärenden här." in page  # LIKE's wildcards are searched as text


def test_search_never_finds_text_sealed_from_the_function(client, auth, people, create_ticket, calendar,
                                                           mail_context):
    ticket = create_ticket("hr", "erik", subject="Fråga")
    services.add_reply(ticket, people["hanna"], "Sjukskrivning och rehabilitering", public=False,
                       calendar=calendar, mail=mail_context)
    services.reroute(ticket, people["hanna"], "it", "Gäller datorn", calendar)
    db.session.commit()
    auth.login("ivar")
    assert ticket.number not in client.get("/workspace/it?q=rehabilitering").get_data(as_text=True)
    assert ticket.number in client.get("/workspace/it?q=Fråga").get_data(as_text=True)


def test_bulk_close_assign_and_priority_are_audited(client, auth, people, create_ticket):
    tickets = [create_ticket("it", "erik", subject=f"Skrivare {n}") for n in range(3)]
    auth.login("ivar")
    page = client.get("/workspace/it").get_data(as_text=True)
    assert page.count('name="case"') == 3
    numbers = [t.number for t in tickets[:2]]
    response = client.post("/workspace/it/bulk", data={"case": numbers, "bulk_action": "priority",
                                                       "priority": "high", "back": "view=open"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/workspace/it?view=open")
    client.post("/workspace/it/bulk", data={"case": numbers, "bulk_action": "assign", "assignee": "ivar"})
    client.post("/workspace/it/bulk", data={"case": numbers, "bulk_action": "close"})
    db.session.expire_all()
    for ticket in tickets[:2]:
        fresh = db.session.get(Ticket, ticket.id)
        assert (fresh.priority, fresh.assignee.username, fresh.status) == ("high", "ivar", "closed")
    assert db.session.get(Ticket, tickets[2].id).status == "new"
    actions = sorted(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("bulk_%"))))
    assert actions == ["bulk_assign"] * 2 + ["bulk_close"] * 2 + ["bulk_priority"] * 2
    page = client.get("/workspace/it?view=resolved").get_data(as_text=True)
    assert tickets[0].number in page


def test_a_bulk_action_on_a_case_of_another_function_changes_nothing(client, auth, people, create_ticket):
    mine = create_ticket("it", "erik", subject="Min")
    theirs = create_ticket("facilities", "erik", subject="Deras")
    auth.login("ivar")
    answer = client.post("/workspace/it/bulk", data={"case": [mine.number, theirs.number], "bulk_action": "close"},
                         follow_redirects=True)
    assert "Du kan inte ändra" in answer.get_data(as_text=True) or theirs.number not in answer.get_data(
        as_text=True)
    db.session.expire_all()
    assert db.session.get(Ticket, mine.id).status == "new"  # all or nothing
    assert db.session.get(Ticket, theirs.id).status == "new"


def test_saved_filters_are_personal(client, auth, people, create_ticket):
    auth.login("ivar")
    client.post("/workspace/it/filters", data={"name": "Brådskande skrivare", "back": "view=open&q=skrivare"
                                                                                       "&priority=urgent"})
    saved = db.session.scalar(select(SavedFilter))
    assert saved.name == "Brådskande skrivare" and saved.query == "view=open&q=skrivare&priority=urgent"
    page = client.get("/workspace/it").get_data(as_text=True)
    assert "Brådskande skrivare" in page and "?view=open&amp;q=skrivare&amp;priority=urgent" in page
    auth.logout()
    auth.login("hanna")
    assert client.post(f"/workspace/it/filters/{saved.id}/delete").status_code == 403  # not her function
    auth.logout()
    auth.login("ivar")
    client.post(f"/workspace/it/filters/{saved.id}/delete")
    assert db.session.scalar(select(SavedFilter)) is None


def test_new_cases_are_counted_for_the_banner(client, auth, people, create_ticket):
    first = create_ticket("it", "erik")
    auth.login("ivar")
    assert client.get(f"/workspace/it/new-count?view=open&after={first.id}").get_json() == {"new": 0}
    create_ticket("it", "kalle")
    create_ticket("hr", "kalle")  # another function's case is not counted
    assert client.get(f"/workspace/it/new-count?view=open&after={first.id}").get_json() == {"new": 1}
    assert client.get(f"/workspace/hr/new-count?after={first.id}").status_code == 403


def test_specialists_land_on_their_queue_and_editors_see_their_area(client, people, create_user):
    answer = client.post("/login", data={"username": "ivar", "password": "ett-bra-losenord"})
    assert answer.headers["Location"] == "/workspace"
    client.post("/logout")
    create_user("eva", roles=["editor:it"])
    answer = client.post("/login", data={"username": "eva", "password": "ett-bra-losenord"})
    assert answer.headers["Location"] == "/"
    assert 'href="/editor/articles"' in client.get("/").get_data(as_text=True)


def test_the_assign_list_names_the_functions_active_specialists(client, auth, people, create_ticket, create_user):
    """The bulk bar's colleagues, read as names only (issue 12: no user objects for a list of names): the
    function's active specialists by name, the user name when a person has no display name."""
    create_ticket("hr", "erik")
    create_user("helga", roles=["specialist:hr"], display_name="")
    people["hugo"].is_active = False
    db.session.commit()
    auth.login("hanna")
    page = client.get("/workspace/hr").get_data(as_text=True)
    chosen = page[page.index('id="bulk-assignee"'):]
    chosen = chosen[:chosen.index("</select>")]
    assert re.findall(r'<option value="([^"]*)">([^<]*)</option>', chosen) == [
        ("", "Ingen"), ("helga", "helga"), ("hanna", "Hanna HR")]
