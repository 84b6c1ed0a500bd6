"""worker heartbeat: when each worker last finished a round (for /metrics)

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 21:00:09

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_heartbeat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=120), nullable=False),
    sa.Column('seen_at', app.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_worker_heartbeat')),
    sa.UniqueConstraint('worker', name=op.f('uq_worker_heartbeat_worker'))
    )


def downgrade():
    op.drop_table('worker_heartbeat')
