"""Articles: writing, publishing, revisions, attachments, feedback, import/export and the search log.

Services flush, the caller commits. Every change to an article writes a revision and asks the search index
to pick the article up after the commit.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import yaml
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session, lazyload

from app.auth.models import User
from app.auth.services import get_function, list_functions
from app.core import counters
from app.core.db import commit_without_waiting, db, listen_once, read_plain, utcnow
from app.core.permissions import Role
from app.core.text import fold
from app.core.transactions import DomainError, remove_file_after_commit
from app.core.uploads import store_upload
from app.selfservice.models import (
    ARTICLE_LANGUAGES,
    ARTICLE_STATUSES,
    ARTICLES_VERSION,
    Article,
    ArticleAttachment,
    ArticleFeedback,
    ArticleRevision,
    ArticleTag,
    ContentVersion,
    SearchLog,
)
from app.selfservice.search import mark_for_reindex

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

class ArticleError(DomainError):
    """An article change that cannot be made; ``field`` names the form field at fault when there is one."""


@dataclass
class ArticleData:
    title: str
    slug: str
    summary: str
    body: str
    lang: str
    function: str
    tags: list[str]
    status: str = "draft"
    review_date: date | None = None
    video_url: str | None = None
    translation_of: str | None = None


def slugify(text: str) -> str:
    """``Glömt lösenord?`` -> ``glomt-losenord`` (URL-safe, ASCII)."""
    ascii_text = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:100] or "artikel"


def normalize_tags(tags: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for tag in tags:
        cleaned = " ".join(str(tag).split()).lower()[:80]
        if cleaned:
            seen.setdefault(cleaned, None)
    return list(seen)


def get_article(slug: str, *, with_tags: bool = True) -> Article | None:
    """The article at ``slug``; ``with_tags=False`` for a reader's page, which shows none (they load if asked)."""
    return db.session.scalar(ARTICLE_BY_SLUG if with_tags else ARTICLE_BY_SLUG_UNTAGGED, {"slug": slug})


# Statements of every article page, built once (building one cost more than running it).
ARTICLE_BY_SLUG = select(Article).where(Article.slug == bindparam("slug"))
ARTICLE_BY_SLUG_UNTAGGED = ARTICLE_BY_SLUG.options(lazyload(Article.tag_rows))
TRANSLATIONS = select(Article).where(Article.translation_key == bindparam("key"), Article.id != bindparam("id"))
FEEDBACK = select(ArticleFeedback).where(ArticleFeedback.article_id == bindparam("article_id"),
                                         ArticleFeedback.user_id == bindparam("user_id"))


def can_edit(user: User, function_slug: str) -> bool:
    return user.has_role(Role.ADMIN) or user.has_role(Role.EDITOR, function_slug)


def can_view(user: User, article: Article) -> bool:
    return article.is_published or can_edit(user, article.function.slug)


def editable_function_slugs(user: User) -> list[str] | None:
    """The functions whose articles the user may edit; None means all (administrators)."""
    if user.has_role(Role.ADMIN):
        return None
    return [f.slug for f in user.functions_for(Role.EDITOR)]


def _validate(data: ArticleData, article: Article | None, video_hosts: Iterable[str]) -> None:
    if not data.title.strip():
        raise ArticleError(_l("A title is required."), "title")
    if not SLUG_RE.match(data.slug):
        raise ArticleError(_l("Use lower-case letters a-z, digits and hyphens in the address."), "slug")
    other = get_article(data.slug)
    if other is not None and other is not article:
        raise ArticleError(_l("Another article already uses that address."), "slug")
    if data.lang not in ARTICLE_LANGUAGES:
        raise ArticleError(_l("Unknown language."), "lang")
    if data.status not in ARTICLE_STATUSES:
        raise ArticleError(_l("Unknown status."), "status")
    if data.video_url:
        parts = urlsplit(data.video_url)
        if parts.scheme != "https" or parts.hostname not in set(video_hosts):
            raise ArticleError(_l("Videos can only be embedded from the allowed video services."), "video_url")


def _apply(article: Article, data: ArticleData) -> None:
    article.title = data.title.strip()
    article.slug = data.slug
    article.summary = data.summary.strip()
    article.body = data.body
    article.lang = data.lang
    article.function = get_function(data.function)
    article.review_date = data.review_date
    article.video_url = data.video_url or None
    wanted = normalize_tags(data.tags)
    for row in list(article.tag_rows):
        if row.name not in wanted:
            article.tag_rows.remove(row)
    have = {row.name for row in article.tag_rows}
    for name in wanted:
        if name not in have:
            article.tag_rows.append(ArticleTag(name=name))
    if data.status != article.status:
        article.status = data.status
        if data.status == "published":
            article.published_at = utcnow()


def _link_translation(article: Article, slug: str | None, editor: User | None = None) -> None:
    """Pair ``article`` with its translation: an article of the same support function in the other language
    that the editor may edit. Whatever the reason a slug does not qualify, the answer is the same, so an
    editor cannot learn another function's drafts by trying addresses."""
    if not slug:
        return
    other = get_article(slug)
    if (other is None or other is article or other.function_id != article.function_id
            or (editor is not None and not can_edit(editor, other.function.slug))):
        raise ArticleError(_l("There is no other article of the same support function with that address that "
                              "you can edit."), "translation_of")
    if other.lang == article.lang:
        raise ArticleError(_l("A translation must be in the other language."), "translation_of")
    key = other.translation_key or article.translation_key or uuid.uuid4().hex
    other.translation_key = key
    article.translation_key = key


def _record_revision(article: Article, editor: User | None, note: str) -> ArticleRevision:
    number = (db.session.scalar(
        select(func.max(ArticleRevision.number)).where(ArticleRevision.article_id == article.id)) or 0) + 1
    revision = ArticleRevision(
        article_id=article.id, number=number, title=article.title, summary=article.summary, body=article.body,
        tags=", ".join(article.tags), status=article.status, note=note[:300],
        editor_id=editor.id if editor else None,
    )
    db.session.add(revision)
    db.session.flush()
    mark_for_reindex(article)
    _count_article_change()
    return revision


ARTICLES_CHANGED = "lotsen_articles_changed"


def _count_article_change() -> None:
    """Have the articles' version (``ContentVersion``) raised as this transaction commits. Raised then, not here:
    its row is the one every article change locks, so it must be the last lock a transaction takes and held
    only until its commit. Raised here, an import (or any change of several articles in one transaction) held it
    while it went on to lock the next article, which an editor's save holds while waiting for the version: a
    deadlock on PostgreSQL, and every editor's save waiting for the whole import."""
    db.session.info[ARTICLES_CHANGED] = True


RAISE_ARTICLES_VERSION = (update(ContentVersion).where(ContentVersion.name == ARTICLES_VERSION)
                          .values(version=ContentVersion.version + 1).execution_options(synchronize_session=False))

def raise_articles_version(session: Session) -> None:
    """Raise the articles' version in the commit of a transaction that changed an article. Also called as a
    savepoint is released (``begin_nested``, as the import does): it waits for the outermost commit."""
    if session.in_nested_transaction() or not session.info.pop(ARTICLES_CHANGED, False):
        return
    if session.execute(RAISE_ARTICLES_VERSION).rowcount == 0:  # a database made without the migration's row
        session.add(ContentVersion(name=ARTICLES_VERSION, version=1))
        session.flush()


def forget_articles_change(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(ARTICLES_CHANGED, None)


def init_app() -> None:
    """Raise the articles' version in the commit of every transaction that changed an article."""
    listen_once("before_commit", raise_articles_version)
    listen_once("after_soft_rollback", forget_articles_change)


def create_article(data: ArticleData, author: User | None, video_hosts: Iterable[str] = ()) -> Article:
    """A new article (a draft unless ``data.status`` says otherwise)."""
    _validate(data, None, video_hosts)
    article = Article(status="draft", created_by_id=author.id if author else None,
                      updated_by_id=author.id if author else None)
    _apply(article, data)
    db.session.add(article)
    db.session.flush()
    _link_translation(article, data.translation_of, author)
    _record_revision(article, author, "created")
    return article


def update_article(article: Article, data: ArticleData, editor: User | None, note: str = "",
                   video_hosts: Iterable[str] = ()) -> Article:
    """Save a change; a revision records who changed what."""
    _validate(data, article, video_hosts)
    _apply(article, data)
    _link_translation(article, data.translation_of, editor)
    article.updated_at = utcnow()
    article.updated_by_id = editor.id if editor else None
    db.session.flush()
    _record_revision(article, editor, note or "edited")
    return article


def set_article_status(article: Article, status: str, editor: User) -> Article:
    if status not in ARTICLE_STATUSES:
        raise ArticleError(_l("Unknown status."), "status")
    if status != article.status:
        article.status = status
        if status == "published":
            article.published_at = utcnow()
        article.updated_at = utcnow()
        article.updated_by_id = editor.id
        db.session.flush()
        _record_revision(article, editor, status)
    return article


def translations_of(article: Article) -> list[Article]:
    if not article.translation_key:
        return []
    return list(db.session.scalars(TRANSLATIONS, {"key": article.translation_key, "id": article.id}))


# --- attachments -------------------------------------------------------------------------------------------
def add_attachment(article: Article, filename: str, stream: IO[bytes], uploader: User, upload_root: Path,
                   max_bytes: int) -> ArticleAttachment:
    """Store an uploaded file under ``upload_root`` with a random name after checking type and size."""
    stored = store_upload(filename, stream, upload_root / "articles", max_bytes)
    attachment = ArticleAttachment(article_id=article.id, original_name=stored.original_name,
                                   stored_name=stored.stored_name, content_type=stored.content_type,
                                   size=stored.size, uploaded_by_id=uploader.id)
    db.session.add(attachment)
    article.updated_at = utcnow()  # the article changed (and readers' pages, which keep its attachments, see it)
    db.session.flush()
    _count_article_change()  # "Recently updated" orders by updated_at
    return attachment


def attachment_path(attachment: ArticleAttachment, upload_root: Path) -> Path:
    return upload_root / "articles" / attachment.stored_name


def delete_attachment(attachment: ArticleAttachment, upload_root: Path) -> None:
    attachment.article.updated_at = utcnow()
    db.session.delete(attachment)
    db.session.flush()
    _count_article_change()
    remove_file_after_commit(attachment_path(attachment, upload_root))


# --- readers' side -----------------------------------------------------------------------------------------
def record_feedback(article: Article, user: User, is_helpful: bool, comment: str = "") -> ArticleFeedback:
    """Answer "Did this help?"; a second answer from the same person replaces the first."""
    feedback = db.session.scalar(select(ArticleFeedback).where(
        ArticleFeedback.article_id == article.id, ArticleFeedback.user_id == user.id))
    if feedback is None:
        feedback = ArticleFeedback(article_id=article.id, user_id=user.id, is_helpful=is_helpful)
        db.session.add(feedback)
    feedback.is_helpful = is_helpful
    feedback.comment = comment.strip()[:2000]
    feedback.created_at = utcnow()
    db.session.flush()
    return feedback


def feedback_of(article: Article, user: User) -> ArticleFeedback | None:
    return db.session.scalar(FEEDBACK, {"article_id": article.id, "user_id": user.id})


def _add_views(session: Session, counts: dict[int, int]) -> None:
    commit_without_waiting(session)
    for article_id, views in counts.items():
        session.execute(update(Article).where(Article.id == article_id).values(view_count=Article.view_count + views))


article_views = counters.register("article_views", _add_views)


def record_view(article: Article, user: User | None, search_log_id: int | None = None) -> None:
    """Count a reading (in a batch, see ``app.core.counters``), and remember which search (if any) led to it."""
    article_views.add(article.id)
    if search_log_id and user is not None:
        db.session.execute(update(SearchLog).where(
            SearchLog.id == search_log_id, SearchLog.user_id == user.id).values(clicked_article_id=article.id))


def normalize_query(text: str) -> str:
    return " ".join(fold(text).split())[:300]


def log_search(query: str, result_count: int, user: User | None, source: str = "page",
               ask_token: str | None = None, function_slug: str | None = None) -> int | None:
    """Remember a search for the editors' statistics; returns the id of its row (the results link it, so that
    the article opened is counted), None for an empty search.

    As-you-type searches arrive a keystroke at a time: a search that extends (or trims) the same person's
    previous one within a minute updates that row instead of adding a new one. Written as plain statements,
    not through the ORM's unit of work: this is every search's one write, and flushing an object cost more
    than the rest of the log.
    """
    normalized = normalize_query(query)
    if not normalized:
        return None
    commit_without_waiting(db.session)  # a search page's transaction holds only this log
    function_id = _function_id(function_slug)
    now = utcnow()
    values = {"query": query.strip()[:300], "normalized": normalized, "result_count": result_count,
              "source": source, "created_at": now}
    if user is not None:
        previous = read_plain(LAST_SEARCH, {"user_id": user.id, "since": now - timedelta(minutes=1)}).first()
        if previous is not None and (normalized.startswith(previous.normalized)
                                     or previous.normalized.startswith(normalized)):
            db.session.connection().execute(EXTEND_SEARCH, {
                **values, "row_id": previous.id, "ask_token": ask_token or previous.ask_token,
                "function_id": function_id or previous.function_id})
            return previous.id
    written = db.session.connection().execute(ADD_SEARCH, {
        **values, "user_id": user.id if user else None, "ask_token": ask_token, "function_id": function_id})
    return written.inserted_primary_key[0]


LAST_SEARCH = (select(SearchLog.id, SearchLog.normalized, SearchLog.ask_token, SearchLog.function_id)
               .where(SearchLog.user_id == bindparam("user_id"),
                      SearchLog.created_at >= bindparam("since", type_=SearchLog.created_at.type))
               .order_by(SearchLog.id.desc()).limit(1))
# built once (the columns come from the parameters): a statement made per search is keyed anew for the cache
ADD_SEARCH = insert(SearchLog)
EXTEND_SEARCH = update(SearchLog).where(SearchLog.id == bindparam("row_id"))


def _function_id(slug: str | None) -> int | None:
    if not slug:
        return None
    try:
        return get_function(slug).id
    except ValueError:
        return None


def link_searches_to_question(ask_token: str, user: User, function_id: int) -> None:
    """The question form ``ask_token`` was sent and went to ``function_id``: its searches (the question's
    subject as it was typed) now belong to that function, and count as not deflected."""
    db.session.execute(update(SearchLog).where(SearchLog.ask_token == ask_token, SearchLog.user_id == user.id)
                       .values(function_id=function_id, asked=True))


def readable_function_ids(user: User) -> set[int]:
    """The functions whose searches and feedback ``user`` may read in the statistics: every function that is
    not confidential, and the confidential ones the user works, writes or leads in (administrators included)."""
    return {f.id for f in list_functions() if not f.is_confidential or user.has_role(Role.SPECIALIST, f.slug)
            or user.has_role(Role.EDITOR, f.slug) or user.has_role(Role.LEAD, f.slug)}


# --- import and export -------------------------------------------------------------------------------------
def parse_article_file(text: str, default_slug: str) -> ArticleData:
    """Markdown with YAML front matter (title, slug, lang, function, tags, summary; optional status,
    review_date, translation_of)."""
    if not text.startswith("---"):
        raise ArticleError("missing YAML front matter")
    try:
        _, front, body = text.split("---", 2)
        meta: dict[str, Any] = yaml.safe_load(front) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise ArticleError(f"unreadable front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping")
    for key in ("title", "function"):
        if not meta.get(key):
            raise ArticleError(f"front matter lacks {key!r}")
    tags = meta.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    review = meta.get("review_date")
    return ArticleData(
        title=str(meta["title"]), slug=str(meta.get("slug") or default_slug), summary=str(meta.get("summary") or ""),
        body=body.lstrip("\n"), lang=str(meta.get("lang") or "sv"), function=str(meta["function"]),
        tags=[str(t) for t in tags], status=str(meta.get("status") or "published"),
        review_date=review if isinstance(review, date) else None,
        translation_of=str(meta["translation_of"]) if meta.get("translation_of") else None,
    )


def import_articles(folder: Path, editor: User | None = None) -> tuple[int, int, list[str]]:
    """Upsert every ``*.md`` in ``folder`` by slug; returns (created, updated, problems)."""
    created = updated = 0
    problems: list[str] = []
    pending_translations: list[tuple[Article, str]] = []
    for path in sorted(folder.glob("*.md")):
        try:
            data = parse_article_file(path.read_text(encoding="utf-8"), path.stem)
            translation, data.translation_of = data.translation_of, None
            with db.session.begin_nested():
                article = get_article(data.slug)
                if article is None:
                    article = create_article(data, editor)
                    created += 1
                elif _differs(article, data):
                    update_article(article, data, editor, note="imported")
                    updated += 1
            if translation:
                pending_translations.append((article, translation))
        except (ArticleError, ValueError, OSError) as exc:
            problems.append(f"{path.name}: {exc}")
    for article, slug in pending_translations:
        try:
            with db.session.begin_nested():
                _link_translation(article, slug)
                _count_article_change()  # a twin stands in for an untranslated article on the start page
        except ArticleError as exc:
            problems.append(f"{article.slug}: {exc}")
    return created, updated, problems


def _differs(article: Article, data: ArticleData) -> bool:
    return (article.title, article.summary, article.body, article.lang, article.function.slug, article.status,
            article.tags) != (data.title.strip(), data.summary.strip(), data.body, data.lang, data.function,
                              data.status, normalize_tags(data.tags))


def export_articles(folder: Path) -> int:
    """Write every article as ``<slug>.md`` with YAML front matter; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for article in db.session.scalars(select(Article).order_by(Article.slug)):
        meta: dict[str, Any] = {
            "title": article.title, "slug": article.slug, "lang": article.lang, "function": article.function.slug,
            "tags": article.tags, "summary": article.summary, "status": article.status,
        }
        if article.review_date:
            meta["review_date"] = article.review_date
        others = translations_of(article)
        if others:
            meta["translation_of"] = others[0].slug
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
        (folder / f"{article.slug}.md").write_text(f"---\n{front}---\n\n{article.body.strip()}\n", encoding="utf-8")
        count += 1
    return count
