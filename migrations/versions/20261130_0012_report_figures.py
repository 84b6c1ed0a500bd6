"""report figures kept on each case: where it first landed, how often it was moved and reopened, its working
minutes to the first answer and to the resolution; indexes for the reports

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:10:00

"""
import os
from datetime import UTC, date

from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OPEN = ("new", "open", "waiting")


def upgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_function_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reroute_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('first_response_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('resolution_minutes', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_ticket_first_function_id_support_function'), 'support_function',
                                    ['first_function_id'], ['id'])
        batch_op.create_index('ix_ticket_function_created', ['function_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ticket_function_resolved', ['function_id', 'resolved_at'], unique=False)
        batch_op.create_index('ix_ticket_created', ['created_at'], unique=False)
        batch_op.create_index('ix_ticket_resolved', ['resolved_at'], unique=False)
        batch_op.create_index('ix_ticket_open_function_created', ['function_id', 'created_at'], unique=False,
                              postgresql_where=sa.text("status IN ('new', 'open', 'waiting')"),
                              sqlite_where=sa.text("status IN ('new', 'open', 'waiting')"))
    _backfill()


def _backfill():
    """The figures of the cases there are, from their events, with the calendar the service levels use now."""
    from app.tickets.sla import WorkingCalendar

    bind = op.get_bind()
    hours = bind.execute(sa.text("SELECT value FROM desk_setting WHERE key = 'office_hours'")).scalar()
    closed = frozenset(day if isinstance(day, date) else date.fromisoformat(day)
                       for (day,) in bind.execute(sa.text("SELECT day FROM closing_day")))
    calendar = WorkingCalendar.from_config(hours or os.environ.get("LOTSEN_OFFICE_HOURS", "08:00-17:00"), closed)
    slugs = dict(bind.execute(sa.text("SELECT slug, id FROM support_function")).all())
    ticket = sa.table('ticket', sa.column('id'), sa.column('function_id'), sa.column('status'),
                      sa.column('created_at', app.core.db.UTCDateTime()),
                      sa.column('first_response_at', app.core.db.UTCDateTime()),
                      sa.column('resolved_at', app.core.db.UTCDateTime()),
                      sa.column('closed_at', app.core.db.UTCDateTime()), sa.column('paused_minutes'),
                      sa.column('first_function_id'), sa.column('reroute_count'), sa.column('reopen_count'),
                      sa.column('first_response_minutes'), sa.column('resolution_minutes'))
    event = sa.table('ticket_event', sa.column('ticket_id'), sa.column('kind'), sa.column('data', sa.JSON()),
                     sa.column('id'))
    moves: dict[int, list] = {}
    for ticket_id, kind, data in bind.execute(sa.select(event.c.ticket_id, event.c.kind, event.c.data).where(
            event.c.kind.in_(("reroute", "status"))).order_by(event.c.id)):
        moves.setdefault(ticket_id, []).append((kind, data or {}))
    rows = bind.execute(sa.select(ticket.c.id, ticket.c.function_id, ticket.c.status, ticket.c.created_at,
                                  ticket.c.first_response_at, ticket.c.resolved_at, ticket.c.closed_at,
                                  ticket.c.paused_minutes)).all()
    for row in rows:
        events = moves.get(row.id, [])
        reroutes = [data for kind, data in events if kind == "reroute"]
        reopens = [data for kind, data in events if kind == "status" and data.get("old") in ("resolved", "closed")
                   and data.get("new") in OPEN]
        created = row.created_at.replace(tzinfo=row.created_at.tzinfo or UTC)
        values = {"first_function_id": slugs.get(reroutes[0].get("old"), row.function_id) if reroutes
                  else row.function_id, "reroute_count": len(reroutes), "reopen_count": len(reopens)}
        if row.first_response_at is not None:
            values["first_response_minutes"] = round(calendar.working_minutes_between(created, row.first_response_at))
        done = row.resolved_at or (row.closed_at if row.status == "closed" else None)
        if done is not None and row.status not in OPEN:
            values["resolution_minutes"] = max(0, round(calendar.working_minutes_between(created, done))
                                               - (row.paused_minutes or 0))
        bind.execute(ticket.update().where(ticket.c.id == row.id).values(**values))


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_open_function_created')
        batch_op.drop_index('ix_ticket_resolved')
        batch_op.drop_index('ix_ticket_created')
        batch_op.drop_index('ix_ticket_function_resolved')
        batch_op.drop_index('ix_ticket_function_created')
        batch_op.drop_constraint(batch_op.f('fk_ticket_first_function_id_support_function'), type_='foreignkey')
        batch_op.drop_column('resolution_minutes')
        batch_op.drop_column('first_response_minutes')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('reroute_count')
        batch_op.drop_column('first_function_id')
