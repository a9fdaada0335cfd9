"""The nightly flow on the bundled inbox, under Prefect's test harness: every file accounted for."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import func, select

from flows.nightly import nightly
from pipeline.settings import Settings
from pipeline.store import DocumentRow, ReceiptRow, ReferralRow, ReviewItemRow, Store
from tests.conftest import SAMPLES_INBOX, SAMPLES_TRUTH


def _truth() -> dict[str, dict[str, object]]:
    return {p.name.removesuffix(".json"): json.loads(p.read_text(encoding="utf-8"))
            for p in SAMPLES_TRUTH.glob("*.json")}


def test_every_sample_ends_where_its_ground_truth_says(harness: None, tmp_path: Path, settings: Settings) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES_INBOX, inbox)
    truth = _truth()
    assert set(truth) == {p.name for p in inbox.iterdir()}

    state = nightly(str(inbox), return_state=True)
    summary = state.result()

    assert summary["received"] == len(truth)
    assert summary["balanced"] is True
    store = Store(settings.database_url)
    with store.session() as s:
        receipts = {r.original_name: r.outcome for r in s.scalars(select(ReceiptRow))}
        statuses = {d.original_name: d.status for d in s.scalars(select(DocumentRow))}
        reasons = {d.original_name: {r["code"] for r in d.reasons} for d in s.scalars(select(DocumentRow))}
        routed = s.scalars(select(ReferralRow).where(ReferralRow.status == "routed")).all()
        reviews = s.scalar(select(func.count()).select_from(ReviewItemRow))
    for name, t in truth.items():
        if t["kind"].startswith("scan_") and receipts[name] == "review":
            # A scan may be sent to a person for a doubtful reading, never for anything else.
            assert reasons[name] == {"low_confidence"}, name
            continue
        assert receipts[name] == t["expected_outcome"], name
        if t["expected_outcome"] != "duplicate":
            assert statuses[name] == t["expected_outcome"], name
            assert set(t["expected_reasons"]) <= reasons[name], name
    # Routed referrals carry the values written on the form.
    truth_by_form = {t["form_id"]: t for t in truth.values() if t["values"]}
    assert routed, "no sample was routed"
    for referral in routed:
        written = truth_by_form[referral.form_id.split("@")[0]]["values"]
        assert referral.data["pupil"]["surname"] == written["pupil_surname"]
        assert referral.data["pupil"]["birth_date"] == "-".join(reversed(written["pupil_birth_date"].split("/")))
        assert referral.data["guardians"][0]["phone"] == "+33" + written["guardian1_phone"][1:]
    # Every routed referral went to a carrier serving that school and level.
    from pipeline.deciding.directory import load_directory

    directory = load_directory(settings.directory_file)
    for referral in routed:
        carrier = directory.carrier(referral.carrier_id)
        school = directory.school(referral.school_id)
        assert referral.class_level in {str(level) for level in carrier.levels}
        assert school.id in carrier.schools or school.neighbourhood in carrier.neighbourhoods
    # The run's accounting is saved as a Prefect Markdown artifact, with counts and no personal data.
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    run_only = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]))
    with get_client(sync_client=True) as client:
        artifacts = [a for a in client.read_artifacts(artifact_filter=run_only) if a.key == "clas-run-summary"]
    assert len(artifacts) == 1
    markdown = str(artifacts[0].data)
    assert f"| **reçues** | **{len(truth)}** |" in markdown
    for t in truth.values():
        if t["values"]:
            assert t["values"]["pupil_surname"] not in markdown
            assert t["values"]["guardian1_phone"] not in markdown
    # One review item per form in review (two image files of one form make one item).
    review_forms = {t["form_id"] for name, t in truth.items() if receipts[name] == "review"}
    assert reviews == len(review_forms)
    store.close()


def test_a_second_run_changes_nothing(harness: None, tmp_path: Path, settings: Settings) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES_INBOX, inbox, ignore=shutil.ignore_patterns("scan_*"))  # keep it quick
    first = nightly(str(inbox))
    store = Store(settings.database_url)

    def snapshot() -> tuple[int, int, int]:
        with store.session() as s:
            return (s.scalar(select(func.count()).select_from(DocumentRow)),
                    s.scalar(select(func.count()).select_from(ReferralRow)),
                    s.scalar(select(func.count()).select_from(ReceiptRow)))

    before = snapshot()
    second = nightly(str(inbox))
    assert second["received"] == 0
    assert second["already_processed"] == first["received"]
    assert snapshot() == before
    store.close()


def test_places_are_counted_across_runs(harness: None, tmp_path: Path, settings: Settings) -> None:
    """Two runs fill a one-place carrier: the second referral goes to the next carrier or the waiting list."""
    from pipeline.deciding.directory import load_directory
    from samples.generator import generate_documents
    from samples.kinds import SampleKind

    directory = load_directory(settings.directory_file)
    store = Store(settings.database_url)
    first_carrier = None
    for run in range(2):
        inbox = tmp_path / f"inbox{run}"
        inbox.mkdir()
        doc = generate_documents(SampleKind.TEXT_PDF, 0, 99, directory)[0]
        values = dict(doc.truth["values"])  # same school and level, another pupil
        (inbox / f"fiche{run}.pdf").write_bytes(_with_pupil(values, run))
        nightly(str(inbox))
        with store.session() as s:
            rows = s.scalars(select(ReferralRow).order_by(ReferralRow.id)).all()
            carriers = [r.carrier_id for r in rows]
        if run == 0:
            first_carrier = carriers[0]
            assert first_carrier is not None
    assert store.places_used().get(first_carrier, 0) >= 1
    store.close()


def _with_pupil(values: dict[str, object], run: int) -> bytes:
    import io

    from pipeline.form.render import Rendering, render_form

    values["pupil_first_name"] = values["p2_pupil_first_name"] = ["Inès", "Ilyes"][run]
    buf = io.BytesIO()
    render_form(buf, f"FO-2026-77000{run}", Rendering.FILLED, values, signature_seed=run)
    return buf.getvalue()
