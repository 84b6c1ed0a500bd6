"""The search index read into memory: the same answers as from disk, within its budget, and in step with the
files on disk after changes and merges."""

from pathlib import Path

from app.core.text import get_analyzer
from app.selfservice.search import (
    QueryBuilder,
    SearchDocument,
    _document_fields,
    builtin_synonym_table,
    create_index,
    open_index,
    run_query,
    spelling_vocabulary,
    write_documents,
)


def doc(n: int, title: str, body: str) -> SearchDocument:
    return SearchDocument(n, f"artikel-{n}", "sv", "it", title, [], "", body)


DOCS = [doc(1, "Glömt lösenordet", "Återställ lösenordet med BankID."),
        doc(2, "Skrivaren skriver inte", "Starta om skrivaren och kontrollera papperet."),
        doc(3, "Passerkort", "Spärra ett borttappat passerkort hos säkerhetsjouren.")]


def slugs(ix, text: str) -> list[str]:
    with ix.searcher() as searcher:
        return [hit.slug for hit in run_query(searcher, text, builtin_synonym_table(), limit=10).hits]


def test_index_files_are_held_in_memory_within_the_budget(tmp_path: Path):
    ix = create_index(tmp_path / "ix")
    write_documents(ix, DOCS)
    ix.close()
    held = open_index(tmp_path / "ix", 64 * 2**20)
    from_disk = open_index(tmp_path / "ix", 0)
    for text in ("lösenord", "skrivarna", "pasrekort", "borttappat kort"):
        assert slugs(held, text) == slugs(from_disk, text)
    assert held.storage._files and not from_disk.storage._files
    on_disk = sum(f.stat().st_size for f in (tmp_path / "ix").iterdir() if f.suffix == ".seg")
    assert sum(len(data) for _key, data in held.storage._files.values()) >= on_disk
    held.close()
    from_disk.close()


def test_changes_and_merges_are_seen_and_removed_files_forgotten(tmp_path: Path):
    ix = create_index(tmp_path / "ix")
    write_documents(ix, DOCS)
    ix.close()
    ix = open_index(tmp_path / "ix", 64 * 2**20)
    assert slugs(ix, "ventilation") == []
    writer = ix.writer()
    writer.add_document(**_document_fields(doc(4, "Ventilation", "Det är kallt i rummet."), get_analyzer()))
    writer.commit(optimize=True)  # a new segment, and the old one merged away
    assert slugs(ix, "ventilation") == ["artikel-4"]
    assert slugs(ix, "lösenord") == ["artikel-1"]
    existing = {f.name for f in (tmp_path / "ix").iterdir()}
    assert set(ix.storage._files) <= existing
    ix.close()


def test_typo_candidates_are_the_words_whooshs_automaton_finds(tmp_path: Path):
    """Typo tolerance reads the vocabulary once and compares in C++; the candidates are what Whoosh's own
    Levenshtein automaton finds (same first letter, within the distance)."""
    ix = create_index(tmp_path / "ix")
    write_documents(ix, [*DOCS, doc(4, "Lönespecifikation", "Lönen och lönespecifikationen, lönerevision."),
                         doc(5, "Lösenordsbyte", "Byt lösenord, lösenorden och lösen.")])
    with ix.searcher() as searcher:
        reader = searcher.reader()
        builder = QueryBuilder(reader, get_analyzer(), builtin_synonym_table())
        for typo in ("lösenrod", "lönespecifikaton", "skrivarn", "pasrekort", "lösen"):
            maxdist = 1 if len(typo) < 8 else 2
            whoosh = set(reader.terms_within("spell", typo, maxdist, prefix=1)) - {typo}
            assert set(builder.corrections(typo, limit=100)) == whoosh, typo
        assert spelling_vocabulary(reader) is spelling_vocabulary(reader)  # read once per reader
    assert {"artikel-1", "artikel-5"} & set(slugs(ix, "lösenrod"))  # the typo still finds the password articles
    ix.close()


def test_queries_merge_their_parts_as_union_trees_not_preloaded_arrays(tmp_path: Path):
    """Whoosh preloads every match of an Or into arrays in an index under 5,000 documents; the union tree can
    skip what cannot reach the top results (half the time) and shows every term to the coordination factor."""
    from whoosh.matching import ArrayUnionMatcher

    ix = create_index(tmp_path / "ix")
    write_documents(ix, DOCS)
    with ix.searcher() as searcher:
        query, _corrected, _stems = QueryBuilder(searcher.reader(), get_analyzer(),
                                                 builtin_synonym_table()).build("glömt lösenordet skrivaren")

        def matchers(m):
            yield m
            for child in m.children():
                yield from matchers(child)

        found = list(matchers(query.matcher(searcher, searcher.context(needs_current=False))))
        assert not any(isinstance(m, ArrayUnionMatcher) for m in found)
    ix.close()
