"""Tallies that plain page views make (how often an article is read, which specialist had which case open),
written to the database in batches.

A read should not be a write: with a counter updated in every request, each article view takes SQLite's
write lock (PostgreSQL's row lock on a popular article) and pays a commit. Here a view adds to a tally in the
process's memory; the tally is written in one short transaction of its own after a request, at most every
``LOTSEN_COUNTER_FLUSH_SECONDS`` (0: after every request), and when the process exits. A process killed
outright loses at most that many seconds of counts: statistics, never anything a person entered.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Hashable

from flask import Flask, current_app, request
from sqlalchemy.orm import Session

from app.core.db import db

log = logging.getLogger(__name__)

EXTENSION = "lotsen_counters"
KEEP_FAILED = 5  # failed writes in a row after which a counter's pending counts are dropped


class BatchedCounter:
    """A named tally; ``write(session, counts)`` adds ``counts`` (key: amount) to the database. Keys must sort:
    they are written in order, so that two processes writing the same rows never deadlock."""

    def __init__(self, name: str, write: Callable[[Session, dict[Hashable, int]], None]):
        self.name = name
        self.write = write

    def add(self, key: Hashable, amount: int = 1) -> None:
        """Count ``amount`` for ``key`` in the current app (written with the next flush)."""
        tallies = _tallies(current_app)
        with tallies.lock:
            tallies.counter(self.name)[key] += amount

    def discard(self, key: Hashable) -> None:
        """Forget what this process counted for ``key`` and has not written yet."""
        tallies = _tallies(current_app)
        with tallies.lock:
            tallies.counter(self.name).pop(key, None)

    def pending(self, app: Flask | None = None) -> dict[Hashable, int]:
        """What is counted but not written yet."""
        tallies = _tallies(app or current_app)
        with tallies.lock:
            return dict(tallies.counter(self.name))


class _Tallies(dict[str, Counter]):
    """One app's tallies by counter name; read and changed only under ``lock``."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.last_flush = time.monotonic()
        self.failures: Counter = Counter()  # failed writes in a row, by counter

    def counter(self, name: str) -> Counter:
        return self.setdefault(name, Counter())

    def due(self, seconds: float) -> bool:
        with self.lock:
            return time.monotonic() - self.last_flush >= seconds and any(self.values())


_counters: dict[str, BatchedCounter] = {}


def register(name: str, write: Callable[[Session, dict[Hashable, int]], None]) -> BatchedCounter:
    counter = _counters[name] = BatchedCounter(name, write)
    return counter


def _tallies(app: Flask) -> _Tallies:
    return app.extensions[EXTENSION]


def flush(app: Flask) -> int:
    """Write every pending count now, each counter in a transaction of its own; returns the keys written. A
    failed write keeps its counts for the next flush, up to ``KEEP_FAILED`` times in a row (the database may be
    away for a moment); after that they are dropped, with an error in the log, so that counts a write can never
    take do not pile up."""
    tallies = _tallies(app)
    written = 0
    with tallies.lock:
        taken = {name: counts for name, counts in tallies.items() if counts}
        for name in taken:
            tallies[name] = Counter()
        tallies.last_flush = time.monotonic()
    for name, counts in taken.items():
        try:
            with app.app_context(), Session(bind=db.engine) as session:
                _counters[name].write(session, dict(sorted(counts.items())))
                session.commit()
            written += len(counts)
        except Exception:
            with tallies.lock:
                tallies.failures[name] += 1
                keep = tallies.failures[name] <= KEEP_FAILED
                if keep:
                    tallies.counter(name).update(counts)
            if keep:
                log.warning("writing the %s counts failed; they are kept for the next try", name, exc_info=True)
            else:
                log.error("writing the %s counts failed %d times in a row: %d dropped", name,
                          tallies.failures[name], len(counts), exc_info=True)
        else:
            tallies.failures[name] = 0
    return written


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = _Tallies()

    @app.teardown_request
    def flush_when_due(_exc: BaseException | None) -> None:
        if (request.endpoint or "").startswith("ops."):  # health probes never wait for the database
            return
        if _tallies(app).due(app.config["LOTSEN_COUNTER_FLUSH_SECONDS"]):
            flush(app)

    atexit.register(_flush_at_exit, weakref.ref(app))


def _flush_at_exit(app_ref: weakref.ref) -> None:
    app = app_ref()
    if app is not None:
        flush(app)
