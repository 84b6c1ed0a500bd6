import json
from collections import Counter

from sqlalchemy import select

from app.core.db import db
from app.tickets import routing
from app.tickets.models import Ticket
from app.tickets.routing_model import RoutingModel, features


def test_model_learns_and_explains():
    from app.core.text import get_analyzer

    analyzer = get_analyzer()
    data = [("lösenord konto inloggning dator", "it"), ("skrivare utskrift papper", "it"),
            ("lön utbetalning skatt lönespecifikation", "payroll"), ("semester ledighet föräldraledig", "hr")]
    model = RoutingModel.train((features(analyzer, text), label, 1.0) for text, label in data)
    prediction = model.predict(features(analyzer, "Jag har glömt lösenordet till datorn"), explain=3)
    assert prediction.label == "it" and 0 < prediction.confidence <= 1
    assert prediction.top_terms and prediction.top_terms[0][1] > 0
    assert model.predict(Counter({"okäntord": 1})).confidence == 0.0


def test_questions_route_from_the_articles_with_no_training_step(app, corpus_for_routing):
    decision = routing.decide_route(None, "Lönen", "Min lön har inte kommit och lönespecifikationen saknas",
                                    train_if_missing=True)
    # fifteen one-line articles cannot prove 95 % precision in cross-validation: the suggestion is right, and
    # the case waits for the service centre (test_routing_calibration.py covers routing straight)
    assert decision.suggested.slug == "payroll" and decision.confidence > 0.45
    assert decision.function.slug in ("payroll", "servicecenter")
    english = routing.decide_route(None, "Password", "I forgot my password and cannot log in", train_if_missing=True)
    assert english.suggested.slug == "it"
    assert "lösenord" in english.words or "password" in english.words


def test_low_confidence_goes_to_the_service_centre_with_a_suggestion(make_app, corpus_for_routing):
    strict = make_app(LOTSEN_ROUTING_MIN_CONFIDENCE=0.99)
    with strict.app_context():
        decision = routing.decide_route(None, "Fråga", "lönen", train_if_missing=True)
    assert decision.function.slug == "servicecenter" and decision.suggested.slug == "payroll"


def test_rules_come_before_the_model(app, corpus_for_routing):
    routing.add_rule("förmånscykel", "payroll", priority=5)
    routing.add_rule("cykel", "facilities", priority=1)
    db.session.commit()
    decision = routing.decide_route(None, "Förmånscyklar", "Hur funkar förmånscykeln?", train_if_missing=True)
    assert decision.function.slug == "payroll" and decision.rule.phrase == "förmånscykel"


def test_a_specialists_reroute_teaches_the_model(app, client, auth, people, create_ticket, corpus_for_routing):
    question = "Kaffemaskinen i fikarummet läcker"
    routing.retrain_if_stale()
    before = routing.predict("Kaffemaskin", question)
    auth.login("ivar")
    for n in range(4):
        ticket = create_ticket("it", "erik", subject=f"Kaffemaskin {n}", description=question)
        client.post(f"/tickets/{ticket.number}/reroute", data={"function": "facilities", "reason": "Lokalfråga"})
        db.session.expire_all()
        ticket.status = "resolved"
        db.session.commit()
    assert routing.retrain_if_stale() is True
    assert routing.retrain_if_stale() is False  # nothing new since
    after = routing.predict("Kaffemaskin", question)
    assert after.label == "facilities" and (before.label != "facilities" or after.confidence > before.confidence)


def test_dont_know_questions_are_routed_when_asked(client, auth, people, corpus_for_routing):
    routing.retrain_if_stale()
    auth.login("erik")
    client.post("/tickets/new", data={"category": "", "subject": "Skatten", "submit_token": "r1",
                                      "description": "Det drogs för mycket skatt på lönen, lönespecifikationen"})
    ticket = db.session.scalar(select(Ticket))
    assert ticket.function.slug in ("payroll", "servicecenter")
    assert ticket.suggested_function.slug == "payroll" and ticket.routing_confidence > 0


def test_service_centre_accepts_a_suggestion_with_one_click(client, auth, people, make_app, corpus_for_routing):
    routing.retrain_if_stale()
    auth.login("erik")
    client.post("/tickets/new", data={"category": "", "subject": "Hmm", "submit_token": "r2",
                                      "description": "lön"})
    ticket = db.session.scalar(select(Ticket))
    ticket.function = routing.get_function("servicecenter")
    db.session.commit()
    auth.logout()
    auth.login("sara")
    page = client.get(f"/tickets/{ticket.number}").get_data(as_text=True)
    assert "Lotsen föreslår Lön" in page
    client.post(f"/tickets/{ticket.number}/reroute", data={"function": "payroll",
                                                           "reason": "Accepterade Lotsens förslag"})
    db.session.expire_all()
    assert ticket.function.slug == "payroll"


def test_routing_admin_page_tests_text_and_edits_rules(client, auth, people, corpus_for_routing):
    routing.retrain_if_stale()
    auth.login("chef.admin")
    page = client.post("/admin/routing", data={"action": "test", "test-subject": "Lön",
                                               "test-body": "lönen är fel"}).get_data(as_text=True)
    assert "Går till" in page and "Ord som vägde tyngst" in page
    assert "Lotsen är" in page and "low confidence" not in page and "first line" not in page  # readable, not codes
    client.post("/admin/routing", data={"action": "rule", "rule-phrase": "parkeringsböter",
                                        "rule-function": "facilities", "rule-priority": "3"})
    page = client.get("/admin/routing").get_data(as_text=True)
    assert "parkeringsböter" in page
    auth.logout()
    auth.login("erik")
    assert client.get("/admin/routing").status_code == 403


def test_routing_cli_batch_and_retrain(runner, corpus_for_routing):
    assert "trained in" in runner.invoke(args=["routing", "retrain"]).output
    result = runner.invoke(args=["routing", "batch"], input="Lön\tmin lön har inte kommit\nDator\tglömt lösenordet\n")
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["function"] for line in lines] == ["payroll", "it"]
    assert all(0 <= line["confidence"] <= 1 and line["queue"] for line in lines)


def test_reroute_share_per_month(client, auth, people, create_ticket):
    for n in range(4):
        create_ticket("it", "erik", subject=f"Fråga {n}")
    ticket = create_ticket("it", "erik", subject="Fel funktion")
    auth.login("ivar")
    client.post(f"/tickets/{ticket.number}/reroute", data={"function": "facilities", "reason": "Lokaler"})
    page = client.get("/workspace/it/stats").get_data(as_text=True)
    assert "20\u00a0%" in page and "20.0" not in page  # the locale's number format


def test_deflection_counts_forms_with_suggestions_that_were_never_sent(client, auth, people, corpus_for_routing):
    from datetime import timedelta

    from app.core.db import utcnow
    from app.selfservice.models import SearchLog
    from app.selfservice.search import get_index

    get_index().catch_up(force=True)
    auth.login("erik")
    client.get("/search/live?q=lönen&ask=form-1")  # suggestions shown, question never sent
    client.get("/search/live?q=skrivare&ask=form-2")  # suggestions shown, question sent anyway
    client.post("/tickets/new", data={"category": "skrivare", "subject": "Skrivare", "description": "Trasig",
                                      "submit_token": "form-2"})
    for entry in db.session.scalars(select(SearchLog)):
        entry.created_at = utcnow() - timedelta(hours=2)
    db.session.commit()
    auth.logout()
    auth.login("hanna")
    page = client.get("/reports/self-service").get_data(as_text=True)
    assert "1 av 2 som fick se passande artiklar" in page
