"""ICR for comb cells: one digit per cell, read by a small model trained on scikit-learn's digits.

Tesseract reads handwritten digits poorly and, worse, sometimes confidently wrong. A comb cell
holds a single character, so a digit classifier can read it independently: this module isolates
the ink of each cell of a comb (the printed outline removed, a digit crossing the outline kept),
reduces it to the 8×8, 0-16 grey format of ``sklearn.datasets.load_digits`` (the UCI "optdigits"
preprocessing: the digit's bounding box scaled into 32×32, counted in 4×4 blocks) and gives the
ten class probabilities. ``pipeline.read_scan`` accepts a cell only when this model and tesseract
agree (:func:`agree`).

The model is trained once per process on first use (about a second, on the 1,797 images shipped
inside scikit-learn, the form's typed digits and digits drawn in hand-like Debian fonts none of the sample
forms is written in: no download, nothing persisted).

Steps: ``comb_cells_ink`` → ``digit_features`` → ``digit_probabilities`` → ``agree``.

Text zones are not read here, only told apart: :func:`baseline_agreement` measures how many letters
of a zone stand on one baseline (typed text: nearly all; a hand: far fewer), and ``pipeline.read_scan``
holds a handwritten zone's confidence under the review threshold (:func:`looks_handwritten`).
"""

from __future__ import annotations

import io
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from reportlab.pdfgen.canvas import Canvas

# Imported here, not in the functions that use them: importing scikit-learn takes about 2 s, and the
# reading workers are forked from a server that has already imported the readers (``pipeline.limits``),
# so a module-level import is paid once per run instead of once per document.
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from pipeline.form_definition import VALUE_FONT_SIZE_PT, Field, Rect
from pipeline.render_form import VALUE_FONT
from pipeline.settings import IcrSettings
from pipeline.template_image import rasterise_pdf_page

logger = logging.getLogger(__name__)

FEATURE_SIDE = 8
"""``load_digits`` images are 8×8 blocks of a 32×32 bitmap, each 0-16 (ink pixels of a 4×4 block)."""
BITMAP_SIDE = 32


@dataclass(frozen=True)
class CellInk:
    """The ink of one comb cell, with the printed outline removed.

    Attributes:
        index: Position of the cell in ``field.cells`` (0-based, left to right).
        mask: ``uint8`` 0/1 mask of the digit's ink, over the cell enlarged by the margin
            (``IcrSettings.cell_margin_pt`` each side), at the page scale.
        area_pt2: Ink area in square points.
        origin_px: Page pixel ``(x, y)`` of ``mask``'s top-left corner.
    """

    index: int
    mask: np.ndarray
    area_pt2: float
    origin_px: tuple[int, int] = (0, 0)


def _bounds(rect: Rect, px_per_pt: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0 = min(max(0, int(round(rect.x0 * px_per_pt))), w)
    y0 = min(max(0, int(round(rect.top * px_per_pt))), h)
    return x0, y0, min(max(x0, int(round(rect.x1 * px_per_pt))), w), min(max(y0, int(round(rect.bottom * px_per_pt))), h)


def outline_band(shape: tuple[int, ...], field: Field, origin_pt: tuple[float, float], px_per_pt: float,
                 tolerance_pt: float) -> np.ndarray:
    """Where a comb's printed outline may lie: every pixel within ``tolerance_pt`` of a cell edge's line.

    Args:
        shape: ``(height_px, width_px)`` of the comb's region.
        field: The comb field (cells in pt).
        origin_pt: Page position ``(x, y)`` in pt of the region's top-left pixel.
        px_per_pt: Scale of the region.
        tolerance_pt: Half-width of the band, in pt.

    Returns:
        ``bool`` array of ``shape``: columns near a left or right edge, rows near a top or bottom edge.
    """
    near_v = np.zeros(shape[1], bool)
    near_h = np.zeros(shape[0], bool)
    for c in field.cells:
        for x in (c.x0, c.x1):
            a = int(np.floor((x - tolerance_pt - origin_pt[0]) * px_per_pt))
            b = int(np.ceil((x + tolerance_pt - origin_pt[0]) * px_per_pt))
            near_v[max(0, a):max(0, b)] = True
        for y in (c.top, c.bottom):
            a = int(np.floor((y - tolerance_pt - origin_pt[1]) * px_per_pt))
            b = int(np.ceil((y + tolerance_pt - origin_pt[1]) * px_per_pt))
            near_h[max(0, a):max(0, b)] = True
    return near_v[None, :] | near_h[:, None]


def remove_outline(region: np.ndarray, field: Field, origin_pt: tuple[float, float], px_per_pt: float,
                   icr: IcrSettings) -> np.ndarray:
    """Erase the printed cell outlines from the ink mask of a comb's region.

    Long straight runs inside the outline band (:func:`outline_band`, ``outline_tolerance_pt``) are
    erased: a vertical run at least ``outline_run_share`` of a cell's height, likewise horizontal runs
    along the top and bottom. A digit stroke that crosses an edge loses the few pixels on the line and
    keeps the rest. What is left of the outline (a black-and-white scan breaks a skewed line into short
    pieces) lies wholly in the band, and :func:`comb_cells_ink` drops it.

    Args:
        region: ``uint8`` 0/1 ink mask of the comb's zone enlarged by ``cell_margin_pt``.
        field: The comb field (cells in pt).
        origin_pt: Page position ``(x, y)`` in pt of ``region``'s top-left pixel.
        px_per_pt: Scale of ``region``.
        icr: Run length share and tolerance.

    Returns:
        A new 0/1 mask without the outline's long runs.
    """
    cell = field.cells[0]
    v_len = max(3, int(round(icr.outline_run_share * cell.height * px_per_pt)))
    h_len = max(3, int(round(icr.outline_run_share * cell.width * px_per_pt)))
    vertical = cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((v_len, 1), np.uint8))
    horizontal = cv2.morphologyEx(region, cv2.MORPH_OPEN, np.ones((1, h_len), np.uint8))
    band = outline_band(region.shape, field, origin_pt, px_per_pt, icr.outline_tolerance_pt)
    lines = (vertical.astype(bool) | horizontal.astype(bool)) & band
    lines = cv2.dilate(lines.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return np.where(lines, 0, region).astype(np.uint8)


def comb_cells_ink(mask: np.ndarray, field: Field, px_per_pt: float, icr: IcrSettings) -> list[CellInk]:
    """Split a comb's ink into one digit per cell.

    The comb's zone (enlarged by ``cell_margin_pt``) is cut from the page mask, its printed outline
    erased (:func:`remove_outline`), and each remaining blob of ink goes to the cell that holds its
    centre (the nearest cell when it lies in a gap), so a digit written across an edge stays whole
    and a neighbour's overflow does not count. Blobs under ``speck_max_pt2`` are dust; blobs that lie
    (all but a speck) in the outline band are what is left of the outline. Within a
    cell, blobs smaller than ``fragment_share`` of its largest are dropped (a neighbour's tail).

    Args:
        mask: ``uint8`` 0/1 ink mask of the registered page.
        field: A comb field.
        px_per_pt: Scale of ``mask`` (``dpi / 72``).
        icr: Margins and size thresholds.

    Returns:
        One :class:`CellInk` per cell, in cell order (``area_pt2`` 0 for an empty cell).
    """
    m = icr.cell_margin_pt
    zone = Rect(field.rect.x0 - m, field.rect.top - m, field.rect.x1 + m, field.rect.bottom + m)
    x0, y0, x1, y1 = _bounds(zone, px_per_pt, mask.shape)
    origin = (x0 / px_per_pt, y0 / px_per_pt)
    raw = mask[y0:y1, x0:x1]
    region = remove_outline(raw, field, origin, px_per_pt, icr)
    # A stroke across an edge was cut where the line was erased: the erased ink next to writing joins
    # the two pieces again for grouping (only ``region``'s own pixels are kept in the cell's mask).
    bridge = (raw > region) & (cv2.dilate(region, np.ones((7, 7), np.uint8)) > 0)
    grouped = np.asarray(region | bridge.astype(np.uint8), np.uint8)
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(grouped, connectivity=8)
    band = outline_band(region.shape, field, origin, px_per_pt, icr.outline_tolerance_pt)
    outside_band = np.bincount(labels[~band].ravel(), minlength=count)
    centres_x = [((c.x0 + c.x1) / 2 - origin[0]) * px_per_pt for c in field.cells]
    spans = [((c.x0 - origin[0]) * px_per_pt, (c.x1 - origin[0]) * px_per_pt) for c in field.cells]
    speck_px = icr.speck_max_pt2 * px_per_pt * px_per_pt
    boxes = [((c.x0 - origin[0]) * px_per_pt, (c.top - origin[1]) * px_per_pt, (c.x1 - origin[0]) * px_per_pt,
              (c.bottom - origin[1]) * px_per_pt) for c in field.cells]
    in_gap = np.bincount(labels[:, separator_columns(region.shape[1], field, origin[0], px_per_pt, icr)].ravel(),
                         minlength=count)
    owned: list[list[int]] = [[] for _ in field.cells]
    for i in range(1, count):
        if stats[i, cv2.CC_STAT_AREA] <= speck_px or not _touches_a_cell(stats[i], boxes):
            continue  # dust, or print between the cells (the "/" of a date)
        if outside_band[i] <= speck_px:
            continue  # a piece of the printed outline
        if in_gap[i] >= icr.separator_ink_share * stats[i, cv2.CC_STAT_AREA]:
            continue  # the printed "/" of a date, blurred onto a cell's edge (a digit lies mostly in its cell)
        cx = float(centroids[i][0])
        inside = [k for k, (a, b) in enumerate(spans) if a <= cx <= b]
        k = inside[0] if inside else int(np.argmin([abs(cx - c) for c in centres_x]))
        owned[k].append(i)
    out: list[CellInk] = []
    for k, cell in enumerate(field.cells):
        a = int(round((cell.x0 - m - origin[0]) * px_per_pt))
        b = int(round((cell.x1 + m - origin[0]) * px_per_pt))
        a, b = max(0, a), min(region.shape[1], b)
        areas = {i: int(stats[i, cv2.CC_STAT_AREA]) for i in owned[k]}
        keep = [i for i, area in areas.items() if area >= icr.fragment_share * max(areas.values())]
        cell_mask = (np.isin(labels[:, a:b], keep) & (region[:, a:b] > 0)).astype(np.uint8) if keep else np.zeros(
            (region.shape[0], max(0, b - a)), np.uint8)
        out.append(CellInk(k, cell_mask, float(cell_mask.sum()) / (px_per_pt * px_per_pt), (x0 + a, y0)))
    return out


def separator_columns(width_px: int, field: Field, origin_x_pt: float, px_per_pt: float,
                      icr: IcrSettings) -> np.ndarray:
    """Columns of a comb's region that lie in a printed gap between two cells (a date's "/", a phone's pairs).

    Args:
        width_px: Width of the region.
        field: The comb (cells in pt).
        origin_x_pt: Page x in pt of the region's first column.
        px_per_pt: Scale of the region.
        icr: ``outline_tolerance_pt``: the gap is narrowed by it each side, so a cell's outline is not in it.

    Returns:
        ``bool`` array of ``width_px``.
    """
    gap = np.zeros(width_px, bool)
    for left, right in zip(field.cells, field.cells[1:], strict=False):
        a = int(np.ceil((left.x1 + icr.outline_tolerance_pt - origin_x_pt) * px_per_pt))
        b = int(np.floor((right.x0 - icr.outline_tolerance_pt - origin_x_pt) * px_per_pt))
        if b > a:
            gap[max(0, a):max(0, b)] = True
    return gap


def _touches_a_cell(stat: np.ndarray, boxes: Sequence[tuple[float, float, float, float]]) -> bool:
    """Whether a blob's bounding box (a row of OpenCV's stats) overlaps one of the cells (px boxes)."""
    left, top = stat[cv2.CC_STAT_LEFT], stat[cv2.CC_STAT_TOP]
    right, bottom = left + stat[cv2.CC_STAT_WIDTH], top + stat[cv2.CC_STAT_HEIGHT]
    return any(left < x1 and right > x0 and top < y1 and bottom > y0 for x0, y0, x1, y1 in boxes)


def digit_features(cell_mask: np.ndarray, icr: IcrSettings) -> np.ndarray | None:
    """A cell's ink in the ``load_digits`` format: 64 values 0-16 (see :func:`bitmap_features`).

    Args:
        cell_mask: ``uint8`` 0/1 mask of one digit (:attr:`CellInk.mask`), any size.
        icr: ``stroke_px``.

    Returns:
        ``float64`` array of shape ``(64,)``, or ``None`` for a mask without ink.
    """
    return bitmap_features(cell_mask, icr.stroke_px)


def bitmap_features(bitmap: np.ndarray, stroke_px: float) -> np.ndarray | None:
    """Normalise a 0/1 digit bitmap and count its ink in 8×8 blocks (0-16 each).

    The same normalisation is applied to the training images (:func:`training_set`) and to the
    cells read, so that size, position, aspect and pen width no longer separate them:

    * the ink's bounding box is scaled into 32×32, its longer side to 30 px and its shorter side by
      the square root of its aspect ratio (aspect-ratio-adaptive normalisation, Liu et al.,
      *Pattern Recognition* 37, 2004): a narrow typed ``0`` widens towards a round one, a ``1``
      stays a bar;
    * strokes are grown or thinned to about ``stroke_px`` (measured as twice the ink area over the
      contour length);
    * each 4×4 block's ink pixels are counted, as the optdigits preprocessing does.

    Returns:
        ``float64`` array of shape ``(64,)``, or ``None`` for a bitmap without ink.
    """
    ys, xs = np.nonzero(bitmap)
    if not len(ys):
        return None
    digit = bitmap[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float32)
    h, w = digit.shape
    inner = BITMAP_SIDE - 2
    ratio = float(np.sqrt(min(h, w) / max(h, w)))
    nh, nw = (inner, max(1, int(round(inner * ratio)))) if h >= w else (max(1, int(round(inner * ratio))), inner)
    small = (cv2.resize(digit, (nw, nh), interpolation=cv2.INTER_AREA) >= 0.3).astype(np.uint8)
    out: np.ndarray = np.zeros((BITMAP_SIDE, BITMAP_SIDE), np.uint8)
    top, left = (BITMAP_SIDE - nh) // 2, (BITMAP_SIDE - nw) // 2
    out[top:top + nh, left:left + nw] = small
    change = int(round(stroke_px - stroke_width_px(out)))
    if change >= 1:
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (change + 1, change + 1)))
    elif change <= -2:
        thinner = cv2.erode(out, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (-change, -change)))
        out = thinner if thinner.any() else out
    return out.reshape(FEATURE_SIDE, 4, FEATURE_SIDE, 4).sum(axis=(1, 3)).astype(np.float64).reshape(-1)


def stroke_width_px(bitmap: np.ndarray) -> float:
    """Mean stroke width of a 0/1 bitmap in pixels: twice the ink area over the contour length."""
    area = float(bitmap.sum())
    if not area:
        return 0.0
    contours, _ = cv2.findContours(bitmap.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * area / max(perimeter, 1.0)


def training_set(stroke_px: float) -> tuple[np.ndarray, np.ndarray]:
    """``load_digits`` brought through :func:`bitmap_features`.

    Each 8×8 image (0-16) is enlarged to 32×32 and cut at half ink, then normalised as a cell is.
    Measured on 1,174 comb cells of ``samples.handwriting`` and typed scans (issue 3), this
    re-normalisation lifts handwritten cells from 34-37 % to 42-45 % right at the same typed
    accuracy (83-89 %); slanted copies of the training images did not help and tripled training time.

    Returns:
        Features ``(1797, 64)`` and digit labels ``(1797,)``.
    """
    digits = load_digits()
    rows: list[np.ndarray] = []
    labels: list[int] = []
    for image, label in zip(digits.images, digits.target, strict=True):
        big = cv2.resize(image.astype(np.float32) / 16.0, (BITMAP_SIDE, BITMAP_SIDE), interpolation=cv2.INTER_LINEAR)
        features = bitmap_features((big >= 0.5).astype(np.uint8), stroke_px)
        if features is not None:
            rows.append(features)
            labels.append(int(label))
    return np.vstack(rows), np.asarray(labels)


TYPED_DIGIT_SIZES_PT = (10.0, 11.0, 12.0)
"""Sizes the typed digits of the training set are rendered at: the form types comb digits at 11 pt
(``pipeline.render_form``), and other PDF tools fill a comb at 10-12 pt."""


def typed_digits(font: str = "Helvetica") -> tuple[list[np.ndarray], list[int]]:
    """Bitmaps of the digits 0-9 typed in the form's value font, rendered with ReportLab and pypdfium2.

    load_digits holds only handwriting; its writers' ``6`` and ``5`` are far from Helvetica's (typed
    cells read 84-87 % right without these, issue 3). Each digit is rendered at the sizes of
    :data:`TYPED_DIGIT_SIZES_PT` at 200 and 300 dpi, and once more thickened by a pixel (toner spread).

    Returns:
        0/1 bitmaps cropped to their ink, and their digits.
    """
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(40 * 10, 20 * len(TYPED_DIGIT_SIZES_PT)), invariant=1)
    for row, size in enumerate(TYPED_DIGIT_SIZES_PT):
        canvas.setFont(font, size)
        for d in range(10):
            canvas.drawCentredString(40 * d + 20, 20 * row + 5, str(d))
    canvas.showPage()
    canvas.save()
    pdf = buf.getvalue()
    bitmaps: list[np.ndarray] = []
    labels: list[int] = []
    for dpi in (200, 300):
        grey = rasterise_pdf_page(pdf, 1, dpi)
        s = dpi / 72
        for row in range(len(TYPED_DIGIT_SIZES_PT)):
            band = grey[grey.shape[0] - int((20 * row + 20) * s):grey.shape[0] - int(20 * row * s)]
            for d in range(10):
                ink = (band[:, int(40 * d * s):int(40 * (d + 1) * s)] < 128).astype(np.uint8)
                for variant in (ink, cv2.dilate(ink, np.ones((2, 2), np.uint8))):
                    bitmaps.append(variant)
                    labels.append(d)
    return bitmaps, labels


ICR_FONT_DIR = Path("/usr/share/fonts/opentype")
ICR_TRAINING_FONTS: tuple[tuple[str, str], ...] = (
    ("fonts-bwht", "bwht/BecauseWeBuild-Regular.otf"),
    ("fonts-bwht", "bwht/BecauseWeConnect-Regular.otf"),
    ("fonts-bwht", "bwht/BecauseWeCreate-Regular.otf"),
    ("fonts-bwht", "bwht/BecauseWeLearn-Regular.otf"),
    ("fonts-bwht", "bwht/BecauseWeMentor-Regular.otf"),
    ("fonts-bwht", "bwht/BecauseWeOrganize-Regular.otf"),
    ("fonts-dancingscript", "dancingscript/DancingScript-Regular.otf"),
    ("fonts-dancingscript", "dancingscript/DancingScript-Bold.otf"),
    ("fonts-comic-neue", "comic-neue/ComicNeue-Regular.otf"),
    ("fonts-comic-neue", "comic-neue/ComicNeue-Bold.otf"),
    ("fonts-comic-neue", "comic-neue/ComicNeue-Light.otf"),
    ("fonts-comic-neue", "comic-neue/ComicNeue-Italic.otf"),
    ("fonts-comic-neue", "comic-neue/ComicNeue-BoldItalic.otf"),
    ("fonts-comic-neue", "comic-neue/ComicNeue-LightItalic.otf"),
)
"""Debian package and path (under :data:`ICR_FONT_DIR`) of the hand-like fonts whose digits train the model.

None of them writes the sample forms (``samples.handwriting.HAND_FONTS``, checked by a test), so the
benchmark's handwritten forms stay unseen hands. Measured on the digits of 1,258 comb cells of
24 handwritten forms (issue 3, seed 2026): with them the model reads 94 % of scanned cells right
(84 % without) and 87 % of photographed ones (82 %), the cells cut from the grown comb mask."""
FONT_DIGIT_SIZE_PX = 64
"""Size at which a training font's digits are drawn before normalisation (large enough for thin strokes)."""
FONT_DIGIT_COPIES = 10
"""Distorted copies of each digit of each training font (the first undistorted): 30 copies read
0.3 % more cells right for twice the training time."""


def font_digits(copies: int = FONT_DIGIT_COPIES, seed: int = 0) -> tuple[list[np.ndarray], list[int]]:
    """Digits 0-9 of :data:`ICR_TRAINING_FONTS`, each drawn once and distorted ``copies - 1`` times.

    A distortion turns the digit by up to 10°, slants it by a shear up to 0.3, stretches it by
    0.8-1.2 across and 0.85-1.15 down and thickens (one, two px) or thins (one px) its strokes, as
    different writers' digits differ. Seeded: the same bitmaps on every run.
    A font that is not installed is skipped with a warning (``make system`` installs them).

    Returns:
        0/1 bitmaps cropped to their ink (pixels; the digits about ``FONT_DIGIT_SIZE_PX`` tall before
        distortion) and their digits.
    """
    rng = random.Random(seed)
    bitmaps: list[np.ndarray] = []
    labels: list[int] = []
    for package, name in ICR_TRAINING_FONTS:
        path = ICR_FONT_DIR / name
        if not path.is_file():
            logger.warning("ICR training font %s missing (Debian package %s): the digit model is trained without it",
                           path, package)
            continue
        font = ImageFont.truetype(str(path), FONT_DIGIT_SIZE_PX)
        for digit in range(10):
            drawn = _drawn_digit(font, digit)
            for k in range(copies):
                bitmaps.append(drawn if k == 0 else _distorted(drawn, rng))
                labels.append(digit)
    return bitmaps, labels


def _drawn_digit(font: ImageFont.FreeTypeFont, digit: int) -> np.ndarray:
    """One digit drawn white on black in ``font``, cropped to its ink (0/1)."""
    side = 2 * FONT_DIGIT_SIZE_PX
    canvas = Image.new("L", (side, side), 0)
    ImageDraw.Draw(canvas).text((side // 4, side // 8), str(digit), fill=255, font=font)
    return _cropped((np.asarray(canvas) > 127).astype(np.uint8))


def _distorted(bitmap: np.ndarray, rng: random.Random) -> np.ndarray:
    """``bitmap`` turned, slanted, stretched and its strokes thickened or thinned (see :func:`font_digits`)."""
    h, w = bitmap.shape
    pad = max(h, w)
    canvas = np.zeros((h + 2 * pad, w + 2 * pad), np.uint8)
    canvas[pad:pad + h, pad:pad + w] = bitmap
    centre = (canvas.shape[1] / 2, canvas.shape[0] / 2)
    matrix = cv2.getRotationMatrix2D(centre, rng.uniform(-10, 10), 1.0)
    shear = rng.uniform(-0.3, 0.3)
    matrix[0, 1] += shear
    matrix[0, 2] -= shear * centre[1]
    out = cv2.warpAffine(canvas, matrix, (canvas.shape[1], canvas.shape[0]), flags=cv2.INTER_NEAREST)
    out = cv2.resize(out, None, fx=rng.uniform(0.8, 1.2), fy=rng.uniform(0.85, 1.15), interpolation=cv2.INTER_NEAREST)
    pen = rng.choice((0, 0, 1, 2, -1))
    if pen > 0:
        out = cv2.dilate(out, np.ones((pen + 1, pen + 1), np.uint8))
    elif pen < 0:
        thinner = cv2.erode(out, np.ones((2, 2), np.uint8))
        out = thinner if thinner.any() else out
    return _cropped(out)


def _cropped(bitmap: np.ndarray) -> np.ndarray:
    """A 0/1 bitmap cut to its ink's bounding box (unchanged when it has none)."""
    ys, xs = np.nonzero(bitmap)
    if not len(ys):
        return bitmap
    return bitmap[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


@cache
def digit_model(stroke_px: float) -> Any:
    """The digit classifier, trained on first use (cached per process and pen width).

    Trained on :func:`training_set` (load_digits), :func:`typed_digits` (three copies each, so
    that the form's own typed digits weigh like a writer of load_digits) and :func:`font_digits`
    (hand-like fonts none of the sample forms is written in). An RBF support vector machine
    (``gamma=0.001``, scikit-learn's own digits example, about 99 % on held-out optdigits); about a
    second of CPU for 3,557 images, fonts drawn included.

    Returns:
        A fitted ``sklearn.svm.SVC``; :func:`digit_probabilities` turns its scores into probabilities.
    """
    features, labels = training_set(stroke_px)
    typed, typed_labels = typed_digits()
    typed_features = [bitmap_features(b, stroke_px) for b in typed]
    extra = np.vstack([f for f in typed_features if f is not None] * 3)
    extra_labels = np.asarray([d for f, d in zip(typed_features, typed_labels, strict=True) if f is not None] * 3)
    hand, hand_labels = font_digits()
    drawn = [(f, d) for f, d in zip((bitmap_features(b, stroke_px) for b in hand), hand_labels, strict=True)
             if f is not None]
    model = SVC(gamma=0.001, C=10.0, decision_function_shape="ovr")
    model.fit(np.vstack([features, extra, *(f[None, :] for f, _ in drawn)]),
              np.concatenate([labels, extra_labels, np.asarray([d for _, d in drawn], dtype=labels.dtype)]))
    return model


def digit_probabilities(features: Sequence[np.ndarray], icr: IcrSettings) -> np.ndarray:
    """Class probabilities of cells given as :func:`digit_features` vectors (model of ``icr.stroke_px``).

    The SVM's one-versus-rest scores go through a softmax at ``icr.score_temperature`` (scikit-learn's
    own Platt scaling refits the model on folds, several times slower, and is deprecated on ``SVC``).

    Returns:
        ``float`` array of shape ``(len(features), 10)``, rows summing to 1 (empty input gives ``(0, 10)``).
    """
    if not len(features):
        return np.zeros((0, 10))
    scores = np.asarray(digit_model(icr.stroke_px).decision_function(np.vstack(features)), np.float64)
    exp = np.exp((scores - scores.max(axis=1, keepdims=True)) / icr.score_temperature)
    return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class CellVote:
    """The decision on one comb cell.

    Attributes:
        digit: The digit given to the cell: tesseract's when it read one, else the model's.
        confidence: 0-1; high only when both readers agree (see :func:`agree`).
        agreed: Whether tesseract and the model read the same digit.
    """

    digit: str
    confidence: float
    agreed: bool


def agree(tesseract_digit: str | None, tesseract_confidence: float, probabilities: np.ndarray,
          icr: IcrSettings) -> CellVote:
    """Combine the two independent readers of one cell.

    A cell is confident only when tesseract read a digit, the model gives that same digit a
    probability of at least ``icr.agree_probability_min``, and tesseract's own confidence is at least
    ``icr.tesseract_confidence_min``; its confidence is then the lower of the two. Otherwise the cell's
    confidence is ``icr.disagree_confidence`` (below every review threshold).

    Args:
        tesseract_digit: The digit tesseract read for the cell, or ``None`` if it could not be
            placed in the cell (a digit lost or invented in the comb).
        tesseract_confidence: Tesseract's word confidence 0-1.
        probabilities: The model's ten class probabilities for the cell.
        icr: Thresholds.

    Returns:
        The cell's digit and confidence.
    """
    best = str(int(np.argmax(probabilities)))
    if tesseract_digit is None or not tesseract_digit.isdigit():
        return CellVote(best, icr.disagree_confidence, False)
    p = float(probabilities[int(tesseract_digit)])
    if p >= icr.agree_probability_min and tesseract_confidence >= icr.tesseract_confidence_min:
        return CellVote(tesseract_digit, min(p, tesseract_confidence), True)
    return CellVote(tesseract_digit, icr.disagree_confidence, best == tesseract_digit)


# --- Is a text zone handwritten? ---------------------------------------------------------------


def baseline_agreement(zone_mask: np.ndarray, px_per_pt: float, icr: IcrSettings) -> float | None:
    """Share of a zone's letters whose bottom lies on the zone's most common baseline.

    Letters are blobs of ink (8-connected) at least ``icr.letter_height_share`` as tall as the tallest
    and above ``icr.speck_max_pt2``; a letter is on the baseline when its bottom is within
    ``icr.baseline_tolerance_pt`` of the bottom shared by most letters. Typed text stands on one line
    (descenders and commas aside); a hand's letters wander.

    Args:
        zone_mask: ``uint8`` 0/1 ink mask of a text zone (dotted baseline left out).
        px_per_pt: Its scale.
        icr: Tolerances.

    Returns:
        0-1, or ``None`` when the zone has fewer than three letters (too few to tell).
    """
    count, _, stats, _ = cv2.connectedComponentsWithStats(zone_mask.astype(np.uint8), connectivity=8)
    if count < 4:
        return None
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    speck_px = icr.speck_max_pt2 * px_per_pt * px_per_pt
    letters = [i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] >= icr.letter_height_share * heights.max()
               and stats[i, cv2.CC_STAT_AREA] > speck_px]
    if len(letters) < 3:
        return None
    bottoms = np.array([stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] for i in letters], np.float64)
    tolerance = icr.baseline_tolerance_pt * px_per_pt
    return float(max(np.sum(np.abs(bottoms - b) <= tolerance) for b in bottoms) / len(bottoms))


@dataclass(frozen=True)
class RenderingMatch:
    """How a text zone's ink compares with its own reading typed in the form's value font.

    Attributes:
        f_measure: 0-1, harmonic mean of the share of the rendering's ink that lands on the zone's ink
            and the share of the zone's ink that the rendering covers, each within
            ``IcrSettings.typed_rendering_tolerance_pt``, at the best placement of the rendering.
        width_error_pt: Zone ink width minus rendered ink width, in PDF points.
        height_error_pt: Zone ink height minus rendered ink height, in PDF points.
    """

    f_measure: float
    width_error_pt: float
    height_error_pt: float

    def typed(self, icr: IcrSettings) -> bool:
        """Whether the zone is the reading typed in the value font (thresholds of ``icr``, see there)."""
        return (self.f_measure >= icr.typed_rendering_match_min
                and abs(self.width_error_pt) <= icr.typed_rendering_size_tolerance_pt
                and abs(self.height_error_pt) <= icr.typed_rendering_size_tolerance_pt)


def typed_rendering_match(zone_mask: np.ndarray, text: str, px_per_pt: float, icr: IcrSettings,
                          font: str = VALUE_FONT, size_pt: float = VALUE_FONT_SIZE_PT) -> RenderingMatch | None:
    """Verification by synthesis: the zone's reading typed again in the form's font, laid over its ink.

    A zone filled in the fillable PDF holds its value set in one known font at one known size
    (``pipeline.render_form``: Helvetica, 10 pt). Typing tesseract's reading the same way and sliding
    it over the zone, typed ink is met letter for letter, to within the blur of a phone photo; no
    hand writes a string as Helvetica at 10 pt, so handwriting is not (issue 3, seed 2026: 100 typed zones of
    phone photos, given their true value, 0.89-1.00; 262 handwritten zones of scans and photos, given their
    true value, at most 0.81; see ``IcrSettings.typed_rendering_match_min``).
    It settles the typed zones whose blurred letters merge into blobs that stray from
    :func:`baseline_agreement`'s single baseline.

    Args:
        zone_mask: ``uint8`` 0/1 ink mask of the text zone (as for :func:`baseline_agreement`).
        text: The zone's reading, words joined by spaces.
        px_per_pt: The mask's scale, pixels per PDF point.
        icr: Tolerances.
        font: ReportLab standard font name the form types values in.
        size_pt: Its size in PDF points.

    Returns:
        The match, or ``None`` when there is nothing to compare (no ink, no printable reading, or a
        reading the font cannot encode).
    """
    ink = zone_mask.astype(np.uint8)
    if not text.strip() or not ink.any():
        return None
    pad_px = round(RENDERING_PAD_PT * px_per_pt)
    padded = np.pad(ink, pad_px)
    height_pt, width_pt = padded.shape[0] / px_per_pt, padded.shape[1] / px_per_pt
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(width_pt, height_pt), invariant=1)
    try:
        canvas.setFont(font, size_pt)
        canvas.drawString(RENDERING_PAD_PT, (height_pt - size_pt) / 2, text)
        canvas.showPage()
        canvas.save()
    except (UnicodeEncodeError, KeyError):
        return None
    rendered = rasterise_pdf_page(buf.getvalue(), 1, px_per_pt * 72.0) < 128
    rows, cols = np.nonzero(rendered)
    if not len(rows):
        return None
    glyphs = rendered[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.uint8)
    if glyphs.shape[0] > padded.shape[0] or glyphs.shape[1] > padded.shape[1]:
        return None
    radius = max(1, round(icr.typed_rendering_tolerance_pt * px_per_pt))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near_ink = cv2.dilate(padded, disc)
    scores = cv2.matchTemplate(near_ink.astype(np.float32), glyphs.astype(np.float32), cv2.TM_CCORR)
    _, _, _, (x, y) = cv2.minMaxLoc(scores)
    placed = np.zeros_like(padded)
    placed[y:y + glyphs.shape[0], x:x + glyphs.shape[1]] = glyphs
    precision = float((placed & near_ink).sum() / placed.sum())
    recall = float((padded & cv2.dilate(placed, disc)).sum() / padded.sum())
    f_measure = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    ink_rows, ink_cols = np.nonzero(ink)
    return RenderingMatch(
        f_measure,
        (int(ink_cols.max() - ink_cols.min() + 1) - glyphs.shape[1]) / px_per_pt,
        (int(ink_rows.max() - ink_rows.min() + 1) - glyphs.shape[0]) / px_per_pt,
    )


RENDERING_PAD_PT = 6.0
"""Margin added round a zone so that its typed rendering can slide past the zone's edges (PDF points)."""


def looks_handwritten(zone_agreement: float | None, page_agreement: float | None, icr: IcrSettings) -> bool:
    """Whether a text zone is to be treated as handwritten.

    It is when its own letters stray from one baseline (:func:`baseline_agreement` under
    ``icr.typed_zone_agreement_min``) or when the page's zones do overall (their median under
    ``icr.typed_page_agreement_min``): a form filled by hand is filled by hand throughout, and a
    short handwritten word can look aligned by chance.

    Args:
        zone_agreement: The zone's baseline agreement, ``None`` if too few letters.
        page_agreement: Median over the page's inked text zones, ``None`` if none could be measured.
        icr: Thresholds.
    """
    if zone_agreement is not None and zone_agreement < icr.typed_zone_agreement_min:
        return True
    return page_agreement is not None and page_agreement < icr.typed_page_agreement_min
