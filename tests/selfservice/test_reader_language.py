"""Lists of articles put the reader's language first and show a translation's twin only where the reader has
no article of their own (articles written here, never the evaluation set)."""

import pytest

from app.core.db import db
from app.selfservice import queries, services
from app.selfservice.search import get_index


@pytest.fixture
def twins(app):
    def make(title, slug, lang, body, views=0, translation_of=None):
        article = services.create_article(services.ArticleData(
            title, slug, "", body, lang, "it", [], "published", translation_of=translation_of), None)
        article.view_count = views
        return article

    made = {a.slug: a for a in (
        make("Skrivarkö", "skrivarko", "sv", "Skriv ut på valfri skrivare med ditt passerkort.", views=50),
        make("Printing", "printing", "en", "Print on any printer with your access card.", views=1,
             translation_of="skrivarko"),
        make("Tvåfaktorsinloggning", "tvafaktor", "sv", "Logga in med en kod i appen.", views=40),
        make("Mobile phone", "mobile-phone", "en", "Order a mobile phone from the service desk.", views=5),
    )}
    db.session.commit()
    get_index().catch_up(force=True)
    return made


def test_popular_and_recent_put_the_readers_language_first_and_skip_twins(twins):
    assert [a.slug for a in queries.popular_articles(6, prefer_lang="en")] == ["mobile-phone", "printing",
                                                                               "tvafaktor"]
    assert [a.slug for a in queries.popular_articles(6, prefer_lang="sv")] == ["skrivarko", "tvafaktor",
                                                                               "mobile-phone"]
    assert [a.slug for a in queries.recent_articles(6, prefer_lang="en")][:2] in (["mobile-phone", "printing"],
                                                                                 ["printing", "mobile-phone"])
    assert "skrivarko" not in [a.slug for a in queries.recent_articles(6, prefer_lang="en")]
    assert len(queries.popular_articles(6)) == 4  # no reader: every language


def test_function_articles_in_the_readers_language(twins):
    slugs = [a.slug for a in queries.function_articles(twins["printing"].function_id, prefer_lang="en")]
    assert slugs == ["mobile-phone", "printing", "tvafaktor"]


def test_search_answers_with_the_readers_twin(twins):
    hits = [h.slug for h in get_index().search("skrivare passerkort", prefer_lang="en").hits]
    assert hits[0] == "printing" and "skrivarko" not in hits
    hits = [h.slug for h in get_index().search("skrivare passerkort", prefer_lang="sv").hits]
    assert hits[0] == "skrivarko" and "printing" not in hits


def test_search_shows_the_other_language_where_the_reader_has_no_article(twins):
    assert [h.slug for h in get_index().search("tvåfaktorsinloggning", prefer_lang="en").hits] == ["tvafaktor"]


def test_a_chosen_language_filter_is_kept(twins):
    assert [h.slug for h in get_index().search("skrivare passerkort", lang="sv", prefer_lang="en").hits] == [
        "skrivarko"]


def test_the_start_page_and_the_api_list_in_the_readers_language(client, create_user, auth, twins):
    create_user("karin")
    auth.login("karin")
    html = client.get("/").get_data(as_text=True)
    assert "Skrivarkö" in html and ">Printing<" not in html
    data = client.get("/api/v1/articles?lang=en&limit=5").get_json()
    assert [a["slug"] for a in data["articles"]] == ["mobile-phone", "printing", "tvafaktor"]
