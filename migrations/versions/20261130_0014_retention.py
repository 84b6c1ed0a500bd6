"""retention rules (gallring); legal hold and anonymisation of cases; anonymised orders

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 19:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'retention_rule',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('function_id', sa.Integer(), nullable=True),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('form_slug', sa.String(length=60), nullable=True),
        sa.Column('months', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=10), nullable=False),
        sa.Column('decision', sa.String(length=200), nullable=False),
        sa.Column('created_at', app.core.db.UTCDateTime(), nullable=False),
        sa.Column('updated_at', app.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['category_id'], ['ticket_category.id'],
                                name=op.f('fk_retention_rule_category_id_ticket_category'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['function_id'], ['support_function.id'],
                                name=op.f('fk_retention_rule_function_id_support_function'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_rule')),
        sa.UniqueConstraint('kind', 'function_id', 'category_id', 'form_slug',
                            name=op.f('uq_retention_rule_kind_function_id_category_id_form_slug')),
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('anonymised_at', app.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('requester_department', sa.String(length=200), nullable=True))
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('anonymised_at', app.core.db.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.drop_column('anonymised_at')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_column('requester_department')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('legal_hold')
    op.drop_table('retention_rule')
