"""ICR for comb cells: one digit per cell, read by a small model trained on scikit-learn's digits.

Tesseract reads handwritten digits poorly and, worse, sometimes confidently wrong. A comb cell
holds a single character, so a digit classifier can read it independently: the ink of each cell
(``pipeline.reading.scan.comb_cells``) is reduced to the 8×8, 0-16 grey format of
``sklearn.datasets.load_digits`` (the UCI "optdigits" preprocessing: the digit's bounding box
scaled into 32×32, counted in 4×4 blocks) and given ten class probabilities. The comb reader
(``pipeline.reading.scan.combs``) accepts a cell only when this model and tesseract agree
(:func:`agree`).

The model is trained once per process on first use (about a second, on the 1,797 images shipped
inside scikit-learn, the form's typed digits and digits drawn in hand-like Debian fonts none of the sample
forms is written in: no download, nothing persisted).

Steps: ``comb_cells_ink`` → ``digit_features`` → ``digit_probabilities`` → ``agree``.
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
# reading workers are forked from a server that has already imported the readers (``pipeline.reading.limits``),
# so a module-level import is paid once per run instead of once per document.
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from pipeline.form.fonts import VALUE_FONT, form_font
from pipeline.form.template_image import rasterise_pdf_page
from pipeline.settings import IcrSettings

logger = logging.getLogger(__name__)


FEATURE_SIDE = 8


"""``load_digits`` images are 8×8 blocks of a 32×32 bitmap, each 0-16 (ink pixels of a 4×4 block)."""


BITMAP_SIDE = 32


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
(``pipeline.form.render``), and other PDF tools fill a comb at 10-12 pt."""


def typed_digits(font: str = VALUE_FONT) -> tuple[list[np.ndarray], list[int]]:
    """Bitmaps of the digits 0-9 typed in the form's value font, rendered with ReportLab and pypdfium2.

    load_digits holds only handwriting; its writers' ``6`` and ``5`` are far from Helvetica's (typed
    cells read 84-87 % right without these, issue 3). Each digit is rendered at the sizes of
    :data:`TYPED_DIGIT_SIZES_PT` at 200 and 300 dpi, and once more thickened by a pixel (toner spread),
    in the form's embedded font file (:mod:`pipeline.form.fonts`), so the model is the same on every machine.

    Args:
        font: Face of :mod:`pipeline.form.fonts`.

    Returns:
        0/1 bitmaps cropped to their ink, and their digits.

    Raises:
        pipeline.form.fonts.FormFontMissingError: The form's font is not installed.
    """
    form_font(font)
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(40 * 10, 20 * len(TYPED_DIGIT_SIZES_PT)), invariant=1, initialFontName=font)
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
