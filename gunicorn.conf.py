"""gunicorn settings for Lotsen: ``gunicorn -c gunicorn.conf.py wsgi:app`` (``make run`` uses them too).

One process per core, at most 4 (``LOTSEN_WEB_WORKERS``), each with 2 threads (``LOTSEN_WEB_THREADS``). Python runs
one thread at a time in a process, so the cores are used by processes; the threads overlap waits, and Lotsen
waits on purpose: a slowed-down log-in sleeps up to ``LOTSEN_LOGIN_MAX_DELAY``, a directory account's next password
try waits its turn, a directory or mail server that does not answer holds a request until its timeout. With one
thread (``LOTSEN_WEB_THREADS=1`` gives gunicorn's sync processes, the fastest measured) a few such waits hold every
process of a host, and a request longer than ``timeout`` is killed. Measured on this 2-core machine with the
yardstick (README, Benchmarks): 2 threads served more than 4 (the threads take turns on one interpreter lock, and
the more there are the more each request pays), 1 more still. Each process is warmed up before it takes requests
(``app.warm_up``).

Several processes should share their rate-limit counters (``LOTSEN_RATELIMIT_STORAGE_URI=redis://...``); with
the in-memory default each process counts on its own, so each gets an equal share of every limit
(``LOTSEN_RATELIMIT_PROCESSES``): together they let through about the limit, never a multiple of it.
"""

import os
import shutil
import tempfile
from pathlib import Path

# /metrics adds up every process's counters: prometheus-client's multiprocess mode, a folder of files that each
# process writes, set before any process imports the client. A folder of our own per server start, removed when
# the server stops; or the operator's, of which only the client's own files (*.db) are removed at start.
GIVEN_METRICS_FOLDER = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
METRICS_FOLDER = Path(GIVEN_METRICS_FOLDER or tempfile.mkdtemp(prefix="lotsen-metrics-"))
os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(METRICS_FOLDER)

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("LOTSEN_WEB_WORKERS") or min(os.cpu_count() or 1, 4))
threads = int(os.environ.get("LOTSEN_WEB_THREADS", "2"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = 60
# No keep-alive (off for gthread; sync processes never keep a connection): each request is a new connection,
# accepted by whichever process is free. With keep-alive a gthread process accepts every connection that arrives
# while it is awake and keeps it, so a burst of connections could all land in one process and leave the other cores
# idle (measured: the same page at 300 or 750 requests/s from run to run with 2 s keep-alive, a steady 720-750
# without). A proxy in front keeps its own connections to the browsers.
keepalive = 0
# The workers' heartbeat file is touched on every request: in memory, not on the disk's journal (gunicorn's advice;
# gunicorn makes it with mkstemp and unlinks it at once, so a shared folder is safe).
SHARED_MEMORY = Path("/dev/shm")  # noqa: S108
worker_tmp_dir = str(SHARED_MEMORY) if SHARED_MEMORY.is_dir() else None
graceful_timeout = 20
accesslog = None  # Lotsen logs each request itself, with its request id and user id (app/core/logs.py)


def post_worker_init(worker):
    """Warm the new process up before it takes requests, and give it its share of the rate limits when they
    count in memory, each process on its own."""
    app = worker.wsgi
    if app.import_name == "app":  # Lotsen (bench/pages.py serves a bare page with these settings too)
        from app import warm_up

        warm_up(app)
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if worker.cfg.workers > 1 and storage.startswith("memory://") and app.config.get("RATELIMIT_ENABLED", True):
        app.config["LOTSEN_RATELIMIT_PROCESSES"] = worker.cfg.workers
        worker.log.info("%s processes count rate limits in memory, each on its own: each lets through 1/%s of "
                        "every limit (a shared LOTSEN_RATELIMIT_STORAGE_URI, e.g. redis://, counts exactly)",
                        worker.cfg.workers, worker.cfg.workers)


def on_starting(server):
    """No counters from an earlier run of the server."""
    METRICS_FOLDER.mkdir(parents=True, exist_ok=True)
    for old in METRICS_FOLDER.glob("*.db"):
        old.unlink(missing_ok=True)


def on_exit(server):
    if not GIVEN_METRICS_FOLDER:
        shutil.rmtree(METRICS_FOLDER, ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
