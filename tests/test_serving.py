"""gunicorn as ``make run`` and production start it (``gunicorn.conf.py``)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
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


def test_several_processes_with_per_process_rate_limits_are_refused(tmp_path):
    """Each process would count log-in failures on its own and let a multiple of the limit through."""
    result = subprocess.run([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env=_env(tmp_path, LOTSEN_WEB_WORKERS="2"))
    assert result.returncode != 0
    assert "LOTSEN_RATELIMIT_STORAGE_URI" in result.stderr


def test_one_process_with_threads_serves(tmp_path):
    env = _env(tmp_path)
    server = subprocess.Popen([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{env['PORT']}/login", timeout=5) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer"
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)
