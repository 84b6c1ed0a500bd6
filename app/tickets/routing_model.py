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

**Meaning as a second voter.** When sentence embeddings are available, the model also keeps *exemplars*: the
vectors of the texts it learned from (articles, seed examples, the most recent resolved cases). A function's
semantic score for a new text is the mean similarity of its ``NEIGHBOURS`` closest exemplars, so a question
that shares no word with the articles still finds its function. The two voters' score spreads are added with a
weight (the *blend*) that calibration chooses together with the temperature, by the out-of-fold log-loss over
the same folds; a words-only calibration is kept beside it for a host without the embedding model.

Plain Python, numpy, a JSON file and (with exemplars) one ``.npz`` file of vectors: training on a thousand
articles and fifty thousand cases takes seconds plus the embedding of texts not seen before, routing one text a
millisecond or two plus the embedding of the text.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from app.core.text import TextAnalyzer

ALPHA = 0.3  # smoothing
FOLDS = 10  # cross-validation folds for calibration
DEFAULT_TARGET_PRECISION = 0.95
MIN_DIRECT = 5  # a threshold needs at least this many out-of-fold examples above it
NEIGHBOURS = 3  # a function's semantic score: the mean similarity of its closest exemplars
# Weights of the semantic vote tried in calibration, in units of the ratio of the two voters' spreads.
BLENDS = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)


@dataclass
class Example:
    """One labelled text the model learns from. ``group``: examples that must never score each other (an
    article and its translation)."""

    counts: Counter
    label: str
    weight: float = 1.0
    group: str | None = None
    text: str | None = None  # what the semantic voter embeds; None: words only
    key: str | None = None  # what it is ("article:12", "case:345"), shown when it is a close neighbour


@dataclass
class Prediction:
    label: str
    confidence: float
    scores: dict[str, float]
    top_terms: list[tuple[str, float]] = field(default_factory=list)
    known: float = 0.0
    neighbours: list[tuple[str, float]] = field(default_factory=list)  # closest exemplars (key, similarity)
    by_meaning: bool = False  # the semantic voter took part


@dataclass
class Calibration:
    """How raw scores become probabilities, and where direct routing starts; with the cross-validated figures
    that justify it (shown on /admin/routing)."""

    temperature: float = 6.0  # probabilities = softmax(temperature * (words spread + blend * meaning spread))
    blend: float = 0.0  # weight of the semantic voter's spread (0: words only)
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


@dataclass
class Exemplars:
    """The semantic voter's memory: one normalised vector per text it learned from, with its label and key, and
    a digest of the text so a retraining embeds only what it has not seen."""

    vectors: np.ndarray  # (n, dim) float32
    labels: np.ndarray  # index into the model's labels
    keys: list[str]
    digests: list[str]

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as handle:
            np.savez(handle, vectors=self.vectors.astype(np.float32), labels=self.labels.astype(np.int64),
                     keys=np.array(self.keys, dtype=str), digests=np.array(self.digests, dtype=str))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Exemplars:
        with np.load(path, allow_pickle=False) as data:
            return cls(np.ascontiguousarray(data["vectors"], dtype=np.float32), data["labels"],
                       data["keys"].tolist(), data["digests"].tolist())

    def by_digest(self) -> dict[str, np.ndarray]:
        return dict(zip(self.digests, self.vectors, strict=True))


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def neighbour_spread(similarity: np.ndarray, labels: np.ndarray, label_count: int,
                     k: int = NEIGHBOURS) -> np.ndarray:
    """Per row of ``similarity`` (texts x exemplars) and label: the mean of the label's ``k`` highest
    similarities, minus the row's mean over labels (a label without exemplars scores -1, the lowest cosine)."""
    scores = np.full((similarity.shape[0], label_count), -1.0)
    for j in range(label_count):
        columns = similarity[:, labels == j]
        if columns.shape[1]:
            kk = min(k, columns.shape[1])
            scores[:, j] = -np.partition(-columns, kk - 1, axis=1)[:, :kk].mean(axis=1)
    return scores - scores.mean(axis=1, keepdims=True)


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


def _as_example(item) -> Example:
    if isinstance(item, Example):
        return item
    counts, label, weight, *rest = item
    return Example(counts, label, weight, rest[0] if rest else None)


def _fit(mass: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Complement NB weights (terms x labels, zero for absent terms) and per-label defaults, from per-label
    term mass: each class is described by what the *other* classes' texts look like."""
    kept = mass[present]
    totals = kept.sum(axis=0)
    complement_total = totals.sum() - totals + ALPHA * len(kept)
    raw = -np.log((kept.sum(axis=1, keepdims=True) - kept + ALPHA) / complement_total)
    norms = np.abs(raw).sum(axis=0)
    norms[norms == 0] = 1.0
    weights = np.zeros_like(mass)
    weights[present] = raw / norms * 1000
    return weights, -np.log(ALPHA / complement_total) / norms * 1000


@dataclass
class _Matrix:
    """The examples as flat sparse arrays: one entry per (example, term)."""

    example: np.ndarray  # example index per entry
    term: np.ndarray  # term index per entry
    count: np.ndarray  # the term's count in the example (what prediction sees)
    scaled: np.ndarray  # its training mass: weight * log1p(count), length-normalised
    label: np.ndarray  # label index per example
    terms: list[str]
    labels: list[str]

    @classmethod
    def build(cls, items: list[Example]) -> _Matrix:
        labels = sorted({e.label for e in items})
        label_index = {label: i for i, label in enumerate(labels)}
        vocabulary: dict[str, int] = {}
        example, term, count, factor = [], [], [], []
        for n, item in enumerate(items):
            values = list(item.counts.values())
            term += [vocabulary.setdefault(t, len(vocabulary)) for t in item.counts]
            count += values
            example += [n] * len(values)
            factor += [item.weight * 10 / (math.sqrt(sum(v * v for v in values)) or 1.0)] * len(values)
        count_array = np.array(count, dtype=float)
        return cls(np.array(example, dtype=np.int64), np.array(term, dtype=np.int64), count_array,
                   np.array(factor, dtype=float) * np.log1p(count_array),
                   np.array([label_index[e.label] for e in items], dtype=np.int64), list(vocabulary), labels)

    def mass(self, entries: np.ndarray | slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """Per term and label training mass, and per term the number of examples, over ``entries``."""
        size, width = len(self.terms), len(self.labels)
        term = self.term[entries]
        mass = np.bincount(term * width + self.label[self.example[entries]], weights=self.scaled[entries],
                           minlength=size * width).reshape(size, width)
        return mass, np.bincount(term, minlength=size).astype(float)

    def spreads(self, entries: np.ndarray, weights: np.ndarray, present: np.ndarray, rows: int):
        """Per example (of ``rows``) the score spread and the known-word count, as ``RoutingModel.predict``."""
        example, term = self.example[entries], self.term[entries]
        count = self.count[entries] * present[term]
        scores = np.stack([np.bincount(example, weights=count * weights[term, j], minlength=rows)
                           for j in range(len(self.labels))], axis=1)
        known = np.bincount(example, weights=count, minlength=rows)
        safe = np.where(known > 0, known, 1.0)
        return (scores - scores.mean(axis=1, keepdims=True)) / safe[:, None], known


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
                 trained_on: dict | None = None, calibration: Calibration | None = None,
                 words_calibration: Calibration | None = None, exemplars: Exemplars | None = None,
                 embedding_model: str | None = None):
        self.labels = labels
        self.weights = weights  # term -> label -> weight (normalised complement log-probabilities)
        self.default = default  # label -> weight for unseen terms
        self.trained_on = trained_on or {}
        self.calibration = calibration or Calibration()  # with the semantic voter when there are exemplars
        self.words_calibration = words_calibration or self.calibration  # for a text without a vector
        self.exemplars = exemplars
        self.embedding_model = embedding_model  # the model the exemplars' vectors came from

    @classmethod
    def train(cls, examples: Iterable, target_precision: float = DEFAULT_TARGET_PRECISION,
              folds: int = FOLDS, embed: Callable[[list[str]], np.ndarray] | None = None,
              embedding_model: str | None = None, previous: Exemplars | None = None) -> RoutingModel:
        """Train on ``examples`` (``Example`` or ``(counts, label, weight[, group])``) and calibrate by
        ``folds``-fold cross-validation (no calibration with fewer than two examples per fold). With ``embed``
        (texts -> normalised vectors), the examples that carry a text become the semantic voter's exemplars;
        vectors of texts in ``previous`` are reused."""
        items = [_as_example(item) for item in examples]
        matrix = _Matrix.build(items)
        labels = matrix.labels
        mass, frequency = matrix.mass()
        weights, default = _fit(mass, frequency > 0)
        model = cls(labels, {t: dict(zip(labels, row, strict=True)) for t, row in zip(matrix.terms, weights.tolist(),
                                                                                    strict=True)},
                    dict(zip(labels, default.tolist(), strict=True)), dict(Counter(e.label for e in items)))
        rows = [n for n, e in enumerate(items) if e.text] if embed is not None else []
        if rows:
            model.exemplars = _embed_exemplars(items, rows, matrix.label, embed, previous)
            model.embedding_model = embedding_model
        if len(labels) >= 2 and len(items) >= 2 * folds:
            model.words_calibration, model.calibration = cls._calibrate(
                items, matrix, mass, frequency, target_precision, folds, rows, model.exemplars)
        return model

    @staticmethod
    def _calibrate(items, matrix: _Matrix, mass, frequency, target_precision, folds, rows: list[int],
                   exemplars: Exemplars | None) -> tuple[Calibration, Calibration]:
        """(words only, with meaning): each fitted on the out-of-fold scores of the examples it can score."""
        groups = [e.group or f"#{n}" for n, e in enumerate(items)]
        fold = np.array(fold_of_groups(groups, [e.label for e in items], folds))
        spread = np.zeros((len(items), len(matrix.labels)))
        known = np.zeros(len(items))
        for f in range(folds):
            entries = np.flatnonzero(fold[matrix.example] == f)
            held_mass, held_frequency = matrix.mass(entries)
            present = frequency - held_frequency > 0.5
            weights, _default = _fit(np.maximum(mass - held_mass, 0.0), present)
            fold_spread, fold_known = matrix.spreads(entries, weights, present, len(items))
            spread[fold == f] = fold_spread[fold == f]
            known[fold == f] = fold_known[fold == f]
        scored = np.flatnonzero(known > 0)
        words = _calibration(spread[scored], matrix.label[scored], [0.0], target_precision, folds)
        if exemplars is None or not rows:
            return words, words
        row_index = np.array(rows)
        similarity = exemplars.vectors @ exemplars.vectors.T
        similarity[fold[row_index][:, None] == fold[row_index][None, :]] = -1.0  # nothing scores its own fold
        meaning = neighbour_spread(similarity, exemplars.labels, len(matrix.labels))
        words_part = spread[row_index]
        # the blend in units of the words' spread; when words score nothing, meaning alone
        scale = float(words_part.std() / (meaning.std() or 1.0)) or 1.0
        blended = _calibration(words_part, matrix.label[row_index], [b * scale for b in BLENDS], target_precision,
                               folds, meaning)
        return words, blended

    def predict(self, counts: Counter, explain: int = 0, vector: np.ndarray | None = None) -> Prediction:
        """The most likely label with its calibrated probability. ``vector``: the text's embedding (from the
        model named ``embedding_model``), for the semantic vote; without it, words alone."""
        if not self.labels:
            return Prediction("", 0.0, {})
        by_meaning = vector is not None and self.exemplars is not None and len(self.exemplars.keys) > 0
        scores = dict.fromkeys(self.labels, 0.0)
        known = 0.0
        for term, value in counts.items():
            row = self.weights.get(term)
            if row is None:
                continue
            known += value
            for label in self.labels:
                scores[label] += value * row[label]
        if not known and not by_meaning:
            return Prediction(self.labels[0], 0.0, scores)
        mean = sum(scores.values()) / len(scores)
        spread = np.array([(scores[label] - mean) / (known or 1.0) for label in self.labels])
        neighbours: list[tuple[str, float]] = []
        calibration = self.words_calibration
        if by_meaning:
            calibration = self.calibration
            similarity = self.exemplars.vectors @ np.asarray(vector, dtype=np.float32)
            spread = spread + calibration.blend * neighbour_spread(similarity[None, :], self.exemplars.labels,
                                                                   len(self.labels))[0]
            closest = np.argsort(-similarity)[:max(explain, NEIGHBOURS)]
            neighbours = [(self.exemplars.keys[i], float(similarity[i])) for i in closest]
        probs = calibration.probabilities(spread[None, :])[0]
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
                          [t for t in top if t[1] > 0], known, neighbours, by_meaning)

    def threshold(self, by_meaning: bool) -> float | None:
        """The calibrated confidence from which a prediction made this way goes straight to the function."""
        return (self.calibration if by_meaning else self.words_calibration).threshold

    def save(self, path: Path) -> None:
        """The model as ``path`` (JSON) and, with exemplars, a vectors file beside it named by its content (so a
        host never pairs a model with another training's vectors); older vectors files are removed."""
        exemplars_name = None
        if self.exemplars is not None:
            digest = text_digest("\x1e".join(self.exemplars.digests) + str(self.exemplars.vectors.shape))[:16]
            exemplars_name = f"{path.stem}-{digest}.npz"
            self.exemplars.save(path.with_name(exemplars_name))
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"labels": self.labels, "weights": self.weights, "default": self.default,
                                   "trained_on": self.trained_on, "calibration": asdict(self.calibration),
                                   "words_calibration": asdict(self.words_calibration),
                                   "exemplars": exemplars_name, "embedding_model": self.embedding_model}),
                       encoding="utf-8")
        tmp.replace(path)
        for old in path.parent.glob(f"{path.stem}-*.npz"):
            if old.name != exemplars_name:
                old.unlink(missing_ok=True)

    @staticmethod
    def trained_state(path: Path):
        """What the model at ``path`` was trained on (``trained_on["state"]``), read without loading its weights
        or vectors: the worker asks every round."""
        return json.loads(path.read_text(encoding="utf-8")).get("trained_on", {}).get("state")

    @classmethod
    def load(cls, path: Path) -> RoutingModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        calibration = Calibration(**data["calibration"]) if data.get("calibration") else None
        words = Calibration(**data["words_calibration"]) if data.get("words_calibration") else None
        exemplars = None
        if data.get("exemplars"):
            try:
                exemplars = Exemplars.load(path.with_name(data["exemplars"]))
            except (OSError, ValueError, KeyError):
                exemplars = None  # replaced by a newer training meanwhile: words alone until the reload
        return cls(data["labels"], data["weights"], data["default"], data.get("trained_on"), calibration, words,
                   exemplars, data.get("embedding_model") if exemplars is not None else None)


def _embed_exemplars(items: list[Example], rows: list[int], label_index: np.ndarray,
                     embed: Callable[[list[str]], np.ndarray], previous: Exemplars | None) -> Exemplars:
    digests = [text_digest(items[n].text) for n in rows]
    known = previous.by_digest() if previous is not None else {}
    missing = list(dict.fromkeys(d for d in digests if d not in known))
    if missing:
        text_of = {text_digest(items[n].text): items[n].text for n in rows}
        for start in range(0, len(missing), 64):
            batch = missing[start:start + 64]
            known.update(zip(batch, embed([text_of[d] for d in batch]), strict=True))
    vectors = np.vstack([known[d] for d in digests]).astype(np.float32)
    return Exemplars(vectors, label_index[np.array(rows)], [items[n].key or f"#{n}" for n in rows], digests)


def _calibration(spread: np.ndarray, gold: np.ndarray, blends: Sequence[float], target_precision: float,
                 folds: int, meaning: np.ndarray | None = None) -> Calibration:
    """The blend and temperature with the lowest out-of-fold log-loss, and the threshold for the target."""
    if len(gold) < 2 * folds:
        return Calibration(target_precision=target_precision)
    rows = np.arange(len(gold))
    best = None
    for blend in blends:
        combined = spread if meaning is None or not blend else spread + blend * meaning
        temperature = fit_temperature(combined, gold)
        probs = Calibration(temperature).probabilities(combined)
        loss = float(-np.log(np.clip(probs[rows, gold], 1e-12, None)).mean())
        if best is None or loss < best[0] - 1e-9:
            best = (loss, blend, temperature, probs)
    _loss, blend, temperature, probs = best
    calibration = Calibration(temperature, blend=float(blend), target_precision=target_precision,
                              examples=len(gold), folds=folds)
    right = (probs.argmax(axis=1) == gold).astype(float)
    calibration.threshold, calibration.precision, calibration.coverage = choose_threshold(
        probs.max(axis=1), right, target_precision)
    calibration.accuracy = float(right.mean())
    return calibration
