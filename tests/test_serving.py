"""gunicorn as ``make run`` and production start it (``gunicorn.conf.py``)."""

from __future__ import annotations

import http.cookiejar
import os
import re
import runpy
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTSEN_")}
    env.update(LOTSEN_INSTANCE_PATH=str(tmp_path), HOST="127.0.0.1", PORT=str(_free_port()), **extra)
    return env


def _migrate(env: dict[str, str]) -> None:
    subprocess.run([str(GUNICORN.with_name("flask")), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)


def _settings() -> dict:
    """``gunicorn.conf.py``'s settings as gunicorn reads them (with this process's environment)."""
    before = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    if before is None:  # the settings name a metrics folder for the server; not for this test process
        del os.environ["PROMETHEUS_MULTIPROC_DIR"]
        settings["METRICS_FOLDER"].rmdir()
    return settings


def _answers(port: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
                assert response.status == 200
                return
        except OSError:
            assert time.monotonic() < deadline, "gunicorn did not answer"
            time.sleep(0.3)


def test_several_processes_with_in_memory_counters_serve_with_a_share_of_the_limits(tmp_path):
    """``gunicorn -w 2`` (as the page-speed yardstick starts it) serves; each process counts on its own, so each
    gets half of every limit."""
    env = _env(tmp_path)
    server = subprocess.Popen([str(GUNICORN), "-w", "2", "-b", f"127.0.0.1:{env['PORT']}", "wsgi:app"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _answers(env["PORT"])
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=20)
    assert "each lets through 1/2 of every limit" in err


def test_the_default_settings_serve(tmp_path):
    env = _env(tmp_path)
    server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _answers(env["PORT"])
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_settings_use_sync_processes_one_per_core_and_one_more_and_a_heartbeat_in_memory(monkeypatch):
    """Issue 12: sync processes (they served the most pages per second; the yardstick serves the bare page with
    them too), one per core and one more to serve while another waits; gthread processes when threads are asked
    for; the heartbeat file gunicorn touches on every request in memory rather than on the disk's journal."""
    monkeypatch.delenv("LOTSEN_WEB_THREADS", raising=False)
    monkeypatch.delenv("LOTSEN_WEB_WORKERS", raising=False)
    settings = _settings()
    assert (settings["threads"], settings["worker_class"]) == (1, "sync")
    assert settings["workers"] == min((os.cpu_count() or 1) + 1, 8) >= 2
    if Path("/dev/shm").is_dir():
        assert settings["worker_tmp_dir"] == "/dev/shm"
    monkeypatch.setenv("LOTSEN_WEB_THREADS", "2")
    threaded = _settings()
    assert (threaded["threads"], threaded["worker_class"]) == (2, "gthread")


def test_metrics_add_up_every_process_and_requests_are_logged_with_their_id(tmp_path):
    """Issue 19: with gunicorn's settings (two processes here) /metrics counts the requests both processes
    answered (prometheus-client's multiprocess mode), and each request is one log line with its id."""
    env = _env(tmp_path, LOTSEN_WEB_WORKERS="2", LOTSEN_LOG_FORMAT="json",
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    _migrate(env)
    server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _answers(env["PORT"])
        for _ in range(20):
            with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=5) as response:
                assert response.status == 200 and len(response.headers["X-Request-ID"]) == 32
        with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=20)
    [line] = [line for line in text.splitlines()
              if line.startswith('lotsen_http_requests_total{endpoint="ops.healthz",method="GET",status="200"}')]
    assert float(line.rpartition(" ")[2]) == 20
    assert "lotsen_outbox_queued 0.0" in text and "lotsen_database_up 1.0" in text
    logged = [line for line in err.splitlines() if '"endpoint": "ops.healthz"' in line]
    assert len(logged) == 20 and all('"request_id": "' in line for line in logged)


def test_a_slowed_down_log_in_does_not_hold_the_server(tmp_path):
    """With the served settings a log-in that sleeps (guessing has slowed its account down) leaves the server free
    for others: the health check answers while the log-in waits, from another process."""
    env = _env(tmp_path, LOTSEN_LOGIN_SLOWDOWN_AFTER="0", LOTSEN_LOGIN_MAX_DELAY="3",
               LOTSEN_LOGIN_RATE_LIMIT="1000 per minute", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    _migrate(env)
    server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{env['PORT']}"
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def wrong_password() -> None:
        page = opener.open(base + "/login", timeout=30).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"csrf_token": token, "username": "gissad", "password": "fel"}).encode()
        try:
            opener.open(base + "/login", data, timeout=30)
        except urllib.error.HTTPError as refused:
            assert refused.code == 401

    try:
        _answers(env["PORT"])
        # Each process counts the failures it saw (times the processes): the waits grow as guessing goes on, in
        # whichever process a try lands. Until a log-in sleeps a while, the health check asks during each.
        slept = 0.0
        for _ in range(15):
            sleeping, answered_while_asleep = threading.Thread(target=wrong_password), False
            started = time.monotonic()
            sleeping.start()
            time.sleep(0.5)
            if sleeping.is_alive():  # the log-in is asleep in its process
                with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/healthz", timeout=2) as response:
                    assert response.status == 200
                answered_while_asleep = sleeping.is_alive()
            sleeping.join()
            slept = time.monotonic() - started
            if slept >= 2.5:
                break
        assert slept >= 2.5 and answered_while_asleep
    finally:
        server.terminate()
        server.wait(timeout=20)
