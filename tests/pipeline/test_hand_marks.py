"""Hand-drawn tick marks (issue 3): crosses, checks and overflowing crosses tick; filled boxes cancel."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from pipeline.form_definition import form_v1
from pipeline.read_scan import read_scan_page
from samples.scanner import draw_hand_mark, rasterise_pdf_page, render_filled_pdf, simulate_scan
from schemas.extraction import TickState

DPI = 300


@pytest.mark.parametrize(("level_marks", "value", "doubt"), [
    ({"CP": "check"}, ["CP"], False),
    ({"CE1": "overflow", "CM2": "cross_then_filled"}, ["CE1"], False),
    ({"6E": "cross", "5E": "filled"}, ["6E"], False),
    ({"CE2": "cross", "CM1": "check"}, ["CE2", "CM1"], True),  # two levels: a person decides
    ({"CE2": "filled"}, [], True),  # the only mark cancelled: no level, a person decides
])
def test_class_level_rule_with_hand_marks(level_marks: dict[str, str], value: list[str], doubt: bool) -> None:
    definition = form_v1()
    pdf = render_filled_pdf({"pupil_surname": "LEFÈVRE"}, "FO-2026-000901")
    grey = np.asarray(rasterise_pdf_page(pdf, 1, DPI)).copy()
    rng = random.Random(len(level_marks))
    boxes = {b.option: b for b in definition.field("class_level").boxes}
    for option, style in level_marks.items():
        draw_hand_mark(grey, boxes[option].rect, style, DPI / 72, rng)  # type: ignore[arg-type]
    scan = simulate_scan(Image.fromarray(grey), DPI, skew_deg=1.5, jpeg_quality=80, rng=rng)

    level = read_scan_page(np.asarray(scan)).fields["class_level"]

    assert level.value == value
    for option, style in level_marks.items():
        want = TickState.CANCELLED if "filled" in style else TickState.TICKED
        assert level.ticks[option] is want, (option, style, level.fill_ratios[option])
    assert (level.confidence < 0.6) is doubt
