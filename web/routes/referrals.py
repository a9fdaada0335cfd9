"""Every referral, for staff: status, carrier, school and level (names stay on the form page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from pipeline.store import ReferralRow
from schemas.directory import ClassLevel
from web.deps import ServicesDep, StaffDep, render
from web.review import OUTCOME_LABELS_ONE_FR

router = APIRouter()
STATUS_LABELS_FR = {k: v for k, v in OUTCOME_LABELS_ONE_FR.items() if k != "quarantined"}


@router.get("/referrals")
def referrals(request: Request, services: ServicesDep, user: StaffDep, status: str | None = None) -> Response:
    """The list of referrals, newest first, optionally filtered by status."""
    query = select(ReferralRow).order_by(ReferralRow.created_at.desc(), ReferralRow.id.desc())
    if status:
        query = query.where(ReferralRow.status == status)
    with services.store.session() as s:
        rows = [(r.form_id, r.status, r.carrier_id, r.school_id, ClassLevel(r.class_level).label_fr, r.created_at)
                for r in s.scalars(query)]
    return render(request, services, "referrals.html",
                  {"rows": rows, "status": status or "", "status_labels": STATUS_LABELS_FR}, user)
