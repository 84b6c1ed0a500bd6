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


def _allowed() -> bool:
    """Whether the machine connected to us may read the metrics: the socket's peer, never an address named in
    ``X-Forwarded-For`` (anyone can write one), an IPv4 address as itself however the socket shows it."""
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR") or request.environ.get(
        "REMOTE_ADDR", "")
    try:
        client = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if client.version == 6 and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in ipaddress.ip_network(network, strict=False)
               for network in current_app.config["LOTSEN_METRICS_ALLOW"])


@bp.get("/metrics")
def metrics_page():
    if not _allowed():
        abort(403)
    body, content_type = metrics.exposition([services.DatabaseFigures()])
    return Response(body, content_type=content_type)
