"""Verification by synthesis chooses, span by span, between two readers' readings of a typed zone.

A zone filled in the fillable PDF holds its value typed in a known font at a known size
(:data:`pipeline.reading.scan.text_zones.TYPED_VALUE_FONTS`, 10 pt). When Tesseract and PP-OCRv6 read such a zone
differently and no witness of the field chose between them (:func:`pipeline.reading.scan.choices.choose_reading`),
each reading is typed again in that font, laid over the zone's ink at its best placement, and the two are compared
only where they differ (``CE1 B`` / ``CEI B``: the last glyph but two). The zone's ink decides each differing span
for the reading whose glyphs it meets better: the chamfer cost of a span (:func:`span_cost`) sums, over the span's
columns, how far each rendered pixel lies from the zone's ink and each ink pixel from the rendering, each distance
capped at ``IcrSettings.synthesis_cost_cap_pt``. A span is decided when one reading's cost there is lower by at least
``IcrSettings.synthesis_span_margin_min`` and that reading's glyphs fit the ink there
(``IcrSettings.synthesis_span_fit_min``, precision and recall within ``IcrSettings.typed_rendering_tolerance_pt``);
the value is then the common text with each span's winner, which may take spans from both readings (each reader
misreading a different letter). One undecided span leaves the zone held for a person.
The zone must be typed in the font: the better reading's f-measure over the whole zone at least
``IcrSettings.typed_rendering_match_min``, else nothing is chosen (a stamp over the zone, a hand).

The fit test keeps the choice from taking the lesser of two wrong readings: on a phone photo whose readers read
« l'oral Fléve » and « l'ornl. E léva » (truth « l'oral. Élève »), every span's winner fits the ink at 0.2-0.6.

Measured on 2026-12-06 on every typed zone whose two readers differed, outside pages received in halftone dots
(the page reader does not ask there, :func:`pipeline.reading.scan.page.text_fields_read`): the devset (31 zones) and
the project's own scans, photos, copies, faxes, stamps and hand marks of seeds 41, 43, 53 and 67, and photocopies of
seeds 59 and 2026 (139 zones). With the settings' thresholds: devset 8 decided, 8 right; own 35 decided, 35 right
(among them ``CEI``/``CE1`` on 1-bit and 100-lpi scans, ``Vatlant``/``Vaillant``, ``0.hoareau``/``o.hoareau``, a
speck read ``|`` at a value's end). With the span margin at 1.0: devset 10 right, own 43 right and 1 wrong, a
HEIC photo's ``directeur(tnce)`` for *directeur(trice)*, ``n`` leading ``ri`` by 1.5 (the two have the same advance
in the font); with the fit at 0.8 or 0.7 instead of 0.9: ``Georgés`` for *Georges* (a speck over the ``e`` of a
photocopy), ``Hugueș`` between two wrong readings. On generated forms with one letter of each typed zone misread
on purpose (``tests/pipeline/reading/scan/test_synthesis.py``), the halftone fax chose ``Míchelle`` over *Michelle*
at a margin of 3: its leftover dots fit an accent as a speck does, hence no choice on such pages. The 100-lpi fax
chose ``ÉIodie`` over *Élodie* (``I`` and ``l`` differ by a pixel there); its zones stay held by the low-resolution
hold (:func:`pipeline.reading.extract.doubt_text_zones`) whatever is chosen.

Read through the whole scan reader against the same commit without it (``bench.corpus``, every field): devset, no
field changed (its 8 zones were settled already by the witnesses, the third reading or the grey photo, or stay held by
other caps); own corpora above, 5 fields newly accepted, all right (4 on photocopies, an e-mail on a fit-to-page
scan), one 100-lpi fax's observation corrected but still held; no value wrong accepted in either. A zone costs about
45 ms of CPU (two renderings in each of two fonts, nine placements each), and a zone so decided is not read a third
time.
"""

from __future__ import annotations

import difflib
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.definition import VALUE_FONT_SIZE_PT
from pipeline.form.fonts import can_encode
from pipeline.form.template_image import rasterise_pdf_page
from pipeline.settings import IcrSettings

RENDERING_PAD_PT = 6.0
"""Margin added round a zone so that a rendering can slide past the zone's edges (PDF points)."""
RENDERING_HEIGHT_PT = 30.0
"""Height of the page a reading is typed on: room for the 10 pt value's accents and descenders."""
EMPTY_SPAN_PT = 2.0
"""A span one reading leaves empty (``rendez-vou`` / ``rendez-vous``) is compared over this much either side of
where the other reading's characters stand: about one glyph of the 10 pt value font."""
SPAN_MARGIN_PT = 0.5
"""Columns added each side of a span's glyphs, for the ink a glyph's neighbour shares with it."""


@dataclass(frozen=True)
class Rendering:
    """A reading typed in a value font, rasterised and trimmed to its ink.

    Attributes:
        glyphs: ``uint8`` 0/1 ink mask at the zone's scale.
        left_px: Column of the page the trimmed mask starts at (its first ink column), for the characters'
            positions (:meth:`column_of`).
        text: The reading.
        font: The face it was typed in (a ReportLab font name).
        px_per_pt: Its scale.
    """

    glyphs: np.ndarray
    left_px: int
    text: str
    font: str
    px_per_pt: float

    def column_of(self, index: int) -> float:
        """Column, in :attr:`glyphs`, of the left edge of the character at ``index`` of :attr:`text` (its advance
        from the start of the line, in the font's metrics); ``len(text)`` gives the line's end."""
        advance_pt = RENDERING_PAD_PT + stringWidth(self.text[:index], self.font, VALUE_FONT_SIZE_PT)
        return advance_pt * self.px_per_pt - self.left_px


@lru_cache(maxsize=64)
def render_reading(text: str, px_per_pt: float, font: str, ink_grey_max: int) -> Rendering | None:
    """``text`` typed in ``font`` at the value size on a white page, rasterised at ``px_per_pt``.

    Returns:
        The rendering, or ``None`` when it draws no ink (white space only).

    Raises:
        pipeline.form.fonts.FormFontMissingError: The font is not installed.
    """
    width_pt = stringWidth(text, font, VALUE_FONT_SIZE_PT) + 2 * RENDERING_PAD_PT
    buf = io.BytesIO()
    canvas = Canvas(buf, pagesize=(width_pt, RENDERING_HEIGHT_PT), invariant=1, initialFontName=font,
                    pageCompression=0)
    canvas.setFont(font, VALUE_FONT_SIZE_PT)
    canvas.drawString(RENDERING_PAD_PT, (RENDERING_HEIGHT_PT - VALUE_FONT_SIZE_PT) / 2, text)
    canvas.showPage()
    canvas.save()
    ink = rasterise_pdf_page(buf.getvalue(), 1, px_per_pt * 72.0) < ink_grey_max
    rows, cols = np.nonzero(ink)
    if not len(rows):
        return None
    glyphs = ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.uint8)
    return Rendering(glyphs, int(cols.min()), text, font, px_per_pt)


class ZoneInk:
    """A zone's ink, padded by :data:`RENDERING_PAD_PT`, with what every placement of a rendering is measured by.

    Attributes:
        ink: ``uint8`` 0/1 mask, padded.
        near: The ink grown by ``IcrSettings.typed_rendering_tolerance_pt``.
        distance: Each pixel's distance to the nearest ink pixel, in pixels, capped at
            ``IcrSettings.synthesis_cost_cap_pt``.
    """

    def __init__(self, zone: np.ndarray, px_per_pt: float, icr: IcrSettings) -> None:
        self.px_per_pt = px_per_pt
        self.ink: np.ndarray = np.pad(zone.astype(np.uint8), round(RENDERING_PAD_PT * px_per_pt))
        radius = max(1, round(icr.typed_rendering_tolerance_pt * px_per_pt))
        self.disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        self.near: np.ndarray = cv2.dilate(self.ink, self.disc)
        self.cap_px = icr.synthesis_cost_cap_pt * px_per_pt
        self.distance = capped_distance(self.ink, self.cap_px)


def capped_distance(mask: np.ndarray, cap_px: float) -> np.ndarray:
    """Each pixel's Euclidean distance (pixels) to the nearest set pixel of the 0/1 ``mask``, at most ``cap_px``."""
    return np.minimum(cv2.distanceTransform((1 - mask).astype(np.uint8), cv2.DIST_L2, 3), cap_px)


@dataclass
class Placement:
    """A rendering laid over a zone's ink where it meets it best.

    Attributes:
        rendering: What was laid.
        x_px: Column of the padded zone its glyphs start at.
        placed: The glyphs as a mask the padded zone's size.
        distance: Each pixel's capped distance to the placed glyphs (:func:`capped_distance`).
        near: The placed glyphs grown by the tolerance.
        f_measure: 0-1, over the whole zone: the share of rendered ink near the zone's ink and the share of the zone's
            ink near the rendering, harmonic mean.
    """

    rendering: Rendering
    x_px: int
    placed: np.ndarray
    distance: np.ndarray
    near: np.ndarray
    f_measure: float


def place(zone: ZoneInk, rendering: Rendering) -> Placement | None:
    """Lay ``rendering`` over ``zone``: the offset where most of its glyphs meet the grown ink (cross-correlation),
    then the one of its eight neighbours and itself with the least chamfer cost over the zone.

    Returns:
        The placement, or ``None`` when the rendering is larger than the padded zone.
    """
    glyphs = rendering.glyphs
    if glyphs.shape[0] > zone.ink.shape[0] or glyphs.shape[1] > zone.ink.shape[1]:
        return None
    scores = cv2.matchTemplate(zone.near.astype(np.float32), glyphs.astype(np.float32), cv2.TM_CCORR)
    _, _, _, (x0, y0) = cv2.minMaxLoc(scores)
    best: tuple[float, int, np.ndarray, np.ndarray] | None = None
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            x, y = x0 + dx, y0 + dy
            if x < 0 or y < 0 or y + glyphs.shape[0] > zone.ink.shape[0] or x + glyphs.shape[1] > zone.ink.shape[1]:
                continue
            placed = np.zeros_like(zone.ink)
            placed[y:y + glyphs.shape[0], x:x + glyphs.shape[1]] = glyphs
            distance = capped_distance(placed, zone.cap_px)
            cost = float(zone.distance[placed > 0].sum() + distance[zone.ink > 0].sum())
            if best is None or cost < best[0]:
                best = (cost, x, placed, distance)
    if best is None:
        return None
    _, x, placed, distance = best
    near: np.ndarray = cv2.dilate(placed, zone.disc)
    precision = float((placed & zone.near).sum() / max(1, int(placed.sum())))
    recall = float((zone.ink & near).sum() / max(1, int(zone.ink.sum())))
    f_measure = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Placement(rendering, x, placed, distance, near, f_measure)


@dataclass(frozen=True)
class SpanFit:
    """How one placed reading meets the zone's ink over a span's columns.

    Attributes:
        cost: Chamfer cost over the columns (:func:`span_cost`), in pt³ (distance in pt times area in pt²).
        precision: Share of the reading's glyphs there within the tolerance of ink (1 when it draws none there).
        recall: Share of the ink there within the tolerance of its glyphs (1 when there is no ink there).
    """

    cost: float
    precision: float
    recall: float

    def fits(self, icr: IcrSettings) -> bool:
        """Whether both shares reach ``icr.synthesis_span_fit_min``."""
        return min(self.precision, self.recall) >= icr.synthesis_span_fit_min


def span_cost(zone: ZoneInk, placement: Placement, columns: np.ndarray) -> SpanFit:
    """The fit of ``placement`` over the padded zone's ``columns`` (a boolean mask over its width)."""
    glyphs, ink = placement.placed[:, columns], zone.ink[:, columns]
    cost = float(zone.distance[:, columns][glyphs > 0].sum() + placement.distance[:, columns][ink > 0].sum())
    drawn, inked = int(glyphs.sum()), int(ink.sum())
    precision = float((glyphs & zone.near[:, columns]).sum() / drawn) if drawn else 1.0
    recall = float((ink & placement.near[:, columns]).sum() / inked) if inked else 1.0
    return SpanFit(cost / zone.px_per_pt ** 3, precision, recall)


@dataclass(frozen=True)
class SpanVerdict:
    """One span where two readings differ, and how the zone's ink judged it.

    Attributes:
        first: The first reading's characters there (``""`` when it has none).
        second: The second reading's.
        first_fit: The first reading's fit there.
        second_fit: The second reading's.
        winner: ``first`` or ``second``, whichever's cost is lower; the span is decided only when :meth:`decided`.
    """

    first: str
    second: str
    first_fit: SpanFit
    second_fit: SpanFit

    @property
    def winner(self) -> str:
        """The characters of the reading with the lower cost."""
        return self.first if self.first_fit.cost <= self.second_fit.cost else self.second

    def decided(self, icr: IcrSettings) -> bool:
        """Whether the winner leads by ``icr.synthesis_span_margin_min`` and fits the ink (:meth:`SpanFit.fits`)."""
        low, high = sorted((self.first_fit, self.second_fit), key=lambda fit: fit.cost)
        return high.cost - low.cost >= icr.synthesis_span_margin_min and low.fits(icr)


@dataclass(frozen=True)
class SynthesisChoice:
    """What verification by synthesis made of two readings.

    Attributes:
        value: The common text with each span's winner; meaningful only when :attr:`decided`.
        font: The value font the zone was typed in (the better reading's best fit).
        f_measure: That reading's fit over the whole zone, 0-1.
        spans: Each differing span, in order.
        decided: Whether the zone is typed in the font and every span is decided.
    """

    value: str
    font: str
    f_measure: float
    spans: tuple[SpanVerdict, ...]
    decided: bool


def differing_spans(first: str, second: str) -> list[tuple[int, int, int, int]]:
    """The character spans where two readings differ: ``(i1, i2, j1, j2)``, ``first[i1:i2]`` against
    ``second[j1:j2]`` (Python's ``difflib``, no junk heuristic), in order."""
    matcher = difflib.SequenceMatcher(None, first, second, autojunk=False)
    return [(i1, i2, j1, j2) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


def span_columns(placements: Sequence[tuple[Placement, int, int]], width: int) -> np.ndarray:
    """The padded zone's columns a span covers: for each placed reading and its span ``[start, end)``, its glyphs'
    columns plus :data:`SPAN_MARGIN_PT` each side, or :data:`EMPTY_SPAN_PT` each side of where an empty span stands;
    the union over readings (a boolean mask ``width`` long)."""
    columns = np.zeros(width, dtype=bool)
    for placement, start, end in placements:
        scale = placement.rendering.px_per_pt
        left = placement.x_px + placement.rendering.column_of(start)
        right = placement.x_px + placement.rendering.column_of(end)
        pad = (EMPTY_SPAN_PT if start == end else SPAN_MARGIN_PT) * scale
        columns[max(0, int(np.floor(left - pad))):max(0, int(np.ceil(right + pad)))] = True
    return columns


def choose_by_synthesis(zone: np.ndarray, first: str, second: str, px_per_pt: float, fonts: Sequence[str],
                        icr: IcrSettings) -> SynthesisChoice | None:
    """Choose, span by span, between two readings of a typed zone by laying each over the zone's ink.

    Args:
        zone: ``uint8`` 0/1 ink mask of the zone's writing area (:func:`pipeline.reading.scan.streaks.zone_ink`).
        first: One reading (Tesseract's, after the field's repairs).
        second: The other (PP-OCRv6's, after the same repairs).
        px_per_pt: The mask's scale, pixels per PDF point.
        fonts: The faces the value may be typed in (ReportLab names); the one the better reading fits best is used.
        icr: Tolerances, margins and the typed-match threshold.

    Returns:
        The choice (see :attr:`SynthesisChoice.decided`), or ``None`` when there is nothing to compare: equal or
        empty readings, no ink, or no font that draws both.

    Raises:
        pipeline.form.fonts.FormFontMissingError: A value font is not installed.
    """
    if not first or not second or first == second or not zone.any():
        return None
    ink = ZoneInk(zone, px_per_pt, icr)
    best: tuple[float, str, Placement, Placement] | None = None
    for font in fonts:
        if not (can_encode(first, font) and can_encode(second, font)):
            continue
        renderings = [render_reading(t, px_per_pt, font, icr.rendering_ink_grey_max) for t in (first, second)]
        placements = [place(ink, r) for r in renderings if r is not None]
        if len(placements) != 2 or placements[0] is None or placements[1] is None:
            continue
        fit = max(p.f_measure for p in placements if p is not None)
        if best is None or fit > best[0]:
            best = (fit, font, placements[0], placements[1])
    if best is None:
        return None
    fit, font, a, b = best
    verdicts: list[SpanVerdict] = []
    parts: list[str] = []
    done = 0
    for i1, i2, j1, j2 in differing_spans(first, second):
        columns = span_columns([(a, i1, i2), (b, j1, j2)], ink.ink.shape[1])
        verdict = SpanVerdict(first[i1:i2], second[j1:j2], span_cost(ink, a, columns), span_cost(ink, b, columns))
        verdicts.append(verdict)
        parts += [first[done:i1], verdict.winner]
        done = i2
    parts.append(first[done:])
    decided = fit >= icr.typed_rendering_match_min and all(v.decided(icr) for v in verdicts)
    return SynthesisChoice("".join(parts), font, fit, tuple(verdicts), decided)
