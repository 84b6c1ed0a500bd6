"""The reports' fixtures: the case fixtures of the tickets' tests, and leads of IT and HR."""

from datetime import UTC, datetime, timedelta

import pytest

from app.auth import services as auth_services
from app.core.db import db
from tests.tickets.conftest import calendar, create_ticket, mail_context, people  # noqa: F401 (fixtures)


@pytest.fixture
def leads(people):  # noqa: F811 (the imported fixture)
    auth_services.grant_role(people["ivar"], auth_services.Role.LEAD, "it")
    auth_services.grant_role(people["hanna"], auth_services.Role.LEAD, "hr")
    db.session.commit()
    return people


def rated(create_ticket, function, comment, assignee):  # noqa: F811
    """A case resolved an hour ago with a rating of 2 and ``comment``."""
    ticket = create_ticket(function, "erik")
    now = datetime.now(UTC)
    ticket.status, ticket.resolved_at, ticket.resolution_minutes = "resolved", now - timedelta(hours=1), 30
    ticket.rating, ticket.rating_comment, ticket.assignee = 2, comment, assignee
    db.session.commit()
    return ticket
