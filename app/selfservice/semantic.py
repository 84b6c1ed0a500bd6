"""Semantic retrieval beside the Whoosh index (part of the search adapter; vectors come from
``app.core.embeddings``).

Each published article is cut into passages (title, summary and tags; then the body in windows of
``PASSAGE_WORDS`` words, each led by the title) and their embeddings are stored in ``article_embedding`` with the
revision they were computed from. An article's score for a question is its best passage's cosine similarity.

Like the Whoosh index, the embeddings are derived data kept current after commit: the after-commit listener
and every process's catch-up find published articles whose stored embedding is older than their newest
revision (or missing, or from another model) and compute them in a background thread, through a session of
their own; the CLI and tests compute them at once (``sync``). Never inside a request's transaction. A crash
between commit and computing loses nothing: the next catch-up finds the article stale.

Each process holds the current vectors as one matrix in memory and reloads it when the newest revision or the
stored embeddings change; filters (published, function, language) are read from the articles when it loads.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import Flask, current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import SupportFunction
from app.core import embeddings
from app.core.db import db, utcnow
from app.selfservice.markdown import markdown_to_text
from app.selfservice.models import Article, ArticleEmbedding, ArticleRevision

log = logging.getLogger(__name__)

PASSAGE_WORDS = 100
MAX_PASSAGES = 12  # title passage + up to 11 body windows (1,100 words); the rest of a long body adds little
BATCH_ARTICLES = 8  # articles embedded per database commit
CATCH_UP_SECONDS = 2.0
# Questions are embedded here while the request thread runs the words-only search (see ``SearchIndex.search``).
_embedder_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lotsen-embed-query")


def article_passages(title: str, summary: str, tags: Iterable[str], body_text: str,
                     words_per_passage: int = PASSAGE_WORDS) -> list[str]:
    """The texts embedded for one article: its head (title, summary, tags), then body windows led by the title."""
    tags = [t for t in tags if t]
    head = ". ".join(p.strip().rstrip(".") for p in (title, summary, ", ".join(tags)) if p and p.strip())
    passages = [head or title]
    body = body_text.split()
    for start in range(0, len(body), words_per_passage):
        if len(passages) >= MAX_PASSAGES:
            break
        passages.append(f"{title}. {' '.join(body[start:start + words_per_passage])}")
    return passages


def _passages_of(article: Article) -> list[str]:
    return article_passages(article.title, article.summary or "", article.tags, markdown_to_text(article.body or ""))


def _content_hash(model: str, passages: list[str]) -> str:
    return hashlib.sha256("\x1e".join([model, *passages]).encode("utf-8")).hexdigest()


@dataclass
class _Matrix:
    """The vectors of every published article's passages, in article order, with what the filters need."""

    vectors: np.ndarray  # (passages, dim) float32
    starts: np.ndarray  # index of each article's first passage
    article_ids: np.ndarray
    slugs: list[str]
    langs: np.ndarray
    functions: np.ndarray
    key: tuple

    @classmethod
    def empty(cls, key: tuple = ()) -> _Matrix:
        return cls(np.zeros((0, 1), np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64), [],
                   np.zeros(0, dtype=object), np.zeros(0, dtype=object), key)


def _state_key(session: Session) -> tuple:
    """Changes whenever an article changes (a new revision) or embeddings are written or removed."""
    latest = session.scalar(select(func.max(ArticleRevision.id))) or 0
    count, newest, written = session.execute(select(
        func.count(ArticleEmbedding.article_id), func.max(ArticleEmbedding.revision_id),
        func.max(ArticleEmbedding.created_at))).one()
    return latest, count, newest, str(written)


def rank_articles(matrix: _Matrix, query: np.ndarray, limit: int, function: str | None = None,
                  lang: str | None = None) -> list[tuple[int, str, str, float]]:
    """(article id, slug, lang, similarity) of the best ``limit`` articles by their best passage."""
    if not len(matrix.article_ids):
        return []
    passage_scores = matrix.vectors @ query
    scores = np.maximum.reduceat(passage_scores, matrix.starts)
    mask = np.ones(len(scores), dtype=bool)
    if function:
        mask &= matrix.functions == function
    if lang:
        mask &= matrix.langs == lang
    candidates = np.flatnonzero(mask)
    if not len(candidates):
        return []
    chosen = scores[candidates]
    if len(candidates) > limit:
        top = np.argpartition(-chosen, limit - 1)[:limit]
        candidates, chosen = candidates[top], chosen[top]
    order = np.argsort(-chosen, kind="stable")
    return [(int(matrix.article_ids[i]), matrix.slugs[i], str(matrix.langs[i]), float(chosen[j]))
            for j, i in ((j, candidates[j]) for j in order)]


class SemanticIndex:
    """The embeddings of one database as seen by one process (see the module docstring)."""

    def __init__(self, lock_path: Path):
        self.lock_path = lock_path
        self._matrix: _Matrix | None = None
        self._matrix_lock = threading.Lock()
        self._last_check = 0.0
        self._dirty = True
        self._worker: threading.Thread | None = None
        self._worker_guard = threading.Lock()
        self._again = False
        self._query_cache: dict[tuple[str, str], np.ndarray] = {}

    # --- computing and storing ---------------------------------------------------------------------------
    def stale_article_ids(self, session: Session, model: str, ids: Iterable[int] | None = None) -> list[int]:
        """Published articles (of ``ids``, or all) whose stored embedding is missing, older than their newest
        revision, or from another model."""
        latest = (select(ArticleRevision.article_id, func.max(ArticleRevision.id).label("rev"))
                  .group_by(ArticleRevision.article_id).subquery())
        query = (select(Article.id)
                 .outerjoin(latest, latest.c.article_id == Article.id)
                 .outerjoin(ArticleEmbedding, ArticleEmbedding.article_id == Article.id)
                 .where(Article.status == "published",
                        or_(ArticleEmbedding.article_id.is_(None), ArticleEmbedding.model != model,
                            ArticleEmbedding.revision_id < func.coalesce(latest.c.rev, 0)))
                 .order_by(Article.id))
        if ids is not None:
            query = query.where(Article.id.in_(list(ids)))
        return list(session.scalars(query))

    def sync(self, session: Session, ids: Iterable[int] | None = None, everything: bool = False,
             progress: Callable[[int, int], None] | None = None) -> int:
        """Bring the stored embeddings in step with the database now (``everything``: recompute all); removes
        those of articles no longer published. Commits ``session`` in small batches; returns the articles
        embedded. Nothing to do without a model."""
        model = embeddings.model_name()
        if model is None:
            return 0
        session.execute(delete(ArticleEmbedding).where(ArticleEmbedding.article_id.not_in(
            select(Article.id).where(Article.status == "published"))))
        session.commit()
        if everything:
            todo = list(session.scalars(select(Article.id).where(Article.status == "published").order_by(Article.id)))
        else:
            todo = self.stale_article_ids(session, model, ids)
        done = 0
        if progress:
            progress(0, len(todo))
        for start in range(0, len(todo), BATCH_ARTICLES):
            done += self._embed_batch(session, model, todo[start:start + BATCH_ARTICLES], everything)
            if progress:
                progress(min(start + BATCH_ARTICLES, len(todo)), len(todo))
        self._dirty = True
        return done

    def _embed_batch(self, session: Session, model: str, ids: list[int], force: bool) -> int:
        latest = dict(session.execute(select(ArticleRevision.article_id, func.max(ArticleRevision.id))
                                      .where(ArticleRevision.article_id.in_(ids))
                                      .group_by(ArticleRevision.article_id)).all())
        stored = {row.article_id: row for row in session.scalars(
            select(ArticleEmbedding).where(ArticleEmbedding.article_id.in_(ids)))}
        jobs = []
        for article in session.scalars(select(Article).where(Article.id.in_(ids), Article.status == "published")):
            passages = _passages_of(article)
            digest = _content_hash(model, passages)
            row = stored.get(article.id)
            revision = latest.get(article.id, 0)
            if row is not None and row.content_hash == digest and not force:
                row.revision_id = revision  # same text (a move, a republish): nothing to compute
                continue
            jobs.append((article.id, revision, digest, passages))
        texts = [p for *_, passages in jobs for p in passages]
        vectors = embeddings.embed_passages(texts) if texts else None
        offset = 0
        for article_id, revision, digest, passages in jobs:
            block = vectors[offset:offset + len(passages)]
            offset += len(passages)
            row = stored.get(article_id) or ArticleEmbedding(article_id=article_id)
            row.revision_id, row.model, row.content_hash = revision, model, digest
            row.dim, row.count = int(block.shape[1]), len(passages)
            row.vectors = block.astype("<f4").tobytes()
            row.created_at = utcnow()
            session.add(row)
        try:
            session.commit()
        except IntegrityError:  # another host wrote the same article first; its vectors are as good
            session.rollback()
        return len(jobs)

    # --- in the background, after commit -----------------------------------------------------------------
    def schedule(self, app: Flask) -> None:
        """Compute what is stale in a background thread (one per process; a running one goes round again)."""
        if embeddings.model_name() is None:
            return
        with self._worker_guard:
            self._dirty = True
            if self._worker is not None and self._worker.is_alive():
                self._again = True
                return
            self._again = False
            self._worker = threading.Thread(target=self._work, args=(app,), daemon=True,
                                            name="lotsen-embeddings")
            self._worker.start()

    def _work(self, app: Flask) -> None:
        from app.selfservice.search import _file_lock

        while True:
            try:
                with app.app_context(), _file_lock(self.lock_path, blocking=False) as locked:
                    if locked:  # else another process on this host is at it
                        with Session(bind=db.engine) as session:
                            self.sync(session)
            except Exception:
                log.exception("computing article embeddings failed; the next catch-up retries")
            with self._worker_guard:
                if not self._again:
                    self._worker = None
                    return
                self._again = False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the background computation, if one runs."""
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout)
            return not worker.is_alive()
        return True

    def sync_now(self) -> int:
        """Compute what is stale at once, in this thread (CLI, tests), after any background run."""
        from app.selfservice.search import _file_lock

        self.wait()
        if embeddings.model_name() is None:
            return 0
        with _file_lock(self.lock_path), Session(bind=db.engine) as session:
            return self.sync(session)

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Recompute every published article's embeddings (``flask search reindex``)."""
        from app.selfservice.search import _file_lock

        self.wait()
        with _file_lock(self.lock_path), Session(bind=db.engine) as session:
            return self.sync(session, everything=True, progress=progress)

    def catch_up(self) -> None:
        """At most every ``CATCH_UP_SECONDS``: reload the matrix if the database moved on, and hand stale
        articles to the background thread."""
        now = time.monotonic()
        if not self._dirty and now - self._last_check < CATCH_UP_SECONDS:
            return
        self._last_check = now
        key = _state_key(db.session)
        if self._matrix is None or self._matrix.key != key or self._dirty:
            self._dirty = False
            model = embeddings.model_name()
            if model and self.stale_article_ids(db.session, model):
                self.schedule(current_app._get_current_object())
            self._load(key, model)

    def invalidate(self) -> None:
        self._dirty = True

    @property
    def state(self) -> tuple | None:
        """Identifies the vectors searched now (changes whenever they are reloaded)."""
        matrix = self._matrix
        return None if matrix is None else matrix.key

    def _load(self, key: tuple, model: str | None) -> None:
        rows = db.session.execute(
            select(Article.id, Article.slug, Article.lang, Article.function_id, ArticleEmbedding.dim,
                   ArticleEmbedding.count, ArticleEmbedding.vectors)
            .join(ArticleEmbedding, ArticleEmbedding.article_id == Article.id)
            .where(Article.status == "published", ArticleEmbedding.model == (model or ""))
            .order_by(Article.id)).all()
        function_slugs = dict(db.session.execute(select(SupportFunction.id, SupportFunction.slug)).all())
        if not rows:
            matrix = _Matrix.empty(key)
        else:
            blocks = [np.frombuffer(r.vectors, dtype="<f4").reshape(r.count, r.dim) for r in rows]
            counts = np.array([r.count for r in rows])
            matrix = _Matrix(
                vectors=np.ascontiguousarray(np.vstack(blocks), dtype=np.float32),
                starts=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
                article_ids=np.array([r.id for r in rows], dtype=np.int64),
                slugs=[r.slug for r in rows],
                langs=np.array([r.lang for r in rows], dtype=object),
                functions=np.array([function_slugs.get(r.function_id, "") for r in rows], dtype=object),
                key=key,
            )
        with self._matrix_lock:
            self._matrix = matrix

    # --- searching ---------------------------------------------------------------------------------------
    def _cache_key(self, model: str, text: str) -> tuple[str, str]:
        return model, " ".join(text.lower().split())

    def start_query(self, text: str) -> Future:
        """The question's vector, being computed in a background thread (or at once, when cached); the caller
        can do other work meanwhile and read ``.result()``. The model must be on."""
        model = embeddings.model_name() or ""
        key = self._cache_key(model, text)
        future: Future = Future()
        vector = self._query_cache.get(key)
        if vector is not None:
            future.set_result(vector)
            return future
        embed = embeddings.query_embedder()
        if embed is None:
            raise RuntimeError("no embedding model")

        def compute() -> np.ndarray:
            computed = embed(text)
            if len(self._query_cache) > 512:
                self._query_cache.clear()
            self._query_cache[key] = computed
            return computed

        return _embedder_pool.submit(compute)

    def search(self, text: str, limit: int, function: str | None = None, lang: str | None = None,
               vector: Future | None = None) -> list[tuple[int, str, str, float]]:
        """The ``limit`` published articles closest in meaning to ``text`` (empty without a model). ``vector``:
        the question's vector from ``start_query``, when the caller started it earlier."""
        if embeddings.model_name() is None or not text.strip():
            return []
        self.catch_up()
        matrix = self._matrix
        if matrix is None or not len(matrix.article_ids):
            return []
        return rank_articles(matrix, (vector or self.start_query(text)).result(), limit, function, lang)

    def close(self) -> None:
        self.wait(60)
