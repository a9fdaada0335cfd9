"""Notices of outcome to the referring teacher (issue 20): an outbox, sent by SMTP, at most once per change.

When a referral's outcome changes — its carrier records the enrolment or a refusal that stands, or the
referral goes on the waiting list — the teacher who referred the pupil (``referrer.email`` on the form)
receives a short French notice with minimal data: the pupil's **initials**, the class level, the carrier
and the outcome. Never the family's data (no name, address, phone, guardian, criteria, observations).

* **Opt-in per school, off by default.** A school receives notices only when staff or an admin ticked it
  on the desk (``school_notice_optins``, page « Avis aux enseignants »). The choice is read when the notice
  is due: a school that opted out meanwhile receives nothing (its notice ends ``skipped``), and a school
  receives notices of changes made after it opted in only (no backlog when it joins).
* **One notice per change.** The outbox ``teacher_notices`` has a unique ``change_key`` per outcome change:
  ``event:<id>`` for a carrier's outcome (one row of ``carrier_outcome_events``) and ``waiting:<referral id>``
  for the waiting list. Enqueuing twice is a no-op.
* **After the undo window.** A carrier's outcome can be undone for ``CLAS_WEB_FOLLOWUP_UNDO_S``; its notice is
  due only then, and undoing cancels it (:func:`cancel_notice`, in the undo's own transaction).
* **Never doubled.** A notice is claimed (``sending``) in its own transaction before the SMTP conversation.
  A send the server did not accept (no connection, login refused, a 4xx/5xx answer to the message) goes back
  to ``pending`` and is retried by the next run, up to ``CLAS_NOTICES__MAX_ATTEMPTS`` (then ``failed``). A
  connection lost after the message was handed over is ``uncertain``: never retried, shown to staff. A
  process killed mid-send leaves ``sending``: never retried either. Each notice's ``Message-ID`` is derived
  from its key, so a mail system would fold any copy anyway.
* **Audited.** Queued, sent, skipped, failed: one audit entry each, with the notice id and the form serial,
  never the teacher's address.

Sent by ``clas-referrals notify`` (``CLAS_NOTICES__ENABLED``), through the SMTP server of the replies
(``CLAS_MAIL__SMTP__*``).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from pipeline.intake.replies import ReplyError, open_smtp
from pipeline.settings import NoticeSettings, SmtpSettings
from pipeline.store import AuditRow, Base, ReferralRow, Store, utcnow
from schemas.directory import ClassLevel, Directory
from schemas.document import Outcome
from schemas.referral import ReferrerRole

logger = logging.getLogger(__name__)


class NoticeOutcome(StrEnum):
    """The outcome a notice tells."""

    ENROLLED = "enrolled"
    WAITING_LIST = "waiting_list"
    DECLINED = "declined"


OUTCOME_SENTENCES_FR: dict[NoticeOutcome, str] = {
    NoticeOutcome.ENROLLED: "inscrit(e) à l'accompagnement à la scolarité",
    NoticeOutcome.WAITING_LIST: "en liste d'attente : aucune place n'est disponible pour l'instant",
    NoticeOutcome.DECLINED: "accompagnement non mis en place (la famille ou la structure a décliné)",
}


class NoticeStatus(StrEnum):
    """Where a notice stands (``teacher_notices.status``)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    """Refused ``max_attempts`` times: staff look at the SMTP settings or the address."""
    UNCERTAIN = "uncertain"
    """The connection was lost after the message was handed over: never retried (it may have arrived)."""
    CANCELLED = "cancelled"
    """The carrier undid the outcome before the notice was due."""
    SKIPPED = "skipped"
    """Not for sending: the school did not opt in, or the referrer is not a professional with an address."""


NOTIFIED_ROLES = frozenset({ReferrerRole.TEACHER.value, ReferrerRole.OTHER_PROFESSIONAL.value})
"""Referrers who receive notices: professionals of the school. A family referrer never does (the notice would
be the family's own data sent to an address nobody checked)."""
MAX_ERROR = 200


class TeacherNoticeRow(Base):
    """One notice to send (the outbox): at most one per outcome change (``change_key`` is unique)."""

    __tablename__ = "teacher_notices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_key: Mapped[str] = mapped_column(String(100), unique=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(20))
    carrier_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default=NoticeStatus.PENDING.value, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(MAX_ERROR), nullable=True)
    """The last failure's kind (an exception name and SMTP code): no address, no content."""


class SchoolNoticeOptInRow(Base):
    """A school's choice to receive outcome notices (no row: off)."""

    __tablename__ = "school_notice_optins"
    school_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def _audit(s: Session, actor: str, action: str, form_id: str, detail: str) -> None:
    s.add(AuditRow(actor=actor, action=action, detail=f"form {form_id}; {detail}"))


def enqueue_notice(s: Session, referral: ReferralRow, outcome: NoticeOutcome, change_key: str, due_at: datetime,
                   actor: str) -> bool:
    """Queue the notice of one outcome change, in the caller's transaction; ``False`` if already queued.

    Args:
        s: The session of the change itself (so the notice exists if and only if the change does).
        referral: The referral whose outcome changed.
        outcome: What the notice will say.
        change_key: Unique per change (``event:<id>``, ``waiting:<referral id>``).
        due_at: When it may be sent (after an undo window).
        actor: Who made the change (audit).
    """
    if s.scalar(select(TeacherNoticeRow.id).where(TeacherNoticeRow.change_key == change_key)) is not None:
        return False
    row = TeacherNoticeRow(change_key=change_key, referral_id=referral.id, outcome=outcome.value,
                           carrier_id=referral.carrier_id, due_at=due_at)
    s.add(row)
    s.flush()
    _audit(s, actor, "teacher_notice_queued", referral.form_id, f"notice {row.id}; outcome {outcome.value}")
    return True


def cancel_notice(s: Session, change_key: str, actor: str) -> bool:
    """Cancel a notice not sent yet (its change was undone), in the caller's transaction; whether one was."""
    row = s.scalar(select(TeacherNoticeRow).where(TeacherNoticeRow.change_key == change_key,
                                                  TeacherNoticeRow.status == NoticeStatus.PENDING.value))
    if row is None:
        return False
    row.status = NoticeStatus.CANCELLED.value
    form_id = s.scalar(select(ReferralRow.form_id).where(ReferralRow.id == row.referral_id)) or "-"
    _audit(s, actor, "teacher_notice_cancelled", form_id, f"notice {row.id}")
    return True


def queue_waiting_list_notices(store: Store, school_year: str, now: datetime | None = None) -> int:
    """Queue a notice for every referral of ``school_year`` on the waiting list that has none; how many.

    The waiting list is reached by the nightly run and by staff approvals alike: one scan covers both.
    """
    now = now or utcnow()
    queued = 0
    with store.session() as s:
        known = select(TeacherNoticeRow.referral_id).where(TeacherNoticeRow.outcome == NoticeOutcome.WAITING_LIST)
        rows = s.scalars(select(ReferralRow).where(ReferralRow.school_year == school_year,
                                                   ReferralRow.status == Outcome.WAITING_LIST.value,
                                                   ReferralRow.id.not_in(known))).all()
        for r in rows:
            queued += enqueue_notice(s, r, NoticeOutcome.WAITING_LIST, f"waiting:{r.id}", now, "pipeline")
    return queued


def set_school_opt_in(store: Store, school_id: str, enabled: bool, actor: str, directory: Directory) -> None:
    """Record a school's choice (staff or admin on the desk), audited.

    Raises:
        KeyError: The school is not in the directory.
    """
    directory.school(school_id)
    with store.session() as s:
        row = s.get(SchoolNoticeOptInRow, school_id)
        if row is None:
            row = SchoolNoticeOptInRow(school_id=school_id, changed_by=actor)
            s.add(row)
        row.enabled, row.changed_by, row.changed_at = enabled, actor, utcnow()
        s.add(AuditRow(actor=actor, action="teacher_notice_opt_in" if enabled else "teacher_notice_opt_out",
                       detail=f"school {school_id}"))


def opted_in_schools(s: Session) -> dict[str, datetime]:
    """Schools that receive notices → since when (UTC)."""
    rows = s.execute(select(SchoolNoticeOptInRow.school_id, SchoolNoticeOptInRow.changed_at)
                     .where(SchoolNoticeOptInRow.enabled.is_(True))).all()
    return {school: _aware(at) for school, at in rows}


def _aware(at: datetime) -> datetime:
    """SQLite returns naive datetimes: they were written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def initials(first_name: str | None, surname: str | None) -> str:
    """``"Léa", "Martin-Diallo"`` → ``"L. M."``: the only trace of the pupil's name a notice carries."""
    parts = [p.strip()[:1].upper() + "." for p in (first_name, surname) if p and p.strip()]
    return " ".join(parts) or "—"


@dataclass(frozen=True)
class NoticeContent:
    """What one notice says (the whole of it: nothing else of the form is read).

    Attributes:
        to: The referrer's address.
        pupil_initials: ``"L. M."``.
        class_level: ``"CM1"``, ``"6e"``.
        carrier: The carrier's name, or empty for the waiting list.
        outcome: The outcome.
    """

    to: str
    pupil_initials: str
    class_level: str
    carrier: str
    outcome: NoticeOutcome


def notice_text(c: NoticeContent) -> str:
    """The French body of a notice."""
    carrier = c.carrier or "aucune pour l'instant"
    return (
        "Bonjour,\n\n"
        "Vous avez orienté un(e) élève vers l'accompagnement à la scolarité (CLAS). Voici la suite donnée :\n\n"
        f"  Élève : {c.pupil_initials}\n"
        f"  Classe : {c.class_level}\n"
        f"  Structure CLAS : {carrier}\n"
        f"  Suite : {OUTCOME_SENTENCES_FR[c.outcome]}\n\n"
        "Ce message ne contient volontairement aucune autre information sur l'élève ou sa famille. "
        "Pour toute question, l'équipe CLAS de la Ville reste à votre disposition.\n\n"
        "Message envoyé automatiquement parce que votre établissement a demandé à recevoir ces avis ; "
        "il peut y renoncer auprès de l'équipe CLAS.\n"
    )


def compose_notice(smtp: SmtpSettings, c: NoticeContent, change_key: str, now: datetime) -> EmailMessage:
    """The notice as an e-mail; its ``Message-ID`` is derived from ``change_key`` (the same for any copy)."""
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = c.to
    msg["Subject"] = f"Suite de votre orientation CLAS : élève {c.pupil_initials} ({c.class_level})"
    msg["Date"] = format_datetime(now)
    domain = smtp.sender.rpartition("@")[2] or "clas.invalid"
    digest = hashlib.sha256(change_key.encode()).hexdigest()[:24]
    msg["Message-ID"] = f"<clas-notice-{digest}@{domain}>"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(notice_text(c))
    return msg


class _Accepted(StrEnum):
    YES = "yes"
    NO = "no"  # the server did not take the message: safe to try again
    UNKNOWN = "unknown"  # lost after the message was handed over


def _send(smtp: SmtpSettings, msg: EmailMessage) -> tuple[_Accepted, str]:
    """Send one message; whether the server accepted it, and the failure's kind (no content, no address)."""
    try:
        client = open_smtp(smtp)
    except ReplyError as exc:  # plain text off loopback, or no connection: nothing was handed over
        return _Accepted.NO, f"connection: {exc}"
    try:
        client.send_message(msg)
        return _Accepted.YES, ""
    except smtplib.SMTPResponseException as exc:  # the server answered no (4xx, 5xx): nothing was accepted
        return _Accepted.NO, f"refused: {type(exc).__name__} {exc.smtp_code}"
    except smtplib.SMTPRecipientsRefused as exc:
        return _Accepted.NO, f"refused: {type(exc).__name__}"
    except (OSError, smtplib.SMTPException) as exc:
        return _Accepted.UNKNOWN, f"lost: {type(exc).__name__}"
    finally:
        try:
            client.quit()
        except (OSError, smtplib.SMTPException):
            pass


@dataclass(frozen=True)
class NotifySummary:
    """One sending pass: how many notices ended each way (counts only).

    Attributes:
        sent: Delivered to the SMTP server.
        retry: Not accepted; pending again for the next run.
        failed: Not accepted for the last allowed time.
        uncertain: Lost after hand-over; never retried.
        skipped: School not opted in, or no professional referrer with an address.
    """

    sent: int = 0
    retry: int = 0
    failed: int = 0
    uncertain: int = 0
    skipped: int = 0


def _claim(store: Store, notice_id: int) -> bool:
    """Mark a pending notice ``sending`` (one transaction) before any SMTP: only one sender ever holds it."""
    with store.session() as s:
        result = s.execute(update(TeacherNoticeRow).where(TeacherNoticeRow.id == notice_id,
                                                          TeacherNoticeRow.status == NoticeStatus.PENDING.value)
                           .values(status=NoticeStatus.SENDING.value, attempts=TeacherNoticeRow.attempts + 1))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _content(s: Session, notice: TeacherNoticeRow, directory: Directory, schools: dict[str, datetime]
             ) -> tuple[NoticeContent | None, str, str]:
    """The notice's content, or ``None`` and why it is skipped; and the form serial (for the audit)."""
    r = s.get_one(ReferralRow, notice.referral_id)
    if r.school_id not in schools:
        return None, "school not opted in", r.form_id
    if _aware(notice.created_at) < schools[r.school_id]:
        return None, "change before the school opted in", r.form_id
    referrer = r.data.get("referrer") or {}
    if referrer.get("role") not in NOTIFIED_ROLES or not referrer.get("email"):
        return None, "referrer not a professional with an address", r.form_id
    pupil = r.data.get("pupil") or {}
    carrier = ""
    if notice.carrier_id:
        try:
            carrier = directory.carrier(notice.carrier_id).name
        except KeyError:
            carrier = notice.carrier_id
    try:
        level = ClassLevel(r.class_level).label_fr
    except ValueError:
        level = r.class_level
    return (NoticeContent(str(referrer["email"]), initials(pupil.get("first_name"), pupil.get("surname")), level,
                          carrier, NoticeOutcome(notice.outcome)), "", r.form_id)


def send_pending(store: Store, smtp: SmtpSettings, settings: NoticeSettings, directory: Directory,
                 now: datetime | None = None) -> NotifySummary:
    """Send every pending notice that is due, once each (rules in the module docstring).

    Args:
        store: The store.
        smtp: The SMTP server (``CLAS_MAIL__SMTP__*``; ``sender`` is the ``From``).
        settings: ``enabled`` and ``max_attempts``.
        directory: Carrier names.
        now: The current time (tests); UTC now when omitted.

    Returns:
        The counts of this pass (nothing when notices are disabled).
    """
    if not settings.enabled:
        return NotifySummary()
    now = now or utcnow()
    counts = dict.fromkeys(("sent", "retry", "failed", "uncertain", "skipped"), 0)
    with store.session() as s:
        due = list(s.scalars(select(TeacherNoticeRow.id).where(
            TeacherNoticeRow.status == NoticeStatus.PENDING.value, TeacherNoticeRow.due_at <= now)
            .order_by(TeacherNoticeRow.due_at, TeacherNoticeRow.id)))
    for notice_id in due:
        if not _claim(store, notice_id):
            continue  # another sender took it
        with store.session() as s:
            notice = s.get_one(TeacherNoticeRow, notice_id)
            content, why, form_id = _content(s, notice, directory, opted_in_schools(s))
            change_key, attempts = notice.change_key, notice.attempts
            if content is None:
                notice.status = NoticeStatus.SKIPPED.value
                _audit(s, "pipeline", "teacher_notice_skipped", form_id, f"notice {notice_id}; {why}")
                counts["skipped"] += 1
                continue
        accepted, error = _send(smtp, compose_notice(smtp, content, change_key, now))
        with store.session() as s:
            notice = s.get_one(TeacherNoticeRow, notice_id)
            if accepted is _Accepted.YES:
                notice.status, notice.sent_at, notice.last_error = NoticeStatus.SENT.value, utcnow(), None
                key, action = "sent", "teacher_notice_sent"
            elif accepted is _Accepted.UNKNOWN:
                notice.status, notice.last_error = NoticeStatus.UNCERTAIN.value, error[:MAX_ERROR]
                key, action = "uncertain", "teacher_notice_uncertain"
            elif attempts >= settings.max_attempts:
                notice.status, notice.last_error = NoticeStatus.FAILED.value, error[:MAX_ERROR]
                key, action = "failed", "teacher_notice_failed"
            else:
                notice.status, notice.last_error = NoticeStatus.PENDING.value, error[:MAX_ERROR]
                key, action = "retry", "teacher_notice_retry"
            _audit(s, "pipeline", action, form_id, f"notice {notice_id}; attempt {attempts}"
                   + (f"; {error}" if error else ""))
            counts[key] += 1
            if key != "sent":
                logger.warning("teacher notice %s not sent (%s): now %s", notice_id, error, notice.status)
    return NotifySummary(**counts)


def notice_counts(s: Session) -> dict[str, int]:
    """Notices per status (for the desk)."""
    return {str(k): int(n) for k, n in s.execute(select(TeacherNoticeRow.status, func.count())
                                                  .group_by(TeacherNoticeRow.status)).all()}

