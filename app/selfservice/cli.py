"""``flask --app wsgi articles ...`` and ``flask --app wsgi search ...``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from app.core.db import db
from app.selfservice import services
from app.selfservice.search import get_index

articles_cli = AppGroup("articles", help="Import and export self-study articles.")
search_cli = AppGroup("search", help="The search index.")


@articles_cli.command("import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(folder: Path) -> None:
    """Create or update articles from Markdown files with YAML front matter (upsert by slug)."""
    created, updated, problems = services.import_articles(folder)
    db.session.commit()
    get_index().catch_up(force=True)
    for problem in problems:
        click.echo(f"skipped {problem}", err=True)
    click.echo(f"imported {created} new and {updated} changed articles from {folder}")
    if problems and not (created or updated):
        sys.exit(1)


@articles_cli.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def export_command(folder: Path) -> None:
    """Write every article to FOLDER as <slug>.md with YAML front matter."""
    click.echo(f"exported {services.export_articles(folder)} articles to {folder}")


@search_cli.command("reindex")
def reindex_command() -> None:
    """Rebuild this host's search index from the database (several at once take turns; searches keep
    using the old index until the new one is swapped in)."""
    with click.progressbar(length=1, label="Indexing articles") as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        index = get_index()
        count = index.rebuild(progress)
    click.echo(f"indexed {count} published articles")
    if index.semantic_model() is None:
        click.echo("no embedding model (LOTSEN_EMBEDDING_MODEL off or not loadable): words only")
        return
    with click.progressbar(length=1, label="Embedding articles") as bar:
        def embed_progress(done: int, total: int) -> None:
            bar.length = max(total, 1)
            bar.update(done - bar.pos)

        embedded = index.semantic.rebuild(embed_progress)
    click.echo(f"embedded {embedded} published articles with {index.semantic_model()}")


@search_cli.command("batch")
@click.option("--limit", default=10, show_default=True)
def batch_command(limit: int) -> None:
    """Read queries from stdin (one a line); print one JSON line per query with the best articles."""
    index = get_index()
    index.catch_up(force=True)  # also computes missing embeddings, so every query sees the fused ranking
    for line in sys.stdin:
        query = line.rstrip("\n")
        result = index.search(query, limit=limit) if query.strip() else None
        hits = [{"slug": h.slug, "score": h.score} for h in result.hits] if result else []
        click.echo(json.dumps({"query": query, "results": hits}, ensure_ascii=False))
