"""Tick boxes (``pipeline.reading.scan.omr``): the states ``tick_state`` gives, a blurred cross and a fill among them,
and confidence margins that agree with those states (issue 3: blurred photo ticks)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pipeline.reading.scan.omr import box_margin, tick_state
from pipeline.reading.scan.pixels import GreyLevels
from pipeline.settings import OmrSettings
from schemas.extraction import TickState

OMR = OmrSettings()


def test_blurred_photo_tick_on_the_cancelled_fill_edge_is_a_clear_tick() -> None:
    # Measured on photo_jpeg-0002 p1: typed crosses at fill 0.68-0.71, darkness about 0.5.
    for fill in (0.68, 0.70, 0.71):
        assert tick_state(fill, OMR, 0.50) is TickState.TICKED
        assert box_margin(fill, OMR, 0.50) == 1.0
    # Without darkness the same fill sits on the cancelled edge: no margin.
    assert box_margin(0.70, OMR) == 0.0


def test_darkness_near_its_edge_leaves_little_margin() -> None:
    assert box_margin(0.72, OMR, 0.59) < 0.2
    assert tick_state(0.72, OMR, 0.62) is TickState.UNSURE
    assert box_margin(0.95, OMR, 0.95) > 0.9 and tick_state(0.95, OMR, 0.95) is TickState.CANCELLED


def test_a_clear_margin_means_a_small_step_does_not_change_the_value() -> None:
    step = 0.01
    checked = 0
    for fill, dark in itertools.product(np.arange(0.0, 1.0, 0.005), np.arange(0.0, 1.0, 0.01)):
        if box_margin(float(fill), OMR, float(dark)) < 0.5:
            continue
        state = tick_state(float(fill), OMR, float(dark))
        # An empty box's margin is to the tick band (its value); a step into the unsure band sends it to a person.
        allowed = {state, TickState.UNSURE} if state is TickState.EMPTY else {state}
        for df, dd in itertools.product((-step, 0, step), (-step, 0, step)):
            assert tick_state(float(fill + df), OMR, float(dark + dd)) in allowed, (fill, dark, df, dd)
        checked += 1
    assert checked > 5000


def test_blurred_cross_is_a_tick_and_a_fill_is_a_correction() -> None:
    omr = OmrSettings()
    levels = GreyLevels(paper=250.0, ink=30.0)
    cross = np.full((20, 20), 250.0)
    cross[:, :] -= 0.5 * 220  # half the ink of a solid box, spread by blur
    assert tick_state(0.68, omr, levels.darkness(cross)) is TickState.TICKED
    assert tick_state(0.95, omr, levels.darkness(np.full((20, 20), 40.0))) is TickState.CANCELLED
    assert tick_state(0.95, omr, 0.64) is TickState.UNSURE
    # Fully inked but only mid-dark (a shadowed box in a HEIC photo): a person decides, never a tick.
    assert tick_state(1.0, omr, 0.50) is TickState.UNSURE
    assert tick_state(0.75, omr, 0.50) is TickState.TICKED  # a blurred cross
    assert tick_state(0.95, omr) is TickState.CANCELLED  # no grey page given: the fill alone decides


def _page_with_boxes(frame_px: int, ticked: str | None, dpi: float = 200.0) -> tuple[np.ndarray, float]:
    """A page's ink mask where every class-level box interior carries a frame ``frame_px`` wide along its edge
    (the printed fillable form's widget border), and the box ``ticked`` a cross through its middle."""
    import cv2

    from pipeline.form.definition import form_v1
    from pipeline.reading.scan.pixels import box_px

    s = dpi / 72.0
    mask = np.zeros((int(842 * s), int(596 * s)), np.uint8)
    for box in form_v1().field("class_level").boxes:
        x0, y0, x1, y1 = box_px(box.rect.inset(OMR.inset_pt), s, mask.shape)
        if frame_px:
            mask[y0:y1, x0:x1] = 1
            mask[y0 + frame_px:y1 - frame_px, x0 + frame_px:x1 - frame_px] = 0
        if box.option == ticked:
            cv2.line(mask, (x0, y0), (x1 - 1, y1 - 1), 1, max(1, round(0.8 * s)))
            cv2.line(mask, (x0, y1 - 1), (x1 - 1, y0), 1, max(1, round(0.8 * s)))
    return mask, s


def test_the_printed_fillable_forms_box_border_is_the_blank_look_not_a_tick() -> None:
    from pipeline.form.definition import form_v1
    from pipeline.reading.scan.omr import blank_frame_px, read_ticks

    field = form_v1().field("class_level")
    mask, s = _page_with_boxes(frame_px=2, ticked="CM1")

    frame = blank_frame_px(field.boxes, mask, s, OMR)
    assert frame == 3  # two inked rings and one of margin
    assert read_ticks(field, mask, s, OMR, 1.0, frame_px=frame).value == ["CM1"]
    # Read as the print copies are, every framed box fills past ticked_min (the issue 16 failure); its ink is at
    # the rim only, so the centre test keeps it out of the value, unsure.
    unframed = read_ticks(field, mask, s, OMR, 1.0)
    others = {b.option for b in field.boxes} - {"CM1"}
    assert all(unframed.fill_ratios[o] >= OMR.ticked_min for o in others)
    assert not others & set(unframed.value)  # type: ignore[arg-type]
    assert {unframed.ticks[o] for o in others} == {TickState.UNSURE}


def test_a_print_copys_blank_boxes_leave_no_frame() -> None:
    from pipeline.form.definition import form_v1
    from pipeline.reading.scan.omr import blank_frame_px

    field = form_v1().field("class_level")
    for ticked in (None, "CP"):
        mask, s = _page_with_boxes(frame_px=0, ticked=ticked)
        assert blank_frame_px(field.boxes, mask, s, OMR) == 0





def test_a_page_whose_blank_boxes_are_inked_deeper_than_any_frame_reads_no_box_with_confidence() -> None:
    # Issue 16: a phone photo whose box borders ran deeper than the widest frame left 0.2-0.4 in every empty
    # box, and 7 boxes were read ticked at 0.95.
    from pipeline.form.definition import form_v1
    from pipeline.reading.scan.omr import frame_runs_deeper, read_ticks

    field = form_v1().field("class_level")
    deep, s = _page_with_boxes(frame_px=7, ticked="CE2")  # 7 px at 200 dpi: 2.5 pt, over frame_max_pt
    assert frame_runs_deeper(field.boxes, deep, s, OMR)
    assert read_ticks(field, deep, s, OMR, 1.0, frame_px=5, blank_unsure=True).confidence <= OMR.unsure_confidence
    for frame_px in (0, 2):
        mask, s = _page_with_boxes(frame_px=frame_px, ticked="CE2")
        assert not frame_runs_deeper(field.boxes, mask, s, OMR)


def test_a_page_whose_paper_reads_as_ink_in_every_box_reads_no_box_with_confidence() -> None:
    # A fax's dots not told dithered filled every empty box to 0.13-0.28, as much as a thin tick: one question was
    # read with all four boxes ticked at 0.90.
    from pipeline.form.definition import form_v1
    from pipeline.reading.scan.omr import blank_interior_inked, read_ticks

    field = form_v1().field("class_level")
    clean, s = _page_with_boxes(frame_px=0, ticked="CE2")
    dots = (np.random.default_rng(7).random(clean.shape) < 0.15).astype(np.uint8)
    noisy = clean | dots

    assert blank_interior_inked(field.boxes, noisy, s, 0, OMR)
    unsure = read_ticks(field, noisy, s, OMR, 1.0, blank_unsure=True)
    assert unsure.confidence <= OMR.unsure_confidence and "tick_page_unsure" in unsure.rules
    # Read alone, the noise is ticks: what the page's blank box is there to catch.
    assert len(read_ticks(field, noisy, s, OMR, 1.0).value) > 1  # type: ignore[arg-type]
    assert not blank_interior_inked(field.boxes, clean, s, 0, OMR)
    framed, s = _page_with_boxes(frame_px=2, ticked="CE2")  # the frame is left out, as read_ticks leaves it
    assert not blank_interior_inked(field.boxes, framed, s, 3, OMR)
    assert not blank_interior_inked([], clean, s, 0, OMR)
    # A page with most boxes blacked out or ticked and one left empty (seed 2026's hand-marked page 2 has three
    # empty boxes of ten), or whose boxes' edges are frayed (ink at the rim only), is no inked paper.
    from pipeline.reading.scan.pixels import box_px

    busy = clean.copy()
    for box in field.boxes[1:]:
        x0, y0, x1, y1 = box_px(box.rect.inset(OMR.inset_pt), s, busy.shape)
        busy[y0:y1, x0:x1] = 1
    rim, _ = _page_with_boxes(frame_px=1, ticked=None)
    assert not blank_interior_inked(field.boxes, busy, s, 0, OMR)
    assert not blank_interior_inked(field.boxes, rim, s, 0, OMR)
    # Nor is a signature zone's ink read on such a page: its paper is ink too.
    from pipeline.reading.scan.omr import read_signature

    signature = form_v1().field("family_signature")
    assert read_signature(signature, noisy, s, OMR, 1.0).value is True  # the dots alone
    held = read_signature(signature, noisy, s, OMR, 1.0, paper_inked=True)
    assert held.confidence <= OMR.unsure_confidence and held.rules == ("tick_page_unsure",)


def test_an_empty_box_near_the_dust_edge_is_still_far_from_a_tick() -> None:
    # The devset's typed forms print their empty boxes at 0.035-0.040; no ticked box of either corpus filled < 0.15.
    assert tick_state(0.037, OMR) is TickState.EMPTY
    assert box_margin(0.037, OMR) == pytest.approx((OMR.ticked_min - 0.037) / OMR.ticked_min)
    assert box_margin(0.0, OMR) == 1.0 and box_margin(0.037, OMR) > box_margin(OMR.empty_max, OMR) == pytest.approx(0.6)


@pytest.mark.parametrize(("fill", "core", "state"), [
    (0.08, 0.0, TickState.EMPTY),  # a fax's noise along the border: empty, whatever its fill
    (0.08, 0.03, TickState.EMPTY),
    (0.08, 0.10, TickState.UNSURE),  # something at the centre, too little for a tick
    (0.14, 0.0, TickState.UNSURE),  # ticked by its fill, but nothing crosses the centre
    (0.14, 0.23, TickState.TICKED),
    (0.02, 0.30, TickState.EMPTY),  # under empty_max the fill alone decides, as before
    (0.95, 1.0, TickState.CANCELLED),
])
def test_a_box_whose_ink_is_at_the_rim_only_is_no_tick(fill: float, core: float, state: TickState) -> None:
    assert tick_state(fill, OMR, core=core) is state
    assert tick_state(fill, OMR) is (state if fill <= OMR.empty_max or fill >= OMR.cancelled_min
                                     else TickState.TICKED if fill >= OMR.ticked_min else TickState.UNSURE)


def test_the_centre_is_the_margin_where_it_decides() -> None:
    assert box_margin(0.08, OMR, core=0.0) == 1.0  # rim only, nothing at the centre: a clear empty box
    assert box_margin(0.08, OMR, core=0.03) == pytest.approx(0.25)
    assert box_margin(0.30, OMR, core=0.05) == pytest.approx(0.25)  # a tick barely crossing the centre
    assert box_margin(0.30, OMR, core=0.5) == box_margin(0.30, OMR)  # a clear tick: its fill bands bound it
    assert box_margin(0.01, OMR, core=0.5) == box_margin(0.01, OMR)  # under empty_max the centre plays no part


def test_a_held_tick_field_records_why_for_staff() -> None:
    # Issue 16: staff read « lecture incertaine (33 %) » on tick fields, which recorded no rule.
    from pipeline.form.definition import form_v1
    from pipeline.reading.rules import FIELD_RULES, cause_fr
    from pipeline.reading.scan.omr import read_ticks

    field = form_v1().field("class_level")
    clear, s = _page_with_boxes(frame_px=2, ticked="CM1")
    read = read_ticks(field, clear, s, OMR, 1.0, frame_px=3)
    assert (read.value, read.rules) == (["CM1"], ())  # read clearly: nothing held it
    unsure = read_ticks(field, clear, s, OMR, 1.0)  # the widget borders read as the print copies: unsure boxes
    assert unsure.rules[-1] == "tick_box_unsure" and unsure.confidence <= OMR.unsure_confidence
    deep, s = _page_with_boxes(frame_px=7, ticked="CE2")
    page = read_ticks(field, deep, s, OMR, 1.0, frame_px=5, blank_unsure=True)
    assert page.rules[-1] == "tick_page_unsure" and cause_fr(page.rules) == FIELD_RULES["tick_page_unsure"].fr
    two, s = _page_with_boxes(frame_px=0, ticked="CM1")
    other, _ = _page_with_boxes(frame_px=0, ticked="CE2")
    both = read_ticks(field, two | other, s, OMR, 1.0)
    assert (both.value, both.rules) == (["CE2", "CM1"], ("tick_rule_broken",))
    assert both.confidence <= OMR.rule_violation_confidence
    assert "une seule case" in cause_fr(both.rules)  # type: ignore[operator]


def test_a_tick_field_held_by_its_confidence_alone_says_why() -> None:
    """Devset r0021's family criteria were held at 0.54 with no rule, and staff read « lecture incertaine (54 %) »."""
    from pipeline.reading.rules import cause_fr
    from pipeline.reading.scan.omr import name_weak_ticks
    from pipeline.settings import OcrSettings
    from schemas.extraction import ExtractedField, Source, TickState, ZoneBox

    zone = ZoneBox(x0=0, top=0, x1=10, bottom=10)

    def tick(name: str, confidence: float, rules: tuple[str, ...] = (), source: Source = Source.OMR) -> ExtractedField:
        return ExtractedField(name=name, value=[], confidence=confidence, source=source, page=1, zone=zone,
                              ticks={"a": TickState.EMPTY}, fill_ratios={"a": 0.14}, rules=rules)

    review_min = OcrSettings().text_confidence_min
    fields = {"weak": tick("weak", 0.54), "sure": tick("sure", 0.91),
              "unsure": tick("unsure", 0.33, ("tick_box_unsure",)), "typed": tick("typed", 0.54, (), Source.ACROFORM)}

    name_weak_ticks(fields, review_min)

    assert fields["weak"].rules == ("tick_margin_hold",) and "à peine cochée" in (cause_fr(fields["weak"].rules) or "")
    assert fields["weak"].confidence == 0.54  # said, not changed
    assert (fields["sure"].rules, fields["unsure"].rules, fields["typed"].rules) == ((), ("tick_box_unsure",), ())
