"""Register a born-digital page's text layer to the form before its zones are cut.

A text PDF's coordinates are those of whoever made it: a MediaBox that does not start
at (0, 0), a CropBox inside a larger page, the form printed to Letter with "fit to page"
(about 94 % and centred) or shifted by a few points all move every word away from the
zone the definition names (issue 16: the surname read as « X par Enseignant(e) »).

The form's printed label words are the landmarks: the definition knows each static text,
its font and its baseline (:mod:`pipeline.form.definition`), so the centre of each of its
words on the blank form follows from the font's metrics, as ReportLab drew it and as
pdfminer measures it (box of height = font size, bottom at the baseline less the
descent). The printed footer, centred on the page whatever its serial, is one more
landmark. Words that spell a label word found once on the page and once on the form are
paired; OpenCV's RANSAC fits a similarity transform (scale, rotation, shift) from the
page's points to the form's; the fit is accepted only when enough labels agree closely
(:class:`pipeline.settings.TextLayerSettings`). Otherwise the caller reads the page as a
scan.

Measured (issue 16): the project's own 20 fillable and 20 text PDFs (seed 2026) register as the
identity, residual under 1e-13 pt, every paired label an inlier (111-116 pairs on page 1, 52 on
page 2); so do the devset's ``digital`` and ``printed`` PDFs (116/52 and 113/52 pairs). The same
forms with a MediaBox offset, a CropBox inside a larger page, fit to Letter or shifted 6 pt register
with the applied transform (``tests/pipeline/reading/test_text_register.py``); squeezed on one axis
only, they do not, and are read as scans.

Units: PDF points throughout, top-left origin (pdfplumber's ``x0, top, x1, bottom``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np
from reportlab.pdfbase import pdfmetrics

from pipeline.form.definition import FOOTER_BASELINE_PT, PAGE_WIDTH_PT, FormDefinition
from pipeline.settings import TextLayerSettings

FOOTER_FONT = "Helvetica"
FOOTER_SIZE_PT = 6.5
"""Font and size of the footer that repeats the QR payload (``pipeline.form.render._draw_marks``)."""
_FOOTER_RE = re.compile(r"^CLASFO\|v\d+\|")


@dataclass(frozen=True)
class LabelWord:
    """One word of the form's printed text, where the blank form has it.

    Attributes:
        text: The word as pdfplumber splits it (on white space).
        x_pt: Centre of its box, PDF points from the left edge.
        y_pt: Centre of its box, PDF points from the top edge.
    """

    text: str
    x_pt: float
    y_pt: float


@dataclass(frozen=True)
class TextRegistration:
    """A similarity transform from a page's text-layer coordinates to the form's.

    Attributes:
        matrix: 2×3 affine matrix (``[[a, -b, tx], [b, a, ty]]``) taking a page point (pt) to the form (pt).
        inliers: Label words that agree with the fit.
        matched: Label words paired between the page and the form.
        rms_pt: Root-mean-square residual of the inliers, PDF points.
        scale: The fit's scale (page to form; 1.06 for an A4 form printed to Letter "fit to page").
    """

    matrix: tuple[tuple[float, float, float], tuple[float, float, float]]
    inliers: int
    matched: int
    rms_pt: float
    scale: float

    def apply(self, x: float, y: float) -> tuple[float, float]:
        """The form point (pt) of the page point ``(x, y)`` (pt)."""
        (a, b, c), (d, e, f) = self.matrix
        return a * x + b * y + c, d * x + e * y + f

    def transform(self, objs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """pdfplumber objects (words, chars, curves) with ``x0, top, x1, bottom`` moved to the form's frame.

        The new box is the axis-aligned box of the four moved corners; a drawing's points (``pts``) are moved
        too; every other key is kept.
        """
        out = []
        for obj in objs:
            x0, top, x1, bottom = (float(obj[k]) for k in ("x0", "top", "x1", "bottom"))
            corners = [self.apply(x, y) for x in (x0, x1) for y in (top, bottom)]
            xs, ys = [p[0] for p in corners], [p[1] for p in corners]
            moved = {**obj, "x0": min(xs), "x1": max(xs), "top": min(ys), "bottom": max(ys)}
            if obj.get("pts"):
                moved["pts"] = [self.apply(float(x), float(y)) for x, y in obj["pts"]]
            out.append(moved)
        return out


def _word_centres(text: str, x_pt: float, baseline_pt: float, font: str, size: float) -> list[LabelWord]:
    """Centres of the words of a string drawn by ReportLab at ``(x_pt, baseline_pt)`` (pt, top-left origin).

    pdfminer gives each character a box of height ``size`` whose bottom is the baseline less the font's
    descent (AFM ``Descender``, -207/1000 for Helvetica), so the centre lies ``size/2 + descent`` above it.
    """
    descent = pdfmetrics.getFont(font).face.descent / 1000.0 * size  # negative: below the baseline
    y = baseline_pt - descent - size / 2
    words = []
    offset = 0.0
    for token in text.split(" "):
        if token:
            width = pdfmetrics.stringWidth(token, font, size)
            words.append(LabelWord(token, x_pt + offset + width / 2, y))
        offset += pdfmetrics.stringWidth(token + " ", font, size)
    return words


@cache
def label_words(definition: FormDefinition, page: int) -> tuple[LabelWord, ...]:
    """Every printed word of ``page`` (1-based) of the form, static texts and footer, centres in points.

    The footer is one word (its payload has no space) whose centre is the page's centre line whatever
    its serial; its text here is its constant prefix, matched by :func:`register_text_layer`.
    """
    words: list[LabelWord] = []
    for t in definition.texts:
        if t.page == page:
            words += _word_centres(t.text, t.x_pt, t.baseline_pt, "Helvetica-Bold" if t.bold else "Helvetica",
                                   t.size)
    descent = pdfmetrics.getFont(FOOTER_FONT).face.descent / 1000.0 * FOOTER_SIZE_PT
    words.append(LabelWord("CLASFO|", PAGE_WIDTH_PT / 2, FOOTER_BASELINE_PT - descent - FOOTER_SIZE_PT / 2))
    return tuple(words)


def _key(text: str) -> str:
    """The text a page word is paired on: the footer by its prefix, any other word as it is."""
    return "CLASFO|" if _FOOTER_RE.match(text) else text


def pair_labels(words: Sequence[Mapping[str, Any]], labels: Sequence[LabelWord]
                ) -> list[tuple[tuple[float, float], LabelWord]]:
    """Page words paired with the label words they spell, when the text occurs once on each side.

    Args:
        words: pdfplumber words (``text``, ``x0``, ``top``, ``x1``, ``bottom``; points, page frame).
        labels: The page's label words (:func:`label_words`).

    Returns:
        ``((x, y) centre on the page, label)`` pairs. Words of one or two characters (``M``, ``F``, ``/``)
        are left out: too common in values to name a place.
    """
    form_count = Counter(w.text for w in labels)
    page_count = Counter(_key(str(w["text"])) for w in words)
    by_text = {w.text: w for w in labels if form_count[w.text] == 1 and len(w.text) > 2}
    pairs = []
    for w in words:
        key = _key(str(w["text"]))
        if key in by_text and page_count[key] == 1:
            centre = ((float(w["x0"]) + float(w["x1"])) / 2, (float(w["top"]) + float(w["bottom"])) / 2)
            pairs.append((centre, by_text[key]))
    return pairs


def register_text_layer(words: Sequence[Mapping[str, Any]], definition: FormDefinition, page: int,
                        text_layer: TextLayerSettings | None = None) -> TextRegistration | None:
    """Fit the page's text layer to the form on its printed labels.

    Args:
        words: pdfplumber words of the page (points, the page's own frame).
        definition: The form.
        page: 1-based page of the form the page was identified as.
        text_layer: Thresholds (``register_*`` fields).

    Returns:
        The page-to-form transform, or ``None`` when too few labels pair, too few agree, their residual is too
        large or the scale is out of range: the text layer cannot be placed and the page is read as a scan.
    """
    text_layer = text_layer or TextLayerSettings()
    pairs = pair_labels(words, label_words(definition, page))
    if len(pairs) < text_layer.register_min_labels:
        return None
    src = np.array([p for p, _ in pairs], dtype=np.float64)
    dst = np.array([(w.x_pt, w.y_pt) for _, w in pairs], dtype=np.float64)
    matrix, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                               ransacReprojThreshold=text_layer.register_ransac_pt,
                                               maxIters=2000, confidence=0.999, refineIters=10)
    if matrix is None or mask is None:
        return None
    inlier = mask.ravel().astype(bool)
    n_in = int(inlier.sum())
    moved = src @ matrix[:, :2].T + matrix[:, 2]
    residual = np.linalg.norm(moved - dst, axis=1)
    rms = float(np.sqrt(np.mean(residual[inlier] ** 2))) if n_in else float("inf")
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    if (n_in < text_layer.register_min_labels or n_in < text_layer.register_min_inlier_share * len(pairs)
            or rms > text_layer.register_max_rms_pt
            or not text_layer.register_scale_min <= scale <= text_layer.register_scale_max):
        return None
    rows = tuple(tuple(float(v) for v in row) for row in matrix)
    return TextRegistration((rows[0], rows[1]), n_in, len(pairs), rms, scale)  # type: ignore[arg-type]


def label_in_zone(zone_words: Sequence[Mapping[str, Any]], page_words: Sequence[Mapping[str, Any]],
                  labels: Sequence[LabelWord], tolerance_pt: float) -> bool:
    """Whether a zone holds the form's printed label text rather than a value.

    A zone word (form frame, points) that spells a label word of three letters or more is label text when it
    lies within ``tolerance_pt`` of one of that word's printed places, or when no word of the page lies at
    any of them (the label was moved into the zone). A registered page of the project's own samples and of
    the devset's two PDFs has every label at its place, outside every zone: nothing is held there.

    Args:
        zone_words: The words cut from the zone.
        page_words: Every word of the page, same frame.
        labels: The page's label words (:func:`label_words`).
        tolerance_pt: ``TextLayerSettings.label_match_pt``.
    """
    places: dict[str, list[LabelWord]] = {}
    for lw in labels:
        if len(lw.text) > 2:
            places.setdefault(lw.text, []).append(lw)

    def near(w: Mapping[str, Any], lw: LabelWord) -> bool:
        x = (float(w["x0"]) + float(w["x1"])) / 2
        y = (float(w["top"]) + float(w["bottom"])) / 2
        return abs(lw.x_pt - x) <= tolerance_pt and abs(lw.y_pt - y) <= tolerance_pt

    for w in zone_words:
        spots = places.get(str(w["text"]), [])
        if any(near(w, lw) for lw in spots):
            return True
        if spots and not any(near(pw, lw) for lw in spots for pw in page_words if pw["text"] == w["text"]):
            return True
    return False
