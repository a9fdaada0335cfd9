"""Retention (purge), the family's rights (subject access, erasure) and the record of processing.

Data comes from the pipeline stages run directly on the distinctive forms of
``tests/trust/forms.py``; time is moved forward by passing ``now`` to the purge.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text

import web.models  # noqa: F401 - the review desk's tables (follow-ups, corrections) exist, as in production
from pipeline.privacy.retention import purge
from pipeline.privacy.subject_rights import erase, subject_access
from pipeline.settings import Settings
from pipeline.stages import RunContext, decide_and_record, group_forms, read_file, receive_file, record_duplicate
from pipeline.store import AuditRow, DocumentRow, ReferralRow, RetentionCountRow, Store
from schemas.directory import Directory
from tests.trust.forms import PUPIL_FIRST_NAME, PUPIL_SURNAME, distinctive_values, find_secrets, write_distinctive_inbox


def _process(settings: Settings, inbox: Path) -> None:
    """One run of the pipeline stages (no Prefect), as the nightly flow orders them."""
    ctx = RunContext(settings)
    run_id = ctx.store.start_run("test")
    readings, duplicates, seen = [], [], set()
    for path in sorted(inbox.iterdir()):
        doc = receive_file(ctx, path, "test")
        if doc.sha256 in seen:  # type: ignore[union-attr]
            duplicates.append(doc)
            continue
        seen.add(doc.sha256)  # type: ignore[union-attr]
        readings.append(read_file(ctx, doc))  # type: ignore[arg-type]
    groups, failures = group_forms(readings)
    assert not failures
    for group in groups:
        decide_and_record(ctx, run_id, group)
    for doc in duplicates:
        record_duplicate(ctx, run_id, doc)  # type: ignore[arg-type]
    ctx.close()


def _dump(store: Store) -> str:
    """Every row of every table, as text (to search for personal data)."""
    with store.session() as s:
        names = inspect(s.connection()).get_table_names()
        return "\n".join(str(tuple(r)) for name in names for r in s.execute(text(f'SELECT * FROM "{name}"')))


def _birth(directory: Directory) -> date:
    return datetime.strptime(str(distinctive_values(directory)["pupil_birth_date"]), "%d/%m/%Y").date()


@pytest.fixture
def loaded(tmp_path: Path, settings: Settings, directory: Directory) -> Store:
    write_distinctive_inbox(tmp_path / "inbox", directory)
    _process(settings, tmp_path / "inbox")
    return Store(settings.database_url)


def test_purge_deletes_originals_then_unenrolled_referrals_keeping_counts(loaded: Store, settings: Settings) -> None:
    store = loaded
    now = datetime.now(UTC)
    originals = settings.data_dir / "originals"
    assert len(list(originals.iterdir())) == 3
    assert purge(store, settings.retention, now=now).originals == 0  # nothing is due yet

    later = now + timedelta(days=settings.retention.originals_days + 1)
    dry = purge(store, settings.retention, now=later, dry_run=True)
    assert dry.originals == 1 and len(list(originals.iterdir())) == 3  # the routed form's file; dry run keeps it
    done = purge(store, settings.retention, now=later)
    assert done.originals == 1 and len(list(originals.iterdir())) == 2  # files of open reviews stay
    with store.session() as s:
        routed = s.scalar(select(ReferralRow).where(ReferralRow.status == "routed"))
        assert routed is not None
        assert s.scalar(select(DocumentRow.stored_path).where(DocumentRow.form_id == routed.form_id)) == ""
        assert s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "original_purged")) == 1
        # The carrier enrolled the routed pupil (review-desk table), so that referral stays.
        s.execute(text("INSERT INTO carrier_followups (referral_id, outcome) VALUES (:r, 'enrolled')"),
                  {"r": routed.id})
        enrolled_form = routed.form_id

    year_over = datetime(2027, 7, 4, tzinfo=UTC) + timedelta(days=settings.retention.grace_days + 1)
    report = purge(store, settings.retention, now=year_over)
    assert report.forms == 2 and report.documents == 2
    assert list(originals.iterdir()) == []
    with store.session() as s:
        assert s.scalars(select(ReferralRow.form_id)).all() == [enrolled_form]
        counts = {r.category: r.count for r in s.scalars(select(RetentionCountRow))}
        audited = s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "retention_purged"))
    assert sum(counts.values()) == 2 and all(k.startswith(("referral_", "document_")) for k in counts)
    assert audited >= 2
    store.close()


def test_subject_access_exports_everything_then_erase_removes_it_everywhere(
        loaded: Store, settings: Settings, directory: Directory, tmp_path: Path) -> None:
    store = loaded
    birth = _birth(directory)
    out = tmp_path / "export"
    found = subject_access(store, PUPIL_SURNAME.lower(), PUPIL_FIRST_NAME, birth, settings.secret_key, out, "agent1")
    assert len(found.form_ids) == 3  # routed, already referred, invalid (found by its reading)
    data = json.loads((out / "donnees.json").read_text(encoding="utf-8"))
    assert {o["statut"] for o in data["orientations"]} == {"routed", "review"}
    assert any(f["champ"] == "pupil_address" for f in data["lectures"])
    assert data["journal"] and len(data["receptions"]) == 4
    assert len(list((out / "fichiers").iterdir())) == 3
    assert (out.stat().st_mode & 0o077) == 0

    assert PUPIL_SURNAME in _dump(store)
    crop = settings.data_dir / "crops" / found.form_ids[0] / "p1" / "pupil_surname.png"
    crop.parent.mkdir(parents=True, exist_ok=True)
    crop.write_bytes(b"png")  # a field crop, as pipeline.reading.crops stores them for scans
    erased = erase(store, PUPIL_SURNAME, PUPIL_FIRST_NAME.upper(), birth, settings.secret_key, "agent1",
                   settings.school_year, settings.data_dir)
    assert not crop.parent.parent.exists()
    assert erased.form_ids == found.form_ids
    dump = _dump(store)
    assert find_secrets(dump) == []  # no row anywhere still holds the pupil or the guardian
    assert list((settings.data_dir / "originals").iterdir()) == []
    with store.session() as s:
        actions = set(s.scalars(select(AuditRow.action)))
        counts = {r.category: r.count for r in s.scalars(select(RetentionCountRow))}
    assert {"subject_access", "subject_erased"} <= actions
    assert counts == {"erased_on_request": 3}
    store.close()


def test_record_of_processing_follows_the_schemas_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.setenv("CLAS_RETENTION__ORIGINALS_DAYS", "45")
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "record-of-processing", "--out",
                           str(tmp_path / "registre.md")], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    record = (tmp_path / "registre.md").read_text(encoding="utf-8")
    from schemas.referral import Guardian, Pupil

    for name in [*Pupil.model_fields, *Guardian.model_fields]:
        assert f"`{name}`" in record
    assert "45 jours après la décision" in record
    for heading in ("## Finalités", "## Catégories de données", "## Destinataires", "## Durées de conservation"):
        assert heading in record
