import re

from sqlalchemy import select

from app.core.db import db
from app.selfservice.models import ArticleFeedback, SearchLog


def test_start_page_has_search_topics_popular_and_recent(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    html = client.get("/").get_data(as_text=True)
    assert 'role="search"' in html
    assert '<label for="q" class="search-label">Vad behöver du hjälp med?</label>' in html
    for topic in ("Lön", "Semester och ledighet", "Anställning", "IT och telefoni", "Lokaler", "Inköp"):
        assert f">{topic}</a>" in html
    assert "Populära artiklar" in html and "Senast uppdaterade" in html
    assert "Passerkort" in html
    assert "Utkast om skrivare" not in html


def test_search_page_shows_highlighted_results_and_logs(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    html = client.get("/search?q=glömt+lösenordet").get_data(as_text=True)
    assert "Glömt lösenordet" in html
    assert "<mark>lösenord</mark>" in html
    assert "1 artikel hittades" in html or "artiklar hittades" in html
    entry = db.session.scalar(select(SearchLog))
    assert entry.query == "glömt lösenordet" and entry.result_count >= 1


def test_search_escapes_the_query(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    html = client.get("/search?q=<script>alert(1)</script>").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "Inga artiklar hittades för ”&lt;script&gt;alert(1)&lt;/script&gt;”" in html


def test_did_you_mean(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    html = client.get("/search?q=pasrekort").get_data(as_text=True)
    assert "Menade du" in html and "passerkort</a>?" in html


def test_live_search_returns_a_fragment_and_coalesces_keystrokes(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    for typed in ("pas", "pass", "passer", "passerk"):
        response = client.get(f"/search/live?q={typed}")
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment
    assert "Passerkort" in fragment
    logs = db.session.scalars(select(SearchLog)).all()
    assert len(logs) == 1 and logs[0].query == "passerk" and logs[0].source == "live"


def test_filters_on_the_search_page(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    html = client.get("/search?q=lön&function=hr").get_data(as_text=True)
    assert "Inga artiklar hittades" in html
    html = client.get("/search?q=payslip&lang=en").get_data(as_text=True)
    assert "Your payslip" in html


def test_article_page_counts_views_and_marks_the_search_clicked(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    results = client.get("/search?q=passerkort").get_data(as_text=True)
    link = re.search(r'href="(/articles/passerkort\?[^"]+)"', results).group(1).replace("&amp;", "&")
    html = client.get(link).get_data(as_text=True)
    assert "<h1>Passerkort</h1>" in html
    assert "Hjälpte det här?" in html
    db.session.expire_all()
    assert corpus["passerkort"].view_count == 1
    assert db.session.scalar(select(SearchLog)).clicked_article_id == corpus["passerkort"].id


def test_drafts_are_hidden_from_readers_but_shown_to_editors(client, create_user, auth, corpus):
    create_user("karin")
    create_user("redaktor.it", roles=["editor:it"])
    auth.login("karin")
    assert client.get("/articles/utkast-om-skrivare").status_code == 404
    auth.logout()
    auth.login("redaktor.it")
    html = client.get("/articles/utkast-om-skrivare").get_data(as_text=True)
    assert "Artikeln är inte publicerad" in html


def test_feedback_yes_no_with_comment_and_change_of_mind(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    response = client.post("/articles/passerkort/feedback", data={"helpful": "no", "comment": "Fel nummer"})
    assert response.status_code == 302
    client.post("/articles/passerkort/feedback", data={"helpful": "yes", "comment": ""})
    rows = db.session.scalars(select(ArticleFeedback)).all()
    assert len(rows) == 1 and rows[0].is_helpful is True
    assert "Du svarade: Ja" in client.get("/articles/passerkort").get_data(as_text=True)


def test_feedback_without_an_answer_keeps_the_comment(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    response = client.post("/articles/passerkort/feedback", data={"comment": "Min kommentar"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Välj ja eller nej." in html and "Min kommentar" in html


def test_topic_page_lists_articles_of_the_topic(client, create_user, auth, corpus):
    create_user("karin")
    auth.login("karin")
    html = client.get("/topics/semester-och-ledighet").get_data(as_text=True)
    assert "Semesterväxling" in html and "Ansök om semester" in html
    assert "Passerkort" not in html
    html = client.get("/topics/lokaler").get_data(as_text=True)
    assert "Passerkort" in html
    assert client.get("/topics/finns-inte").status_code == 404


def test_article_body_is_sanitised(client, create_user, auth, create_article):
    create_article("Farlig", body="Hej <script>alert(1)</script> [x](javascript:alert(1)) "
                                  '<img src=x onerror="alert(1)">', function="it")
    create_user("karin")
    auth.login("karin")
    html = client.get("/articles/farlig").get_data(as_text=True)
    body = html.split('class="article-body">')[1].split("</div>")[0]
    assert "<script" not in body and "javascript:" not in body and "onerror" not in body


def test_translations_link_to_each_other(client, create_user, auth, app):
    from app.selfservice import services

    sv = services.create_article(services.ArticleData("Lön", "lon-sv", "", "", "sv", "payroll", [], "published"),
                                 None)
    services.create_article(services.ArticleData("Salary", "salary-en", "", "", "en", "payroll", [], "published",
                                                 translation_of="lon-sv"), None)
    db.session.commit()
    create_user("karin")
    auth.login("karin")
    assert 'href="/articles/salary-en" lang="en"' in client.get(f"/articles/{sv.slug}").get_data(as_text=True)
    assert 'href="/articles/lon-sv" lang="sv"' in client.get("/articles/salary-en").get_data(as_text=True)


def test_readers_need_to_log_in(client, corpus):
    assert client.get("/search?q=lön").status_code == 302
    assert client.get("/articles/passerkort").status_code == 302


def test_a_heading_repeating_the_title_is_not_shown_twice(client, create_user, auth, create_article):
    create_article("Sjuklön", body="# Sjuklön\n\nText.\n\n# Mer\n\nMer text.", function="payroll")
    create_user("karin")
    auth.login("karin")
    html = client.get("/articles/sjuklon").get_data(as_text=True)
    assert html.count("Sjuklön</h") == 1
    assert "<h2>Mer</h2>" in html


def test_the_article_vote_shows_the_earlier_answer_chosen(client, create_user, auth, corpus):
    create_user("erik")
    auth.login("erik")
    client.post("/articles/passerkort/feedback", data={"helpful": "no", "comment": "Saknar telefonnummer"})
    page = client.get("/articles/passerkort").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="no"|<input[^>]*value="no"[^>]*checked', page)
    assert not re.search(r'<input[^>]*checked[^>]*value="yes"|<input[^>]*value="yes"[^>]*checked', page)
    assert "Saknar telefonnummer</textarea>" in page
