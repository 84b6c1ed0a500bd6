"""Security headers on every response: no framing (widget pages set their own allowed frame-ancestors),
no sniffing, strict CSP, HSTS where Lotsen is served over HTTPS, and no caching of anything that was not
explicitly made cacheable (pages behind log-in hold personal data)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request

HSTS = "max-age=31536000; includeSubDomains"


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: never a way to another host (no scheme or host, no
    ``//``, no backslash, which browsers read as ``/``)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def set_security_headers(response: Response) -> Response:
        if "Content-Security-Policy" not in response.headers:  # widget pages set their own frame-ancestors
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
            response.headers["X-Frame-Options"] = "DENY"
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if "Cache-Control" not in response.headers and not (request.endpoint or "").endswith("static"):
            response.headers["Cache-Control"] = "private, no-store"
        if app.config["SESSION_COOKIE_SECURE"]:  # served over HTTPS (production): browsers must stay on it
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
