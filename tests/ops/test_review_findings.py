"""Issue 19, a review of operations: backups made by the real commands restore; no secret reaches settings.json;
a host behind on its index becomes ready again by itself; /metrics trusts the socket, not X-Forwarded-For, and
clients cannot add label values; requests refused early carry their id; probes never wait for the database;
the operator's metrics folder keeps its other files; restore checks everything and refuses what it must."""

from __future__ import annotations

import json
import logging
import os
import runpy
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth import services as auth_services
from app.core.db import db
from app.core.jobs import WorkerHeartbeat
from app.ops import services
from app.selfservice import services as selfservice
from app.selfservice.search import get_index
from tests.conftest import DEFAULT_PASSWORD, counted_statements

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).with_name("flask")


def _flask(instance: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LOTSEN_")}
    environment.update(LOTSEN_INSTANCE_PATH=str(instance), **env)
    return subprocess.run([str(FLASK), "--app", "wsgi", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=300)


def test_a_backup_made_by_the_command_restores_by_the_command(tmp_path):
    """Before: the copy stayed in WAL mode, reading it made -wal and -shm files that went into the manifest and
    vanished, and every restore was refused."""
    source, target = tmp_path / "source", tmp_path / "target"
    assert _flask(source, "db", "upgrade").returncode == 0
    assert _flask(source, "demo", "load").returncode == 0
    made = _flask(source, "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == ["files", "lotsen.db", "manifest.json",
                                                                       "settings.json"] or sorted(
        p.name for p in (tmp_path / "backup").iterdir()) == ["lotsen.db", "manifest.json", "settings.json"]
    assert stat.S_IMODE((tmp_path / "backup").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "backup" / "lotsen.db").stat().st_mode) == 0o600
    assert _flask(target, "db", "upgrade").returncode == 0
    restored = _flask(target, "restore", str(tmp_path / "backup"))
    assert restored.returncode == 0, restored.stderr + restored.stdout
    assert "articles indexed" in restored.stdout
    with sqlite3.connect(target / "lotsen.db") as copy:
        assert copy.execute("SELECT count(*) FROM ticket").fetchone()[0] > 0


def test_settings_json_holds_no_password_wherever_it_hides(make_app, tmp_path):
    directories = [{"uri": "ldaps://dc2.kommun.test", "name": "skolor", "bind_password": "Hemlis-1",
                    "user_base_dn": "dc=skola"}]
    app = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOTSEN_UPLOAD_PATH=str(tmp_path / "f"),
                   LOTSEN_LDAP_URI="ldaps://dc1.kommun.test", LOTSEN_LDAP_BIND_PASSWORD="Hemlis-2",
                   LOTSEN_LDAP_USER_BASE_DN="dc=kommun", LOTSEN_LDAP_BIND_DN="cn=lotsen",
                   LOTSEN_LDAP_DIRECTORIES=directories,
                   LOTSEN_RATELIMIT_STORAGE_URI="redis://:Hemlis-3@redis.kommun.test:6379")
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        services.backup(tmp_path / "backup", app.config)
    written = (tmp_path / "backup" / "settings.json").read_text()
    assert "Hemlis" not in written and "dc2.kommun.test" in written and "redis.kommun.test" in written


def test_a_host_behind_on_its_index_becomes_ready_without_searches(make_app, tmp_path, create_user):
    """Before: /readyz only measured the lag; a host the load balancer took out got no searches to catch up."""
    writer = make_app()
    reader = make_app(LOTSEN_SEARCH_INDEX_PATH=str(tmp_path / "other-host-index"))
    with reader.app_context():
        get_index().rebuild()
    create_user("rita", roles=["editor:it"])
    with writer.app_context():
        editor = auth_services.get_user("rita")
        for n in range(60):
            selfservice.create_article(selfservice.ArticleData(
                title=f"Artikel {n}", slug=f"artikel-{n}", summary="s", body="Text om skrivare.", lang="sv",
                function="it", tags=[], status="published"), editor)
        db.session.commit()
    answer = reader.test_client().get("/readyz").get_json()
    assert answer["status"] == "ready" and answer["checks"]["search_index"]["behind"] == 0, answer


def test_metrics_trust_the_socket_and_see_through_ipv4_mapped_addresses(make_app):
    client = make_app(LOTSEN_PROXY_COUNT=1, LOTSEN_METRICS_ALLOW=["10.20.0.15/32"]).test_client()
    spoofed = client.get("/metrics", headers={"X-Forwarded-For": "10.20.0.15"},
                         environ_base={"REMOTE_ADDR": "10.66.6.6"})
    assert spoofed.status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::ffff:10.20.0.15"}).status_code == 200


def test_clients_cannot_add_label_values_through_odd_methods(client):
    for n in range(5):
        client.open("/healthz", method=f"X{n:04d}")
    text = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    assert "X0001" not in text and 'method="other"' in text


def test_a_request_refused_by_csrf_still_has_an_id_a_log_line_and_a_count(make_app, caplog):
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    with caplog.at_level(logging.INFO, logger="lotsen.request"):
        refused = client.post("/login", data={"username": "a", "password": "b"})
    assert refused.status_code == 400 and len(refused.headers["X-Request-ID"]) == 32
    assert refused.headers["X-Request-ID"] in refused.get_data(as_text=True)
    assert [r.status for r in caplog.records if r.name == "lotsen.request"] == [400]


def test_probes_never_wait_for_the_database(make_app, create_user):
    app = make_app(LOTSEN_COUNTER_FLUSH_SECONDS=0)
    with app.app_context():
        selfservice.article_views.add(12345)  # a view waiting to be written
    with counted_statements() as statements:
        assert app.test_client().get("/healthz").status_code == 200
    assert statements == []
    with app.app_context():
        assert selfservice.article_views.pending(app) == {12345: 1}
        selfservice.article_views.discard(12345)


def test_a_worker_restart_takes_over_its_hosts_heartbeat(app, runner):
    runner.invoke(args=["worker", "--rounds", "1"])
    runner.invoke(args=["worker", "--rounds", "1"])
    assert len(db.session.scalars(select(WorkerHeartbeat)).all()) == 1


def test_the_operators_metrics_folder_keeps_its_other_files(tmp_path, monkeypatch):
    folder = tmp_path / "var-lib-lotsen"
    folder.mkdir()
    (folder / "viktigt.txt").write_text("kvar")
    (folder / "counter_123.db").write_bytes(b"x")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    settings["on_starting"](None)
    settings["on_exit"](None)
    assert sorted(p.name for p in folder.iterdir()) == ["viktigt.txt"]


@pytest.fixture
def backup_folder(make_app, tmp_path):
    app = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOTSEN_UPLOAD_PATH=str(tmp_path / "fa"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    (tmp_path / "fa" / "tickets").mkdir(parents=True)
    (tmp_path / "fa" / "tickets" / "a.pdf").write_bytes(b"%PDF-1.4 x")
    with app.app_context():
        services.backup(tmp_path / "backup", app.config)
    target = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / 'b.db'}", LOTSEN_UPLOAD_PATH=str(tmp_path / "fb"))
    assert target.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    return tmp_path / "backup", target


@pytest.mark.parametrize("spoil", ["empty manifest", "planted file", "link", "outside", "changed database"])
def test_restore_refuses_a_backup_that_is_not_exactly_what_its_manifest_says(backup_folder, tmp_path, spoil):
    folder, target = backup_folder
    manifest = json.loads((folder / "manifest.json").read_text())
    if spoil == "empty manifest":
        manifest["files"] = {}
    elif spoil == "planted file":
        (folder / "files" / "tickets" / "planted.txt").write_text("x")
    elif spoil == "link":
        (folder / "files" / "tickets" / "a.pdf").unlink()
        (folder / "files" / "tickets" / "a.pdf").symlink_to("/etc/hostname")
    elif spoil == "outside":
        manifest["files"]["../secret.txt"] = {"size": 1, "sha256": "0"}
    else:
        with (folder / "lotsen.db").open("ab") as database:
            database.write(b"x")
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = target.test_cli_runner().invoke(args=["restore", str(folder)])
    assert result.exit_code != 0 and "nothing was restored" in result.output
    assert not (tmp_path / "fb" / "tickets").exists()


def test_restore_refuses_a_database_in_use(backup_folder, tmp_path):
    folder, target = backup_folder
    with sqlite3.connect(tmp_path / "b.db", isolation_level=None) as busy:
        busy.execute("BEGIN IMMEDIATE")  # a worker in the middle of writing
        result = target.test_cli_runner().invoke(args=["restore", str(folder)])
        busy.execute("ROLLBACK")
    assert result.exit_code != 0 and "stop Lotsen" in result.output


def test_a_backup_from_an_older_release_is_restored_and_the_upgrade_named(make_app, tmp_path):
    from flask_migrate import upgrade

    old = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / 'old.db'}", LOTSEN_UPLOAD_PATH=str(tmp_path / "fo"))
    with old.app_context():
        upgrade(revision="0006")
        services.backup(tmp_path / "backup", old.config)
        upgrade()  # so that the test's clean-up finds today's tables
        db.engine.dispose()
    target = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / 'new.db'}", LOTSEN_UPLOAD_PATH=str(tmp_path / "fn"))
    result = target.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
    assert result.exit_code == 0, result.output
    assert "run `flask --app wsgi db upgrade`" in result.output
    assert target.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0


def test_files_removed_while_the_backup_ran_are_named_in_the_manifest(make_app, tmp_path):
    app = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}", LOTSEN_UPLOAD_PATH=str(tmp_path / "fa"))
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        auth_services.create_local_user("erik", DEFAULT_PASSWORD, display_name="Erik")
        db.session.commit()
        import io

        from app.core.uploads import Upload
        from app.tickets import services as tickets
        from app.tickets.sla import WorkingCalendar

        tickets.create_ticket(auth_services.get_user("erik"), "Fråga", "Text", category=None,
                              calendar=WorkingCalendar.from_config("08:00-17:00"), mail=tickets.mail_context(),
                              uploads=[Upload("a.pdf", io.BytesIO(b"%PDF-1.4 x"))],
                              upload_root=tmp_path / "fa", max_bytes=10**6)
        db.session.commit()
        for path in (tmp_path / "fa" / "tickets").iterdir():
            path.unlink()  # as a retention run removes it after its commit
        manifest = services.backup(tmp_path / "backup", app.config)
    assert len(manifest["missing_files"]) == 1 and manifest["missing_files"][0].startswith("tickets/")
    assert services.verify(tmp_path / "backup")["cases"] == 1
