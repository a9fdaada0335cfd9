"""Printed form serials kept in the database; runs' status and end reason (issue 17)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'form_serials',
        sa.Column('series', sa.String(length=20), nullable=False),
        sa.Column('last_number', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('series'),
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        # Runs recorded before this revision ended or were interrupted; the next run marks the latter crashed.
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=False, server_default='finished'))
        batch_op.add_column(sa.Column('end_reason', sa.String(length=1000), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('end_reason')
        batch_op.drop_column('status')
    op.drop_table('form_serials')
