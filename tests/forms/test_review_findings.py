"""Found by a review of the HR forms change (#13): each test failed on the first version."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from app.core.audit import AuditEntry
from app.core.db import db, utcnow
from app.forms import services as forms
from app.forms.identity import parse_identity_number
from app.forms.models import FormSubmission
from app.tickets.models import Ticket
from tests.forms.test_identity_and_law import _send, _stored
from tests.forms.test_robot_queue import _approved_end_orders, _token
from tests.forms.test_validation import order as _order

TODAY = date(2026, 11, 30)


# --- identity numbers -------------------------------------------------------------------------------------
def test_identity_number_with_non_ascii_digits_is_not_stored_in_the_normal_form():
    """NUMBER_RE uses \\d without re.ASCII: full-width (or Arabic-Indic) digits pass and are kept as typed."""
    try:
        number = parse_identity_number("１９９００１０１-２３０２", TODAY)
    except ValueError:
        return  # refused: fine
    assert number.normal == "19900101-2302"


def test_non_ascii_digits_escape_the_conversion_rules(client, auth, people):
    """Sent through the form, full-width digits are stored as such (data and person_number): the person's
    earlier orders are looked up by person_number, so the conversion rules no longer see them."""
    auth.login("anna")
    response = client.post("/forms/employment-contract/new", data={
        **{f"{s}__{k}": v for s, f in _order(employee__personnummer="１９９００１０１－２３０２").items()
           for k, v in f.items() if v not in (None, False)}, "action": "submit"})
    assert response.status_code == 400 and "Skriv 10 eller 12 siffror" in response.get_data(as_text=True)
    assert db.session.scalar(select(FormSubmission)) is None  # refused, not stored as typed


# --- the law ----------------------------------------------------------------------------------------------
def test_a_vikariat_ending_on_a_condition_counts_until_today(people):
    """earlier_periods says such a vikariat "counts until today" but uses min(today, start): one day."""
    db.session.add(FormSubmission(
        form_slug="employment-contract", status="approved", owner=people["anna"], title="x",
        person_number="19900101-2302",
        data={"employee": {"personnummer": "19900101-2302"},
              "employment": {"form": "vikariat", "start_date": "2025-01-01", "end_date": None,
                             "end_condition": "tills Eva Ek återkommer"}}))
    db.session.commit()
    [period] = forms.earlier_periods("19900101-2302", today=TODAY)
    assert period.end == TODAY and period.days == (TODAY - date(2025, 1, 1)).days + 1


# --- the robots' work queue -------------------------------------------------------------------------------
def test_claim_retried_with_a_key_already_reported_is_not_a_server_error(client, auth, runner, people):
    """The retry path returns the reported order, whose robot_claimed_until is None: .isoformat() -> 500."""
    ids = _approved_end_orders(client, auth, 2)
    token, _ = _token(runner, "hanna", "orders:queue")
    robot = {"Authorization": f"Bearer {token}", "Idempotency-Key": "nightly-run"}
    first = client.post("/api/v1/robot/orders/claim", headers=robot).get_json()
    assert first["order"]["id"] == ids[0]
    done = client.post(f"/api/v1/robot/orders/{ids[0]}/report", headers={"Authorization": f"Bearer {token}"},
                       json={"claim": first["claim"], "outcome": "done"})
    assert done.status_code == 200
    again = client.post("/api/v1/robot/orders/claim", headers=robot)
    assert again.status_code < 500


def test_a_late_report_does_not_overwrite_the_next_robots_claim(client, auth, runner, people, create_user):
    """report_robot_work checks a row it read earlier and then writes unconditionally: a report whose claim
    expired and was taken by another robot in between marks the order done under the new claim (the order is
    then worked twice). It needs an UPDATE ... WHERE robot_claim = :claim AND robot_state = 'claimed'."""
    [order_id] = _approved_end_orders(client, auth, 1)
    create_user("hugo", roles=["specialist:hr"])
    slow, _ = _token(runner, "hanna", "orders:queue")
    fast, _ = _token(runner, "hugo", "orders:queue")
    first = client.post("/api/v1/robot/orders/claim", headers={"Authorization": f"Bearer {slow}"}).get_json()
    # robot 1's report request has read the order (its claim still current) ...
    seen = db.session.get(FormSubmission, order_id)
    assert seen.robot_claim == first["claim"]
    # ... when its claim expires and robot 2 takes the order
    with db.engine.begin() as conn:
        conn.execute(update(FormSubmission.__table__).where(FormSubmission.__table__.c.id == order_id)
                     .values(robot_claimed_until=utcnow() - timedelta(seconds=1)))
    second = client.post("/api/v1/robot/orders/claim", headers={"Authorization": f"Bearer {fast}"}).get_json()
    assert second["order"]["id"] == order_id
    try:
        forms.report_robot_work(seen, people["hanna"], first["claim"], "done", "")
        db.session.commit()
    except forms.ClaimLost:
        db.session.rollback()
    row = _stored(order_id)
    assert (row.robot_state, row.robot_claim) == ("claimed", second["claim"])


def test_a_retried_claim_that_returns_the_whole_order_is_audited(client, auth, runner, people):
    """The retry path hands out the whole order (identity number included) again without an audit entry."""
    [order_id] = _approved_end_orders(client, auth, 1)
    token, _ = _token(runner, "hanna", "orders:queue")
    robot = {"Authorization": f"Bearer {token}", "Idempotency-Key": "k1"}
    for _ in range(2):
        assert client.post("/api/v1/robot/orders/claim", headers=robot).get_json()["order"]["data"]
    reads = db.session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(order_id),
                                                        AuditEntry.action == "robot_claim")).all()
    assert len(reads) == 2


# --- the migration's data step ----------------------------------------------------------------------------
def test_upgrade_0010_reads_a_ten_digit_number_as_of_when_it_was_sent(tmp_path):
    """_normalise_sent_orders parses with date.today(), not the order's submitted_at: "260101-0016" sent in
    November 2025 meant 1926 (the person was 99); migrated on or after 2026-01-01 it becomes a baby born 2026."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from tests.test_migrations import _old_database

    with _old_database(tmp_path).app_context():
        upgrade(revision="0009")
        db.session.execute(text(
            "INSERT INTO user_account (username, display_name, email, department, title, auth_source, is_active, "
            "created_at, updated_at) VALUES ('anna', 'Anna', '', '', '', 'local', 1, '2025-01-01', '2025-01-01')"))
        db.session.execute(text(
            "INSERT INTO form_submission (form_slug, status, data, title, owner_id, created_at, updated_at, "
            "submitted_at) VALUES ('employment-end', 'submitted', :data, '', 1, '2025-11-01', '2025-11-01', "
            "'2025-11-01')"), {"data": json.dumps({"employee": {"personnummer": "260101-0016"}})})
        db.session.commit()
        assert parse_identity_number("260101-0016", date(2025, 11, 1)).normal == "19260101-0016"
        upgrade(revision="0015")  # 0016 keeps only a keyed hash of the number
        person_number = db.session.execute(text("SELECT person_number FROM form_submission")).scalar()
        downgrade(revision="0009")
        db.engine.dispose()
    assert person_number == "19260101-0016"


# --- the case subject -------------------------------------------------------------------------------------
def test_completing_the_identity_number_updates_the_case_subject_too(client, auth, people):
    """complete_identity_number rewrites submission.title but not the HR case's subject (still "f. ...")."""
    auth.login("anna")
    submission = _send(client, _order(employee__personnummer="", employee__no_identity_number=True,
                                      employee__birth_date="1990-01-01"))
    auth.logout()
    auth.login("hanna")
    client.post(f"/forms/{submission.id}/identity", data={"personnummer": "900101-2302"})
    stored = _stored(submission.id)
    assert stored.title.endswith("(19900101-****)")
    assert db.session.get(Ticket, stored.ticket_id).subject == stored.title


# --- access control -------------------------------------------------------------------------------------
def test_the_order_page_shows_hr_no_details_of_the_confidential_payroll_case(client, auth, people):
    """Payroll cases are confidential to payroll and the requester (tickets.can_view), but the order page lists
    every follow-up case (number, subject, due date, status) to whoever may read the order, HR included."""
    from app.tickets import services as ticket_services

    [order_id] = _approved_end_orders(client, auth, 1)
    payroll = db.session.scalar(select(Ticket).where(Ticket.subject.like("Avslut: slutlön%")))
    hanna = people["hanna"]
    assert not ticket_services.can_view(hanna, payroll)  # HR may not read the payroll case ...
    auth.login("hanna")
    assert client.get(f"/tickets/{payroll.number}").status_code in (403, 404)
    page = client.get(f"/forms/{order_id}").get_data(as_text=True)
    assert payroll.number not in page and "slutlön" not in page  # ... nor its number, subject and status here


@pytest.mark.parametrize("username", ["lars", "ivar", "anna"])
def test_only_hr_completes_or_requeues(client, auth, people, username):
    """Control (passes): payroll, IT and the ordering manager cannot complete or requeue."""
    ids = _approved_end_orders(client, auth, 1)
    auth.login(username)
    client.post(f"/forms/{ids[0]}/identity", data={"personnummer": "900101-2302"})
    client.post(f"/forms/{ids[0]}/robot/requeue", data={})
    assert _stored(ids[0]).robot_state == "pending"
