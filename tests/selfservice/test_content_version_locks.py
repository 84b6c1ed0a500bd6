"""The articles' content version is one row every article change updates: on PostgreSQL its row lock must not
turn two changes that would simply have waited for each other into a deadlock."""

from __future__ import annotations

import threading
import time

import pytest

from app.core.db import db
from app.selfservice import services


def _data(title: str, slug: str) -> services.ArticleData:
    return services.ArticleData(title=title, slug=slug, summary="", body=f"{title}.", lang="sv", function="it",
                                tags=["test"], status="published")


def test_an_editor_saving_during_an_import_does_not_deadlock(app, migrated_database, tmp_path, monkeypatch):
    if not migrated_database.startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only")
    for slug in ("a-forst", "b-sedan"):
        services.create_article(_data(slug, slug), None)
    db.session.commit()
    folder = tmp_path / "import"
    folder.mkdir()
    for slug in ("a-forst", "b-sedan"):  # both changed: the import updates a-forst, then b-sedan
        (folder / f"{slug}.md").write_text(
            f"---\ntitle: {slug} importerad\nslug: {slug}\nfunction: it\ntags: [test]\n---\n\nNy text.\n",
            encoding="utf-8")

    editor_may_start, errors = threading.Event(), []
    parse = services.parse_article_file

    def parse_slowly(text, default_slug):
        if default_slug == "b-sedan":  # a-forst is saved (and the version raised) in the import's transaction
            editor_may_start.set()
            time.sleep(0.5)  # the editor's save of b-sedan has locked its row and waits for the version
        return parse(text, default_slug)

    monkeypatch.setattr(services, "parse_article_file", parse_slowly)

    def run_import():  # `flask articles import`: one transaction
        try:
            with app.app_context():
                services.import_articles(folder)
                db.session.commit()
        except Exception as exc:
            errors.append(("import", exc))

    def run_editor():  # an editor saves b-sedan meanwhile (editor_views._save_article)
        try:
            editor_may_start.wait(10)
            with app.app_context():
                article = services.get_article("b-sedan")
                services.update_article(article, _data("b-sedan redigerad", "b-sedan"), None)
                db.session.commit()
        except Exception as exc:
            errors.append(("editor", exc))

    threads = [threading.Thread(target=run_import), threading.Thread(target=run_editor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


def test_an_attachment_added_to_a_published_article_shows_in_recently_updated_at_once(app, client, create_user, auth,
                                                                                    corpus, tmp_path):
    """Adding (or removing) an attachment sets the article's ``updated_at``, which "Recently updated" orders by
    and shows; the kept lists must not show the old order."""
    import io
    import re

    from app.auth.models import User

    create_user("karin")
    auth.login("karin")
    before = client.get("/").get_data(as_text=True)
    recent = before[before.index('id="recent-title"'):]
    first = re.search(r'href="/articles/([^"]+)"', recent).group(1)
    oldest = corpus["glomt-losenordet"]
    assert first != oldest.slug
    services.add_attachment(oldest, "blankett.pdf", io.BytesIO(b"%PDF-1.4\n" + b"0" * 100),
                            db.session.scalar(db.select(User)), tmp_path, 1_000_000)
    db.session.commit()
    after = client.get("/").get_data(as_text=True)
    recent = after[after.index('id="recent-title"'):]
    assert re.search(r'href="/articles/([^"]+)"', recent).group(1) == oldest.slug
