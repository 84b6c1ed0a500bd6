"""Issue 19: the load balancer's health and readiness checks, Prometheus metrics, and request ids in logs and on
error pages."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import socket
import threading

import pytest
from sqlalchemy import select

from app import create_app
from app.core.db import db
from app.core.jobs import WorkerHeartbeat, beat
from app.core.logs import configure_logging
from app.core.mail import OutboxMessage, enqueue
from app.selfservice.search import get_index


def test_healthz_answers_without_the_database(make_app, tmp_path):
    broken = create_app({"LOTSEN_ENV": "testing", "LOTSEN_INSTANCE_PATH": tmp_path / "x",
                         "LOTSEN_DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{_closed_port()}/x",
                         "LOTSEN_SECRET_KEY": "test-secret-key"})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    ready = broken.test_client().get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"]["ok"] is False


def test_readyz_checks_database_migrations_index_and_model(client):
    first = client.get("/readyz").get_json()  # a new instance has no search index yet: it is built now
    assert first["checks"]["search_index"]["ok"] is False or first["status"] == "ready"
    get_index().rebuild()
    answer = client.get("/readyz")
    body = answer.get_json()
    assert answer.status_code == 200 and body["status"] == "ready", body
    assert set(body["checks"]) == {"database", "migrations", "search_index", "embedding_model"}
    assert body["checks"]["embedding_model"] == {"ok": True, "state": "off"}
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["expected"]
    assert "Set-Cookie" not in answer.headers


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_readyz_turns_unready_when_the_database_stops_and_ready_when_it_returns(make_app, tmp_path):
    """The embedded default: the database file goes away (a directory in its place cannot be opened) and comes
    back."""
    database = tmp_path / "lotsen.db"
    app = make_app(LOTSEN_DATABASE_URL=f"sqlite:///{database}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    client = app.test_client()
    with app.app_context():
        get_index().rebuild()
    assert client.get("/readyz").status_code == 200
    with app.app_context():
        db.engine.dispose()
    shutil.move(database, tmp_path / "away.db")
    database.mkdir()
    stopped = client.get("/readyz")
    assert stopped.status_code == 503 and stopped.get_json()["checks"]["database"]["ok"] is False
    assert client.get("/healthz").status_code == 200
    database.rmdir()
    shutil.move(tmp_path / "away.db", database)
    assert client.get("/readyz").status_code == 200


class _Forwarder:
    """A TCP forwarder to the test PostgreSQL that can be stopped (connections cut, new ones refused) and
    started again on the same port: a database server that goes away and returns."""

    def __init__(self, port: int) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.running, self.sockets = True, []
        self.listener.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.running:
                client.close()
                continue
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        self.running = False
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.sockets = []

    def start(self) -> None:
        self.running = True


def test_readyz_follows_a_postgresql_server_that_stops_and_returns(make_app, migrated_database):
    if not migrated_database.startswith("postgresql"):
        pytest.skip("the PostgreSQL run checks this (the SQLite run checks the embedded default above)")
    from sqlalchemy.engine import make_url

    url = make_url(migrated_database)
    forwarder = _Forwarder(url.port or 5432)
    app = make_app(LOTSEN_DATABASE_URL=url.set(host="127.0.0.1", port=forwarder.port).render_as_string(
        hide_password=False))
    client = app.test_client()
    with app.app_context():
        get_index().rebuild()
    assert client.get("/readyz").status_code == 200
    forwarder.stop()
    assert client.get("/readyz").status_code == 503
    forwarder.start()
    assert client.get("/readyz").status_code == 200


def _metrics(client) -> dict[str, float]:
    text = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_data(as_text=True)
    figures = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            figures[name] = float(value)
    return figures


def test_metrics_only_for_allowed_addresses(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 403
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200


def test_metrics_show_the_outbox_backlog_growing_while_smtp_is_down(make_app, tmp_path):
    app = make_app(LOTSEN_SMTP_HOST="127.0.0.1", LOTSEN_SMTP_PORT=_closed_port(), LOTSEN_SMTP_TIMEOUT=1)
    client = app.test_client()
    assert _metrics(client)["lotsen_outbox_queued"] == 0
    with app.app_context():
        for n in range(3):
            enqueue(f"person{n}@kommun.example", "Ämne", "Text")
            db.session.commit()
            app.test_cli_runner().invoke(args=["outbox", "send"])  # the server refuses: nothing leaves
            assert _metrics(client)["lotsen_outbox_queued"] == n + 1
        assert db.session.scalar(select(OutboxMessage.attempts).limit(1)) >= 1
    figures = _metrics(client)
    assert figures["lotsen_outbox_oldest_age_seconds"] >= 0 and figures["lotsen_database_up"] == 1


def test_metrics_count_requests_log_ins_and_workers(client, create_user, app):
    create_user("karin")
    client.post("/login", data={"username": "karin", "password": "fel"})
    client.get("/")
    with app.app_context():
        beat("host:1")
        db.session.commit()
    figures = _metrics(client)
    assert figures['lotsen_http_requests_total{endpoint="auth.login",method="POST",status="401"}'] >= 1
    assert figures["lotsen_login_failures_total"] >= 1
    assert 'lotsen_worker_heartbeat_age_seconds{worker="host:1"}' in figures
    assert any(name.startswith("lotsen_http_request_duration_seconds_bucket") for name in figures)
    assert "lotsen_cases_routed_straight_share_last_hour" in figures
    assert db.session.scalar(select(WorkerHeartbeat.worker)) == "host:1"


def test_each_request_has_an_id_in_its_header_its_log_line_and_its_error_page(make_app, caplog):
    app = make_app(LOTSEN_PROXY_COUNT=1)
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="lotsen.request"):
        page = client.get("/finns-inte", headers={"X-Request-ID": "lb-0123456789abcdef"})
    assert page.status_code == 404 and page.headers["X-Request-ID"] == "lb-0123456789abcdef"
    assert "lb-0123456789abcdef" in page.get_data(as_text=True)  # quotable to the IT service desk
    [record] = [r for r in caplog.records if r.name == "lotsen.request"]
    assert (record.request_id, record.status, record.endpoint, record.user_id) == (
        "lb-0123456789abcdef", 404, "unknown", None)
    made = make_app().test_client().get("/healthz", headers={"X-Request-ID": "from-a-stranger-1"})
    assert made.headers["X-Request-ID"] != "from-a-stranger-1"  # without a trusted proxy Lotsen makes its own


def test_json_log_lines_carry_the_request_id_and_the_user_id_only(make_app, create_user, auth, client, capsys):
    app = make_app(LOTSEN_LOG_FORMAT="json")
    configure_logging(app)
    try:
        karin = create_user("karin", display_name="Karin Karlsson")
        browser = app.test_client()
        browser.post("/login", data={"username": "karin", "password": "ett-bra-losenord"})
        browser.get("/tickets")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        for handler in [h for h in logging.getLogger().handlers if getattr(h, "lotsen", False)]:
            logging.getLogger().removeHandler(handler)
    [line] = [entry for entry in lines if entry.get("endpoint") == "tickets.mine"]
    assert line["user_id"] == karin.id and line["status"] == 200 and len(line["request_id"]) == 32
    assert line["level"] == "INFO" and "time" in line and "Karin" not in json.dumps(lines)


def test_the_worker_logs_in_the_same_shape(make_app, capsys):
    app = make_app(LOTSEN_LOG_FORMAT="json")
    configure_logging(app)
    try:
        with app.app_context():
            enqueue("karin@kommun.example", "Ämne", "Text")
            db.session.commit()
            result = app.test_cli_runner().invoke(args=["worker", "--rounds", "1"])
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    finally:
        for handler in [h for h in logging.getLogger().handlers if getattr(h, "lotsen", False)]:
            logging.getLogger().removeHandler(handler)
    assert result.exit_code == 0
    [line] = [entry for entry in lines if entry["name"] == "lotsen.worker" and entry["message"].startswith("outbox")]
    assert line["message"] == "outbox: 1 sent, 0 failed (will retry)" and line["level"] == "INFO"
    assert line["request_id"] == ""
