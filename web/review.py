"""Review of a form: what the machine read, what is doubtful, and the four decisions staff take.

Approval uses the pipeline's own stages: the stored field values plus the reviewer's
corrections are re-validated by :func:`pipeline.deciding.validate.validate_referral`, then routed by
:func:`pipeline.deciding.route.route_referral` with :meth:`pipeline.store.Store.count_places` (under
:meth:`~pipeline.store.Store.lock_places`), exactly as the nightly flow does. The referral, the closed
review item, the documents' status, the corrections and the audit entry are written in one transaction.
Approval is refused while a doubtful field is not verified: the reviewer ticks « Vérifié » beside it (the
keyboard's Enter does) or corrects it, so no machine reading in doubt, a handwritten one
above all, is routed without a person having compared it with its image (issue 3). A
rejection's reason goes to the school that mailed the form when replies are on
(:mod:`web.rejection`). Agreements and signatures are taken from the image, never typed,
and a page that never arrived cannot be typed in (:mod:`web.consent`, issue 17).

Review item statuses: ``open`` → ``approved`` | ``rejected`` | ``duplicate``, or ``set_aside``
(waiting for a supervisor). Staff decide open forms; a set-aside form leaves the staff's
list for the supervisor queue, where only a supervisor (an admin account) decides it: each
decision takes ``supervisor`` and refuses a set-aside form without it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pipeline.deciding.decide import pupil_key
from pipeline.deciding.route import route_referral
from pipeline.deciding.validate import label_fr, validate_referral
from pipeline.form.definition import Field, FieldKind, Rect, form_v1
from pipeline.privacy.keys import pupil_hash_key
from pipeline.settings import Settings, SmtpSettings
from pipeline.store import (
    REFERRAL_DECLINED,
    DocumentRow,
    FieldResultRow,
    FieldVerificationRow,
    ReferralRow,
    ReviewItemRow,
    Store,
)
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import FormValues, RawValue
from schemas.referral import RouteOutcome, ValidationIssue
from web.audit import audit_form
from web.consent import (
    CONSENT_FIELDS,
    ClaimView,
    claims,
    confirmed_values,
    forged_consents,
    missing_pages,
    pending_fields,
)
from web.evidence import evidence_lines_fr
from web.models import CorrectionRow
from web.rejection import NOTICE_LABELS_FR, NoticeStatus, plan_notice, record_claim, send_notice

logger = logging.getLogger(__name__)


class ReviewStatus(StrEnum):
    """Where a review item stands."""

    OPEN = "open"
    SET_ASIDE = "set_aside"
    APPROVED = "approved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


REVIEW_STATUS_LABELS_FR: dict[str, str] = {
    ReviewStatus.OPEN: "à vérifier",
    ReviewStatus.SET_ASIDE: "mise de côté pour un(e) responsable",
    ReviewStatus.APPROVED: "validée",
    ReviewStatus.REJECTED: "rejetée",
    ReviewStatus.DUPLICATE: "doublon",
}
OUTCOME_LABELS_ONE_FR: dict[str, str] = {
    "routed": "orientée", "waiting_list": "liste d'attente", "review": "à vérifier",
    "quarantined": "en quarantaine", "duplicate": "doublon",
    REFERRAL_DECLINED: "refusée par la structure, à réorienter",
    "withdrawn": "élève inscrit(e) puis parti(e) en cours d'année",
}
"""One form's outcome in French (``OUTCOME_LABELS_FR`` are plurals for counts)."""
DECIDABLE = (ReviewStatus.OPEN.value, ReviewStatus.SET_ASIDE.value)
"""Statuses a supervisor may decide; staff decide ``open`` only (:func:`decidable_by`)."""


def decidable_by(supervisor: bool) -> tuple[str, ...]:
    """Review statuses the decider may act on: a supervisor also decides set-aside forms."""
    return DECIDABLE if supervisor else (ReviewStatus.OPEN.value,)

SOURCE_LABELS_FR: dict[str, str] = {
    "acroform": "PDF remplissable", "text_layer": "texte du PDF", "ocr": "lecture optique (OCR)",
    "omr": "cases (OMR)", "none": "page non reçue",
}


# --- reading --------------------------------------------------------------------

@dataclass(frozen=True)
class QueueItem:
    """One line of the review list (no personal data: serial, reasons, confidence).

    Attributes:
        form_id: The form serial.
        status: A :class:`ReviewStatus` value.
        min_confidence: Lowest field confidence (0-1).
        reasons_fr: Why it is there, in French.
        created_at: When the pipeline put it there.
    """

    form_id: str
    status: str
    min_confidence: float
    reasons_fr: tuple[str, ...]
    created_at: datetime


def review_queue(s: Session, status: ReviewStatus = ReviewStatus.OPEN) -> list[QueueItem]:
    """Forms waiting for a person, least confident first.

    Args:
        s: Session.
        status: ``OPEN`` for the staff's list, ``SET_ASIDE`` for the supervisor queue.
    """
    rows = s.scalars(select(ReviewItemRow).where(ReviewItemRow.status == status.value)
                     .order_by(ReviewItemRow.min_confidence, ReviewItemRow.created_at, ReviewItemRow.id)).all()
    return [QueueItem(r.form_id, r.status, r.min_confidence, tuple(str(x["message_fr"]) for x in r.reasons),
                      r.created_at) for r in rows]


@dataclass(frozen=True)
class Option:
    """One tick box of a choice field as shown to the reviewer."""

    code: str
    label: str
    ticked: bool


@dataclass(frozen=True)
class FieldView:
    """A field of the form as the reviewer sees it.

    Attributes:
        name: Field name (``form_v1()``).
        label: French name for staff.
        kind: Field kind value.
        page: 1-based page.
        rect: Zone in PDF points (top-left origin).
        value: Raw machine value.
        confidence: 0-1.
        source: Reader that produced it.
        reasons_fr: Problems reported on this field.
        doubtful: Whether the reviewer must look at it.
        options: For tick fields, each box and whether it was read as ticked.
        corrected_by: Who corrected the field when it was approved (``value`` is then the correction).
        machine_display: The machine's reading in words, when ``value`` is a correction.
        verified: The reviewer ticked « Vérifié » on it in a submission shown again.
        evidence_fr: What each reader read and what each rule did, in French, for the « Pourquoi » panel
            (:func:`evidence_lines_fr`).
        consent: An agreement or signature: confirmed from the image, never ticked by hand (:mod:`web.consent`).
        unreceived: On a page that never arrived: nothing to verify, nothing to type.
    """

    name: str
    label: str
    kind: str
    page: int
    rect: Rect
    value: RawValue
    confidence: float
    source: str
    reasons_fr: tuple[str, ...]
    doubtful: bool
    options: tuple[Option, ...] = ()
    corrected_by: str | None = None
    machine_display: str | None = None
    verified: bool = False
    evidence_fr: tuple[str, ...] = ()
    consent: bool = False
    unreceived: bool = False

    @property
    def text_value(self) -> str:
        """The value as an input's text (empty when none)."""
        return self.value if isinstance(self.value, str) else ""

    @property
    def is_tick(self) -> bool:
        """Whether the field is edited as tick boxes."""
        return self.kind in (FieldKind.CHOICE.value, FieldKind.FLAG.value, FieldKind.SIGNATURE.value)

    @property
    def display(self) -> str:
        """The machine value in French words."""
        if self.kind == FieldKind.CHOICE.value:
            ticked = [o.label for o in self.options if o.ticked]
            return ", ".join(ticked) if ticked else "aucune case cochée"
        if self.kind in (FieldKind.FLAG.value, FieldKind.SIGNATURE.value):
            return ("signature présente" if self.value else "pas de signature") \
                if self.kind == FieldKind.SIGNATURE.value else ("cochée" if self.value else "non cochée")
        return self.text_value or "(vide)"


@dataclass(frozen=True)
class DocumentView:
    """A file that carried pages of the form."""

    sha256: str
    original_name: str
    media_type: str
    status: str


@dataclass
class FormView:
    """Everything the form page shows.

    Attributes:
        form_id: The serial.
        documents: Files carrying its pages.
        fields: Every field in form order.
        form_reasons_fr: Reasons that concern no single field (missing page…).
        review_status: The review item's status, or ``None`` when the form never went to review.
        referral: The referral row's status and carrier, when one exists.
        pages: Form page numbers received.
        missing_pages: Form pages that never arrived (their fields cannot be typed in).
        claims: Misread claims on its consent fields (:mod:`web.consent`).
    """

    form_id: str
    documents: list[DocumentView]
    fields: list[FieldView]
    form_reasons_fr: list[str]
    review_status: str | None
    referral_status: str | None = None
    carrier_id: str | None = None
    pages: list[int] = field(default_factory=list)
    missing_pages: list[int] = field(default_factory=list)
    claims: list[ClaimView] = field(default_factory=list)

    @property
    def doubtful(self) -> list[FieldView]:
        """Fields the reviewer must look at, in form order (none of a page not received)."""
        return [f for f in self.fields if f.doubtful and not f.unreceived]

    @property
    def others(self) -> list[FieldView]:
        """Fields read without doubt (still correctable, except agreements and signatures)."""
        return [f for f in self.fields if not f.doubtful and not f.unreceived]

    @property
    def unreceived(self) -> list[FieldView]:
        """Fields of the pages that never arrived."""
        return [f for f in self.fields if f.unreceived]

    @property
    def absent_consents(self) -> list[FieldView]:
        """Agreements and signatures the image shows missing (on pages received)."""
        return [f for f in self.fields if f.consent and not f.unreceived and not f.value]

    @property
    def pending_claims(self) -> list[ClaimView]:
        """Misread claims still waiting for an admin."""
        return [c for c in self.claims if c.status == "pending"]

    @property
    def decidable(self) -> bool:
        """Whether staff can still approve, reject, mark as duplicate or set aside."""
        return self.review_status in DECIDABLE

    def decidable_by(self, supervisor: bool) -> bool:
        """Whether this reviewer may decide it now (a set-aside form is a supervisor's)."""
        return self.review_status in decidable_by(supervisor)


def _options(f: Field, value: RawValue) -> tuple[Option, ...]:
    if f.kind is FieldKind.CHOICE:
        ticked = set(value) if isinstance(value, list) else set()
        return tuple(Option(b.option, b.label, b.option in ticked) for b in f.boxes)
    if f.kind in (FieldKind.FLAG, FieldKind.SIGNATURE):
        label = "Signature présente" if f.kind is FieldKind.SIGNATURE else "Cochée"
        return (Option("yes", label, bool(value)),)
    return ()


def doubtful_names(rows: Iterable[FieldResultRow], reasons: Iterable[Mapping[str, Any]],
                   confidence_min: float) -> set[str]:
    """Fields a person must verify: read under ``confidence_min`` (0-1), or named by a review reason.

    Args:
        rows: The form's stored readings.
        reasons: The review item's reasons (``{"field": name | None, "code": …, "message_fr": …}``).
        confidence_min: ``settings.ocr.text_confidence_min``, the threshold the pipeline used.
    """
    low = {r.name for r in rows if r.source != "none" and r.confidence < confidence_min}
    return low | {str(r["field"]) for r in reasons if r.get("field")}


def load_form(s: Session, form_id: str, confidence_min: float) -> FormView | None:
    """The form page's data, or ``None`` when no document carries that serial.

    Args:
        s: Session.
        form_id: The serial (shared serials carry ``@`` and a file prefix).
        confidence_min: Threshold under which a read field is doubtful
            (``settings.ocr.text_confidence_min``, the one the pipeline used).
    """
    docs = s.scalars(select(DocumentRow).where(DocumentRow.form_id == form_id)
                     .order_by(DocumentRow.original_name)).all()
    if not docs:
        return None
    item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id))
    referral = s.scalar(select(ReferralRow).where(ReferralRow.form_id == form_id))
    rows = {r.name: r for r in s.scalars(select(FieldResultRow).where(FieldResultRow.form_id == form_id))}
    corrections = {c.field: c for c in s.scalars(select(CorrectionRow).where(CorrectionRow.form_id == form_id)
                                                 .order_by(CorrectionRow.id))}
    reasons = list(item.reasons) if item else list(docs[0].reasons)
    by_field: dict[str, list[str]] = {}
    form_reasons: list[str] = []
    for r in reasons:
        if r.get("field"):
            by_field.setdefault(str(r["field"]), []).append(str(r["message_fr"]))
        else:
            form_reasons.append(str(r["message_fr"]))
    doubtful = doubtful_names(rows.values(), reasons, confidence_min)
    missing = missing_pages(rows.values())
    confirmed = confirmed_values(s, form_id)
    fields = []
    for f in form_v1().fields:
        row = rows.get(f.name)
        value: RawValue = row.value if row else None
        confidence = row.confidence if row else 0.0
        source = row.source if row else "none"
        view = FieldView(f.name, label_fr(f.name), f.kind.value, f.page, _stored_rect(row, f.rect), value, confidence,
                         source,
                         tuple(by_field.get(f.name, ())), f.name in doubtful, _options(f, value),
                         evidence_fr=evidence_lines_fr(row.evidence if row else None),
                         consent=f.name in CONSENT_FIELDS, unreceived=f.page in missing)
        if f.name in corrections:
            fixed = corrections[f.name]
            view = replace(view, value=fixed.corrected_value, options=_options(f, fixed.corrected_value),
                           corrected_by=fixed.actor, machine_display=view.display)
        elif f.name in confirmed:  # a misread consent an admin confirmed: shown as approval will use it
            view = replace(view, value=confirmed[f.name], options=_options(f, confirmed[f.name]),
                           corrected_by="erreur de lecture confirmée", machine_display=view.display)
        fields.append(view)
    pages = sorted({f.page for f in fields if f.source != "none"})
    return FormView(form_id, [DocumentView(d.sha256, d.original_name, d.media_type, d.status) for d in docs],
                    fields, form_reasons, item.status if item else None,
                    referral.status if referral else None, referral.carrier_id if referral else None, pages,
                    missing, claims(s, form_id))


# --- corrections ----------------------------------------------------------------

def parse_corrections(form: Mapping[str, Sequence[str]]) -> dict[str, RawValue]:
    """Read the submitted field inputs into raw values (the shape of ``schemas.extraction``).

    Every field rendered on the page sends ``p.<name>`` (so an unticked group is seen
    as "nothing ticked", not "not sent"); text values come as ``f.<name>``, ticked
    boxes as several ``f.<name>`` option codes. Unknown field names are ignored.
    """
    known = {f.name: f for f in form_v1().fields}
    values: dict[str, RawValue] = {}
    for key in form:
        if not key.startswith("p."):
            continue
        name = key[2:]
        f = known.get(name)
        if f is None:
            continue
        sent = [v for v in form.get(f"f.{name}", []) if isinstance(v, str)]
        if f.kind is FieldKind.CHOICE:
            codes = {b.option for b in f.boxes}
            values[name] = [b.option for b in f.boxes if b.option in set(sent) & codes]
        elif f.kind in (FieldKind.FLAG, FieldKind.SIGNATURE):
            values[name] = "yes" in sent
        else:
            text = " ".join((sent[0] if sent else "").split())
            values[name] = text or None
    return values


# --- decisions ------------------------------------------------------------------

@dataclass(frozen=True)
class Approved:
    """The form was validated and routed (or put on the waiting list)."""

    outcome: Outcome
    carrier_id: str | None
    reason_fr: str


@dataclass(frozen=True)
class Unverified:
    """Doubtful fields were neither ticked « Vérifié » nor corrected: nothing was written.

    Attributes:
        fields: Their names, in form order.
        values: What the reviewer submitted (stored readings with the corrections).
    """

    fields: tuple[str, ...]
    values: FormValues

    @property
    def message_fr(self) -> str:
        """What the page tells the reviewer."""
        names = ", ".join(f"« {label_fr(n)} »" for n in self.fields)
        return (f"Champs douteux pas encore vérifiés : {names}. Les comparer à l'image, les corriger si besoin, "
                "puis cocher « Vérifié ».")


@dataclass(frozen=True)
class StillInvalid:
    """Validation still fails after the corrections: nothing was written."""

    issues: tuple[ValidationIssue, ...]
    values: FormValues


@dataclass(frozen=True)
class SamePupil:
    """The pupil already has a referral this year: confirm, or mark as duplicate."""

    earlier_form_id: str
    values: FormValues


@dataclass(frozen=True)
class NotDecidable:
    """The form is not (or no longer) waiting for review: someone decided it meanwhile."""

    status: str | None


@dataclass(frozen=True)
class PageMissing:
    """A page of the form never arrived: nothing of it can be typed in; ask the school (nothing written)."""

    pages: tuple[int, ...]

    @property
    def message_fr(self) -> str:
        """What the page tells the reviewer."""
        listed = ", ".join(str(p) for p in self.pages)
        return (f"Page {listed} non reçue : ses champs ne peuvent pas être saisis à la main. "
                "Demander la page manquante à l'école.")


@dataclass(frozen=True)
class ConsentNotFromImage:
    """The submission ticks or unticks an agreement or a signature against the image (nothing written).

    Attributes:
        fields: The consent fields concerned, in form order.
        values: What the reviewer submitted.
        pending: Whether a misread claim on the form still waits for an admin (rather than a forged value).
    """

    fields: tuple[str, ...]
    values: FormValues
    pending: bool = False

    @property
    def message_fr(self) -> str:
        """What the page tells the reviewer."""
        names = ", ".join(f"« {label_fr(n)} »" for n in self.fields)
        if self.pending:
            return (f"Erreur de lecture signalée sur {names} : un(e) administrateur(trice) doit la confirmer "
                    "avant que la fiche soit orientée.")
        return (f"Les accords et signatures se confirment d'après l'image, ils ne se cochent pas à la main : {names}. "
                "Si la machine a mal lu, signaler l'erreur de lecture (avec le motif) ; sinon renvoyer la fiche "
                "à l'école.")


ApproveResult = Approved | Unverified | StillInvalid | SamePupil | NotDecidable | PageMissing | ConsentNotFromImage


def _decidable_item(s: Session, form_id: str, supervisor: bool) -> ReviewItemRow | None:
    """The form's review item when it may still be decided, read under the decisions' lock
    (:meth:`pipeline.store.Store.lock_places`), which the caller's transaction then holds."""
    Store.lock_places(s)
    item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id).with_for_update())
    return item if item is not None and item.status in decidable_by(supervisor) else None


def _set_documents(s: Session, form_id: str, status: Outcome, reasons: list[dict[str, Any]] | None = None) -> None:
    for doc in s.scalars(select(DocumentRow).where(DocumentRow.form_id == form_id)):
        doc.status = status.value
        if reasons is not None:
            doc.reasons = reasons


def approve(store: Store, form_id: str, corrections: Mapping[str, RawValue], directory: Directory,
            settings: Settings, actor: str, *, verified: Collection[str], same_pupil_confirmed: bool = False,
            supervisor: bool = False) -> ApproveResult:
    """Verify, correct, re-validate, route and record a form, in one transaction.

    Args:
        store: The store (its ``count_places`` counts places as the nightly flow does, under ``lock_places``).
        form_id: The serial.
        corrections: Field name → value typed by the reviewer (unchanged fields may be included).
        verified: Fields the reviewer ticked « Vérifié ». Every doubtful field (:func:`doubtful_names`)
            must be in it or corrected to another value, else :class:`Unverified`.
        directory: Schools and carriers.
        settings: Product settings (school year, secret for the pupil key).
        actor: Username, for the audit trail and the corrections.
        same_pupil_confirmed: The reviewer checked that an earlier referral of the same
            pupil this year is not this one.
        supervisor: The reviewer is a supervisor (may decide a set-aside form).

    Returns:
        :class:`Approved`, or why not (nothing is written then).
    """
    with store.session() as s:
        # One decision at a time, from the item's status to the place taken: _decidable_item takes the lock.
        item = _decidable_item(s, form_id, supervisor)
        if item is None:
            current = s.scalar(select(ReviewItemRow.status).where(ReviewItemRow.form_id == form_id))
            return NotDecidable(current)
        rows = {r.name: r for r in s.scalars(select(FieldResultRow).where(FieldResultRow.form_id == form_id))}
        missing = missing_pages(rows.values())
        if missing:
            return PageMissing(tuple(missing))
        machine: FormValues = {name: r.value for name, r in rows.items()}
        awaiting_admin = pending_fields(s, form_id)
        if awaiting_admin:
            return ConsentNotFromImage(tuple(n for n in CONSENT_FIELDS if n in awaiting_admin),
                                       {**machine, **corrections}, pending=True)
        confirmed = confirmed_values(s, form_id)
        forged = forged_consents(corrections, machine, confirmed)
        if forged:
            return ConsentNotFromImage(tuple(forged), {**machine, **corrections})
        corrections = {**{n: v for n, v in corrections.items() if n not in CONSENT_FIELDS}, **confirmed}
        values: FormValues = {**machine, **corrections}
        acted_on = set(verified) | {n for n, v in corrections.items() if machine.get(n) != v}
        doubtful = doubtful_names(rows.values(), item.reasons, settings.ocr.text_confidence_min)
        unverified = tuple(f.name for f in form_v1().fields if f.name in doubtful - acted_on)
        if unverified:
            return Unverified(unverified, values)
        validation = validate_referral(values, directory, settings.school_year)
        if validation.referral is None:
            return StillInvalid(validation.issues, values)
        referral = validation.referral
        key = pupil_key(referral.pupil.surname, referral.pupil.first_name, referral.pupil.birth_date,
                        pupil_hash_key(settings))
        earlier = s.scalar(select(ReferralRow.form_id).where(
            ReferralRow.pupil_key == key, ReferralRow.school_year == referral.school_year,
            ReferralRow.form_id != form_id).limit(1))
        if earlier is not None and not same_pupil_confirmed:
            return SamePupil(earlier, values)
        route = route_referral(referral, directory, store.count_places(s, settings.school_year))
        outcome = Outcome.ROUTED if route.outcome is RouteOutcome.ROUTED else Outcome.WAITING_LIST

        row = s.scalar(select(ReferralRow).where(ReferralRow.form_id == form_id))
        if row is None:
            row = ReferralRow(form_id=form_id)
            s.add(row)
        row.school_year, row.pupil_key = referral.school_year, key
        row.school_id, row.class_level = referral.school_id, referral.class_level.value
        row.status, row.carrier_id = outcome.value, route.carrier_id
        row.data = referral.model_dump(mode="json")
        item.status = ReviewStatus.APPROVED.value
        waiting = [{"field": None, "code": "waiting_list", "message_fr": route.reason_fr}]
        _set_documents(s, form_id, outcome, [] if outcome is Outcome.ROUTED else waiting)
        changed = sorted(n for n, v in corrections.items() if machine.get(n) != v)
        for name in changed:
            s.add(CorrectionRow(form_id=form_id, field=name, machine_value=machine.get(name),
                                corrected_value=corrections[name], actor=actor))
        keep_verifications(s, form_id, rows, set(verified) | set(changed), values, set(changed))
        audit_form(s, actor, "review_approved", form_id,
                   f"outcome {outcome.value}; carrier {route.carrier_id or '-'}; "
                   f"corrected: {','.join(changed) or '-'}; verified: {','.join(sorted(doubtful)) or '-'}"
                   + (f"; consent misread confirmed: {','.join(sorted(confirmed))}" if confirmed else "")
                   + ("; same pupil confirmed" if earlier else ""))
    logger.info("form approved: outcome=%s carrier=%s corrected=%d", outcome.value, route.carrier_id, len(changed))
    return Approved(outcome, route.carrier_id, route.reason_fr)


def keep_verifications(s: Session, form_id: str, rows: Mapping[str, FieldResultRow], names: Collection[str],
                       values: FormValues, corrected: Collection[str]) -> None:
    """Keep each field a person verified or corrected, to calibrate the readers (``clas-referrals calibrate``,
    ``pipeline.reading.calibration``, issue 18): the readers' values and scores from the field's evidence, the
    machine's value and confidence, the approved value, and its crop's path under the data folder
    (``pipeline.reading.crops.crop_path``). Personal data: kept in the store
    and erased with the form (``pipeline.privacy``), never logged.

    Args:
        s: The approval's session (the records are written in its transaction).
        form_id: The form's serial.
        rows: Its field results by name.
        names: Fields ticked « Vérifié » or corrected.
        values: The approved values.
        corrected: Of ``names``, the ones the person changed.
    """
    for name in sorted(n for n in names if n in rows):
        row, evidence = rows[name], rows[name].evidence or {}
        s.add(FieldVerificationRow(form_id=form_id, name=name, crop=f"crops/{form_id}/p{row.page}/{name}.png",
                                   readings=list(evidence.get("readings") or []),
                                   rules=list(evidence.get("rules") or []),
                                   machine_value=row.value, machine_confidence=row.confidence,
                                   final_value=values.get(name), corrected=name in corrected))


@dataclass(frozen=True)
class Rejected:
    """The form was rejected; ``notice`` says whether the school was told (``web.rejection``)."""

    notice: NoticeStatus

    @property
    def notice_fr(self) -> str:
        """What became of the notice, in French, for the page."""
        return NOTICE_LABELS_FR[self.notice]


def reject(store: Store, form_id: str, reason_fr: str, actor: str, smtp: SmtpSettings, *,
           supervisor: bool = False) -> Rejected | NotDecidable:
    """Reject a form with a reason for the school, and send it to the school when replies are on.

    The reason is kept on the review item. The documents keep their ``review`` outcome
    (the pipeline's accounting has no "rejected"); the review item's status says it was
    decided. The status changes by one conditional ``UPDATE``, so of two rejections of
    the same form only one succeeds, and only that one may send a notice (at most once
    per form; see :mod:`web.rejection`).

    Args:
        store: The store.
        form_id: The serial.
        reason_fr: Why, as staff wrote it for the school.
        actor: Username, for the audit trail.
        smtp: The replies' SMTP settings (``settings.mail.smtp``).
        supervisor: The reviewer is a supervisor (may decide a set-aside form).

    Returns:
        :class:`Rejected` with the notice's fate, or :class:`NotDecidable` (nothing written, nothing sent).
    """
    with store.session() as s:
        claimed = s.execute(update(ReviewItemRow).where(
            ReviewItemRow.form_id == form_id, ReviewItemRow.status.in_(decidable_by(supervisor)),
        ).values(status=ReviewStatus.REJECTED.value))
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return NotDecidable(s.scalar(select(ReviewItemRow.status).where(ReviewItemRow.form_id == form_id)))
        item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id))
        if item is None:  # the UPDATE above matched it in this transaction
            raise RuntimeError(f"review item of {form_id} vanished")
        item.reasons = [*item.reasons, {"field": None, "code": "rejected_by_staff", "message_fr": reason_fr}]
        audit_form(s, actor, "review_rejected", form_id)
        plan = plan_notice(s, form_id, smtp)
        record_claim(s, item, plan, actor)
    return Rejected(send_notice(store, form_id, plan, reason_fr, smtp, actor))


def mark_duplicate(store: Store, form_id: str, other_form_id: str, actor: str, *, supervisor: bool = False) -> bool:
    """Close a form as a duplicate of another referral; ``False`` if not decidable or the other is unknown.

    ``supervisor``: the reviewer may decide a set-aside form.
    """
    with store.session() as s:
        if other_form_id == form_id or s.scalar(
                select(ReferralRow.id).where(ReferralRow.form_id == other_form_id)) is None:
            return False
        item = _decidable_item(s, form_id, supervisor)
        if item is None:
            return False
        item.status = ReviewStatus.DUPLICATE.value
        message = f"Doublon de la fiche {other_form_id} (décision de l'équipe)."
        item.reasons = [*item.reasons, {"field": None, "code": "duplicate_of", "message_fr": message}]
        _set_documents(s, form_id, Outcome.DUPLICATE)
        referral = s.scalar(select(ReferralRow).where(ReferralRow.form_id == form_id))
        if referral is not None:
            referral.status = Outcome.DUPLICATE.value
        audit_form(s, actor, "review_duplicate", form_id, f"duplicate of {other_form_id}")
    return True


def set_aside(store: Store, form_id: str, actor: str) -> bool:
    """Set a form aside for a supervisor; ``False`` if it is not open."""
    with store.session() as s:
        item = _decidable_item(s, form_id, supervisor=False)
        if item is None:
            return False
        item.status = ReviewStatus.SET_ASIDE.value
        audit_form(s, actor, "review_set_aside", form_id)
    return True


def _stored_rect(row: FieldResultRow | None, printed: Rect) -> Rect:
    """Where the field was read on its page: the zone stored with its reading (form version 2 places names, town,
    e-mails and languages elsewhere than version 1), else version 1's printed place."""
    zone = row.zone if row is not None else None
    if not zone or not all(k in zone for k in ("x0", "top", "x1", "bottom")):
        return printed
    return Rect(float(zone["x0"]), float(zone["top"]), float(zone["x1"]), float(zone["bottom"]))


def with_submission(view: FormView, values: Mapping[str, RawValue], issues: Sequence[ValidationIssue],
                    verified: Collection[str] = ()) -> FormView:
    """The form view showing what the reviewer submitted, the fields ticked « Vérifié », and what validation
    still finds wrong."""
    by_field: dict[str, list[str]] = {}
    for issue in issues:
        by_field.setdefault(issue.field, []).append(issue.message_fr)
    definition = form_v1()
    fields = []
    for f in view.fields:
        value = f.value if f.consent or f.unreceived else values.get(f.name, f.value)  # never as submitted
        fields.append(FieldView(f.name, f.label, f.kind, f.page, f.rect, value, f.confidence, f.source,
                                tuple(by_field.get(f.name, ())), f.doubtful or f.name in by_field,
                                _options(definition.field(f.name), value), verified=f.name in verified,
                                consent=f.consent, unreceived=f.unreceived))
    return replace(view, fields=fields)
