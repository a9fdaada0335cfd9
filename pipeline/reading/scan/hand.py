"""Typed or handwritten: telling a text zone's hand apart, without reading it.

:func:`baseline_agreement` measures how many letters of a zone stand on one baseline (typed
text: nearly all; a hand: far fewer); :func:`typed_rendering_match` compares a zone's ink with
its reading typed again in the form's font (verification by synthesis). A zone taken as
handwritten is held under the review threshold by the page reader (:func:`looks_handwritten`).
"""


from __future__ import annotations

import io
import logging
from dataclasses import dataclass

import cv2
import numpy as np
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.definition import VALUE_FONT_SIZE_PT
from pipeline.form.fonts import VALUE_FONT, can_encode
from pipeline.form.template_image import rasterise_pdf_page
from pipeline.settings import IcrSettings

logger = logging.getLogger(__name__)


DESCENDERS = frozenset("gjpqyçQ()[]{}|@")
"""Characters whose typed glyph goes below the baseline in the value fonts (Liberation Sans, DejaVu Sans): a
typed zone's letters that do not stand on its baseline are these (:func:`baseline_agreement`)."""


def baseline_agreement(zone_mask: np.ndarray, px_per_pt: float, icr: IcrSettings, reading: str = "") -> float | None:
    """Share of a zone's letters whose bottom lies on the zone's most common baseline, or that its reading's
    descenders account for.

    Letters are blobs of ink (8-connected) at least ``icr.letter_height_share`` as tall as the tallest
    and above ``icr.speck_max_pt2``; a letter is on the baseline when its bottom is within
    ``icr.baseline_tolerance_pt`` of the bottom shared by most letters. Typed text stands on one line; a hand's
    letters wander.

    Type's own exceptions are its descenders: ``Tanguy`` typed has two letters of six below the line, 0.67,
    under ``icr.typed_zone_agreement_min``, and it was held as handwriting on a typed phone photo. Given the
    zone's ``reading``, up to as many letters off the baseline as it has :data:`DESCENDERS` count as standing
    on it (blobs merged by blur hold at most one descender each). Measured on both corpora at 22b175e, text zones
    with three letters or more (``/tmp`` capture of each zone's ink and tesseract reading, not kept):
    typed zones judged handwritten by their zone, devset 5 → 1 of 265, own samples (seed 2026, 3 forms of each
    scan, photo and copy kind) 24 → 12 of 497; handwritten zones on pages whose median agreement looks typed, the
    only ones the zone's own test decides, caught 4 → 2 of 33 (devset, Comic Neue hand; the project's samples have
    none). The page's agreement (:func:`pipeline.reading.scan.page.judge_hands`) is measured without it.

    A blob that runs from the zone's top row to its bottom row is not one of its letters: the zone is cut around
    one line of writing (:func:`pipeline.reading.scan.streaks.zone_ink`), and what crosses it whole is a copier's
    streak (alone, or merged with the letter it runs through) or a stroke from outside. Counted, a streak's piece
    is the zone's tallest blob: the letters' height threshold (``icr.letter_height_share`` of the tallest) then
    leaves out the real letters, and the zone's agreement is the streak pieces' own. On the project's
    ``scan_photocopy`` of seed 53 (3 forms, made after the rule was written) two typed pages had a median agreement of
    0.81 and 0.83 for that: both were judged filled by hand and every text field held (13 fields to check a form,
    median). Measured at 460c39d, every field through ``bench.corpus``'s reading: there, 23 fields out of the hold,
    22 right and one address a name vouched for wrongly (:func:`pipeline.deciding.crosscheck.vouch_email`, mended
    with it), fields to check 13 → 4 a form; the devset (40 referrals, 23 by hand) and the project's handwritten
    seeds 31 and 53 (36 forms): no field changed; its typed scans of seed 41 (27 forms): one stamped school, held
    for the stamp, now decoded right against the directory. The same holds of what else is judged here: a hand
    large enough to overflow its zone above and below loses those letters from the count, and so does a comb's digit
    that fills its stacked cells' height (``pipeline.reading.scan.combs``); the figures above include both.

    Args:
        zone_mask: ``uint8`` 0/1 ink mask of a text zone (dotted baseline left out).
        px_per_pt: Its scale.
        icr: Tolerances.
        reading: What a reader read in the zone (empty: no letter is excused).

    Returns:
        0-1, or ``None`` when the zone has fewer than ``icr.agreement_letters_min`` (three) letters: too few
        to tell.
    """
    counts = baseline_counts(zone_mask, px_per_pt, icr)
    return None if counts is None else agreement_of(counts, reading)


def baseline_counts(zone_mask: np.ndarray, px_per_pt: float, icr: IcrSettings) -> tuple[int, int] | None:
    """The zone's letters standing on its most common baseline, and its letters: ``(standing, letters)``, or
    ``None`` when too few to tell (see :func:`baseline_agreement`, which derives the agreement from them)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(zone_mask.astype(np.uint8), connectivity=8)
    if count - 1 < icr.agreement_letters_min:  # label 0 is the background
        return None
    # A blob from the zone's top row to its bottom row crosses the line: no letter (see the docstring).
    within = [i for i in range(1, count) if stats[i, cv2.CC_STAT_HEIGHT] < zone_mask.shape[0]]
    if len(within) < icr.agreement_letters_min:
        return None
    heights = stats[within, cv2.CC_STAT_HEIGHT]
    speck_px = icr.speck_max_pt2 * px_per_pt * px_per_pt
    tallest = max(float(heights.max()) * icr.letter_height_share, icr.letter_min_height_pt * px_per_pt)
    letters = [i for i in within if stats[i, cv2.CC_STAT_HEIGHT] >= tallest
               and stats[i, cv2.CC_STAT_AREA] > speck_px]
    if len(letters) < icr.agreement_letters_min:
        return None
    bottoms = np.array([stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] for i in letters], np.float64)
    tolerance = icr.baseline_tolerance_pt * px_per_pt
    return int(max(np.sum(np.abs(bottoms - b) <= tolerance) for b in bottoms)), len(bottoms)


def agreement_of(counts: tuple[int, int], reading: str = "") -> float:
    """Baseline agreement (0-1) from :func:`baseline_counts`, ``reading``'s descenders excused (see
    :func:`baseline_agreement`)."""
    standing, letters = counts
    excused = min(letters - standing, sum(ch in DESCENDERS for ch in reading))
    return (standing + excused) / letters


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
    (``pipeline.form.render``: Liberation Sans, Helvetica's metrics, 10 pt). Typing tesseract's reading the
    same way, in that font's embedded file (:mod:`pipeline.form.fonts`, the same on every machine), and
    sliding it over the zone, typed ink is met letter for letter, to within the blur of a phone photo; no
    hand writes a string as Helvetica at 10 pt, so handwriting is not (issue 3, seed 2026: 100 typed zones of
    phone photos, given their true value, 0.89-1.00; 262 handwritten zones of scans and photos, given their
    true value, at most 0.81; see ``IcrSettings.typed_rendering_match_min``).
    It settles the typed zones whose blurred letters merge into blobs that stray from
    :func:`baseline_agreement`'s single baseline.

    Args:
        zone_mask: ``uint8`` 0/1 ink mask of the text zone (as for :func:`baseline_agreement`).
        text: The zone's reading, words joined by spaces.
        px_per_pt: The mask's scale, pixels per PDF point.
        icr: Tolerances and ``rendering_ink_grey_max``.
        font: Face of :mod:`pipeline.form.fonts` the form types values in.
        size_pt: Its size in PDF points.

    Returns:
        The match, or ``None`` when there is nothing to compare (no ink, no printable reading, or a
        reading the font has no glyph for).

    Raises:
        pipeline.form.fonts.FormFontMissingError: The form's font is not installed.
    """
    ink = zone_mask.astype(np.uint8)
    if not text.strip() or not ink.any() or not can_encode(text, font):
        return None
    pad_px = round(RENDERING_PAD_PT * px_per_pt)
    padded = np.pad(ink, pad_px)
    height_pt, width_pt = padded.shape[0] / px_per_pt, padded.shape[1] / px_per_pt
    buf = io.BytesIO()
    # Uncompressed: the PDF lives for one rasterisation, and compressing its embedded font subset cost a
    # fifth of the call (2 of 10 ms of CPU, issue 16).
    canvas = Canvas(buf, pagesize=(width_pt, height_pt), invariant=1, initialFontName=font, pageCompression=0)
    canvas.setFont(font, size_pt)
    canvas.drawString(RENDERING_PAD_PT, (height_pt - size_pt) / 2, text)
    canvas.showPage()
    canvas.save()
    rendered = rasterise_pdf_page(buf.getvalue(), 1, px_per_pt * 72.0) < icr.rendering_ink_grey_max
    rows, cols = np.nonzero(rendered)
    if not len(rows):
        return None
    glyphs = rendered[rows.min():rows.max() + 1, cols.min():cols.max() + 1].astype(np.uint8)
    if glyphs.shape[0] > padded.shape[0] or glyphs.shape[1] > padded.shape[1]:
        return None
    radius = max(1, round(icr.typed_rendering_tolerance_pt * px_per_pt))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near_ink: np.ndarray = cv2.dilate(padded, disc)
    scores = cv2.matchTemplate(near_ink.astype(np.float32), glyphs.astype(np.float32), cv2.TM_CCORR)
    _, _, _, (x, y) = cv2.minMaxLoc(scores)
    placed: np.ndarray = np.zeros_like(padded)
    placed[y:y + glyphs.shape[0], x:x + glyphs.shape[1]] = glyphs
    precision = float((placed & near_ink).sum() / placed.sum())  # type: ignore[operator]  # both uint8
    recall = float((padded & cv2.dilate(placed, disc)).sum() / padded.sum())  # type: ignore[operator]  # both uint8
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
