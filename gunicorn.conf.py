"""gunicorn settings for Lotsen: ``gunicorn -c gunicorn.conf.py wsgi:app`` (``make run`` uses them too).

gunicorn's sync processes, one per core and one more, at most 8 (``LOTSEN_WEB_WORKERS``). Python runs one thread at
a time in a process, so processes use the cores; sync processes serve a page with the least around it (measured on
this 2-core machine with the yardstick, README, Benchmarks: 8-25 % more pages per second than processes of 2
threads, more still than 4). The extra process overlaps the waits Lotsen has on purpose: a slowed-down log-in sleeps
up to ``LOTSEN_LOGIN_MAX_DELAY``, a directory account's next password try waits its turn, a directory or mail server
that does not answer holds a request until its timeout; while one process waits, the others serve. A host that
waits often (a slow directory) can take threads again (``LOTSEN_WEB_THREADS=2`` gives gthread processes, whose
free thread serves while one waits) or more processes. A request longer than ``timeout`` is stopped. Each process
is warmed up before it takes requests (``app.warm_up``).

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
workers = int(os.environ.get("LOTSEN_WEB_WORKERS") or min((os.cpu_count() or 1) + 1, 8))
threads = int(os.environ.get("LOTSEN_WEB_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = 60
# No keep-alive (sync processes never keep a connection; off for gthread): each request is a new connection,
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
