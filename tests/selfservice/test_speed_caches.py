"""What makes the common pages cheap without changing what they show: article views counted in batches (a
read is no write), answers to the same question kept while nothing they depend on changed, and synonyms read
again when they change, at once in this process and within seconds from another."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import app.selfservice.search as search_module
from app.core import counters
from app.core.db import db, utcnow
from app.selfservice import services
from app.selfservice.models import Article, SynonymGroup
from app.selfservice.search import get_index
from tests.conftest import counted_statements


def views_of(slug: str) -> int:
    db.session.expire_all()
    return db.session.scalar(select(Article.view_count).where(Article.slug == slug))


def test_reading_an_article_writes_nothing_and_its_views_are_written_in_a_batch(app, client, create_user, auth,
                                                                                 corpus):
    app.config["LOTSEN_COUNTER_FLUSH_SECONDS"] = 3600
    create_user("karin")
    auth.login("karin")
    client.get("/articles/passerkort")
    with counted_statements() as statements:
        assert client.get("/articles/passerkort").status_code == 200
    assert not [s for s in statements if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert views_of("passerkort") == 0
    assert services.article_views.pending(app) == {corpus["passerkort"].id: 2}
    assert counters.flush(app) == 1
    assert views_of("passerkort") == 2 and services.article_views.pending(app) == {}
    app.config["LOTSEN_COUNTER_FLUSH_SECONDS"] = 0  # due: the next request writes its view as it ends
    client.get("/articles/passerkort")
    assert views_of("passerkort") == 3


@pytest.fixture
def one_view_unwritable(app, client, create_user, auth, corpus, monkeypatch):
    """One article view counted, and a database that refuses to take it (``monkeypatch.undo()`` mends it)."""
    app.config["LOTSEN_COUNTER_FLUSH_SECONDS"] = 3600
    create_user("karin")
    auth.login("karin")
    client.get("/articles/passerkort")

    def broken(_session, _counts):
        raise RuntimeError("database gone")

    monkeypatch.setattr(services.article_views, "write", broken)


def test_a_failed_write_keeps_the_views_for_the_next_one(app, corpus, one_view_unwritable, monkeypatch):
    assert counters.flush(app) == 0
    assert services.article_views.pending(app) == {corpus["passerkort"].id: 1}
    monkeypatch.undo()
    assert counters.flush(app) == 1
    assert views_of("passerkort") == 1


def test_the_same_question_is_ranked_once_until_an_article_changes(app, corpus, monkeypatch):
    runs = []
    real = search_module.run_query

    def counting(*args, **kwargs):
        runs.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(search_module, "run_query", counting)
    first = get_index().search("passerkort")
    assert get_index().search("passerkort") == first and len(runs) == 1
    assert get_index().search("passerkort", function="it") != first and len(runs) == 2  # other filters
    article = corpus["passerkort"]
    services.update_article(article, services.ArticleData(
        title="Passerkort", slug=article.slug, summary="", lang="sv", body="Nu med blåbärssoppa.",
        function="facilities", tags=["passerkort"], status="published"), None)
    db.session.commit()
    assert [h.slug for h in get_index().search("blåbärssoppa").hits] == ["passerkort"]
    get_index().search("passerkort")
    assert runs.count("passerkort") == 3  # the index changed: ranked again


def test_synonyms_saved_by_another_process_are_read_within_the_catch_up_time(app, corpus, monkeypatch):
    assert "vard-av-sjukt-barn" not in [h.slug for h in get_index().search("snorungar").hits]
    # written as another process would: no after-commit signal reaches this one
    db.session.add(SynonymGroup(phrases="snorungar = vård av barn"))
    db.session.commit()
    assert "vard-av-sjukt-barn" not in [h.slug for h in get_index().search("snorungar").hits]  # not yet
    monkeypatch.setattr(search_module, "CATCH_UP_SECONDS", 0.0)  # the catch-up time has passed
    assert "vard-av-sjukt-barn" in [h.slug for h in get_index().search("snorungar").hits]


def test_views_are_written_in_key_order_so_two_processes_never_deadlock(app, monkeypatch):
    """Two processes flushing the same articles in different orders deadlocked on PostgreSQL under load."""
    written = []
    monkeypatch.setattr(services.article_views, "write", lambda _session, counts: written.append(list(counts)))
    with app.test_request_context("/"):
        for article_id in (9, 3, 7, 3, 1):
            services.article_views.add(article_id)
    counters.flush(app)
    assert written == [[1, 3, 7, 9]]


def test_counts_a_write_can_never_take_are_dropped_after_a_few_tries(app, corpus, one_view_unwritable):
    for _ in range(counters.KEEP_FAILED):
        counters.flush(app)
        assert services.article_views.pending(app) == {corpus["passerkort"].id: 1}
    counters.flush(app)
    assert services.article_views.pending(app) == {}


def test_a_search_without_filters_checks_no_choice(app, client, create_user, auth, corpus, monkeypatch):
    """The filters are "all" when not chosen: the empty value is not refused as an unknown choice (a message
    translated and thrown away on every search), and the page shows "all" chosen; an unknown value finds nothing."""
    from wtforms import SelectField

    refused = []
    monkeypatch.setattr(SelectField, "gettext", lambda self, text: refused.append(text) or text)
    create_user("karin")
    auth.login("karin")
    page = client.get("/search?q=passerkort").get_data(as_text=True)
    assert "passerkort" in page.lower() and '<option selected value="">' in page
    assert refused == []
    assert "/articles/passerkort" not in client.get("/search?q=passerkort&function=okänd").get_data(as_text=True)


def test_search_results_read_each_article_once_until_an_article_changes(app, client, create_user, auth, corpus,
                                                                         monkeypatch):
    """A result list shows cards a process keeps (no article read per search), and shows a change at once."""
    from app.auth.models import SupportFunction
    from app.selfservice import queries

    create_user("karin")
    auth.login("karin")
    client.get("/search?q=passerkort")
    with counted_statements() as statements:
        page = client.get("/search?q=passerkort").get_data(as_text=True)
        live = client.get("/search/live?q=passerk").get_data(as_text=True)
    assert "säkerhetsjouren" in page and "/articles/passerkort" in live
    assert not [s for s in statements if "article.body" in s]
    article = corpus["passerkort"]
    services.update_article(article, services.ArticleData(
        title="Passerkort och nycklar", slug=article.slug, summary="", lang="sv", body="Spärra kortet hos jouren.",
        function="facilities", tags=["passerkort"], status="published"), None)
    db.session.commit()
    page = client.get("/search?q=passerkort").get_data(as_text=True)
    assert "Passerkort och nycklar" in page and "hos jouren" in page
    db.session.scalar(select(SupportFunction).where(SupportFunction.slug == "facilities")).name_sv = "Lokalservice"
    db.session.commit()
    monkeypatch.setattr(queries, "REFERENCE_SECONDS", 0.0)  # a function's new name shows within that time
    assert "Lokalservice" in client.get("/search?q=passerkort").get_data(as_text=True)
    services.update_article(article, services.ArticleData(
        title="Passerkort och nycklar", slug=article.slug, summary="", lang="sv", body="Spärra kortet hos jouren.",
        function="facilities", tags=["passerkort"], status="draft"), None)
    db.session.commit()
    assert "/articles/passerkort" not in client.get("/search?q=passerkort").get_data(as_text=True)


def test_a_search_is_logged_without_the_orms_unit_of_work(app, client, create_user, auth, corpus):
    """Every search writes its log line (or extends the last one as the person types on): as plain statements,
    since flushing a new object through the ORM cost more than the rest of the log."""
    from sqlalchemy import event

    from app.selfservice.models import SearchLog

    flushed = []

    def spy(session, _context, _instances):
        flushed.extend(type(o).__name__ for o in [*session.new, *session.dirty])

    karin = create_user("karin")
    auth.login("karin")
    event.listen(db.session, "before_flush", spy)
    try:
        page = client.get("/search?q=passerk").get_data(as_text=True)
        live = client.get("/search/live?q=passerkortet").get_data(as_text=True)
    finally:
        event.remove(db.session, "before_flush", spy)
    assert "SearchLog" not in flushed
    rows = db.session.execute(select(SearchLog.id, SearchLog.normalized, SearchLog.source).where(
        SearchLog.user_id == karin.id)).all()
    assert [(r.normalized, r.source) for r in rows] == [("passerkortet", "live")]  # typed on: one row
    assert f'data-log-id="{rows[0].id}"' in page and f'data-log-id="{rows[0].id}"' in live


def test_a_change_committed_out_of_revision_order_shows_in_the_results_at_once(app, client, create_user, auth,
                                                                               corpus):
    """Two editors' commits can land out of revision order (PostgreSQL): the last to commit then changes neither
    the newest revision nor the number of articles. Its change still shows at once, and a withdrawal hides the
    article at once, though the index has not caught up."""
    from sqlalchemy import update

    create_user("karin")
    auth.login("karin")
    assert "Passerkort" in client.get("/search?q=passerkort").get_data(as_text=True)
    article_id = corpus["passerkort"].id
    # as such a commit lands: the row changed, no newer revision than the last one seen
    db.session.execute(update(Article).where(Article.id == article_id).values(
        title="Passerkort och larm", updated_at=utcnow()))
    db.session.commit()
    assert "Passerkort och larm" in client.get("/search?q=passerkort").get_data(as_text=True)
    db.session.execute(update(Article).where(Article.id == article_id).values(
        status="draft", updated_at=utcnow()))
    db.session.commit()
    assert "/articles/passerkort" not in client.get("/search?q=passerkort").get_data(as_text=True)


def _retitled(article: Article, title: str) -> services.ArticleData:
    return services.ArticleData(title=title, slug=article.slug, summary=article.summary, body=article.body,
                                lang=article.lang, function=article.function.slug, tags=list(article.tags),
                                status=article.status)


def test_the_start_pages_lists_show_a_change_committed_out_of_revision_order_at_once(client, create_user, auth,
                                                                                    corpus):
    """Editor A's change commits first with the newer revision, then editor B's with an older one (PostgreSQL can
    commit them in that order): B's commit changes neither the newest revision nor the number of articles, and
    the start page's kept lists must still show it at once."""
    from sqlalchemy import func, update

    from app.selfservice.models import ArticleRevision

    create_user("karin")
    auth.login("karin")
    client.get("/")
    first, second = corpus["passerkort"], corpus["ramavtal-och-leverantorer"]
    services.update_article(first, _retitled(first, "Passerkort och larm"), None)
    db.session.flush()
    newest = db.session.scalar(select(func.max(ArticleRevision.id)))
    db.session.execute(update(ArticleRevision).where(ArticleRevision.id == newest).values(id=newest + 100))
    db.session.commit()  # A: its revision is the newest by far
    assert "Passerkort och larm" in client.get("/").get_data(as_text=True)
    services.update_article(second, _retitled(second, "Ramavtal och avtalade leverantörer"), None)
    db.session.flush()
    newest = db.session.scalar(select(func.max(ArticleRevision.id)))
    db.session.execute(update(ArticleRevision).where(ArticleRevision.id == newest).values(id=newest - 50))
    db.session.commit()  # B: committed later, with an older revision id than A's
    assert "Ramavtal och avtalade leverantörer" in client.get("/").get_data(as_text=True)
