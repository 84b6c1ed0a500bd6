"""Routing speed: one ticket routed (text analysis included) with a model trained on 1,000 articles and
50,000 resolved cases, and training that model from scratch; beside a keyword-only router (count each
function's keywords, the usual first attempt) measured in the same run. Targets (issue 5): median under
5 ms per ticket, training under 30 s.

The texts are synthetic: each function gets words of its own from the Swedish lexicon, mixed with words all
functions share, so the model has a realistic vocabulary to learn.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter

from app.tickets.routing import text_features
from app.tickets.routing_model import RoutingModel
from bench.search import p95, vocabulary, zipf_words

FUNCTIONS = ("hr", "payroll", "it", "facilities", "procurement")
ARTICLES, CASES, QUESTIONS = 1_000, 50_000, 500


def corpus(rng: random.Random):
    words = vocabulary(rng)
    shared, own = words[:3000], {f: words[3000 + i * 2500: 3000 + (i + 1) * 2500] for i, f in enumerate(FUNCTIONS)}

    def text(function: str, length: int) -> str:
        picked = zipf_words(rng, own[function], int(length * 0.5)) + zipf_words(rng, shared, length - int(length * 0.5))
        rng.shuffle(picked)
        return " ".join(picked)

    articles = [(text(f, 250), f) for f in (FUNCTIONS[i % 5] for i in range(ARTICLES))]
    cases = [(text(f, 30), f) for f in (rng.choice(FUNCTIONS) for _ in range(CASES))]
    questions = [(text(f, 30), f) for f in (rng.choice(FUNCTIONS) for _ in range(QUESTIONS))]
    keywords = {f: set(own[f][:200]) for f in FUNCTIONS}
    return articles, cases, questions, keywords


def keyword_route(text: str, keywords: dict[str, set[str]]) -> str:
    words = text.lower().split()
    hits = Counter({f: sum(w in kw for w in words) for f, kw in keywords.items()})
    return hits.most_common(1)[0][0]


def main() -> None:
    rng = random.Random(5)
    articles, cases, questions, keywords = corpus(rng)

    started = time.perf_counter()
    model = RoutingModel.train((text_features(t), f, 1.0) for t, f in articles + cases)
    training = time.perf_counter() - started

    def route(text: str) -> str:
        return model.predict(text_features(text)).label

    for text, _ in questions[:20]:
        route(text)
    ours, base = [], []
    for text, _label in questions:
        t0 = time.perf_counter()
        route(text)
        ours.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        keyword_route(text, keywords)
        base.append((time.perf_counter() - t0) * 1000)
    print(f"routing_train_s: {training:.1f}")
    print(f"routing_median_ms: {statistics.median(ours):.3f}")
    print(f"routing_p95_ms: {p95(ours):.3f}")
    print(f"routing_keyword_baseline_median_ms: {statistics.median(base):.3f}")
    print(f"routing_median_ratio: {statistics.median(ours) / statistics.median(base):.1f}", flush=True)
