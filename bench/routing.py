"""Routing speed: one ticket routed (text analysis included) with a model trained on 1,000 articles and
50,000 resolved cases, and training that model from scratch; beside a keyword-only router (count each
function's keywords, the usual first attempt) measured in the same run. Targets (issue 5): median under
5 ms per ticket, training under 30 s.

With the semantic voter (issue 11; target: routing one ticket, median under 20 ms): the model also keeps
exemplars (the 1,000 articles and the latest ``CASE_EXEMPLARS`` cases). Their vectors here are random unit
vectors (embedding 3,000 synthetic texts would take minutes and the products cost the same whatever the numbers
are), the time to embed them is extrapolated from a sample. Routing works as ``routing.decide_route``: words
first, and the case's first ``ROUTING_WORDS`` words are really embedded only when the words are below their
threshold; ``routing_meaning_*`` is what a new case pays that way (``_share_embedded``: how many paid for the
embedding; ``_embedded_median_ms``: what those paid). The synthetic questions are clearer than real ones, so the
real share embedded is higher (11-17 % on the development questions).

The texts are synthetic: each function gets words of its own from the Swedish lexicon, mixed with words all
functions share, so the model has a realistic vocabulary to learn.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter

import numpy as np

from app.core import embeddings
from app.tickets.routing import CASE_EXEMPLARS, ROUTING_WORDS, meaning_text, text_features
from app.tickets.routing_model import Example, RoutingModel
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
    meaning_main(rng, articles, cases, questions, statistics.median(ours))


def meaning_main(rng: random.Random, articles, cases, questions, words_median: float) -> None:
    model_handle = embeddings.load(embeddings.DEFAULT_MODEL)
    if model_handle is None:
        print("routing_meaning: embedding model unavailable, skipped")
        return
    vectors = np.random.default_rng(11)

    def random_embed(texts: list[str]) -> np.ndarray:
        block = vectors.standard_normal((len(texts), model_handle.dim)).astype(np.float32)
        return block / np.linalg.norm(block, axis=1, keepdims=True)

    remembered = len(cases) - CASE_EXEMPLARS
    examples = [Example(text_features(t), f, 1.0, None, meaning_text(t[:400]) if kind == "article" or n >= remembered
                        else None) for n, (kind, (t, f)) in enumerate(
                            [("article", a) for a in articles] + [("case", c) for c in cases])]
    started = time.perf_counter()
    model = RoutingModel.train(examples, embed=random_embed, embedding_model=embeddings.DEFAULT_MODEL)
    training = time.perf_counter() - started
    sample = [meaning_text(t) for t, _f in questions[:20]]
    started = time.perf_counter()
    embeddings.embed_queries(sample)
    per_text = (time.perf_counter() - started) / len(sample)
    sure = model.threshold(by_meaning=False)
    total, embedded = [], []
    for text, _label in questions[:200]:
        t0 = time.perf_counter()
        counts = text_features(text)
        prediction = model.predict(counts)
        if sure is None or prediction.confidence < sure:
            model.predict(counts, vector=embeddings.embed_queries([meaning_text(text)])[0])
            embedded.append((time.perf_counter() - t0) * 1000)
        total.append((time.perf_counter() - t0) * 1000)
    forced = []
    for text, _label in questions[200:260]:
        t0 = time.perf_counter()
        model.predict(text_features(text), vector=embeddings.embed_queries([meaning_text(text)])[0])
        forced.append((time.perf_counter() - t0) * 1000)
    print(f"routing_meaning_exemplars: {len(model.exemplars.keys)}")
    print(f"routing_meaning_train_s: {training:.1f}  (vectors given; embedding them from scratch: about "
          f"{per_text * len(model.exemplars.keys):.0f} s more, once: a retraining embeds only new texts)")
    print(f"routing_meaning_median_ms: {statistics.median(total):.2f}")
    print(f"routing_meaning_p95_ms: {p95(total):.2f}")
    print(f"routing_meaning_share_embedded: {len(embedded) / len(total):.2f}")
    print(f"routing_meaning_embedded_median_ms: {statistics.median(forced):.1f}  ({ROUTING_WORDS} words embedded)")
    print(f"routing_meaning_median_ratio_to_words: {statistics.median(total) / words_median:.1f}", flush=True)
