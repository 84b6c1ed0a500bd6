"""The editors' synonym list: groups of phrases that search treats as the same (``lönespec = lönespecifikation``).

A saved change is used at once by the process that saved it and within seconds by the others (search checks
``editor_synonyms_stamp``); the built-in lists in ``app/core/text_data`` come on top.
"""

from __future__ import annotations

from sqlalchemy import delete, func, select

from app.auth.models import User
from app.core.db import db, utcnow
from app.core.transactions import DomainError
from app.selfservice.models import SynonymGroup
from app.selfservice.search import synonyms_changed


class SynonymError(DomainError):
    """A line of the synonym list cannot be used; ``line`` is its number (1-based)."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}", "synonyms")
        self.line = line
        self.reason = reason


def editor_synonym_groups() -> list[list[str]]:
    return [group.phrase_list for group in db.session.scalars(select(SynonymGroup).order_by(SynonymGroup.id))]


def editor_synonyms_stamp() -> tuple:
    """Changes whenever the list is saved (every save rewrites all groups with a new time)."""
    return tuple(db.session.execute(select(func.count(SynonymGroup.id), func.max(SynonymGroup.id),
                                           func.max(SynonymGroup.updated_at))).one())


def synonyms_as_text() -> str:
    return "\n".join(" = ".join(group) for group in editor_synonym_groups())


def parse_synonym_text(text: str) -> list[list[str]]:
    """One group a line, phrases separated by '='. Blank lines and lines starting with # are skipped."""
    groups = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        phrases = [" ".join(p.split()) for p in line.split("=")]
        if any(not p for p in phrases) or len(phrases) < 2:
            raise SynonymError(number, "needs at least two phrases separated by '='")
        if any(len(p) > 100 for p in phrases):
            raise SynonymError(number, "a phrase is longer than 100 characters")
        groups.append(phrases)
    return groups


def replace_synonyms(text: str, editor: User) -> int:
    """Replace the whole editor list with the groups in ``text``; returns how many groups were saved."""
    groups = parse_synonym_text(text)
    db.session.execute(delete(SynonymGroup))
    for phrases in groups:
        db.session.add(SynonymGroup(phrases=" = ".join(phrases), updated_by_id=editor.id, updated_at=utcnow()))
    db.session.flush()
    synonyms_changed()
    return len(groups)
