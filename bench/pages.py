"""Request latency of Lotsen's pages as ratios against a bare Flask baseline in the same run.

The baseline is a minimal Flask app answering a plain string, measured in the same process with the same
test client, so the ratios say what Lotsen's layout, session and database work cost on this machine.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable

from flask import Flask

from app import create_app
from app.core.db import db
from app.demo import DEMO_PASSWORD, load_demo_data

ROUNDS = 200


def median_ms(call: Callable[[], object], rounds: int = ROUNDS) -> float:
    for _ in range(10):
        call()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    baseline_app = Flask("baseline")
    baseline_app.add_url_rule("/", "index", lambda: "hej")
    baseline_client = baseline_app.test_client()
    baseline = median_ms(lambda: baseline_client.get("/"))

    with tempfile.TemporaryDirectory(prefix="lotsen-bench-") as instance:
        app = create_app({"LOTSEN_INSTANCE_PATH": instance, "LOTSEN_ENV": "testing", "WTF_CSRF_ENABLED": False,
                          "LOTSEN_RATELIMIT_ENABLED": False})
        with app.app_context():
            db.create_all()
            load_demo_data()
            db.session.commit()
        client = app.test_client()
        login_page = median_ms(lambda: client.get("/login"))
        client.post("/login", data={"username": "admin", "password": DEMO_PASSWORD})
        start_page = median_ms(lambda: client.get("/"))
        users_page = median_ms(lambda: client.get("/admin/users"))
        login = median_ms(lambda: app.test_client().post(
            "/login", data={"username": "erik.anstalld", "password": DEMO_PASSWORD}), rounds=20)

    print(f"baseline_bare_flask_ms: {baseline:.3f}")
    for name, value in (("login_page", login_page), ("start_page", start_page), ("users_page", users_page),
                        ("local_login_with_hashing", login)):
        print(f"{name}_ms: {value:.3f}")
        print(f"{name}_ratio: {value / baseline:.1f}")
