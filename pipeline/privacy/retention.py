"""Retention: delete what is no longer needed, everywhere, keeping only anonymous counts.

Two rules, from ``RetentionSettings`` (``CLAS_RETENTION__*``), enforced by
``clas-referrals purge`` and at the end of every nightly run:

* **Originals** (the received files) are deleted ``originals_days`` after their form
  was decided: routed or put on the waiting list (by the machine or a reviewer),
  rejected or closed as a duplicate. Quarantined files and duplicate copies go
  ``quarantine_days`` after reception. A form still open in review keeps its files.
* **Referrals not enrolled** are deleted whole once their school year is over plus
  ``grace_days``: referral, field results, review item, corrections, carrier
  follow-up, documents, receipts and files; the same for documents received during
  that school year that never became a referral. Enrolled referrals stay.

Before deleting, the counts by school year and outcome are added to
``retention_counts`` (no identifier at all), so yearly figures survive. Every
deletion is audited with codes and serials only.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import BindParameter, bindparam, delete, inspect, select, text, update
from sqlalchemy.orm import Session

from pipeline.settings import RetentionSettings
from pipeline.store import (
    AuditRow,
    DocumentRow,
    FieldResultRow,
    FieldVerificationRow,
    ReceiptRow,
    ReferralRow,
    RetentionCountRow,
    ReviewItemRow,
    Store,
)

logger = logging.getLogger(__name__)
DECIDED_REVIEW_ACTIONS = ("review_approved", "review_rejected", "review_duplicate")
"""Audit actions of the review desk (``web/review.py``) that decide a form."""
PURGED_PATH = ""
"""``documents.stored_path`` once the original file is deleted."""


@dataclass
class PurgeReport:
    """What a purge deleted (or would delete, for a dry run): counts only, safe to print and log.

    Attributes:
        originals: Original files deleted.
        forms: Forms (serials) deleted whole.
        documents: Document rows deleted.
        dry_run: Nothing was changed.
        form_ids: Serials deleted whole (not personal data; for the audit trail).
    """

    originals: int = 0
    forms: int = 0
    documents: int = 0
    dry_run: bool = False
    form_ids: list[str] = field(default_factory=list)

    def line_fr(self) -> str:
        """One French line for staff."""
        verb = "seraient supprimés" if self.dry_run else "supprimés"
        return (f"Conservation : {self.originals} fichier(s) d'origine, {self.forms} fiche(s) entière(s) "
                f"et {self.documents} document(s) {verb}.")


def school_year_end(school_year: str, retention: RetentionSettings) -> date:
    """Last day of a school year ``AAAA-AAAA`` (``retention.school_year_end_month``/``_day`` of its second year).

    Raises:
        ValueError: ``school_year`` is not ``AAAA-AAAA``.
    """
    start, _, end = school_year.partition("-")
    if not (start.isdigit() and end.isdigit() and int(end) == int(start) + 1):
        raise ValueError(f"school year must be AAAA-AAAA, got {school_year!r}")
    return date(int(end), retention.school_year_end_month, retention.school_year_end_day)


def _decided_at(s: Session) -> dict[str, datetime]:
    """Form serial → when it was decided (machine routing or a reviewer's decision)."""
    decided: dict[str, datetime] = {}
    open_forms = set(s.scalars(select(ReviewItemRow.form_id).where(ReviewItemRow.status.in_(("open", "set_aside")))))
    for form_id, created, status in s.execute(select(ReferralRow.form_id, ReferralRow.created_at, ReferralRow.status)):
        if form_id not in open_forms and status in ("routed", "waiting_list", "duplicate"):
            decided[form_id] = _aware(created)
    sha_to_form = {sha: form for sha, form in s.execute(select(DocumentRow.sha256, DocumentRow.form_id))}
    for sha, at in s.execute(select(AuditRow.sha256, AuditRow.at).where(AuditRow.action.in_(DECIDED_REVIEW_ACTIONS))):
        reviewed = sha_to_form.get(sha or "")
        if reviewed and reviewed not in open_forms:
            decided[reviewed] = max(decided.get(reviewed, _aware(at)), _aware(at))
    return decided


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _has_table(s: Session, name: str) -> bool:
    return inspect(s.connection()).has_table(name)


def enrolled_form_ids(s: Session) -> set[str]:
    """Serials of referrals a carrier marked enrolled (``carrier_followups``, a review-desk table)."""
    if not _has_table(s, "carrier_followups"):
        return set()
    rows = s.execute(text("SELECT r.form_id FROM referrals r JOIN carrier_followups f ON f.referral_id = r.id "
                          "WHERE f.outcome = 'enrolled'"))
    return {str(r[0]) for r in rows}


def delete_forms(s: Session, form_ids: Iterable[str], shas: Iterable[str], actor: str, action: str,
                 data_dir: Path | None = None) -> list[Path]:
    """Delete forms and documents everywhere in the database, and their files; audit each form.

    Args:
        s: The session (the caller's transaction).
        form_ids: Serials whose referral, fields, review item, corrections, follow-up, carrier outcomes, consent
            claims and teacher notices go.
        shas: Documents (by SHA-256) whose rows, receipts and files go.
        actor: Who deletes (``purge``, a username).
        action: Audit action (``retention_purged``, ``subject_erased``).
        data_dir: The data folder, whose ``crops/<form_id>`` folders (``pipeline.reading.crops``) go too, and the
            kept bytes of any message that carried one of the documents and nothing else
            (:func:`kept_messages_holding`; one that carries other files is left, audited, for a person).

    Returns:
        The files to delete once the transaction is committed (a crash in between leaves
        an orphan file, never a row pointing at a missing file): :func:`unlink_all`.
    """
    form_ids, shas = sorted(set(form_ids)), sorted(set(shas))
    forms_p: BindParameter[list[str]] = bindparam("forms", expanding=True)
    shas_p: BindParameter[list[str]] = bindparam("shas", expanding=True)
    if form_ids:
        if _has_table(s, "carrier_followups"):
            s.execute(text("DELETE FROM carrier_followups WHERE referral_id IN "
                           "(SELECT id FROM referrals WHERE form_id IN :forms)").bindparams(forms_p),
                      {"forms": form_ids})
        if _has_table(s, "corrections"):
            s.execute(text("DELETE FROM corrections WHERE form_id IN :forms").bindparams(forms_p), {"forms": form_ids})
        if _has_table(s, "carrier_outcome_events"):  # a carrier's outcomes, whose refusal reason is free text
            s.execute(text("DELETE FROM carrier_outcome_events WHERE referral_id IN "
                           "(SELECT id FROM referrals WHERE form_id IN :forms)").bindparams(forms_p),
                      {"forms": form_ids})
        if _has_table(s, "consent_claims"):  # staff's claims on a form's consent, whose reason is free text
            s.execute(text("DELETE FROM consent_claims WHERE form_id IN :forms").bindparams(forms_p),
                      {"forms": form_ids})
        if _has_table(s, "teacher_notices"):  # the outbox of notices to the referring teacher (issue 20)
            s.execute(text("DELETE FROM teacher_notices WHERE referral_id IN "
                           "(SELECT id FROM referrals WHERE form_id IN :forms)").bindparams(forms_p),
                      {"forms": form_ids})
        s.execute(delete(FieldResultRow).where(FieldResultRow.form_id.in_(form_ids)))
        if _has_table(s, "field_verifications"):  # kept to calibrate the readers: personal data, erased with the form
            s.execute(delete(FieldVerificationRow).where(FieldVerificationRow.form_id.in_(form_ids)))
        s.execute(delete(ReviewItemRow).where(ReviewItemRow.form_id.in_(form_ids)))
        s.execute(delete(ReferralRow).where(ReferralRow.form_id.in_(form_ids)))
    paths = []
    if shas:
        paths = [p for p in s.scalars(select(DocumentRow.stored_path).where(DocumentRow.sha256.in_(shas))) if p]
        if _has_table(s, "mail_attachments"):  # file names as sent may carry the pupil's name
            s.execute(text("UPDATE mail_attachments SET filename = '(supprimé)' WHERE sha256 IN :shas")
                      .bindparams(shas_p), {"shas": shas})
        s.execute(delete(ReceiptRow).where(ReceiptRow.sha256.in_(shas)))
        s.execute(delete(DocumentRow).where(DocumentRow.sha256.in_(shas)))
    for form_id in form_ids:
        s.add(AuditRow(actor=actor, action=action, detail=f"form {form_id}"))
    for sha in shas:
        s.add(AuditRow(actor=actor, action=action, sha256=sha, detail="document"))
    s.flush()
    crops = [data_dir / "crops" / f for f in form_ids] if data_dir is not None else []
    kept, shared = kept_messages_holding(s, shas, data_dir) if data_dir is not None else ([], [])
    for path in kept:
        s.add(AuditRow(actor=actor, action=action, detail=f"kept message {path.stem}"))
    for path in shared:
        s.add(AuditRow(actor=actor, action=action, detail=f"kept message {path.stem} left: it carries other files"))
    return [Path(p) for p in paths] + crops + kept


def unlink_all(paths: Iterable[Path]) -> None:
    """Delete files and folders (crops); already gone is fine."""
    for path in paths:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def add_anonymous_count(s: Session, school_year: str, category: str, n: int) -> None:
    """Add ``n`` to the anonymous count of ``category`` for ``school_year`` (``retention_counts``)."""
    if n <= 0:
        return
    row = s.scalar(select(RetentionCountRow).where(RetentionCountRow.school_year == school_year,
                                                   RetentionCountRow.category == category))
    if row is None:
        s.add(RetentionCountRow(school_year=school_year, category=category, count=n))
    else:
        row.count += n


def _doomed_by_school_year(s: Session, retention: RetentionSettings,
                           now: datetime) -> tuple[set[str], set[str], Counter[tuple[str, str]]]:
    """Rule 2: what goes whole once its school year is over (grace days included) and the pupil not enrolled.

    That is every form of such a year, and every document received during such a year that
    never became a referral.

    Args:
        s: An open session.
        retention: Durations (days) and the end of the school year.
        now: The current time (UTC).

    Returns:
        The doomed form ids, the doomed documents' SHA-256, and the anonymous counts kept of
        them, by ``(school_year, category)``.
    """
    enrolled = enrolled_form_ids(s)
    years = set(s.scalars(select(ReferralRow.school_year).distinct()))
    ended = {y for y in years
             if datetime.combine(school_year_end(y, retention) + timedelta(days=retention.grace_days), time(),
                                 UTC) < now}
    doomed_forms: set[str] = set()
    counts: Counter[tuple[str, str]] = Counter()
    for form_id, year, status in s.execute(select(ReferralRow.form_id, ReferralRow.school_year,
                                                  ReferralRow.status).where(ReferralRow.school_year.in_(ended))):
        if form_id not in enrolled:
            doomed_forms.add(form_id)
            counts[(year, f"referral_{status}")] += 1
    # Documents that never became a referral, received during a school year now over.
    cutoffs = {y: datetime.combine(school_year_end(y, retention), time(), UTC) for y in ended}
    referral_forms = set(s.scalars(select(ReferralRow.form_id)))
    doomed_shas: set[str] = set()
    for sha, doc_form, received, status in s.execute(select(DocumentRow.sha256, DocumentRow.form_id,
                                                            DocumentRow.received_at, DocumentRow.status)):
        if doc_form in doomed_forms:
            doomed_shas.add(sha)
        elif doc_form not in referral_forms and doc_form not in enrolled:
            for year, cutoff in cutoffs.items():
                if _aware(received) < cutoff and now - _aware(received) > timedelta(days=retention.grace_days):
                    doomed_shas.add(sha)
                    counts[(year, f"document_{status}")] += 1
                    if doc_form:
                        doomed_forms.add(doc_form)
                    break
    return doomed_forms, doomed_shas, counts


def _expired_originals(s: Session, retention: RetentionSettings, now: datetime,
                       doomed_shas: set[str]) -> list[tuple[str, str]]:
    """Rule 1: the stored originals whose keeping time is over.

    An original goes ``originals_days`` after its form was decided; a quarantined or duplicate
    document of no decided form goes ``quarantine_days`` after it was received. Documents that
    rule 2 deletes whole (``doomed_shas``) and originals already purged are left out.

    Returns:
        ``(sha256, stored_path)`` of each expired original.
    """
    decided = _decided_at(s)
    expired_files: list[tuple[str, str]] = []
    for sha, form_id, path, status, received in s.execute(select(
            DocumentRow.sha256, DocumentRow.form_id, DocumentRow.stored_path, DocumentRow.status,
            DocumentRow.received_at)):
        if not path or sha in doomed_shas:
            continue
        if status in ("quarantined", "duplicate") and form_id not in decided:
            due = _aware(received) + timedelta(days=retention.quarantine_days)
        elif form_id in decided:
            due = decided[form_id] + timedelta(days=retention.originals_days)
        else:
            continue
        if due < now:
            expired_files.append((sha, path))
    return expired_files


def _purge_originals(s: Session, expired_files: list[tuple[str, str]], actor: str,
                     data_dir: Path | None) -> list[Path]:
    """Mark each expired original purged and audit it; the files are unlinked by the caller, after the commit.

    Args:
        s: An open session.
        expired_files: ``(sha256, stored_path)`` from :func:`_expired_originals`.
        actor: Recorded in the audit trail.
        data_dir: The data folder, whose ``crops/<form_id>`` go with the original; ``None`` keeps them.

    Returns:
        The files and folders to unlink: each original, then its form's crops.
    """
    files: list[Path] = []
    for sha, path in expired_files:
        s.execute(update(DocumentRow).where(DocumentRow.sha256 == sha).values(stored_path=PURGED_PATH))
        s.add(AuditRow(actor=actor, action="original_purged", sha256=sha, detail="retention: original file"))
        files.append(Path(path))
        form_id = s.scalar(select(DocumentRow.form_id).where(DocumentRow.sha256 == sha))
        if data_dir is not None and form_id:
            files.append(data_dir / "crops" / form_id)
    return files


QUARANTINED_MAIL_DIR = ("mail", "quarantine")
"""Where the mail intake keeps the bytes of a message it quarantined (:func:`raw_message_path`)."""


def raw_message_path(data_dir: Path, message_id: str) -> Path:
    """Where the bytes of a quarantined message are kept (owner-only): ``mail/quarantine/<hash>.eml`` under
    ``data_dir`` (``pipeline.runs.mail.keep_raw`` writes it; :func:`_purge_quarantined_mail` and
    :func:`delete_forms` delete it)."""
    return data_dir.joinpath(*QUARANTINED_MAIL_DIR) / f"{hashlib.sha256(message_id.encode()).hexdigest()[:24]}.eml"


def kept_messages_holding(s: Session, shas: Sequence[str], data_dir: Path) -> tuple[list[Path], list[Path]]:
    """The kept bytes (:func:`raw_message_path`) of every message that carried one of the documents ``shas``, as
    far as they are still on disk: a copy of each such document, the mail intake kept because another part of its
    message was refused (an attack, 2026-12-07: a pupil's erasure left its form whole in one, until the purge).

    Returns:
        Those that carry nothing but these documents (and decorations: logos), which can go with them; and those
        that also carry another file (another pupil's form, a refused archive), which cannot be deleted without
        losing it (a review, 2026-12-07: erasing one pupil deleted another's only copy): a person handles them.
    """
    if not shas or not _has_table(s, "mail_attachments") or not _has_table(s, "mail_messages"):
        return [], []
    shas_p: BindParameter[list[str]] = bindparam("shas", expanding=True)
    rows = s.execute(text("SELECT m.message_id, a.sha256, a.kind FROM mail_messages m JOIN mail_attachments a "
                          "ON a.message_row_id = m.id WHERE m.id IN (SELECT message_row_id FROM mail_attachments "
                          "WHERE sha256 IN :shas)").bindparams(shas_p), {"shas": list(shas)}).all()
    erased, others = set(shas), dict[str, bool]()
    for message_id, sha, kind in rows:
        others[str(message_id)] = others.get(str(message_id), False) or (sha not in erased and kind != "decoration")
    paths = {m: raw_message_path(data_dir, m) for m in others}
    alone = sorted(p for m, p in paths.items() if not others[m] and p.exists())
    shared = sorted(p for m, p in paths.items() if others[m] and p.exists())
    return alone, shared


def _purge_quarantined_mail(data_dir: Path, retention: RetentionSettings, now: datetime,
                            dry_run: bool = False) -> int:
    """Delete kept quarantined messages older than ``retention.quarantine_days`` (by file time), or with
    ``dry_run`` only count them; returns how many."""
    folder = data_dir.joinpath(*QUARANTINED_MAIL_DIR)
    limit = (now - timedelta(days=retention.quarantine_days)).timestamp()
    gone = 0
    for path in sorted(folder.glob("*.eml")) if folder.is_dir() else []:
        if path.stat().st_mtime < limit:
            if not dry_run:
                path.unlink(missing_ok=True)
            gone += 1
    return gone


def purge(store: Store, retention: RetentionSettings, *, now: datetime | None = None, dry_run: bool = False,
          actor: str = "purge", data_dir: Path | None = None) -> PurgeReport:
    """Apply both retention rules (one transaction), or say what they would delete.

    Args:
        store: The store.
        retention: Durations (days) and the end of the school year.
        now: The current time (UTC); tests pass another.
        dry_run: Count only; change nothing.
        actor: Recorded in the audit trail.
        data_dir: The data folder: field crops of deleted forms and of forms whose originals
            go are deleted with them (``crops/<form_id>``).

    Returns:
        Counts of what was (or would be) deleted.
    """
    now = now or datetime.now(UTC)
    report = PurgeReport(dry_run=dry_run)
    with store.session() as s:
        # Rule 2 first: whole forms of school years over, not enrolled.
        doomed_forms, doomed_shas, counts = _doomed_by_school_year(s, retention, now)
        # Rule 1: originals of decided forms and of quarantined or duplicate documents.
        expired_files = _expired_originals(s, retention, now, doomed_shas)
        report.originals = len(expired_files)
        report.form_ids = sorted(doomed_forms)
        report.forms, report.documents = len(doomed_forms), len(doomed_shas)
        if dry_run:
            if data_dir is not None:  # the kept raw messages the purge would delete count too (an attack)
                report.originals += _purge_quarantined_mail(data_dir, retention, now, dry_run=True)
            return report
        for (year, category), n in counts.items():
            add_anonymous_count(s, year, category, n)
        files = delete_forms(s, doomed_forms, doomed_shas, actor, "retention_purged", data_dir)
        files.extend(_purge_originals(s, expired_files, actor, data_dir))
    unlink_all(files)
    if data_dir is not None:
        report.originals += _purge_quarantined_mail(data_dir, retention, now)
    logger.info("purge: %d original(s), %d form(s), %d document(s)", report.originals, report.forms, report.documents)
    return report
