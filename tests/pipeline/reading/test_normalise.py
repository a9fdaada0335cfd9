"""Normalisation of page images (``pipeline.reading.normalise``): square pixels, and pages cut apart.

A fax's pixels are twice as tall as wide (200 × 100 dpi); an A3 scan holds two pages side by side.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.reading.identify import identify_page
from pipeline.reading.normalise import qr_aspect, split_pages, square_pixels
from samples.scanner import rasterise_pdf_page, render_filled_pdf
from schemas.extraction import FormValues

VALUES: FormValues = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "class_level": ["CM1"],
          "referrer_role": ["enseignant"], "observations": "Besoin d'un cadre calme pour faire ses devoirs."}


def test_square_pixels_upsamples_the_coarse_axis() -> None:
    fax = np.zeros((110, 170), np.uint8)
    assert square_pixels(fax, 200, 100).shape == (220, 170)
    assert square_pixels(fax, 100, 200).shape == (110, 340)
    assert square_pixels(fax, 300, 301) is fax  # within the tolerance: left alone
    with pytest.raises(ValueError):
        square_pixels(fax, 0, 100)


@pytest.mark.parametrize("turn_deg", [0.0, 17.0, 90.0, 133.0])
def test_qr_aspect_is_the_pixel_aspect_whatever_the_turn(turn_deg: float) -> None:
    a = np.radians(turn_deg)
    square = np.array([[0, 0], [60, 0], [60, 60], [0, 60]], float) @ np.array([[np.cos(a), np.sin(a)],
                                                                                [-np.sin(a), np.cos(a)]])
    faxed = square * (1.0, 0.5)  # 200 dpi across, 100 lines per inch down
    assert qr_aspect([faxed]) == pytest.approx(2.0, rel=1e-6)


def test_pages_of_two_forms_side_by_side_are_split_by_serial() -> None:
    dpi = 100
    left = np.asarray(rasterise_pdf_page(render_filled_pdf(VALUES, "FO-2026-000801"), 1, dpi))
    right = np.asarray(rasterise_pdf_page(render_filled_pdf(VALUES, "FO-2026-000802"), 2, dpi))
    a3 = np.full((left.shape[0] + 40, 2 * left.shape[1] + 30), 255, np.uint8)
    a3[20:20 + left.shape[0], 10:10 + left.shape[1]] = left
    a3[20:20 + right.shape[0], 20 + left.shape[1]:20 + 2 * left.shape[1]] = right

    pages = split_pages(a3, dpi)

    assert [(p.identity.form_id, p.identity.page) for p in pages if p.identity] == [
        ("FO-2026-000801", 1), ("FO-2026-000802", 2)]
    for p in pages:  # each cut holds one page alone, which identification accepts
        assert identify_page(p.image).identity == p.identity
        assert p.image.shape[1] < a3.shape[1] * 0.6


def test_one_page_image_is_left_whole() -> None:
    page = np.asarray(rasterise_pdf_page(render_filled_pdf(VALUES, "FO-2026-000803"), 1, 100))
    [only] = split_pages(page, 100)
    assert only.image is page and only.identity is not None and only.identity.page == 1
