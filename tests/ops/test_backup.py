"""Issue 19: a backup taken while cases are being created restores into a fresh instance with every case, every
attachment and every stored PDF, checksums matching; a changed backup is refused; the first released schema
upgrades to the current one with its data."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
from pathlib import Path

from sqlalchemy import select

from app.auth import services as auth_services
from app.core.db import db
from app.core.uploads import Upload
from app.forms.models import FormDocument
from app.forms.services import document_path
from app.tickets import services as tickets
from app.tickets.models import Ticket, TicketAttachment
from app.tickets.sla import WorkingCalendar
from tests.conftest import DEFAULT_PASSWORD, AuthActions
from tests.forms.test_robot_queue import _approved_end_orders

PDF = b"%PDF-1.4\n" + b"1" * 5000 + b"\n%%EOF\n"


def _instance(make_app, tmp_path: Path, name: str):
    app = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / name}.db",
                   LOTSEN_UPLOAD_PATH=str(tmp_path / f"{name}-files"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    return app


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_backup_taken_while_cases_are_created_restores_everything(make_app, tmp_path):
    source = _instance(make_app, tmp_path, "source")
    with source.app_context():
        for username, roles in (("anna", ["manager"]), ("hanna", ["specialist:hr"]), ("erik", [])):
            auth_services.create_local_user(username, DEFAULT_PASSWORD, roles=roles, display_name=username.title(),
                                            email=f"{username}@kommun.example")
        db.session.commit()
        orders = _approved_end_orders(source.test_client(), AuthActions(source.test_client()), 2)
        assert len(orders) == 2 and db.session.scalar(select(FormDocument.id)) is not None
    stop, made = threading.Event(), []

    def keep_asking() -> None:  # an employee asking with an attachment, again and again, during the backup
        with source.app_context():
            erik = auth_services.get_user("erik")
            calendar = WorkingCalendar.from_config("08:00-17:00")
            while not stop.is_set():
                case = tickets.create_ticket(
                    erik, f"Fråga {len(made)}", "Se bilagan.", category=None, calendar=calendar,
                    mail=tickets.mail_context(), uploads=[Upload("underlag.pdf", io.BytesIO(PDF))],
                    upload_root=Path(source.config["LOTSEN_UPLOAD_PATH"]), max_bytes=10**6)
                db.session.commit()
                made.append(case.number)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    while len(made) < 3:
        threading.Event().wait(0.05)
    result = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    stop.set()
    asker.join()
    assert result.exit_code == 0, result.output
    with sqlite3.connect(tmp_path / "backup" / "lotsen.db") as copy:
        in_backup = {number for (number,) in copy.execute("SELECT number FROM ticket")}
    assert set(made[:3]) <= in_backup  # those made before the backup began; later ones may or may not be in it
    settings = json.loads((tmp_path / "backup" / "settings.json").read_text())
    assert "LOTSEN_UPLOAD_PATH" in settings and not any("SECRET" in name for name in settings)

    target = _instance(make_app, tmp_path, "target")
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output

    with target.app_context():
        restored = {t.number for t in db.session.scalars(select(Ticket))}
        assert restored == in_backup
        source_files, target_files = (Path(app.config["LOTSEN_UPLOAD_PATH"]) for app in (source, target))
        attachments = db.session.scalars(select(TicketAttachment)).all()
        assert len(attachments) >= 3
        for attachment in attachments:
            stored = Path("tickets") / attachment.stored_name
            assert _sha(target_files / stored) == _sha(source_files / stored) == hashlib.sha256(PDF).hexdigest()
        documents = db.session.scalars(select(FormDocument)).all()
        assert len(documents) == 2
        for document in documents:
            assert _sha(document_path(document, target_files)) == document.sha256
    ready = target.test_client().get("/readyz").get_json()
    assert ready["checks"]["database"]["ok"] and ready["checks"]["search_index"]["open"]


def test_a_changed_backup_or_a_used_instance_is_refused(make_app, tmp_path):
    source = _instance(make_app, tmp_path, "source")
    with source.app_context():
        auth_services.create_local_user("erik", DEFAULT_PASSWORD, display_name="Erik")
        db.session.commit()
    assert source.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")]).exit_code == 0
    again = source.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert again.exit_code != 0 and "not empty" in again.output
    used = source.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert used.exit_code != 0 and "already holds users or cases" in used.output
    with (tmp_path / "backup" / "lotsen.db").open("ab") as database:
        database.write(b"x")
    target = _instance(make_app, tmp_path, "target")
    changed = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert changed.exit_code != 0 and "lotsen.db is missing or changed" in changed.output


def test_postgresql_is_backed_up_with_pg_dump(make_app, migrated_database, tmp_path):
    if not migrated_database.startswith("postgresql"):
        return
    result = make_app().test_cli_runner().invoke(args=["backup", str(tmp_path / "b")])
    assert result.exit_code != 0 and "pg_dump" in result.output
