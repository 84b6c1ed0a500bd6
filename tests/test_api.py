"""The JSON API: public reads with ETags, JSON errors, CORS for allowed origins, rate limits, login-only parts."""

import re

from app.core.db import db
from app.core.extensions import limiter
from app.selfservice import services as articles
from app.selfservice.search import get_index
from app.tickets import services as tickets


def _articles():
    for title, function in (("Glömt lösenordet", "it"), ("Lönespecifikation", "payroll"), ("Passerkort", "facilities")):
        articles.create_article(articles.ArticleData(title, articles.slugify(title), "Kort.", title, "sv", function,
                                                     ["tagg"], "published"), None)
    db.session.commit()
    get_index().catch_up(force=True)


def test_openapi_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/search" in spec["paths"] and "/cases" in spec["paths"]


def test_search_and_articles_are_public_with_etags(client, app):
    _articles()
    found = client.get("/api/v1/search?q=lösenord").get_json()
    assert found["results"][0]["slug"] == "glomt-losenordet" and found["results"][0]["url"].endswith(
        "/articles/glomt-losenordet")
    response = client.get("/api/v1/articles?function=payroll")
    assert [a["slug"] for a in response.get_json()["articles"]] == ["lonespecifikation"]
    etag = response.headers["ETag"]
    assert client.get("/api/v1/articles?function=payroll", headers={"If-None-Match": etag}).status_code == 304
    assert "public" in response.headers["Cache-Control"]


def test_notices_appear_and_expire(client, create_user, app):
    ivar = create_user("ivar", roles=["specialist:it"])
    notice = tickets.publish_notice(tickets.get_function("it"), ivar, "E-posten fungerar inte just nu", "", 4)
    db.session.commit()
    assert client.get("/api/v1/notices?function=it").get_json()["notices"][0]["title"] == \
        "E-posten fungerar inte just nu"
    tickets.expire_notice(notice, ivar)
    db.session.commit()
    assert client.get("/api/v1/notices").get_json()["notices"] == []
    assert client.get("/api/v1/notices?function=okand").status_code == 404


def test_errors_are_json(client):
    response = client.get("/api/v1/finns-inte")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/me/cases").get_json()["error"]["code"] == "login_required"


def test_cors_only_for_allowed_origins(make_app):
    app = make_app(LOTSEN_WIDGET_ORIGINS=["https://intranat.kommun.example"])
    client = app.test_client()
    allowed = client.get("/api/v1/articles", headers={"Origin": "https://intranat.kommun.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://intranat.kommun.example"
    other = client.get("/api/v1/articles", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_anonymous_callers_are_rate_limited(make_app):
    app = make_app(LOTSEN_RATELIMIT_ENABLED=True, LOTSEN_API_ANONYMOUS_LIMIT="3 per minute")
    limiter.reset()
    client = app.test_client()
    codes = [client.get("/api/v1/articles").status_code for _ in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    assert client.get("/api/v1/articles").get_json()["error"]["code"] == "too_many_requests"


def test_asking_through_the_api_needs_login_and_csrf(make_app, create_user):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        from app.auth.services import create_local_user

        create_local_user("erik", "ett-bra-losenord", email="erik@kommun.example")
        db.session.commit()
    client = app.test_client()
    assert client.post("/api/v1/cases", json={"subject": "x", "description": "y"}).status_code == 401
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "erik", "password": "ett-bra-losenord", "csrf_token": token})
    assert client.post("/api/v1/cases", json={"subject": "x", "description": "y"}).status_code == 400
    frame = client.get("/widgets/frame/ask").get_data(as_text=True)
    csrf = re.search(r'"csrf": "([^"]+)"', frame).group(1)
    created = client.post("/api/v1/cases", json={"subject": "Skrivaren", "description": "Den är trasig",
                                                 "token": "w1"}, headers={"X-CSRFToken": csrf})
    assert created.status_code == 201 and created.get_json()["number"].startswith("LOT-")
    again = client.post("/api/v1/cases", json={"subject": "Skrivaren", "description": "Den är trasig",
                                               "token": "w1"}, headers={"X-CSRFToken": csrf})
    assert again.get_json()["number"] == created.get_json()["number"]  # a resent widget form makes no second case
    cases = client.get("/api/v1/me/cases").get_json()["cases"]
    assert [c["number"] for c in cases] == [created.get_json()["number"]]


def test_widget_frames_may_be_framed_only_by_allowed_origins(make_app, client):
    app = make_app(LOTSEN_WIDGET_ORIGINS=["https://intranat.kommun.example"])
    frame = app.test_client().get("/widgets/frame/search?parent=https://intranat.kommun.example&lang=en")
    csp = frame.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://intranat.kommun.example" in csp
    assert "X-Frame-Options" not in frame.headers
    html = frame.get_data(as_text=True)
    assert '<html lang="en">' in html and "https://intranat.kommun.example" in html
    stranger = app.test_client().get("/widgets/frame/search?parent=https://evil.example").get_data(as_text=True)
    assert "evil.example" not in stranger  # an unknown parent gets no messages
    assert client.get("/login").headers["X-Frame-Options"] == "DENY"
    assert app.test_client().get("/widgets/frame/nope").status_code == 404


def test_the_loader_is_small(client):
    import gzip

    script = client.get("/widgets/embed.js")
    assert script.mimetype == "text/javascript" and len(gzip.compress(script.data)) < 5 * 1024
