"""The one place that decides which support function a new case goes to, and why.

In order: a category the person chose; an administrator's rule (a word or phrase -> function, highest priority
first); the routing model (``routing_model.py``), trained on the published articles and their functions, the
project's seed examples (``routing_data/examples.tsv``) and resolved cases, where the function a case ended
in (after any re-route by a specialist) is the right answer. The model's probabilities are calibrated by
cross-validation at training time, which also picks the confidence threshold that reached
``LOTSEN_ROUTING_TARGET_PRECISION`` (``LOTSEN_ROUTING_MIN_CONFIDENCE`` overrides it when set). Below the
threshold the case goes to the first-line service centre with the model's suggestion.

With an embedding model (``LOTSEN_EMBEDDING_MODEL``), the model also votes by meaning when the words alone are
not sure enough to route straight: the first ``ROUTING_WORDS`` words of the new case are embedded and compared
with the articles', seed examples' and the latest ``CASE_EXEMPLARS`` resolved cases' vectors. A host whose
embedding model is off or another than the one the model was trained with routes on words alone, with the
words-only calibration and its own threshold.

Each host keeps the trained model as a file in its instance folder and reloads it when it changes; training
runs in the CLI or the background worker, never in a request.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.auth.models import SupportFunction
from app.auth.services import get_function
from app.core import embeddings
from app.core.db import db
from app.core.text import get_analyzer
from app.selfservice.markdown import markdown_to_text
from app.selfservice.models import Article
from app.selfservice.search import builtin_synonym_table
from app.tickets.models import Category, RoutingRule, Ticket, TicketEvent
from app.tickets.routing_model import Example, RoutingModel, features

log = logging.getLogger(__name__)

FIRST_LINE = "servicecenter"
SEED_FILE = Path(__file__).resolve().parent / "routing_data" / "examples.tsv"
# A one-line seed example says far less than an article, so it only fills gaps; a case a specialist moved is
# the clearest lesson there is.
ARTICLE_WEIGHT, SEED_WEIGHT, CASE_WEIGHT, REROUTED_WEIGHT = 1.0, 0.25, 1.0, 2.0
MODEL_FORMAT = 3  # 2: calibrated, with the threshold for the target precision; 3: with the semantic voter
ROUTING_WORDS = 32  # the words of a case the semantic voter reads (the cost of embedding grows with the length)
CASE_EXEMPLARS = 2000  # the latest resolved cases the semantic voter remembers (all of them teach the words)


@dataclass
class RoutingDecision:
    function: SupportFunction
    confidence: float
    reason: str
    suggested: SupportFunction | None = None
    words: list[str] = field(default_factory=list)
    rule: RoutingRule | None = None
    threshold: float | None = None
    stems: list[str] = field(default_factory=list)  # the analysed terms behind ``words``, for finding cases
    neighbours: list[tuple[str, float]] = field(default_factory=list)  # closest texts by meaning (key, similarity)
    by_meaning: bool = False


# --- training data -----------------------------------------------------------------------------------------
def text_features(text: str) -> Counter:
    analyzer = get_analyzer()
    synonyms = builtin_synonym_table()
    stems = [t.sv for t in analyzer.tokens(text)]
    expansions = [analyzer.stems(p) for _start, _end, phrases in synonyms.matches(stems) for p in phrases]
    return features(analyzer, text, expansions)


def seed_examples() -> list[tuple[str, str]]:
    rows = []
    for line in SEED_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _, text = line.partition("\t")
            rows.append((label.strip(), text.strip()))
    return rows


def meaning_text(*parts: str) -> str:
    """What the semantic voter embeds of a text: its first ``ROUTING_WORDS`` words."""
    return " ".join(" ".join(p for p in parts if p).split()[:ROUTING_WORDS])


def training_examples():
    """An ``Example`` for everything the model learns from. An article and its translation form one group, so
    in cross-validation neither scores the other."""
    for article in db.session.scalars(select(Article).where(Article.status == "published")):
        text = " ".join([article.title] * 3 + article.tags * 2 + [article.summary, markdown_to_text(article.body)])
        yield Example(text_features(text), article.function.slug, ARTICLE_WEIGHT,
                      f"article:{article.translation_key or article.id}",
                      meaning_text(f"{article.title}.", article.summary, ", ".join(article.tags)),
                      f"article:{article.id}")
    for n, (label, text) in enumerate(seed_examples()):
        yield Example(text_features(text), label, SEED_WEIGHT, None, meaning_text(text), f"seed:{n}")
    rerouted = set(db.session.scalars(select(TicketEvent.ticket_id).where(TicketEvent.kind == "reroute")))
    cases = db.session.execute(
        select(Ticket.id, Ticket.subject, Ticket.description, SupportFunction.slug)
        .join(SupportFunction, Ticket.function_id == SupportFunction.id)
        .where(Ticket.status.in_(("resolved", "closed")), Ticket.merged_into_id.is_(None),
               Ticket.anonymised_at.is_(None), SupportFunction.slug != FIRST_LINE)
        .order_by(Ticket.id.desc())
        .execution_options(yield_per=2000))
    for n, (ticket_id, subject, description, slug) in enumerate(cases):
        weight = REROUTED_WEIGHT if ticket_id in rerouted else CASE_WEIGHT
        remembered = n < CASE_EXEMPLARS
        yield Example(text_features(f"{subject} {description}"), slug, weight, f"case:{ticket_id}",
                      meaning_text(f"{subject}.", description) if remembered else None, f"case:{ticket_id}")


def training_state() -> tuple:
    """What a model trained now would have seen and aimed at (changes when articles or resolved cases change,
    when the target precision changes, or when the model file's format does)."""
    articles = db.session.scalar(select(func.max(Article.updated_at)))
    resolved = db.session.scalar(select(func.count(Ticket.id)).where(Ticket.status.in_(("resolved", "closed")),
                                                                    Ticket.anonymised_at.is_(None)))
    reroutes = db.session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.kind == "reroute"))
    return (int(articles.timestamp()) if articles else 0, resolved or 0, reroutes or 0,
            current_app.config["LOTSEN_ROUTING_TARGET_PRECISION"], MODEL_FORMAT, embeddings.model_name())


def model_path(app=None) -> Path:
    app = app or current_app
    return Path(app.instance_path) / "routing-model.json"


def train_and_save(path: Path | None = None) -> RoutingModel:
    """Train from scratch on everything there is (reusing the vectors of texts the last model embedded),
    calibrate it for the target precision and write the file."""
    path = path or model_path()
    embedding_model = embeddings.model_name()
    previous = None
    if embedding_model and path.exists():
        try:
            old = RoutingModel.load(path)
            previous = old.exemplars if old.embedding_model == embedding_model else None
        except (OSError, ValueError):
            previous = None
    model = RoutingModel.train(training_examples(), current_app.config["LOTSEN_ROUTING_TARGET_PRECISION"],
                               embed=embeddings.embed_queries if embedding_model else None,
                               embedding_model=embedding_model, previous=previous)
    model.trained_on["state"] = list(training_state())
    model.save(path)
    return model


def retrain_if_stale(path: Path | None = None) -> bool:
    """Retrain when articles or resolved cases (re-routes included) changed since the model was trained."""
    path = path or model_path()
    if path.exists():
        try:
            stored = RoutingModel.trained_state(path)
        except (OSError, ValueError):
            stored = None
        if stored == list(training_state()):
            return False
    train_and_save(path)
    return True


# --- the model in memory, per process ------------------------------------------------------------------------
_cache: dict[str, tuple[float, RoutingModel]] = {}
_cache_lock = threading.Lock()
_training: set[str] = set()


def current_model(train_if_missing: bool = False) -> RoutingModel | None:
    """The trained model of this instance, reloaded when its file changes. Without a file, training starts in
    a background thread (or here, for command-line use) and the router falls back to the service centre."""
    path = model_path()
    key = str(path)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        if train_if_missing:
            train_and_save(path)
            mtime = path.stat().st_mtime
        else:
            _train_in_background(path)
            return None
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or cached[0] != mtime:
            cached = (mtime, RoutingModel.load(path))
            _cache[key] = cached
        return cached[1]


def _train_in_background(path: Path) -> None:
    app = current_app._get_current_object()
    with _cache_lock:
        if str(path) in _training:
            return
        _training.add(str(path))

    def run() -> None:
        try:
            with app.app_context():
                train_and_save(path)
        except Exception:
            log.exception("training the routing model failed")
        finally:
            with _cache_lock:
                _training.discard(str(path))

    threading.Thread(target=run, name="routing-training", daemon=True).start()


# --- deciding ------------------------------------------------------------------------------------------------
def active_rules() -> list[RoutingRule]:
    return list(db.session.scalars(select(RoutingRule).where(RoutingRule.is_active.is_(True))
                                   .order_by(RoutingRule.priority.desc(), RoutingRule.id)))


def add_rule(phrase: str, function_slug: str, priority: int = 0) -> RoutingRule:
    """A rule that sends questions containing ``phrase`` (any inflection) to a function."""
    if not get_analyzer().tokens(phrase):
        raise ValueError(_l("The phrase has no words that search would use. Write a more specific one."))
    rule = RoutingRule(phrase=" ".join(phrase.split())[:200], function=get_function(function_slug),
                       priority=priority)
    db.session.add(rule)
    db.session.flush()
    return rule


def delete_rule(rule_id: int | None) -> None:
    rule = db.session.get(RoutingRule, rule_id) if rule_id else None
    if rule is not None:
        db.session.delete(rule)
        db.session.flush()


def matching_rule(text: str) -> RoutingRule | None:
    """The highest-priority active rule all of whose words occur in ``text``, inflected or inside compounds
    (a rule for "förmånscykel" matches "förmånscykeln")."""
    analyzer = get_analyzer()
    present = set(analyzer.terms(text, "sv")) | {t.en for t in analyzer.tokens(text)}
    for rule in active_rules():
        words = analyzer.tokens(rule.phrase)
        if words and all(w.sv in present or (w.parts and set(w.parts) <= present) for w in words):
            return rule
    return None


def _predict(model: RoutingModel, subject: str, description: str, explain: int):
    """The model's prediction, by words first; the semantic vote joins only when the words are not sure enough
    to go straight (below the words-only threshold) and this host has the model's embedding model. A case the
    words route surely is routed in a millisecond; embedding (tens of milliseconds) is paid where it helps."""
    counts = text_features(f"{subject} {subject} {description}")
    prediction = model.predict(counts, explain=explain)
    sure = model.threshold(by_meaning=False)
    if uses_meaning(model) and (sure is None or prediction.confidence < sure):
        vector = embeddings.embed_queries([meaning_text(f"{subject}.", description)])[0]
        prediction = model.predict(counts, explain=explain, vector=vector)
    return prediction


def predict(subject: str, description: str, train_if_missing: bool = False, explain: int = 8):
    model = current_model(train_if_missing)
    if model is None:
        return None
    return _predict(model, subject, description, explain)


def readable_words(text: str, top_terms: list[tuple[str, float]], limit: int = 8) -> list[str]:
    """The words of ``text`` as it was written (lower-cased) behind the stems that weighed most: a word is
    credited with its own stems (Swedish, English, compound parts) and with the stems of synonyms it matched."""
    weight = dict(top_terms)
    if not weight or not limit:
        return []
    analyzer = get_analyzer()
    tokens = analyzer.tokens(text)
    credit: dict[str, float] = {}

    def add(token, value: float) -> None:
        if value > 0:
            surface = text[token.word.start:token.word.end].lower()
            credit[surface] = max(credit.get(surface, 0.0), value)

    for token in tokens:
        add(token, max(weight.get(stem, 0.0) for stem in (token.sv, token.en, *token.parts)))
    for start, end, phrases in builtin_synonym_table().matches([t.sv for t in tokens]):
        value = max((weight.get(stem, 0.0) for phrase in phrases for stem in analyzer.stems(phrase)), default=0.0)
        for token in tokens[start:end]:
            add(token, value)
    return [word for word, _value in sorted(credit.items(), key=lambda item: -item[1])[:limit]]


def uses_meaning(model: RoutingModel | None) -> bool:
    """Whether this host routes with the semantic vote of ``model``."""
    return bool(model is not None and model.exemplars is not None and model.embedding_model
                and model.embedding_model == embeddings.model_name())


def direct_threshold(model: RoutingModel | None, by_meaning: bool | None = None) -> float | None:
    """The confidence from which a case goes straight to the function: the explicit override, or the one the
    model picked for the target precision with or without the semantic vote (``None``: nothing goes straight)."""
    override = current_app.config.get("LOTSEN_ROUTING_MIN_CONFIDENCE")
    if override is not None:
        return override
    if model is None:
        return None
    return model.threshold(uses_meaning(model) if by_meaning is None else by_meaning)


def decide_route(category: Category | None, subject: str, description: str,
                 train_if_missing: bool = False, explain: int = 8) -> RoutingDecision:
    """Where a new case goes, how sure we are, and why."""
    if category is not None:
        return RoutingDecision(category.function, 1.0, f"category:{category.slug}")
    text = f"{subject} {description}"
    rule = matching_rule(text)
    if rule is not None:
        return RoutingDecision(rule.function, 1.0, f"rule:{rule.phrase}", rule=rule)
    model = current_model(train_if_missing)
    first_line = get_function(FIRST_LINE)
    if model is None:
        return RoutingDecision(first_line, 0.0, "model not ready: first line")
    prediction = _predict(model, subject, description, 3 * explain)
    if not prediction.label:
        return RoutingDecision(first_line, 0.0, "model not ready: first line")
    suggested = get_function(prediction.label)
    words = readable_words(text, prediction.top_terms, explain)
    threshold = direct_threshold(model, prediction.by_meaning)
    details = {"threshold": threshold, "stems": [term for term, _weight in prediction.top_terms],
               "neighbours": prediction.neighbours, "by_meaning": prediction.by_meaning}
    if threshold is None or prediction.confidence < threshold:
        return RoutingDecision(first_line, prediction.confidence, "low confidence: first line", suggested, words,
                               **details)
    return RoutingDecision(suggested, prediction.confidence, "model", suggested, words, **details)

