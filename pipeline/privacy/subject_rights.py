"""The family's rights (GDPR art. 15 and 17): export everything held about one pupil, or erase it.

A pupil is found by surname, first name and date of birth: through the keyed pupil
hash of validated referrals (``pipeline.deciding.decide.pupil_key``), and through the
machine readings of forms that never validated (compared without case or accents).
Both operations are audited with serials and counts only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, or_, select, text
from sqlalchemy.orm import Session

from pipeline.deciding.decide import pupil_key
from pipeline.deciding.fields import fold_person_name
from pipeline.privacy.retention import add_anonymous_count, delete_forms, kept_messages_holding, unlink_all
from pipeline.store import AuditRow, DocumentRow, FieldResultRow, ReceiptRow, ReferralRow, ReviewItemRow, Store


@dataclass(frozen=True)
class PupilHoldings:
    """What the store holds about one pupil.

    Attributes:
        form_ids: Form serials about the pupil.
        shas: Documents (SHA-256) carrying those forms.
        to_check: Serials of forms that never validated whose names are the pupil's but whose birth date was not
            read: perhaps another pupil of the same name, so neither exported nor erased; a person checks them on
            the desk (an attack, 2026-12-07: they were taken on the names alone).
        shared_messages: Kept raw messages (``mail/quarantine/<name>.eml``, by name) that carry one of the
            pupil's documents beside other files: an erasure leaves them for a person
            (:func:`pipeline.privacy.retention.kept_messages_holding`).
    """

    form_ids: tuple[str, ...]
    shas: tuple[str, ...]
    to_check: tuple[str, ...] = ()
    shared_messages: tuple[str, ...] = ()


def find_pupil(s: Session, surname: str, first_name: str, birth_date: date, secret_key: str) -> PupilHoldings:
    """Every form and document about a pupil: validated referrals by the keyed pupil hash, forms that never
    validated by their readings (surname, first name and birth date, without case or accents); a form whose names
    match but whose birth date was not read is set apart (:attr:`PupilHoldings.to_check`)."""
    forms = set(s.scalars(select(ReferralRow.form_id).where(
        ReferralRow.pupil_key == pupil_key(surname, first_name, birth_date, secret_key))))
    wanted = {"pupil_surname": fold_person_name(surname), "pupil_first_name": fold_person_name(first_name)}
    by_form: dict[str, dict[str, object]] = {}
    for form_id, name, value in s.execute(select(FieldResultRow.form_id, FieldResultRow.name, FieldResultRow.value)
                                          .where(FieldResultRow.name.in_(
                                              [*wanted, "pupil_birth_date"]))):
        by_form.setdefault(form_id, {})[name] = value
    written_birth = birth_date.strftime("%d/%m/%Y")
    unsure: set[str] = set()
    for form_id, values in by_form.items():
        if not all(fold_person_name(str(values.get(k) or "")) == v for k, v in wanted.items()):
            continue
        birth = str(values.get("pupil_birth_date") or "").replace(" ", "")
        if birth in (written_birth, birth_date.isoformat()):
            forms.add(form_id)
        elif not birth:
            unsure.add(form_id)
    shas = set(s.scalars(select(DocumentRow.sha256).where(DocumentRow.form_id.in_(forms)))) if forms else set()
    return PupilHoldings(tuple(sorted(forms)), tuple(sorted(shas)), tuple(sorted(unsure - forms)))


def _rows(s: Session, table: str, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    if not inspect(s.connection()).has_table(table):
        return []
    return [dict(r._mapping) for r in s.execute(text(f"SELECT * FROM {table} WHERE {where}"), params)]  # noqa: S608 - fixed names


def subject_access(store: Store, surname: str, first_name: str, birth_date: date, secret_key: str, out_dir: Path,
                   actor: str, data_dir: Path | None = None) -> PupilHoldings:
    """Export everything about a pupil to ``out_dir``: ``donnees.json`` and the original files (``fichiers/``).

    The folder is made owner-only (0700, an existing empty one too; files 0600, each created anew and never
    through a link: :func:`_write_new`): it holds a minor's data. An attack (2026-12-07) exported into an empty
    folder of mode 0777, which kept it, while the command said « lisible par vous seul ».

    Args:
        store: The store.
        surname: The pupil's surname; with ``first_name`` and ``birth_date``, as on the form.
        first_name: The pupil's first name.
        birth_date: The pupil's date of birth.
        secret_key: The key of the pupil hash (``CLAS_SECRET_KEY``).
        out_dir: Where the export goes (created; must not exist or be empty).
        actor: Who asked (audited).
        data_dir: The data folder: the kept bytes of a message that carried one of the pupil's documents
            (:func:`pipeline.privacy.retention.kept_messages_holding`) are listed in the export (their date; not
            copied, since such a message may carry other pupils' forms).

    Returns:
        What was found (empty when nothing is held).

    Raises:
        FileExistsError: ``out_dir`` exists and is not empty, or is a link.
    """
    if out_dir.is_symlink() or (out_dir.exists() and any(out_dir.iterdir())):
        raise FileExistsError(f"export folder not empty: {out_dir.name}")
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    out_dir.chmod(0o700)  # an existing empty folder keeps its mode otherwise
    files_dir = out_dir / "fichiers"
    files_dir.mkdir(mode=0o700)
    with store.session() as s:
        found = find_pupil(s, surname, first_name, birth_date, secret_key)
        forms, shas = list(found.form_ids), list(found.shas)
        docs = list(s.scalars(select(DocumentRow).where(DocumentRow.sha256.in_(shas))))
        audit_filter = [AuditRow.sha256.in_(shas)] + [AuditRow.detail.like(f"form {f}%") for f in forms]
        data = {
            "eleve": {"nom": surname, "prenom": first_name, "date_de_naissance": birth_date.isoformat()},
            "fiches": forms,
            "orientations": [{"fiche": r.form_id, "annee": r.school_year, "statut": r.status,
                              "structure": r.carrier_id, "donnees": r.data, "cree_le": r.created_at}
                             for r in s.scalars(select(ReferralRow).where(ReferralRow.form_id.in_(forms)))],
            "lectures": [{"fiche": f.form_id, "champ": f.name, "valeur": f.value, "confiance": f.confidence,
                          "source": f.source, "page": f.page, "lectures_et_regles": f.evidence}
                         for f in s.scalars(select(FieldResultRow).where(FieldResultRow.form_id.in_(forms)))],
            "documents": [{"sha256": d.sha256, "nom_recu": d.original_name, "type": d.media_type,
                           "recu_le": d.received_at, "issue": d.status, "motifs": d.reasons,
                           "fichier": Path(d.stored_path).name if d.stored_path else None} for d in docs],
            "receptions": [{"sha256": r.sha256, "source": r.source, "nom_recu": r.original_name,
                            "recu_le": r.received_at, "issue": r.outcome}
                           for r in s.scalars(select(ReceiptRow).where(ReceiptRow.sha256.in_(shas)))],
            "verifications": [{"fiche": r.form_id, "statut": r.status, "motifs": r.reasons}
                              for r in s.scalars(select(ReviewItemRow).where(ReviewItemRow.form_id.in_(forms)))],
            "journal": [{"le": a.at, "par": a.actor, "action": a.action, "detail": a.detail}
                        for a in s.scalars(select(AuditRow).where(or_(*audit_filter)).order_by(AuditRow.at))]
            if forms or shas else [],
        }
        alone, shared = kept_messages_holding(s, shas, data_dir) if data_dir is not None else ([], [])
        kept = sorted(alone + shared)
        data["messages_conserves"] = [
            {"message": path.stem, "conserve_depuis": datetime.fromtimestamp(path.stat().st_mtime, UTC),
             "contenu": "le message reçu tel quel, dont une autre pièce a été refusée ; il contient une copie "
                        "d'un des fichiers ci-dessus et est supprimé avec la quarantaine"} for path in kept]
        data["corrections"] = [row for f in forms for row in _rows(s, "corrections", "form_id = :f", {"f": f})]
        data["suivi_structure"] = [row for f in forms for row in _rows(
            s, "carrier_followups", "referral_id IN (SELECT id FROM referrals WHERE form_id = :f)", {"f": f})]
        for d in docs:
            if d.stored_path and Path(d.stored_path).exists():
                _write_new(files_dir / Path(d.stored_path).name, Path(d.stored_path).read_bytes())
        s.add(AuditRow(actor=actor, action="subject_access",
                       detail=f"forms {','.join(forms) or '-'}; documents {len(shas)}"))
    _write_new(out_dir / "donnees.json", json.dumps(data, ensure_ascii=False, indent=1, default=str).encode())
    return found


def _write_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a file ``path`` that must not exist (not even as a link), owner-only (0600).

    Raises:
        FileExistsError: Something is already at ``path``.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def erase(store: Store, surname: str, first_name: str, birth_date: date, secret_key: str, actor: str,
          school_year: str, data_dir: Path | None = None) -> PupilHoldings:
    """Erase everything about a pupil everywhere (rows, files), keeping an anonymous count; audited.

    Args:
        store: The store.
        surname: The pupil's surname.
        first_name: The pupil's first name.
        birth_date: The pupil's date of birth.
        secret_key: The key of the pupil hash.
        actor: Who erased (audited).
        school_year: Year under which the anonymous count ``erased_on_request`` is kept.
        data_dir: The data folder, whose field crops of the pupil's forms go too.

    Returns:
        What was erased.
    """
    with store.session() as s:
        found = find_pupil(s, surname, first_name, birth_date, secret_key)
        shared = kept_messages_holding(s, found.shas, data_dir)[1] if data_dir is not None else []
        files = delete_forms(s, found.form_ids, found.shas, actor, "subject_erased", data_dir)
        add_anonymous_count(s, school_year, "erased_on_request", len(found.form_ids))
        s.add(AuditRow(actor=actor, action="subject_erased",
                       detail=f"forms {','.join(found.form_ids) or '-'}; documents {len(found.shas)}"))
    unlink_all(files)
    return replace(found, shared_messages=tuple(p.name for p in shared))
