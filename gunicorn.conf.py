"""gunicorn settings for Lotsen: ``gunicorn -c gunicorn.conf.py wsgi:app`` (``make run`` uses them too).

The embedded default is one process with threads, so that in-memory rate-limit counters hold for every
request. Several processes (``LOTSEN_WEB_WORKERS`` > 1) must share their counters: Lotsen refuses to start
them with ``LOTSEN_RATELIMIT_STORAGE_URI=memory://``.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("LOTSEN_WEB_WORKERS", "1"))
worker_class = "gthread"
threads = int(os.environ.get("LOTSEN_WEB_THREADS", "8"))
timeout = 60
graceful_timeout = 20
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
APP_LOAD_ERROR = 4  # gunicorn stops the whole server when a worker exits with this code


def post_worker_init(worker):
    """Refuse per-process rate-limit counters when several processes serve: each would count on its own and
    let through a multiple of the limit."""
    app = worker.wsgi
    storage = app.config.get("RATELIMIT_STORAGE_URI", "memory://")
    if worker.cfg.workers > 1 and storage.startswith("memory://") and app.config.get("RATELIMIT_ENABLED", True):
        worker.log.error("LOTSEN_WEB_WORKERS is %s but LOTSEN_RATELIMIT_STORAGE_URI is %s: several processes need "
                         "shared counters, e.g. redis://127.0.0.1:6379. Use one worker with threads, or set it.",
                         worker.cfg.workers, storage)
        raise SystemExit(APP_LOAD_ERROR)
