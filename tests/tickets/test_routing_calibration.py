"""Calibrated routing: probabilities from cross-validation, a threshold for the target precision, and the
admin page's explanations (similar cases without confidential text)."""

import json
import random

import numpy as np
import pytest

from app.core.db import db
from app.core.text import get_analyzer
from app.tickets import routing
from app.tickets.routing_model import Example, RoutingModel, choose_threshold, features

WORDS = {
    "payroll": "lön lönespecifikation skatt utbetalning löneavdrag traktamente milersättning utlägg övertid lönekonto",
    "hr": "semester föräldraledighet uppsägning anställningsavtal sjukskrivning rehabilitering tjänstledighet "
          "medarbetarsamtal friskvård introduktion",
    "it": "lösenord dator skrivare inloggning nätverk programvara headset skärm wifi behörighet",
    "facilities": "passerkort nyckel städning ventilation värme lokal kontorsrum belysning hiss parkering",
    "procurement": "ramavtal leverantör beställning upphandling faktura offert inköp kontorsmaterial leverans anbud",
}
SHARED = ["hej", "fråga", "hjälp", "idag", "tack", "arbete", "kollega", "chef", "vecka", "problem"]


def synthetic_corpus(seed: int = 7) -> list[Example]:
    """Clear examples (words of their own function) and mixed ones (half another function's words, labelled
    either way), so cross-validation sees both sure and unsure guesses."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible corpus, not a secret
    analyzer = get_analyzer()
    labels = sorted(WORDS)
    examples = []
    for n in range(200):
        label = labels[n % len(labels)]
        own = WORDS[label].split()
        if n % 4 == 3:
            other = WORDS[labels[(n + 1 + rng.randrange(4)) % len(labels)]].split()
            words = rng.sample(own, 2) + rng.sample(other, 2)
        else:
            words = rng.sample(own, 4)
        text = " ".join(words + rng.sample(SHARED, 3))
        examples.append(Example(features(analyzer, text), label, 1.0, f"example:{n}"))
    return examples


def test_threshold_is_the_smallest_confidence_that_reaches_the_target():
    confidence = np.array([0.99, 0.97, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4])
    right = np.array([1, 1, 1, 1, 1, 1, 1, 0, 0, 1], dtype=float)
    threshold, precision, coverage = choose_threshold(confidence, right, 0.95)
    assert threshold == 0.7 and precision == 1.0 and coverage == 0.7
    threshold, precision, coverage = choose_threshold(confidence, right, 0.8)
    assert threshold == 0.4 and precision == 0.8 and coverage == 1.0
    assert choose_threshold(confidence, np.zeros(10), 0.95) == (None, 0.0, 0.0)


def test_cross_validation_calibrates_and_picks_the_threshold_for_the_target_precision(tmp_path):
    model = RoutingModel.train(synthetic_corpus(), target_precision=0.95)
    calibration = model.calibration
    assert calibration.examples == 200 and calibration.folds >= 2
    assert calibration.threshold is not None and calibration.precision >= 0.95
    assert 0.5 < calibration.coverage < 1.0  # the mixed examples stay below the threshold
    stricter = RoutingModel.train(synthetic_corpus(), target_precision=0.99).calibration
    assert stricter.threshold is None or stricter.threshold >= calibration.threshold
    model.save(tmp_path / "model.json")
    assert RoutingModel.load(tmp_path / "model.json").calibration == calibration


def test_an_article_never_scores_its_translation():
    analyzer = get_analyzer()
    # an article and its translation share a word no other text has: scoring one with a model that learnt the
    # other would look perfectly sure, and teach the calibration nothing true
    twins = [Example(features(analyzer, f"unikt{n}ord"), label, 1.0, f"article:{n}")
             for n, label in enumerate(sorted(WORDS) * 6) for _twin in range(2)]
    grouped = RoutingModel.train(twins, folds=4).calibration
    leaky = RoutingModel.train([Example(e.counts, e.label, e.weight) for e in twins], folds=4).calibration
    assert leaky.examples == len(twins) and leaky.accuracy == 1.0
    assert grouped.examples == 0 and grouped.threshold is None  # nothing known out of fold: nothing to trust


@pytest.fixture
def calibrated_model(app):
    model = RoutingModel.train(synthetic_corpus())
    model.trained_on["state"] = list(routing.training_state())
    model.save(routing.model_path())
    return model


def test_a_sure_ticket_goes_straight_and_an_ambiguous_one_to_the_service_centre(app, people, calibrated_model):
    sure = routing.decide_route(None, "Lönen", "Fel skatt på lönespecifikationen och utbetalningen av övertid")
    assert sure.function.slug == "payroll" and sure.confidence >= calibrated_model.calibration.threshold
    ambiguous = routing.decide_route(None, "Fråga", "Lönen och datorn")
    assert ambiguous.function.slug == "servicecenter"
    assert ambiguous.suggested.slug in ("payroll", "it")
    assert ambiguous.confidence < calibrated_model.calibration.threshold


def test_an_explicit_minimum_confidence_overrides_the_trained_threshold(make_app, people):
    with make_app(LOTSEN_ROUTING_MIN_CONFIDENCE=1.0).app_context():
        model = RoutingModel.train(synthetic_corpus())
        model.trained_on["state"] = list(routing.training_state())
        model.save(routing.model_path())
        decision = routing.decide_route(None, "Lönen", "Fel skatt på lönespecifikationen och övertiden")
    assert decision.function.slug == "servicecenter" and decision.suggested.slug == "payroll"


def test_the_words_that_weighed_most_are_the_words_written(app, people, calibrated_model):
    decision = routing.decide_route(None, "Skrivaren", "Skrivarna på plan 3 skriver inte och lösenordet är fel")
    assert decision.suggested.slug == "it"
    assert "skrivaren" in decision.words or "skrivarna" in decision.words
    assert "lösenordet" in decision.words
    assert not {"skriv", "lösenord"} & set(decision.words)  # stems are not shown


def test_admin_page_shows_threshold_and_similar_cases_without_confidential_text(
        client, auth, people, create_ticket, calibrated_model):
    for function, subject in (("it", "Skrivaren på plan 3 skriver inte"),
                              ("hr", "Skrivaren i HR-rummet och min sjukskrivning")):
        ticket = create_ticket(function, "erik", subject=subject, description="Skrivaren är trasig igen")
        ticket.status = "resolved"
    db.session.commit()
    auth.login("chef.admin")
    page = client.get("/admin/routing").get_data(as_text=True)
    threshold = f"{round(calibrated_model.calibration.threshold * 100, 1):g}".replace(".", ",")  # Swedish decimals
    assert "Tröskel för direkt routning" in page and f"{threshold}\u00a0%" in page
    page = client.post("/admin/routing", data={"action": "test", "test-subject": "Skrivaren",
                                               "test-body": "skrivaren skriver inte ut"}).get_data(as_text=True)
    assert "Liknande lösta ärenden" in page
    assert "Skrivaren på plan 3 skriver inte" in page
    assert "sjukskrivning" not in page and "HR-rummet" not in page
    assert "1 konfidentiellt ärende i HR" in page


def test_routing_batch_prints_function_confidence_and_queue(runner, people, calibrated_model):
    result = runner.invoke(args=["routing", "batch"],
                           input="Lönen\tfel skatt på lönespecifikationen och övertiden\nFråga\tlönen och datorn\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [set(line) for line in lines] == [{"function", "confidence", "queue"}] * 2
    assert lines[0] == {"function": "payroll", "confidence": lines[0]["confidence"], "queue": "payroll"}
    assert lines[1]["queue"] == "servicecenter" and lines[1]["function"] in ("payroll", "it")
    assert all(0 <= line["confidence"] <= 1 for line in lines)
