"""The store's mail tables: each message read from the shared inbox, its files, and the reply sent.

Declared on :class:`pipeline.store.Base`, so ``Store`` creates them with the rest;
:class:`MailStore` works through a :class:`~pipeline.store.Store`'s sessions. A
message is identified by its Message-ID (or the SHA-256 of its bytes when it has
none): a run that finds a message already settled only files it again, and a
reply is claimed in the database before it is sent, so a message never gets two
(at most once, even when a run is killed while sending).

No subject, body or name is stored: the sender's address (a school's), the
files' names as sent (kept like ``documents.original_name``) and their outcomes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.intake.mail import AttachmentCandidate
from pipeline.store import Base, ReceiptRow, Store, utcnow


class MessageStatus(StrEnum):
    """Where a message of the shared inbox stands."""

    RECEIVED = "received"
    """Read; its documents are not all recorded yet (a later run finishes it)."""
    PROCESSED = "processed"
    """Every document recorded, none quarantined: filed in the processed folder."""
    QUARANTINED = "quarantined"
    """Kept for a person: a file could not be read, or the message itself was refused."""


class ReplyStatus(StrEnum):
    """The reply to a message's sender (at most one per message)."""

    NONE = "none"
    """Not due (replies off, unknown or automatic sender, message not settled)."""
    PENDING = "pending"
    """Due, not yet attempted."""
    SENDING = "sending"
    """Claimed; a run stopped while sending it: never sent again (check the SMTP log)."""
    SENT = "sent"
    FAILED = "failed"
    """The server refused it; not retried automatically."""


class MailMessageRow(Base):
    """One message of the shared inbox (by Message-ID)."""

    __tablename__ = "mail_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    source: Mapped[str] = mapped_column(String(500))
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(320), default="")
    sender_status: Mapped[str] = mapped_column(String(20), default="unknown")
    sender_school_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    automatic: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    folder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    filed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reply_status: Mapped[str] = mapped_column(String(20), default=ReplyStatus.NONE.value)
    reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class MailAttachmentRow(Base):
    """One file found in a message, and what became of it."""

    __tablename__ = "mail_attachments"
    __table_args__ = (UniqueConstraint("message_row_id", "position", name="uq_mail_attachment"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_row_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    part_path: Mapped[str] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(500))
    declared_type: Mapped[str] = mapped_column(String(200))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    """``document``, ``decoration`` or ``rejected`` (see ``pipeline.intake.mail.AttachmentStatus``)."""
    reason_code: Mapped[str | None] = mapped_column(String(50), nullable=True)
    reason_fr: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(30), nullable=True)
    """For a document, its receipt's outcome once recorded (routed, review, quarantined…)."""


@dataclass(frozen=True)
class AttachmentOutcome:
    """A file of a settled message, as the reply and the report see it.

    Attributes:
        filename: Name as sent.
        kind: Document, decoration or rejected.
        outcome: The document's outcome (``None`` for decorations and rejected files).
        reasons: ``(code, French reason)`` of the outcome or the rejection.
        form_id: The form serial the document carried, when identified.
    """

    filename: str
    kind: str
    outcome: str | None
    reasons: tuple[tuple[str, str], ...] = ()
    form_id: str | None = None


@dataclass(frozen=True)
class MessageView:
    """A message as recorded (no personal data besides the school's address).

    Attributes:
        row_id: Primary key.
        message_id: The Message-ID (or ``sha256:…``).
        status: A :class:`MessageStatus` value.
        folder: Where it was filed, if it was.
        reply_status: A :class:`ReplyStatus` value.
        sender: The sender's address.
        last_run_id: The last run that read it.
    """

    row_id: int
    message_id: str
    status: str
    folder: str | None
    reply_status: str
    sender: str
    last_run_id: int


def _view(row: MailMessageRow) -> MessageView:
    return MessageView(row.id, row.message_id, row.status, row.folder, row.reply_status, row.sender, row.last_run_id)


class MailStore:
    """The operations of the mail intake on the store.

    Args:
        store: The pipeline's store (its engine and sessions).
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        tables = [MailMessageRow.__table__, MailAttachmentRow.__table__]
        Base.metadata.create_all(store.engine, tables=tables)  # type: ignore[arg-type]  # declarative tables are Tables

    def find(self, message_id: str) -> MessageView | None:
        """The message with this Message-ID, if a run recorded it."""
        with self.store.session() as s:
            row = s.scalar(select(MailMessageRow).where(MailMessageRow.message_id == message_id))
            return _view(row) if row is not None else None

    def same_message(self, row_id: int, hashes: Sequence[str] | None) -> bool:
        """Whether a message whose files have these SHA-256 ``hashes`` (in message order; ``None`` when its files
        are unknown, a message refused unread) is the one recorded under ``row_id``: the same files, or files
        unknown on either side (the Message-ID alone then says it).

        A Message-ID names one message (RFC 5322 §3.6.4), but a copier's scan-to-mail or a broken client gives the
        same one to different messages; the same message delivered again, copied to another folder or sent by
        another route keeps its files (and not its size: another route adds ``Received`` headers, which a review
        found gave a message without files a second identity and a second reply, 2026-12-07).
        """
        if not hashes:
            return True
        with self.store.session() as s:
            recorded = list(s.scalars(select(MailAttachmentRow.sha256).where(MailAttachmentRow.message_row_id == row_id)
                                      .order_by(MailAttachmentRow.position)))
        return not recorded or recorded == list(hashes)

    def find_by_row(self, row_id: int) -> MessageView:
        """The message recorded under ``row_id``.

        Raises:
            sqlalchemy.exc.NoResultFound: No such row.
        """
        with self.store.session() as s:
            return _view(s.get_one(MailMessageRow, row_id))

    def record_received(self, run_id: int, message_id: str, source: str, size_bytes: int, sender: str,
                        sender_status: str, sender_school_ids: Sequence[str], automatic: bool,
                        attachments: Sequence[AttachmentCandidate]) -> int:
        """Record a message and its files (again, if an earlier run left it unsettled); returns its row id."""
        with self.store.session() as s:
            row = s.scalar(select(MailMessageRow).where(MailMessageRow.message_id == message_id))
            if row is None:
                row = MailMessageRow(message_id=message_id, first_run_id=run_id, status=MessageStatus.RECEIVED.value)
                s.add(row)
            row.source, row.last_run_id, row.size_bytes = source, run_id, size_bytes
            row.sender, row.sender_status, row.sender_school_ids = sender, sender_status, list(sender_school_ids)
            row.automatic = automatic
            s.flush()
            s.execute(delete(MailAttachmentRow).where(MailAttachmentRow.message_row_id == row.id))
            for c in attachments:
                s.add(MailAttachmentRow(message_row_id=row.id, position=c.position, part_path=c.part_path,
                                        filename=c.filename, declared_type=c.declared_type[:200],
                                        media_type=c.media_type.value, size_bytes=c.size_bytes, sha256=c.sha256,
                                        kind=c.status.value, reason_code=c.reason_code, reason_fr=c.reason_fr))
            return row.id

    def record_refused(self, run_id: int, message_id: str, source: str, size_bytes: int, sender: str,
                       code: str, reason_fr: str, *, sender_status: str = "unknown", reply_due: bool = False) -> int:
        """Record a message refused whole (too large, too many files): quarantined, its files unread."""
        with self.store.session() as s:
            row = s.scalar(select(MailMessageRow).where(MailMessageRow.message_id == message_id))
            if row is None:
                row = MailMessageRow(message_id=message_id, first_run_id=run_id, status="")
                s.add(row)
            row.source, row.last_run_id, row.size_bytes, row.sender = source, run_id, size_bytes, sender
            row.sender_status = sender_status
            row.status = MessageStatus.QUARANTINED.value
            row.reasons = [{"code": code, "message_fr": reason_fr}]
            if reply_due and row.reply_status in (None, ReplyStatus.NONE.value):
                row.reply_status = ReplyStatus.PENDING.value
            s.flush()
            return row.id

    def settle(self, row_id: int, reply_due: bool) -> MessageStatus | None:
        """Settle a message once every document of it has a receipt (one transaction).

        Each document takes its receipt's outcome; the message is quarantined when a
        file of it was rejected or quarantined or it holds no document, processed
        otherwise; its reply becomes pending when ``reply_due``.

        Returns:
            The new status, or ``None`` when a document has no receipt yet (nothing changes:
            the message stays in the inbox for the next run).
        """
        with self.store.session() as s:
            row = s.get_one(MailMessageRow, row_id)
            if row.status != MessageStatus.RECEIVED.value:
                return MessageStatus(row.status)
            source = f"mail:{row.message_id}"[:500]
            attachments = s.scalars(select(MailAttachmentRow).where(MailAttachmentRow.message_row_id == row_id)
                                    .order_by(MailAttachmentRow.position)).all()
            quarantine = not any(a.kind == "document" for a in attachments)
            for a in attachments:
                if a.kind == "rejected":
                    quarantine = True
                if a.kind != "document":
                    continue
                outcome = s.scalar(select(ReceiptRow.outcome).where(
                    ReceiptRow.source == source, ReceiptRow.original_name == a.filename, ReceiptRow.sha256 == a.sha256))
                if outcome is None:
                    return None
                a.outcome = outcome
                quarantine = quarantine or outcome == "quarantined"
            status = MessageStatus.QUARANTINED if quarantine else MessageStatus.PROCESSED
            row.status = status.value
            if not any(a.kind == "document" for a in attachments):
                row.reasons = [{"code": "no_document", "message_fr": NO_DOCUMENT_FR}]
            if reply_due and row.reply_status == ReplyStatus.NONE.value:
                row.reply_status = ReplyStatus.PENDING.value
            return status

    def mark_filed(self, row_id: int, folder: str) -> None:
        """Record the folder a message was moved to (or the keyword it was flagged with)."""
        with self.store.session() as s:
            row = s.get_one(MailMessageRow, row_id)
            row.folder, row.filed_at = folder, utcnow()

    def claim_reply(self, row_id: int) -> bool:
        """Take the right to send a message's reply: true once per message, ever (pending → sending)."""
        with self.store.session() as s:
            result = s.execute(update(MailMessageRow).where(
                MailMessageRow.id == row_id, MailMessageRow.reply_status == ReplyStatus.PENDING.value,
            ).values(reply_status=ReplyStatus.SENDING.value))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def finish_reply(self, row_id: int, status: ReplyStatus) -> None:
        """Record the end of a claimed reply: sent, failed, or pending again (nothing reached the server)."""
        with self.store.session() as s:
            row = s.get_one(MailMessageRow, row_id)
            row.reply_status, row.reply_at = status.value, utcnow()

    def outcomes(self, row_id: int) -> list[AttachmentOutcome]:
        """The files of a settled message with their outcomes and reasons (from the documents' records)."""
        from pipeline.store import DocumentRow

        with self.store.session() as s:
            attachments = s.scalars(select(MailAttachmentRow).where(MailAttachmentRow.message_row_id == row_id)
                                    .order_by(MailAttachmentRow.position)).all()
            result = []
            for a in attachments:
                if a.kind != "document":
                    reasons: tuple[tuple[str, str], ...] = ((a.reason_code or a.kind, a.reason_fr or ""),)
                    result.append(AttachmentOutcome(a.filename, a.kind, None, reasons))
                    continue
                doc = s.get(DocumentRow, a.sha256)
                reasons = tuple((str(r.get("code")), str(r.get("message_fr", "")))
                                for r in (doc.reasons if doc else []))
                if a.outcome == "duplicate" and (doc is None or doc.status != "duplicate"):
                    # The document's record is the first copy's: this copy is a duplicate of it.
                    reasons = (("duplicate_file", DUPLICATE_FILE_FR),)
                result.append(AttachmentOutcome(a.filename, a.kind, a.outcome, reasons, doc.form_id if doc else None))
            return result

    def kinds(self, row_id: int) -> dict[str, int]:
        """A message's files by kind (``document``, ``decoration``, ``rejected``)."""
        with self.store.session() as s:
            kinds = s.scalars(select(MailAttachmentRow.kind).where(MailAttachmentRow.message_row_id == row_id)).all()
            return {k: kinds.count(k) for k in sorted(set(kinds))}

    def message_reasons(self, row_id: int) -> list[dict[str, Any]]:
        """Message-level reasons (refusal, no document)."""
        with self.store.session() as s:
            return list(s.get_one(MailMessageRow, row_id).reasons)


NO_DOCUMENT_FR = ("Aucune pièce jointe exploitable dans ce message : envoyer la fiche en pièce jointe "
                  "(PDF, JPEG, PNG, TIFF ou HEIC).")
DUPLICATE_FILE_FR = "Fichier déjà reçu (même contenu) : non traité une seconde fois."
