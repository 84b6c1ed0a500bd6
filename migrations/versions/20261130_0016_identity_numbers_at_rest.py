"""identity numbers at rest: encrypted inside orders' data and history, and the lookup column holds a keyed hash
(keys from LOTSEN_DATA_KEY, app/core/crypto.py)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 20:00:00

"""
from alembic import op
import sqlalchemy as sa

from app.core import crypto


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.alter_column('person_number', existing_type=sa.String(length=13), type_=sa.String(length=64),
                              existing_nullable=True)
    connection = op.get_bind()
    submissions = sa.table('form_submission', sa.column('id', sa.Integer), sa.column('data', sa.JSON),
                           sa.column('person_number', sa.String))
    history = sa.table('form_history', sa.column('id', sa.Integer), sa.column('data', sa.JSON))
    keys = crypto.data_keys()
    encrypted = crypto.EncryptedJSON()
    for row in connection.execute(sa.select(submissions.c.id, submissions.c.data, submissions.c.person_number)):
        connection.execute(submissions.update().where(submissions.c.id == row.id).values(
            data=encrypted.process_bind_param(row.data, None),
            person_number=keys.keyed_hash(row.person_number) if row.person_number else None))
    for row in connection.execute(sa.select(history.c.id, history.c.data).where(history.c.data.is_not(None))):
        connection.execute(history.update().where(history.c.id == row.id).values(
            data=encrypted.process_bind_param(row.data, None)))


def downgrade():
    connection = op.get_bind()
    submissions = sa.table('form_submission', sa.column('id', sa.Integer), sa.column('data', sa.JSON),
                           sa.column('person_number', sa.String))
    history = sa.table('form_history', sa.column('id', sa.Integer), sa.column('data', sa.JSON))
    encrypted = crypto.EncryptedJSON()
    for table in (submissions, history):
        for row in connection.execute(sa.select(table.c.id, table.c.data).where(table.c.data.is_not(None))):
            data = encrypted.process_result_value(row.data, None)
            values = {"data": data}
            if table is submissions:
                values["person_number"] = ((data or {}).get("employee") or {}).get("personnummer") or None
            connection.execute(table.update().where(table.c.id == row.id).values(**values))
    with op.batch_alter_table('form_submission', schema=None) as batch_op:
        batch_op.alter_column('person_number', existing_type=sa.String(length=64), type_=sa.String(length=13),
                              existing_nullable=True)
