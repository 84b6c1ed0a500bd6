"""``/healthz`` (the process answers), ``/readyz`` (this host can serve) and ``/metrics`` (Prometheus). No log-in,
no rate limit, no personal data; ``/metrics`` only to the addresses in ``LOTSEN_METRICS_ALLOW``."""

from __future__ import annotations

import ipaddress

from flask import Response, abort, current_app, jsonify, request

from app.core import metrics
from app.core.extensions import limiter
from app.ops import services
from app.ops.blueprint import bp

limiter.exempt(bp)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    ready, checks = services.readiness(current_app.config["LOTSEN_READY_MAX_INDEX_LAG"])
    response = jsonify({"status": "ready" if ready else "unready", "checks": checks})
    response.status_code = 200 if ready else 503
    return response


def _allowed(address: str) -> bool:
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(client in ipaddress.ip_network(network, strict=False)
               for network in current_app.config["LOTSEN_METRICS_ALLOW"])


@bp.get("/metrics")
def metrics_page():
    if not _allowed(request.remote_addr or ""):
        abort(403)
    body, content_type = metrics.exposition([services.DatabaseFigures()])
    return Response(body, content_type=content_type)
