"""A message of the shared inbox around the stages: its intake before them, its settlement after, and the mail run's
accounting.

``flows/mail_intake.py`` wraps these functions as Prefect tasks. Between
:func:`receive_message` and :func:`settle_message`, a message's documents go
through exactly the stages of ``pipeline.stages`` (``receive_file``, ``read_file``,
``group_forms``, ``decide_and_record``, ``record_failure``,
``record_duplicate``), like the files of a folder in the nightly flow.

Per message: fetch it (refused whole above ``max_message_bytes``, without reading
its body), parse it, record it by Message-ID with its files, and spool each
document under its own name → the pipeline's stages → settle it (only once every
document has a receipt) → reply (at most once) → file it (move or flag).

Safety: a run killed at any point and started again loses nothing and routes
nothing twice. A message is filed only after it is settled, so an unsettled one
is still in the inbox next time; its documents that were recorded are then
``already_processed`` (same Message-ID source, name and SHA-256), the others are
read. A settled message still in the inbox (killed before filing) is only filed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pipeline.intake.mail import (
    HEADER_ERRORS,
    AttachmentCandidate,
    AttachmentStatus,
    SenderMatch,
    SenderStatus,
    extract_attachments,
    is_automatic,
    match_sender,
    message_identity,
    parse_message,
    sender_address,
    too_many_attachments,
)
from pipeline.intake.mail_store import MailStore, MessageStatus, ReplyStatus
from pipeline.intake.mailbox import MailSource, MessageRef
from pipeline.intake.replies import reply_once
from pipeline.privacy.retention import raw_message_path
from pipeline.stages import RunContext

logger = logging.getLogger(__name__)


class IntakeAction(StrEnum):
    """What a run does with a message it found in the inbox."""

    PROCESS = "process"
    """New (or left unsettled by an earlier run): its documents go through the pipeline."""
    REFILE = "refile"
    """Already settled (or refused whole): only filed."""
    COPY = "copy"
    """Same Message-ID as a message met earlier in this run: filed like it, never processed twice."""


@dataclass(frozen=True)
class MessageIntake:
    """A message as received by this run: a small record, safe to pass between tasks and to log.

    Attributes:
        key: The source's key for the message (UID, file name).
        row_id: Its row in ``mail_messages``.
        action: What the run does with it.
        source: The documents' source in receipts, ``mail:<Message-ID>``.
        documents: Spooled document files, each named as in the message.
        sender: The sender's match in the directory.
        reply_due: Whether its settlement makes a reply pending.
        spool_dir: Folder of its spooled files (removed once filed).
    """

    key: str
    row_id: int
    action: IntakeAction
    source: str
    documents: tuple[Path, ...] = ()
    sender: SenderMatch = SenderMatch(SenderStatus.UNKNOWN)
    reply_due: bool = False
    spool_dir: Path | None = None


@dataclass(frozen=True)
class MessageResult:
    """What became of a message in this run (no personal data).

    Attributes:
        key: The source's key.
        row_id: Its row.
        status: ``processed``, ``quarantined``, or ``received`` when left in the inbox.
        folder: Where it was filed (``None`` when left).
        reply: The reply's status after this run.
        kinds: Its files by kind (``document``, ``decoration``, ``rejected``).
    """

    key: str
    row_id: int
    status: str
    folder: str | None
    reply: str
    kinds: dict[str, int] = field(default_factory=dict)


def documents_source(message_id: str) -> str:
    """The ``source`` of a message's documents in receipts (one per message)."""
    return f"mail:{message_id}"[:500]


def _spool_dir(ctx: RunContext, message_id: str) -> Path:
    return ctx.settings.data_dir / "mail" / "spool" / hashlib.sha256(message_id.encode()).hexdigest()[:24]


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def distinct_identity(mail_store: MailStore, message_id: str, hashes: Sequence[str] | None) -> str:
    """``message_id``, or ``<message_id>#<digest>`` when a message with other files is recorded under it
    (:meth:`MailStore.same_message`): each message then has its own row, spool and raw copy, and is read.

    An attack (2026-12-07) sent three messages with different forms under one Message-ID, as a copier's
    scan-to-mail does: the first was read, the other two filed as processed unread. The digest is of the files'
    hashes, so that the same second message delivered again is known again.

    Args:
        mail_store: The mail tables.
        message_id: The message's identity (:func:`pipeline.intake.mail.message_identity`).
        hashes: Its files' SHA-256, in message order; ``None`` when it is refused unread.
    """
    existing = mail_store.find(message_id)
    if existing is None or not hashes or mail_store.same_message(existing.row_id, hashes):
        return message_id
    return f"{message_id}#{hashlib.sha256(chr(10).join(hashes).encode()).hexdigest()[:16]}"


def _already_seen(mail_store: MailStore, message_id: str, run_id: int, key: str, source: str
                  ) -> MessageIntake | None:
    existing = mail_store.find(message_id)
    if existing is None:
        return None
    if existing.status != MessageStatus.RECEIVED.value:
        return MessageIntake(key, existing.row_id, IntakeAction.REFILE, documents_source(message_id))
    if existing.last_run_id == run_id:
        return MessageIntake(key, existing.row_id, IntakeAction.COPY, documents_source(message_id))
    return None


def receive_message(ctx: RunContext, mail_store: MailStore, source: MailSource, run_id: int,
                    ref: MessageRef) -> MessageIntake:
    """Fetch, parse and record one message; spool its documents for the pipeline.

    Args:
        ctx: The run context (settings, store, directory).
        mail_store: The mail tables.
        source: Where the message is.
        run_id: The current run.
        ref: The message's key and size.

    Returns:
        The intake: documents to receive, or a message only to file.

    Raises:
        pipeline.intake.mailbox.MailSourceError: The source failed (nothing is recorded).
        OSError: A spooled file cannot be written.
    """
    mail = ctx.settings.mail
    if ref.size_bytes > mail.max_message_bytes:
        return _refuse_too_large(ctx, mail_store, source, run_id, ref)
    raw = source.fetch(ref.key)
    if len(raw) > mail.max_message_bytes:
        return _refuse_too_large(ctx, mail_store, source, run_id, ref)
    try:
        parsed = read_message(raw, ctx)
    except Exception as exc:  # noqa: BLE001 - parsing is pure: any error is this message's, never the run's
        return _refuse_unreadable(ctx, mail_store, source, run_id, ref, raw, exc)
    message_id = distinct_identity(mail_store, parsed.message_id, [c.sha256 for c in parsed.candidates])
    seen = _already_seen(mail_store, message_id, run_id, ref.key, source.label)
    if seen is not None:
        return seen
    match, candidates = parsed.sender_match, parsed.candidates
    reply_due = mail.smtp.enabled and match.status is SenderStatus.KNOWN and not parsed.automatic
    too_many = too_many_attachments(candidates, mail)
    if too_many is not None:
        row_id = mail_store.record_refused(run_id, message_id, source.label, len(raw), parsed.sender,
                                           "too_many_attachments", too_many, sender_status=match.status.value,
                                           reply_due=reply_due)
        return MessageIntake(ref.key, row_id, IntakeAction.REFILE, documents_source(message_id))
    if any(c.status is AttachmentStatus.REJECTED for c in candidates):
        keep_raw(ctx, message_id, raw)  # the message goes to quarantine: its bytes are kept for staff
    row_id = mail_store.record_received(run_id, message_id, source.label, len(raw), parsed.sender,
                                        match.status.value, match.school_ids, parsed.automatic, candidates)
    spool = _spool_dir(ctx, message_id)
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = []
    for c in candidates:
        if c.status is AttachmentStatus.DOCUMENT:
            path = spool / c.filename  # a safe name of at most 255 bytes (pipeline.intake.names)
            _write_private(path, c.data)
            paths.append(path)
    return MessageIntake(ref.key, row_id, IntakeAction.PROCESS, documents_source(message_id), tuple(paths),
                         match, reply_due, spool)


@dataclass(frozen=True)
class ParsedMessage:
    """What the intake needs from a message's bytes.

    Attributes:
        message_id: Its identity (:func:`pipeline.intake.mail.message_identity`).
        sender: The ``From`` address.
        sender_match: The sender in the school directory.
        automatic: Sent by a machine (never answered).
        candidates: Its files, classified.
    """

    message_id: str
    sender: str
    sender_match: SenderMatch
    automatic: bool
    candidates: list[AttachmentCandidate]


def read_message(raw: bytes, ctx: RunContext) -> ParsedMessage:
    """Parse a message and classify its files (pure: no disk, no network).

    Raises:
        Exception: Whatever the stdlib parser or an attachment reader raises on a message it cannot read
            (``UnicodeDecodeError`` in a header, see :data:`pipeline.intake.mail.HEADER_ERRORS`);
            :func:`receive_message` quarantines the message.
    """
    message = parse_message(raw)
    message_id = message_identity(message, hashlib.sha256(raw).hexdigest())
    sender = sender_address(message)
    return ParsedMessage(message_id, sender, match_sender(sender, ctx.directory), is_automatic(message),
                         extract_attachments(message, ctx.settings.mail))


MESSAGE_UNREADABLE_FR = ("Message illisible (en-têtes ou structure MIME invalides) : il n'a pas pu être ouvert et "
                         "reste en quarantaine, conservé tel quel ; demander à l'école de renvoyer la fiche en "
                         "pièce jointe d'un nouveau message.")


def keep_raw(ctx: RunContext, message_id: str, raw: bytes) -> Path:
    """Keep a quarantined message's bytes as received (mode 0600), for staff to open; returns the path.

    Raises:
        OSError: The file cannot be written.
    """
    path = raw_message_path(ctx.settings.data_dir, message_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".part")
    _write_private(tmp, raw)
    os.replace(tmp, path)
    return path


def _refuse_unreadable(ctx: RunContext, mail_store: MailStore, source: MailSource, run_id: int, ref: MessageRef,
                       raw: bytes, exc: Exception) -> MessageIntake:
    """Quarantine a message the parser cannot read: its bytes kept, its reason recorded, no reply (the sender's
    address could not be read either)."""
    message_id = f"sha256:{hashlib.sha256(raw).hexdigest()}"
    # The exception's message may quote a header (a name): its type only.
    logger.warning("message %s: unreadable (%s); quarantined", message_id[7:19], type(exc).__name__)
    seen = _already_seen(mail_store, message_id, run_id, ref.key, source.label)
    if seen is not None:
        return seen
    keep_raw(ctx, message_id, raw)
    row_id = mail_store.record_refused(run_id, message_id, source.label, len(raw), "", "message_unreadable",
                                       MESSAGE_UNREADABLE_FR)
    return MessageIntake(ref.key, row_id, IntakeAction.REFILE, documents_source(message_id))


def _refuse_too_large(ctx: RunContext, mail_store: MailStore, source: MailSource, run_id: int,
                      ref: MessageRef) -> MessageIntake:
    mail = ctx.settings.mail
    raw_header = source.fetch_header(ref.key)
    fallback_id = hashlib.sha256(f"{source.label}#{ref.key}".encode()).hexdigest()
    try:
        header = parse_message(raw_header)
        message_id = message_identity(header, fallback_id)
        sender, automatic = sender_address(header), is_automatic(header)
    except HEADER_ERRORS:  # an unreadable header: refused all the same, without reply
        message_id, sender, automatic = f"sha256:{fallback_id}", "", True
    seen = _already_seen(mail_store, message_id, run_id, ref.key, source.label)
    if seen is not None:
        return seen
    match = match_sender(sender, ctx.directory)
    known = match.status is SenderStatus.KNOWN
    reason = (f"Message trop volumineux ({ref.size_bytes / 1_048_576:.1f} Mo, au plus "
              f"{mail.max_message_bytes / 1_048_576:.0f} Mo) : il n'a pas été lu ; demander à l'école d'envoyer "
              "les fiches en plusieurs messages ou scannées en 300 dpi au plus.")
    row_id = mail_store.record_refused(run_id, message_id, source.label, ref.size_bytes, sender, "message_too_large",
                                       reason, sender_status=match.status.value,
                                       reply_due=mail.smtp.enabled and known and not automatic)
    return MessageIntake(ref.key, row_id, IntakeAction.REFILE, documents_source(message_id))


def settle_message(ctx: RunContext, mail_store: MailStore, source: MailSource, intake: MessageIntake
                   ) -> MessageResult:
    """Settle a message once all its documents are recorded, reply at most once, then file it.

    A message whose documents are not all recorded stays in the inbox, untouched,
    for the next run.

    Raises:
        pipeline.intake.mailbox.MailSourceError: Filing failed (the message is settled; the next run files it).
    """
    mail = ctx.settings.mail
    status = mail_store.settle(intake.row_id, reply_due=intake.reply_due)
    kinds = {} if intake.action is IntakeAction.COPY else mail_store.kinds(intake.row_id)
    if status is None:
        logger.warning("message #%s: documents not all recorded; left in the inbox", intake.row_id)
        return MessageResult(intake.key, intake.row_id, MessageStatus.RECEIVED.value, None,
                             mail_store.find_by_row(intake.row_id).reply_status, kinds)
    reasons = [str(r.get("message_fr", "")) for r in mail_store.message_reasons(intake.row_id)]
    reply_once(mail_store, intake.row_id, mail.smtp, reasons)
    folder = mail.processed_folder if status is MessageStatus.PROCESSED else mail.quarantine_folder
    source.file_message(intake.key, folder)
    mail_store.mark_filed(intake.row_id, folder)
    if intake.spool_dir is not None:
        shutil.rmtree(intake.spool_dir, ignore_errors=True)
    return MessageResult(intake.key, intake.row_id, status.value, folder,
                         mail_store.find_by_row(intake.row_id).reply_status, kinds)


@dataclass(frozen=True)
class MailRunSummary:
    """A mail run's accounting, beside the files' (``pipeline.stages.RunSummary``).

    Attributes:
        messages: Messages found in the inbox when the run started.
        statuses: Message status → count (``received`` = left in the inbox).
        attachments: File kind → count, over the messages settled or refused.
        replies: Reply status → count.
    """

    messages: int
    statuses: dict[str, int]
    attachments: dict[str, int]
    replies: dict[str, int]

    @property
    def all_filed(self) -> bool:
        """Whether every message found was settled and filed (none left in the inbox)."""
        return self.statuses.get(MessageStatus.RECEIVED.value, 0) == 0

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return {"messages": self.messages, "statuses": self.statuses, "attachments": self.attachments,
                "replies": self.replies, "all_filed": self.all_filed}

    def line(self) -> str:
        """The messages' accounting line, in French."""
        s = self.statuses
        return (f"Messages lus : {self.messages} = {s.get('processed', 0)} traités + "
                f"{s.get('quarantined', 0)} en quarantaine + {s.get('received', 0)} laissés dans la boîte ; "
                f"pièces jointes : {self.attachments.get('document', 0)} documents, "
                f"{self.attachments.get('decoration', 0)} images décoratives, "
                f"{self.attachments.get('rejected', 0)} illisibles ; réponses envoyées : "
                f"{self.replies.get(ReplyStatus.SENT.value, 0)}")


def summarise_messages(results: Sequence[MessageResult]) -> MailRunSummary:
    """The mail run's accounting from its message results."""
    kinds: Counter[str] = Counter()
    for r in results:
        kinds.update(r.kinds)
    replies = {r.row_id: r.reply for r in results}  # a copy of a message met earlier shares its row and reply
    return MailRunSummary(len(results), dict(Counter(r.status for r in results)), dict(kinds),
                          dict(Counter(replies.values())))
