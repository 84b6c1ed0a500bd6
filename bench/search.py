"""Search latency at 1,000 and 20,000 articles: median and p95 of 200 mixed queries, beside the same queries
on a plain default Whoosh index (StandardAnalyzer, OR query over the same fields) built in the same run.

The articles are synthetic: words drawn with a Zipf-like distribution from Lotsen's own lexicon and the
Swedish Hunspell word list, so the vocabulary is as large as a real knowledge base's. Targets (issue 3):
p95 under 30 ms at 1,000 articles and under 100 ms at 20,000.

Lotsen reads its index without mmap (``open_index``: a truncated mapped file would kill the process with
SIGBUS); the same index opened with Whoosh's default mmap is timed beside it, query by query, as ``_mmap_``.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup

from app.core.text import HUNSPELL_DICTIONARIES, _hunspell_words, _read_word_file
from app.selfservice.search import (
    SearchDocument,
    builtin_synonym_table,
    create_index,
    open_index,
    run_query,
    write_documents,
)

SIZES = (1_000, 20_000)
QUERIES = 200
FUNCTIONS = ("hr", "payroll", "it", "facilities", "procurement")
ENGLISH = ("forgot my password", "salary payment date", "parental leave", "sick child", "book a meeting room",
           "printer not working", "access card lost", "expense claim receipt", "vacation days left", "new laptop")


def vocabulary(rng: random.Random) -> list[str]:
    words = [w for w in _read_word_file("lexicon.txt") if w.isalpha()]
    for path in HUNSPELL_DICTIONARIES:
        if path.exists():
            pool = [w.lower() for w in _hunspell_words(path) if w.islower() and 4 <= len(w) <= 14]
            words += rng.sample(pool, min(30_000, len(pool)))
            break
    rng.shuffle(words)
    return words


def zipf_words(rng: random.Random, vocab: list[str], count: int) -> list[str]:
    n = len(vocab)
    return [vocab[min(n - 1, int(n ** rng.random()) - 1)] for _ in range(count)]


def documents(rng: random.Random, vocab: list[str], count: int) -> list[SearchDocument]:
    docs = []
    for i in range(count):
        title = " ".join(zipf_words(rng, vocab, rng.randint(3, 7))).capitalize()
        docs.append(SearchDocument(
            article_id=i + 1, slug=f"artikel-{i + 1}", lang="sv" if i % 6 else "en",
            function=FUNCTIONS[i % len(FUNCTIONS)], title=title, tags=zipf_words(rng, vocab, 3),
            summary=" ".join(zipf_words(rng, vocab, 12)), body_text=" ".join(zipf_words(rng, vocab, 250)),
        ))
    return docs


def typo(rng: random.Random, word: str) -> str:
    i = rng.randrange(1, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def queries(rng: random.Random, vocab: list[str]) -> list[str]:
    mid = vocab[50:5000]
    out = [rng.choice(mid) for _ in range(80)]
    out += [f"{rng.choice(mid)} {rng.choice(mid)}" for _ in range(50)]
    out += [typo(rng, w) for w in rng.sample([w for w in mid if len(w) >= 6], 30)]
    out += [rng.choice(mid[:500]) + rng.choice(mid[:500]) for _ in range(20)]
    out += [rng.choice(ENGLISH) for _ in range(QUERIES - len(out))]
    rng.shuffle(out)
    return out


def baseline_index(path: Path, docs: list[SearchDocument]):
    path.mkdir(parents=True)
    schema = Schema(slug=ID(stored=True), title=TEXT, tags=TEXT, summary=TEXT, body=TEXT)
    ix = whoosh_index.create_in(str(path), schema)
    writer = ix.writer(limitmb=128)
    for doc in docs:
        writer.add_document(slug=doc.slug, title=doc.title, tags=" ".join(doc.tags), summary=doc.summary,
                            body=doc.body_text)
    writer.commit(optimize=True)
    return ix


def timed(call, items) -> list[float]:
    for item in items[:10]:
        call(item)
    samples = []
    for item in items:
        start = time.perf_counter()
        call(item)
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def timed_pair(first, second, items) -> tuple[list[float], list[float]]:
    """Like ``timed`` for two calls, alternating which goes first, so both see the same machine load."""
    for item in items[:10]:
        first(item)
        second(item)
    samples: tuple[list[float], list[float]] = ([], [])
    for i, item in enumerate(items):
        order = ((0, first), (1, second)) if i % 2 == 0 else ((1, second), (0, first))
        for slot, call in order:
            start = time.perf_counter()
            call(item)
            samples[slot].append((time.perf_counter() - start) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    rng = random.Random(20261122)
    vocab = vocabulary(rng)
    query_set = queries(rng, vocab)
    synonyms = builtin_synonym_table()
    for size in SIZES:
        docs = documents(rng, vocab, size)
        with tempfile.TemporaryDirectory(prefix="lotsen-bench-search-") as tmp:
            started = time.perf_counter()
            base_ix = baseline_index(Path(tmp) / "baseline", docs)
            base_build = time.perf_counter() - started
            started = time.perf_counter()
            ours_ix = create_index(Path(tmp) / "lotsen")
            write_documents(ours_ix, docs)
            ours_build = time.perf_counter() - started

            ours_ix.close()
            ours_ix = open_index(Path(tmp) / "lotsen")
            mapped_ix = whoosh_index.open_dir(str(Path(tmp) / "lotsen"))  # Whoosh's default: mmap
            with base_ix.searcher() as base_searcher, ours_ix.searcher() as ours_searcher, \
                    mapped_ix.searcher() as mapped_searcher:
                parser = MultifieldParser(["title", "tags", "summary", "body"], base_ix.schema, group=OrGroup)
                base = timed(lambda q, parser=parser: list(base_searcher.search(parser.parse(q), limit=10)),
                             query_set)
                ours, mapped = timed_pair(lambda q: run_query(ours_searcher, q, synonyms, limit=10),
                                          lambda q: run_query(mapped_searcher, q, synonyms, limit=10), query_set)
            base_ix.close()
            ours_ix.close()
            mapped_ix.close()
        label = f"search_{size}"
        print(f"{label}_baseline_median_ms: {statistics.median(base):.2f}")
        print(f"{label}_baseline_p95_ms: {p95(base):.2f}")
        print(f"{label}_median_ms: {statistics.median(ours):.2f}")
        print(f"{label}_p95_ms: {p95(ours):.2f}")
        print(f"{label}_median_ratio: {statistics.median(ours) / statistics.median(base):.2f}")
        print(f"{label}_p95_ratio: {p95(ours) / p95(base):.2f}")
        print(f"{label}_mmap_median_ms: {statistics.median(mapped):.2f}")
        print(f"{label}_mmap_p95_ms: {p95(mapped):.2f}")
        print(f"{label}_p95_ratio_to_mmap: {p95(ours) / p95(mapped):.2f}")
        print(f"{label}_build_s: {ours_build:.1f}")
        print(f"{label}_baseline_build_s: {base_build:.1f}")
        print(f"{label}_build_ratio: {ours_build / base_build:.2f}", flush=True)
