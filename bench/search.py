"""Search latency at 1,000 and 20,000 articles: median and p95 of 200 mixed queries, beside the same queries
on a plain default Whoosh index (StandardAnalyzer, OR query over the same fields) built in the same run.

The articles are synthetic: words drawn with a Zipf-like distribution from Lotsen's own lexicon and the
Swedish Hunspell word list, so the vocabulary is as large as a real knowledge base's. Targets (issue 3):
p95 under 30 ms at 1,000 articles and under 100 ms at 20,000.

Lotsen reads its index without mmap (``open_index``: a truncated mapped file would kill the process with
SIGBUS); the same index opened with Whoosh's default mmap is timed beside it, query by query, as ``_mmap_``.

Semantic part (issue 11; targets: p95 under 40 ms at 1,000 articles and under 150 ms at 20,000 with it on):
``_fused_`` is what ``SearchIndex.search`` does with a model: the words-only ranking read 50 deep while another
thread embeds the question (never cached here, so every query pays for the model), the best-passage ranking over the
in-memory matrix, and the fusion. It is timed query by query beside today's words-only ranking (``_words_``) and
reported as ratios to it and to plain Whoosh. Embedding 20,000 synthetic articles would take hours on this CPU, so
the matrix holds random unit vectors with the passage count real embedding gives (the product and the ranking cost
the same whatever the numbers are); the embedding speed is measured on real passages of a sample of articles
(``embed_1000_articles_s`` extrapolates from it) and per new revision of one article. ``model_rss_mb`` is the
resident memory of a fresh process with the app imported and the model loaded and used, beside one without it.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from whoosh import index as whoosh_index
from whoosh.fields import ID, TEXT, Schema
from whoosh.qparser import MultifieldParser, OrGroup

from app.core import embeddings
from app.core.text import HUNSPELL_DICTIONARIES, _hunspell_words, _read_word_file
from app.selfservice.search import (
    FUSION_DEPTH,
    SearchDocument,
    builtin_synonym_table,
    create_index,
    fuse,
    open_index,
    run_query,
    write_documents,
)
from app.selfservice.semantic import _Matrix, article_passages, rank_articles

SIZES = tuple(int(n) for n in os.environ.get("LOTSEN_BENCH_SEARCH_SIZES", "1000,20000").split(","))
EMBEDDER = ThreadPoolExecutor(max_workers=1)
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


def passages_of(doc: SearchDocument) -> list[str]:
    return article_passages(doc.title, doc.summary, doc.tags, doc.body_text)


def synthetic_matrix(rng: random.Random, docs: list[SearchDocument], dim: int) -> _Matrix:
    """Random unit vectors in the shape real embeddings of ``docs`` would have (see the module docstring)."""
    counts = np.array([len(passages_of(doc)) for doc in docs])
    vectors = np.random.default_rng(rng.randrange(2**32)).standard_normal((int(counts.sum()), dim), np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return _Matrix(vectors, np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
                   np.array([d.article_id for d in docs]), [d.slug for d in docs],
                   np.array([d.lang for d in docs], dtype=object), np.array([d.function for d in docs], dtype=object),
                   ())


RSS_SCRIPT = """
import sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS'):
            return int(line.split()[1]) / 1024
from app import create_app
from app.core import embeddings
app = create_app({'LOTSEN_ENV': 'testing', 'LOTSEN_INSTANCE_PATH': sys.argv[1], 'LOTSEN_SECRET_KEY': 'x' * 32})
before = rss()
if sys.argv[2] == 'model':
    with app.app_context():
        embeddings.embed_queries(['hur byter jag lösenord'])
        embeddings.embed_passages(['Glömt lösenordet. ' + 'ord ' * 100] * 4)
print(before, rss())
"""


def model_memory() -> tuple[float, float]:
    """RSS (MB) of a fresh process with the app imported, and of one that also loaded and used the model."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory(prefix="lotsen-bench-rss-") as tmp:
        plain = subprocess.run([sys.executable, "-c", RSS_SCRIPT, tmp, "none"], capture_output=True, text=True,
                               check=True).stdout.split()
        loaded = subprocess.run([sys.executable, "-c", RSS_SCRIPT, tmp, "model"], capture_output=True, text=True,
                                check=True).stdout.split()
    return float(plain[1]), float(loaded[1])


def semantic_main(rng: random.Random, vocab: list[str], query_set: list[str]) -> None:
    """The semantic figures (see the module docstring); the model runs as in a worker (one thread)."""
    model = embeddings.load(embeddings.DEFAULT_MODEL)
    if model is None:
        print("semantic: model unavailable, skipped")
        return
    embeddings.embed_queries(["uppvärmning"])
    sample = documents(rng, vocab, 12)
    started = time.perf_counter()
    passages = [p for doc in sample for p in passages_of(doc)]
    embeddings.embed_passages(passages)
    per_article = (time.perf_counter() - started) / len(sample)
    print(f"embed_passages_per_article: {len(passages) / len(sample):.1f}")
    print(f"embed_1000_articles_s: {per_article * 1000:.0f}  (extrapolated from {len(sample)} articles)")
    revision = documents(rng, vocab, 1)[0]
    started = time.perf_counter()
    embeddings.embed_passages(passages_of(revision))
    print(f"embed_per_revision_s: {time.perf_counter() - started:.2f}")
    embed = timed(lambda q: embeddings.embed_queries([q]), query_set[:60])
    print(f"embed_query_median_ms: {statistics.median(embed):.2f}")
    print(f"embed_query_p95_ms: {p95(embed):.2f}")
    plain_rss, model_rss = model_memory()
    print(f"app_rss_mb: {plain_rss:.0f}")
    print(f"model_rss_mb: {model_rss:.0f}")
    print(f"model_rss_extra_mb: {model_rss - plain_rss:.0f}", flush=True)


def main() -> None:
    rng = random.Random(20261122)
    vocab = vocabulary(rng)
    query_set = queries(rng, vocab)
    synonyms = builtin_synonym_table()
    model = embeddings.load(embeddings.DEFAULT_MODEL)
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
                if model is not None:
                    matrix = synthetic_matrix(rng, docs, model.dim)

                    embed = embeddings.query_embedder()

                    def fused(q, searcher=ours_searcher, matrix=matrix, embed=embed):
                        vector = EMBEDDER.submit(embed, q)  # as SearchIndex.search: beside the words
                        lexical = run_query(searcher, q, synonyms, limit=FUSION_DEPTH)
                        return fuse(lexical, rank_articles(matrix, vector.result(), FUSION_DEPTH), 10)

                    probe = matrix.vectors[0].copy()

                    def matrix_only(q, matrix=matrix, vector=probe):
                        return rank_articles(matrix, vector, FUSION_DEPTH)

                    words, with_meaning = timed_pair(lambda q: run_query(ours_searcher, q, synonyms, limit=10), fused,
                                                     query_set)
                    dense = timed(matrix_only, query_set)
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
        if model is not None:
            print(f"{label}_words_p95_ms: {p95(words):.2f}")
            print(f"{label}_fused_median_ms: {statistics.median(with_meaning):.2f}")
            print(f"{label}_fused_p95_ms: {p95(with_meaning):.2f}")
            print(f"{label}_fused_p95_ratio_to_words: {p95(with_meaning) / p95(words):.2f}")
            print(f"{label}_fused_p95_ratio_to_baseline: {p95(with_meaning) / p95(base):.2f}")
            print(f"{label}_matrix_passages: {matrix.vectors.shape[0]}")
            print(f"{label}_matrix_mb: {matrix.vectors.nbytes / 2**20:.0f}")
            print(f"{label}_matrix_rank_p95_ms: {p95(dense):.2f}", flush=True)
    semantic_main(rng, vocab, query_set)
