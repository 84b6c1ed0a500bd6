"""``flask --app wsgi demo load``: demo users for every role (password ``demo``) and the support functions."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.auth import services as auth_services
from app.core.db import db, utcnow
from app.forms import services as form_services
from app.forms.registry import get_form
from app.selfservice import services as selfservice_services
from app.selfservice.models import SynonymGroup
from app.selfservice.search import get_index
from app.tickets import services as ticket_services
from app.tickets.models import Ticket
from app.tickets.routing import RoutingDecision
from app.tickets.sla import office_calendar

demo_cli = AppGroup("demo", help="Demo data for trying Lotsen out.")

DEMO_ARTICLES = Path(__file__).resolve().parent / "demo_content" / "articles"
DEMO_SYNONYMS = ("friskvård = motion = träning", "lönespec = lönebesked")
DEMO_PASSWORD = "demo"  # noqa: S105 (documented demo accounts, refused in production)

# username, display name, department, title, roles
DEMO_USERS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("erik.anstalld", "Erik Anställd", "Utbildningsförvaltningen", "Lärare", ()),
    ("anna.chef", "Anna Chef", "Vård- och omsorgsförvaltningen", "Enhetschef", ("manager",)),
    ("hanna.hr", "Hanna HR", "Kommunledningsförvaltningen", "HR-specialist", ("specialist:hr",)),
    ("lars.lon", "Lars Lön", "Kommunledningsförvaltningen", "Löneadministratör", ("specialist:payroll",)),
    ("ivar.it", "Ivar IT", "Kommunledningsförvaltningen", "IT-tekniker", ("specialist:it", "lead:it")),
    ("sara.service", "Sara Service", "Kommunledningsförvaltningen", "Servicehandläggare",
     ("specialist:servicecenter",)),
    ("lena.lokal", "Lena Lokal", "Tekniska förvaltningen", "Lokalsamordnare", ("specialist:facilities",)),
    ("ingrid.inkop", "Ingrid Inköp", "Kommunledningsförvaltningen", "Upphandlare", ("specialist:procurement",)),
    ("rita.redaktor", "Rita Redaktör", "Kommunledningsförvaltningen", "Kommunikatör",
     ("editor:hr", "editor:payroll", "editor:it")),
    ("admin", "Administratör", "Kommunledningsförvaltningen", "Systemförvaltare", ("admin",)),
    ("dora.dso", "Dora Dataskydd", "Kommunledningsförvaltningen", "Dataskyddsombud", ("auditor",)),
)


def load_demo_data() -> list[str]:
    """Create what is missing of the demo data (users, support functions, articles, synonyms) and return
    the names of the users created (idempotent)."""
    auth_services.ensure_support_functions()
    created = []
    for username, name, department, title, roles in DEMO_USERS:
        user = auth_services.get_user(username)
        if user is None:
            auth_services.create_local_user(username, DEMO_PASSWORD, name, f"{username}@lotsen.example",
                                            roles, department=department, title=title)
            created.append(username)
    selfservice_services.import_articles(DEMO_ARTICLES)
    if db.session.query(SynonymGroup).count() == 0:
        db.session.add_all(SynonymGroup(phrases=line) for line in DEMO_SYNONYMS)
    db.session.flush()
    if db.session.query(Ticket).count() == 0:
        load_demo_tickets()
    return created


# requester, category ("" = don't know), subject, description
DEMO_TICKETS = (
    ("erik.anstalld", "skrivare", "Skrivaren på plan 2 drar in flera papper",
     "Skrivaren vid personalrummet drar in flera ark samtidigt och stoppar."),
    ("erik.anstalld", "semester-ledighet", "Kan jag ta ut semester i december?",
     "Jag har fem dagar kvar och undrar om jag måste ta ut dem före årsskiftet."),
    ("anna.chef", "lon-utbetalning", "Fel OB-tillägg för en medarbetare",
     "En undersköterska i min grupp har fått för lite OB-tillägg för oktober."),
    ("erik.anstalld", "", "Vem ska jag fråga om parkeringen?", "Min parkeringsplats är upptagen varje morgon."),
)


def load_demo_tickets() -> None:
    """A few cases in different states, so the queues and "Mina ärenden" have something to show."""
    calendar = office_calendar()
    mail = ticket_services.mail_context()
    made = []
    for username, category, subject, description in DEMO_TICKETS:
        made.append(ticket_services.create_ticket(
            auth_services.get_user(username), subject, description,
            category=ticket_services.get_category(category), calendar=calendar, mail=mail))
    ivar = auth_services.get_user("ivar.it")
    ticket_services.assign(made[0], ivar, ivar)
    ticket_services.add_reply(made[0], ivar, "Hej Erik! Vi skickar en tekniker i morgon förmiddag.", public=True,
                              calendar=calendar, mail=mail)
    hanna = auth_services.get_user("hanna.hr")
    ticket_services.add_reply(made[1], hanna, "Hej Erik! Ja, upp till fem dagar kan sparas till nästa år.",
                              public=True, calendar=calendar, mail=mail)
    ticket_services.change_status(made[1], hanna, "resolved", calendar, mail)
    load_demo_history(calendar, mail)
    load_demo_orders(calendar, mail)


HISTORY_COMMENTS = ("Snabbt och vänligt, tack!", "Fick vänta länge på svar.", "Bra förklarat.", "")
HISTORY_SUBJECTS = (("it", "Skrivaren skriver inte ut"), ("it", "Kommer inte in i Teams"),
                    ("it", "Ny telefon till vikarie"), ("servicecenter", "Var hittar jag blanketten?"))


def load_demo_history(calendar, mail) -> None:
    """Six weeks of answered and rated cases, so that the reports have something to show: the same every time
    (a fixed seed), dated backwards from now."""
    rng = random.Random(7)  # noqa: S311 (demo data, not a secret)
    ivar, sara = auth_services.get_user("ivar.it"), auth_services.get_user("sara.service")
    askers = [auth_services.get_user(name) for name in ("anna.chef", "lena.lokal", "rita.redaktor")]
    now = utcnow()
    for n in range(30):
        slug, subject = HISTORY_SUBJECTS[n % len(HISTORY_SUBJECTS)]
        ticket = ticket_services.create_ticket(
            askers[n % len(askers)], subject, "Se rubriken.", category=None, calendar=calendar, mail=mail,
            decision=RoutingDecision(auth_services.get_function(slug), 1.0, "demo"))
        created = calendar.add_working_minutes(now - timedelta(days=rng.randint(1, 42)), 0)
        first, resolution = rng.randint(5, 300), rng.randint(60, 2400)
        ticket.created_at = ticket.last_activity_at = created
        ticket.assignee = ivar if slug == "it" else sara
        ticket.first_response_at = calendar.add_working_minutes(created, first)
        ticket.first_response_minutes = first
        ticket_services.set_due_dates(ticket, calendar)
        if n % 6:  # most are resolved, some still open
            ticket.status, ticket.resolution_minutes = "resolved", resolution
            ticket.resolved_at = calendar.add_working_minutes(created, resolution)
            ticket.rating, ticket.rating_comment = rng.choice((3, 4, 4, 5, 5, 2)), rng.choice(HISTORY_COMMENTS)


def load_demo_orders(calendar, mail) -> None:
    """One employment-contract order awaiting HR's review and one draft, from the documented example."""
    example = json.loads((Path(__file__).resolve().parent.parent / "docs" / "examples" /
                          "employment-contract.json").read_text(encoding="utf-8"))
    anna = auth_services.get_user("anna.chef")
    definition = get_form("employment-contract")
    base = current_app.config["LOTSEN_BASE_URL"].rstrip("/")
    form_services.submit(definition, anna, example, None, calendar, mail, lambda s: f"{base}/forms/{s.id}")
    draft = json.loads(json.dumps(example))
    draft["employee"].update(first_name="Örjan", last_name="Ås", personnummer="")
    form_services.save_draft(definition, anna, draft)


@demo_cli.command("load")
@click.option("--allow-production", is_flag=True, help="Load demo accounts even when LOTSEN_ENV=production.")
def load(allow_production: bool) -> None:
    """Load demo users (password 'demo') and support functions; safe to run again."""
    if current_app.config["LOTSEN_ENV"] == "production" and not allow_production:
        raise click.ClickException("refusing to create demo accounts in production (see --allow-production)")
    created = load_demo_data()
    db.session.commit()
    get_index().catch_up(force=True)
    click.echo(f"demo data loaded: {len(created)} new users" + (f" ({', '.join(created)})" if created else ""))
