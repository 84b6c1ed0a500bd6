"""Issue 17: the audit log people can read (administrators and auditors), its CSV, and its append-only guarantee."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from app.auth import services as auth_services
from app.core import audit
from app.core.audit import AuditEntry
from app.core.db import db, utcnow
from app.records import services


@pytest.fixture
def auditor(create_user):
    return create_user("dora.dso", roles=["auditor"], display_name="Dora Dataskydd")


def test_auditors_and_administrators_read_the_log_and_their_reading_is_logged(app, people, auditor, client, auth,
                                                                              create_ticket):
    ticket = create_ticket("hr", "erik")
    auth.login("hanna")
    client.get(f"/tickets/{ticket.number}")  # a read of a confidential case
    auth.logout()
    for who in ("erik", "hanna"):
        auth.login(who)
        assert client.get("/admin/audit").status_code == 403
        auth.logout()
    auth.login("dora.dso")
    page = client.get("/admin/audit?object_id=" + ticket.number).get_data(as_text=True)
    assert "Hanna HR" in page and ticket.number in page
    assert "Granskningslogg" in client.get("/").get_data(as_text=True)  # in the header for auditors
    read = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "audit.read"))
    assert read.user_id == auditor.id and read.detail == f"object=:{ticket.number}"


def test_the_log_filters_by_person_both_ways_and_by_period(app, people, client, auth):
    hanna = people["hanna"]
    auth_services.grant_role(people["erik"], auth_services.Role.MANAGER, actor=people["admin"])
    audit.record(hanna.id, "report_people", "function", "hr")
    db.session.commit()
    auth.login("chef.admin")
    page = client.get("/admin/audit?person=erik").get_data(as_text=True)
    assert "<td>grant</td>" in page and "<td>report_people</td>" not in page  # about erik: his grant
    page = client.get("/admin/audit?person=hanna&action=report_people").get_data(as_text=True)
    assert "<td>report_people</td>" in page
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    assert "Inga poster" in client.get(f"/admin/audit?from={tomorrow}").get_data(as_text=True)
    assert "Det finns ingen användare" in client.get("/admin/audit?person=finns.inte").get_data(as_text=True)


def test_the_log_as_csv_keeps_formulas_as_text(app, people, client, auth):
    audit.record(people["hanna"].id, "settings_category", "category", "1", "=HYPERLINK(\"http://x\")")
    db.session.commit()
    auth.login("chef.admin")
    response = client.get("/admin/audit?format=csv&action=settings_category")
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert "'=HYPERLINK" in body and "Hanna HR" in body
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.action == "audit.export"))


def test_the_log_cannot_be_changed_or_deleted(app, people):
    entry = audit.record(people["hanna"].id, "token_create", "access_token", "1", "robot")
    db.session.commit()
    with pytest.raises(DatabaseError):
        db.session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(detail="ändrad"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError):
        db.session.execute(text("DELETE FROM audit_entry"))
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry.detail).where(AuditEntry.id == entry.id)) == "robot"


def test_the_log_is_culled_on_its_own_schedule(app, people):
    db.session.add(AuditEntry(user_id=people["hanna"].id, action="token_create", object_type="access_token",
                              object_id="1", detail="gammal", created_at=utcnow() - timedelta(days=6 * 366)))
    audit.record(people["hanna"].id, "token_create", "access_token", "2", "ny")
    db.session.commit()
    counts = services.run_retention(utcnow(), Path(app.config["LOTSEN_UPLOAD_PATH"]), 90, 30, 60)
    db.session.commit()
    assert [c.count for c in counts if c.rule.startswith("audit log")] == [1]
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.detail == "gammal")) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.detail == "ny")) == 1


def test_a_person_s_data_as_a_zip_for_a_data_subject_request(app, people, client, auth, create_ticket, create_user):
    """Issue 17: everything Lotsen holds about one person; confidential content only for an auditor."""
    import io
    import json
    import zipfile

    it_case = create_ticket("it", "erik", subject="Skrivaren", description="Skrivaren på plan 3")
    hr_case = create_ticket("hr", "erik", subject="Min sjukskrivning", description="Jag är sjuk")
    auth.login("chef.admin")
    response = client.post(f"/admin/users/{people['erik'].id}/export", data={})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"README.txt", "person.json", "cases.json", "orders.json", "searches.json", "audit.json"} <= set(
        archive.namelist())
    cases = {c["number"]: c for c in json.loads(archive.read("cases.json"))}
    assert cases[it_case.number]["description"] == "Skrivaren på plan 3"
    assert cases[hr_case.number]["content"] == "withheld: confidential function"
    assert "sjuk" not in archive.read("cases.json").decode()
    assert json.loads(archive.read("person.json"))["username"] == "erik"
    assert db.session.scalar(select(AuditEntry.detail).where(AuditEntry.action == "person.export")).startswith(
        "2 cases")
    auth.logout()
    create_user("dora.dso", roles=["auditor", "admin"], display_name="Dora Dataskydd")
    auth.login("dora.dso")
    archive = zipfile.ZipFile(io.BytesIO(client.post(f"/admin/users/{people['erik'].id}/export", data={}).data))
    cases = {c["number"]: c for c in json.loads(archive.read("cases.json"))}
    assert cases[hr_case.number]["description"] == "Jag är sjuk"
    bad = client.post(f"/admin/users/{people['erik'].id}/export", data={"person_number": "19900101-0000"},
                      follow_redirects=True)
    assert bad.status_code == 400 and "personnummer" in bad.get_data(as_text=True).lower()
    assert 'value="19900101-0000"' in bad.get_data(as_text=True)  # what was typed stays
    auth.logout()
    auth.login("hanna")
    assert client.post(f"/admin/users/{people['erik'].id}/export", data={}).status_code == 403


def test_an_administrator_cannot_make_themselves_auditor(app, people, client, auth):
    """Review: the auditor role reads confidential cases in exports: nobody may give it to themselves."""
    admin = people["admin"]
    with pytest.raises(auth_services.RoleRefused):
        auth_services.grant_role(admin, auth_services.Role.AUDITOR, actor=admin)
    db.session.rollback()
    auth_services.grant_role(people["erik"], auth_services.Role.AUDITOR, actor=admin)  # another person: yes


def test_the_export_withholds_orders_confidential_searches_and_others_cases_from_a_plain_admin(
        app, people, client, auth, create_ticket):
    """Review: an administrator without the auditor role got the decrypted identity number and the order's data,
    HR searches and the full text of cases the person had registered for someone else."""
    import io
    import json
    import zipfile

    from app.selfservice.models import SearchLog
    from tests.forms.test_orders import flat
    from tests.forms.test_robot_queue import END

    auth.login("anna")
    assert client.post("/forms/employment-end/new", data=flat(END) | {"action": "submit"}).status_code == 302
    auth.logout()
    registered = create_ticket("it", "kalle", subject="Kollegans dator", description="Kalles skärm är trasig")
    registered.created_by_id = people["erik"].id
    hr = auth_services.get_function("hr")
    db.session.add(SearchLog(query="sjukskrivning", normalized="sjukskrivning", user_id=people["erik"].id,
                             function_id=hr.id))
    db.session.commit()
    auth.login("chef.admin")
    data = client.post(f"/admin/users/{people['erik'].id}/export", data={"person_number": "19900101-2302"}).data
    archive = zipfile.ZipFile(io.BytesIO(data))
    everything = " ".join(archive.read(name).decode(errors="replace") for name in archive.namelist())
    assert "19900101-2302" not in everything and "Öberg" not in everything
    assert "Kalles skärm" not in everything and "sjukskrivning" not in everything
    assert json.loads(archive.read("orders.json"))[0]["content"] == "withheld: confidential function"
