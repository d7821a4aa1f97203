"""drop unused ticket indexes

No query looks tickets up by lead unit (a unit's tickets are found through ticket_units),
and the one that reads closed_at (the measures) ORs it with columns that have no index, so
SQLite scans the table whichever way (EXPLAIN QUERY PLAN: SCAN tickets). Both were written
on every filing, and the lead unit's on every dispatch too.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_lead_unit')
        batch_op.drop_index('ix_tickets_closed_at')


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_tickets_lead_unit', ['lead_unit'], unique=False)
