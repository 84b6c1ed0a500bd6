"""Static files with content-hashed URLs: ``url_for("static", filename=...)`` adds ``v=<hash of the file>``, and a
request carrying the current hash is answered with a year-long, immutable cache lifetime. A changed file gets a
new URL, so browsers never keep a stale stylesheet or script and never ask again for a current one."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

from flask import Flask, Response, request, send_from_directory

YEAR = 365 * 24 * 3600
RECHECK_SECONDS = 2.0
_hashes: dict[tuple[str, int, int], str] = {}
_checked: dict[tuple[str, str], tuple[float, str | None]] = {}
_lock = threading.Lock()


def file_version(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, remembered per size and modification time; None when the
    file does not exist (the link then stays as it is and answers 404). The file is looked at again at most
    every ``RECHECK_SECONDS`` (a page links the same files on every request)."""
    now = time.monotonic()
    checked = _checked.get((folder, filename))
    if checked is not None and now - checked[0] < RECHECK_SECONDS:
        return checked[1]
    path = Path(folder, filename)
    try:
        stat = path.stat()
    except OSError:
        _checked[folder, filename] = (now, None)
        return None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        found = _hashes.get(key)
    if found is None:
        found = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        with _lock:
            _hashes[key] = found
    _checked[folder, filename] = (now, found)
    return found


def init_app(app: Flask) -> None:
    folder = app.static_folder

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for it at the root whatever the page says; a day's cache, no log-in."""
        return send_from_directory(folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=24 * 3600)

    @app.url_defaults
    def add_static_version(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values and folder:
            version = file_version(folder, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def cache_versioned_static(response: Response) -> Response:
        if request.endpoint == "static" and response.status_code == 200 and folder:
            wanted = request.args.get("v")
            if wanted and wanted == file_version(folder, (request.view_args or {}).get("filename", "")):
                response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response
