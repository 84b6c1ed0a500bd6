"""Read-side helpers for the portal and the editors' pages."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, bindparam, case, exists, func, or_, select
from sqlalchemy.orm import aliased, lazyload

from app.auth.models import SupportFunction
from app.core.db import db, read_plain, utcnow
from app.core.i18n import localized
from app.selfservice.markdown import markdown_to_text
from app.selfservice.models import (
    ARTICLES_VERSION,
    Article,
    ArticleFeedback,
    ArticleRevision,
    ArticleTag,
    ContentVersion,
    SearchLog,
    Topic,
)


def _published() -> Select:
    return select(Article).where(Article.status == "published")


def _untranslated(lang: str):
    """Articles with no published translation into ``lang``."""
    twin = aliased(Article)
    return ~exists().where(twin.translation_key == Article.translation_key, twin.id != Article.id,
                           twin.lang == lang, twin.status == "published")


def _in_reader_language(query: Select, limit: int, prefer_lang: str) -> list[Article]:
    """The first ``limit`` rows of ``query`` in the reader's language, then, if there are fewer, those in another
    language that have no published translation into the reader's language (a twin never stands in for an
    article the reader can read in their own language)."""
    own = list(db.session.scalars(query.where(Article.lang == prefer_lang).limit(limit)))
    if len(own) < limit:
        own += db.session.scalars(query.where(Article.lang != prefer_lang, _untranslated(prefer_lang))
                                  .limit(limit - len(own)))
    return own


def popular_articles(limit: int = 6, lang: str | None = None, prefer_lang: str | None = None) -> list[Article]:
    """Most read first; ``lang`` keeps one language, ``prefer_lang`` ranks the reader's language first."""
    query = _published().order_by(Article.view_count.desc(), Article.title)
    if lang:
        query = query.where(Article.lang == lang)
    elif prefer_lang:
        return _in_reader_language(query, limit, prefer_lang)
    return list(db.session.scalars(query.limit(limit)))


def recent_articles(limit: int = 6, lang: str | None = None, prefer_lang: str | None = None) -> list[Article]:
    """Newest first; ``lang`` and ``prefer_lang`` as for ``popular_articles``."""
    query = _published().order_by(Article.updated_at.desc(), Article.id.desc())
    if lang:
        query = query.where(Article.lang == lang)
    elif prefer_lang:
        return _in_reader_language(query, limit, prefer_lang)
    return list(db.session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class ArticleLink:
    """What a list on the start page shows of an article: enough to link to it, no database object."""

    slug: str
    title: str
    updated_at: datetime


LIST_SECONDS = 30.0  # how long a process shows the same popular and recent lists while no article changes
_front_page: dict[tuple, tuple[float, tuple[list[ArticleLink], list[ArticleLink]]]] = {}
_related: dict[tuple, list[ArticleLink]] = {}


def _published_version() -> int:
    """Changes with every committed change of an article (added, changed, published or withdrawn; its tags,
    language or function too): the articles' ``ContentVersion``, one lookup by key."""
    return read_plain(ARTICLES_VERSION_QUERY, {}).scalar() or 0


ARTICLES_VERSION_QUERY = select(ContentVersion.version).where(ContentVersion.name == ARTICLES_VERSION)


def related_links(article: Article, limit: int = 5) -> list[ArticleLink]:
    """``related_articles`` as links, kept per process until a published article changes: readers of one
    article all get the same list, and finding it (tags shared, grouped and ordered) costs more than the rest of
    the page's queries together in a knowledge base of 1,000 articles."""
    key = (str(db.engine.url), article.id, limit, _published_version())
    found = _related.get(key)
    if found is None:
        found = [ArticleLink(a.slug, a.title, a.updated_at) for a in related_articles(article, limit)]
        if len(_related) > 4096:
            _related.clear()
        _related[key] = found
    return found


def front_page_articles(limit: int, prefer_lang: str) -> tuple[list[ArticleLink], list[ArticleLink]]:
    """The start page's popular and recent articles. Every visitor asks for the same two lists, so a process
    keeps them for ``LIST_SECONDS``, and at once drops them when a published article is added, changed or
    withdrawn (``_published_version``); the popular order may lag the view counts by that long."""
    key = (str(db.engine.url), prefer_lang, limit, _published_version())
    now = time.monotonic()
    found = _front_page.get(key)
    if found is not None and now - found[0] < LIST_SECONDS:
        return found[1]
    lists = tuple([ArticleLink(a.slug, a.title, a.updated_at) for a in articles]
                  for articles in (popular_articles(limit, prefer_lang=prefer_lang),
                                   recent_articles(limit, prefer_lang=prefer_lang)))
    if len(_front_page) > 64:
        _front_page.clear()
    _front_page[key] = (now, lists)
    return lists


@dataclass(frozen=True)
class LinkableArticle:
    """An article a reply can link: no database object, no body."""

    slug: str
    title: str
    function_id: int | None


_linkable: dict[tuple, tuple[float, tuple, list[LinkableArticle]]] = {}


def linkable_articles(limit: int = 500) -> tuple[tuple, list[LinkableArticle]]:
    """The ``limit`` most read published articles, for the specialist's "link an article" list, and a key that
    changes whenever the list may have. Kept per process like ``front_page_articles`` (every case page shows the
    same list; loading 500 whole articles made the page ten times slower with 1,000 articles)."""
    base = (str(db.engine.url), limit, _published_version())
    now = time.monotonic()
    found = _linkable.get(base)
    if found is None or now - found[0] >= LIST_SECONDS:
        rows = [LinkableArticle(*row) for row in db.session.execute(
            select(Article.slug, Article.title, Article.function_id).where(Article.status == "published")
            .order_by(Article.view_count.desc(), Article.title).limit(limit))]
        same = found is not None and found[2] == rows  # read again, unchanged: its renderings still hold
        found = (now, found[1] if same else (*base, now), rows)
        if len(_linkable) > 16:
            _linkable.clear()
        _linkable[base] = found
    return found[1], found[2]


@dataclass(frozen=True)
class TopicLink:
    """A start-page topic as its tile shows it (also the base of ``FunctionChoice``: a slug and a name)."""

    slug: str
    name_sv: str
    name_en: str

    @property
    def name(self) -> str:
        return localized(self.name_sv, self.name_en)


@dataclass(frozen=True)
class FunctionChoice(TopicLink):
    """A support function as a search filter offers it."""

    is_first_line: bool


REFERENCE_SECONDS = 30.0  # topics and support functions change with a release or an administrator's edit
_reference: dict[tuple[str, str], tuple[float, list]] = {}


def _kept(kind: str, load) -> list:
    """``load()``'s list, kept per process and database for ``REFERENCE_SECONDS``."""
    key = (str(db.engine.url), kind)
    now = time.monotonic()
    found = _reference.get(key)
    if found is None or now - found[0] >= REFERENCE_SECONDS:
        found = _reference[key] = (now, load())
    return found[1]


@dataclass(frozen=True)
class ResultCard:
    """What a list of search results shows of a published article, no database object: its link, language,
    support function, summary and the plain text of its body (for the snippet)."""

    id: int
    slug: str
    title: str
    lang: str
    summary: str
    body_text: str
    function: TopicLink


CARDS_KEPT = 2048
_cards: dict[tuple, tuple[float, ResultCard]] = {}


def result_cards(ids: list[int]) -> dict[int, ResultCard]:
    """The published articles among ``ids`` as result cards. Every searcher of a morning is shown the same few
    articles, so a process keeps each card for the article as it was last changed (every edit, publication or
    withdrawal sets ``updated_at``) and at most ``REFERENCE_SECONDS`` (a support function's new name, as the
    search filters show it). Each search reads the hits' status and change time by their keys, so a withdrawn
    article is left out and a changed one shown anew at once, whatever order editors' commits land in; the
    articles it has no card for are read in one query."""
    if not ids:
        return {}
    database, now = str(db.engine.url), time.monotonic()
    found: dict[int, ResultCard] = {}
    missing: dict[int, tuple] = {}
    for row in read_plain(CARD_STATES, {"ids": ids}):
        if row.status != "published":
            continue
        key = (database, row.id, row.updated_at, row.function_id)
        kept = _cards.get(key)
        if kept is None or now - kept[0] >= REFERENCE_SECONDS:
            missing[row.id] = key
        else:
            found[row.id] = kept[1]
    if missing:
        if len(_cards) + len(missing) > CARDS_KEPT:
            _cards.clear()
        for article in articles_by_ids(list(missing)).values():
            if article.is_published:  # not withdrawn since its status was read
                found[article.id] = card = ResultCard(
                    article.id, article.slug, article.title, article.lang, article.summary or "",
                    markdown_to_text(article.body),
                    TopicLink(article.function.slug, article.function.name_sv, article.function.name_en))
                _cards[missing[article.id]] = (now, card)
    return found


CARD_STATES = select(Article.id, Article.status, Article.updated_at, Article.function_id).where(
    Article.id.in_(bindparam("ids", expanding=True)))


def forget_kept_lists() -> None:
    """Drop every list this process keeps (tests, which change topics and functions between cases)."""
    _reference.clear()
    _front_page.clear()
    _related.clear()
    _linkable.clear()
    _cards.clear()


def topic_links() -> list[TopicLink]:
    """The start page's topics (kept for ``REFERENCE_SECONDS``: every visitor asks for the same list)."""
    return _kept("topics", lambda: [TopicLink(t.slug, t.name_sv, t.name_en) for t in list_topics()])


def function_choices() -> list[FunctionChoice]:
    """The support functions a search can be limited to (kept like ``topic_links``)."""
    return _kept("functions", lambda: [
        FunctionChoice(f.slug, f.name_sv, f.name_en, f.is_first_line)
        for f in db.session.scalars(select(SupportFunction).order_by(SupportFunction.sort_order))])


def articles_by_ids(ids: list[int]) -> dict[int, Article]:
    if not ids:
        return {}
    # lists of results show no tags: they are read only if a page asks for them
    return {a.id: a for a in db.session.scalars(ARTICLES_BY_IDS, {"ids": ids})}


ARTICLES_BY_IDS = select(Article).where(Article.id.in_(bindparam("ids", expanding=True))).options(
    lazyload(Article.tag_rows))


def list_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.sort_order, Topic.slug)))


def get_topic(slug: str) -> Topic | None:
    return db.session.scalar(select(Topic).where(Topic.slug == slug))


def function_articles(function_id: int, prefer_lang: str | None = None) -> list[Article]:
    """Published articles of one support function, most read first (the reader's language first, see
    ``popular_articles``)."""
    query = _published().where(Article.function_id == function_id).order_by(Article.view_count.desc(), Article.title)
    if prefer_lang:
        return _in_reader_language(query, 10_000, prefer_lang)
    return list(db.session.scalars(query))


def related_articles(article: Article, limit: int = 5) -> list[Article]:
    """Published articles sharing most tags with ``article`` (same function breaks ties)."""
    if not article.tags:
        return []
    shared = func.count(ArticleTag.id).label("shared")
    rows = db.session.execute(
        select(Article, shared).options(lazyload(Article.tag_rows))  # the list shows titles only
        .join(ArticleTag, ArticleTag.article_id == Article.id)
        .where(Article.status == "published", Article.id != article.id, ArticleTag.name.in_(article.tags),
               Article.lang == article.lang)
        .group_by(Article.id)
        .order_by(shared.desc(), case((Article.function_id == article.function_id, 0), else_=1), Article.title)
        .limit(limit)
    ).all()
    return [row[0] for row in rows]


def editor_articles(function_slugs: list[str] | None, status: str | None = None, text: str = "") -> list[Article]:
    query = select(Article).join(SupportFunction, Article.function_id == SupportFunction.id)
    if function_slugs is not None:
        query = query.where(SupportFunction.slug.in_(function_slugs))
    if status:
        query = query.where(Article.status == status)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(Article.title.ilike(like), Article.slug.ilike(like)))
    return list(db.session.scalars(query.order_by(Article.updated_at.desc()).limit(500)))


def revision(article: Article, number: int) -> ArticleRevision | None:
    return db.session.scalar(select(ArticleRevision).where(
        ArticleRevision.article_id == article.id, ArticleRevision.number == number))


@dataclass
class QueryStat:
    query: str
    searches: int
    last_results: int


@dataclass
class ArticleVotes:
    article: Article
    yes: int
    no: int
    comments: list[str]


def zero_result_queries(readable: set[int], since: datetime, until: datetime, limit: int = 20) -> list[QueryStat]:
    """The most frequent searches that found nothing, among those the reader may see (``readable``
    function ids; see ``readable_search_text``)."""
    return _query_stats(SearchLog.result_count == 0, readable, since, until, limit)


def no_click_queries(readable: set[int], since: datetime, until: datetime, limit: int = 20) -> list[QueryStat]:
    """The most frequent searches that found articles, none of which was opened."""
    return _query_stats((SearchLog.result_count > 0) & SearchLog.clicked_article_id.is_(None), readable, since,
                        until, limit)


def readable_search_text(readable: set[int]):
    """Which logged searches' text a reader may see: searches for a function they may read, and general
    searches. A question form's searches without a function (never sent) could be about anything, HR
    included, so nobody sees their text."""
    general = SearchLog.function_id.is_(None) & (SearchLog.source != "ask")
    return general | SearchLog.function_id.in_(readable or {-1})


def _query_stats(condition, readable: set[int], since: datetime, until: datetime, limit: int) -> list[QueryStat]:
    rows = db.session.execute(
        select(SearchLog.normalized, func.count(SearchLog.id), func.max(SearchLog.result_count))
        .where(condition, SearchLog.created_at >= since, SearchLog.created_at < until, SearchLog.normalized != "",
               readable_search_text(readable))
        .group_by(SearchLog.normalized)
        .order_by(func.count(SearchLog.id).desc(), SearchLog.normalized)
        .limit(limit)
    ).all()
    return [QueryStat(query, count, results) for query, count, results in rows]


@dataclass
class SearchTotals:
    searches: int
    without_results: int
    opened: int  # searches after which a result was opened


def search_totals(since: datetime, until: datetime) -> SearchTotals:
    """All searches in the period, counted (no text: every reader may see the totals)."""
    row = db.session.execute(select(
        func.count(SearchLog.id), func.sum(case((SearchLog.result_count == 0, 1), else_=0)),
        func.sum(case((SearchLog.clicked_article_id.is_not(None), 1), else_=0)),
    ).where(SearchLog.created_at >= since, SearchLog.created_at < until)).one()
    return SearchTotals(row[0] or 0, row[1] or 0, row[2] or 0)


def _in_functions(query: Select, function_slugs: list[str] | None) -> Select:
    """``query`` (over articles) limited to the articles of ``function_slugs``; None: all."""
    if function_slugs is None:
        return query
    return query.join(SupportFunction, Article.function_id == SupportFunction.id).where(
        SupportFunction.slug.in_(function_slugs))


def feedback_totals(function_slugs: list[str] | None, since: datetime, until: datetime) -> tuple[int, int]:
    """"Did this help?" answers given in the period: (yes, no)."""
    query = (select(func.sum(case((ArticleFeedback.is_helpful.is_(True), 1), else_=0)),
                    func.sum(case((ArticleFeedback.is_helpful.is_(False), 1), else_=0)))
             .join(Article, Article.id == ArticleFeedback.article_id)
             .where(ArticleFeedback.created_at >= since, ArticleFeedback.created_at < until))
    query = _in_functions(query, function_slugs)
    yes, no = db.session.execute(query).one()
    return yes or 0, no or 0


def most_read(function_slugs: list[str] | None, limit: int = 10) -> list[Article]:
    """The published articles read most (their view counts so far)."""
    query = (select(Article).options(lazyload(Article.tag_rows)).where(Article.status == "published")
             .order_by(Article.view_count.desc(), Article.title).limit(limit))
    query = _in_functions(query, function_slugs)
    return list(db.session.scalars(query))


def due_for_review(function_slugs: list[str] | None, by: date, limit: int = 50) -> list[Article]:
    """Published articles whose review date is ``by`` or earlier, the most overdue first."""
    query = (select(Article).options(lazyload(Article.tag_rows))
             .where(Article.status == "published", Article.review_date.is_not(None), Article.review_date <= by)
             .order_by(Article.review_date, Article.title).limit(limit))
    query = _in_functions(query, function_slugs)
    return list(db.session.scalars(query))


def most_unhelpful_articles(function_slugs: list[str] | None, limit: int = 20) -> list[ArticleVotes]:
    """Articles with the most "no" answers to "Did this help?", with the readers' comments."""
    no = func.sum(case((ArticleFeedback.is_helpful.is_(False), 1), else_=0))
    yes = func.sum(case((ArticleFeedback.is_helpful.is_(True), 1), else_=0))
    query = (select(Article, yes, no).join(ArticleFeedback, ArticleFeedback.article_id == Article.id)
             .join(SupportFunction, Article.function_id == SupportFunction.id)
             .group_by(Article.id).having(no > 0).order_by(no.desc(), Article.title).limit(limit))
    if function_slugs is not None:
        query = query.where(SupportFunction.slug.in_(function_slugs))
    result = []
    for article, yes_count, no_count in db.session.execute(query).all():
        comments = db.session.scalars(select(ArticleFeedback.comment).where(
            ArticleFeedback.article_id == article.id, ArticleFeedback.is_helpful.is_(False),
            ArticleFeedback.comment != "").order_by(ArticleFeedback.created_at.desc()).limit(5)).all()
        result.append(ArticleVotes(article, int(yes_count or 0), int(no_count or 0), list(comments)))
    return result


@dataclass
class Deflection:
    shown: int
    not_sent: int

    @property
    def share(self) -> float:
        return self.not_sent / self.shown if self.shown else 0.0


def deflection(since: datetime, until: datetime, settle_minutes: int = 60) -> Deflection:
    """Of the question forms where articles were suggested in the period, how many ended without a question
    being sent. Forms younger than ``settle_minutes`` are left out: their writers may still send."""
    until = min(until, utcnow() - timedelta(minutes=settle_minutes))
    rows = db.session.execute(select(SearchLog.ask_token, func.max(case((SearchLog.asked, 1), else_=0))).where(
        SearchLog.ask_token.is_not(None), SearchLog.result_count > 0, SearchLog.created_at >= since,
        SearchLog.created_at < until).group_by(SearchLog.ask_token)).all()
    return Deflection(len(rows), sum(1 for _, asked in rows if not asked))


@dataclass(frozen=True)
class AttachmentLink:
    """What a reader's page shows of an attachment: no database object."""

    id: int
    original_name: str
    kind: str
    size: int


_attachments: dict[tuple, list[AttachmentLink]] = {}


def attachment_links(article: Article) -> list[AttachmentLink]:
    """The article's attachments, kept per process while the article is unchanged (adding or removing one
    changes ``updated_at``): most articles have none, and every reader asked for them."""
    key = (str(db.engine.url), article.id, article.updated_at)
    found = _attachments.get(key)
    if found is None:
        if len(_attachments) > 4096:
            _attachments.clear()
        found = _attachments[key] = [AttachmentLink(a.id, a.original_name, a.kind, a.size)
                                     for a in article.attachments]
    return found
