"""forms: identity number for the conversion rules, sent versions, follow-up cases, the robots' work queue

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_number', sa.String(length=13), nullable=True))
        batch_op.add_column(sa.Column('robot_state', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('robot_claim', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('robot_claimed_until', app.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('robot_claimed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('robot_note', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('robot_attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_index(batch_op.f('ix_form_submission_person_number'), ['person_number'], unique=False)
        batch_op.create_index(batch_op.f('ix_form_submission_robot_state'), ['robot_state'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_form_submission_robot_claimed_by_id_user_account'),
                                    'user_account', ['robot_claimed_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('form_history', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=True))
    _normalise_sent_orders()
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_url', sa.String(length=500), nullable=True))
    op.create_table('form_follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('task', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['form_submission.id'],
                            name=op.f('fk_form_follow_up_submission_id_form_submission'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_form_follow_up_ticket_id_ticket'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_follow_up'))
    )
    with op.batch_alter_table('form_follow_up', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_follow_up_submission_id'), ['submission_id'], unique=False)


def _normalise_sent_orders():
    """Sent orders get their identity number in the one normal form (before 0010 what the manager typed was
    kept), read as of the day they were sent: a ten-digit number's century depends on that day. Approved orders
    too, so that pages never read a ten-digit number against a later day; their stored document stays as it is."""
    from datetime import UTC, datetime

    from app.forms.identity import parse_identity_number

    bind = op.get_bind()
    table = sa.table('form_submission', sa.column('id', sa.Integer), sa.column('status', sa.String),
                     sa.column('data', sa.JSON), sa.column('person_number', sa.String),
                     sa.column('submitted_at', sa.DateTime), sa.column('created_at', sa.DateTime))
    rows = bind.execute(sa.select(table.c.id, table.c.data, table.c.submitted_at, table.c.created_at)
                        .where(table.c.status != 'draft'))
    for row in rows:
        data = dict(row.data or {})
        employee = dict(data.get('employee') or {})
        sent = row.submitted_at or row.created_at or datetime.now(UTC)
        sent = datetime.fromisoformat(sent) if isinstance(sent, str) else sent
        try:
            number = parse_identity_number(str(employee.get('personnummer') or ''), sent.date())
        except ValueError:
            continue
        employee['personnummer'] = number.normal
        bind.execute(table.update().where(table.c.id == row.id)
                     .values(person_number=number.normal, data={**data, 'employee': employee}))


def downgrade():
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('origin_url')
    with op.batch_alter_table('form_follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_follow_up_submission_id'))
    op.drop_table('form_follow_up')
    with op.batch_alter_table('form_history', schema=None) as batch_op:
        batch_op.drop_column('data')
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_form_submission_robot_claimed_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_form_submission_robot_state'))
        batch_op.drop_index(batch_op.f('ix_form_submission_person_number'))
        for column in ('robot_attempts', 'robot_note', 'robot_claimed_by_id', 'robot_claimed_until', 'robot_claim',
                       'robot_state', 'person_number'):
            batch_op.drop_column(column)
