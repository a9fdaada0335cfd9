"""Consent and missing pages at the desk: what the image shows is what is routed (issue 17).

The family's agreements and the signatures (:data:`CONSENT_FIELDS`) attest what a family
or a school put on paper: staff cannot tick or untick them. Approval takes their values
from the machine's reading of the image; a form whose image shows one missing is returned
to the school (:func:`return_reason_fr`, through :func:`web.review.reject`, which tells the
school when replies are on). A reviewer who sees that the machine misread one (box read
empty but ticked, or the reverse) records a claim with why (:func:`claim_misread`); the
form goes to the supervisor queue and an admin other than the claimant confirms or refuses
it (:func:`decide_claim`). Only a confirmed claim changes the value approval uses. Every
step is audited (field names and codes, never the reason's text).

A page that never arrived (every field of it read from no source) cannot be typed in:
its fields are not offered for verification, approval is refused, and the form page
offers to ask the school for it (:func:`missing_pages`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.deciding.validate import label_fr
from pipeline.form.definition import FieldKind, form_v1
from pipeline.store import FieldResultRow, ReviewItemRow, Store, utcnow
from web.audit import audit_form
from web.desk_models import ClaimStatus, ConsentClaimRow

CONSENT_FIELDS: tuple[str, ...] = tuple(
    f.name for f in form_v1().fields
    if f.kind is FieldKind.SIGNATURE or (f.kind is FieldKind.FLAG and f.name.startswith("agreement_")))
"""The family's agreements (flags ``agreement_*``) and every signature zone of the form, in form order."""
MAX_CLAIM_REASON = 1000
"""Characters kept of a claim's reason."""


def missing_pages(rows: Iterable[FieldResultRow]) -> list[int]:
    """Pages of the form none of whose fields was read from any source (the page never arrived).

    Args:
        rows: The form's stored readings (``source`` ``none`` for a field of a page not received).
    """
    received: dict[int, bool] = {}
    for r in rows:
        received[r.page] = received.get(r.page, False) or r.source != "none"
    return sorted(p for p, got in received.items() if not got)


@dataclass(frozen=True)
class ClaimView:
    """A misread claim as the form page shows it.

    Attributes:
        id: Row id.
        field: Field name.
        label: Its French label.
        claimed_fr: What the reviewer says the image shows, in French.
        reason: Why (shown to staff only).
        claimed_by: Reviewer.
        claimed_at: When.
        status: A :class:`ClaimStatus` value.
        decided_by: The admin who confirmed or refused it.
    """

    id: int
    field: str
    label: str
    claimed_fr: str
    reason: str
    claimed_by: str
    claimed_at: datetime
    status: str
    decided_by: str | None

    @property
    def status_fr(self) -> str:
        """The claim's state in French."""
        return {ClaimStatus.PENDING.value: "en attente de confirmation par un(e) administrateur(trice)",
                ClaimStatus.CONFIRMED.value: f"confirmée par {self.decided_by}",
                ClaimStatus.REFUSED.value: f"refusée par {self.decided_by}"}.get(self.status, self.status)


def _present_fr(field: str, value: bool) -> str:
    if field in CONSENT_FIELDS and form_v1().field(field).kind is FieldKind.SIGNATURE:
        return "signature présente" if value else "pas de signature"
    return "case cochée" if value else "case vide"


def claims(s: Session, form_id: str) -> list[ClaimView]:
    """The form's misread claims, oldest first."""
    rows = s.scalars(select(ConsentClaimRow).where(ConsentClaimRow.form_id == form_id)
                     .order_by(ConsentClaimRow.id)).all()
    return [ClaimView(r.id, r.field, label_fr(r.field), _present_fr(r.field, bool(r.claimed_value)), r.reason,
                      r.claimed_by, r.claimed_at, r.status, r.decided_by) for r in rows]


def confirmed_values(s: Session, form_id: str) -> dict[str, bool]:
    """Field → value of the form's confirmed claims (the latest per field)."""
    rows = s.scalars(select(ConsentClaimRow).where(ConsentClaimRow.form_id == form_id,
                                                   ConsentClaimRow.status == ClaimStatus.CONFIRMED.value)
                     .order_by(ConsentClaimRow.id)).all()
    return {r.field: bool(r.claimed_value) for r in rows}


def pending_fields(s: Session, form_id: str) -> list[str]:
    """Fields with a claim still waiting for an admin."""
    return list(s.scalars(select(ConsentClaimRow.field).where(ConsentClaimRow.form_id == form_id,
                                                              ConsentClaimRow.status == ClaimStatus.PENDING.value)))


def forged_consents(corrections: Mapping[str, object], machine: Mapping[str, object],
                    confirmed: Mapping[str, bool]) -> list[str]:
    """Consent fields a submission sets to anything but the image's reading (or a confirmed claim's value)."""
    return [n for n in CONSENT_FIELDS if n in corrections
            and bool(corrections[n]) != confirmed.get(n, bool(machine.get(n)))]


class ClaimError(ValueError):
    """A claim that cannot be recorded or decided; ``message_fr`` says why."""

    def __init__(self, message_fr: str) -> None:
        """Create the error with its French message."""
        super().__init__(message_fr)
        self.message_fr = message_fr


def claim_misread(store: Store, form_id: str, field: str, reason: str, actor: str, decidable: tuple[str, ...]) -> None:
    """Record that the machine misread a consent field; the form goes to the supervisor queue.

    The claimed value is the opposite of the machine's reading (read empty → ticked, or
    the reverse).

    Args:
        store: The store.
        form_id: The serial.
        field: One of :data:`CONSENT_FIELDS`.
        reason: Why, as the reviewer wrote it (required; cut to :data:`MAX_CLAIM_REASON`).
        actor: Username.
        decidable: Review statuses this reviewer may act on (``web.review.decidable_by``).

    Raises:
        ClaimError: Unknown field, no reason, a form not decidable, a field of a page not received,
            or a claim already waiting on that field.
    """
    reason = " ".join(reason.split())[:MAX_CLAIM_REASON]
    if field not in CONSENT_FIELDS:
        raise ClaimError("Seuls les accords de la famille et les signatures se signalent ainsi.")
    if not reason:
        raise ClaimError("Indiquer pourquoi la lecture de la machine est fausse (ce que montre l'image).")
    with store.session() as s:
        store.lock_places(s)  # no approval between this read and the write below (SQLite has no row lock)
        item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id).with_for_update())
        if item is None or item.status not in decidable:
            raise ClaimError("Cette fiche n'est plus en attente de vérification.")
        row = s.scalar(select(FieldResultRow).where(FieldResultRow.form_id == form_id, FieldResultRow.name == field))
        if row is None or row.source == "none":
            raise ClaimError("Page non reçue : rien à corriger d'après l'image ; demander la page à l'école.")
        if field in pending_fields(s, form_id):
            raise ClaimError("Une erreur de lecture est déjà signalée sur ce champ.")
        machine = bool(row.value)
        s.add(ConsentClaimRow(form_id=form_id, field=field, machine_value=machine, claimed_value=not machine,
                              reason=reason, claimed_by=actor))
        item.status = "set_aside"  # web.review.ReviewStatus.SET_ASIDE: an admin decides it now
        audit_form(s, actor, "consent_misread_claimed", form_id,
                   f"field {field}; read {int(machine)}; claimed {int(not machine)}")


def decide_claim(store: Store, form_id: str, claim_id: int, confirm: bool, actor: str) -> ClaimView:
    """An admin confirms or refuses a pending claim (not their own).

    Raises:
        ClaimError: Unknown or already decided claim, or the admin made the claim.
    """
    with store.session() as s:
        row = s.scalar(select(ConsentClaimRow).where(ConsentClaimRow.id == claim_id,
                                                     ConsentClaimRow.form_id == form_id).with_for_update())
        if row is None or row.status != ClaimStatus.PENDING.value:
            raise ClaimError("Signalement introuvable ou déjà traité.")
        if row.claimed_by == actor:
            raise ClaimError("Un(e) autre administrateur(trice) que l'auteur du signalement doit le confirmer.")
        row.status = (ClaimStatus.CONFIRMED if confirm else ClaimStatus.REFUSED).value
        row.decided_by, row.decided_at = actor, utcnow()
        audit_form(s, actor, "consent_misread_" + ("confirmed" if confirm else "refused"), form_id,
                   f"field {row.field}; claim #{row.id}")
        return ClaimView(row.id, row.field, label_fr(row.field), _present_fr(row.field, bool(row.claimed_value)),
                         row.reason, row.claimed_by, row.claimed_at, row.status, row.decided_by)


def return_reason_fr(cause: str, pages: Iterable[int], absent: Iterable[str]) -> str:
    """The reason sent to the school when a form is returned for a missing page or a missing consent.

    Args:
        cause: ``missing_page`` or ``consent``.
        pages: The missing pages (for ``missing_page``).
        absent: Consent fields the image shows empty (for ``consent``).

    Raises:
        ValueError: Unknown cause, or nothing to return the form for.
    """
    if cause == "missing_page":
        listed = ", ".join(str(p) for p in pages)
        if not listed:
            raise ValueError("no missing page")
        return (f"Page {listed} de la fiche non reçue : merci de renvoyer la fiche complète "
                "(toutes les pages, complétées et signées).")
    if cause == "consent":
        labels = " ; ".join(f"« {label_fr(n)} »" for n in absent)
        if not labels:
            raise ValueError("no missing consent")
        return (f"Accord ou signature absent de la fiche reçue ({labels}) : merci de faire compléter "
                "et signer la fiche, puis de la renvoyer.")
    raise ValueError(f"unknown return cause {cause!r}")
