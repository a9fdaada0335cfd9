"""Identifying scanned pages by their QR codes and turning them upright."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.errors import ClasError, PageNotIdentifiedError
from pipeline.reading.identify import identify_page, quarter_turns_from_orientations
from samples.scanner import render_filled_pdf, simulate_scan

FORM_ID = "FO-2026-000311"


@pytest.fixture(scope="module")
def page2_scan() -> np.ndarray:
    pdf = render_filled_pdf({"p2_pupil_surname": "LEFÈVRE"}, FORM_ID)
    return np.asarray(simulate_scan(pdf, 200, page=2, skew_deg=2.0, rng=random.Random(1)))


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_identity_and_upright_turn_from_any_orientation(page2_scan: np.ndarray, turns: int) -> None:
    rotated = np.ascontiguousarray(np.rot90(page2_scan, turns))

    page = identify_page(rotated)

    assert (page.identity.form_id, page.identity.page, page.identity.page_count) == (FORM_ID, 2, 2)
    assert (page.quarter_turns + turns) % 4 == 0
    assert page.image.shape == page2_scan.shape
    assert page.dpi_estimate == pytest.approx(200, abs=4)
    # The top-right code stays top-right once upright, whatever the input orientation.
    top_right = min(page.qr_codes, key=lambda s: s.template_corners_pt[0][1])
    x, y = top_right.corners_px[0]
    assert x > page.image.shape[1] * 0.7 and y < page.image.shape[0] * 0.15


def test_orientation_vote_survives_the_180_degree_wrap() -> None:
    # Regression: two codes at 179° and -179° averaged to 0°, so an upside-down page stayed upside down.
    assert quarter_turns_from_orientations([179.0, -179.0]) == 2
    assert quarter_turns_from_orientations([-90.0, -88.0]) == 3
    assert quarter_turns_from_orientations([2.0]) == 0
    with pytest.raises(ValueError):
        quarter_turns_from_orientations([])


def test_page_without_our_codes_is_refused_with_a_french_reason() -> None:
    blank = np.full((1100, 800), 240, dtype=np.uint8)

    with pytest.raises(PageNotIdentifiedError) as info:
        identify_page(blank)

    assert isinstance(info.value, ClasError)
    assert info.value.code == "page_not_identified" and info.value.codes_found == 0
    assert "code QR" in info.value.reason_fr


def test_colour_or_float_input_is_refused() -> None:
    with pytest.raises(PageNotIdentifiedError):
        identify_page(np.zeros((10, 10, 3), dtype=np.uint8))


@pytest.mark.parametrize(("turns", "skew", "fit"), [(1, 10.0, 1.0), (2, -10.0, 0.94), (3, 7.0, 0.94)])
def test_turned_skewed_and_shrunk_pages_are_identified_and_registered(turns: int, skew: float, fit: float) -> None:
    # Issue 3: pages fed sideways or upside down, skewed up to 10°, printed "fit to page" (94 %).
    from pipeline.reading.register import register_page

    pdf = render_filled_pdf({"p2_pupil_surname": "LEFÈVRE"}, FORM_ID)
    scan = simulate_scan(pdf, 200, page=2, skew_deg=skew, fit_to_page=fit, expand=True, rng=random.Random(turns))
    rotated = np.ascontiguousarray(np.rot90(np.asarray(scan), turns))

    page = identify_page(rotated)
    registered = register_page(page)

    assert (page.identity.form_id, page.identity.page) == (FORM_ID, 2)
    assert (page.quarter_turns + turns) % 4 == 0
    assert page.dpi_estimate == pytest.approx(200 * fit, abs=6)
    assert registered.anchors_found == 5  # a square turned by 10° fills 0.74 of its box: still an anchor
    assert registered.residual_pt < 0.5
