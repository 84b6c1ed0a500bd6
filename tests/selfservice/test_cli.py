import json

from app.selfservice import services
from app.selfservice.search import get_index

ARTICLE = """---
title: Cykelparkering
slug: cykelparkering
lang: sv
function: facilities
tags: [parkering, cykel]
summary: Var du ställer cykeln.
---

# Cykelparkering

Cykelrummet finns i källaren.
"""


def test_import_export_reindex_and_batch(runner, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    (source / "cykelparkering.md").write_text(ARTICLE, encoding="utf-8")
    (source / "trasig.md").write_text("ingen front matter", encoding="utf-8")
    result = runner.invoke(args=["articles", "import", str(source)])
    assert "imported 1 new and 0 changed" in result.output
    assert "trasig.md" in result.output
    again = runner.invoke(args=["articles", "import", str(source)])
    assert "imported 0 new and 0 changed" in again.output

    out = tmp_path / "out"
    assert "exported 1 articles" in runner.invoke(args=["articles", "export", str(out)]).output
    exported = (out / "cykelparkering.md").read_text(encoding="utf-8")
    assert exported.startswith("---\ntitle: Cykelparkering\n") and "Cykelrummet finns i källaren." in exported
    parsed = services.parse_article_file(exported, "x")
    assert parsed.tags == ["parkering", "cykel"] and parsed.function == "facilities"

    reindex = runner.invoke(args=["search", "reindex"])
    assert "indexed 1 published articles" in reindex.output

    batch = runner.invoke(args=["search", "batch"], input="cykelrum\nfinns inget sådant\n")
    lines = [json.loads(line) for line in batch.output.splitlines()]
    assert lines[0]["query"] == "cykelrum" and lines[0]["results"][0]["slug"] == "cykelparkering"
    assert isinstance(lines[0]["results"][0]["score"], float)
    assert lines[1]["results"] == []


def test_import_links_translations(runner, tmp_path):
    (tmp_path / "a.md").write_text(ARTICLE.replace("summary:", "translation_of: bike-parking\nsummary:"),
                                   encoding="utf-8")
    (tmp_path / "b.md").write_text(ARTICLE.replace("slug: cykelparkering", "slug: bike-parking")
                                   .replace("lang: sv", "lang: en").replace("title: Cykelparkering", "title: Bikes"),
                                   encoding="utf-8")
    runner.invoke(args=["articles", "import", str(tmp_path)])
    article = services.get_article("cykelparkering")
    assert [a.slug for a in services.translations_of(article)] == ["bike-parking"]
    assert get_index().search("bikes").hits
