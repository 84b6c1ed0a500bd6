"""The search adapter: the only module that talks to Whoosh.

The database is the truth; the index in the instance folder is a cache of the published articles that any
process can rebuild. Text is analysed by ``app.core.text`` (Swedish lemmas, stems and compound parts, English
stems) and handed to Whoosh as ready-made terms, so index and query always agree.

Keeping the index current: a change to an article writes an ``ArticleRevision`` whose id grows with every
change. After a commit the changed articles are indexed at once if the writer lock is free; either way the
index remembers the newest revision it has seen, and every process catches up on newer revisions before it
searches (at most every ``CATCH_UP_SECONDS``). So a busy lock or a crash loses nothing, and several
gunicorn workers or hosts share one database with an index each.

Damage: the index files are read without mmap (a mapped file truncated under a process kills it with SIGBUS).
A missing, unreadable or corrupt index is noticed when it is opened, searched or checked for changes; the
process then logs one warning, rebuilds it in a background thread and answers searches from the database
(``database_search``) until the new index is in place. Rebuilds, in the background or by ``flask search
reindex``, take turns through an flock on ``<index>.lock`` and build in a folder of their own.
"""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import tempfile
import threading
import time
import unicodedata
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path

from flask import Flask, current_app
from markupsafe import Markup, escape
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from whoosh import query as wq
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile
from whoosh.index import LockError
from whoosh.matching import UnionMatcher
from whoosh.scoring import BM25F

from app.core import embeddings
from app.core.db import db, listen_once
from app.core.text import TextAnalyzer, Token, fold, get_analyzer, join_prefixes, words
from app.selfservice.markdown import markdown_to_text
from app.selfservice.models import Article, ArticleRevision, ArticleTag
from app.selfservice.semantic import SemanticIndex

log = logging.getLogger(__name__)

QUERY_MAX_LENGTH = 200  # characters of a question: the search box, the API and the case page's suggestions
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.5, "summary": 1.5, "body": 1.0}
PART_WEIGHT = 0.35  # a compound's parts count less than the whole word
FUZZY_WEIGHT = 0.6  # a typo's likely corrections count less than an exact word
PREFIX_WEIGHT = 0.7  # as-you-type completion of the last word
SYNONYM_WEIGHT = 0.8
ALTERNATIVE_TIEBREAK = 0.1
OTHER_LANGUAGE_FACTOR = 0.7
COMMON_PART_MIN_DOCS = 2000
COMMON_PART_SHARE = 0.2
COORDINATION = 0.9  # documents that match more of the query's words rank higher
CATCH_UP_SECONDS = 2.0
WRITER_TIMEOUT = 3.0
REBUILD_RETRY_SECONDS = 30.0  # after a failed background rebuild, searches keep using the database this long
REBUILD_JOIN_SECONDS = 60.0  # closing an index waits this long for its background rebuild
META_FILE = "lotsen-meta.json"
_ALWAYS = object()
REINDEX_AFTER_COMMIT = "lotsen_reindex_articles"
SYNONYMS_AFTER_COMMIT = "lotsen_synonyms_changed"
RESULT_CACHE_SIZE = 2048  # answers kept per process, for as long as the index, synonyms and vectors are unchanged
# Fusion of the words and the meaning (tuned on half 1 of the development set, checked on half 2; README)
RRF_K = 60.0
SEMANTIC_WEIGHT = 1.0
# Meaning alone (no word of the question in any article) must be this close: e5's cosines are compressed, and
# made-up nonsense ("asdf qwerty", cake recipes) still comes out at 0.79-0.82 against the articles
SEMANTIC_ALONE_MIN_SIMILARITY = 0.83
FUSION_DEPTH = 50  # how deep each list is read


def _schema() -> Schema:
    terms = SpaceSeparatedTokenizer()
    return Schema(
        article_id=ID(stored=True, unique=True),
        slug=STORED(),
        lang=ID(stored=True),
        function=ID(stored=True),
        title=TEXT(analyzer=terms, field_boost=1.0),
        tags=TEXT(analyzer=terms),
        summary=TEXT(analyzer=terms),
        body=TEXT(analyzer=terms),
        spell=TEXT(analyzer=terms, phrase=False, spelling=True),
    )


class _BestOfMatcher(UnionMatcher):
    """Union of two matchers scored by the better one plus ``tiebreak`` times the other.

    Whoosh's own DisjunctionMaxMatcher mixes in the score of a document the other matcher stands on, and
    drops documents once one side runs out; this one does neither.
    """

    def __init__(self, a, b, tiebreak: float = 0.0):
        super().__init__(a, b)
        self.tiebreak = tiebreak

    def copy(self):
        return self.__class__(self.a.copy(), self.b.copy(), tiebreak=self.tiebreak)

    def replace(self, minquality=0):
        a, b = self.a.replace(), self.b.replace()
        if not a.is_active():
            return b
        if not b.is_active():
            return a
        if a is not self.a or b is not self.b:
            return self.__class__(a, b, tiebreak=self.tiebreak)
        return self

    # Upper bounds for Whoosh's block skipping: the score never exceeds (1 + tiebreak) x the better side.
    def supports_block_quality(self):
        return self.a.supports_block_quality() and self.b.supports_block_quality()

    def max_quality(self):
        return max(self.a.max_quality(), self.b.max_quality()) * (1 + self.tiebreak)

    def block_quality(self):
        return max(self.a.block_quality(), self.b.block_quality()) * (1 + self.tiebreak)

    def skip_to_quality(self, minquality):
        a, b = self.a, self.b
        if not a.is_active():
            return b.skip_to_quality(minquality / (1 + self.tiebreak))
        if not b.is_active():
            return a.skip_to_quality(minquality / (1 + self.tiebreak))
        skipped = 0
        factor = 1 + self.tiebreak
        while a.is_active() and b.is_active() and self.block_quality() < minquality:
            if a.block_quality() * factor < minquality:
                skipped += a.skip_to_quality(minquality / factor)
            if b.is_active() and b.block_quality() * factor < minquality:
                skipped += b.skip_to_quality(minquality / factor)
        return skipped

    def score(self):
        a, b = self.a, self.b
        if not a.is_active():
            return b.score()
        if not b.is_active():
            return a.score()
        if a.id() < b.id():
            return a.score()
        if b.id() < a.id():
            return b.score()
        first, second = a.score(), b.score()
        return max(first, second) + self.tiebreak * min(first, second)


class BestOf(wq.DisjunctionMax):
    """Matches any subquery; scores by the best one (see ``_BestOfMatcher``)."""

    def _matcher(self, subs, searcher, context):
        reader = searcher.reader()
        return self._tree_matcher(subs, _BestOfMatcher, searcher, context, lambda q: q.estimate_size(reader),
                                  tiebreak=self.tiebreak)


@dataclass
class SearchDocument:
    article_id: int
    slug: str
    lang: str
    function: str
    title: str
    tags: list[str]
    summary: str
    body_text: str

    @classmethod
    def from_article(cls, article: Article) -> SearchDocument:
        return cls(article.id, article.slug, article.lang, article.function.slug, article.title, article.tags,
                   article.summary, markdown_to_text(article.body))


@dataclass
class SearchHit:
    slug: str
    score: float
    article_id: int


@dataclass(frozen=True)
class SearchResult:
    hits: list[SearchHit]
    total: int
    corrected_query: str | None = None
    stems: set[str] = field(default_factory=set)


def index_terms(analyzer: TextAnalyzer, text: str, lang: str) -> str:
    return " ".join(analyzer.terms(text, lang))


def _document_fields(doc: SearchDocument, analyzer: TextAnalyzer) -> dict[str, str]:
    spell_words = {w.text for w in words(" ".join([doc.title, doc.summary, doc.body_text, *doc.tags]))}
    return {
        "article_id": str(doc.article_id),
        "slug": doc.slug,
        "lang": doc.lang,
        "function": doc.function,
        "title": index_terms(analyzer, doc.title, doc.lang),
        "tags": index_terms(analyzer, " ".join(doc.tags), doc.lang),
        "summary": index_terms(analyzer, doc.summary, doc.lang),
        "body": index_terms(analyzer, doc.body_text, doc.lang),
        "spell": " ".join(sorted(w for w in spell_words if len(w) >= 3 and not w.isdigit())),
    }


class SynonymTable:
    """Groups of phrases that mean the same, matched on Swedish stems anywhere in a query."""

    def __init__(self, groups: Iterable[Sequence[str]], analyzer: TextAnalyzer):
        self.analyzer = analyzer
        self._by_first: dict[str, list[tuple[tuple[str, ...], list[str]]]] = {}
        for group in groups:
            phrases = [p for p in group if p.strip()]
            for phrase in phrases:
                stems = analyzer.stems(phrase)
                if stems:
                    others = [p for p in phrases if analyzer.stems(p) != stems]
                    self._by_first.setdefault(stems[0], []).append((stems, others))

    def matches(self, stems: Sequence[str]) -> list[tuple[int, int, list[str]]]:
        """(start, end, alternative phrases) for every synonym phrase found in the stem sequence."""
        found = []
        for start, stem in enumerate(stems):
            for phrase, others in self._by_first.get(stem, []):
                end = start + len(phrase)
                if tuple(stems[start:end]) == phrase and others:
                    found.append((start, end, others))
        return found


def read_synonym_file(path: Path) -> list[list[str]]:
    groups = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            groups.append([p.strip() for p in line.split("=")])
    return groups


class UnionOr(wq.Or):
    """An Or that always merges its parts as a tree of union matchers, which can skip blocks of documents that
    cannot reach the top results. Whoosh's default for indexes under 5,000 documents reads every match of
    every part into arrays first: twice as slow, and its arrays hide the terms from the coordination factor."""

    matcher_type = wq.Or.DEFAULT_MATCHER


class QueryBuilder:
    """Turns what a person typed into a Whoosh query over the analysed fields."""

    def __init__(self, reader, analyzer: TextAnalyzer, synonyms: SynonymTable):
        self.reader = reader
        self.analyzer = analyzer
        self.synonyms = synonyms

    def _terms(self, stems: Iterable[str], weight: float) -> wq.Query | None:
        """One word's stems in every field; a match in several fields adds up, as in BM25F."""
        unique = dict.fromkeys(s for s in stems if s)
        terms = [wq.Term(name, stem, boost=boost * weight) for stem in unique for name, boost in FIELD_WEIGHTS.items()]
        return UnionOr(terms) if terms else None

    def _token_alternatives(self, token: Token, weight: float = 1.0) -> list[wq.Query]:
        """Ways a word may appear: itself, or (weaker) its compound parts."""
        alternatives = [self._terms([token.sv, token.en], weight)]
        parts = [p for p in token.parts if p != token.sv and not self._too_common(p)]
        if parts:
            alternatives.append(self._terms(parts, weight * PART_WEIGHT))
        return [a for a in alternatives if a is not None]

    @staticmethod
    def _best_of(alternatives: list[wq.Query]) -> wq.Query:
        """The best-matching way counts (plus a little of the others), so synonyms and spellings of one word
        never outweigh the other words of the query."""
        return alternatives[0] if len(alternatives) == 1 else BestOf(alternatives, tiebreak=ALTERNATIVE_TIEBREAK)

    def _too_common(self, stem: str) -> bool:
        """In a large index a compound part found in most articles says little and costs much to score."""
        total = self.reader.doc_count()
        return total >= COMMON_PART_MIN_DOCS and self.reader.doc_frequency("body", stem) > total * COMMON_PART_SHARE

    def _is_known(self, token: Token) -> bool:
        reader = self.reader
        return any(reader.doc_frequency(name, stem) for stem in (token.sv, token.en) for name in ("title", "body"))

    def _starts_a_word(self, prefix: str) -> bool:
        """Whether some word of the articles begins with ``prefix`` (someone still typing it)."""
        return next(iter(self.reader.expand_prefix("spell", prefix)), None) is not None

    def corrections(self, word: str, limit: int = 3) -> list[str]:
        """Words of the articles within one or two edits of ``word``, closest and most common first."""
        if len(word) < 4 or word.isdigit():
            return []
        maxdist = 1 if len(word) < 8 else 2
        candidates = spelling_vocabulary(self.reader).get(word[0], ())
        found = {w: distance for w, distance, _index in process.extract(
            word, candidates, scorer=Levenshtein.distance, score_cutoff=maxdist, limit=None) if w != word}
        ranked = sorted(found, key=lambda w: (found[w], -self.reader.doc_frequency("spell", w)))
        return ranked[:limit]

    def build(self, text: str, complete_last: bool = False) -> tuple[wq.Query | None, dict[str, str], set[str]]:
        """The query, the corrections made ({typed: corrected}) and the stems to highlight."""
        tokens = self.analyzer.tokens(text)
        if not tokens:
            return None, {}, set()
        slots: list[list[wq.Query]] = []
        corrected: dict[str, str] = {}
        highlight: set[str] = set()
        for position, token in enumerate(tokens):
            alternatives = self._token_alternatives(token)
            highlight.update({token.sv, token.en, *token.parts})
            is_last = position == len(tokens) - 1
            completing = complete_last and is_last and not text[-1:].isspace() and len(token.word.text) >= 3
            if completing:
                for name, boost in FIELD_WEIGHTS.items():
                    alternatives.append(wq.Prefix(name, token.word.text, boost=boost * PREFIX_WEIGHT))
            if not self._is_known(token) and not (completing and self._starts_a_word(token.word.text)):
                for candidate in self.corrections(token.word.text):
                    corrected.setdefault(token.word.text, candidate)
                    for fixed in self.analyzer.tokens(candidate, keep_stopwords=True):
                        alternatives += self._token_alternatives(fixed, FUZZY_WEIGHT)
                        highlight.update({fixed.sv, fixed.en, *fixed.parts})
            slots.append(alternatives)
        # A synonym for several words stands in for all of them: the span becomes one slot (the words
        # together, or any of the synonyms), so neither side is counted twice.
        combined: list[wq.Query | None] = [self._best_of(alternatives) for alternatives in slots]
        taken: set[int] = set()
        matches = sorted(self.synonyms.matches([t.sv for t in tokens]), key=lambda m: m[0] - m[1])
        for start, end, phrases in matches:
            if taken & set(range(start, end)):
                continue
            extra = []
            for phrase in phrases:
                phrase_tokens = self.analyzer.tokens(phrase)
                if phrase_tokens:
                    parts = [self._best_of(self._token_alternatives(t, SYNONYM_WEIGHT)) for t in phrase_tokens]
                    extra.append(parts[0] if len(parts) == 1 else wq.And(parts))
                    for t in phrase_tokens:
                        highlight.update({t.sv, t.en})
            span = [combined[i] for i in range(start, end)]
            original = span[0] if len(span) == 1 else UnionOr(span)
            combined[start] = self._best_of([original, *extra]) if extra else original
            for i in range(start + 1, end):
                combined[i] = None
            taken.update(range(start, end))
        combined = [q for q in combined if q is not None]
        query = combined[0] if len(combined) == 1 else UnionOr(combined, scale=COORDINATION)
        return query, corrected, highlight


_vocabularies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_vocabularies_lock = threading.Lock()


def spelling_vocabulary(reader) -> dict[str, list[str]]:
    """The words of the articles (the ``spell`` field) by first letter, read once per index reader: typo
    tolerance compares a word with them in C++ (rapidfuzz) instead of walking Whoosh's term files with a
    Levenshtein automaton in Python, which took tens of milliseconds a word. Same words, same distances."""
    with _vocabularies_lock:
        found = _vocabularies.get(reader)
        if found is None:
            found = {}
            for term in reader.field_terms("spell"):
                found.setdefault(term[:1], []).append(term)
            _vocabularies[reader] = found
        return found


class IndexUnavailableError(Exception):
    """The index folder is missing, unreadable or corrupt (the database still has everything)."""


DEFAULT_MEMORY_BUDGET = 128 * 2**20  # index files held in memory per process (LOTSEN_SEARCH_MEMORY_MB)

class SearchIndex:
    """One Whoosh index directory: a cache of the database's published articles.

    A missing, unreadable or corrupt index never breaks search. The first search (or update) that trips over
    it logs a warning, starts one rebuild in a background thread, and searches are answered straight from the
    database (``database_search``) until the rebuild has been swapped in. Rebuilds build in a folder of their
    own beside the index and hold an exclusive lock on ``<index>.lock`` while they build and swap; writers of
    single changes hold it shared (and give way while a rebuild runs), so processes on one host never rebuild
    at once and never write into an index that is being replaced.
    """

    def __init__(self, path: Path, synonyms_loader: Callable[[], list[list[str]]] | None = None,
                 memory_budget: int = DEFAULT_MEMORY_BUDGET, synonyms_stamp: Callable[[], object] | None = None):
        self.path = path
        self.memory_budget = memory_budget
        self.meta_path = path / META_FILE
        self.lock_path = path.with_name(path.name + ".lock")
        self._index = None
        self._build: str | None = None  # the build id (lotsen-meta.json) of the index we have open
        self._searcher = None
        self._lock = threading.RLock()
        self._last_catch_up = 0.0
        self._synonyms_loader = synonyms_loader or (lambda: [])
        self._synonyms_stamp = synonyms_stamp
        self._synonyms_key: object = None
        self._synonyms_checked = 0.0
        self._synonym_table: SynonymTable | None = None
        self._searcher_generation = 0  # counts the searchers opened: a new one means the index changed
        self._searcher_checked = 0.0
        self._results: dict[tuple, tuple[tuple, SearchResult]] = {}
        self._failed = False  # the index failed us; searches use the database until a rebuild is in place
        self._failed_build: str | None = None
        self._rebuilder: threading.Thread | None = None
        self._rebuilder_guard = threading.Lock()
        self._next_rebuild = 0.0
        self.semantic = SemanticIndex(path.with_name(path.name + ".embeddings.lock"))

    # --- opening and failing -----------------------------------------------------------------------------
    def _open(self):
        """The open index; raises ``IndexUnavailableError`` when it is missing, unreadable or known to be broken."""
        if self._failed:
            raise IndexUnavailableError(f"{self.path}: failed, being rebuilt")
        if self._index is not None:
            return self._index
        build = self._read_meta().get("build")
        try:
            ix = open_index(self.path, self.memory_budget)
            ix.doc_count()
        except Exception as exc:  # whatever Whoosh or the file system raise, the index cannot be used
            raise IndexUnavailableError(f"{self.path}: {exc.__class__.__name__}: {exc}") from exc
        self._index, self._build = ix, build
        return ix

    def _fail(self, exc: BaseException) -> None:
        """Remember that the index failed (warning once per outage), close it and start a background rebuild."""
        with self._lock:
            if not self._failed:
                log.warning("search index at %s unusable (%s: %s): answering from the database while it is "
                            "rebuilt in the background", self.path, exc.__class__.__name__, exc)
                self._failed_build = self._build if self._index is not None else self._read_meta().get("build")
                self._failed = True
            self._close_quietly()
        self._start_rebuild()

    def _start_rebuild(self) -> None:
        """Start the background rebuild unless one is running (or the last one failed moments ago)."""
        with self._rebuilder_guard:
            if self._rebuilder is not None and self._rebuilder.is_alive():
                return
            if time.monotonic() < self._next_rebuild:
                return
            app = current_app._get_current_object()
            self._rebuilder = threading.Thread(target=self._rebuild_in_background, args=(app,), daemon=True,
                                               name=f"lotsen-search-rebuild-{self.path.name}")
            self._rebuilder.start()

    def _rebuild_in_background(self, app: Flask) -> None:
        try:
            with app.app_context(), _file_lock(self.lock_path):
                current = self._read_meta().get("build")
                if current is not None and current != self._failed_build and self._reopen():
                    log.info("search index at %s was rebuilt by another process; using it again", self.path)
                    return
                count = self._build_and_swap(engine=db.engine)
            log.info("search index at %s rebuilt with %d articles; using it again", self.path, count)
        except Exception:
            self._next_rebuild = time.monotonic() + REBUILD_RETRY_SECONDS
            log.exception("rebuilding the search index at %s failed; searches keep using the database", self.path)

    def wait_for_rebuild(self, timeout: float | None = None) -> bool:
        """Wait for a background rebuild, if one runs; False if it is still running after ``timeout`` seconds."""
        thread = self._rebuilder
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            return not thread.is_alive()
        return True

    # --- rebuilding ----------------------------------------------------------------------------------------
    def rebuild(self, progress: Callable[[int, int], None] | None = None, session: Session | None = None) -> int:
        """Build a fresh index of every published article from the database now; returns the count.

        Safe to run from several processes at once: they take turns, and each leaves a complete index.
        """
        with _file_lock(self.lock_path):
            return self._build_and_swap(progress, session or db.session)

    def _build_and_swap(self, progress: Callable[[int, int], None] | None = None, session: Session | None = None,
                        engine=None) -> int:
        """Build in a folder of its own beside the index and swap it in (the caller holds the exclusive lock);
        without ``session``, reads through a session of its own on ``engine``."""
        self._remove_leftovers()
        if session is None:
            with Session(bind=engine) as own:  # read, then let go of the database before the long part
                latest, documents = _load_documents(own)
        else:
            latest, documents = _load_documents(session)
        tmp = Path(tempfile.mkdtemp(prefix=f"{self.path.name}.new-", dir=self.path.parent))
        old = tmp.with_name(tmp.name + ".old")
        try:
            # mkdtemp makes it private to this user; keep the permissions the index (or its folder) had
            tmp.chmod((self.path if self.path.exists() else self.path.parent).stat().st_mode & 0o777)
            ix = create_index(tmp)
            write_documents(ix, documents, (lambda done: progress(done, len(documents))) if progress else None)
            ix.close()
            build = uuid.uuid4().hex
            _write_json(tmp / META_FILE, {"revision": latest, "build": build})
            with self._lock:
                self._close_quietly()
                if self.path.exists():
                    self.path.rename(old)
                tmp.rename(self.path)
                self._index, self._build = open_index(self.path, self.memory_budget), build
                self._failed = False
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
        return len(documents)

    def _reopen(self) -> bool:
        """Open the index on disk again (after another process rebuilt it); False if that fails."""
        with self._lock:
            self._close_quietly()
            self._failed = False
            try:
                self._open()
            except IndexUnavailableError:
                self._failed = True
                return False
            return True

    def _remove_leftovers(self) -> None:
        """Folders of rebuilds that died half-way (only called under the exclusive lock, so none is running)."""
        for leftover in self.path.parent.glob(f"{self.path.name}.new*"):
            shutil.rmtree(leftover, ignore_errors=True)
        shutil.rmtree(self.path.with_name(self.path.name + ".old"), ignore_errors=True)

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def _close_quietly(self) -> None:
        """Forget the open index; closing files of a damaged index may fail, which no longer matters."""
        try:
            self._close_searcher()
        except Exception:
            log.debug("closing a damaged searcher failed", exc_info=True)
        self._searcher = None
        if self._index is not None:
            try:
                self._index.close()
            except Exception:
                log.debug("closing a damaged index failed", exc_info=True)
            self._index = None

    def close(self) -> None:
        """Close the index, after a background rebuild (if one runs) has finished."""
        self.wait_for_rebuild(REBUILD_JOIN_SECONDS)
        self.semantic.close()
        with self._lock:
            self._close_quietly()

    def health(self, session: Session) -> dict:
        """For ``/readyz`` and ``/metrics``: whether the index opens, and how many article revisions it has not
        seen yet (a process catches up before it searches; a large number means indexing is stuck)."""
        try:
            with self._lock:
                self._open()
            usable = True
        except IndexUnavailableError:  # the process's warm-up or first search starts the rebuild, not a probe
            usable = False
        behind = session.scalar(select(func.count(ArticleRevision.id)).where(
            ArticleRevision.id > self._seen_revision())) or 0
        return {"open": usable, "behind": behind}

    def _read_meta(self) -> dict:
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def _seen_revision(self) -> int:
        try:
            return int(self._read_meta().get("revision", 0))
        except (TypeError, ValueError):
            return 0

    def _write_seen_revision(self, revision: int) -> None:
        _write_json(self.meta_path, {**self._read_meta(), "revision": revision})

    # --- keeping up to date ------------------------------------------------------------------------------
    def update(self, article_ids: Iterable[int], wait: bool = False, session: Session | None = None) -> bool:
        """(Re)index the given articles: published ones are written, others removed. False if the index was
        busy or being rebuilt (the change is then picked up by the next catch-up, nothing is lost)."""
        ids = sorted(set(article_ids))
        if not ids:
            return True
        session = session or db.session
        try:
            with self._lock, _file_lock(self.lock_path, shared=True, blocking=False) as locked:
                if not locked:
                    log.info("search index being rebuilt; %d article(s) will be indexed by the next catch-up", len(ids))
                    return False
                ix = self._open()
                latest = latest_revision_id(session)
                try:
                    writer = ix.writer(timeout=WRITER_TIMEOUT if wait else 0.05)
                except LockError:
                    log.info("search index busy; %d article(s) will be indexed by the next catch-up", len(ids))
                    return False
                analyzer = get_analyzer()
                articles = {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(ids)))}
                for article_id in ids:
                    article = articles.get(article_id)
                    if article is not None and article.is_published:
                        writer.update_document(**_document_fields(SearchDocument.from_article(article), analyzer))
                    else:
                        writer.delete_by_term("article_id", str(article_id))
                writer.commit()
                self._searcher_checked = 0.0
                if latest > self._seen_revision() and not self._missed_between(ids, session):
                    self._write_seen_revision(latest)
                return True
        except SQLAlchemyError:
            raise
        except Exception as exc:  # the rebuild reads the database after this commit, so it includes the change
            self._fail(exc)
            return False

    def _missed_between(self, ids: list[int], session: Session) -> bool:
        """Whether revisions of articles other than ``ids`` are newer than what the index has seen."""
        others = session.scalar(
            select(func.count(ArticleRevision.id)).where(
                ArticleRevision.id > self._seen_revision(), ArticleRevision.article_id.not_in(ids)
            )
        )
        return bool(others)

    def catch_up(self, force: bool = False) -> None:
        """Index the articles changed since the newest revision this index has seen.

        ``force`` (the CLI, tests) also makes sure there is an index when it returns: it waits for a background
        rebuild and rebuilds at once if the index is unusable. Otherwise a damaged index is handed to the
        background rebuild and the error is raised for the caller (``search``) to fall back.
        """
        now = time.monotonic()
        if not force and now - self._last_catch_up < CATCH_UP_SECONDS:
            return
        self._last_catch_up = now
        if force:
            self.wait_for_rebuild()
            try:
                self._catch_up()
            except SQLAlchemyError:
                raise
            except Exception as exc:
                log.warning("search index at %s unusable (%s: %s): rebuilding", self.path,
                            exc.__class__.__name__, exc)
                self.rebuild()
            self.semantic.sync_now()  # the CLI and tests want the embeddings complete when this returns
            self.semantic.invalidate()
            return
        self._catch_up()

    def _catch_up(self) -> None:
        with self._lock:
            if self._index is not None and self._read_meta().get("build") != self._build:  # rebuilt elsewhere
                self._close_quietly()
            self._open()
        seen = self._seen_revision()
        if latest_revision_id(db.session) <= seen:
            return
        # a small overlap catches transactions that committed out of id order
        changed = db.session.scalars(
            select(ArticleRevision.article_id).where(ArticleRevision.id > max(0, seen - 20)).distinct()
        ).all()
        with self._lock, _file_lock(self.lock_path, shared=True, blocking=False) as locked:
            if not locked:  # a rebuild is under way; it or the next catch-up brings these in
                return
            ix = self._open()
            try:
                writer = ix.writer(timeout=0.05)
            except LockError:
                return
            latest = latest_revision_id(db.session)
            analyzer = get_analyzer()
            for article in db.session.scalars(select(Article).where(Article.id.in_(changed))):
                if article.is_published:
                    writer.update_document(**_document_fields(SearchDocument.from_article(article), analyzer))
                else:
                    writer.delete_by_term("article_id", str(article.id))
            writer.commit()
            self._searcher_checked = 0.0
            self._write_seen_revision(latest)

    # --- searching ---------------------------------------------------------------------------------------
    def _current_searcher(self):
        """The open searcher; whether the index moved on (another process wrote) is looked at, on disk, at most
        every ``CATCH_UP_SECONDS``, and at once after this process wrote."""
        ix = self._open()
        now = time.monotonic()
        if self._searcher is not None and now - self._searcher_checked >= CATCH_UP_SECONDS:
            if not self._searcher.up_to_date():
                # not Searcher.refresh(): it reuses segment readers and so misses deletions in them
                self._close_searcher()
            self._searcher_checked = now
        if self._searcher is None:
            self._searcher = ix.searcher(weighting=BM25F(B=0.75, K1=1.2))
            self._searcher_generation += 1
            self._searcher_checked = now
        return self._searcher

    def synonym_table(self) -> SynonymTable:
        """The built-in and the editors' synonyms. A change saved through this process is used at once (see
        ``synonyms_changed``); one saved through another is read within ``CATCH_UP_SECONDS``."""
        now = time.monotonic()
        if self._synonym_table is not None and now - self._synonyms_checked < CATCH_UP_SECONDS:
            return self._synonym_table
        groups = None
        if self._synonyms_stamp is not None:
            key = self._synonyms_stamp()
        else:
            groups = self._synonyms_loader()
            key = tuple(tuple(g) for g in groups)
        if self._synonym_table is None or key != self._synonyms_key:
            groups = self._synonyms_loader() if groups is None else groups
            self._synonym_table = SynonymTable([*_builtin_synonyms(), *groups], get_analyzer())
            self._synonyms_key = key
        self._synonyms_checked = now
        return self._synonym_table

    def forget_synonyms(self) -> None:
        """Read the editors' synonyms again on the next search."""
        self._synonyms_checked = 0.0

    def _state(self) -> tuple | None:
        """What an answer depends on besides the question: the synonyms, the index as the current searcher sees
        it, and the article vectors, each brought up to date first (at the usual catch-up pace). None while the
        index is unusable (answers from the database are not kept)."""
        if self._failed:
            return None
        try:
            self.synonym_table()
            self.catch_up()
            with self._lock:
                self._current_searcher()
                generation = self._searcher_generation
        except SQLAlchemyError:
            raise
        except Exception:  # the search itself meets the same failure and falls back
            return None
        vectors = None
        if embeddings.model_name() is not None:
            self.semantic.catch_up()
            vectors = self.semantic.state
        return self._synonyms_key, generation, vectors

    def search(
        self,
        text: str,
        limit: int = 10,
        function: str | None = None,
        lang: str | None = None,
        complete_last: bool = False,
        prefer_lang: str | None = None,
    ) -> SearchResult:
        """Published articles matching ``text``, best first: the words (Whoosh) and the meaning (embeddings)
        each rank the articles and the two lists are fused (``fuse``). ``prefer_lang`` ranks the reader's
        language ahead of a translation that scores about the same. Without a model: the words alone.

        Answers are kept in memory per question and filters while the index, synonyms and vectors they came
        from are unchanged: the common questions of a morning are each ranked once per process."""
        key = (text, limit, function, lang, complete_last, prefer_lang)
        state = self._state()
        if state is not None:
            kept = self._results.get(key)
            if kept is not None and kept[0] == state:
                return kept[1]
        result = self._search(text, limit, function, lang, complete_last, prefer_lang)
        # kept under the state read before: had anything changed meanwhile, that state never comes back, so the
        # answer is never served
        if state is not None:
            if len(self._results) >= RESULT_CACHE_SIZE:
                self._results.clear()
            self._results[key] = (state, result)
        return result

    def _search(self, text: str, limit: int, function: str | None, lang: str | None, complete_last: bool,
                prefer_lang: str | None) -> SearchResult:
        if embeddings.model_name() is None or not text.strip():
            return self._lexical(text, limit, function, lang, complete_last, prefer_lang)
        try:  # the question is embedded in another thread while this one runs the words-only search
            vector = self.semantic.start_query(text)
        except Exception:
            log.exception("semantic search failed; answering on words alone")
            return self._lexical(text, limit, function, lang, complete_last, prefer_lang)
        lexical = self._lexical(text, max(limit, FUSION_DEPTH), function, lang, complete_last, prefer_lang)
        try:
            semantic = self.semantic.search(text, FUSION_DEPTH, function, lang, vector)
        except SQLAlchemyError:
            raise
        except Exception:  # the words still answer
            log.exception("semantic search failed; answering on words alone")
            semantic = []
        if not semantic:
            return replace(lexical, hits=lexical.hits[:limit])
        return fuse(lexical, semantic, limit)

    @staticmethod
    def semantic_model() -> str | None:
        """The embedding model in use, None when search works on words alone."""
        return embeddings.model_name()

    def _lexical(self, text: str, limit: int, function: str | None, lang: str | None, complete_last: bool,
                 prefer_lang: str | None) -> SearchResult:
        """The words-only ranking; answered from the database while the index is unusable (see the class
        docstring)."""
        if not self._failed:
            synonyms = self.synonym_table()
            try:
                self.catch_up()
                with self._lock:
                    result = run_query(self._current_searcher(), text, synonyms, limit, function, lang, complete_last,
                                       prefer_lang)
                return in_reader_language(db.session, result, prefer_lang if not lang else None)
            except SQLAlchemyError:
                raise
            except Exception as exc:  # missing, truncated or overwritten files: Whoosh and the OS raise anything
                self._fail(exc)
        else:
            self._start_rebuild()  # in case the last attempt failed
        return in_reader_language(db.session, database_search(db.session, text, limit, function, lang, prefer_lang),
                                  prefer_lang if not lang else None)


def in_reader_language(session: Session, result: SearchResult, prefer_lang: str | None) -> SearchResult:
    """``result`` for a reader of ``prefer_lang``: a hit in another language whose translation into the reader's
    language is published gives way to that translation, at the place and full score the pair earned; hits
    without a translation keep their place, lowered by ``OTHER_LANGUAGE_FACTOR``."""
    if not prefer_lang or not result.hits:
        return result
    ids = [hit.article_id for hit in result.hits]
    info = {row.id: row for row in session.execute(
        select(Article.id, Article.lang, Article.translation_key).where(Article.id.in_(ids)))}
    keys = {row.translation_key for row in info.values() if row.lang != prefer_lang and row.translation_key}
    twins = {row.translation_key: row for row in session.execute(
        select(Article.id, Article.slug, Article.translation_key).where(
            Article.translation_key.in_(keys), Article.lang == prefer_lang, Article.status == "published"))
    } if keys else {}
    best: dict[int, SearchHit] = {}
    for hit in result.hits:
        row = info.get(hit.article_id)
        twin = twins.get(row.translation_key) if row is not None and row.lang != prefer_lang else None
        if twin is not None:
            hit = SearchHit(twin.slug, round(hit.score / OTHER_LANGUAGE_FACTOR, 4), twin.id)
        if hit.article_id not in best or hit.score > best[hit.article_id].score:
            best[hit.article_id] = hit
    hits = sorted(best.values(), key=lambda h: -h.score)
    return SearchResult(hits, result.total - (len(result.hits) - len(hits)), result.corrected_query, result.stems)


def fuse(lexical: SearchResult, semantic: list[tuple[int, str, str, float]], limit: int,
         k: float = RRF_K, semantic_weight: float = SEMANTIC_WEIGHT) -> SearchResult:
    """Reciprocal rank fusion: an article scores ``1 / (k + rank)`` in each list it is in (the semantic list
    times ``semantic_weight``), so agreement of the two lists counts more than either list's top alone.
    When no article has the question's words, semantic hits below ``SEMANTIC_ALONE_MIN_SIMILARITY`` are left
    out, so a question about nothing in the articles still finds nothing."""
    scores: dict[int, float] = {}
    slugs: dict[int, str] = {}
    for rank, hit in enumerate(lexical.hits, 1):
        scores[hit.article_id] = scores.get(hit.article_id, 0.0) + 1 / (k + rank)
        slugs[hit.article_id] = hit.slug
    extra = 0
    floor = 0.0 if lexical.hits else SEMANTIC_ALONE_MIN_SIMILARITY
    for rank, (article_id, slug, _lang, similarity) in enumerate(semantic, 1):
        if similarity < floor:
            break
        if article_id not in slugs:
            extra += 1
        scores[article_id] = scores.get(article_id, 0.0) + semantic_weight / (k + rank)
        slugs[article_id] = slug
    ranked = sorted(scores.items(), key=lambda item: -item[1])[:limit]
    hits = [SearchHit(slugs[article_id], round(score, 6), article_id) for article_id, score in ranked]
    return SearchResult(hits, lexical.total + extra if hits else 0, lexical.corrected_query, lexical.stems)


def run_query(searcher, text: str, synonyms: SynonymTable, limit: int = 10, function: str | None = None,
              lang: str | None = None, complete_last: bool = False, prefer_lang: str | None = None) -> SearchResult:
    """Search an open Whoosh searcher the way Lotsen does (also used by the benchmark)."""
    builder = QueryBuilder(searcher.reader(), get_analyzer(), synonyms)
    query, corrected, stems = builder.build(text, complete_last=complete_last)
    if query is None:
        return SearchResult([], 0)
    filters = [wq.Term("function", function)] if function else []
    if lang:
        filters.append(wq.Term("lang", lang))
    results = searcher.search(query, limit=limit * 2 if prefer_lang else limit,
                              filter=wq.And(filters) if filters else None)
    hits = [SearchHit(hit["slug"], round(hit.score * (OTHER_LANGUAGE_FACTOR if prefer_lang and hit["lang"] !=
                                                      prefer_lang else 1.0), 4), int(hit["article_id"]))
            for hit in results]
    hits = sorted(hits, key=lambda h: -h.score)[:limit]
    total = results.estimated_length() if hits else 0
    suggestion = " ".join(corrected.get(w.text, w.text) for w in words(text)) if corrected else None
    return SearchResult(hits, total, suggestion, stems)


def write_documents(ix, documents: Iterable[SearchDocument], progress: Callable[[int], None] | None = None) -> None:
    """Add documents to a fresh index in one writer and optimise it."""
    analyzer = get_analyzer()
    writer = ix.writer(limitmb=128)
    for done, doc in enumerate(documents, 1):
        writer.add_document(**_document_fields(doc, analyzer))
        if progress:
            progress(done)
    writer.commit(optimize=True)


def create_index(path: Path):
    """A new, empty Whoosh index with Lotsen's schema at ``path`` (files read without mmap, see ``open_index``)."""
    path.mkdir(parents=True, exist_ok=True)
    return FileStorage(str(path), supports_mmap=False).create_index(_schema())


class MemoryReadStorage(FileStorage):
    """Whoosh's file storage, but each index file is read into memory once (while the files held stay within
    ``budget`` bytes) and searched from there: no system call per read of a posting list, and no mmap (see
    ``open_index``). Whoosh never rewrites a segment's files in place (a change writes new files, a merge
    removes old ones), so a file is known by its name, size and modification time; files no longer on disk are
    forgotten, and files beyond the budget are read from disk as before."""

    def __init__(self, path: str, budget: int):
        super().__init__(path, supports_mmap=False)
        self.budget = budget
        self._files: dict[str, tuple[tuple[int, int], bytes]] = {}
        self._guard = threading.Lock()

    def open_file(self, name, **kwargs):
        file = Path(self._fpath(name))
        stat = file.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        with self._guard:
            held = self._files.get(name)
            if held is None or held[0] != key:
                self._files = {n: f for n, f in self._files.items() if n != name and Path(self._fpath(n)).exists()}
                if sum(len(data) for _key, data in self._files.values()) + stat.st_size > self.budget:
                    return super().open_file(name, **kwargs)
                data = file.read_bytes()
                if len(data) != stat.st_size:  # changed while read: read from disk this time
                    return super().open_file(name, **kwargs)
                held = self._files[name] = (key, data)
        return BufferFile(memoryview(held[1]), name=name, **kwargs)


def open_index(path: Path, memory_budget: int = DEFAULT_MEMORY_BUDGET):
    """The Whoosh index at ``path``, its files read into memory (up to ``memory_budget`` bytes) or with ordinary
    reads, never with Whoosh's default mmap.

    A memory-mapped file that is truncated or overwritten under a running process kills it with SIGBUS (every
    gunicorn worker at once); read normally, the damage is an exception the adapter recovers from.
    """
    return MemoryReadStorage(str(path), memory_budget).open_index()


@contextmanager
def _file_lock(path: Path, shared: bool = False, blocking: bool = True) -> Iterator[bool]:
    """An flock on ``path`` (created if needed), held across processes on this host; yields whether it was
    taken (always True when ``blocking``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        try:
            fcntl.flock(fh, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_json(path: Path, data: dict) -> None:
    """Write ``data`` so that a reader sees the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)


def _load_documents(session: Session) -> tuple[int, list[SearchDocument]]:
    """The newest revision id and every published article, read before the index is written."""
    latest = latest_revision_id(session)
    return latest, [SearchDocument.from_article(a) for a in published_articles(session)]


# --- answering from the database while the index is unusable -------------------------------------------------
def _folded(text: str) -> str:
    """``fold(text)``, computed per distinct character (fold maps one character to one), lone-letter prefixes
    joined to their word as the analyzer reads them (``e-post`` -> ``epost``)."""
    text = unicodedata.normalize("NFC", text)
    return join_prefixes(text.translate({ord(c): fold(c) for c in set(text)}))


def database_search(session: Session, text: str, limit: int = 10, function: str | None = None,
                    lang: str | None = None, prefer_lang: str | None = None) -> SearchResult:
    """Published articles whose title, tags, summary or body contain the query's words, straight from the
    database: the stand-in while the index is rebuilt.

    Words are folded and stop words dropped as for the index; a word matches where the text contains it or
    its stem, so case, accents and simple inflections behave. Articles matching more of the words come first,
    then by where they match (title before tags, summary and body, as ``FIELD_WEIGHTS``).
    """
    analyzer = get_analyzer()
    tokens = analyzer.tokens(text)
    if not tokens:
        return SearchResult([], 0)
    forms = [{f for f in (t.word.text, t.sv, t.en) if len(f) >= 3 or f == t.word.text} for t in tokens]
    query = select(Article.id, Article.slug, Article.lang, Article.title, Article.summary, Article.body).where(
        Article.status == "published")
    if function:
        query = query.where(Article.function.has(slug=function))
    if lang:
        query = query.where(Article.lang == lang)
    rows = session.execute(query).all()
    tags: dict[int, list[str]] = {}
    for article_id, name in session.execute(select(ArticleTag.article_id, ArticleTag.name).where(
            ArticleTag.article_id.in_(select(Article.id).where(Article.status == "published")))):
        tags.setdefault(article_id, []).append(name)
    ranked = []
    for row in rows:
        fields = {"title": _folded(row.title), "tags": _folded(" ".join(tags.get(row.id, []))),
                  "summary": _folded(row.summary or ""), "body": _folded(row.body or "")}
        matched, score = 0, 0.0
        for word_forms in forms:
            best = max((FIELD_WEIGHTS[name] for name, value in fields.items()
                        if any(form in value for form in word_forms)), default=0.0)
            if best:
                matched += 1
                score += best
        if matched:
            if prefer_lang and row.lang != prefer_lang:
                score *= OTHER_LANGUAGE_FACTOR
            ranked.append((matched, round(score, 4), row.title, row))
    ranked.sort(key=lambda r: (-r[0], -r[1], r[2]))
    hits = [SearchHit(row.slug, score, row.id) for _, score, _, row in ranked[:limit]]
    stems = {stem for t in tokens for stem in (t.sv, t.en, *t.parts)}
    return SearchResult(hits, len(ranked), None, stems)


@cache
def builtin_synonym_table() -> SynonymTable:
    """The built-in synonyms and glossary alone (routing uses them; search adds the editors' list)."""
    return SynonymTable(_builtin_synonyms(), get_analyzer())


@cache
def _builtin_synonyms() -> list[list[str]]:
    data = Path(__file__).resolve().parent.parent / "core" / "text_data"
    return read_synonym_file(data / "synonyms_sv.txt") + read_synonym_file(data / "glossary_en_sv.txt")


def latest_revision_id(session: Session) -> int:
    return session.scalar(select(func.max(ArticleRevision.id))) or 0


def published_articles(session: Session) -> list[Article]:
    return list(session.scalars(select(Article).where(Article.status == "published").order_by(Article.id)))


def as_question(text: str) -> str:
    """A longer text (a whole case) as one search: its start, whole words, up to ``QUERY_MAX_LENGTH`` characters
    like any question. Every word is one more branch of the query: a 300-word case searched whole took seconds."""
    text = " ".join(text.split())
    return text if len(text) <= QUERY_MAX_LENGTH else text[:QUERY_MAX_LENGTH + 1].rsplit(" ", 1)[0][:QUERY_MAX_LENGTH]


def snippet(text: str, stems: Iterable[str], length: int = 220) -> Markup:
    """The passage of ``text`` that holds most of the query's words, with those words marked."""
    return _snippet(text, frozenset(stems), length)


@lru_cache(maxsize=1024)
def _snippet(text: str, stems: frozenset[str], length: int) -> Markup:
    """``snippet``, remembered: the common questions bring back the same articles again and again."""
    found = [w for w in words(text) if not _word_terms(w.text).isdisjoint(stems)]
    if not text:
        return Markup("")
    if not found:
        cut = text[:length]
        return escape(cut + ("…" if len(text) > length else ""))
    best_start, best_count = found[0].start, 0
    for i, first in enumerate(found):
        count = sum(1 for w in found[i:] if w.end - first.start <= length)
        if count > best_count:
            best_start, best_count = first.start, count
    start = max(0, text.rfind(" ", 0, max(0, best_start - 40)) + 1) if best_start > 40 else 0
    end = min(len(text), start + length)
    if end < len(text):
        end = max(text.rfind(" ", start, end), best_start + 1)
    out = [Markup("…") if start > 0 else Markup("")]
    cursor = start
    for w in found:
        if w.start < start or w.end > end:
            continue
        out.append(escape(text[cursor:w.start]))
        out.append(Markup("<mark>") + escape(text[w.start:w.end]) + Markup("</mark>"))
        cursor = w.end
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append(Markup("…"))
    return Markup("").join(out)


@lru_cache(maxsize=100_000)
def _word_terms(word: str) -> frozenset[str]:
    """The terms a word of an article can match (its stems and compound parts), remembered per word: snippets
    look at every word of every result, and the same words come back on every page."""
    analyzer = get_analyzer()
    if word in analyzer.stopwords:
        return frozenset()
    return frozenset({analyzer.stem_sv(word), analyzer.stem_en(word), *analyzer.compound_parts(word)})


# --- wiring into the app -----------------------------------------------------------------------------------
_indexes: dict[str, SearchIndex] = {}
_indexes_lock = threading.Lock()


def get_index(app: Flask | None = None) -> SearchIndex:
    """The index of the current app's instance (one object per index folder and process)."""
    app = app or current_app
    path = Path(app.config["LOTSEN_SEARCH_INDEX_PATH"])
    with _indexes_lock:
        index = _indexes.get(str(path))
        if index is None:
            from app.selfservice.synonyms import editor_synonym_groups, editor_synonyms_stamp

            index = _indexes[str(path)] = SearchIndex(path, editor_synonym_groups,
                                                      app.config["LOTSEN_SEARCH_MEMORY_MB"] * 2**20,
                                                      editor_synonyms_stamp)
        return index


def warm_up() -> None:
    """Open the current app's index with its vocabulary and synonyms, and load the lexicon and the embedding
    model, by answering one question (``app.warm_up``)."""
    get_index().search("lön semester", limit=1, prefer_lang="sv")


def close_all() -> None:
    """Close every open index (tests and shutdown)."""
    with _indexes_lock:
        for index in _indexes.values():
            index.close()
        _indexes.clear()


def mark_for_reindex(article: Article) -> None:
    """Ask for ``article`` to be (re)indexed once the current transaction commits."""
    db.session.info.setdefault(REINDEX_AFTER_COMMIT, set()).add(article.id)


def synonyms_changed() -> None:
    """Have this process's searches read the editors' synonyms again once the current transaction ends."""
    db.session.info[SYNONYMS_AFTER_COMMIT] = True


def reindex_after_transaction(session: Session, transaction) -> None:
    if transaction.parent is not None:  # a savepoint; wait for the outermost transaction
        return
    if session.info.pop(SYNONYMS_AFTER_COMMIT, False):
        get_index().forget_synonyms()
    ids = session.info.pop(REINDEX_AFTER_COMMIT, None)
    if not ids:
        return
    try:
        # reads what the database now holds (after a rollback: the old state, which is then rewritten
        # unchanged), through a session of its own since this one has just ended
        index = get_index()
        with Session(bind=session.get_bind()) as reader:
            index.update(ids, session=reader)
    except Exception:  # the editor's change is committed; the catch-up will index it
        log.exception("indexing after commit failed; the catch-up will retry")
        return
    # embeddings take seconds: computed in a background thread, never in the request
    index.semantic.invalidate()
    try:
        index.semantic.schedule(current_app._get_current_object())
    except Exception:
        log.exception("scheduling article embeddings failed; the catch-up will retry")


def init_app(app: Flask) -> None:
    """Index changed articles when the transaction that changed them ends."""
    listen_once("after_transaction_end", reindex_after_transaction)

