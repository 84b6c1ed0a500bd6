"""The JSON API: public reads with ETags, JSON errors, CORS for allowed origins, rate limits, login-only parts."""

import re

import pytest

from app.core.db import db
from app.core.extensions import limiter
from app.selfservice import services as articles
from app.selfservice.search import get_index
from app.tickets import services as tickets
from app.tickets.models import Ticket


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


# --- bad input answers a clear 4xx ---------------------------------------------------------------------------
def _token(create_user, username="anna.chef", roles=("manager",)) -> dict:
    from app.auth.services import create_access_token

    token, _ = create_access_token(create_user(username, roles=list(roles), email=f"{username}@kommun.example"), "test")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def _contract() -> dict:
    import json
    from pathlib import Path

    return json.loads((Path(__file__).resolve().parent.parent / "docs/examples/employment-contract.json").read_text())


BAD_BODIES = [
    ("[1, 2]", "must be a JSON object"),
    ('"en fråga"', "must be a JSON object"),
    ("42", "must be a JSON object"),
    ("null", "must be a JSON object"),
    ("[" * 100_000, "nested too deeply"),
    ('{"a": ' * 50 + "1" + "}" * 50, "nested too deeply"),
    ("{nej}", "not valid JSON"),
    ('{"subject": NaN}', "not valid JSON"),
    (b"\xff\xfe{", "not valid JSON"),
    ('{"subject": "\\ud800"}', "not valid Unicode"),
    ("", "empty"),
]


@pytest.mark.parametrize("url", ["/api/v1/cases", "/api/v1/forms/employment-contract"])
def test_bodies_that_are_not_json_objects_answer_400(client, create_user, url):
    auth = _token(create_user)
    for body, words in BAD_BODIES:
        response = client.post(url, data=body, headers={**auth, "Content-Type": "application/json"})
        assert response.status_code == 400, (body[:20], response.status_code)
        error = response.get_json()["error"]
        assert error["code"] == "bad_request" and words in error["message"], (body[:20], error)
    huge = client.post(url, data='{"description": "' + "x" * 300_000 + '"}',
                       headers={**auth, "Content-Type": "application/json"})
    assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "request_entity_too_large"
    wrong_type = client.post(url, data={"subject": "x"}, headers=auth)  # a form post, not JSON
    assert wrong_type.status_code == 415 and wrong_type.get_json()["error"]["code"] == "unsupported_media_type"


def test_wrong_fields_of_a_question_answer_422_naming_them(client, create_user):
    auth = _token(create_user)
    cases = [
        ({"subject": 5, "description": "Hej"}, {"subject": "must be a string"}),
        ({"subject": "Hej", "description": None}, {"description": "required"}),
        ({"subject": "Hej", "description": ["a"]}, {"description": "must be a string"}),
        ({"subject": "Hej", "description": "Hej", "token": 7}, {"token": "must be a string"}),
        ({"subject": "Hej", "description": "Hej", "prio": "hög"}, {"prio": "unknown field"}),
        ({"subject": "  ", "description": "Hej"}, {"subject": "required"}),
        ({}, {"subject": "required", "description": "required"}),
        ({"subject": "Skrivaren\x00", "description": "Hej"}, {"subject": "must not contain NUL characters"}),
        ({"subject": "Rad ett\nrad två", "description": "Hej"},
         {"subject": "must be one line without control characters"}),
        ({"subject": "Hej", "description": "Trasig\x00"}, {"description": "must not contain NUL characters"}),
        ({"subject": "x" * 201, "description": "Hej"}, {"subject": "at most 200 characters"}),
        ({"subject": "Hej", "description": "x" * 20_001}, {"description": "at most 20000 characters"}),
        ({"subject": "Hej", "description": "Hej", "token": "t" * 65}, {"token": "at most 64 characters"}),
    ]
    for body, fields in cases:
        response = client.post("/api/v1/cases", json=body, headers=auth)
        assert response.status_code == 422, body
        error = response.get_json()["error"]
        assert error["code"] == "invalid" and error["fields"] == fields, (body, error)
    fine = client.post("/api/v1/cases", json={"subject": "x" * 200, "description": "Rad ett\nrad två\ttab" * 10,
                                              "token": "t" * 64}, headers=auth)
    assert fine.status_code == 201
    assert db.session.scalar(db.select(Ticket).where(Ticket.number == fine.get_json()["number"])).subject == "x" * 200


def test_wrong_fields_of_an_order_answer_422_with_their_paths(client, create_user):
    auth = _token(create_user)

    def changed(**paths):
        data = _contract()
        for path, value in paths.items():
            section, key = path.split("__")
            data[section][key] = value
        return data

    cases = [
        (changed(employee__first_name=5), {"employee.first_name": "must be a string"}),
        (changed(employee__last_name="Ö\x00berg"), {"employee.last_name": "must not contain NUL characters"}),
        (changed(pay__amount="27500"), {"pay.amount": "must be a number"}),
        (changed(pay__amount=True), {"pay.amount": "must be a number"}),
        (changed(employment__earlier_fixed_term_days=1.5),
         {"employment.earlier_fixed_term_days": "must be an integer"}),
        (changed(employment__start_date="20270104"), {"employment.start_date": "must be a date (YYYY-MM-DD)"}),
        (changed(employee__personnummer="19900101 2302"), {"employee.personnummer": "has the wrong format"}),
        (changed(position__title="x" * 201), {"position.title": "at most 200 characters"}),
        (changed(position__colour="blå"), {"position.colour": "unknown field"}),
        ({**_contract(), "extra": 1}, {"extra": "unknown section"}),
        ({**_contract(), "terms": None}, {"terms": "must be an object"}),
        ({**_contract(), "employee": [1]}, {"employee": "must be an object"}),
    ]
    for body, fields in cases:
        response = client.post("/api/v1/forms/employment-contract", json=body, headers=auth)
        assert response.status_code == 422, fields
        error = response.get_json()["error"]
        assert error["code"] == "invalid" and error["fields"] == fields, error
    # the form's own rules still speak for the values
    rules = client.post("/api/v1/forms/employment-contract", json=changed(pay__amount=5), headers=auth)
    assert rules.status_code == 422 and "pay.amount" in rules.get_json()["error"]["fields"]


def test_an_order_with_long_names_or_far_dates_gets_an_answer(client, create_user):
    auth = _token(create_user)
    long_names = _contract()
    long_names["employee"].update(first_name="Å" * 100, last_name="Ö" * 100)
    placed = client.post("/api/v1/forms/employment-contract", json=long_names, headers=auth)
    assert placed.status_code == 201, placed.get_json()  # the order's title is cut to its column's width
    far = _contract()
    far["employment"].update(form="provanstallning", start_date="9999-12-01", end_date="9999-12-31")
    assert client.post("/api/v1/forms/employment-contract", json=far, headers=auth).status_code in (201, 422)


def test_wrong_query_parameters_answer_400_naming_them(client):
    for query, name in [("search?q=" + "x" * 201, "q"), ("search?q=a%00b", "q"), ("search?q=rad%0Atv%C3%A5", "q"),
                        ("search?limit=0", "limit"), ("search?limit=abc", "limit"), ("search?limit=", "limit"),
                        ("search?limit=3&limit=4", "limit"), ("search?lang=de", "lang"), ("search?ask=a%00", "ask"),
                        ("articles?sort=oldest", "sort"), ("articles?function=IT%00", "function"),
                        ("notices?function=%00", "function"), ("articles?tag=" + "t" * 101, "tag")]:
        response = client.get(f"/api/v1/{query}")
        assert response.status_code == 400, query
        error = response.get_json()["error"]
        assert error["code"] == "invalid_parameter" and list(error["fields"]) == [name], (query, error)
    assert client.get("/api/v1/search?q=&function=&limit=20&lang=en").status_code == 200
    assert client.get("/api/v1/articles?function=&tag=&sort=newest").status_code == 200


def test_a_method_not_allowed_says_which_are(client):
    for method, url, allowed in [("delete", "/api/v1/cases", "POST"), ("post", "/api/v1/articles", "GET"),
                                 ("put", "/api/v1/forms/employment-contract", "POST")]:
        response = getattr(client, method)(url)
        assert response.status_code == 405 and allowed in response.headers["Allow"], url
        assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "GET" in client.delete("/login").headers["Allow"]  # the pages keep it too


def test_cors_is_for_public_reads_only_and_never_with_credentials(make_app, create_user):
    origin = "https://intranat.kommun.example"
    app = make_app(LOTSEN_WIDGET_ORIGINS=[origin])
    client = app.test_client()
    auth = _token(create_user)
    for url in ("/api/v1/articles", "/api/v1/search?q=x", "/api/v1/notices", "/api/v1/openapi.json"):
        response = client.get(url, headers={"Origin": origin})
        assert response.headers["Access-Control-Allow-Origin"] == origin, url
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "Origin" in response.headers["Vary"]
    personal = [client.get("/api/v1/me/cases", headers={"Origin": origin, **auth}),
                client.post("/api/v1/cases", json={"subject": "Hej", "description": "Hej"},
                            headers={"Origin": origin, **auth}),
                client.post("/api/v1/forms/employment-contract", json=_contract(), headers={"Origin": origin, **auth}),
                client.options("/api/v1/cases", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})]
    for response in personal:
        assert not any(name.startswith("Access-Control-") for name, _ in response.headers), response.request.path


def test_the_spec_matches_what_the_api_checks(client):
    from app.api.validation import CASE, FORM_CHOICES, FORM_SECTIONS

    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    question = schemas["Question"]
    assert set(question["properties"]) == set(CASE) and question["additionalProperties"] is False
    assert {k for k, f in CASE.items() if f.required} == set(question["required"])
    for key, field in CASE.items():
        assert question["properties"][key]["maxLength"] == field.max_length
    for slug, name in (("employment-contract", "EmploymentContract"), ("employment-end", "EmploymentEnd")):
        body = schemas[name]
        assert f"/forms/{slug}" in spec["paths"] and body["additionalProperties"] is False
        assert set(body["properties"]) == set(FORM_SECTIONS[slug])
        for section, fields in FORM_SECTIONS[slug].items():
            described = body["properties"][section]
            assert set(described["properties"]) == set(fields) and described["additionalProperties"] is False
            for key, field in fields.items():
                if field.max_length:
                    assert described["properties"][key]["maxLength"] == field.max_length, (section, key)
                if f"{section}.{key}" in FORM_CHOICES:
                    assert described["properties"][key]["enum"] == list(FORM_CHOICES[f"{section}.{key}"])
    routes = {r.rule.removeprefix("/api/v1") for r in client.application.url_map.iter_rules()
              if r.endpoint.startswith("api.")}
    documented = {p if not p.startswith("/forms/") else "/forms/<slug>" for p in spec["paths"]}
    documented = {p.replace("{order_id}", "<int:order_id>") for p in documented}
    assert routes == documented
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "session"}
