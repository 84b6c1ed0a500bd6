"""Fixtures for cases: people in each role and a factory for cases."""

from __future__ import annotations

import pytest

from app.core.db import db
from app.tickets import services
from app.tickets.sla import WorkingCalendar


@pytest.fixture
def people(create_user):
    """An employee, a manager, and specialists in HR, IT and the service centre."""
    def person(username: str, name: str, roles=()):
        return create_user(username, roles=roles, display_name=name, email=f"{username}@kommun.example")

    return {
        "erik": person("erik", "Erik Anställd"),
        "kalle": person("kalle", "Kalle Kollega"),
        "anna": person("anna", "Anna Chef", ["manager"]),
        "hanna": person("hanna", "Hanna HR", ["specialist:hr"]),
        "hugo": person("hugo", "Hugo HR", ["specialist:hr"]),
        "ivar": person("ivar", "Ivar IT", ["specialist:it"]),
        "sara": person("sara", "Sara Service", ["specialist:servicecenter"]),
        "admin": person("chef.admin", "Adam Admin", ["admin"]),
    }


@pytest.fixture
def calendar():
    return WorkingCalendar.from_config("08:00-17:00")


@pytest.fixture
def mail_context(app):
    from flask import render_template

    return services.MailContext("http://lotsen.test", "sv", render_template)


@pytest.fixture
def create_ticket(people, calendar, mail_context):
    """Factory: ``create_ticket("it", requester="erik")`` makes a committed case in that function."""

    def factory(function: str = "it", requester: str = "erik", subject: str = "Datorn startar inte",
                description: str = "Den blinkar bara.", category: str | None = None):
        category_row = services.get_category(category) if category else next(
            (c for c in services.list_categories() if c.function.slug == function), None)
        ticket = services.create_ticket(people[requester], subject, description, category=category_row,
                                        calendar=calendar, mail=mail_context)
        db.session.commit()
        return ticket

    return factory


@pytest.fixture
def corpus_for_routing(app):
    """A few published articles per function, the knowledge a new installation learns from."""
    from app.selfservice import services as articles

    texts = {
        "payroll": ["Lönen betalas ut den 25:e", "Lönespecifikation och skatt på lönen", "Milersättning och utlägg"],
        "hr": ["Semester och ledighet", "Föräldraledighet", "Uppsägningstid och anställningsavtal"],
        "it": ["Glömt lösenordet till datorn", "Skrivare och utskrift", "Teams och headset"],
        "facilities": ["Felanmälan i lokaler: värme och ventilation", "Passerkort och nycklar", "Städning"],
        "procurement": ["Ramavtal och leverantörer", "Beställa kontorsmaterial", "Direktupphandling"],
    }
    for function, titles in texts.items():
        for title in titles:
            articles.create_article(articles.ArticleData(title, articles.slugify(title), "", title, "sv", function,
                                                         [], "published"), None)
    db.session.commit()

