"""Calibration of the OMR bands and ink thresholds on this form's own renderings.

Measures the fill ratio of every tick box when empty, ticked with the typed "X" and blacked
out (cancelled), the ink share of signature zones, and the ink area of a lone period in a
text zone, on 300 dpi grey and 200 dpi black-and-white scans with skew; then checks that the
values in ``OmrSettings``/``OcrSettings`` separate them with a margin. The measured figures
are quoted in those classes' docstrings; rerun with ``-s`` to print them.
"""

from __future__ import annotations

import random
from collections import defaultdict

import numpy as np
import pytest

from pipeline.form.definition import FieldKind, form_v1
from pipeline.reading.identify import identify_page
from pipeline.reading.register import register_page
from pipeline.reading.scan.pixels import ink_area_pt2, ink_mask, ink_share
from pipeline.reading.scan.zones import text_rect
from pipeline.settings import OcrSettings, OmrSettings
from samples.scanner import render_filled_pdf, simulate_scan

SCANS = ((300, "grey", 2.0), (200, "bw", -2.5))


def _all_ticked() -> dict[str, object]:
    values: dict[str, object] = {}
    for f in form_v1().fields:
        if f.kind is FieldKind.FLAG or f.kind is FieldKind.SIGNATURE:
            values[f.name] = True
        elif f.kind is FieldKind.CHOICE:
            values[f.name] = [b.option for b in f.boxes]
    values["observations"] = "."  # the smallest writing a text zone can hold
    return values


@pytest.fixture(scope="module")
def measures() -> dict[str, list[float]]:
    """Fill ratios and ink measures by class, over both pages, both renderings and both scan modes."""
    omr = OmrSettings()
    out: dict[str, list[float]] = defaultdict(list)
    definition = form_v1()
    for ticked in (True, False):
        pdf = render_filled_pdf(_all_ticked() if ticked else {}, "FO-2026-000900", signature_seed=3)
        for page in (1, 2):
            boxes = [b for f in definition.page_fields(page) if f.is_tick for b in f.boxes]
            cancelled = boxes[::4] if ticked else []
            for dpi, mode, skew in SCANS:
                scan = simulate_scan(pdf, dpi, page=page, mode=mode, skew_deg=skew,  # type: ignore[arg-type]
                                     jpeg_quality=80 if mode == "grey" else None,
                                     cancelled_boxes_pt=[b.rect for b in cancelled], rng=random.Random(dpi + page))
                reg = register_page(identify_page(np.asarray(scan)))
                mask, s = ink_mask(reg.image), reg.px_per_pt
                for b in boxes:
                    key = "cancelled" if b in cancelled else ("ticked" if ticked else "empty")
                    out[key].append(ink_share(mask, b.rect.inset(omr.inset_pt), s))
                for f in definition.page_fields(page):
                    if f.kind is FieldKind.SIGNATURE:
                        share = ink_share(mask, f.rect.inset(omr.signature_inset_pt), s)
                        out["signed" if ticked else "unsigned"].append(share)
                    if f.name == "observations":
                        out["period_pt2" if ticked else "blank_pt2"].append(ink_area_pt2(mask, text_rect(f), s))
    for key, values in sorted(out.items()):
        print(f"{key:10s} n={len(values):4d} min={min(values):.4f} max={max(values):.4f}")
    return out


def test_tick_bands_separate_empty_ticked_and_cancelled_with_margin(measures: dict[str, list[float]]) -> None:
    omr = OmrSettings()
    assert max(measures["empty"]) < omr.empty_max / 2
    assert min(measures["ticked"]) > 2 * omr.ticked_min  # a lighter, hand-drawn cross still counts
    assert max(measures["ticked"]) < omr.cancelled_min - 0.1
    assert min(measures["cancelled"]) > omr.cancelled_min + 0.1
    assert len(measures["cancelled"]) >= 20 and len(measures["ticked"]) >= 60


def test_signature_threshold_sits_between_blank_and_signed(measures: dict[str, list[float]]) -> None:
    omr = OmrSettings()
    assert max(measures["unsigned"]) < omr.signature_ink_min / 2
    assert min(measures["signed"]) > 2 * omr.signature_ink_min


def test_a_lone_period_counts_as_writing_and_a_blank_zone_does_not(measures: dict[str, list[float]]) -> None:
    ocr = OcrSettings()
    assert max(measures["blank_pt2"]) == 0.0
    assert min(measures["period_pt2"]) > ocr.zone_ink_min_pt2
