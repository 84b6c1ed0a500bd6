"""directory users keyed on a stable attribute (objectGUID / entryUUID): which directory, its key, and when the
person was last checked against it

Existing directory users keep their rows: their key is filled in at their next log-in or check, found by the
user name they were created with.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 18:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('directory', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('directory_id', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('directory_checked_at', app.core.db.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_directory_directory_id'),
                                            ['directory', 'directory_id'])


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_user_account_directory_directory_id'), type_='unique')
        batch_op.drop_column('directory_checked_at')
        batch_op.drop_column('directory_id')
        batch_op.drop_column('directory')
