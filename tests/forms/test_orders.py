"""Ordering, returning, resubmitting and approving through the pages; permissions; the PDF's text."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from app.core.audit import AuditEntry
from app.core.db import db
from app.forms.models import FormDocument, FormSubmission
from app.tickets.models import Ticket

EXAMPLE = json.loads((Path(__file__).resolve().parents[2] / "docs/examples/employment-contract.json").read_text())


def flat(data):
    """The order as a browser posts it: an unticked box is not sent at all."""
    return {f"{section}__{key}": "" if value is None else ("y" if value is True else value)
            for section, fields in data.items() for key, value in fields.items() if value is not False}


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_order_draft_submit_return_resubmit_approve(client, auth, people, tmp_path):
    auth.login("anna")
    form = client.get("/forms/employment-contract/new").get_data(as_text=True)
    assert "Anställningsform (LAS)" in form and 'value="KPA Pension"' in form
    assert 'value="AKAP-KR"' not in form  # the plan follows the birth year: filled in on sending

    # a draft keeps whatever was written, valid or not
    draft = flat(EXAMPLE) | {"employee__personnummer": "123", "action": "draft"}
    response = client.post("/forms/employment-contract/new", data=draft)
    submission = db.session.scalar(select(FormSubmission))
    assert response.status_code == 302 and submission.status == "draft"
    assert submission.data["employee"]["personnummer"] == "123"
    assert "Anställningsavtal: Åsa Öberg (****)" in client.get("/forms").get_data(as_text=True)

    # sending checks every rule, keeps the values and puts each error beside its field
    bad = client.post(f"/forms/{submission.id}/edit", data=draft | {"action": "submit", "pay__amount": "-1"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Skriv 10 eller 12 siffror" in html and "En månadslön mellan" in html
    assert 'id="employee__personnummer-error"' in html and 'value="Ängsvägen 12, 123 45 Exempelstad"' in html

    ok = client.post(f"/forms/{submission.id}/edit", data=flat(EXAMPLE) | {"action": "submit"})
    assert ok.status_code == 302
    db.session.expire_all()
    ticket = db.session.get(Ticket, submission.ticket_id)
    assert submission.status == "submitted" and ticket.function.slug == "hr"
    assert "19900101-2302" not in ticket.subject and "19900101-****" in ticket.subject
    assert ticket.number in client.get("/tickets").get_data(as_text=True)  # the manager follows it
    auth.logout()

    auth.login("hanna")
    page = client.get(f"/forms/{submission.id}").get_data(as_text=True)
    assert "19900101-2302" in page and "Godkänn och skapa dokumentet" in page
    client.post(f"/forms/{submission.id}/return", data={"comment": "Fel kostnadsställe"})
    db.session.expire_all()
    assert submission.status == "returned"
    auth.logout()

    auth.login("anna")
    edit = client.get(f"/forms/{submission.id}/edit").get_data(as_text=True)
    assert "Fel kostnadsställe" in edit
    client.post(f"/forms/{submission.id}/edit",
                data=flat(EXAMPLE) | {"position__cost_centre": "Ansvar 4120, kostnadsställe 41260", "action": "submit"})
    db.session.expire_all()
    assert submission.status == "submitted" and db.session.scalar(select(Ticket.id).where(Ticket.id != ticket.id)) \
        is None  # the same case, not a new one
    auth.logout()

    auth.login("hanna")
    client.post(f"/forms/{submission.id}/approve", data={})
    db.session.expire_all()
    document = db.session.scalar(select(FormDocument))
    assert submission.status == "approved" and document.version == 1 and len(document.sha256) == 64
    assert [h.action for h in submission.history].count("returned") == 1
    hr_pdf = client.get(f"/forms/{submission.id}/documents/1.pdf")
    auth.logout()
    auth.login("anna")
    manager_pdf = client.get(f"/forms/{submission.id}/documents/1.pdf")
    assert hr_pdf.data == manager_pdf.data
    import hashlib

    assert hashlib.sha256(manager_pdf.data).hexdigest() == document.sha256
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "resolved"

    text = pdf_text(manager_pdf.data, tmp_path)
    for expected in ["Exempelkommun", "Anställningsavtal", "Åsa Öberg", "19900101-2302", "Ängsvägen 12",
                     "Undersköterska", "Solgårdens äldreboende", "Ansvar 4120, kostnadsställe 41260",
                     "Särskild visstidsanställning", "2027-01-04", "2027-06-30", "75 %", "30 timmar",
                     "27 500 kronor per månad", "den 25:e varje månad", "HÖK för Kommunal", "AKAP-KR",
                     "förvaltas av KPA Pension", "LAS 11 §", "Övertid och mertid", "Kompetensutveckling",
                     "Ob-tillägg", "varannan helg", "Sida 1 av", "Arbetstagare: Åsa Öberg", "6 c §"]:
        assert expected in text, expected
    assert "UTKAST" not in text


def test_preview_is_marked_draft_and_saves_the_draft_first(client, auth, people, tmp_path):
    auth.login("anna")
    response = client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "preview"})
    assert response.mimetype == "application/pdf"
    assert "UTKAST" in pdf_text(response.data, tmp_path)
    db.session.expire_all()
    draft = db.session.scalar(select(FormSubmission))  # nothing written is lost to a preview
    assert draft.status == "draft" and draft.data["employee"]["first_name"] == "Åsa"
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.object_id == str(draft.id),
                                                      AuditEntry.action == "download"))


def test_only_managers_order(client, auth, people):
    auth.login("erik")
    assert client.get("/forms/employment-contract/new").status_code == 403


@pytest.mark.parametrize(("username", "status"), [
    ("anna", 200), ("hanna", 200), ("lars", 200), ("bo", 404), ("erik", 404), ("ivar", 404)])
def test_an_order_is_confidential_to_hr_payroll_and_the_manager(client, auth, people, username, status):
    auth.login("anna")
    client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "submit"})
    submission = db.session.scalar(select(FormSubmission))
    auth.logout()
    auth.login(username)
    assert client.get(f"/forms/{submission.id}").status_code == status
    assert client.get(f"/forms/{submission.id}/preview.pdf").status_code == status
    if status == 200:
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "form_submission"))


def test_only_hr_approves_and_only_once(client, auth, people):
    auth.login("anna")
    client.post("/forms/employment-contract/new", data=flat(EXAMPLE) | {"action": "submit"})
    submission = db.session.scalar(select(FormSubmission))
    client.post(f"/forms/{submission.id}/approve", data={})
    auth.logout()
    auth.login("lars")
    client.post(f"/forms/{submission.id}/approve", data={})
    db.session.expire_all()
    assert submission.status == "submitted"


def test_end_of_employment_form(client, auth, people, tmp_path):
    auth.login("anna")
    data = {"employee__personnummer": "19900101-2302", "employee__first_name": "Åsa", "employee__last_name": "Öberg",
            "position__title": "Lärare", "position__unit": "Björkskolan", "position__manager": "Anna Chef",
            "end__reason": "own_resignation", "end__notice_date": "2027-01-10", "end__last_day": "2027-04-10",
            "end__comment": "", "action": "submit"}
    assert client.post("/forms/employment-end/new", data=data).status_code == 302
    submission = db.session.scalar(select(FormSubmission))
    auth.logout()
    auth.login("hanna")
    client.post(f"/forms/{submission.id}/approve", data={})
    text = pdf_text(client.get(f"/forms/{submission.id}/documents/1.pdf").data, tmp_path)
    assert "Avslut av anställning" in text and "Egen uppsägning" in text and "2027-04-10" in text


def test_cli_validate_and_render(runner, tmp_path):
    example = Path(__file__).resolve().parents[2] / "docs/examples/employment-contract.json"
    assert runner.invoke(args=["forms", "validate", "employment-contract", str(example)]).output.strip() == "ok"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(EXAMPLE | {"pay": {"type": "monthly", "amount": 5}}))
    result = runner.invoke(args=["forms", "validate", "employment-contract", str(bad)])
    assert result.exit_code == 1 and "pay.amount:" in result.output and "pay.collective_agreement:" in result.output
    out = tmp_path / "avtal.pdf"
    rendered = runner.invoke(args=["forms", "render", "employment-contract", str(example), "--out", str(out)])
    assert rendered.exit_code == 0 and "Åsa Öberg" in pdf_text(out.read_bytes(), tmp_path)


def test_api_places_an_order_with_a_personal_access_token(client, runner, people):
    token = runner.invoke(args=["users", "tokens", "create", "anna", "HR-robot", "--scope", "forms:submit"]
                          ).stdout.strip()
    assert re.fullmatch(r"lot_[\w-]+", token)
    url = "/api/v1/forms/employment-contract"
    assert client.post(url, json=EXAMPLE).status_code == 401
    headers = {"Authorization": f"Bearer {token}"}
    bad = client.post(url, json=EXAMPLE | {"pay": {"type": "monthly", "amount": 5}}, headers=headers)
    assert bad.status_code == 422 and "pay.amount" in bad.get_json()["error"]["fields"]
    created = client.post(url, json=EXAMPLE, headers=headers)
    body = created.get_json()
    assert created.status_code == 201 and body["status"] == "submitted" and body["case"].startswith("LOT-")
    erik_token = runner.invoke(args=["users", "tokens", "create", "erik", "x", "--scope", "forms:submit"]
                               ).stdout.strip()
    assert client.post(url, json=EXAMPLE, headers={"Authorization": f"Bearer {erik_token}"}).status_code == 403
