"""content version: a count every committed change of an article raises (what processes keep of the published
articles is keyed on it)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 07:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table('content_version',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_content_version'))
    )
    op.bulk_insert(table, [{'name': 'articles', 'version': 0}])


def downgrade():
    op.drop_table('content_version')
