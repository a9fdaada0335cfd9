"""Foreign ink (``pipeline.reading.scan.foreign_ink``): stamps, stray marks and copier streaks on a registered page.

Marks are drawn on the blank form rasterised from its one definition
(``pipeline.form.template_image.blank_page_image``), which is what a registered scan of
an empty form looks like; the fields a mark reaches are worked out from the same
definition's rectangles.
"""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
from PIL import Image

from pipeline.form.definition import Field, Rect, form_v1
from pipeline.form.template_image import blank_page_image
from pipeline.reading.identify import identify_page
from pipeline.reading.register import register_page
from pipeline.reading.scan.foreign_ink import (
    WORK_DPI,
    dilate_around_ink,
    drop_isolated_specks,
    fields_touched,
    find_foreign_ink,
    foreign_ink,
)
from pipeline.reading.scan.pixels import ink_mask
from pipeline.settings import OmrSettings
from samples.scanner import rasterise_pdf_page, render_filled_pdf, simulate_scan
from schemas.extraction import FormValues

DPI = 200
S = DPI / 72
"""Pixels per point of the pages drawn on."""
OMR = OmrSettings()
INK = 40
"""Grey level of the drawn marks: dark ballpoint or toner on white paper."""
VALUES: FormValues = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "class_level": ["CM1"],
                      "referrer_role": ["enseignant"], "observations": "Besoin d'un cadre calme."}


def _blank(page: int) -> np.ndarray:
    """A writable copy of the blank page at ``DPI``."""
    return blank_page_image(page, DPI).copy()


def _value_rects(field: Field) -> list[Rect]:
    """Where the field's value is written: its tick boxes for choices and flags, else its zone."""
    return [b.rect for b in field.boxes] if field.is_tick else [field.rect]


def _px(x_pt: float, y_pt: float) -> tuple[int, int]:
    return int(round(x_pt * S)), int(round(y_pt * S))


def _box(option: str) -> Rect:
    return next(b.rect for b in form_v1().field("class_level").boxes if b.option == option)


@pytest.mark.parametrize("page", [1, 2])
def test_a_blank_page_has_no_foreign_ink(page: int) -> None:
    grey = _blank(page)
    found = foreign_ink(ink_mask(grey), form_v1(), page, OMR, grey)
    assert not found.marks.any() and not found.streaks.any()
    assert find_foreign_ink(ink_mask(grey), form_v1(), page, OMR, grey) == []


def test_a_clean_scan_has_no_foreign_ink() -> None:
    grey = np.asarray(rasterise_pdf_page(render_filled_pdf(VALUES, "FO-2026-000804"), 1, DPI))
    scan = np.asarray(simulate_scan(Image.fromarray(grey), DPI, skew_deg=1.5, jpeg_quality=80,
                                    rng=random.Random(5)))
    page = register_page(identify_page(scan))
    assert find_foreign_ink(ink_mask(page.image), form_v1(), 1, OMR, page.image) == []


def test_values_written_in_their_zones_and_boxes_are_not_foreign() -> None:
    grey = _blank(1)
    surname = form_v1().field("pupil_surname").rect
    cv2.putText(grey, "LEFEVRE", _px(surname.x0 + 4, surname.bottom - 4), cv2.FONT_HERSHEY_SIMPLEX, 1.0, INK, 2)
    box = _box("CM1")  # a hand cross overflowing its box a little
    cv2.line(grey, _px(box.x0 - 1, box.top - 1), _px(box.x1 + 1, box.bottom + 1), INK, 3)
    cv2.line(grey, _px(box.x0 - 1, box.bottom + 1), _px(box.x1 + 1, box.top - 1), INK, 3)

    assert find_foreign_ink(ink_mask(grey), form_v1(), 1, OMR, grey) == []


def test_a_stamp_over_a_tick_box_sends_that_field_and_only_its_neighbours_to_a_person() -> None:
    grey = _blank(1)
    cx, cy = _box("CE2").center
    radius_pt = 22.0
    cv2.circle(grey, _px(cx, cy), int(radius_pt * S), INK, int(1.5 * S))
    cv2.putText(grey, "ECOLE", _px(cx - 15, cy + 3), cv2.FONT_HERSHEY_SIMPLEX, 0.6, INK, 2)

    found = foreign_ink(ink_mask(grey), form_v1(), 1, OMR, grey)
    reached = found.fields_reached(form_v1(), 1, OMR)

    assert found.marks.any()
    assert "class_level" in reached
    # Nothing beyond the stamp's disc, grown by how far a mark's pale edge reaches, is sent to a person.
    reach = radius_pt + 2 * OMR.foreign_group_pt
    near = {f.name for f in form_v1().page_fields(1)
            if any(r.x0 <= cx + reach and r.x1 >= cx - reach and r.top <= cy + reach and r.bottom >= cy - reach
                   for r in _value_rects(f))}
    assert set(reached) <= near, set(reached) - near
    assert {"pupil_surname", "observations"}.isdisjoint(reached)


def test_a_copier_streak_reaches_every_field_in_its_column_as_a_streak_not_a_mark() -> None:
    definition = form_v1()
    fields = [f for f in definition.page_fields(1) if f.name not in OMR.stamp_fields]
    edges = [e for f in fields for r in _value_rects(f) for e in (r.x0, r.x1)]
    surname = definition.field("pupil_surname").rect
    # A column through the surname zone, well clear of every zone's and box's edge, so that which fields it
    # crosses does not depend on a pixel.
    x_pt = next(x for x in np.arange(surname.x0 + 40, surname.x1, 0.5) if min(abs(x - e) for e in edges) >= 8)
    grey = _blank(1)
    x = int(round(x_pt * S))
    grey[int(20 * S):int((842 - 20) * S), x:x + 3] = 60  # a drum streak about 1 pt wide, top to bottom

    found = foreign_ink(ink_mask(grey), definition, 1, OMR, grey)

    assert found.streaks.any() and not found.marks.any()
    crossed = [f.name for f in fields if any(r.x0 <= x_pt <= r.x1 for r in _value_rects(f))]
    assert "pupil_surname" in crossed and len(crossed) >= 5
    assert found.fields_reached(definition, 1, OMR) == crossed
    assert found.fields_reached(definition, 1, OMR, streaks=False) == []


def test_a_mark_between_the_fields_is_foreign_but_reaches_none() -> None:
    grey = _blank(1)
    cv2.putText(grey, "VU", _px(300, 255), cv2.FONT_HERSHEY_SIMPLEX, 1.0, INK, 2)  # between town and school

    found = foreign_ink(ink_mask(grey), form_v1(), 1, OMR, grey)

    assert found.marks.any()
    assert found.fields_reached(form_v1(), 1, OMR) == []


def test_fields_touched_names_the_fields_a_mark_reaches_in_form_order_except_the_exempt() -> None:
    definition = form_v1()
    s = WORK_DPI / 72
    marks = np.zeros((int(842 * s), int(596 * s)), bool)
    for name in ("referrer_signature", "family_signature"):
        cx, cy = definition.field(name).rect.center
        marks[int(cy * s) - 2:int(cy * s) + 2, int(cx * s) - 2:int(cx * s) + 2] = True

    assert fields_touched(marks, definition.page_fields(2), s) == ["family_signature", "referrer_signature"]
    assert "referrer_signature" in OMR.stamp_fields  # the school's stamp belongs there
    assert fields_touched(marks, definition.page_fields(2), s, OMR.stamp_fields) == ["family_signature"]
    assert fields_touched(np.zeros_like(marks), definition.page_fields(2), s) == []


def test_an_isolated_speck_is_dropped_and_the_dot_of_an_i_stays() -> None:
    mask = np.zeros((300, 300), np.uint8)
    mask[100:130, 100:104] = 1  # the stem of an "i"
    mask[94:97, 101:104] = 1    # its dot, 1 pt above it
    mask[250:253, 250:253] = 1  # a toner speck, far from any ink
    assert 9 / (S * S) <= OMR.speck_max_pt2  # both blots are speck-sized

    cleaned = drop_isolated_specks(mask, S, OMR)

    assert cleaned[250:253, 250:253].sum() == 0
    assert cleaned[94:97, 101:104].all() and cleaned[100:130, 100:104].all()
    assert mask[250:253, 250:253].all()  # the input is left as it was


@pytest.mark.parametrize(("stroke", "reached"), [(False, []), (True, ["guardian1_email"])])
def test_toner_specks_beside_a_zone_make_no_mark_and_short_strokes_there_do(stroke: bool, reached: list[str]) -> None:
    # Four blots on the blank above the guardian's e-mail, one inside its zone: grouped, the specks' ink outside
    # the zone passes ``foreign_ink_min_pt2`` once reduced to WORK_DPI, and their hull reached the zone.
    grey = _blank(2)
    for x, y in [(400, 161), (396, 151), (405, 149), (411, 152)]:
        if stroke:  # a pen's or a stamp's stroke, 4 pt long
            cv2.line(grey, (_px(x, y)[0] - 6, _px(x, y)[1]), (_px(x, y)[0] + 6, _px(x, y)[1]), INK, 3)
        else:  # a toner speck, 1 pt²
            cv2.circle(grey, _px(x, y), 2, INK, -1)
    no_dust_drop = OMR.model_copy(update={"foreign_dust_max_pt": 0.0})

    found = foreign_ink(ink_mask(grey), form_v1(), 2, OMR, grey)

    assert found.fields_reached(form_v1(), 2, OMR) == reached
    # Without the dust test, the specks' ink is still the area they cover, about 4 pt², under
    # ``foreign_ink_min_pt2``: counted in the 100-dpi pixels they touch, it held the zone as a stamp would.
    assert foreign_ink(ink_mask(grey), form_v1(), 2, no_dust_drop, grey).fields_reached(
        form_v1(), 2, no_dust_drop) == reached


@pytest.mark.parametrize(("stroke", "reached"), [(False, []), (True, ["pupil_postcode"])])
def test_a_marks_ink_is_the_area_it_covers_not_the_coarse_pixels_it_touches(stroke: bool, reached: list[str]) -> None:
    # Devset photocopy: two toner specks 11 pt apart under a postcode, each 3-4 pixels a side once reduced to
    # WORK_DPI keeping any ink, counted 11 pt² together, over ``foreign_ink_min_pt2``, and their hull took in the
    # digit above them: the postcode, read right by both readers, went to a person as « un tampon… ».
    grey = np.asarray(rasterise_pdf_page(render_filled_pdf({"pupil_postcode": "95100"}, "FO-2026-000804"), 1, DPI))
    grey = grey.copy()
    postcode = form_v1().field("pupil_postcode").rect
    for x, y in ((postcode.x0 + 14.5, postcode.bottom + 6.4), (postcode.x0 + 25.3, postcode.bottom + 5.6)):
        if stroke:  # a pen's or a stamp's stroke, 4 pt long
            cv2.line(grey, _px(x - 2, y), _px(x + 2, y), INK, 3)
        else:  # a toner speck 2.5 pt across, 3.8 pt² (29 pixels at 200 dpi)
            cv2.circle(grey, _px(x, y), 3, INK, -1)

    assert foreign_ink(ink_mask(grey), form_v1(), 1, OMR, grey).fields_reached(form_v1(), 1, OMR) == reached


@pytest.mark.parametrize(("dark_share", "reaches"), [(0.0, False), (0.3, True), (1.0, True)])
def test_a_streak_lighter_than_the_ink_threshold_reaches_no_field(dark_share: float, reaches: bool) -> None:
    """A copier's streak the ink mask never keeps (grey 170 on white) changes no reading: it once held every field
    of its column (issue 16). One dark for part of its length (toner dashes) still reaches them."""
    definition = form_v1()
    grey = _blank(1)
    x = int(round(300 * S))
    top, bottom = int(20 * S), int((842 - 20) * S)
    grey[top:bottom, x:x + 3] = 170
    dash = int(20 * S)
    for k, y in enumerate(range(top, bottom, dash)):
        if k % 10 < round(dark_share * 10):  # the first tenths of every ten dashes are toner-dark
            grey[y:y + dash, x:x + 3] = 60

    mask = ink_mask(grey)
    found = foreign_ink(mask, definition, 1, OMR, grey)

    assert bool(mask[top:bottom, x:x + 3].any()) is (dark_share > 0)
    reached = found.fields_reached(definition, 1, OMR)
    assert ("pupil_surname" in reached) is reaches, reached


def test_dilating_around_the_ink_is_dilating_the_whole_page() -> None:
    rng = np.random.default_rng(7)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (29, 29))
    for ink in ([(5, 5)], [(3, 800)], [(1160, 820)], [(300, 200), (900, 700)], []):  # corners, edges, far apart
        page = np.zeros((1169, 827), np.uint8)
        for y, x in ink:
            page[max(0, y - 3):y + 3, max(0, x - 4):x + 4] = rng.integers(0, 2, page[max(0, y - 3):y + 3,
                                                                                    max(0, x - 4):x + 4].shape)
            page[y, x] = 1
        assert np.array_equal(dilate_around_ink(page, disc), cv2.dilate(page, disc))
    assert np.array_equal(dilate_around_ink(page, np.ones((3, 9), np.uint8)), np.zeros_like(page))
