"""the audit log is append-only: triggers refuse every change and deletion of an entry, except deletions in a
transaction that holds a row of audit_cull_permit (the log's own culling)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 19:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_cull_permit', sa.Column('id', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_cull_permit')))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_entry_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM audit_cull_permit) THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'the audit log is append-only';
            END $$ LANGUAGE plpgsql""")
        op.execute("CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
                   "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()")
    else:
        op.execute("CREATE TRIGGER audit_entry_no_update BEFORE UPDATE ON audit_entry "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
        op.execute("CREATE TRIGGER audit_entry_no_delete BEFORE DELETE ON audit_entry "
                   "WHEN NOT EXISTS (SELECT 1 FROM audit_cull_permit) "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry")
        op.execute("DROP FUNCTION audit_entry_append_only()")
    else:
        op.execute("DROP TRIGGER audit_entry_no_update")
        op.execute("DROP TRIGGER audit_entry_no_delete")
    op.drop_table('audit_cull_permit')
