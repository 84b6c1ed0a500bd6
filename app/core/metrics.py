"""Metrics in the Prometheus text format (the official ``prometheus-client``).

Counters and histograms that every process adds to live here. Under gunicorn several processes serve, so
``gunicorn.conf.py`` sets ``PROMETHEUS_MULTIPROC_DIR`` before any of them imports this module: each process then
writes its figures to files there and ``/metrics`` adds up all of them (prometheus-client's multiprocess mode).
Figures that live in the database (the outbox, cases, the worker's heartbeat) are read when ``/metrics`` is
asked, by the collector the operations package adds (``app/ops/services.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # any process of the server (a command, the worker) may count first
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.registry import Collector

# decided once, as prometheus-client decides when it is first imported: files shared by processes, or memory
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
REQUESTS = Counter("lotsen_http_requests", "HTTP requests answered, by endpoint, method and status",
                   ["endpoint", "method", "status"])
LATENCY = Histogram("lotsen_http_request_duration_seconds", "Time to answer a request, by endpoint", ["endpoint"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
LOGIN_FAILURES = Counter("lotsen_login_failures", "Refused log-ins (wrong password, unknown name, blocked account)")
DIRECTORY_ERRORS = Counter("lotsen_directory_errors", "Log-ins that failed because no directory server answered")


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint).observe(seconds)


def exposition(extra: Iterable[Collector] = ()) -> tuple[bytes, str]:
    """Every process's counters (the multiprocess files when there are several) and the ``extra`` collectors."""
    if MULTIPROCESS:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, LOGIN_FAILURES, DIRECTORY_ERRORS):
            registry.register(collector)
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST

