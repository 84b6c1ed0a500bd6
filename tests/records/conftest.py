"""The retention tests use the cases' fixtures (people in each role, a case factory)."""

from tests.tickets.conftest import calendar, create_ticket, mail_context, people  # noqa: F401 (fixtures)
