import io

from sqlalchemy import select

from app.core.db import db
from app.selfservice import services
from app.selfservice.models import Article, ArticleAttachment, ArticleRevision, SearchLog, SynonymGroup
from app.selfservice.search import get_index

ARTICLE = {"title": "Nytt om VPN", "slug": "", "summary": "Kort", "body": "## Rubrik\n\nText om **VPN**.",
           "function": "it", "lang": "sv", "tags": "vpn, distansarbete", "status": "draft", "review_date": "",
           "video_url": "", "translation_of": "", "note": ""}


def test_editor_pages_need_the_editor_role(client, create_user, auth):
    create_user("karin")
    auth.login("karin")
    for path in ("/editor/articles", "/editor/articles/new", "/editor/synonyms"):
        assert client.get(path).status_code == 403
    assert client.get("/reports/self-service").status_code == 403


def test_editor_writes_previews_saves_and_publishes(client, create_user, auth):
    create_user("rita", roles=["editor:it"])
    auth.login("rita")
    preview = client.post("/editor/articles/new", data={**ARTICLE, "action": "preview"})
    html = preview.get_data(as_text=True)
    assert "Förhandsgranskning (inte sparad än)" in html and "<h2>Rubrik</h2>" in html
    assert 'value="Nytt om VPN"' in html
    assert db.session.scalar(select(Article)) is None

    response = client.post("/editor/articles/new", data={**ARTICLE, "action": "save"})
    assert response.status_code == 302
    article = db.session.scalar(select(Article))
    assert article.slug == "nytt-om-vpn" and article.status == "draft" and article.tags == ["vpn", "distansarbete"]
    assert get_index().search("vpn").hits == []

    client.post(f"/editor/articles/{article.id}", data={**ARTICLE, "slug": "nytt-om-vpn", "status": "published",
                                                         "note": "publicerad", "action": "save"})
    assert [h.slug for h in get_index().search("vpn").hits] == ["nytt-om-vpn"]
    history = client.get(f"/editor/articles/{article.id}/history").get_data(as_text=True)
    assert "publicerad" in history and "Rita" in history
    assert len(db.session.scalars(select(ArticleRevision)).all()) == 2
    old = client.get(f"/editor/articles/{article.id}/history?revision=1").get_data(as_text=True)
    assert "Version 1: Nytt om VPN" in old


def test_editor_errors_keep_the_values(client, create_user, auth, create_article):
    create_article("Finns redan", slug="finns-redan")
    create_user("rita", roles=["editor:it"])
    auth.login("rita")
    response = client.post("/editor/articles/new", data={**ARTICLE, "slug": "finns-redan", "action": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "En annan artikel använder redan den adressen." in html
    assert "Text om **VPN**." in html


def test_editor_cannot_write_for_another_function(client, create_user, auth, create_article):
    other = create_article("HR-sak", function="hr")
    create_user("rita", roles=["editor:it"])
    auth.login("rita")
    assert client.get(f"/editor/articles/{other.id}").status_code == 403
    response = client.post("/editor/articles/new", data={**ARTICLE, "function": "hr", "action": "save"})
    assert response.status_code == 400
    assert db.session.scalar(select(Article).where(Article.title == "Nytt om VPN")) is None


def test_video_links_only_from_allowed_hosts(client, create_user, auth):
    create_user("rita", roles=["editor:it"])
    auth.login("rita")
    bad = client.post("/editor/articles/new", data={**ARTICLE, "video_url": "https://evil.example/x",
                                                    "action": "save"})
    assert "Video kan bara bäddas in" in bad.get_data(as_text=True)
    ok = client.post("/editor/articles/new", data={**ARTICLE, "status": "published", "action": "save",
                                                   "video_url": "https://www.youtube-nocookie.com/embed/abc"})
    assert ok.status_code == 302
    page = client.get("/articles/nytt-om-vpn")
    assert "frame-src https://www.youtube-nocookie.com" in page.headers["Content-Security-Policy"]
    assert '<iframe src="https://www.youtube-nocookie.com/embed/abc"' in page.get_data(as_text=True)


def test_attachments_are_checked_stored_and_served(client, create_user, auth, create_article, app):
    article = create_article("Blankett", body="Se [blanketten](attachment:blankett.pdf).", function="it")
    create_user("rita", roles=["editor:it"])
    auth.login("rita")
    url = f"/editor/articles/{article.id}/attachments"
    fake = client.post(url, data={"file": (io.BytesIO(b"<html>not a pdf"), "blankett.pdf")})
    assert fake.status_code == 302
    assert db.session.scalar(select(ArticleAttachment)) is None
    exe = client.post(url, data={"file": (io.BytesIO(b"MZ..."), "virus.exe")}, follow_redirects=True)
    assert "filer av den typen tas inte emot" in exe.get_data(as_text=True)

    assert "blankett.pdf" not in client.get("/articles/blankett").get_data(as_text=True).split("</main>")[0]
    client.post(url, data={"file": (io.BytesIO(b"%PDF-1.4 test"), "../../blankett.pdf")})
    attached = db.session.scalar(select(ArticleAttachment))
    assert attached.original_name == "blankett.pdf"
    assert attached.stored_name != "blankett.pdf"
    page = client.get("/articles/blankett").get_data(as_text=True)
    link = f"/articles/blankett/files/{attached.id}/blankett.pdf"
    assert f'href="{link}"' in page
    served = client.get(link)
    assert served.data == b"%PDF-1.4 test" and served.mimetype == "application/pdf"

    client.post(f"/editor/articles/{article.id}/attachments/{attached.id}/delete")
    assert client.get(link).status_code == 404
    assert link not in client.get("/articles/blankett").get_data(as_text=True)  # the kept list follows the change


def test_videos_upload_and_play(client, create_user, auth, create_article):
    article = create_article("Film", function="it")
    create_user("rita", roles=["editor:it"])
    auth.login("rita")
    webm = b"\x1a\x45\xdf\xa3" + b"\x00" * 64
    client.post(f"/editor/articles/{article.id}/attachments", data={"file": (io.BytesIO(webm), "instruktion.webm")})
    html = client.get("/articles/film").get_data(as_text=True)
    assert "<video controls" in html


def test_synonym_list_is_edited_and_validated(client, create_user, auth, corpus):
    create_user("rita", roles=["editor:hr"])
    auth.login("rita")
    bad = client.post("/editor/synonyms", data={"synonyms": "ledig för barn = föräldraledighet\nbara ett ord"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Rad 2" in html and "bara ett ord" in html
    assert db.session.scalar(select(SynonymGroup)) is None
    client.post("/editor/synonyms", data={"synonyms": "knasig dator = glömt lösenordet"})
    assert "glomt-losenordet" in [h.slug for h in get_index().search("knasig dator").hits]
    assert "knasig dator = glömt lösenordet" in client.get("/editor/synonyms").get_data(as_text=True)


def test_insights_show_zero_results_no_clicks_and_no_votes(client, create_user, auth, corpus):
    reader = create_user("karin")
    services.log_search("blåbärspaj", 0, reader)
    services.log_search("passerkort", 3, None)
    services.record_feedback(corpus["passerkort"], reader, False, "Numret stämmer inte")
    db.session.commit()
    create_user("lena", roles=["specialist:facilities"])
    auth.login("lena")
    html = client.get("/reports/self-service").get_data(as_text=True)
    assert "blåbärspaj" in html
    assert "passerkort" in html
    assert "Numret stämmer inte" in html
    assert db.session.scalar(select(SearchLog).where(SearchLog.normalized == "blåbärspaj")).result_count == 0
