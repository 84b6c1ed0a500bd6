from tests.tickets.conftest import calendar, create_ticket, mail_context, people  # noqa: F401 (fixtures)
