"""Outcome notices to the referring teacher: the outbox and the schools' opt-in (issue 20)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (new tables only)."""
    op.create_table(
        'teacher_notices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('change_key', sa.String(length=100), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('carrier_id', sa.String(length=50), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('change_key'),
    )
    op.create_index('ix_teacher_notices_referral_id', 'teacher_notices', ['referral_id'])
    op.create_index('ix_teacher_notices_status', 'teacher_notices', ['status'])
    op.create_table(
        'school_notice_optins',
        sa.Column('school_id', sa.String(length=50), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('changed_by', sa.String(length=100), nullable=False),
        sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('school_id'),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('school_notice_optins')
    op.drop_index('ix_teacher_notices_status', table_name='teacher_notices')
    op.drop_index('ix_teacher_notices_referral_id', table_name='teacher_notices')
    op.drop_table('teacher_notices')
