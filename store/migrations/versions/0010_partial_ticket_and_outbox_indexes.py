"""indexes that hold only the rows their queries look for

Every index a row enters is one more page written to the WAL at each commit, and at a
thousand filings a second the commits are small (three or four filings each), so pages per
commit are what the writer spends on. What the queries read (EXPLAIN QUERY PLAN, SQLite):
- the supervisor's list ORs `supervised IS 1` with the overdue test: an index of the
  supervised tickets alone serves it the same; unsupervised filings no longer write it;
- nothing reads tickets by deadline (the overdue test goes by status);
- the outbox worker reads pending messages in id order, the admins' view dead ones: one
  partial index each. next_attempt_at (checked row by row after the pending read) and
  ticket_id were read by no query, delivered_at only as "still pending".

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

PENDING = "delivered_at IS NULL AND dead_at IS NULL"


def upgrade() -> None:
    op.drop_index('ix_tickets_deadline', table_name='tickets')
    op.drop_index('ix_tickets_supervised', table_name='tickets')
    op.create_index('ix_tickets_supervised', 'tickets', ['supervised'],
                    sqlite_where=sa.text('supervised IS 1'),
                    postgresql_where=sa.text('supervised IS true'))
    for name in ('ix_outbox_next_attempt_at', 'ix_outbox_delivered_at', 'ix_outbox_ticket_id'):
        op.drop_index(name, table_name='outbox')
    op.create_index('ix_outbox_pending', 'outbox', ['id'], sqlite_where=sa.text(PENDING),
                    postgresql_where=sa.text(PENDING))
    op.create_index('ix_outbox_dead', 'outbox', ['id'],
                    sqlite_where=sa.text('dead_at IS NOT NULL'),
                    postgresql_where=sa.text('dead_at IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_outbox_dead', table_name='outbox')
    op.drop_index('ix_outbox_pending', table_name='outbox')
    op.create_index('ix_outbox_ticket_id', 'outbox', ['ticket_id'])
    op.create_index('ix_outbox_delivered_at', 'outbox', ['delivered_at'])
    op.create_index('ix_outbox_next_attempt_at', 'outbox', ['next_attempt_at'])
    op.drop_index('ix_tickets_supervised', table_name='tickets')
    op.create_index('ix_tickets_supervised', 'tickets', ['supervised'])
    op.create_index('ix_tickets_deadline', 'tickets', ['deadline'])
