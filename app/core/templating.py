"""Template helpers every feature uses: the CSRF input of a form, and plain text with its web addresses as links."""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup, escape

from app.core.forms import csrf_field

URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def linkify(text: str | None) -> Markup:
    """``text`` escaped, with each http(s) address as a link (a reply's article link, a pasted address). Only the
    address itself becomes a link; nothing the writer typed can add markup or attributes."""
    if not text:
        return Markup("")
    parts, last = [], 0
    for match in URL_RE.finditer(text):
        parts.append(escape(text[last:match.start()]))
        url = escape(match.group(0))
        parts.append(Markup('<a href="{0}" rel="noopener noreferrer">{0}</a>').format(url))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.filters["linkify"] = linkify
