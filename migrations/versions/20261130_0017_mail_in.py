"""mail in: mailboxes, every message read from them, addresses that bounce

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 20:11:37

"""
from alembic import op
import sqlalchemy as sa

import app.core.db  # noqa: F401  (custom column types)


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('failing_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('until', app.core.db.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('bounces', sa.Integer(), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failing_address')),
    sa.UniqueConstraint('address', name=op.f('uq_failing_address_address'))
    )
    op.create_table('mailbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('function_id', sa.Integer(), nullable=True),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('security', sa.String(length=10), nullable=False),
    sa.Column('username', sa.String(length=254), nullable=False),
    sa.Column('auth', sa.String(length=10), nullable=False),
    sa.Column('secret', sa.String(length=1000), nullable=False),
    sa.Column('oauth_client_id', sa.String(length=200), nullable=False),
    sa.Column('oauth_tenant', sa.String(length=200), nullable=False),
    sa.Column('oauth_token_url', sa.String(length=500), nullable=False),
    sa.Column('folder', sa.String(length=200), nullable=False),
    sa.Column('done_folder', sa.String(length=200), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_fetch_at', app.core.db.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('created_at', app.core.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', app.core.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['function_id'], ['support_function.id'], name=op.f('fk_mailbox_function_id_support_function'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailbox')),
    sa.UniqueConstraint('address', name=op.f('uq_mailbox_address'))
    )
    op.create_table('inbound_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('sender', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('raw', sa.LargeBinary(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('confidential_function_id', sa.Integer(), nullable=True),
    sa.Column('reopened_case', sa.Boolean(), nullable=False),
    sa.Column('received_at', app.core.db.UTCDateTime(), nullable=False),
    sa.Column('settled_at', app.core.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['confidential_function_id'], ['support_function.id'], name=op.f('fk_inbound_mail_confidential_function_id_support_function'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailbox.id'], name=op.f('fk_inbound_mail_mailbox_id_mailbox'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_inbound_mail_ticket_id_ticket'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_mail')),
    sa.UniqueConstraint('message_id', name=op.f('uq_inbound_mail_message_id'))
    )
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_mail_mailbox_id'), ['mailbox_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_sender'), ['sender'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_mail_ticket_id'), ['ticket_id'], unique=False)



def downgrade():
    with op.batch_alter_table('inbound_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_mail_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_sender'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_received_at'))
        batch_op.drop_index(batch_op.f('ix_inbound_mail_mailbox_id'))

    op.drop_table('inbound_mail')
    op.drop_table('mailbox')
    op.drop_table('failing_address')
