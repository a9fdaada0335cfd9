"""Review: the list of forms awaiting a person, the supervisor queue, a form's page, its images, the decisions.

Every view of a form and every decision is written to the audit trail. Images (pages,
crops) are for staff only, like the form page itself. A form set aside leaves the staff's
list for the supervisor queue (``/review/supervisor``): only a supervisor (an admin account)
sees that queue and decides those forms; staff asking to decide one get 403.

Agreements and signatures are confirmed from the image, never ticked by hand; a misread one
is claimed with a reason and confirmed by an admin before routing; a form missing a page or
a consent is returned to the school (``/return``), which reuses the rejection's notice
(:mod:`web.consent`, issue 17).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from pipeline.form.definition import MARGIN_PT, PAGE_WIDTH_PT, Rect, form_v1
from pipeline.reading.crops import crop_path
from pipeline.store import DocumentRow, ReviewItemRow
from web.audit import audit_form
from web.consent import ClaimError, claim_misread, decide_claim, return_reason_fr
from web.deps import AdminDep, CsrfDep, CurrentUser, DbId, Services, ServicesDep, StaffDep, SupervisorDep, render
from web.images import crop_png, outlined_page_png
from web.rejection import PLAN_LABELS_FR, plan_notice
from web.review import (
    OUTCOME_LABELS_ONE_FR,
    REVIEW_STATUS_LABELS_FR,
    SOURCE_LABELS_FR,
    Approved,
    ConsentNotFromImage,
    FormView,
    NotDecidable,
    PageMissing,
    Rejected,
    ReviewStatus,
    SamePupil,
    StillInvalid,
    Unverified,
    approve,
    decidable_by,
    load_form,
    mark_duplicate,
    parse_corrections,
    reject,
    review_queue,
    set_aside,
    with_submission,
)

router = APIRouter(prefix="/review")
FLASH = "flash"
MAX_REASON_CHARS = 1000
SUPERVISOR_ONLY_FR = "Fiche mise de côté : seul(e) un(e) responsable (compte administrateur) peut la traiter."
TICK_LABEL_PT = 200.0
"""Width added right of a tick field's boxes in its crop, so the label of the last box shows."""


def _form_url(form_id: str) -> str:
    return f"/review/{quote(form_id, safe='')}"


def _load(services: Services, form_id: str) -> FormView:
    with services.store.session() as s:
        view = load_form(s, form_id, services.settings.ocr.text_confidence_min)
    if view is None:
        raise HTTPException(status_code=404, detail="Fiche introuvable.")
    return view


def _next_form(services: Services, after: str) -> str | None:
    with services.store.session() as s:
        ids = [q.form_id for q in review_queue(s)]
    return next((i for i in ids if i != after), None)


def _notice_plan(services: Services, view: FormView) -> str | None:
    """What a rejection would do with the reason, in French (``None`` once the form is decided)."""
    if not view.decidable:
        return None
    with services.store.session() as s:
        plan = plan_notice(s, view.form_id, services.settings.mail.smtp)
    return PLAN_LABELS_FR[plan.status]


def _guard(services: Services, user: CurrentUser, form_id: str) -> str | None:
    """The form's review status, before a decision.

    Raises:
        HTTPException: 403 when the form is set aside and the user is no supervisor.
    """
    with services.store.session() as s:
        status = s.scalar(select(ReviewItemRow.status).where(ReviewItemRow.form_id == form_id))
    if status == ReviewStatus.SET_ASIDE.value and not user.is_supervisor:
        raise HTTPException(status_code=403, detail=SUPERVISOR_ONLY_FR)
    return status


def _list_after(status: str | None) -> str:
    """Where a decision sends the reviewer back: the list the form was in."""
    return "/review/supervisor" if status == ReviewStatus.SET_ASIDE.value else "/review"


def _form_page(request: Request, services: Services, user: CurrentUser, view: FormView, *,
               error: str | None = None, same_pupil: str | None = None, status_code: int = 200) -> Response:
    return render(request, services, "form.html", {
        "view": view, "form_url": _form_url(view.form_id), "status_labels": REVIEW_STATUS_LABELS_FR,
        "outcome_labels": OUTCOME_LABELS_ONE_FR, "source_labels": SOURCE_LABELS_FR,
        "confidence_min": services.settings.ocr.text_confidence_min,  # the review threshold, as in _load
        "flash": request.session.pop(FLASH, None), "error": error, "same_pupil": same_pupil,
        "next_form": _next_form(services, view.form_id), "notice_plan": _notice_plan(services, view),
        "may_decide": view.decidable_by(user.is_supervisor),
        "supervisor_only": view.review_status == ReviewStatus.SET_ASIDE.value and not user.is_supervisor,
        "consent_fields": [f for f in view.fields if f.consent and not f.unreceived],
    }, user, status_code)


@router.get("")
def review_list(request: Request, services: ServicesDep, user: StaffDep) -> Response:
    """Forms awaiting review, least confident first, with why each is there."""
    with services.store.session() as s:
        items = review_queue(s)
    return render(request, services, "review_list.html",
                  {"items": items, "status_labels": REVIEW_STATUS_LABELS_FR, "form_url": _form_url,
                   "flash": request.session.pop(FLASH, None), "supervisor_queue": False}, user)


@router.get("/supervisor")
def supervisor_list(request: Request, services: ServicesDep, user: SupervisorDep) -> Response:
    """Forms set aside for a supervisor, least confident first; each opens on the form page and its decisions."""
    with services.store.session() as s:
        items = review_queue(s, ReviewStatus.SET_ASIDE)
    return render(request, services, "review_list.html",
                  {"items": items, "status_labels": REVIEW_STATUS_LABELS_FR, "form_url": _form_url,
                   "flash": request.session.pop(FLASH, None), "supervisor_queue": True}, user)


@router.get("/{form_id}")
def form_page(request: Request, services: ServicesDep, user: StaffDep, form_id: str) -> Response:
    """A form: page images with problem zones, doubtful fields with crops, the decisions (audited view)."""
    view = _load(services, form_id)
    with services.store.session() as s:
        audit_form(s, user.username, "form_viewed", form_id)
    return _form_page(request, services, user, view)


def _documents(services: Services, form_id: str) -> list[tuple[Path, str]]:
    with services.store.session() as s:
        docs = s.scalars(select(DocumentRow).where(DocumentRow.form_id == form_id)
                         .order_by(DocumentRow.original_name)).all()
        return [(Path(d.stored_path), d.media_type) for d in docs]


def _png(data: bytes) -> Response:
    return Response(data, media_type="image/png")


@router.get("/{form_id}/page/{page}")
def page_image(services: ServicesDep, user: StaffDep, form_id: str, page: int) -> Response:
    """The form's page ``page`` with its doubtful zones outlined and numbered as on the form page."""
    view = _load(services, form_id)
    pages = services.pages.get(form_id, _documents(services, form_id))
    if page not in pages:
        raise HTTPException(status_code=404, detail="Page non reçue.")
    zones = [(i, f.rect) for i, f in enumerate(view.doubtful, start=1) if f.page == page]
    return _png(outlined_page_png(pages[page], zones, services.web.page_dpi))


@router.get("/{form_id}/crop/{field}")
def field_crop(services: ServicesDep, user: StaffDep, form_id: str, field: str) -> Response:
    """The zone of one field: the crop the scan reader kept for a doubtful field, else cut from the aligned page."""
    try:
        zone = form_v1().field(field)
    except KeyError as exc:
        raise HTTPException(status_code=404, detail="Champ inconnu.") from exc
    if not _documents(services, form_id):
        raise HTTPException(status_code=404, detail="Fiche introuvable.")
    try:
        kept = crop_path(services.settings.data_dir, form_id, zone.page, zone.name)
    except ValueError:
        kept = None
    if kept is not None and kept.is_file():  # read at scan time (pipeline.reading.extract), no re-registration
        return _png(kept.read_bytes())
    pages = services.pages.get(form_id, _documents(services, form_id))
    rect = zone.rect
    if zone.is_tick:  # labels are printed right of each box: show them with the ticks
        rect = Rect(rect.x0, rect.top, min(PAGE_WIDTH_PT - MARGIN_PT, rect.x1 + TICK_LABEL_PT), rect.bottom)
    data = crop_png(pages[zone.page], rect) if zone.page in pages else None
    if data is None:
        raise HTTPException(status_code=404, detail="Zone non disponible pour cette page.")
    return _png(data)


@router.post("/{form_id}/approve", dependencies=[CsrfDep])
async def approve_form(request: Request, services: ServicesDep, user: StaffDep, form_id: str) -> Response:
    """Apply the corrections, re-validate, route; back to the form page with the outcome."""
    await run_in_threadpool(_guard, services, user, form_id)
    form = await request.form()
    corrections = parse_corrections({k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form})
    verified = {key[2:] for key in form if key.startswith("v.") and form.get(key) == "1"}
    confirmed = form.get("same_pupil_confirmed") == "1"
    result = await run_in_threadpool(approve, services.store, form_id, corrections, services.directory,
                                     services.settings, user.username, verified=verified,
                                     same_pupil_confirmed=confirmed, supervisor=user.is_supervisor)
    if isinstance(result, Approved):
        services.pages.forget(form_id)
        where = services.directory.carrier(result.carrier_id).name if result.carrier_id else None
        request.session[FLASH] = (f"Fiche {form_id} validée et orientée vers {where}." if where
                                  else f"Fiche {form_id} validée : liste d'attente ({result.reason_fr})")
        return RedirectResponse(_form_url(form_id), status_code=303)
    view = await run_in_threadpool(_load, services, form_id)
    if isinstance(result, NotDecidable):
        return _form_page(request, services, user, view, status_code=409,
                          error="Cette fiche a déjà été traitée : rien n'a été modifié.")
    if isinstance(result, Unverified):
        return _form_page(request, services, user, with_submission(view, result.values, (), verified),
                          status_code=422, error=result.message_fr)
    if isinstance(result, SamePupil):
        return _form_page(request, services, user, with_submission(view, result.values, (), verified),
                          status_code=409, same_pupil=result.earlier_form_id,
                          error=f"Cet(te) élève a déjà une orientation cette année (fiche {result.earlier_form_id}).")
    if isinstance(result, PageMissing):
        return _form_page(request, services, user, view, status_code=422, error=result.message_fr)
    if isinstance(result, ConsentNotFromImage):
        return _form_page(request, services, user, with_submission(view, result.values, (), verified),
                          status_code=409 if result.pending else 422, error=result.message_fr)
    if isinstance(result, StillInvalid):
        hint = (" Un accord ou une signature manque sur l'image : renvoyer la fiche à l'école."
                if view.absent_consents else "")
        return _form_page(request, services, user, with_submission(view, result.values, result.issues, verified),
                          status_code=422, error="La fiche n'est toujours pas valide : corriger les champs signalés."
                          + hint)
    raise HTTPException(status_code=500, detail="unexpected approval result")


@router.post("/{form_id}/reject", dependencies=[CsrfDep])
def reject_form(request: Request, services: ServicesDep, user: StaffDep, form_id: str,
                reason: Annotated[str, Form()]) -> Response:
    """Reject with a reason for the school; the page says whether it was sent to the school."""
    before = _guard(services, user, form_id)
    reason = " ".join(reason.split())[:MAX_REASON_CHARS]
    if not reason:
        return _form_page(request, services, user, _load(services, form_id), status_code=422,
                          error="Indiquer le motif du rejet (il sera transmis à l'école).")
    return _sent_back(request, services, user, form_id, reason, before, f"Fiche {form_id} rejetée.")


def _sent_back(request: Request, services: Services, user: CurrentUser, form_id: str, reason: str,
               before: str | None, done_fr: str) -> Response:
    """Reject the form with ``reason`` (the school is told when replies are on) and go back to the list with
    ``done_fr`` and the notice.

    Raises:
        HTTPException: 409 when the form is no longer awaiting review.
    """
    result = reject(services.store, form_id, reason, user.username, services.settings.mail.smtp,
                    supervisor=user.is_supervisor)
    if not isinstance(result, Rejected):
        raise HTTPException(status_code=409, detail="Cette fiche n'est plus en attente de vérification.")
    services.pages.forget(form_id)
    request.session[FLASH] = f"{done_fr} {result.notice_fr}"
    return RedirectResponse(_list_after(before), status_code=303)


@router.post("/{form_id}/duplicate", dependencies=[CsrfDep])
def duplicate_form(request: Request, services: ServicesDep, user: StaffDep, form_id: str,
                   duplicate_of: Annotated[str, Form()]) -> Response:
    """Close as a duplicate of another referral (given by its form serial)."""
    before = _guard(services, user, form_id)
    if not mark_duplicate(services.store, form_id, duplicate_of.strip(), user.username,
                          supervisor=user.is_supervisor):
        return _form_page(request, services, user, _load(services, form_id), status_code=422,
                          error="Doublon non enregistré : indiquer le numéro d'une autre fiche déjà orientée "
                                "(ex. FO-2026-000123), et vérifier que celle-ci est encore à traiter.")
    services.pages.forget(form_id)
    request.session[FLASH] = f"Fiche {form_id} classée comme doublon de {duplicate_of.strip()}."
    return RedirectResponse(_list_after(before), status_code=303)


@router.post("/{form_id}/set-aside", dependencies=[CsrfDep])
def set_aside_form(request: Request, services: ServicesDep, user: StaffDep, form_id: str) -> Response:
    """Set aside for a supervisor."""
    if not set_aside(services.store, form_id, user.username):
        raise HTTPException(status_code=409, detail="Seule une fiche à vérifier peut être mise de côté.")
    request.session[FLASH] = f"Fiche {form_id} mise de côté pour un(e) responsable."
    return RedirectResponse("/review", status_code=303)


@router.post("/{form_id}/return", dependencies=[CsrfDep])
def return_to_school(request: Request, services: ServicesDep, user: StaffDep, form_id: str,
                     cause: Annotated[str, Form()]) -> Response:
    """Return a form to its school for a page that never arrived or an agreement or signature the image lacks.

    The reason is written from the form's state (pages not received, consents the image shows
    empty), never typed, and goes through the rejection's path (:func:`web.review.reject`): the
    school is told when replies are on, at most once.
    """
    before = _guard(services, user, form_id)
    view = _load(services, form_id)
    try:
        reason = return_reason_fr(cause, view.missing_pages, [f.name for f in view.absent_consents])
    except ValueError as exc:
        raise HTTPException(status_code=422, detail="Rien à demander à l'école pour cette fiche.") from exc
    return _sent_back(request, services, user, form_id, reason, before,
                      f"Fiche {form_id} renvoyée à l'école : {reason}")


@router.post("/{form_id}/consent-claim", dependencies=[CsrfDep])
def consent_claim(request: Request, services: ServicesDep, user: StaffDep, form_id: str,
                  field: Annotated[str, Form()], reason: Annotated[str, Form()] = "") -> Response:
    """Record that the machine misread an agreement or a signature; the form waits for an admin's confirmation."""
    _guard(services, user, form_id)
    try:
        claim_misread(services.store, form_id, field, reason, user.username, decidable_by(user.is_supervisor))
    except ClaimError as exc:
        return _form_page(request, services, user, _load(services, form_id), status_code=422, error=exc.message_fr)
    label = next(f.label for f in _load(services, form_id).fields if f.name == field)
    request.session[FLASH] = (f"Erreur de lecture signalée sur « {label} » : la fiche attend la confirmation "
                              "d'un(e) administrateur(trice) (mises de côté).")
    return RedirectResponse(_form_url(form_id), status_code=303)


@router.post("/{form_id}/consent-claim/{claim_id}", dependencies=[CsrfDep])
def consent_claim_decision(request: Request, services: ServicesDep, user: AdminDep, form_id: str, claim_id: DbId,
                           decision: Annotated[str, Form()]) -> Response:
    """An admin (not the claimant) confirms or refuses a misread claim."""
    if decision not in ("confirm", "refuse"):
        raise HTTPException(status_code=422, detail="Décision inconnue.")
    try:
        claim = decide_claim(services.store, form_id, claim_id, decision == "confirm", user.username)
    except ClaimError as exc:
        return _form_page(request, services, user, _load(services, form_id), status_code=422, error=exc.message_fr)
    services.pages.forget(form_id)
    request.session[FLASH] = f"Erreur de lecture sur « {claim.label} » {claim.status_fr}."
    return RedirectResponse(_form_url(form_id), status_code=303)

