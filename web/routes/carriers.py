"""A carrier's pages: its queue, one referral, follow-up actions and the CSV export.

Every URL names the carrier; :func:`web.deps.require_carrier_access` lets through that
carrier's own accounts and staff only, and every query is filtered by the carrier too,
so a referral id of another carrier gives 404 even when guessed.

« Inscrit(e) » and « Refus » open a confirmation page (a refusal asks its reason); the
queue then says what was recorded and offers « Annuler » until the undo window ends
(``CLAS_WEB_FOLLOWUP_UNDO_S``). A refusal frees its place only when it stands
(:func:`web.carrier_queue.settle_refusals`, run before places are read).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from web.audit import audit_form
from web.carrier_queue import (
    REFUSAL_REASONS_FR,
    OutcomeError,
    acknowledge,
    carrier_queue,
    carrier_referral,
    places_by_carrier,
    queue_csv,
    set_outcome,
    settle_refusals,
    undo_outcome,
    withdraw_enrolled,
)
from web.deps import CarrierAccessDep, CsrfDep, DbId, Services, ServicesDep, render
from web.models import FollowUpOutcome

router = APIRouter(prefix="/carriers/{carrier_id}")
FLASH = "flash"
CONFIRM_LABELS_FR: dict[FollowUpOutcome, str] = {
    FollowUpOutcome.ENROLLED: "Confirmer l'inscription",
    FollowUpOutcome.DECLINED: "Confirmer le refus",
}


def _queue_url(carrier_id: str) -> str:
    return f"/carriers/{carrier_id}"


def _places(services: ServicesDep, carrier_id: str):  # noqa: ANN202 - a Places record
    settle_refusals(services.store, services.web.followup_undo)
    used = services.store.places_used(services.settings.school_year)
    return next(p for p in places_by_carrier(services.directory, used) if p.carrier_id == carrier_id)


@router.get("")
def queue_page(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str) -> Response:
    """The carrier's queue with places left (the view is audited, without names)."""
    places = _places(services, carrier_id)  # settles refusals that stand first
    with services.store.session() as s:
        rows = carrier_queue(s, carrier_id, services.directory, services.web.followup_undo)
        for r in rows:
            audit_form(s, user.username, "carrier_queue_viewed", r.form_id, f"carrier {carrier_id}")
    return render(request, services, "carrier_queue.html",
                  {"carrier": services.directory.carrier(carrier_id), "rows": rows, "places": places,
                   "flash": request.session.pop(FLASH, None)}, user)


@router.get("/referrals/{referral_id}")
def referral_page(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                  referral_id: DbId) -> Response:
    """One referral of the queue (audited view)."""
    with services.store.session() as s:
        row = carrier_referral(s, carrier_id, referral_id, services.directory, services.web.followup_undo)
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


def _chosen(outcome: str) -> FollowUpOutcome:
    try:
        return FollowUpOutcome(outcome)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="Suivi inconnu.") from exc


def _confirm_page(request: Request, services: Services, user: CarrierAccessDep, carrier_id: str, referral_id: int,
                  chosen: FollowUpOutcome, *, error: str | None = None, status_code: int = 200) -> Response:
    with services.store.session() as s:
        row = carrier_referral(s, carrier_id, referral_id, services.directory, services.web.followup_undo)
    if row is None or row.place_freed:
        raise HTTPException(status_code=404, detail="Orientation introuvable dans cette file.")
    hours = services.web.followup_undo_s // 3600
    return render(request, services, "carrier_outcome.html", {
        "carrier": services.directory.carrier(carrier_id), "row": row, "outcome": chosen.value,
        "confirm_label": CONFIRM_LABELS_FR[chosen], "reasons": REFUSAL_REASONS_FR, "error": error,
        "undo_hours": hours}, user, status_code)


@router.get("/referrals/{referral_id}/outcome/{outcome}")
def confirm_outcome(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                    referral_id: DbId, outcome: str) -> Response:
    """The confirmation page of « Inscrit(e) » or « Refus » (a refusal asks its reason)."""
    return _confirm_page(request, services, user, carrier_id, referral_id, _chosen(outcome))


@router.post("/referrals/{referral_id}/outcome", dependencies=[CsrfDep])
def referral_outcome(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                     referral_id: DbId, outcome: Annotated[str, Form()], confirmed: Annotated[str, Form()] = "",
                     reason_code: Annotated[str, Form()] = "", reason_text: Annotated[str, Form()] = "") -> Response:
    """Record the confirmed outcome; back to the queue with what was recorded and until when it can be undone."""
    chosen = _chosen(outcome)
    if confirmed != "1":
        return _confirm_page(request, services, user, carrier_id, referral_id, chosen, status_code=422,
                             error="Confirmer le suivi avant de l'enregistrer.")
    try:
        recorded = set_outcome(services.store, carrier_id, referral_id, chosen, user.username,
                               undo_window=services.web.followup_undo, reason_code=reason_code or None,
                               reason_text=reason_text)
    except OutcomeError as exc:
        return _confirm_page(request, services, user, carrier_id, referral_id, chosen, status_code=422,
                             error=exc.message_fr)
    if recorded is None:
        raise HTTPException(status_code=404, detail="Orientation introuvable dans cette file.")
    until = recorded.undo_until.astimezone().strftime("%d/%m/%Y à %H:%M")
    if chosen is FollowUpOutcome.DECLINED:
        message = (f"Refus enregistré pour la fiche {recorded.form_id}. La place sera libérée le {until}, "
                   "sauf annulation d'ici là.")
    else:
        message = f"Inscription enregistrée pour la fiche {recorded.form_id} (annulable jusqu'au {until})."
    request.session[FLASH] = message
    return RedirectResponse(_queue_url(carrier_id), status_code=303)


@router.post("/referrals/{referral_id}/undo", dependencies=[CsrfDep])
def undo_referral_outcome(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                          referral_id: DbId) -> Response:
    """Undo the outcome while its window is open (409 once it stands)."""
    form_id = undo_outcome(services.store, carrier_id, referral_id, user.username,
                           undo_window=services.web.followup_undo)
    if form_id is None:
        raise HTTPException(status_code=409, detail="Ce suivi ne peut plus être annulé (délai dépassé ou déjà annulé).")
    request.session[FLASH] = f"Suivi annulé pour la fiche {form_id} : l'orientation est de nouveau à traiter."
    return RedirectResponse(_queue_url(carrier_id), status_code=303)


@router.post("/referrals/{referral_id}/withdraw", dependencies=[CsrfDep])
def withdraw_referral(request: Request, services: ServicesDep, user: CarrierAccessDep, carrier_id: str,
                      referral_id: DbId, confirmed: Annotated[str, Form()] = "") -> Response:
    """An enrolled pupil left during the year: the place is freed (confirmed by a ticked box; 409 otherwise)."""
    if confirmed != "1":
        raise HTTPException(status_code=422, detail="Cocher « confirmer le départ » avant d'enregistrer.")
    form_id = withdraw_enrolled(services.store, carrier_id, referral_id, user.username,
                                undo_window=services.web.followup_undo)
    if form_id is None:
        raise HTTPException(status_code=409, detail="Seul le départ d'un(e) élève inscrit(e) peut être enregistré "
                                                    "(une fois le délai d'annulation de l'inscription passé).")
    request.session[FLASH] = f"Départ enregistré pour la fiche {form_id} : la place est libérée."
    return RedirectResponse(_queue_url(carrier_id), status_code=303)


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
