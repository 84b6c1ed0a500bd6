"""The whole path of an identity number (form, API, stored data, list title, PDF), the conversion rules from
Lotsen's own records, the order page as people read it, and the archival PDF."""

from __future__ import annotations

import subprocess

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db
from app.forms.models import FormDocument, FormSubmission
from app.tickets.models import Ticket
from tests.forms.test_orders import EXAMPLE, flat, pdf_text
from tests.forms.test_validation import order as _order


def _send(client, data):
    response = client.post("/forms/employment-contract/new", data=flat(data) | {"action": "submit"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(FormSubmission).order_by(FormSubmission.id.desc()))


def _stored(submission_id):
    """The order as the database holds it, read past the session's identity map."""
    db.session.expire_all()
    return db.session.get(FormSubmission, submission_id)


def test_a_samordningsnummer_keeps_its_number_everywhere(client, auth, people, tmp_path):
    auth.login("anna")
    submission = _send(client, _order(employee__personnummer="7302889931"))
    stored = _stored(submission.id)
    assert stored.data["employee"]["personnummer"] == "19730288-9931"  # not the birth date 19730228
    # the lookup column holds a keyed hash (issue 17), found by the number itself
    assert db.session.scalar(select(FormSubmission.id).where(FormSubmission.person_number == "19730288-9931")) == (
        stored.id)
    assert stored.title.endswith("(19730288-****)")
    assert "(19730288-****)" in client.get("/forms").get_data(as_text=True)
    ticket = db.session.get(Ticket, stored.ticket_id)
    assert "19730288-****" in ticket.subject and "9931" not in ticket.subject
    auth.logout()
    auth.login("hanna")
    page = client.get(f"/forms/{submission.id}").get_data(as_text=True)
    assert "19730288-9931 (samordningsnummer)" in page
    client.post(f"/forms/{submission.id}/approve", data={})
    text = pdf_text(client.get(f"/forms/{submission.id}/documents/1.pdf").data, tmp_path)
    assert "19730288-9931" in text and "19730228" not in text


def test_the_normal_form_is_saved_not_what_was_typed(client, auth, people):
    """The stored JSON gets a new object: before, the number was changed in place and never written."""
    auth.login("anna")
    submission = _send(client, _order(employee__personnummer="090527+1474"))
    assert _stored(submission.id).data["employee"]["personnummer"] == "19090527-1474"
    assert _stored(submission.id).data["pay"]["pension"] == "KAP-KL"  # born 1909
    draft = client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {
        "employee__personnummer": "900101–2302", "action": "draft"})  # an en dash from Word
    assert draft.status_code == 302
    kept = db.session.scalar(select(FormSubmission).where(FormSubmission.status == "draft"))
    assert kept.data["employee"]["personnummer"] == "900101–2302"  # a draft keeps what was written
    client.post(f"/forms/{kept.id}/edit", data=flat(EXAMPLE) | {"employee__personnummer": "900101–2302",
                                                                 "action": "submit"})
    assert _stored(kept.id).data["employee"]["personnummer"] == "19900101-2302"


def test_the_api_stores_the_normal_form(client, runner, people):
    token = runner.invoke(args=["users", "tokens", "create", "anna", "x", "--scope", "forms:submit"]).stdout.strip()
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/forms/employment-contract", headers=headers,
                          json=_order(employee__personnummer="19730288–9931"))
    assert created.status_code == 201, created.get_json()
    assert _stored(created.get_json()["id"]).data["employee"]["personnummer"] == "19730288-9931"
    zero = client.post("/api/v1/forms/employment-contract", headers=headers,
                       json=_order(employee__personnummer="900101-0009"))
    assert zero.status_code == 422 and "000" in zero.get_json()["error"]["fields"]["employee.personnummer"]


def test_an_employee_without_a_number_is_completed_by_hr(client, auth, people, tmp_path):
    auth.login("anna")
    submission = _send(client, _order(employee__personnummer="", employee__no_identity_number=True,
                                      employee__birth_date="1990-01-01"))
    assert submission.title.endswith("(f. 1990-01-01)")
    auth.logout()
    auth.login("hanna")
    client.post(f"/forms/{submission.id}/approve", data={})
    text = pdf_text(client.get(f"/forms/{submission.id}/documents/1.pdf").data, tmp_path)
    assert "Saknar ännu svenskt identitetsnummer, född 1990-01-01" in text
    page = client.get(f"/forms/{submission.id}").get_data(as_text=True)
    assert "Lägg till identitetsnumret" in page
    wrong = client.post(f"/forms/{submission.id}/identity", data={"personnummer": "19730288-9931"},
                        follow_redirects=True).get_data(as_text=True)
    assert "inte beställningens födelsedatum" in wrong
    client.post(f"/forms/{submission.id}/identity", data={"personnummer": "900101-2302"})
    stored = _stored(submission.id)
    assert stored.data["employee"]["personnummer"] == "19900101-2302"
    assert db.session.scalar(select(FormSubmission.id).where(FormSubmission.person_number == "19900101-2302")) == (
        stored.id)
    assert [d.version for d in stored.documents] == [1, 2]  # the approved document is never changed
    text = pdf_text(client.get(f"/forms/{submission.id}/documents/2.pdf").data, tmp_path)
    assert "19900101-2302" in text
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "identity_completed"))
    auth.logout()
    auth.login("anna")  # the manager cannot complete a sent order
    client.post(f"/forms/{submission.id}/identity", data={"personnummer": "900101-2302"})


def test_conversion_counts_come_from_earlier_orders_and_hr_acknowledges(client, auth, people):
    auth.login("anna")
    earlier = _send(client, _order(employment__start_date="2026-01-05", employment__end_date="2026-11-30"))
    auth.logout()
    auth.login("hanna")
    client.post(f"/forms/{earlier.id}/approve", data={})
    auth.logout()
    auth.login("anna")
    new = _send(client, _order(employment__start_date="2027-01-04", employment__end_date="2027-06-30"))
    auth.logout()
    auth.login("hanna")
    page = client.get(f"/forms/{new.id}").get_data(as_text=True)
    assert f"Godkänd beställning {earlier.id}" in page and "gränsen passerad" in page
    assert "330 dagar" not in page and "508 av högst 365 dagar" in page  # 330 + 178, from Lotsen's records
    refused = client.post(f"/forms/{new.id}/approve", data={}, follow_redirects=True).get_data(as_text=True)
    assert "konverteringsregel" in refused and _stored(new.id).status == "submitted"
    client.post(f"/forms/{new.id}/approve", data={"acknowledge": "1"})
    stored = _stored(new.id)
    assert stored.status == "approved" and "konverteringsregler kontrollerade" in stored.history[-1].comment


def test_the_order_page_reads_like_a_form_and_shows_what_a_resubmission_changed(client, auth, people):
    auth.login("anna")
    submission = _send(client, _order(pay__amount=31500.0))
    auth.logout()
    auth.login("hanna")
    page = client.get(f"/forms/{submission.id}").get_data(as_text=True)
    for raw in ("<dt>first_name</dt>", "sarskild_visstid<", "monthly<", "31500.0"):
        assert raw not in page, raw
    assert "<dt>Förnamn</dt>" in page and "Särskild visstidsanställning" in page and "31\u00a0500" in page
    assert "Månadslön" in page and "Skriftlig information (LAS 6 c §)" in page
    client.post(f"/forms/{submission.id}/return", data={"comment": "Fel lön"})
    auth.logout()
    auth.login("anna")
    client.post(f"/forms/{submission.id}/edit", data=flat(_order(pay__amount=32000)) | {"action": "submit"})
    auth.logout()
    auth.login("hanna")
    page = client.get(f"/forms/{submission.id}").get_data(as_text=True)
    assert "Ändrat sedan beställningen skickades senast" in page
    assert "<del>31500.0</del>" in page and "<ins>32000.0</ins>" in page


def test_after_approval_the_case_links_the_order_and_asks_no_rating(client, auth, people):
    auth.login("anna")
    submission = _send(client, EXAMPLE)
    ticket = db.session.get(Ticket, submission.ticket_id)
    case = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert f'href="http://localhost/forms/{submission.id}"' in case and "Öppna beställningen" in case
    auth.logout()
    auth.login("hanna")
    client.post(f"/forms/{submission.id}/approve", data={})
    page = client.get(f"/forms/{submission.id}").get_data(as_text=True)
    assert "UTKAST" not in page and client.get(f"/forms/{submission.id}/preview.pdf").status_code == 404
    auth.logout()
    auth.login("anna")
    case = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Betygsätt hjälpen" not in case
    assert client.post(f"/tickets/{ticket.number}/rate", data={"rating": "5"}).status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).rating is None


def test_the_approved_document_is_pdf_a_with_embedded_fonts(client, auth, people, tmp_path):
    auth.login("anna")
    submission = _send(client, EXAMPLE)
    auth.logout()
    auth.login("hanna")
    client.post(f"/forms/{submission.id}/approve", data={})
    path = tmp_path / "doc.pdf"
    path.write_bytes(client.get(f"/forms/{submission.id}/documents/1.pdf").data)
    meta = subprocess.run(["pdfinfo", "-meta", str(path)], capture_output=True, text=True, check=True).stdout
    assert 'pdfaid:part="2"' in meta and 'pdfaid:conformance="B"' in meta
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)  # every font embedded
    assert db.session.scalar(select(FormDocument)).size == path.stat().st_size


@pytest.mark.parametrize("form", ["employment-contract", "employment-end"])
def test_preview_and_download_are_audited(client, auth, people, form):
    auth.login("anna")
    data = EXAMPLE if form == "employment-contract" else {
        "employee": {"personnummer": "19900101-2302", "first_name": "Åsa", "last_name": "Öberg"},
        "position": {"title": "Lärare", "unit": "Skolan", "manager": "Anna"},
        "end": {"reason": "own_resignation", "notice_date": "2027-01-10", "last_day": "2027-04-09"}}
    client.post(f"/forms/{form}/new", data=flat(data) | {"action": "submit"})
    submission = db.session.scalar(select(FormSubmission))
    client.get(f"/forms/{submission.id}/preview.pdf")
    audited = db.session.scalars(select(AuditEntry.detail).where(AuditEntry.object_id == str(submission.id),
                                                                  AuditEntry.action == "download")).all()
    assert audited == ["preview.pdf"]


def test_hr_sees_which_orders_risk_the_seven_day_deadline(client, auth, people):
    from datetime import datetime, timedelta

    from app.forms.validation import STOCKHOLM

    today = datetime.now(STOCKHOLM).date()
    soon = (today + timedelta(days=1)).isoformat()
    auth.login("anna")
    _send(client, _order(employment__start_date=soon, employment__end_date=(today + timedelta(days=90))
                         .isoformat()))
    _send(client, _order(employee__first_name="Bo"))  # starts 2027-01-04: time enough
    auth.logout()
    auth.login("hanna")
    page = client.get("/forms").get_data(as_text=True)
    due = (today + timedelta(days=8)).isoformat()
    assert page.count("Risk: den skriftliga informationen ska lämnas senast") == 1 and due in page
