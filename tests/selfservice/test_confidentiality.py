"""Text that belongs to a confidential function stays there: question subjects in the search log, other
functions' drafts and translations, draft attachments in caches."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.core.db import db
from app.selfservice.models import SearchLog
from app.tickets.models import Ticket

SECRET = "sjukskrivning konflikt med chef"


def _type_into_the_question_form(client, token: str, text: str = SECRET):
    client.get(f"/search/live?q={text.replace(' ', '+')}&ask={token}")


def test_question_subjects_for_hr_never_reach_other_readers_of_the_insights(client, create_user, auth, corpus):
    create_user("erik")
    readers = {"ivar": ["specialist:it"], "rita": ["editor:it"], "adam": ["admin"], "hanna": ["specialist:hr"],
               "hedda": ["editor:hr"]}
    for name, roles in readers.items():
        create_user(name, roles=roles)
    auth.login("erik")
    _type_into_the_question_form(client, "form-1")
    # a form never sent: its searches could be about anything, so no one sees them
    for name in readers:
        auth.logout()
        auth.login(name)
        assert SECRET not in client.get("/reports/self-service").get_data(as_text=True), name
    # once sent to HR, HR sees them and nobody else does, administrators included
    auth.logout()
    auth.login("erik")
    client.post("/tickets/new", data={"category": "anstallning", "subject": SECRET, "description": "Hjälp",
                                      "submit_token": "form-1"})
    entry = db.session.scalar(select(SearchLog))
    assert entry.asked and entry.function_id is not None
    for name in readers:
        auth.logout()
        auth.login(name)
        shown = SECRET in client.get("/reports/self-service").get_data(as_text=True)
        assert shown == (name in ("hanna", "hedda")), name


def test_an_editor_cannot_pair_another_functions_article_or_probe_its_drafts(client, create_user, auth,
                                                                              create_article):
    create_user("rita", roles=["editor:it"])
    create_article("Hemligt utkast om löner", function="payroll", status="draft", slug="hemligt-utkast")
    create_article("Published HR article", function="hr", lang="en", slug="published-hr")
    mine = create_article("Lösenord", function="it", slug="losenord")
    auth.login("rita")
    answers = []
    for slug in ("hemligt-utkast", "published-hr", "finns-inte"):
        response = client.post(f"/editor/articles/{mine.id}", data={
            "title": "Lösenord", "slug": "losenord", "summary": "", "body": "x", "lang": "sv", "function": "it",
            "tags": "", "status": "published", "translation_of": slug})
        assert response.status_code == 400
        html = response.get_data(as_text=True)
        answers.append(html.count("samma stödfunktion"))
    assert answers == [2, 2, 2]  # the same answer (summary and field) whatever the slug
    db.session.expire_all()
    assert mine.translation_key is None


def test_draft_attachments_are_not_cached_and_published_ones_only_privately(client, create_user, auth,
                                                                             create_article):
    create_user("rita", roles=["editor:it"])
    draft = create_article("Utkast", function="it", status="draft")
    auth.login("rita")
    client.post(f"/editor/articles/{draft.id}/attachments",
                data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n0000"), "bild.png")}, content_type="multipart/form-data")
    attachment = draft.attachments[0] if draft.attachments else None
    db.session.refresh(draft)
    attachment = draft.attachments[0]
    url = f"/articles/{draft.slug}/files/{attachment.id}/bild.png"
    assert client.get(url).headers["Cache-Control"] == "private, no-store"
    draft.status = "published"
    db.session.commit()
    cache = client.get(url).headers["Cache-Control"]
    assert "private" in cache and "public" not in cache


def test_a_question_moved_to_hr_takes_its_searches_along(client, create_user, auth, corpus):
    """A question that first landed elsewhere and was then moved to HR: what was typed into the form is HR's
    from then on, in the insights too."""
    create_user("erik")
    readers = {"rita": ["editor:it"], "adam": ["admin"], "hanna": ["specialist:hr"]}
    for name, roles in readers.items():
        create_user(name, roles=roles)
    auth.login("erik")
    _type_into_the_question_form(client, "form-2")
    client.post("/tickets/new", data={"category": "", "subject": SECRET, "description": "Hjälp",
                                      "submit_token": "form-2"})
    ticket = db.session.scalar(select(Ticket))
    assert not ticket.function.is_confidential
    create_user("mottagare", roles=[f"specialist:{ticket.function.slug}"])
    auth.logout()
    auth.login("mottagare")
    assert client.post(f"/tickets/{ticket.number}/reroute", data={"function": "hr", "reason": "Gäller HR"}
                       ).status_code == 302
    for name in readers:
        auth.logout()
        auth.login(name)
        shown = SECRET in client.get("/reports/self-service").get_data(as_text=True)
        assert shown == (name == "hanna"), name
