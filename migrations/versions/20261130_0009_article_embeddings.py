"""article embeddings: sentence vectors of each published article's passages, for semantic search

Derived data: empty after the upgrade, filled by the first search catch-up or `flask search reindex`.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 02:15:00

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('article_embedding',
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=40), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('dim', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('vectors', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['article_id'], ['article.id'], name=op.f('fk_article_embedding_article_id_article'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('article_id', name=op.f('pk_article_embedding'))
    )
    with op.batch_alter_table('article_embedding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_embedding_revision_id'), ['revision_id'], unique=False)


def downgrade():
    with op.batch_alter_table('article_embedding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_embedding_revision_id'))
    op.drop_table('article_embedding')
