"""Pixel helpers of the scan reader: ink masks, crops, paper levels, sharpening, descreening.

Pure functions over ``uint8`` grey arrays ``(height_px, width_px)``; rectangles in PDF points
converted with ``px_per_pt`` (the registered page's DPI / 72).
"""


from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.form.definition import (
    Rect,
)
from pipeline.reading.register import ink_threshold
from pipeline.settings import OcrSettings

log = logging.getLogger(__name__)


def box_px(rect: Rect, px_per_pt: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Pixel bounds ``(x0, y0, x1, y1)`` of a rectangle in points, clipped to the image."""
    h, w = shape[:2]
    x0 = min(max(0, int(round(rect.x0 * px_per_pt))), w)
    y0 = min(max(0, int(round(rect.top * px_per_pt))), h)
    x1 = min(max(x0, int(round(rect.x1 * px_per_pt))), w)
    y1 = min(max(y0, int(round(rect.bottom * px_per_pt))), h)
    return x0, y0, x1, y1


def crop_rect(image: np.ndarray, rect: Rect, px_per_pt: float) -> np.ndarray:
    """The pixels of ``rect`` (PDF points, y down) of ``image`` at ``px_per_pt``, clipped to the image (a view)."""
    x0, y0, x1, y1 = box_px(rect, px_per_pt, image.shape)
    return image[y0:y1, x0:x1]


def ink_mask(image: np.ndarray) -> np.ndarray:
    """Binary ink mask of a registered page: 1 where the pixel is ink, 0 for paper.

    Args:
        image: ``uint8`` grey page (grey or black-and-white scan).

    Returns:
        ``uint8`` array of the same shape holding 0 and 1. The threshold is Otsu's on the page
        (``pipeline.reading.register.ink_threshold``), which separates toner from paper on both scan modes.
    """
    return (image <= ink_threshold(image)).astype(np.uint8)


def grow_ink(image: np.ndarray, mask: np.ndarray, paper: float, growth: float) -> np.ndarray:
    """The ink mask grown by hysteresis into the lighter parts of its own strokes.

    A ballpoint digit photographed by a phone is lighter than toner and uneven: Otsu's page threshold
    keeps its darkest parts only, and a ``0`` comes out as a ``(``. Pixels darker than a second, higher
    threshold (``growth`` of the way from Otsu's level to the paper's) are added where they touch the ink
    of ``mask``: the strokes are made whole, while paper, however shadowed, touching no ink stays paper.

    Args:
        image: ``uint8`` grey registered page.
        mask: Its ink mask (0/1, :func:`ink_mask` or a cleaned copy of it), the seeds.
        paper: Grey level of bare paper (:attr:`GreyLevels.paper`).
        growth: Share 0-1 of the way from the ink threshold to ``paper`` (``IcrSettings.comb_ink_growth``).

    Returns:
        ``uint8`` 0/1 mask of the same shape, a superset of ``mask``.
    """
    light = image <= hysteresis_level(ink_threshold(image), paper, growth)
    return connected_to(mask.astype(bool), light).astype(np.uint8)


def hysteresis_level(threshold: float, paper: float, growth: float) -> float:
    """The grey level (0-255) ``growth`` (0-1) of the way from the ink ``threshold`` to the ``paper``'s grey: the
    second, higher threshold of :func:`grow_ink` (a paper darker than the threshold leaves the threshold)."""
    return threshold + max(0.0, paper - threshold) * growth


def connected_to(seeds: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``bool`` mask of ``seeds`` and of the ``candidates`` pixels 8-connected to them through ``candidates``
    (both ``bool`` arrays of one shape): the growing step of a hysteresis threshold."""
    count, labels = cv2.connectedComponents((seeds | candidates).astype(np.uint8), connectivity=8)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[seeds])] = True
    seeded[0] = False
    return seeded[labels]


def paper_to_white(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Set every non-ink pixel to white, keeping the grey of ink pixels (anti-aliasing).

    Stacked crops sit on a white strip; left grey (scanned paper is about 240), each crop's
    rectangle shows as an edge and tesseract's LSTM then invents digits (measured: a date
    ``10/10/2026`` read as ``10702026`` on grey paper, right once paper is white).
    """
    return np.where(mask.astype(bool), image, np.uint8(255)).astype(np.uint8)


def dither_share(image: np.ndarray, at_least: float | None = None) -> float:
    """How much of an image's ink is error-diffused: the share of ink pixels with paper on their left and right
    and other ink within two pixels.

    A fax in photo (halftone) mode, or a scan saved to 1 bit with dithering, keeps grey as a density of scattered
    dots; thresholded ink is solid strokes, two pixels wide or more at 200 dpi. A dot alone on its row is the mark
    of the first and all but absent from the second. Rows, not 2 × 2 windows: a fax's 100 lines per inch reach
    the reader with every row doubled (:func:`pipeline.reading.normalise.square_pixels`), which leaves a row's
    pattern as it was and halved the share of the diagonal windows measured until 2026-12-07 (dithered pages
    whose paper keeps its tone fell to 0.027, under the 0.03 they were told by, and their boxes, full of dots,
    were read ticked). Dots come in crowds, specks alone: a dot counts only with another ink pixel in its 5 × 5
    neighbourhood, so that a clean 1-bit scan sprinkled with 0.8 % lone specks measures 0.032, not 0.14 (a
    review, 2026-12-07).

    Measured 2026-12-07 on 232 pages as the reader gets them (every scanned page of the devset; the project's
    scans, photos, copies and faxes of seeds 53 and 67; 12 ``fax_halftone`` pages of seed 41 generated with the
    paper's tone kept, the machine's background suppression skipped): dithered 0.19-0.26 (devset, 3 pages),
    0.25-0.38 (``fax_halftone``), 0.28-0.88 (paper toned); every other page at most 0.062 (a
    ``scan_fit_to_page``; the devset's at most 0.040, a photocopy). :attr:`OcrSettings.dither_share_min` sits
    between.

    Args:
        image: ``uint8`` grey page ``(height_px, width_px)``, as received (before registration resamples it).
        at_least: The share the caller compares with (``OcrSettings.dither_share_min``), or ``None``. When the
            dots alone on their row, company or not, are already fewer than that, their share is returned, an upper
            bound under ``at_least``, and the neighbourhood count is skipped (issue 19: on a 12-megapixel phone photo
            66 → 27 ms, measured 2026-12-07 on the devset's r0005 page 1; the decision is the same, since the
            share with company is never larger).

    Returns:
        Ink pixels alone on their row between two paper pixels, with company, over ink pixels (0 for a page
        without ink); or, under ``at_least``, possibly the larger share counted without company.
    """
    ink = (image < 128).astype(np.uint8)
    count = int(np.count_nonzero(ink))
    if count == 0:
        return 0.0
    inked = ink.astype(bool)
    alone = inked[:, 1:-1] & ~inked[:, :-2] & ~inked[:, 2:]
    if at_least is not None and (lone := float(np.count_nonzero(alone)) / count) < at_least:
        return lone
    crowd = cv2.boxFilter(ink, cv2.CV_16U, (5, 5), normalize=False)[:, 1:-1] >= 2  # itself and one more
    return float(np.count_nonzero(alone & crowd)) / count


def descreen(image: np.ndarray, px_per_pt: float, ocr: OcrSettings) -> np.ndarray:
    """A dithered page's grey brought back for the readers: a Gaussian blur of sigma ``ocr.descreen_sigma_pt``
    (pt, converted with ``px_per_pt``), which joins the dots of each letter into strokes again.

    Args:
        image: ``uint8`` grey page, paper white (:func:`paper_to_white`).
        px_per_pt: Its scale.
        ocr: The blur's radius.

    Returns:
        A blurred ``uint8`` copy of the same shape.
    """
    return cv2.GaussianBlur(image, (0, 0), ocr.descreen_sigma_pt * px_per_pt)


def sharpen_for_ocr(image: np.ndarray, px_per_pt: float, ocr: OcrSettings) -> np.ndarray:
    """Unsharp mask for tesseract: the image plus ``ocr.photo_sharpen_amount`` of its difference with a Gaussian
    blur of sigma ``ocr.photo_sharpen_sigma_pt`` (pt, converted with ``px_per_pt``).

    A phone's lens and JPEG/HEIC compression round the letters of a photo, and the resampling to
    ``ocr.text_ocr_dpi`` rounds them further; tesseract then confuses ``ll``/``li``, ``5``/``S`` and ``B``/``8``
    at high confidence (measured, see ``OcrSettings.photo_sharpen_sigma_pt``).

    Args:
        image: ``uint8`` grey page, paper white (:func:`paper_to_white`).
        px_per_pt: Its scale.
        ocr: Radius and amount.

    Returns:
        A sharpened ``uint8`` copy of the same shape.
    """
    blur = cv2.GaussianBlur(image, (0, 0), ocr.photo_sharpen_sigma_pt * px_per_pt)
    return cv2.addWeighted(image, 1.0 + ocr.photo_sharpen_amount, blur, -ocr.photo_sharpen_amount, 0)


def ink_share(mask: np.ndarray, rect: Rect, px_per_pt: float) -> float:
    """Share (0-1) of ink pixels of ``mask`` inside ``rect`` (pt); 0 for an empty crop."""
    crop = crop_rect(mask, rect, px_per_pt)
    return float(crop.mean()) if crop.size else 0.0


def ink_area_pt2(mask: np.ndarray, rect: Rect, px_per_pt: float) -> float:
    """Ink inside ``rect`` in square points, after an opening that drops isolated 1-px specks.

    An absolute area, not a share: a two-letter value in a 400-pt wide zone is as much
    writing as a full line.
    """
    crop = crop_rect(mask, rect, px_per_pt)
    if not crop.size:
        return 0.0
    opened = cv2.morphologyEx(crop, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return float(opened.sum()) / (px_per_pt * px_per_pt)


@dataclass(frozen=True)
class GreyLevels:
    """Grey levels of bare paper and of solid ink on a registered page (0-255).

    Attributes:
        paper: The 90th percentile of the page: paper covers far more than 10 % of it.
        ink: The 0.5th percentile: the cores of printed strokes and of the solid anchors.
    """

    paper: float
    ink: float

    def darkness(self, crop: np.ndarray) -> float:
        """Mean darkness of a crop, 0 for bare paper and 1 for solid ink.

        Unlike a share of thresholded pixels, a mean does not change with blur: a blurred cross
        spreads over more pixels but keeps its amount of ink, so it never looks like a filled box.
        """
        if not crop.size:
            return 0.0
        return float(np.clip((self.paper - float(crop.mean())) / max(1.0, self.paper - self.ink), 0.0, 1.0))


def grey_levels(image: np.ndarray) -> GreyLevels:
    """Paper and ink grey levels of a registered page (see :class:`GreyLevels`)."""
    paper, ink = grey_percentiles(image[::2, ::2], (90.0, 0.5))
    return GreyLevels(paper, ink)


def grey_percentiles(image: np.ndarray, percents: tuple[float, ...]) -> tuple[float, ...]:
    """``np.percentile(image, q)`` for each ``q`` of ``percents`` (0-100), the same values, from a histogram.

    A ``uint8`` image has 256 levels: counting them (``cv2.calcHist``) and finding the order statistics in the
    cumulative counts costs a few milliseconds where sorting a page's samples cost 7 to 14 (issue 19). The linear
    interpolation between the two order statistics around ``(n - 1) × q / 100`` is NumPy's own (``_lerp``, the
    ``linear`` method), so each value is bit for bit ``np.percentile``'s; ``tests/pipeline/reading/scan/test_pixels.py``
    checks it.

    Args:
        image: ``uint8`` array, any shape, at least one element (a strided view is fine).
        percents: Percentiles, 0-100.

    Returns:
        One float per percentile, in order.
    """
    counts = cv2.calcHist([np.ascontiguousarray(image)], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    below = np.cumsum(counts)  # below[k]: samples of level k or darker
    n = int(below[-1])
    out = []
    for q in percents:
        index = (n - 1) * (np.float64(q) / 100.0)
        lo = int(np.floor(index))
        a, b = np.searchsorted(below, [lo, min(lo + 1, n - 1)], side="right").astype(np.float64)
        t = index - lo
        diff = b - a
        out.append(float(b - diff * (1.0 - t) if t >= 0.5 else a + diff * t))
    return tuple(out)


def scaled(crop: np.ndarray, factor: float) -> np.ndarray:
    """``crop`` resized by ``factor`` (cubic when enlarging, area when shrinking); the crop itself when the factor
    is within 1 %."""
    if abs(factor - 1.0) < 0.01:
        return crop
    interpolation = cv2.INTER_CUBIC if factor > 1.0 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=interpolation)
