"""outbox claims and message ids

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00.000000

Each outbox row gets its Message-ID once (existing rows are backfilled with one built from their id and a
token of this migration run, unique across installations), and a claim: which worker is sending it and
until when its lease lasts.
"""
import uuid

from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def _mail_domain() -> str:
    try:
        from email.utils import parseaddr

        from flask import current_app
        return parseaddr(current_app.config["LOTSEN_MAIL_FROM"])[1].rpartition("@")[2].strip() or "lotsen.local"
    except (ImportError, KeyError, RuntimeError):
        return "lotsen.local"


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', app.core.db.UTCDateTime(), nullable=True))

    outbox = sa.table('outbox_message', sa.column('id', sa.Integer()), sa.column('message_id', sa.String()))
    op.execute(
        outbox.update()
        .where(outbox.c.message_id.is_(None))
        .values(message_id=sa.literal('<lotsen.outbox.') + sa.cast(outbox.c.id, sa.String())
                + sa.literal(f'.{uuid.uuid4().hex}@{_mail_domain()}>'))
    )

    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.alter_column('message_id', existing_type=sa.String(length=255), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_message_id'), ['message_id'])


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_message_message_id'), type_='unique')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')
        batch_op.drop_column('message_id')
