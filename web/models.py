"""Tables of the review desk, declared on the pipeline's ``Base`` so ``create_all`` makes them too.

* ``users``: accounts with an argon2 hash and a role (staff, admin, carrier bound to one carrier id);
* ``corrections``: what a reviewer changed, field by field (machine value kept beside the new one);
* ``carrier_followups``: what a carrier did with a referral routed to it (acknowledged, enrolled, declined);
* ``web_sessions`` and ``login_throttle`` (declared in :mod:`web.auth_models`): sign-in.

Follow-ups live apart from ``referrals.status`` on purpose: ``Store.places_used`` counts
referrals whose status is ``routed``, so a carrier's enrolment must not change that status.
A decline does change it, to ``declined`` (``Store.decline_referral``): the place is freed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store import Base, utcnow
from web.auth_models import LoginThrottleRow, WebSessionRow  # noqa: F401 - the sign-in tables, registered here too


class Role(StrEnum):
    """What an account may do."""

    STAFF = "staff"  # city staff: review, every referral, overview
    ADMIN = "admin"  # staff plus accounts
    CARRIER = "carrier"  # one carrier's queue only


ROLE_LABELS_FR: dict[Role, str] = {
    Role.STAFF: "Agent de la Ville",
    Role.ADMIN: "Administrateur",
    Role.CARRIER: "Structure CLAS",
}


class FollowUpOutcome(StrEnum):
    """What became of a referral at its carrier."""

    ENROLLED = "enrolled"
    DECLINED = "declined"


FOLLOW_UP_LABELS_FR: dict[FollowUpOutcome, str] = {
    FollowUpOutcome.ENROLLED: "Inscrit(e)",
    FollowUpOutcome.DECLINED: "Refusé(e) par la famille ou la structure",
}


class UserRow(Base):
    """An account of the review desk."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    carrier_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    @property
    def is_staff(self) -> bool:
        """Whether the account may review and see every referral (staff and admin)."""
        return self.role in (Role.STAFF.value, Role.ADMIN.value)


class CorrectionRow(Base):
    """One field a reviewer changed before approving (values are personal data: never logged)."""

    __tablename__ = "corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(50), index=True)
    field: Mapped[str] = mapped_column(String(100))
    machine_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    corrected_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CarrierFollowUpRow(Base):
    """A carrier's follow-up of one referral routed to it."""

    __tablename__ = "carrier_followups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), unique=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
