"""Desk workflows of issue 17: consent misread claims, carrier outcome events, requests to schools

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'consent_claims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('form_id', sa.String(length=50), nullable=False),
        sa.Column('field', sa.String(length=100), nullable=False),
        sa.Column('machine_value', sa.JSON(), nullable=True),
        sa.Column('claimed_value', sa.JSON(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('claimed_by', sa.String(length=100), nullable=False),
        sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('decided_by', sa.String(length=100), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_consent_claims_form_id', 'consent_claims', ['form_id'])
    op.create_table(
        'carrier_outcome_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('referral_id', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('reason_code', sa.String(length=30), nullable=True),
        sa.Column('reason_text', sa.Text(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('undone_by', sa.String(length=100), nullable=True),
        sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['referral_id'], ['referrals.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_carrier_outcome_events_referral_id', 'carrier_outcome_events', ['referral_id'])
    op.create_table(
        'document_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('message_row_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=100), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sha256', name='uq_document_request'),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('document_requests')
    op.drop_index('ix_carrier_outcome_events_referral_id', table_name='carrier_outcome_events')
    op.drop_table('carrier_outcome_events')
    op.drop_index('ix_consent_claims_form_id', table_name='consent_claims')
    op.drop_table('consent_claims')
