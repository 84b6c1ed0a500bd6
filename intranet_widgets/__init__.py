"""Embeddable widgets for the intranet: a loader script and small pages shown in iframes.

This package talks to Lotsen only through the JSON API (/api/v1) from the browser and registers as a
blueprint; it never imports the application's internals. Pages of the origins in LOTSEN_WIDGET_ORIGINS may
frame the widgets (Content-Security-Policy: frame-ancestors); everything else in Lotsen refuses framing.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, send_from_directory
from flask_wtf.csrf import generate_csrf

bp = Blueprint("widgets", __name__, url_prefix="/widgets", static_folder="static")

KINDS = ("search", "articles", "ask", "my-cases", "notices")
TEXTS = {
    "sv": {"search": "Sök i Lotsen", "placeholder": "Vad behöver du hjälp med?", "results": "Träffar",
           "none": "Inga artiklar hittades.", "popular": "Populära artiklar", "newest": "Nya artiklar",
           "ask": "Ställ en fråga", "subject": "Ämne", "description": "Beskriv din fråga", "send": "Skicka frågan",
           "suggest": "De här artiklarna kanske svarar på din fråga:", "sent": "Din fråga är skickad:",
           "login": "Logga in i Lotsen", "login_needed": "Logga in för att se dina ärenden och ställa frågor.",
           "cases": "Mina öppna ärenden", "no_cases": "Du har inga öppna ärenden.", "notices": "Driftinformation",
           "no_notices": "Inga störningar just nu.", "error": "Lotsen svarar inte just nu. Försök igen senare.",
           "required": "Fyll i ämne och beskrivning.", "new": "Nytt", "open": "Öppet", "waiting": "Väntar på dig",
           "resolved": "Löst", "closed": "Stängt", "until": "till", "widget": "Lotsen"},
    "en": {"search": "Search Lotsen", "placeholder": "What do you need help with?", "results": "Results",
           "none": "No articles found.", "popular": "Popular articles", "newest": "New articles",
           "ask": "Ask a question", "subject": "Subject", "description": "Describe your question",
           "send": "Send the question", "suggest": "These articles may answer your question:",
           "sent": "Your question is sent:", "login": "Log in to Lotsen",
           "login_needed": "Log in to see your cases and ask questions.", "cases": "My open cases",
           "no_cases": "You have no open cases.", "notices": "Service notices", "no_notices": "No disruptions now.",
           "error": "Lotsen does not answer right now. Try again later.",
           "required": "Write a subject and a description.", "new": "New", "open": "Open",
           "waiting": "Waiting for you", "resolved": "Resolved", "closed": "Closed", "until": "until",
           "widget": "Lotsen"},
}


def _frame_ancestors() -> str:
    origins = current_app.config["LOTSEN_WIDGET_ORIGINS"]
    return " ".join(["'self'", *origins])


def _limit(raw: str) -> str:
    """The API takes 1 to 20 items; a snippet's odd data-lotsen-limit falls back to 5."""
    return str(max(1, min(20, int(raw)))) if raw.isascii() and raw.isdigit() else "5"


@bp.get("/embed.js")
def embed():
    response = send_from_directory(bp.static_folder, "embed.js", mimetype="text/javascript", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/frame/<kind>")
def frame(kind: str):
    if kind not in KINDS:
        abort(404)
    lang = request.args.get("lang", "sv")
    lang = lang if lang in TEXTS else "sv"
    parent = request.args.get("parent", "")
    allowed = current_app.config["LOTSEN_WIDGET_ORIGINS"]
    options = {
        "kind": kind, "lang": lang, "function": request.args.get("function", ""),
        "tag": request.args.get("tag", ""), "sort": request.args.get("sort", "popular"),
        "limit": _limit(request.args.get("limit", "")), "id": request.args.get("id", ""),
        # the frame talks to its parent page only if that page's origin is allowed
        "parent": parent if parent in allowed else "",
        "csrf": generate_csrf(),
    }
    accent = request.args.get("accent", "")
    response = current_app.make_response(render_template(
        "widgets/frame.html", options=options, texts=TEXTS[lang],
        accent=accent if accent.startswith("#") and len(accent) in (4, 7) and accent[1:].isalnum() else "#0b4f85"))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        f"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors {_frame_ancestors()}")
    response.headers["Cache-Control"] = "no-store"
    return response
