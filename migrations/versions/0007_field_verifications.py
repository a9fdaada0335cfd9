"""Field verifications: fields staff verified or corrected, kept to calibrate the readers (issue 18)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'field_verifications',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.String(length=50), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('crop', sa.String(length=200), nullable=False),
        sa.Column('readings', sa.JSON(), nullable=False),
        sa.Column('rules', sa.JSON(), nullable=False),
        sa.Column('machine_value', sa.JSON(), nullable=True),
        sa.Column('machine_confidence', sa.Float(), nullable=False),
        sa.Column('final_value', sa.JSON(), nullable=True),
        sa.Column('corrected', sa.Boolean(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('field_verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_verifications_form_id'), ['form_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('field_verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_verifications_form_id'))
    op.drop_table('field_verifications')
