"""Quarantined and duplicate files at the desk: see why, open the original, and act (issue 17).

Staff see every quarantined file with its reason in French and its original (viewed or
downloaded, audited), and every duplicate with the original it duplicates. Actions on a
quarantined file:

* **Ask the school** (:func:`ask_school`): the acknowledgement's own wording
  (:func:`pipeline.intake.replies.reply_text`: « À corriger … » with the file's name and
  reason) sent to the school that mailed the file, at most once per file
  (``document_requests`` claims it before SMTP starts, as rejections do). Replies off, a
  file from a folder or from an unknown sender: nothing is sent and the page says which.
* **Release** (:func:`release`): the kept original is read again by the pipeline and
  decided by :func:`pipeline.stages.decide_and_record`, exactly as in a run (for a file
  quarantined for a passing cause, a time or memory limit on a loaded night). The
  document's row is updated in place in the decision's one transaction (no new
  reception: the run's accounting stays as it was). Read as a form again, it ends routed,
  waiting, in review or duplicate; a file that came by mail goes to review whatever its
  reading (its sender was not checked again). Still unreadable: it stays quarantined with
  the new reason.
* **Delete** (:func:`delete`): the row, its receptions and the kept file go
  (:func:`pipeline.privacy.retention.delete_forms`, the erasure's own code), audited
  (GDPR: a file that is not a referral has no reason to be kept).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.deciding.decide import Decision
from pipeline.intake.mail import SenderStatus
from pipeline.intake.mail_store import AttachmentOutcome, MailAttachmentRow, MailMessageRow
from pipeline.intake.replies import ReplyError, reply_text, send_reply
from pipeline.privacy.retention import delete_forms, unlink_all
from pipeline.reading.document import Reason, read_received
from pipeline.settings import Settings, SmtpSettings
from pipeline.stages import RunContext, decide_and_record, group_forms
from pipeline.store import AuditRow, DocumentRow, ReceiptRow, Store, utcnow
from schemas.directory import Directory
from schemas.document import REASON_LABELS_FR, MediaType, Outcome, ReceivedDocument
from web.desk_models import DocumentRequestRow
from web.rejection import PLAN_LABELS_FR, NoticeStatus, Recipient

logger = logging.getLogger(__name__)

REQUEST_SUBJECT_FR = "Fichier reçu non traité : fiche d'orientation CLAS à renvoyer"
RELEASED_BY_MAIL_CODE = "released_mail_document"
REQUEST_LABELS_FR: dict[NoticeStatus, str] = {
    NoticeStatus.SENT: "Demande envoyée à l'école par courriel.",
    NoticeStatus.FAILED: "Demande non envoyée (serveur de courriel injoignable ou refus) : contacter l'école "
                         "autrement.",
    NoticeStatus.SENDING: "Demande déjà faite pour ce fichier : elle n'est pas renvoyée.",
    NoticeStatus.REPLIES_OFF: "Réponses aux écoles désactivées : aucune demande envoyée.",
    NoticeStatus.NOT_BY_MAIL: "Fichier reçu par dossier, pas par courriel : contacter l'école autrement.",
    NoticeStatus.SENDER_NOT_SCHOOL: "Expéditeur inconnu de l'annuaire : aucune demande envoyée.",
}
"""What « Demander à l'école » did, for the page's message."""
STORED_REQUEST_LABELS_FR: dict[str, str] = {
    NoticeStatus.SENT.value: "envoyée",
    NoticeStatus.FAILED.value: "non envoyée (serveur de courriel injoignable ou refus)",
    NoticeStatus.SENDING.value: "envoi interrompu : vérifier le journal du serveur de courriel",
}
"""A recorded request's state, for the list."""
_DUPLICATE_OF = re.compile(r"fiche (\S+)")
"""The serial in the ``duplicate_of`` reason staff record (``web.review.mark_duplicate``)."""


@dataclass(frozen=True)
class QuarantineItem:
    """One quarantined file as the page lists it.

    Attributes:
        sha256: Its identity (the first 12 digits are shown).
        original_name: As received (may name a pupil: shown to staff, never logged).
        media_type: Detected type.
        received_at: When.
        reasons_fr: Why it is in quarantine, in French.
        request: What became of the request to the school, in French (empty when none was made).
    """

    sha256: str
    original_name: str
    media_type: str
    received_at: datetime
    reasons_fr: tuple[str, ...]
    request: str = ""


@dataclass(frozen=True)
class DuplicateItem:
    """One duplicate reception and the original it duplicates.

    Attributes:
        kind_fr: « même fichier » (same content) or « même fiche » (same serial, another file).
        sha256: The duplicate's content hash.
        name: Its name as received.
        received_at: When.
        original_form: The serial of the form it duplicates, when known.
        original_sha256: The original file (same content), when it is one.
        original_status: The original's outcome in French words.
    """

    kind_fr: str
    sha256: str
    name: str
    received_at: datetime
    original_form: str | None
    original_sha256: str | None
    original_status: str


def _reasons_fr(reasons: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(str(r.get("message_fr") or REASON_LABELS_FR.get(str(r.get("code")), r.get("code"))) for r in reasons)


def quarantined(s: Session) -> list[QuarantineItem]:
    """Quarantined files, newest first, with the fate of any request to the school."""
    requests = {r.sha256: r.status for r in s.scalars(select(DocumentRequestRow))}
    rows = s.scalars(select(DocumentRow).where(DocumentRow.status == Outcome.QUARANTINED.value)
                     .order_by(DocumentRow.received_at.desc(), DocumentRow.sha256)).all()
    return [QuarantineItem(d.sha256, d.original_name, d.media_type, d.received_at, _reasons_fr(d.reasons),
                           STORED_REQUEST_LABELS_FR.get(requests.get(d.sha256, ""), "")) for d in rows]


def duplicates(s: Session, status_labels: dict[str, str]) -> list[DuplicateItem]:
    """Duplicate receptions with their originals: the same content again, or the same form in another file."""
    items = []
    same_file = s.execute(select(ReceiptRow, DocumentRow).join(DocumentRow, DocumentRow.sha256 == ReceiptRow.sha256)
                          .where(ReceiptRow.outcome == Outcome.DUPLICATE.value,
                                 DocumentRow.status != Outcome.DUPLICATE.value)
                          .order_by(ReceiptRow.received_at.desc(), ReceiptRow.id)).all()
    for receipt, original in same_file:
        items.append(DuplicateItem("même fichier", receipt.sha256, receipt.original_name, receipt.received_at,
                                   original.form_id, original.sha256,
                                   status_labels.get(original.status, original.status)))
    for doc in s.scalars(select(DocumentRow).where(DocumentRow.status == Outcome.DUPLICATE.value)
                         .order_by(DocumentRow.received_at.desc(), DocumentRow.sha256)):
        found = [_DUPLICATE_OF.search(str(r["message_fr"])) for r in doc.reasons if r.get("code") == "duplicate_of"]
        other = next((m.group(1) for m in found if m), None)
        form = other or doc.form_id
        first = s.scalar(select(DocumentRow).where(DocumentRow.form_id == form,
                                                   DocumentRow.status != Outcome.DUPLICATE.value)
                         .order_by(DocumentRow.received_at).limit(1)) if form else None
        items.append(DuplicateItem("même fiche", doc.sha256, doc.original_name, doc.received_at, form,
                                   first.sha256 if first else None,
                                   status_labels.get(first.status, first.status) if first else "inconnue"))
    return items


def document(s: Session, sha256: str) -> DocumentRow | None:
    """A quarantined or duplicate document by its SHA-256 (the files this page may open or act on)."""
    row = s.get(DocumentRow, sha256)
    return row if row is not None and row.status in (Outcome.QUARANTINED.value, Outcome.DUPLICATE.value) else None


# --- ask the school --------------------------------------------------------------

def _recipient(s: Session, sha256: str) -> tuple[NoticeStatus, Recipient | None, tuple[str, ...]]:
    """Whom a request about this file would go to (the rejection's rule: a known school, not automatic)."""
    rows = s.execute(select(MailMessageRow, MailAttachmentRow.filename)
                     .join(MailAttachmentRow, MailAttachmentRow.message_row_id == MailMessageRow.id)
                     .where(MailAttachmentRow.sha256 == sha256)
                     .order_by(MailMessageRow.received_at, MailMessageRow.id, MailAttachmentRow.position)).all()
    if not rows:
        return NoticeStatus.NOT_BY_MAIL, None, ()
    chosen = next((m for m, _ in rows if m.sender and m.sender_status == SenderStatus.KNOWN.value
                   and not m.automatic), None)
    if chosen is None:
        return NoticeStatus.SENDER_NOT_SCHOOL, None, ()
    names = tuple(dict.fromkeys(name for m, name in rows if m.id == chosen.id))
    return NoticeStatus.SENDING, Recipient(chosen.id, chosen.message_id, chosen.sender, names), names


def request_plan(s: Session, sha256: str, smtp: SmtpSettings) -> str:
    """What « Demander à l'école » would do, in French."""
    if not smtp.enabled:
        return PLAN_LABELS_FR[NoticeStatus.REPLIES_OFF]
    status, _, _ = _recipient(s, sha256)
    return PLAN_LABELS_FR[status]


def ask_school(store: Store, sha256: str, smtp: SmtpSettings, actor: str) -> NoticeStatus:
    """Ask the school that mailed a quarantined file to send it again, at most once per file.

    The body is the acknowledgement's (:func:`pipeline.intake.replies.reply_text`) for that one
    file: its name as the school gave it and the quarantine's French reason. Nothing read
    on a form is copied.

    Returns:
        ``SENT`` or ``FAILED``; else why nothing was sent (replies off, not by mail, unknown
        sender, or ``SENDING`` when an earlier request already claimed the file).

    Raises:
        LookupError: The file is not in quarantine.
    """
    with store.session() as s:
        row = s.get(DocumentRow, sha256)
        if row is None or row.status != Outcome.QUARANTINED.value:
            raise LookupError("not a quarantined document")
        status, recipient, names = _recipient(s, sha256) if smtp.enabled else (NoticeStatus.REPLIES_OFF, None, ())
        reasons = tuple((str(r.get("code")), str(r.get("message_fr"))) for r in row.reasons)
    if status is not NoticeStatus.SENDING or recipient is None:
        with store.session() as s:
            s.add(AuditRow(actor=actor, action="quarantine_request_" + status.value, sha256=sha256, detail="document"))
        return status
    try:
        with store.session() as s:  # the claim: one request per file, before SMTP starts
            s.add(DocumentRequestRow(sha256=sha256, status=NoticeStatus.SENDING.value,
                                     message_row_id=recipient.message_row_id, actor=actor))
            s.add(AuditRow(actor=actor, action="quarantine_request_sending", sha256=sha256,
                           detail=f"message #{recipient.message_row_id}"))
    except IntegrityError:
        return NoticeStatus.SENDING  # already asked: never twice
    outcomes = [AttachmentOutcome(name, "document", Outcome.QUARANTINED.value, reasons) for name in names]
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = recipient.sender
    message["Subject"] = REQUEST_SUBJECT_FR
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    if not recipient.message_id.startswith("sha256:"):
        message["In-Reply-To"] = f"<{recipient.message_id}>"
        message["References"] = f"<{recipient.message_id}>"
    message.set_content(reply_text(outcomes))
    try:
        send_reply(smtp, message)
        final = NoticeStatus.SENT
    except ReplyError as exc:
        logger.warning("request about document %s not sent: %s", sha256[:12], exc)
        final = NoticeStatus.FAILED
    with store.session() as s:
        request = s.scalar(select(DocumentRequestRow).where(DocumentRequestRow.sha256 == sha256))
        if request is not None:
            request.status = final.value
        s.add(AuditRow(actor=actor, action="quarantine_request_" + final.value, sha256=sha256,
                       detail=f"message #{recipient.message_row_id}"))
    return final


# --- release ---------------------------------------------------------------------

class _ReleaseStore(Store):
    """The desk's store, recording a released document by updating its quarantined row in place.

    :func:`pipeline.stages.decide_and_record` writes a decision through ``Store._add_document``
    (a new document row and a new reception): here the document already has both, so the
    row takes the new outcome and an audit entry says who released it, in the decision's
    own transaction.
    """

    def __init__(self, store: Store, actor: str) -> None:  # noqa: D107 - documented on the class
        self.engine = store.engine
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.actor = actor

    def _add_document(self, s: Session, run_id: int, doc: ReceivedDocument, outcome: Outcome,
                      reasons_json: list[dict[str, Any]], form_id: str | None) -> None:
        row = s.get(DocumentRow, doc.sha256, with_for_update=True)
        if row is None or row.status != Outcome.QUARANTINED.value:
            raise LookupError("the document left quarantine meanwhile")
        row.status, row.form_id, row.reasons = outcome.value, form_id, reasons_json
        codes = ",".join(sorted({str(r["code"]) for r in reasons_json})) or "-"
        s.add(AuditRow(actor=self.actor, action=f"quarantine_released_{outcome.value}", sha256=doc.sha256,
                       detail=f"form {form_id or '-'}; reasons: {codes}"))


class _ReleaseContext(RunContext):
    """A run context over the desk's open store and directory (no new engine, no folder created)."""

    def __init__(self, settings: Settings, store: Store, directory: Directory) -> None:  # noqa: D107
        self.settings, self.store, self.directory = settings, store, directory


@dataclass(frozen=True)
class Released:
    """What the release of a quarantined file gave.

    Attributes:
        outcome: The document's new outcome (``quarantined`` again when still unreadable).
        form_id: The form serial it carries, when read as a form.
        reasons_fr: Why it is not routed, in French.
    """

    outcome: Outcome
    form_id: str | None
    reasons_fr: tuple[str, ...]


def _mail_reasons(_decision: Decision) -> list[Reason]:
    return [Reason(RELEASED_BY_MAIL_CODE, "Fiche reçue par courriel et sortie de quarantaine : vérifier "
                                          "l'expéditeur avant de l'orienter.")]


def release(store: Store, settings: Settings, directory: Directory, sha256: str, actor: str) -> Released:
    """Read a quarantined file again and decide it as a run would; see the module docstring.

    Raises:
        LookupError: The file is not (or no longer) in quarantine.
    """
    with store.session() as s:
        row = s.get(DocumentRow, sha256)
        if row is None or row.status != Outcome.QUARANTINED.value:
            raise LookupError("not a quarantined document")
        doc = ReceivedDocument(sha256=row.sha256, source=row.source, original_name=row.original_name,
                               media_type=MediaType(row.media_type), size_bytes=row.size_bytes,
                               received_at=row.received_at, stored_path=Path(row.stored_path))
    reading = read_received(doc, settings)
    groups, failures = group_forms([reading])
    if failures or not groups:
        reasons = [failures[0].failure.as_dict()] if failures and failures[0].failure else []
        with store.session() as s:
            kept = s.get(DocumentRow, sha256)
            if kept is None or kept.status != Outcome.QUARANTINED.value:
                raise LookupError("the document left quarantine meanwhile")
            kept.reasons = reasons or kept.reasons
            codes = ",".join(str(r["code"]) for r in kept.reasons) or "-"
            s.add(AuditRow(actor=actor, action="quarantine_release_failed", sha256=sha256, detail=f"reasons: {codes}"))
            return Released(Outcome.QUARANTINED, None, _reasons_fr(kept.reasons))
    ctx = _ReleaseContext(settings, _ReleaseStore(store, actor), directory)
    by_mail = doc.source.startswith("mail:")
    results = decide_and_record(ctx, 0, groups[0], _mail_reasons if by_mail else None)
    with store.session() as s:
        row = s.get(DocumentRow, sha256)
        reasons_fr = _reasons_fr(row.reasons) if row else ()
    result = results[0]
    logger.info("document %s released: %s", sha256[:12], result.outcome)
    return Released(Outcome(result.outcome), groups[0].form_id, reasons_fr)


# --- delete ----------------------------------------------------------------------

def delete(store: Store, sha256: str, actor: str, data_dir: Path) -> bool:
    """Delete a quarantined or duplicate file everywhere (row, receptions, kept file); audited. ``False`` if unknown.

    A duplicate's form (fields, referral) belongs to its original and stays.
    """
    with store.session() as s:
        if document(s, sha256) is None:
            return False
        paths = delete_forms(s, [], [sha256], actor, "quarantine_deleted", data_dir)
    unlink_all(paths)
    return True
