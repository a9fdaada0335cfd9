"""The family's rights (``pipeline.privacy.subject_rights``): subject access exports everything, erasure
removes it everywhere.

Data comes from the pipeline stages run directly on the distinctive forms of
``tests/support/distinctive_forms.py`` (the ``loaded`` fixture).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.privacy.keys import pupil_hash_key
from pipeline.privacy.subject_rights import erase, subject_access
from pipeline.settings import Settings
from pipeline.store import AuditRow, ReferralRow, RetentionCountRow, Store
from schemas.directory import Directory
from tests.support.distinctive_forms import (
    PUPIL_FIRST_NAME,
    PUPIL_SURNAME,
    distinctive_birth_date,
    dump_tables,
    find_secrets,
)
from web.desk_models import CarrierOutcomeEventRow, ConsentClaimRow


def test_subject_access_exports_everything_then_erase_removes_it_everywhere(
        loaded: Store, settings: Settings, directory: Directory, tmp_path: Path) -> None:
    store = loaded
    birth = distinctive_birth_date(directory)
    out = tmp_path / "export"
    out.mkdir()
    out.chmod(0o777)  # an empty folder open to all: made owner-only (an attack of 2026-12-07 found it kept 0777)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileExistsError):  # no export through a link
        subject_access(store, PUPIL_SURNAME, PUPIL_FIRST_NAME, birth, pupil_hash_key(settings), link, "agent1")
    assert not (tmp_path / "elsewhere").exists()
    found = subject_access(store, PUPIL_SURNAME.lower(), PUPIL_FIRST_NAME, birth, pupil_hash_key(settings), out,
                           "agent1")
    assert out.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in out.rglob("*") if p.is_file()} == {0o600}
    assert len(found.form_ids) == 3  # routed, already referred, invalid (found by its reading)
    data = json.loads((out / "donnees.json").read_text(encoding="utf-8"))
    assert {o["statut"] for o in data["orientations"]} == {"routed", "review"}
    assert any(f["champ"] == "pupil_address" for f in data["lectures"])
    assert data["journal"] and len(data["receptions"]) == 4
    assert len(list((out / "fichiers").iterdir())) == 3
    assert (out.stat().st_mode & 0o077) == 0

    assert PUPIL_SURNAME in dump_tables(store)
    crop = settings.data_dir / "crops" / found.form_ids[0] / "p1" / "pupil_surname.png"
    crop.parent.mkdir(parents=True, exist_ok=True)
    crop.write_bytes(b"png")  # a field crop, as pipeline.reading.crops stores them for scans
    with store.session() as s:  # what the desk adds about these forms, in free text that may name the pupil
        referral_id = s.scalars(select(ReferralRow.id).where(ReferralRow.form_id.in_(found.form_ids))).first()
        assert referral_id is not None
        s.add(CarrierOutcomeEventRow(referral_id=referral_id, outcome="declined", reason_code="autre",
                                     reason_text=f"{PUPIL_SURNAME} a déménagé", actor="porteur1"))
        s.add(ConsentClaimRow(form_id=found.form_ids[0], field="family_agreement", machine_value=False,
                              claimed_value=True, reason=f"Accord de {PUPIL_SURNAME} vu sur l'original",
                              claimed_by="agent1"))
        s.commit()
    assert dump_tables(store).count(PUPIL_SURNAME) >= 2
    erased = erase(store, PUPIL_SURNAME, PUPIL_FIRST_NAME.upper(), birth, pupil_hash_key(settings), "agent1",
                   settings.school_year, settings.data_dir)
    assert not crop.parent.parent.exists()
    assert erased.form_ids == found.form_ids
    dump = dump_tables(store)
    assert find_secrets(dump) == []  # no row anywhere still holds the pupil or the guardian
    assert list((settings.data_dir / "originals").iterdir()) == []
    with store.session() as s:
        actions = set(s.scalars(select(AuditRow.action)))
        counts = {r.category: r.count for r in s.scalars(select(RetentionCountRow))}
    assert {"subject_access", "subject_erased"} <= actions
    assert counts == {"erased_on_request": 3}
    store.close()


def test_a_kept_message_carrying_the_pupils_form_is_listed_then_erased_unless_it_carries_other_files(
        loaded: Store, settings: Settings, directory: Directory, tmp_path: Path) -> None:
    """An attack of 2026-12-07: a message with a form and a refused part is kept whole for staff
    (``mail/quarantine``); the pupil's erasure left the form in it, byte for byte, and the export did not say so.
    A review then found that erasing the whole message lost what else it carried (another pupil's form in a
    refused archive): such a message is left for a person, and the erasure says so."""
    from pipeline.intake.mail import AttachmentCandidate, AttachmentStatus
    from pipeline.intake.mail_store import MailStore
    from pipeline.privacy.retention import raw_message_path
    from pipeline.store import DocumentRow, FieldResultRow, RunRow
    from schemas.document import MediaType

    store, birth, key = loaded, distinctive_birth_date(directory), pupil_hash_key(settings)
    # A form of the same names whose birth date was not read may be another pupil's (an attack of 2026-12-07: it
    # was exported to this family and erased with them): set apart, neither exported nor erased.
    namesake = "FO-2026-009999"
    with store.session() as s:
        for name, value in (("pupil_surname", PUPIL_SURNAME), ("pupil_first_name", PUPIL_FIRST_NAME),
                            ("pupil_birth_date", None), ("pupil_address", "3 rue d'un autre")):
            s.add(FieldResultRow(form_id=namesake, name=name, value=value, confidence=0.3, source="ocr", page=1,
                                 zone={}))
    found = subject_access(store, PUPIL_SURNAME, PUPIL_FIRST_NAME, birth, key, tmp_path / "before", "agent1")
    assert found.to_check == (namesake,) and namesake not in found.form_ids and len(found.form_ids) == 3
    assert "d'un autre" not in (tmp_path / "before" / "donnees.json").read_text(encoding="utf-8")
    with store.session() as s:
        run_id = s.scalars(select(RunRow.id)).first()
        stored = s.get_one(DocumentRow, found.shas[0]).stored_path
    assert run_id is not None and stored is not None
    pdf = Path(stored).read_bytes()
    form = AttachmentCandidate(1, "2", "fiche.pdf", "application/pdf", MediaType.PDF, len(pdf),
                               AttachmentStatus.DOCUMENT, data=pdf)
    logo = AttachmentCandidate(2, "3", "logo.png", "image/png", MediaType.PNG, 4, AttachmentStatus.DECORATION,
                               "logo", "Logo", data=b"\x89PNG")
    refused = AttachmentCandidate(2, "3", "fiches.zip", "application/zip", MediaType.UNKNOWN, 4,
                                  AttachmentStatus.REJECTED, "container", "Archive", data=b"PK\x03\x04")
    other = AttachmentCandidate(1, "2", "autre.pdf", "application/pdf", MediaType.PDF, 9,
                                AttachmentStatus.DOCUMENT, data=b"%PDF-other")
    mail = MailStore(store)
    messages = {"<alone@ecole.example>": [form, logo], "<shared@ecole.example>": [form, refused],
                "<unrelated@ecole.example>": [other]}
    for message_id, files in messages.items():
        mail.record_received(run_id, message_id, "imap", 100, "a@ecole.example", "known", [], False, files)
    alone, shared, unrelated = (raw_message_path(settings.data_dir, m) for m in messages)
    alone.parent.mkdir(parents=True, exist_ok=True)
    for path in (alone, shared, unrelated):
        path.write_bytes(b"From: a@ecole.example\r\n\r\n" + pdf)

    subject_access(store, PUPIL_SURNAME, PUPIL_FIRST_NAME, birth, key, tmp_path / "export", "agent1",
                   settings.data_dir)
    data = json.loads((tmp_path / "export" / "donnees.json").read_text(encoding="utf-8"))
    assert sorted(m["message"] for m in data["messages_conserves"]) == sorted([alone.stem, shared.stem])
    assert not (tmp_path / "export" / "fichiers" / alone.name).exists()  # it may carry other pupils' forms

    erased = erase(store, PUPIL_SURNAME, PUPIL_FIRST_NAME, birth, key, "dpo", settings.school_year,
                   settings.data_dir)

    assert (alone.exists(), shared.exists(), unrelated.exists()) == (False, True, True)
    assert erased.shared_messages == (shared.name,) and erased.to_check == (namesake,)
    with store.session() as s:
        assert s.scalars(select(FieldResultRow.value).where(FieldResultRow.form_id == namesake,
                                                            FieldResultRow.name == "pupil_address")).one() == \
            "3 rue d'un autre"
    with store.session() as s:
        details = set(s.scalars(select(AuditRow.detail)))
    assert f"kept message {alone.stem}" in details
    assert f"kept message {shared.stem} left: it carries other files" in details
    store.close()
