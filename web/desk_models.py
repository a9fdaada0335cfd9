"""Tables of the desk's workflows added by issue 17, declared on the pipeline's ``Base`` (``create_all`` makes them).

* ``consent_claims``: a reviewer says the machine misread a family agreement or a signature
  (box read empty but ticked, or the reverse), with why; an admin confirms or refuses it
  before the claimed value may be routed (:mod:`web.consent`).
* ``carrier_outcome_events``: each « Inscrit(e) » / « Refus » a carrier recorded, with the
  refusal's reason, and its undo (:mod:`web.carrier_queue`).
* ``document_requests``: the one message asking a school about a quarantined file
  (:mod:`web.quarantine`), claimed before it is sent so it is never sent twice.

Kept apart from ``web.models`` (accounts and sessions) so the two can change independently.
Free texts here (reasons) may name a pupil: they are shown to staff, never logged or audited.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store import Base, utcnow


class ClaimStatus(StrEnum):
    """Where a consent misread claim stands."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class ConsentClaimRow(Base):
    """A reviewer's claim that the machine misread one consent field, and the admin's answer."""

    __tablename__ = "consent_claims"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(50), index=True)
    field: Mapped[str] = mapped_column(String(100))
    machine_value: Mapped[bool | None] = mapped_column(JSON, nullable=True)
    claimed_value: Mapped[bool] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    claimed_by: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status: Mapped[str] = mapped_column(String(20), default=ClaimStatus.PENDING.value)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CarrierOutcomeEventRow(Base):
    """One outcome a carrier recorded for a referral (enrolled or declined), its reason and its undo."""

    __tablename__ = "carrier_outcome_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    reason_code: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reason_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    """For a refusal: when its undo window ended and the place was freed."""


class DocumentRequestRow(Base):
    """The message asking the school about one quarantined file (at most one per file)."""

    __tablename__ = "document_requests"
    __table_args__ = (UniqueConstraint("sha256", name="uq_document_request"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30))
    message_row_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
