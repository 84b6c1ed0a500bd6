"""One order, one case, one mail whatever the clicks; drafts are the manager's own; downloads are audited."""

from __future__ import annotations

import re
import threading

from sqlalchemy import func, select

from app.core.audit import AuditEntry
from app.core.db import db
from app.core.mail import OutboxMessage
from app.forms.models import FormSubmission
from app.tickets.models import Ticket
from tests.forms.test_orders import EXAMPLE, flat


def _parallel(app, cookies, count, send):
    statuses = []

    def worker():
        client = app.test_client()
        for name, value in cookies.items():
            client.set_cookie(name, value)
        statuses.append(send(client).status_code)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _counts():
    return (db.session.scalar(select(func.count(FormSubmission.id))), db.session.scalar(select(func.count(Ticket.id))),
            db.session.scalar(select(func.count(OutboxMessage.id))))


def test_a_new_order_sent_ten_times_at_once_is_one_order(app, client, auth, people):
    auth.login("anna")
    page = client.get("/forms/employment-contract/new").get_data(as_text=True)
    token = re.search(r'name="submit_token" type="hidden" value="([^"]+)"', page).group(1)
    cookies = {c.key: c.value for c in client._cookies.values()}
    data = flat(EXAMPLE) | {"action": "submit", "submit_token": token}
    statuses = _parallel(app, cookies, 10, lambda c: c.post("/forms/employment-contract/new", data=data))
    assert set(statuses) == {302}
    assert _counts() == (1, 1, 1)


def test_a_saved_draft_sent_ten_times_at_once_is_one_case(app, client, auth, people):
    auth.login("anna")
    client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "draft"})
    submission = db.session.scalar(select(FormSubmission))
    cookies = {c.key: c.value for c in client._cookies.values()}
    data = flat(EXAMPLE) | {"action": "submit"}
    statuses = _parallel(app, cookies, 10, lambda c: c.post(f"/forms/{submission.id}/edit", data=data))
    assert set(statuses) == {302}
    assert _counts() == (1, 1, 1)
    again = client.post(f"/forms/{submission.id}/edit", data=data, follow_redirects=True)
    assert "redan skickad" in again.get_data(as_text=True)


def test_the_api_idempotency_key_gives_the_same_order(app, client, people):
    from app.auth.services import create_access_token

    raw, _ = create_access_token(people["anna"], "robot", ["forms:submit"], 30)
    db.session.commit()
    headers = {"Authorization": f"Bearer {raw}", "Idempotency-Key": "order-4711"}
    first = client.post("/api/v1/forms/employment-contract", json=EXAMPLE, headers=headers)
    second = client.post("/api/v1/forms/employment-contract", json=EXAMPLE, headers=headers)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"]
    assert _counts() == (1, 1, 1)


def test_drafts_are_the_managers_own_until_sent(client, auth, people):
    auth.login("anna")
    client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "draft"})
    submission = db.session.scalar(select(FormSubmission))
    auth.logout()
    for reader in ("hanna", "lars"):
        auth.login(reader)
        assert client.get(f"/forms/{submission.id}").status_code == 404
        assert client.get(f"/forms/{submission.id}/preview.pdf").status_code == 404
        auth.logout()


def test_contract_downloads_are_audited(client, auth, people):
    auth.login("anna")
    client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "submit"})
    submission = db.session.scalar(select(FormSubmission))
    auth.logout()
    auth.login("hanna")
    assert client.get(f"/forms/{submission.id}/preview.pdf").status_code == 200
    client.post(f"/forms/{submission.id}/approve")
    assert client.get(f"/forms/{submission.id}/documents/1.pdf").status_code == 200
    details = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "download")
                                 .order_by(AuditEntry.id)).all()
    assert details == ["preview.pdf", "document v1"]
