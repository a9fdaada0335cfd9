"""A carrier's pages: its queue, one referral, follow-up actions and the CSV export.

Every URL names the carrier; :func:`web.deps.require_carrier_access` lets through that
carrier's own accounts and staff only, and every query is filtered by the carrier too,
so a referral id of another carrier gives 404 even when guessed.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from web.audit import audit_form
from web.carrier_queue import acknowledge, carrier_queue, carrier_referral, places_by_carrier, queue_csv, set_outcome
from web.deps import CarrierAccessDep, CsrfDep, DbId, ServicesDep, render
from web.models import FollowUpOutcome

router = APIRouter(prefix="/carriers/{carrier_id}")


def _places(services: ServicesDep, carrier_id: str):  # noqa: ANN202 - a Places record
    used = services.store.places_used(services.settings.school_year)
    return next(p for p in places_by_carrier(services.directory, used) if p.carrier_id == carrier_id)


@router.get("")
def queue_page(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str) -> Response:
    """The carrier's queue with places left (the view is audited, without names)."""
    with services.store.session() as s:
        rows = carrier_queue(s, carrier_id, services.directory)
        for r in rows:
            audit_form(s, user.username, "carrier_queue_viewed", r.form_id, f"carrier {carrier_id}")
    return render(request, services, "carrier_queue.html",
                  {"carrier": services.directory.carrier(carrier_id), "rows": rows,
                   "places": _places(services, carrier_id)}, user)


@router.get("/referrals/{referral_id}")
def referral_page(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                  referral_id: DbId) -> Response:
    """One referral of the queue (audited view)."""
    with services.store.session() as s:
        row = carrier_referral(s, carrier_id, referral_id, services.directory)
        if row is None:
            raise HTTPException(status_code=404, detail="Orientation introuvable dans cette file.")
        audit_form(s, user.username, "carrier_referral_viewed", row.form_id, f"carrier {carrier_id}")
    return render(request, services, "carrier_referral.html",
                  {"carrier": services.directory.carrier(carrier_id), "row": row}, user)


@router.post("/referrals/{referral_id}/acknowledge", dependencies=[CsrfDep])
def acknowledge_referral(services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                         referral_id: DbId) -> Response:
    """Mark as received."""
    if not acknowledge(services.store, carrier_id, referral_id, user.username):
        raise HTTPException(status_code=404, detail="Orientation introuvable dans cette file.")
    return RedirectResponse(f"/carriers/{carrier_id}", status_code=303)


@router.post("/referrals/{referral_id}/outcome", dependencies=[CsrfDep])
def referral_outcome(services: ServicesDep, user: CarrierAccessDep, carrier_id: str, referral_id: DbId,
                     outcome: Annotated[str, Form()]) -> Response:
    """Mark the pupil enrolled or declined."""
    try:
        chosen = FollowUpOutcome(outcome)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="Suivi inconnu.") from exc
    if not set_outcome(services.store, carrier_id, referral_id, chosen, user.username):
        raise HTTPException(status_code=404, detail="Orientation introuvable dans cette file.")
    return RedirectResponse(f"/carriers/{carrier_id}", status_code=303)


@router.get("/export.csv")
def export_csv(services: ServicesDep, user: CarrierAccessDep, carrier_id: str) -> Response:
    """The queue as a CSV file (each exported referral is audited)."""
    with services.store.session() as s:
        rows = carrier_queue(s, carrier_id, services.directory)
        for r in rows:
            audit_form(s, user.username, "carrier_exported", r.form_id, f"carrier {carrier_id}")
    name = f"orientations-clas-{carrier_id}-{date.today().isoformat()}.csv"
    return Response(queue_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
