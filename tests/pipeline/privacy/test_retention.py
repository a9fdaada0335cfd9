"""Retention (``pipeline.privacy.retention``): the purge of originals, then of referrals, keeping counts.

Data comes from the pipeline stages run directly on the distinctive forms of
``tests/support/distinctive_forms.py`` (the ``loaded`` fixture); time is moved forward
by passing ``now`` to the purge.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text

from pipeline.privacy.retention import purge
from pipeline.settings import Settings
from pipeline.store import AuditRow, DocumentRow, FieldVerificationRow, ReferralRow, RetentionCountRow, Store


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
        # Fields staff verified are kept to calibrate the readers (issue 18): personal data, purged with their form.
        purged_forms = [f for f in s.scalars(select(ReferralRow.form_id)) if f != enrolled_form]
        for form_id in (*purged_forms, enrolled_form):
            s.add(FieldVerificationRow(form_id=form_id, name="pupil_first_name", crop="", readings=[], rules=[],
                                       machine_value="Lucos", machine_confidence=0.35, final_value="Lucas"))

    year_over = datetime(2027, 7, 4, tzinfo=UTC) + timedelta(days=settings.retention.grace_days + 1)
    report = purge(store, settings.retention, now=year_over)
    assert report.forms == 2 and report.documents == 2
    assert list(originals.iterdir()) == []
    with store.session() as s:
        assert s.scalars(select(ReferralRow.form_id)).all() == [enrolled_form]
        assert s.scalars(select(FieldVerificationRow.form_id)).all() == [enrolled_form]
        counts = {r.category: r.count for r in s.scalars(select(RetentionCountRow))}
        audited = s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "retention_purged"))
    assert sum(counts.values()) == 2 and all(k.startswith(("referral_", "document_")) for k in counts)
    assert audited >= 2
    store.close()


def test_quarantined_mail_kept_raw_is_purged_after_the_quarantine_delay(settings: Settings, tmp_path) -> None:  # noqa: ANN001
    # Issue 17 keeps the bytes of a quarantined message for staff: personal data, under the quarantine delay.
    import os

    from pipeline.runs.mail import raw_message_path

    store = Store(settings.database_url)
    now = datetime.now(UTC)
    old, recent = raw_message_path(settings.data_dir, "<a@x>"), raw_message_path(settings.data_dir, "<b@x>")
    old.parent.mkdir(parents=True)
    for path in (old, recent):
        path.write_bytes(b"From: x\r\n\r\n")
    past = (now - timedelta(days=settings.retention.quarantine_days + 1)).timestamp()
    os.utime(old, (past, past))
    dry = purge(store, settings.retention, now=now, data_dir=settings.data_dir, dry_run=True)
    assert (dry.originals, old.exists()) == (1, True)  # counted, not deleted
    report = purge(store, settings.retention, now=now, data_dir=settings.data_dir)
    store.close()
    assert (old.exists(), recent.exists()) == (False, True)
    assert report.originals == 1
