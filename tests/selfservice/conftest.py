"""Article factories for the self-service tests (articles written here, never the evaluation set)."""

from __future__ import annotations

import pytest

from app.core.db import db
from app.selfservice import services
from app.selfservice.search import get_index


@pytest.fixture
def create_article(app):
    """Factory: ``create_article("Glömt lösenord", body=..., function="it")`` makes a committed article,
    published unless ``status`` says otherwise, and indexed."""

    def factory(title: str, body: str = "", function: str = "it", tags=(), lang: str = "sv",
                status: str = "published", summary: str = "", slug: str | None = None, author=None):
        article = services.create_article(services.ArticleData(
            title=title, slug=slug or services.slugify(title), summary=summary, body=body, lang=lang,
            function=function, tags=list(tags), status=status,
        ), author)
        db.session.commit()
        return article

    return factory


@pytest.fixture
def corpus(create_article):
    """A small knowledge base in Swedish and English across the support functions."""
    articles = [
        create_article("Glömt lösenordet", "Återställ ditt lösenord med BankID på sidan Lösenordsbyte.",
                       "it", ["lösenord", "inloggning"]),
        create_article("Semesterväxling", "Byt semestertillägget mot fler lediga dagar. Anmäl senast i oktober.",
                       "hr", ["semester"]),
        create_article("Ansök om semester", "Sommarsemestern söker du senast den 31 mars i Självservice.",
                       "hr", ["semester", "ledighet"]),
        create_article("Din lönespecifikation", "Lönespecifikationen finns i Självservice före löneutbetalningen.",
                       "payroll", ["lönespecifikation", "lön"]),
        create_article("Lönen betalas ut den 25:e", "Löner betalas ut den 25:e varje månad.", "payroll", ["lön"]),
        create_article("Vård av sjukt barn", "Registrera frånvaron vård av barn samma dag.", "payroll",
                       ["vab", "frånvaro"]),
        create_article("Passerkort", "Tappat passerkortet? Spärra det hos säkerhetsjouren dygnet runt.",
                       "facilities", ["passerkort", "nyckel"]),
        create_article("Ramavtal och leverantörer", "Använd kommunens avtalade leverantörer i avtalskatalogen.",
                       "procurement", ["ramavtal", "leverantör"]),
        create_article("Your payslip", "Your payslip is published in Självservice three days before pay day.",
                       "payroll", ["payslip", "salary"], lang="en"),
        create_article("Utkast om skrivare", "Skrivare och utskrifter.", "it", ["skrivare"], status="draft"),
    ]
    get_index().catch_up(force=True)
    return {a.slug: a for a in articles}
