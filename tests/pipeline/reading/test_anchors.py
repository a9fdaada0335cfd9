"""Pages whose QR codes cannot be read are found by their anchors and printed footer (issue 3)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import NoFormCodeError, PageNotIdentifiedError
from pipeline.form.definition import PageIdentity, form_v1
from pipeline.reading.anchors import find_page, identify_by_anchors
from pipeline.reading.scan.page import read_scan_page
from samples.scanner import render_filled_pdf, rotate_quarter_turns, simulate_scan

FORM_ID = "FO-2026-000733"
VALUES = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "class_level": ["CM1"],
          "guardian1_phone": "0612345678", "agreement_orientation": True}


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_filled_pdf(VALUES, FORM_ID)


def _without_qr(pdf: bytes, page: int, turns: int) -> np.ndarray:
    """A 200 dpi scan whose two QR codes were smudged past reading, turned ``turns`` quarter turns."""
    scan = np.asarray(simulate_scan(pdf, 200, page=page, skew_deg=0.0, offset_pt=(0.0, 0.0),
                                    rng=random.Random(page))).copy()
    s = 200 / 72
    for qr in form_v1().pages[page - 1].qr_codes:
        scan[int(qr.top * s) - 2 : int(qr.bottom * s) + 2, int(qr.x0 * s) - 2 : int(qr.x1 * s) + 2] = 235
    return np.asarray(rotate_quarter_turns(Image.fromarray(scan), turns))


@pytest.mark.parametrize(("page", "turns"), [(1, 0), (1, 1), (2, 2), (2, 3)])
def test_page_without_readable_qr_is_identified_and_turned_upright(pdf: bytes, page: int, turns: int) -> None:
    image = _without_qr(pdf, page, turns)
    with pytest.raises(NoFormCodeError):
        from pipeline.reading.identify import identify_page

        identify_page(image)

    found = identify_by_anchors(image)

    assert found.identity == PageIdentity(FORM_ID, 1, page, 2)
    assert (found.quarter_turns + turns) % 4 == 0
    assert found.image.shape[0] > found.image.shape[1]  # portrait again
    assert found.dpi_estimate == pytest.approx(200, rel=0.03)


def test_fields_of_a_page_without_qr_are_read(pdf: bytes) -> None:
    result = read_scan_page(_without_qr(pdf, 1, 2))
    assert result.identity.form_id == FORM_ID and result.anchors_found == 5
    assert result.fields["pupil_surname"].value == "LEFÈVRE"
    assert result.fields["pupil_birth_date"].value == "14/03/2016"
    assert result.fields["class_level"].value == ["CM1"]


def test_a_page_with_neither_codes_nor_anchors_keeps_the_qr_error() -> None:
    newsletter = np.full((2339, 1654), 245, np.uint8)
    newsletter[300:330, 200:1400] = 30
    with pytest.raises(PageNotIdentifiedError) as info:
        find_page(newsletter)
    assert isinstance(info.value, NoFormCodeError) and info.value.code == "page_not_identified"
