"""Checking and storing uploaded files: allowed types by extension and content, size limit, random names."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.transactions import DomainError, write_file

# extension -> (content type, magic bytes at the start, or None when any content is fine)
UPLOAD_TYPES: dict[str, tuple[str, tuple[bytes, ...] | None]] = {
    "pdf": ("application/pdf", (b"%PDF",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "webp": ("image/webp", (b"RIFF",)),
    "mp4": ("video/mp4", None),
    "webm": ("video/webm", (b"\x1a\x45\xdf\xa3",)),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", (b"PK\x03\x04",)),
    "odt": ("application/vnd.oasis.opendocument.text", (b"PK\x03\x04",)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (b"PK\x03\x04",)),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
    "eml": ("message/rfc822", None),  # a mail forwarded as an attachment
}


@dataclass
class Upload:
    """A file as it arrived: its name and a stream of its bytes."""

    filename: str
    stream: IO[bytes]


def uploads_from(files: Any) -> list[Upload]:
    """The non-empty files of a (multiple) file field's data."""
    return [Upload(f.filename, f.stream) for f in (files or []) if f and f.filename]


def upload_limits() -> dict[str, Any]:
    """Where uploads go and how large they may be, as keyword arguments for the services."""
    return {"upload_root": Path(current_app.config["LOTSEN_UPLOAD_PATH"]),
            "max_bytes": current_app.config["LOTSEN_MAX_UPLOAD_MB"] * 1024 * 1024}


class UploadRejected(DomainError):  # noqa: N818
    """An uploaded file is of a type Lotsen does not accept, too large or not what its name says."""


def file_kind(content_type: str) -> str:
    """``image``, ``video`` or ``file``: how a page shows an uploaded file."""
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video") else "file"


@dataclass
class StoredFile:
    original_name: str
    stored_name: str
    content_type: str
    size: int


class StoredFileColumns:
    """Model mixin for a stored upload: the name it came with, its random stored name, type and size."""

    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]

    @property
    def kind(self) -> str:
        return file_kind(self.content_type)


def safe_display_name(name: str) -> str:
    """The file name without folders or odd characters, for showing and for Content-Disposition."""
    name = Path(name.replace("\\", "/")).name
    name = re.sub(r"[^\w.\- ()åäöÅÄÖ]", "_", name).strip(" .")
    return name[:200] or "fil"


def store_upload(filename: str, stream: IO[bytes], folder: Path, max_bytes: int,
                 allowed: set[str] | None = None) -> StoredFile:
    """Check an upload and write it under ``folder`` with a random name; raises ``UploadRejected``.

    The file goes again if the transaction that stores its row rolls back."""
    display = safe_display_name(filename)
    extension = display.rsplit(".", 1)[-1].lower() if "." in display else ""
    if extension not in UPLOAD_TYPES or (allowed is not None and extension not in allowed):
        raise UploadRejected(_l("files of this type are not accepted"))
    content_type, signatures = UPLOAD_TYPES[extension]
    data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UploadRejected(_l("the file is too large"))
    if not data:
        raise UploadRejected(_l("the file is empty"))
    if (signatures and not any(data.startswith(sig) for sig in signatures)) or (
            extension == "mp4" and data[4:8] != b"ftyp"):
        raise UploadRejected(_l("the file's content does not match its name"))
    stored = f"{uuid.uuid4().hex}.{extension}"
    write_file(folder / stored, data)  # removed again if the transaction rolls back
    return StoredFile(display, stored, content_type, len(data))
