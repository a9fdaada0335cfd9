"""Pixel helpers (``pipeline.reading.scan.pixels``): ink grown where a stroke is lighter than Otsu's level, and
dithered pages told from thresholded ones."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from pipeline.reading.scan.pixels import descreen, dither_share, grey_percentiles, grow_ink
from pipeline.settings import OcrSettings


def test_grow_ink_completes_a_light_stroke_and_leaves_a_shadow_alone() -> None:
    """A photographed ballpoint "0" whose right half is lighter than Otsu's level, beside a grey shadow."""
    image = np.full((60, 120), 230, np.uint8)
    image[10:50, 10:14] = 40    # left stroke: dark ink
    image[10:14, 10:40] = 40    # top stroke: dark ink
    image[10:50, 36:40] = 150   # right stroke: light ink touching the top one
    image[10:50, 80:100] = 160  # a shadow on the paper, touching no ink
    mask = (image <= 60).astype(np.uint8)  # the dark strokes only, as Otsu's level keeps on a photo
    grown = grow_ink(image, mask, paper=230.0, growth=0.5)
    assert grown[30, 37] == 1  # the light stroke is made whole
    assert grown[30, 90] == 0  # the shadow stays paper
    assert np.all(grown >= mask)


def _grey_letters() -> np.ndarray:
    """Letters at 200 dpi as a scanner sees them: strokes with soft, grey edges on white paper."""
    image = np.full((120, 400), 255, np.uint8)
    cv2.putText(image, "Barbusse 62", (10, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.6, 0, 4, cv2.LINE_AA)
    return cv2.GaussianBlur(image, (0, 0), 1.5)


def test_an_error_diffused_page_is_told_from_a_thresholded_one() -> None:
    grey = _grey_letters()
    thresholded = np.where(grey < 128, 0, 255).astype(np.uint8)
    toned = (grey.astype(np.float32) * 0.88).astype(np.uint8)  # paper whose tone the fax machine keeps
    minimum = OcrSettings().dither_share_min

    assert dither_share(thresholded) < minimum / 10
    assert dither_share(np.repeat(thresholded, 2, axis=0)) < minimum / 10
    for page in (grey, toned):
        dithered = np.asarray(Image.fromarray(page).convert("1").convert("L"))  # Floyd-Steinberg
        rows_doubled = np.repeat(dithered, 2, axis=0)  # a fax's 100 lines per inch made square
        assert dither_share(dithered) > 1.5 * minimum
        assert dither_share(rows_doubled) >= dither_share(dithered)  # doubling never lowers it
    assert dither_share(np.full((10, 10), 255, np.uint8)) == 0.0
    # A thresholded page sprinkled with lone specks (a dirty 1-bit scan) is no dithered one (a review).
    specked = thresholded.copy()
    specked[np.random.default_rng(5).random(specked.shape) < 0.008] = 0
    assert dither_share(specked) < minimum / 2
    # With the threshold given, a page short of lone dots skips the neighbourhood count; the decision is the same.
    for page in (thresholded, specked, dithered, rows_doubled):
        assert (dither_share(page, minimum) >= minimum) == (dither_share(page) >= minimum)
    assert dither_share(dithered, minimum) == dither_share(dithered)  # over the threshold: the measure itself


def test_descreening_joins_a_dithered_letters_dots_into_strokes() -> None:
    grey = _grey_letters()
    dithered = np.asarray(Image.fromarray(grey).convert("1").convert("L"))
    smooth = descreen(dithered, 200 / 72, OcrSettings())

    # Nearer the letters' grey than the dots were, and as dark where the strokes are solid.
    assert np.abs(smooth.astype(int) - grey).mean() < 0.5 * np.abs(dithered.astype(int) - grey).mean()
    assert smooth[grey < 40].mean() < 80


def test_grey_percentiles_are_numpys_own_values() -> None:
    rng = np.random.default_rng(19)
    page = np.clip(rng.normal(215, 45, (700, 500)), 0, 255).astype(np.uint8)
    page[100:140, 50:450] = rng.integers(0, 60, (40, 400))  # a band of ink
    for sample in (page, page[::2, ::2], page[::4, ::4], page[:1, :1], np.full((3, 3), 7, np.uint8)):
        for q in (90.0, 0.5, 0.0, 100.0, 50.0, 33.3, 99.99):
            assert grey_percentiles(sample, (q,)) == (float(np.percentile(sample, q)),), (sample.shape, q)
    small = rng.integers(0, 256, 11, dtype=np.uint8)
    assert grey_percentiles(small, (90.0, 0.5)) == (float(np.percentile(small, 90)), float(np.percentile(small, 0.5)))
