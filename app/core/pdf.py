"""PDF rendering: the only module that uses WeasyPrint.

HTML comes from our own templates but may hold user text; the URL fetcher serves only Lotsen's own static
files, so a document can never read other local files or reach other hosts.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import HTML
from weasyprint.urls import URLFetcher

STATIC_ROOT = Path(__file__).resolve().parent.parent / "static"


class StaticOnlyFetcher(URLFetcher):
    """Fetches files below ``app/static`` and refuses everything else."""

    def __init__(self):
        super().__init__(allowed_protocols=("file",), allow_redirects=False)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        target = Path(unquote(parts.path)).resolve()
        if parts.scheme != "file" or parts.netloc not in ("", "localhost") or STATIC_ROOT not in target.parents:
            raise ValueError(f"refused to fetch {url!r}")
        return super().fetch(url, headers)


ARCHIVAL = "pdf/a-2b"  # PDF/A-2b: fonts embedded, colours defined, metadata in XMP, fit for the archive


def render_pdf(html: str, archival: bool = False) -> bytes:
    """A PDF of ``html``; relative links resolve to Lotsen's static folder and nothing else. ``archival``
    writes it as PDF/A (documents that go to the personnel file and the archive)."""
    return HTML(string=html, base_url=STATIC_ROOT.as_uri() + "/", url_fetcher=StaticOnlyFetcher()).write_pdf(
        pdf_variant=ARCHIVAL if archival else None)
