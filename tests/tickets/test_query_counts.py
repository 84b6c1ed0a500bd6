"""Pages issue a fixed number of database queries whatever the length of their lists (no query per row), and the
start page's article lists come from memory until an article changes."""

from __future__ import annotations

import pytest

from app.core.db import db
from app.selfservice import services as article_services
from tests.conftest import counted_statements


def queries_for(client, path: str) -> int:
    client.get(path)  # warm: first-request work (catch-ups, caches) is not what is measured
    with counted_statements() as statements:
        assert client.get(path).status_code == 200
    return len(statements)


@pytest.mark.parametrize("path, user", [("/workspace/it", "ivar"), ("/tickets", "erik")])
def test_a_list_of_50_cases_costs_the_queries_of_a_list_of_5(client, auth, people, create_ticket, path, user):
    for n in range(5):
        create_ticket("it", "erik", subject=f"Fall {n}")
    auth.login(user)
    few = queries_for(client, path)
    for n in range(45):
        create_ticket("it", "erik" if n % 2 else "kalle", subject=f"Fler {n}")
    assert queries_for(client, path) == few


def article(title: str) -> article_services.ArticleData:
    return article_services.ArticleData(title, article_services.slugify(title), "", "Text.", "sv", "it", [],
                                        status="published")


def test_start_page_lists_come_from_memory_until_an_article_changes(client, auth, people):
    author = people["admin"]
    for n in range(3):
        article_services.create_article(article(f"Artikel {n}"), author)
    db.session.commit()
    auth.login("erik")
    client.get("/")
    with counted_statements() as statements:
        page = client.get("/").get_data(as_text=True)
    assert "Artikel 2" in page
    assert not [s for s in statements if "FROM article_tag" in s]  # the lists were not loaded again
    article_services.create_article(article("Nyss publicerad"), author)
    db.session.commit()
    assert "Nyss publicerad" in client.get("/").get_data(as_text=True)


def test_start_and_article_pages_read_only_what_changes_per_visitor(client, auth, people):
    """The start page's topics and the search filter's functions come from memory (as the article lists do); an
    article page's related articles too, until a published article changes."""
    author = people["admin"]
    for n in range(3):
        data = article(f"Artikel {n}")
        data.tags = ["gemensam"]
        article_services.create_article(data, author)
    db.session.commit()
    auth.login("erik")
    client.get("/")
    with counted_statements() as statements:
        page = client.get("/").get_data(as_text=True)
    assert "Artikel 2" in page and ">Lön</a>" in page
    assert not [s for s in statements if "FROM topic" in s or "FROM support_function" in s]
    client.get("/articles/artikel-0")
    with counted_statements() as statements:
        page = client.get("/articles/artikel-0").get_data(as_text=True)
    assert "Artikel 1" in page  # related, by the shared tag
    assert not [s for s in statements if "FROM article_tag" in s]  # the page shows no tags: none are loaded
    assert not [s for s in statements if "FROM article_attachment" in s]  # kept while the article is unchanged
    assert not [s for s in statements if "JOIN article_tag" in s]  # related articles: from memory
    changed = article("Artikel 2 omskriven")
    changed.slug, changed.tags = "artikel-2", ["gemensam"]
    article_services.update_article(article_services.get_article("artikel-2"), changed, author)
    db.session.commit()
    assert "Artikel 2 omskriven" in client.get("/articles/artikel-0").get_data(as_text=True)


@pytest.mark.parametrize("path, user, absent", [
    ("/tickets", "erik", ("ticket_category", "user_account_1")),  # no category; no requester or assignee
    ("/workspace/it", "ivar", ("ticket_category",)),
])
def test_case_lists_join_only_what_they_show(client, auth, people, create_ticket, path, user, absent):
    create_ticket("it", "erik", subject="Skrivaren")
    auth.login(user)
    client.get(path)
    with counted_statements() as statements:
        assert "Skrivaren" in client.get(path).get_data(as_text=True)
    listing = [s for s in statements if "FROM ticket" in s and "LIMIT" in s]
    assert listing and not [name for name in absent if name in listing[0]]


def test_the_request_log_line_does_not_load_the_user_again(client, auth, people):
    """The log line is written after the request's commit, which expires the user: its id comes from the identity
    map, not from a second query for the person."""
    auth.login("erik")
    client.get("/")
    with counted_statements() as statements:
        assert client.get("/").status_code == 200
    assert len([s for s in statements if "FROM user_account" in s]) == 1


def test_the_case_page_offers_every_article_without_loading_them(client, auth, people, create_ticket):
    """The specialist's "link an article" list: slugs and titles, kept per process and rendered once, so the page
    costs the same with 3 or 30 articles (it loaded 500 whole articles and rendered them option by option: 87 ms
    a page with 1,000 articles). A new article is in the list at once; a chosen one stays chosen when the form
    comes back."""
    from sqlalchemy import event

    from app.selfservice.models import Article

    author = people["admin"]
    for n in range(3):
        article_services.create_article(article(f"Artikel {n}"), author)
    ticket = create_ticket("it", "erik", subject="Skrivaren")
    auth.login("ivar")
    loaded = []

    def note(target, _context):
        loaded.append(target.slug)

    event.listen(Article, "load", note)
    try:
        path = f"/tickets/{ticket.number}"
        client.get(path)
        loaded.clear()
        page = client.get(path).get_data(as_text=True)
        few = len(loaded)
        assert '<option value="artikel-2">Artikel 2</option>' in page
        for n in range(3, 30):
            article_services.create_article(article(f"Artikel {n}"), author)
        db.session.commit()
        client.get(path)
        loaded.clear()
        page = client.get(path).get_data(as_text=True)
        assert '<option value="artikel-29">Artikel 29</option>' in page  # published since: shown at once
        assert len(loaded) == few <= 3  # at most the three suggestions are articles read from the database
    finally:
        event.remove(Article, "load", note)
    answer = client.post(f"/tickets/{ticket.number}/work", data={"body": "x" * 20_001, "article": "artikel-7"})
    assert answer.status_code == 400
    assert '<option selected value="artikel-7">Artikel 7</option>' in answer.get_data(as_text=True)
