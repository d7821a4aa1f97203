"""drop redundant ticket indexes

Every index is written on every filing. ix_tickets_phone is the leading column of
ix_tickets_phone_matter, which answers the same lookups; ix_tickets_kind has six values, so a
search by kind reads a third of the table whichever way, and walks created_at to sort anyway.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_phone')
        batch_op.drop_index('ix_tickets_kind')


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_kind', ['kind'], unique=False)
        batch_op.create_index('ix_tickets_phone', ['phone'], unique=False)
