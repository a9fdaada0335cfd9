"""The staff overview: last nightly runs, forms awaiting review, referrals to re-orient, places left per carrier."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from starlette.responses import Response

from pipeline.store import ReferralRow, ReviewItemRow, RunRow
from schemas.document import OUTCOME_LABELS_FR, Outcome
from web.carrier_queue import places_by_carrier, settle_refusals, to_reorient
from web.deps import ServicesDep, StaffDep, render
from web.review import ReviewStatus

router = APIRouter()
RUNS_SHOWN = 10


@router.get("/overview")
def overview(request: Request, services: ServicesDep, user: StaffDep) -> Response:
    """Counts only: no personal data on this page."""
    settle_refusals(services.store, timedelta(seconds=services.web.followup_undo_s))
    with services.store.session() as s:
        runs = s.scalars(select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(RUNS_SHOWN)).all()
        review_counts = dict(s.execute(select(ReviewItemRow.status, func.count()).group_by(ReviewItemRow.status)).all())
        waiting = s.scalar(select(func.count()).select_from(ReferralRow)
                           .where(ReferralRow.status == Outcome.WAITING_LIST.value))
        declined = to_reorient(s)
    places = places_by_carrier(services.directory, services.store.places_used(services.settings.school_year))
    return render(request, services, "overview.html", {
        "runs": runs, "outcomes": list(Outcome), "outcome_labels": OUTCOME_LABELS_FR,
        "open_reviews": review_counts.get(ReviewStatus.OPEN.value, 0),
        "set_aside": review_counts.get(ReviewStatus.SET_ASIDE.value, 0),
        "waiting_list": waiting or 0, "declined": declined, "places": places,
        "school_year": services.settings.school_year,
    }, user)
