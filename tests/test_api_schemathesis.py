"""Schemathesis against the API on a real HTTP server: every generated request, valid or not, must get an answer
the spec documents (status, content type, body schema, headers), never a server error.

The server runs in a thread on the test database (SQLite, or PostgreSQL with LOTSEN_TEST_DATABASE_URL) with a
few published articles, a notice and a manager holding a personal access token, so the token-only operations
are exercised too. The seed is fixed and the examples are bounded, so a run is repeatable and short.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.auth.services import create_access_token, create_local_user
from app.core.db import db
from app.forms.models import FormSubmission
from app.selfservice import services as articles
from app.selfservice.search import get_index
from app.tickets import services as tickets
from app.tickets.models import Ticket

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261130
MAX_EXAMPLES = 10


def _seed_data() -> str:
    """Published articles, a current notice and a manager with a token; returns the token."""
    for title, function in (("Glömt lösenordet", "it"), ("Lönespecifikation", "payroll"),
                            ("Passerkort", "facilities")):
        articles.create_article(articles.ArticleData(title, articles.slugify(title), "Kort.", title, "sv", function,
                                                     ["tagg"], "published"), None)
    specialist = create_local_user("ivar", "ett-bra-losenord", roles=["specialist:it"])
    tickets.publish_notice(tickets.get_function("it"), specialist, "E-posten fungerar inte just nu", "Vi felsöker.", 4)
    manager = create_local_user("anna.chef", "ett-bra-losenord", roles=["manager"], email="anna@kommun.example")
    token, _ = create_access_token(manager, "schemathesis")
    db.session.commit()
    get_index().catch_up(force=True)
    return token


@pytest.fixture
def api_server(make_app):
    """Lotsen on a free loopback port with the seeded data; yields (app, base URL, bearer token)."""
    app = make_app()
    with app.app_context():
        token = _seed_data()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}", token
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_api_answers_as_its_spec_says(api_server, tmp_path):
    """All of Schemathesis' checks over every documented operation, valid and invalid requests alike.

    Its pytest plugin cannot load a schema from a fixture under pytest 9 (it sets ``Function._nodeid``), so the
    CLI runs against the live server; its JSON report says what was tested.
    """
    app, base_url, token = api_server
    config = tmp_path / "schemathesis.toml"
    config.write_text('hooks = "tests.schemathesis_hooks"\n'
                      '[auth.openapi.bearer]\nbearer = "${LOTSEN_TEST_API_TOKEN}"\n', encoding="utf-8")
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
               f"{base_url}/api/v1/openapi.json", "--checks", "all", "--seed", str(SEED),
               "--max-examples", str(MAX_EXAMPLES), "--generation-database", "none", "--workers", "1",
               "--continue-on-failure", "--no-color", "--report", "json", "--report-json-path", str(report)]
    env = {**os.environ, "LOTSEN_TEST_API_TOKEN": token, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
    summary = json.loads(report.read_text(encoding="utf-8"))
    assert summary["operations"]["tested"] == summary["operations"]["total"] >= 7
    assert summary["test_cases"]["unique_failures"] == 0 and not summary["errors"]
    assert not any(summary["warnings"].values()), summary["warnings"]  # e.g. no operation only ever got 401
    with app.app_context():  # the valid requests did their work: questions asked, orders of both forms placed
        made = db.session.execute(select(FormSubmission.form_slug, func.count()).group_by(FormSubmission.form_slug))
        assert dict(made.all()).keys() == {"employment-contract", "employment-end"}
        assert db.session.scalar(select(func.count()).where(Ticket.channel == "widget")) > 0
