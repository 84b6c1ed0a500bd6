"""The routing model: Complement Naive Bayes over the same Swedish/English analysis as search, with calibrated
probabilities.

It learns from labelled texts (articles with their function, the project's seed examples, resolved cases with
the function they ended in) and says which function a new text belongs to, how sure it is, and which words
weighed most.

**Calibration.** Naive Bayes scores rank well but are no probabilities. Training therefore also scores every
example it learns from with a model trained *without* that example (k-fold cross-validation, grouped so an
article and its translation never score each other), fits a temperature to those out-of-fold scores (the one
that makes the softmax probabilities best predict what was right, by log-loss), and picks the
smallest calibrated confidence above which the out-of-fold guesses were right at least ``target_precision`` of
the time. Both are stored with the model, so a host needs no data to route.

The calibration works on a matrix of per-function scores, not on Naive Bayes internals: a second voter (for
example nearest neighbours over sentence embeddings) can add its scores to the same matrix later and be
calibrated together with this one.

Plain Python, numpy and a JSON file: training on a thousand articles and fifty thousand cases takes seconds,
routing one text a millisecond or two.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from app.core.text import TextAnalyzer

ALPHA = 0.3  # smoothing
FOLDS = 10  # cross-validation folds for calibration
DEFAULT_TARGET_PRECISION = 0.95
MIN_DIRECT = 5  # a threshold needs at least this many out-of-fold examples above it


@dataclass
class Example:
    """One labelled text the model learns from. ``group``: examples that must never score each other (an
    article and its translation)."""

    counts: Counter
    label: str
    weight: float = 1.0
    group: str | None = None


@dataclass
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]
    top_terms: list[tuple[str, float]] = field(default_factory=list)
    known: float = 0.0


@dataclass
class Calibration:
    """How raw scores become probabilities, and where direct routing starts; with the cross-validated figures
    that justify it (shown on /admin/routing)."""

    temperature: float = 6.0  # probabilities = softmax(temperature * score spread)
    threshold: float | None = None  # calibrated confidence from which a case goes straight; None: never
    target_precision: float = DEFAULT_TARGET_PRECISION
    precision: float = 0.0  # of the out-of-fold guesses at or above the threshold
    coverage: float = 0.0  # share of out-of-fold examples at or above the threshold
    accuracy: float = 0.0  # of all out-of-fold guesses
    examples: int = 0
    folds: int = 0

    def probabilities(self, spread: np.ndarray) -> np.ndarray:
        """Rows of per-label probabilities from rows of score spreads."""
        logits = self.temperature * spread
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)


def features(analyzer: TextAnalyzer, text: str, expansions: Sequence[Sequence[str]] = ()) -> Counter:
    """Stems (Swedish with compound parts, and English) of ``text``, plus the stems of synonyms that match it
    (so an English question meets the Swedish words of the articles)."""
    counts: Counter = Counter()
    tokens = analyzer.tokens(text)
    for token in tokens:
        counts[token.sv] += 1
        if token.en != token.sv:
            counts[token.en] += 0.5
        for part in token.parts:
            if part != token.sv:
                counts[part] += 0.5
    for phrase_stems in expansions:
        for stem in phrase_stems:
            counts[stem] += 0.5
    return counts


def _as_example(item, index: int) -> Example:
    if isinstance(item, Example):
        return item
    counts, label, weight, *rest = item
    return Example(counts, label, weight, rest[0] if rest else None)


def _scaled(counts: Counter, weight: float) -> dict[str, float]:
    length = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {term: weight * math.log1p(value) / length * 10 for term, value in counts.items()}


def _fit(counts: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complement NB weights (terms x labels, zero for absent terms) and per-label defaults, from per-label
    term mass: each class is described by what the *other* classes' texts look like."""
    mass = counts[present]
    totals = mass.sum(axis=0)
    complement_total = totals.sum() - totals + ALPHA * len(mass)
    raw = -np.log((mass.sum(axis=1, keepdims=True) - mass + ALPHA) / complement_total)
    norms = np.abs(raw).sum(axis=0)
    norms[norms == 0] = 1.0
    weights = np.zeros_like(counts)
    weights[present] = raw / norms * 1000
    return weights, -np.log(ALPHA / complement_total) / norms * 1000


def _spread(vector_terms: list[tuple[int, float]], weights: np.ndarray, present: np.ndarray):
    known = [(i, v) for i, v in vector_terms if present[i]]
    if not known:
        return np.zeros(weights.shape[1]), 0.0
    index = np.fromiter((i for i, _ in known), dtype=np.int64, count=len(known))
    values = np.fromiter((v for _, v in known), dtype=float, count=len(known))
    scores = values @ weights[index]
    total = float(values.sum())
    return (scores - scores.mean()) / total, total


def fold_of_groups(groups: Sequence[str], labels: Sequence[str], folds: int) -> list[int]:
    """A fold per example: whole groups per fold, dealt round-robin within each label so every fold sees every
    function (deterministic: the same data gives the same folds)."""
    first_label: dict[str, str] = {}
    for group, label in zip(groups, labels, strict=True):
        first_label.setdefault(group, label)
    by_label: dict[str, list[str]] = {}
    for group, label in first_label.items():
        by_label.setdefault(label, []).append(group)
    assigned: dict[str, int] = {}
    turn = 0
    for label in sorted(by_label):
        for group in sorted(by_label[label]):
            assigned[group] = turn % folds
            turn += 1
    return [assigned[g] for g in groups]


def fit_temperature(spread: np.ndarray, gold: np.ndarray) -> float:
    """The temperature that minimises the log-loss of the out-of-fold guesses (a coarse grid on a log scale,
    then a finer one around the best point)."""
    rows = np.arange(len(gold))

    def loss(temperature: float) -> float:
        probs = Calibration(temperature).probabilities(spread)
        return float(-np.log(np.clip(probs[rows, gold], 1e-12, None)).mean())

    best = min(np.geomspace(0.1, 10000, 41), key=loss)
    return float(min(best * np.geomspace(0.75, 1.33, 21), key=loss))


def choose_threshold(confidence: np.ndarray, right: np.ndarray, target: float) -> tuple[float | None, float, float]:
    """The smallest confidence such that the guesses at or above it were right at least ``target`` of the time
    (threshold, precision there, coverage there); ``None`` when no confidence reaches the target."""
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(right[order])
    counts = np.arange(1, len(order) + 1)
    precision = hits / counts
    best = None
    for k in range(len(order)):
        # a threshold lies between distinct confidences: only the last of a run of ties counts
        if k + 1 < len(order) and confidence[order[k + 1]] == confidence[order[k]]:
            continue
        if counts[k] >= MIN_DIRECT and precision[k] >= target:
            best = k
    if best is None:
        return None, 0.0, 0.0
    return float(confidence[order[best]]), float(precision[best]), float(counts[best] / len(order))


class RoutingModel:
    def __init__(self, labels: list[str], weights: dict[str, dict[str, float]], default: dict[str, float],
                 trained_on: dict | None = None, calibration: Calibration | None = None):
        self.labels = labels
        self.weights = weights  # term -> label -> weight (normalised complement log-probabilities)
        self.default = default  # label -> weight for unseen terms
        self.trained_on = trained_on or {}
        self.calibration = calibration or Calibration()

    @classmethod
    def train(cls, examples: Iterable, target_precision: float = DEFAULT_TARGET_PRECISION,
              folds: int = FOLDS) -> RoutingModel:
        """Train on ``examples`` (``Example`` or ``(counts, label, weight[, group])``) and calibrate by
        ``folds``-fold cross-validation (no calibration with fewer than two examples per fold)."""
        items = [_as_example(item, n) for n, item in enumerate(examples)]
        labels = sorted({e.label for e in items})
        vocabulary: dict[str, int] = {}
        rows = []
        for example in items:
            scaled = _scaled(example.counts, example.weight)
            rows.append([(vocabulary.setdefault(term, len(vocabulary)), value) for term, value in scaled.items()])
        label_index = {label: i for i, label in enumerate(labels)}
        mass = np.zeros((len(vocabulary), len(labels)))
        frequency = np.zeros(len(vocabulary))
        for example, row in zip(items, rows, strict=True):
            for i, value in row:
                mass[i, label_index[example.label]] += value
                frequency[i] += 1
        weights, default = _fit(mass, frequency > 0) if labels else (mass, np.zeros(0))
        terms = list(vocabulary)
        model = cls(labels, {t: dict(zip(labels, map(float, weights[i]), strict=True)) for i, t in enumerate(terms)},
                    dict(zip(labels, map(float, default), strict=True)), dict(Counter(e.label for e in items)))
        if len(labels) >= 2 and len(items) >= 2 * folds:
            model.calibration = cls._calibrate(items, rows, vocabulary, mass, frequency, labels, target_precision,
                                               folds)
        return model

    @staticmethod
    def _calibrate(items, rows, vocabulary, mass, frequency, labels, target_precision, folds) -> Calibration:
        label_index = {label: i for i, label in enumerate(labels)}
        groups = [e.group or f"#{n}" for n, e in enumerate(items)]
        fold = fold_of_groups(groups, [e.label for e in items], folds)
        spreads, gold = [], []
        for f in range(folds):
            held = [n for n in range(len(items)) if fold[n] == f]
            fold_mass, fold_frequency = mass.copy(), frequency.copy()
            for n in held:
                for i, value in rows[n]:
                    fold_mass[i, label_index[items[n].label]] -= value
                    fold_frequency[i] -= 1
            present = fold_frequency > 0.5
            weights, _default = _fit(np.maximum(fold_mass, 0.0), present)
            for n in held:
                terms = [(vocabulary[t], v) for t, v in items[n].counts.items() if t in vocabulary]
                spread, known = _spread(terms, weights, present)
                if known:
                    spreads.append(spread)
                    gold.append(label_index[items[n].label])
        if len(gold) < 2 * folds:
            return Calibration(target_precision=target_precision)
        spread, gold = np.array(spreads), np.array(gold)
        calibration = Calibration(fit_temperature(spread, gold), target_precision=target_precision,
                                  examples=len(gold), folds=folds)
        probs = calibration.probabilities(spread)
        right = (probs.argmax(axis=1) == gold).astype(float)
        calibration.threshold, calibration.precision, calibration.coverage = choose_threshold(
            probs.max(axis=1), right, target_precision)
        calibration.accuracy = float(right.mean())
        return calibration

    def predict(self, counts: Counter, explain: int = 0) -> Prediction:
        if not self.labels:
            return Prediction("", 0.0, {})
        scores = dict.fromkeys(self.labels, 0.0)
        known = 0.0
        for term, value in counts.items():
            row = self.weights.get(term)
            if row is None:
                continue
            known += value
            for label in self.labels:
                scores[label] += value * row[label]
        if not known:
            return Prediction(self.labels[0], 0.0, scores)
        mean = sum(scores.values()) / len(scores)
        spread = np.array([(scores[label] - mean) / known for label in self.labels])
        probs = self.calibration.probabilities(spread[None, :])[0]
        best_index = int(probs.argmax())
        best = self.labels[best_index]
        contributions: dict[str, float] = {}
        if explain:
            for term, value in counts.items():
                row = self.weights.get(term)
                if row is not None:
                    others = sum(row[label] for label in self.labels if label != best) / max(1, len(self.labels) - 1)
                    contributions[term] = value * (row[best] - others)
        top = sorted(contributions.items(), key=lambda item: -item[1])[:explain]
        return Prediction(best, float(probs[best_index]), dict(zip(self.labels, map(float, probs), strict=True)),
                          [t for t in top if t[1] > 0], known)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"labels": self.labels, "weights": self.weights, "default": self.default,
                                   "trained_on": self.trained_on, "calibration": asdict(self.calibration)}),
                       encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> RoutingModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration(**data["calibration"]) if data.get("calibration") else None
        return cls(data["labels"], data["weights"], data["default"], data.get("trained_on"), calibration)
