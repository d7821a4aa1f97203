"""covering indexes for the repeat-caller and crowd counts

Filing a ticket counts this citizen's earlier tickets on the matter and the other citizens
on it within the window. With (matter_key, created_at, phone) and (phone, matter_key,
created_at) both counts read the index alone, never the table: a hot matter with thousands
of tickets stays cheap to file on.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_phone_matter')
        batch_op.drop_index('ix_tickets_matter_key')
        batch_op.create_index('ix_tickets_phone_matter', ['phone', 'matter_key', 'created_at'],
                              unique=False)
        batch_op.create_index('ix_tickets_matter_window', ['matter_key', 'created_at', 'phone'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_matter_window')
        batch_op.drop_index('ix_tickets_phone_matter')
        batch_op.create_index('ix_tickets_matter_key', ['matter_key'], unique=False)
        batch_op.create_index('ix_tickets_phone_matter', ['phone', 'matter_key'], unique=False)
