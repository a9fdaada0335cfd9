"""The staff overview: last nightly runs, forms awaiting review, referrals to re-orient, places per carrier.

Places over the year and the waiting referral proposed for each free place come from :mod:`web.places`
(issue 20): staff confirm a proposal, nothing is routed automatically.

Counts are named for what they count (issue 17): the runs' accounting and the command line
count **files** (« fichiers reçus »: a form scanned in two files is two, a duplicate or a
quarantined file is one), the desk's work counts **forms** (« fiches », by serial). The
current holdings show both side by side (:func:`holdings`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import Response

from pipeline.store import DocumentRow, ReceiptRow, ReferralRow, ReviewItemRow, RunRow, RunStatus
from schemas.document import OUTCOME_LABELS_FR, Outcome
from web.carrier_queue import settle_refusals, to_reorient
from web.deps import ServicesDep, StaffDep, render
from web.places import carrier_year, proposals
from web.review import ReviewStatus

router = APIRouter()
RUNS_SHOWN = 10
RUN_STATES_FR = {RunStatus.RUNNING.value: "en cours", RunStatus.FINISHED.value: "terminée",
                 RunStatus.FAILED.value: "échouée", RunStatus.CRASHED.value: "interrompue"}
"""How a run stands (``runs.status``), as the overview says it."""


@dataclass(frozen=True)
class Holding:
    """Where received files and forms stand now, for one outcome.

    Attributes:
        outcome: The outcome.
        files: Receptions ending there (each file counted once per reception, as the command line counts).
        forms: Distinct form serials among them (0 for files that carry no form).
    """

    outcome: Outcome
    files: int
    forms: int


def holdings(s: Session) -> list[Holding]:
    """Files (receptions) and forms (serials) per current outcome, in :class:`Outcome` order."""
    files = dict(s.execute(select(DocumentRow.status, func.count()).group_by(DocumentRow.status)).all())
    forms = dict(s.execute(select(DocumentRow.status, func.count(DocumentRow.form_id.distinct()))
                           .where(DocumentRow.form_id.is_not(None)).group_by(DocumentRow.status)).all())
    again = s.scalar(select(func.count()).select_from(ReceiptRow)  # the same content received again
                     .join(DocumentRow, DocumentRow.sha256 == ReceiptRow.sha256)
                     .where(ReceiptRow.outcome == Outcome.DUPLICATE.value,
                            DocumentRow.status != Outcome.DUPLICATE.value)) or 0
    files[Outcome.DUPLICATE.value] = files.get(Outcome.DUPLICATE.value, 0) + again
    return [Holding(o, int(files.get(o.value, 0)), int(forms.get(o.value, 0))) for o in Outcome]


@router.get("/overview")
def overview(request: Request, services: ServicesDep, user: StaffDep) -> Response:
    """Counts only: no personal data on this page."""
    settle_refusals(services.store, services.web.followup_undo)
    with services.store.session() as s:
        runs = s.scalars(select(RunRow).order_by(RunRow.started_at.desc(), RunRow.id.desc()).limit(RUNS_SHOWN)).all()
        review_counts = dict(s.execute(select(ReviewItemRow.status, func.count()).group_by(ReviewItemRow.status)).all())
        waiting = s.scalar(select(func.count()).select_from(ReferralRow)
                           .where(ReferralRow.status == Outcome.WAITING_LIST.value))
        declined = to_reorient(s)
        held = holdings(s)
        open_files = s.scalar(select(func.count()).select_from(DocumentRow).join(
            ReviewItemRow, ReviewItemRow.form_id == DocumentRow.form_id)
            .where(ReviewItemRow.status == ReviewStatus.OPEN.value)) or 0
        total_forms = s.scalar(select(func.count(DocumentRow.form_id.distinct()))  # a form sent again counts once
                               .where(DocumentRow.status != Outcome.DUPLICATE.value)) or 0
    with services.store.session() as s:
        year = carrier_year(s, services.directory, services.settings.school_year)
        proposed = proposals(s, services.directory, services.settings.school_year, year)
    return render(request, services, "overview.html", {
        "runs": runs, "run_states": RUN_STATES_FR, "outcomes": list(Outcome), "outcome_labels": OUTCOME_LABELS_FR,
        "open_reviews": review_counts.get(ReviewStatus.OPEN.value, 0),
        "set_aside": review_counts.get(ReviewStatus.SET_ASIDE.value, 0),
        "waiting_list": waiting or 0, "declined": declined,
        "school_year": services.settings.school_year, "holdings": held, "open_files": open_files,
        "total_files": sum(h.files for h in held), "total_forms": total_forms,
        "carrier_year": year, "proposals": proposed, "flash": request.session.pop("flash", None),
    }, user)
