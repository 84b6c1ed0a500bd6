"""Article Markdown to safe HTML (sanitised with nh3) and to plain text for the search index."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import lru_cache

import markdown as markdown_lib
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td", "dl", "dt", "dd", "sup", "sub",
    "abbr", "kbd", "mark",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "scope"},
    "td": {"align"},
    "abbr": {"title"},
}
EXTENSIONS = ["tables", "sane_lists", "fenced_code", "def_list", "abbr"]
ATTACHMENT_LINK = re.compile(r"\((attachment:)([^)\s]+)\)")


def render_markdown(text: str, attachment_url: Callable[[str], str | None] | None = None,
                    title: str | None = None) -> Markup:
    """Safe HTML for an article body. ``attachment:name.pdf`` links and images point to the attachment.

    Headings start at h2 (the page's h1 is the title), scripts, event handlers and ``javascript:`` links
    are removed, outside links open normally with ``rel="noopener noreferrer"``. A first ``# heading`` that
    repeats ``title`` is left out (the page already shows the title).
    """
    if title:
        first, _, rest = text.lstrip().partition("\n")
        if first.startswith("# ") and first[2:].strip() == title.strip():
            text = rest
    if attachment_url is not None:
        def to_url(match: re.Match) -> str:
            url = attachment_url(match.group(2))
            return f"({url})" if url else "(#)"

        text = ATTACHMENT_LINK.sub(to_url, text)
    return _render(text)


@lru_cache(maxsize=512)
def _render(text: str) -> Markup:
    """The sanitised HTML of a Markdown text: a pure function of the text, so every reader of an article revision
    after the first gets it from memory."""
    rendered = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    rendered = _demote_headings(rendered)
    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned)  # noqa: S704 (sanitised by nh3 just above)


def _demote_headings(rendered: str) -> str:
    """The article title is the page's only h1: a Markdown '# Heading' becomes h2, and so on."""
    if "<h1" not in rendered:
        return rendered
    for level in range(5, 0, -1):
        rendered = rendered.replace(f"<h{level}", f"<h{level + 1}").replace(f"</h{level}>", f"</h{level + 1}>")
    return rendered


@lru_cache(maxsize=512)
def markdown_to_text(text: str) -> str:
    """The words of a Markdown body, without markup, for indexing and snippets (remembered per text)."""
    rendered = markdown_lib.markdown(text or "", extensions=EXTENSIONS, output_format="html")
    rendered = re.sub(r"</(p|h\d|li|tr|td|th|pre|blockquote|dd|dt)>", " \n", rendered)
    plain = nh3.clean(rendered, tags=set())
    return re.sub(r"[ \t]+", " ", html.unescape(plain)).strip()
