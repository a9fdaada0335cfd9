"""Quarantined and duplicate files: the list, the original file, and the actions (ask the school, release, delete).

Staff only (:func:`web.deps.require_staff`, as the rest of the desk); every view of an
original and every action is audited (SHA-256 and codes, never a file name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from pipeline.store import AuditRow, DocumentRow
from web.deps import CsrfDep, ServicesDep, StaffDep, render
from web.quarantine import (
    REQUEST_LABELS_FR,
    ask_school,
    delete,
    document,
    duplicates,
    quarantined,
    release,
    request_plan,
)
from web.review import OUTCOME_LABELS_ONE_FR

router = APIRouter(prefix="/quarantine")
FLASH = "flash"


@router.get("")
def quarantine_page(request: Request, services: ServicesDep, user: StaffDep) -> Response:
    """Quarantined files with their reasons and actions; duplicates with their originals."""
    with services.store.session() as s:
        items = quarantined(s)
        dups = duplicates(s, OUTCOME_LABELS_ONE_FR)
        plans = {i.sha256: request_plan(s, i.sha256, services.settings.mail.smtp) for i in items}
    return render(request, services, "quarantine.html", {
        "items": items, "duplicates": dups, "plans": plans, "flash": request.session.pop(FLASH, None)}, user)


def _known(services: ServicesDep, sha256: str) -> DocumentRow:
    with services.store.session() as s:
        row = document(s, sha256)
    if row is None:
        raise HTTPException(status_code=404, detail="Fichier introuvable en quarantaine ou parmi les doublons.")
    return row


@router.get("/{sha256}/file")
def original_file(services: ServicesDep, user: StaffDep, sha256: str, download: bool = False) -> Response:
    """The original as received: shown in the browser, or downloaded with ``?download=1`` (audited)."""
    row = _known(services, sha256)
    path = Path(row.stored_path)
    if not path.is_file():
        raise HTTPException(status_code=404, detail="Fichier original absent du stockage.")
    with services.store.session() as s:
        s.add(AuditRow(actor=user.username, action="quarantine_file_" + ("downloaded" if download else "viewed"),
                       sha256=sha256, detail="document"))
    extension = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/tiff": ".tif",
                 "image/heic": ".heic"}.get(row.media_type, ".bin")
    name = f"fichier-{sha256[:12]}{extension}"  # not the school's name for it, which may name a pupil
    return FileResponse(path, media_type=row.media_type, filename=name,
                        content_disposition_type="attachment" if download else "inline")


@router.post("/{sha256}/ask", dependencies=[CsrfDep])
def ask(request: Request, services: ServicesDep, user: StaffDep, sha256: str) -> Response:
    """Ask the school that mailed the file to send it again (at most once per file)."""
    try:
        status = ask_school(services.store, sha256, services.settings.mail.smtp, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=404, detail="Fichier introuvable en quarantaine.") from exc
    request.session[FLASH] = f"Fichier {sha256[:12]} : {REQUEST_LABELS_FR[status]}"
    return RedirectResponse("/quarantine", status_code=303)


@router.post("/{sha256}/release", dependencies=[CsrfDep])
def release_file(request: Request, services: ServicesDep, user: StaffDep, sha256: str) -> Response:
    """Read the file again with the pipeline and decide it as a run would."""
    try:
        result = release(services.store, services.settings, services.directory, sha256, user.username)
    except LookupError as exc:
        raise HTTPException(status_code=409, detail="Ce fichier n'est plus en quarantaine.") from exc
    outcome = OUTCOME_LABELS_ONE_FR.get(result.outcome.value, result.outcome.value)
    form = f" (fiche {result.form_id})" if result.form_id else ""
    still = f" : {' '.join(result.reasons_fr)}" if result.outcome.value == "quarantined" else ""
    request.session[FLASH] = f"Fichier {sha256[:12]} relu{form} : {outcome}{still}."
    return RedirectResponse("/quarantine", status_code=303)


@router.post("/{sha256}/delete", dependencies=[CsrfDep])
def delete_file(request: Request, services: ServicesDep, user: StaffDep, sha256: str,
                confirmed: Annotated[str, Form()] = "") -> Response:
    """Delete the file and everything recorded about it (confirmed; audited)."""
    if confirmed != "1":
        raise HTTPException(status_code=422, detail="Cocher la confirmation avant de supprimer le fichier.")
    if not delete(services.store, sha256, user.username, services.settings.data_dir):
        raise HTTPException(status_code=404, detail="Fichier introuvable en quarantaine ou parmi les doublons.")
    request.session[FLASH] = f"Fichier {sha256[:12]} supprimé (original et enregistrements)."
    return RedirectResponse("/quarantine", status_code=303)

