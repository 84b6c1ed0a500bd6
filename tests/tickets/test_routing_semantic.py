"""Routing by meaning beside words: the semantic voter's scores, its weight chosen in cross-validation, the
vectors file that goes with a model, reuse of vectors on retraining, the words-only fallback on a host
without the embedding model, and the admin page's similar cases by meaning (texts written here)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from app.core import embeddings
from app.core.db import db
from app.core.text import get_analyzer
from app.tickets import routing
from app.tickets.routing_model import Example, Exemplars, RoutingModel, features, neighbour_spread

LABELS = ("facilities", "hr", "it", "payroll", "procurement")
# A toy "embedding model": words mean a function's concept without sharing a stem with each other, as
# "skärmen är svart" and "datorn startar inte" share no word but mean the same kind of trouble.
CONCEPTS = {
    "it": "dator skärm svart startar tangentbord mus laddare blinkar fryser uppkoppling",
    "payroll": "pengar konto utbetalt saknas belopp månad slip kronor avdrag inbetalning",
    "hr": "ledig barn vikarie chef samtal avtal anställd semestern schema flexa",
    "facilities": "kallt varmt dörr lampa läcker drag toalett kök trasig fönster",
    "procurement": "köpa leverantör pris paket order katalog bud offert anbud varor",
}


def toy_encode(texts: list[str], _is_query: bool) -> np.ndarray:
    """One dimension per function concept plus a little of every word's own direction."""
    out = np.zeros((len(texts), len(LABELS) + 64), dtype=np.float32)
    for n, text in enumerate(texts):
        for word in text.lower().replace(".", " ").split():
            for j, label in enumerate(LABELS):
                if word in CONCEPTS[label].split():
                    out[n, j] += 1.0
            out[n, len(LABELS) + zlib.crc32(word.encode()) % 64] += 0.1  # not hash(): it varies per process
    return out


@pytest.fixture
def toy_model(monkeypatch):
    monkeypatch.setitem(embeddings.LOADERS, "toy", lambda: embeddings._Model("toy", len(LABELS) + 64, toy_encode))
    monkeypatch.delitem(embeddings._models, "toy", raising=False)
    yield "toy"
    embeddings._models.pop("toy", None)


@pytest.fixture
def app(make_app, toy_model):
    """The test app with the toy embedding model on (the suite's default is words only)."""
    application = make_app(LOTSEN_EMBEDDING_MODEL=toy_model)
    with make_app(LOTSEN_EMBEDDING_MODEL=toy_model).app_context():
        yield application


def concept_corpus() -> list[Example]:
    """The words the model counts are each example's own (words alone cannot generalise); what the semantic
    voter reads carries the function's concept (meaning can)."""
    analyzer = get_analyzer()
    examples = []
    for n in range(120):
        label = LABELS[n % len(LABELS)]
        concept = CONCEPTS[label].split()
        meaning = f"{concept[n % len(concept)]} {concept[(n * 3 + 1) % len(concept)]} egetord{n}"
        examples.append(Example(features(analyzer, f"egetord{n} annatord{n}"), label, 1.0, f"example:{n}",
                                meaning, f"seed:{n}"))
    return examples


def test_a_functions_semantic_score_is_the_mean_of_its_closest_exemplars():
    similarity = np.array([[0.9, 0.8, 0.1, 0.5]])
    spread = neighbour_spread(similarity, np.array([0, 0, 0, 1]), 3, k=2)
    # label 0: mean of 0.9 and 0.8; label 1: its only exemplar; label 2: no exemplars, the lowest cosine
    scores = np.array([0.85, 0.5, -1.0])
    assert np.allclose(spread[0], scores - scores.mean())


def test_cross_validation_weighs_in_meaning_where_words_do_not_generalise(toy_model, app):
    model = RoutingModel.train(concept_corpus(), embed=embeddings.embed_queries, embedding_model=toy_model)
    assert model.exemplars is not None and len(model.exemplars.keys) == 120
    assert model.calibration.blend > 0
    assert model.calibration.accuracy > model.words_calibration.accuracy + 0.2
    assert model.calibration.threshold is not None and model.calibration.precision >= 0.95
    text = "skärmen svart och datorn fryser"  # no word of it was ever labelled
    vector = embeddings.embed_queries([text])[0]
    by_meaning = model.predict(features(get_analyzer(), text), vector=vector)
    assert by_meaning.label == "it" and by_meaning.by_meaning
    assert by_meaning.confidence >= model.threshold(by_meaning=True)
    assert by_meaning.neighbours and by_meaning.neighbours[0][0].startswith("seed:")
    words_only = model.predict(features(get_analyzer(), text))
    assert not words_only.by_meaning and words_only.confidence < by_meaning.confidence


def test_retraining_embeds_only_texts_it_has_not_seen(toy_model, app):
    calls: list[int] = []

    def counting(texts):
        calls.append(len(texts))
        return embeddings.embed_queries(texts)

    corpus = concept_corpus()
    first = RoutingModel.train(corpus, embed=counting, embedding_model=toy_model)
    assert sum(calls) == 120
    calls.clear()
    extra = Example(features(get_analyzer(), "laddare blinkar"), "it", 1.0, "case:1", "laddare blinkar", "case:1")
    second = RoutingModel.train([*corpus, extra], embed=counting, embedding_model=toy_model,
                                previous=first.exemplars)
    assert sum(calls) == 1 and len(second.exemplars.keys) == 121


def test_a_model_is_saved_with_its_own_vectors_file_and_old_ones_go(toy_model, app, tmp_path):
    path = tmp_path / "routing-model.json"
    first = RoutingModel.train(concept_corpus(), embed=embeddings.embed_queries, embedding_model=toy_model)
    first.save(path)
    (old,) = tmp_path.glob("routing-model-*.npz")
    second = RoutingModel.train(concept_corpus()[:-5], embed=embeddings.embed_queries, embedding_model=toy_model)
    second.save(path)
    (new,) = tmp_path.glob("routing-model-*.npz")
    assert new != old
    loaded = RoutingModel.load(path)
    assert loaded.embedding_model == toy_model and loaded.exemplars.keys == second.exemplars.keys
    assert loaded.calibration == second.calibration and loaded.words_calibration == second.words_calibration
    new.unlink()  # a host that reads the model while another writes the next one: words alone, no error
    assert RoutingModel.load(path).exemplars is None


def test_exemplars_round_trip(tmp_path):
    exemplars = Exemplars(np.eye(3, dtype=np.float32), np.array([0, 1, 2]), ["a:1", "b:2", "c:3"], ["x", "y", "z"])
    exemplars.save(tmp_path / "e.npz")
    loaded = Exemplars.load(tmp_path / "e.npz")
    assert loaded.keys == exemplars.keys and loaded.digests == exemplars.digests
    assert np.array_equal(loaded.vectors, exemplars.vectors) and loaded.labels.tolist() == [0, 1, 2]


def save_model(examples: list[Example]) -> RoutingModel:
    model = RoutingModel.train(examples, embed=embeddings.embed_queries, embedding_model="toy")
    model.trained_on["state"] = list(routing.training_state())
    model.save(routing.model_path())
    return model


@pytest.fixture
def meaning_model(app, people):
    """A model trained with the toy embedding model and saved where the app reads it."""
    return save_model(concept_corpus())


def test_a_question_sharing_no_word_goes_straight_by_meaning(meaning_model):
    model = meaning_model
    decision = routing.decide_route(None, "Skärmen", "Den är svart och datorn fryser")
    assert decision.by_meaning and decision.function.slug == "it" and decision.reason == "model"
    assert decision.threshold == model.calibration.threshold


def test_a_host_without_the_embedding_model_routes_on_words_with_their_own_threshold(meaning_model, make_app):
    model = meaning_model
    with make_app(LOTSEN_EMBEDDING_MODEL="off").app_context():
        assert not routing.uses_meaning(routing.current_model())
        decision = routing.decide_route(None, "Skärmen", "Den är svart och datorn fryser")
    assert not decision.by_meaning and decision.threshold == model.words_calibration.threshold
    assert decision.function.slug == "servicecenter"  # words alone are not sure of a text they never saw


def test_training_state_follows_the_embedding_model(make_app, toy_model):
    with make_app(LOTSEN_EMBEDDING_MODEL="off").app_context():
        words = routing.training_state()
    with make_app(LOTSEN_EMBEDDING_MODEL=toy_model).app_context():
        meaning = routing.training_state()
    assert words != meaning  # turning the model on retrains with exemplars


def test_admin_page_shows_votes_and_cases_close_in_meaning(app, client, auth, people, create_ticket):
    # the model's exemplar of this case is closest in meaning to the question; its words share no stem with it
    ticket = create_ticket("it", "erik", subject="Sladden", description="Trasig sladd vid skrivbordet")
    ticket.status = "resolved"
    db.session.commit()
    save_model([*concept_corpus(), Example(features(get_analyzer(), "laddaren musen tangentbordet blinkar"), "it",
                                           1.0, f"case:{ticket.id}", "laddare mus tangentbord blinkar",
                                           f"case:{ticket.id}")])
    auth.login("chef.admin")
    page = client.get("/admin/routing").get_data(as_text=True)
    assert "Ord och betydelse" in page
    page = client.post("/admin/routing", data={"action": "test", "test-subject": "Laddare",
                                               "test-body": "mus tangentbord blinkar"}).get_data(as_text=True)
    assert "Liknande lösta ärenden" in page and "Sladden" in page


def worded_corpus() -> list[Example]:
    """Examples whose words do generalise: one word of its own per function."""
    analyzer = get_analyzer()
    marker = {"it": "skrivare", "payroll": "lönespecifikation", "hr": "föräldraledighet",
              "facilities": "passerkort", "procurement": "ramavtal"}
    return [Example(features(analyzer, f"{marker[label]} ord{n}"), label, 1.0, f"worded:{n}",
                    f"{marker[label]} ord{n}", f"seed:w{n}")
            for n, label in enumerate(LABELS * 8)]


def test_admin_page_says_which_threshold_a_decision_used(app, client, auth, people):
    model = save_model([*concept_corpus(), *worded_corpus()])
    auth.login("chef.admin")
    page = client.get("/admin/routing").get_data(as_text=True)
    words = f"{round(model.threshold(by_meaning=False) * 100, 1):g}".replace(".", ",")  # Swedish decimals
    assert f"{words} % när orden ensamma avgör" in page
    page = client.post("/admin/routing", data={"action": "test", "test-subject": "Skrivaren",
                                               "test-body": "Skrivaren igen"}).get_data(as_text=True)
    assert f"tröskel {words} %; orden ensamma" in page
    page = client.post("/admin/routing", data={"action": "test", "test-subject": "Skärmen",
                                               "test-body": "Den är svart och datorn fryser"}).get_data(as_text=True)
    assert "; ord och betydelse)" in page


def test_only_cases_the_words_leave_unsure_are_embedded(app, people, monkeypatch):
    model = save_model([*concept_corpus(), *worded_corpus()])
    assert model.threshold(by_meaning=False) is not None
    embedded: list[str] = []
    real = embeddings.embed_queries
    monkeypatch.setattr(embeddings, "embed_queries", lambda texts: embedded.extend(texts) or real(texts))
    sure = routing.decide_route(None, "Skrivaren", "Skrivaren igen")
    assert sure.function.slug == "it" and not sure.by_meaning and embedded == []
    unsure = routing.decide_route(None, "Skärmen", "Den är svart och datorn fryser")
    assert unsure.by_meaning and unsure.function.slug == "it" and len(embedded) == 1
