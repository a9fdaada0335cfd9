"""Calibration from verification: reliability table and fitted thresholds, on verifications simulated from truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.verifications import simulated_verifications
from pipeline.deciding.directory import load_directory
from pipeline.reading.calibration import (
    Point,
    calibration_path,
    error_upper_bound,
    fit_all,
    fit_threshold,
    labelled_points,
    reliability_table,
    same_value,
    with_fitted_thresholds,
    write_thresholds,
)
from pipeline.reading.scan.constrained import FIELD_DECODERS
from pipeline.settings import Settings
from samples.generator import write_corpus
from samples.handwriting import require_hand_fonts
from samples.kinds import SampleKind


def test_fifty_nine_right_fields_bound_the_error_under_five_percent() -> None:
    # The minimum count of ConstrainedSettings.calibration_min_verified: 59 right of 59 → upper bound 4.95 %.
    assert error_upper_bound(0, 59) < 0.05 < error_upper_bound(0, 58)
    assert Settings().ocr.constrained.calibration_min_verified == 59


def test_the_threshold_is_the_lowest_that_enough_right_fields_support() -> None:
    points = ([Point("constrained_town", 0.97, True)] * 50 + [Point("constrained_town", 0.85, True)] * 20
              + [Point("constrained_town", 0.70, False)] * 3 + [Point("constrained_town", 0.60, True)] * 10)

    fit = fit_threshold(points, "constrained_town", 59)
    too_few = fit_threshold(points[:50], "constrained_town", 59)

    assert (fit.threshold, fit.accepted, fit.wrong) == (0.85, 70, 0)
    assert too_few.threshold is None and too_few.verified == 50


def test_the_reliability_table_counts_each_band() -> None:
    points = [Point("k", 0.95, True)] * 8 + [Point("k", 0.92, False)] * 2 + [Point("k", 0.35, False)] * 4

    table = reliability_table([(p.probability, p.right) for p in points])

    assert [b.fields for b in table] == [0, 0, 0, 4, 0, 0, 0, 0, 0, 10]
    assert table[9].share_right == pytest.approx(0.8) and table[3].share_right == 0.0
    assert table[0].share_right is None


def test_a_confidence_on_a_band_edge_is_counted_and_scored_in_the_band_it_opens() -> None:
    # The held fields' 0.2 and a tick box's 0.3: their count was in one band and their share in the one below, and
    # `bench --json` stopped (StopIteration) when the two binnings filled a different number of bands.
    scored = [(0.2, False)] * 3 + [(0.25, True)] + [(0.3, True)] * 2 + [(1.0, True)]

    table = reliability_table(scored)

    assert [b.fields for b in table] == [0, 0, 4, 2, 0, 0, 0, 0, 0, 1]
    assert (table[2].share_right, table[2].mean_confidence) == (0.25, pytest.approx(0.2125))
    assert (table[3].share_right, table[3].mean_confidence) == (1.0, 0.3)
    assert table[9].share_right == 1.0 and table[1].share_right is None


def test_fitted_thresholds_reach_the_nightly_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    points = [Point("constrained_first_name", 0.9, True)] * 60
    write_thresholds(calibration_path(settings), fit_all(points, settings.ocr.constrained))

    fitted = with_fitted_thresholds(settings)

    assert dict(fitted.ocr.constrained.fitted) == {"constrained_first_name": 0.9}
    assert oct(calibration_path(settings).stat().st_mode & 0o777) == "0o600"
    assert with_fitted_thresholds(Settings(data_dir=tmp_path / "none")).ocr.constrained.fitted == ()


@pytest.mark.timeout(300)
def test_verifications_simulated_from_truth_on_generated_hand_forms(tmp_path: Path) -> None:
    require_hand_fonts()
    settings = Settings(data_dir=tmp_path / "data")
    inbox, truth_dir = tmp_path / "inbox", tmp_path / "truth"
    write_corpus(inbox, truth_dir, [SampleKind.SCAN_HANDWRITTEN], 1, 2026, load_directory(settings.directory_file))
    truth = {k: v for p in truth_dir.iterdir() for k, v in json.loads(p.read_text())["values"].items()}

    records = simulated_verifications(inbox, truth_dir, settings)
    points = labelled_points(records)

    assert points and {p.kind for p in points} <= {*(r for r, _ in FIELD_DECODERS.values()), "constrained_digits",
                                                     "constrained_postcode"}
    for record, point in zip([r for r in records if labelled_points([r])], points, strict=True):
        constrained = record["readings"][-1]
        assert point.right == same_value(constrained["value"], truth[record["name"]])
    assert sum(b.fields for b in reliability_table([(p.probability, p.right) for p in points])) == len(points)
    # One form is far from the 59 verified fields a kind needs: every kind keeps the threshold set on fonts.
    assert all(f.threshold is None for f in fit_all(points, settings.ocr.constrained))
    names = fit_threshold(points, "constrained_first_name", 1, max_error=1.0)
    assert names.threshold is not None and names.accepted >= 1
    assert names.wrong == sum(not p.right for p in points
                              if p.kind == "constrained_first_name" and p.probability >= names.threshold)


def test_calibrate_fits_from_the_desks_verifications_and_the_nightly_run_uses_it(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main
    from pipeline.store import FieldVerificationRow, Store

    store = Store(settings.database_url)
    with store.session() as s:
        for i in range(70):  # 60 names read at 0.93 and right, 10 at 0.55 and wrong
            right = i < 60
            s.add(FieldVerificationRow(
                form_id=f"FO-2026-{i:06d}", name="pupil_first_name", crop="", rules=[], machine_value="Lucas",
                machine_confidence=0.9, final_value="Lucas" if right else "Luca", corrected=not right,
                readings=[{"reader": "ppocr_constrained", "value": "Lucas", "score": 0.93 if right else 0.55}]))
    store.close()

    assert main(["calibrate"]) == 0

    shown = capsys.readouterr().out
    assert "constrained_first_name" in shown and "0.930" in shown
    assert dict(with_fitted_thresholds(Settings()).ocr.constrained.fitted) == {"constrained_first_name": 0.93}
