"""« Avis aux enseignants »: which schools receive outcome notices, and where the notices stand (staff, admins).

Off by default: a school receives notices (:mod:`pipeline.notices`) only once staff or an admin ticked it here,
at the school's request. Each change is audited. Counts only: no teacher address is shown.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from pipeline.notices import NoticeStatus, notice_counts, opted_in_schools, set_school_opt_in
from web.deps import CsrfDep, ServicesDep, StaffDep, render

router = APIRouter(prefix="/notices")
STATUS_LABELS_FR: dict[NoticeStatus, str] = {
    NoticeStatus.PENDING: "à envoyer",
    NoticeStatus.SENDING: "envoi en cours (ou interrompu : non renvoyé)",
    NoticeStatus.SENT: "envoyés",
    NoticeStatus.FAILED: "échecs après plusieurs essais",
    NoticeStatus.UNCERTAIN: "connexion perdue pendant l'envoi (non renvoyés)",
    NoticeStatus.CANCELLED: "annulés (suivi annulé par la structure)",
    NoticeStatus.SKIPPED: "non envoyés (établissement non inscrit, ou pas d'enseignant)",
}


@router.get("")
def notices_page(request: Request, services: ServicesDep, user: StaffDep) -> Response:
    """Every school with its choice, and the notices per status."""
    with services.store.session() as s:
        enabled = opted_in_schools(s)
        counts = notice_counts(s)
    schools = sorted(services.directory.schools, key=lambda sc: sc.name)
    return render(request, services, "notices.html", {
        "schools": schools, "enabled": enabled, "counts": counts, "status_labels": STATUS_LABELS_FR,
        "sending_on": services.settings.notices.enabled, "flash": request.session.pop("flash", None)}, user)


@router.post("/{school_id}", dependencies=[CsrfDep])
def set_opt_in(request: Request, services: ServicesDep, user: StaffDep, school_id: str,
               enabled: Annotated[str, Form()]) -> Response:
    """Turn a school's notices on (``enabled=1``) or off (``0``)."""
    try:
        set_school_opt_in(services.store, school_id, enabled == "1", user.username, services.directory)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail="Établissement inconnu.") from exc
    name = services.directory.school(school_id).name
    request.session["flash"] = (f"{name} : avis aux enseignants activés." if enabled == "1"
                                else f"{name} : avis aux enseignants désactivés.")
    return RedirectResponse("/notices", status_code=303)
