"""Ending an employment: the follow-up cases, and the robots' work queue in the API (RPA), end to end."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db, utcnow
from app.forms.models import FormSubmission
from app.tickets.models import Ticket
from tests.forms.test_orders import flat

END = {"employee": {"personnummer": "19900101-2302", "first_name": "Åsa", "last_name": "Öberg"},
       "position": {"title": "Lärare", "unit": "Björkskolan", "manager": "Anna Chef"},
       "end": {"reason": "own_resignation", "notice_date": "2027-01-11", "last_day": "2027-04-09", "comment": ""}}


def _approved_end_orders(client, auth, count):
    auth.login("anna")
    for i in range(count):
        data = flat(END) | {"employee__first_name": f"Person{i}", "action": "submit"}
        assert client.post("/forms/employment-end/new", data=data).status_code == 302
    auth.logout()
    auth.login("hanna")
    ids = db.session.scalars(select(FormSubmission.id).order_by(FormSubmission.id)).all()
    for submission_id in ids:
        client.post(f"/forms/{submission_id}/approve", data={})
    auth.logout()
    return ids


def _token(runner, username, *scopes):
    args = ["users", "tokens", "create", username, "robot"]
    for scope in scopes:
        args += ["--scope", scope]
    result = runner.invoke(args=args)
    return result.stdout.strip(), result


def test_approval_opens_the_follow_up_cases(client, auth, people):
    [order_id] = _approved_end_orders(client, auth, 1)
    submission = db.session.get(FormSubmission, order_id)
    tickets = {t.function.slug: t for t in db.session.scalars(select(Ticket).where(Ticket.id != submission.ticket_id))}
    assert set(tickets) == {"it", "facilities", "payroll"}
    for ticket in tickets.values():
        assert ticket.requester.username == "anna" and ticket.channel == "form"
        assert "Person0 Öberg" in ticket.subject and "2027-04-09" in ticket.description
        assert "19900101" not in ticket.subject + ticket.description  # IT and facilities need no identity number
    # due on the last day (Friday 9 April 2027), final pay two working days before
    assert tickets["it"].resolution_due_at.date().isoformat() == "2027-04-09"
    assert tickets["payroll"].resolution_due_at.date().isoformat() == "2027-04-07"
    auth.login("hanna")
    page = client.get(f"/forms/{order_id}").get_data(as_text=True)
    assert "Uppföljningsärenden" in page and tickets["it"].number in page and "Väntar på roboten." in page


def test_a_queue_token_carries_only_the_queue_scope(runner, people):
    _, mixed = _token(runner, "hanna", "orders:queue", "cases:read")
    assert mixed.exit_code == 1 and "bara behörigheten orders:queue" in mixed.output
    token, ok = _token(runner, "hanna", "orders:queue")
    assert ok.exit_code == 0 and token.startswith("lot_")
    personal, _ = _token(runner, "anna", "forms:submit")
    assert personal


def test_a_robot_run_end_to_end(client, auth, runner, people):
    ids = _approved_end_orders(client, auth, 2)
    token, _ = _token(runner, "hanna", "orders:queue")
    robot = {"Authorization": f"Bearer {token}"}
    personal, _ = _token(runner, "hanna", "cases:read")
    assert client.get("/api/v1/robot/orders", headers={"Authorization": f"Bearer {personal}"}).status_code == 403
    manager, _ = _token(runner, "anna", "orders:queue")  # the right scope, but not HR
    assert client.get("/api/v1/robot/orders", headers={"Authorization": f"Bearer {manager}"}).status_code == 403
    assert client.get("/api/v1/robot/orders").status_code == 401

    queue = client.get("/api/v1/robot/orders", headers=robot).get_json()["orders"]
    assert [o["id"] for o in queue] == ids and queue[0]["state"] == "pending" and "data" not in queue[0]

    first = client.post("/api/v1/robot/orders/claim", headers=robot | {"Idempotency-Key": "run-1"}).get_json()
    assert first["order"]["id"] == ids[0] and first["order"]["data"]["employee"]["personnummer"] == "19900101-2302"
    again = client.post("/api/v1/robot/orders/claim", headers=robot | {"Idempotency-Key": "run-1"}).get_json()
    assert again["order"]["id"] == ids[0] and again["claim"] == first["claim"]  # a retried request
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "robot_claim",
                                                      AuditEntry.object_id == str(ids[0])))

    url = f"/api/v1/robot/orders/{ids[0]}/report"
    wrong = client.post(url, headers=robot, json={"claim": "not-mine", "outcome": "done"})
    assert wrong.status_code == 409
    done = client.post(url, headers=robot, json={"claim": first["claim"], "outcome": "done", "note": "Konto stängt"})
    assert done.status_code == 200 and done.get_json() == {"id": ids[0], "state": "done", "already_reported": False}
    twice = client.post(url, headers=robot, json={"claim": first["claim"], "outcome": "done"})
    assert twice.status_code == 200 and twice.get_json()["already_reported"] is True
    bad = client.post(url, headers=robot, json={"claim": first["claim"], "outcome": "maybe"})
    assert bad.status_code == 422

    second = client.post("/api/v1/robot/orders/claim", headers=robot).get_json()
    assert second["order"]["id"] == ids[1]
    failed = client.post(f"/api/v1/robot/orders/{ids[1]}/report", headers=robot,
                         json={"claim": second["claim"], "outcome": "failed", "note": "Kortet saknas i systemet"})
    assert failed.get_json()["state"] == "failed"
    assert client.post("/api/v1/robot/orders/claim", headers=robot).status_code == 204  # nothing waits

    auth.login("hanna")
    page = client.get(f"/forms/{ids[1]}").get_data(as_text=True)
    assert "Roboten kunde inte slutföra rutinstegen." in page and "Kortet saknas i systemet" in page
    client.post(f"/forms/{ids[1]}/robot/requeue", data={})
    db.session.expire_all()
    assert db.session.get(FormSubmission, ids[1]).robot_state == "pending"
    history = [h.action for h in db.session.get(FormSubmission, ids[1]).history]
    assert history[-3:] == ["robot_claimed", "robot_failed", "robot_requeued"]


def test_two_robots_claiming_at_once_never_get_the_same_order(app, client, auth, runner, people):
    ids = _approved_end_orders(client, auth, 3)
    tokens = [_token(runner, "hanna", "orders:queue")[0] for _ in range(6)]
    claimed, statuses = [], []

    def robot(token):
        answer = app.test_client().post("/api/v1/robot/orders/claim", headers={"Authorization": f"Bearer {token}"})
        statuses.append(answer.status_code)
        if answer.status_code == 200:
            claimed.append(answer.get_json()["order"]["id"])

    threads = [threading.Thread(target=robot, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == ids and sorted(statuses) == [200, 200, 200, 204, 204, 204]


def test_a_robot_that_dies_mid_claim_leaves_the_order_to_the_next(client, auth, runner, people):
    [order_id] = _approved_end_orders(client, auth, 1)
    dead, _ = _token(runner, "hanna", "orders:queue")
    alive, _ = _token(runner, "hanna", "orders:queue")
    first = client.post("/api/v1/robot/orders/claim", headers={"Authorization": f"Bearer {dead}"}).get_json()
    assert client.post("/api/v1/robot/orders/claim",
                       headers={"Authorization": f"Bearer {alive}"}).status_code == 204  # still claimed
    db.session.get(FormSubmission, order_id).robot_claimed_until = utcnow() - timedelta(seconds=1)  # it expired
    db.session.commit()
    second = client.post("/api/v1/robot/orders/claim", headers={"Authorization": f"Bearer {alive}"}).get_json()
    assert second["order"]["id"] == order_id and second["claim"] != first["claim"]
    late = client.post(f"/api/v1/robot/orders/{order_id}/report", headers={"Authorization": f"Bearer {dead}"},
                       json={"claim": first["claim"], "outcome": "done"})
    assert late.status_code == 409  # the dead robot's claim is gone
    assert client.post(f"/api/v1/robot/orders/{order_id}/report", headers={"Authorization": f"Bearer {alive}"},
                       json={"claim": second["claim"], "outcome": "done"}).status_code == 200
    assert db.session.get(FormSubmission, order_id).robot_attempts == 2


def test_the_documented_robot_runs_against_a_live_lotsen(app, client, auth, runner, people):
    """docs/examples/robot_queue.py, as a robot would run it: over HTTP, until the queue is empty."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from werkzeug.serving import make_server

    ids = _approved_end_orders(client, auth, 2)
    token, _ = _token(runner, "hanna", "orders:queue")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        script = Path(__file__).resolve().parents[2] / "docs/examples/robot_queue.py"
        run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                             env={**os.environ, "LOTSEN_URL": f"http://127.0.0.1:{server.server_port}",
                                  "LOTSEN_TOKEN": token})
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert run.returncode == 0, run.stderr
    assert "ending Person0 Öberg on 2027-04-09" in run.stderr and "the queue is empty" in run.stderr
    db.session.expire_all()
    assert [db.session.get(FormSubmission, i).robot_state for i in ids] == ["done", "done"]
