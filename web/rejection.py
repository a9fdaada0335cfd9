"""The notice a school receives when staff reject one of its forms (issue 5: "reject with a reason, sent
to the school when replies are on").

Who: the sender of the message that brought the form's documents, found in the mail
intake's tables (:mod:`pipeline.intake.mail_store`) by the documents' SHA-256; the earliest
such message whose sender is a known school address (``sender_status`` ``known``) and
not an automatic sender, the rule ``pipeline.runs.mail`` applies to acknowledgements.
A form that came from a folder, or only from unknown or automatic senders, gets no
notice, and neither does any form while replies are off (``CLAS_MAIL__SMTP__ENABLED``).

What: :func:`pipeline.intake.replies.compose_rejection`: the form's serial, the school's own
file names and the reason staff typed; nothing read on the form.

At most once per form: the rejection itself is the claim. It moves the review item
out of its decidable state with one conditional ``UPDATE`` (a repeated or concurrent
reject changes nothing and sends nothing) and, in that same transaction, records the
notice as ``sending`` before the SMTP conversation starts, as
``MailStore.claim_reply`` does for acknowledgements: a process killed while sending
leaves ``sending``, and the notice is never sent twice.

Record: a ``rejection_notice`` entry on the review item's reasons (its status and a
French sentence, shown on the form page) and audit entries (message row id and status;
never the address).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.intake.mail import SenderStatus
from pipeline.intake.mail_store import MailAttachmentRow, MailMessageRow, ReplyStatus
from pipeline.intake.replies import ReplyError, compose_rejection, send_reply
from pipeline.settings import SmtpSettings
from pipeline.store import DocumentRow, ReviewItemRow, Store
from web.audit import audit_form

logger = logging.getLogger(__name__)

NOTICE_CODE = "rejection_notice"
"""``code`` of the review item's reason entry that records the notice."""


class NoticeStatus(StrEnum):
    """What became of a rejection's notice to the school (the first three are ``ReplyStatus`` values)."""

    SENDING = ReplyStatus.SENDING.value
    """Claimed; the process stopped while sending: never sent again."""
    SENT = ReplyStatus.SENT.value
    FAILED = ReplyStatus.FAILED.value
    """The SMTP server was unreachable or refused it: not retried."""
    REPLIES_OFF = "replies_off"
    NOT_BY_MAIL = "not_by_mail"
    SENDER_NOT_SCHOOL = "sender_not_school"


NOTICE_LABELS_FR: dict[NoticeStatus, str] = {
    NoticeStatus.SENDING: "Envoi du motif à l'école interrompu : vérifier le journal du serveur de courriel "
                          "avant de le transmettre autrement.",
    NoticeStatus.SENT: "Motif du rejet envoyé à l'école par courriel.",
    NoticeStatus.FAILED: "Motif du rejet non envoyé à l'école (serveur de courriel injoignable ou refus) : "
                         "le lui transmettre autrement.",
    NoticeStatus.REPLIES_OFF: "Réponses aux écoles désactivées : le motif du rejet n'a pas été envoyé à l'école.",
    NoticeStatus.NOT_BY_MAIL: "Fiche reçue par dossier, pas par courriel : le motif du rejet n'a pas été "
                              "envoyé à l'école.",
    NoticeStatus.SENDER_NOT_SCHOOL: "Fiche reçue d'une adresse qui n'est pas celle d'une école connue : le motif "
                                    "du rejet n'a pas été envoyé.",
}
PLAN_LABELS_FR: dict[NoticeStatus, str] = {
    NoticeStatus.SENDING: "Le motif sera envoyé par courriel à l'école qui a transmis la fiche.",
    NoticeStatus.REPLIES_OFF: "Réponses aux écoles désactivées : le motif ne sera pas envoyé à l'école.",
    NoticeStatus.NOT_BY_MAIL: "Fiche reçue par dossier : le motif ne sera pas envoyé à l'école.",
    NoticeStatus.SENDER_NOT_SCHOOL: "Expéditeur inconnu de l'annuaire : le motif ne sera pas envoyé.",
}
"""What the reject form announces before staff decide."""


@dataclass(frozen=True)
class Recipient:
    """The message a notice answers.

    Attributes:
        message_row_id: Its row in ``mail_messages``.
        message_id: Its Message-ID (or ``sha256:…``), for threading.
        sender: The school's address.
        filenames: The files of that message carrying the form, as the school named them.
    """

    message_row_id: int
    message_id: str
    sender: str
    filenames: tuple[str, ...]


@dataclass(frozen=True)
class NoticePlan:
    """Whether a rejection of the form now would send a notice, and to which message."""

    status: NoticeStatus
    recipient: Recipient | None = None


def plan_notice(s: Session, form_id: str, smtp: SmtpSettings) -> NoticePlan:
    """Where a rejection's notice would go (``SENDING`` with its recipient), or why none would.

    Args:
        s: Session.
        form_id: The form serial.
        smtp: The replies' SMTP settings (``enabled`` decides).
    """
    if not smtp.enabled:
        return NoticePlan(NoticeStatus.REPLIES_OFF)
    shas = list(s.scalars(select(DocumentRow.sha256).where(DocumentRow.form_id == form_id)))
    rows = s.execute(select(MailMessageRow, MailAttachmentRow.filename)
                     .join(MailAttachmentRow, MailAttachmentRow.message_row_id == MailMessageRow.id)
                     .where(MailAttachmentRow.sha256.in_(shas), MailAttachmentRow.kind == "document")
                     .order_by(MailMessageRow.received_at, MailMessageRow.id, MailAttachmentRow.position)).all()
    if not rows:
        return NoticePlan(NoticeStatus.NOT_BY_MAIL)
    chosen = next((m for m, _ in rows if m.sender and m.sender_status == SenderStatus.KNOWN.value
                   and not m.automatic), None)
    if chosen is None:
        return NoticePlan(NoticeStatus.SENDER_NOT_SCHOOL)
    names = tuple(dict.fromkeys(name for m, name in rows if m.id == chosen.id))
    return NoticePlan(NoticeStatus.SENDING, Recipient(chosen.id, chosen.message_id, chosen.sender, names))


def _notice_entry(status: NoticeStatus, message_row_id: int | None) -> dict[str, Any]:
    return {"field": None, "code": NOTICE_CODE, "status": status.value, "message_row_id": message_row_id,
            "message_fr": NOTICE_LABELS_FR[status]}


def record_claim(s: Session, item: ReviewItemRow, plan: NoticePlan, actor: str) -> None:
    """Record the notice's first status on a just-rejected item, in the rejection's own transaction."""
    row_id = plan.recipient.message_row_id if plan.recipient else None
    item.reasons = [*item.reasons, _notice_entry(plan.status, row_id)]
    audit_form(s, actor, "rejection_notice_" + plan.status.value, item.form_id,
               f"message #{row_id}" if row_id is not None else "")


def send_notice(store: Store, form_id: str, plan: NoticePlan, reason_fr: str, smtp: SmtpSettings,
                actor: str) -> NoticeStatus:
    """Send a claimed notice (``plan.status`` is ``SENDING``) and record how it ended.

    Args:
        store: The store.
        form_id: The rejected form.
        plan: The plan recorded by :func:`record_claim`.
        reason_fr: The reason staff typed.
        smtp: SMTP settings.
        actor: Username, for the audit trail.

    Returns:
        ``SENT`` or ``FAILED``; ``plan.status`` unchanged when there was nothing to send.
    """
    recipient = plan.recipient
    if plan.status is not NoticeStatus.SENDING or recipient is None:
        return plan.status
    notice = compose_rejection(smtp, recipient.sender, recipient.message_id, form_id, recipient.filenames, reason_fr)
    try:
        send_reply(smtp, notice)
        status = NoticeStatus.SENT
    except ReplyError as exc:
        logger.warning("rejection notice for message #%s not sent: %s", recipient.message_row_id, exc)
        status = NoticeStatus.FAILED
    with store.session() as s:
        item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id))
        if item is not None:
            item.reasons = [_notice_entry(status, recipient.message_row_id) if r.get("code") == NOTICE_CODE else r
                            for r in item.reasons]
        audit_form(s, actor, "rejection_notice_" + status.value, form_id, f"message #{recipient.message_row_id}")
    logger.info("rejection notice for message #%s: %s", recipient.message_row_id, status.value)
    return status
