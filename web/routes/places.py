"""Staff confirm the waiting referral proposed for a carrier's free place (:mod:`web.places`); never automatic."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from web.carrier_queue import settle_refusals
from web.deps import MAX_DB_ID, CsrfDep, ServicesDep, StaffDep
from web.places import CONFIRM_MESSAGES_FR, confirm_proposal

router = APIRouter(prefix="/places")


@router.post("/confirm", dependencies=[CsrfDep])
def confirm(request: Request, services: ServicesDep, user: StaffDep,
            referral_id: Annotated[int, Form(ge=1, le=MAX_DB_ID)], carrier_id: Annotated[str, Form()]) -> Response:
    """Route the proposed referral to the carrier if it still waits and the carrier still has a place."""
    settle_refusals(services.store, services.web.followup_undo)
    try:
        result, form_id = confirm_proposal(services.store, services.directory, services.settings.school_year,
                                           referral_id, carrier_id, user.username)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail="Structure inconnue.") from exc
    carrier = services.directory.carrier(carrier_id).name
    request.session["flash"] = CONFIRM_MESSAGES_FR[result].format(form_id=form_id or str(referral_id),
                                                                  carrier=carrier)
    return RedirectResponse("/overview#proposals", status_code=303)
