"""Self-study articles with their revisions, tags, attachments and feedback; topics, synonyms, search log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import SupportFunction, User
from app.core.db import UTCDateTime, db, utcnow
from app.core.i18n import BilingualName
from app.core.uploads import StoredFileColumns

ARTICLE_STATUSES = ("draft", "published", "archived")
ARTICLE_LANGUAGES = ("sv", "en")


class Article(db.Model):
    __tablename__ = "article"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str] = mapped_column(String(5), default="sv")
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"), index=True)
    translation_key: Mapped[str | None] = mapped_column(String(40), index=True)
    video_url: Mapped[str | None] = mapped_column(String(500))
    review_date: Mapped[date | None] = mapped_column(Date)
    view_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    function: Mapped[SupportFunction] = relationship(lazy="joined")
    tag_rows: Mapped[list[ArticleTag]] = relationship(
        back_populates="article", cascade="all, delete-orphan", lazy="selectin", order_by="ArticleTag.id"
    )
    revisions: Mapped[list[ArticleRevision]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleRevision.number.desc()"
    )
    attachments: Mapped[list[ArticleAttachment]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleAttachment.id"
    )
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])

    @property
    def tags(self) -> list[str]:
        return [row.name for row in self.tag_rows]

    @property
    def is_published(self) -> bool:
        return self.status == "published"

    def __repr__(self) -> str:
        return f"<Article {self.slug} {self.status}>"


class ArticleTag(db.Model):
    __tablename__ = "article_tag"
    __table_args__ = (UniqueConstraint("article_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80), index=True)

    article: Mapped[Article] = relationship(back_populates="tag_rows")


ARTICLES_VERSION = "articles"


class ContentVersion(db.Model):
    """A count that every committed change of an article raises by one (``name`` "articles"). What a process
    keeps of the published articles (the start page's lists, related links) is keyed on it. Unlike the newest
    revision id, it changes with every commit, also when two editors' commits land out of revision order."""

    __tablename__ = "content_version"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(default=0)


class ArticleRevision(db.Model):
    """A snapshot of an article after each change. Its id grows with every change anywhere, which is how
    each host's search index finds the changes it has not seen yet."""

    __tablename__ = "article_revision"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(300), default="")
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="revisions")
    editor: Mapped[User | None] = relationship()


class ArticleEmbedding(db.Model):
    """The sentence embeddings of a published article's passages, computed after commit from the article as of
    ``revision_id`` (derived data: ``flask search reindex`` rebuilds it). ``vectors`` holds ``count`` x ``dim``
    little-endian float32 values, passage 0 being title, summary and tags, the others windows of the body."""

    __tablename__ = "article_embedding"

    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), primary_key=True)
    revision_id: Mapped[int] = mapped_column(index=True)
    model: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int]
    count: Mapped[int]
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArticleAttachment(StoredFileColumns, db.Model):
    __tablename__ = "article_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship(back_populates="attachments")


class ArticleFeedback(db.Model):
    """One person's answer to "Hjälpte det här?" for one article (answering again replaces it)."""

    __tablename__ = "article_feedback"
    __table_args__ = (UniqueConstraint("article_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    is_helpful: Mapped[bool]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    article: Mapped[Article] = relationship()


class Topic(BilingualName, db.Model):
    """An entry point on the start page (Lön, Semester och ledighet ...): a support function and tags."""

    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    function_id: Mapped[int] = mapped_column(ForeignKey("support_function.id"))
    tags: Mapped[str] = mapped_column(Text, default="")
    sort_order: Mapped[int] = mapped_column(default=0)

    function: Mapped[SupportFunction] = relationship(lazy="joined")

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split() if t]


class SynonymGroup(db.Model):
    """Phrases that mean the same to search, written by editors: ``lönespec = lönespecifikation``."""

    __tablename__ = "synonym_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    phrases: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def phrase_list(self) -> list[str]:
        return [p.strip() for p in self.phrases.split("=") if p.strip()]


class SearchLog(db.Model):
    """One search as a person typed it, how many results it had and which article (if any) they opened.

    Searches typed into the question form are the question's subject: they may be as confidential as the
    question, so they carry the function the question went to."""

    __tablename__ = "search_log"
    __table_args__ = (Index("ix_search_log_normalized_created", "normalized", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    query: Mapped[str] = mapped_column(String(300))
    normalized: Mapped[str] = mapped_column(String(300))
    result_count: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(10), default="page")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    clicked_article_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"))
    ask_token: Mapped[str | None] = mapped_column(String(64), index=True)  # the question form it came from
    #: the support function the search was made for (a filter, or where the question it became went); text
    #: searched for a confidential function is shown to nobody outside it
    function_id: Mapped[int | None] = mapped_column(ForeignKey("support_function.id", ondelete="SET NULL"))
    asked: Mapped[bool] = mapped_column(default=False)  # the question form was sent after all
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
