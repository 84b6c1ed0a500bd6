"""The administrator's outbox page: failed mails and mails waiting for a retry, and sending them again."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.core.db import db, utcnow
from app.core.mail import MAX_ATTEMPTS, OutboxMessage, enqueue
from tests.conftest import csrf_token_from


@pytest.fixture
def outbox(app):
    """A failed mail, one waiting for a retry, one queued and one sent today."""
    failed = enqueue("borta@kommun.example", "Ärende LOT-1: Ny kommentar", "x")
    failed.failed, failed.attempts, failed.last_error = True, MAX_ATTEMPTS, "550 No such user"
    waiting = enqueue("senare@kommun.example", "Ärende LOT-2", "x")
    waiting.attempts, waiting.last_error = 2, "Connection refused"
    waiting.next_attempt_at = utcnow() + timedelta(minutes=4)
    enqueue("ny@kommun.example", "Ärende LOT-3", "x")
    sent = enqueue("klar@kommun.example", "Ärende LOT-4", "x")
    sent.sent_at, sent.attempts = utcnow(), 1
    db.session.commit()
    return {"failed": failed, "waiting": waiting}


@pytest.mark.parametrize(("user", "page", "resend"), [
    (None, 302, 302), ("erik", 403, 403), ("ivar", 403, 403), ("chef.admin", 200, 302)])
def test_only_administrators_see_the_outbox(client, auth, people, outbox, user, page, resend):
    if user:
        auth.login(user)
    response = client.get("/admin/outbox")
    assert response.status_code == page
    if user is None:
        assert "/login" in response.headers["Location"]
    assert client.post(f"/admin/outbox/{outbox['failed'].id}/resend").status_code == resend
    assert client.post("/admin/outbox/resend-failed").status_code == resend
    db.session.expire_all()
    assert outbox["failed"].failed is (user != "chef.admin")


def test_the_outbox_page_lists_failed_and_waiting_mails_with_counts(client, auth, people, outbox):
    auth.login("chef.admin")
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Utgående e-post" in page and "Skicka igen" in page
    assert "borta@kommun.example" in page and "550 No such user" in page
    assert "senare@kommun.example" in page and "Connection refused" in page
    assert "ny@kommun.example" not in page and "klar@kommun.example" not in page
    assert "Väntar på att skickas</dt><dd>2" in page.replace("\n", "")
    assert "Skickade i dag</dt><dd>1" in page and "Misslyckade</dt><dd>1" in page
    assert 'href="/admin/outbox"' in client.get("/").get_data(as_text=True)


def test_sending_a_failed_mail_again_keeps_its_message_id(client, auth, people, outbox):
    failed = outbox["failed"]
    message_id = failed.message_id
    auth.login("chef.admin")
    response = client.post(f"/admin/outbox/{failed.id}/resend")
    assert response.status_code == 302
    db.session.expire_all()
    assert (failed.failed, failed.attempts, failed.message_id) == (False, 0, message_id)
    assert failed.next_attempt_at <= utcnow()
    assert client.post("/admin/outbox/999999/resend").status_code == 404


def test_sending_all_failed_mails_again(client, auth, people, outbox):
    more = enqueue("aven@kommun.example", "Ärende LOT-5", "x")
    more.failed, more.attempts = True, MAX_ATTEMPTS
    db.session.commit()
    auth.login("chef.admin")
    page = client.post("/admin/outbox/resend-failed", follow_redirects=True).get_data(as_text=True)
    assert "2 misslyckade e-postmeddelanden skickas igen" in page
    db.session.expire_all()
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.failed.is_(True))).all() == []
    assert outbox["waiting"].attempts == 2, "a mail waiting for its retry is not touched"


def test_send_again_needs_a_csrf_token(make_app, people, outbox):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "chef.admin", "password": "ett-bra-losenord",
                                "csrf_token": csrf_token_from(page)})
    failed = outbox["failed"]
    assert client.post(f"/admin/outbox/{failed.id}/resend").status_code == 400
    page = client.get("/admin/outbox").get_data(as_text=True)
    response = client.post(f"/admin/outbox/{failed.id}/resend", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    db.session.expire_all()
    assert failed.failed is False
