"""Read every field of a scanned page: OCR for text and combs, OMR for tick boxes and signatures.

The page is identified (``pipeline.identify``) and registered (``pipeline.register``), so
each zone of the form definition is cut out of the registered image by multiplying its
points by ``dpi / 72``. Speed comes from calling tesseract twice per page, not once per
zone: every inked text zone is stacked into one tall strip (white gaps between), every
inked comb into one strip of digit cells with their printed outlines cut away, and each
strip goes through a single ``image_to_data`` call; words are mapped back to their zone
by their vertical position. The two calls run side by side.

Handwriting (issue 3): each comb cell's digit is also read by a digit model (``pipeline.icr``)
and a cell passes only when both readers agree; a text zone whose letters do not stand on one
baseline, or on a page that does not, is taken as handwritten and held under the review threshold.

Steps, each a small function over plain arrays and rectangles:
``ink_mask`` → ``read_ticks`` / ``read_signature`` (OMR) and
``stack_zones`` → ``ocr_strip`` → ``words_by_slot`` → ``text_value`` (OCR), and
``read_comb_fields`` → ``ocr_strip`` → ``comb_field`` (OCR with the digit model).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import cv2
import numpy as np
import pytesseract

from pipeline.crosscheck import repair_domain_dots
from pipeline.errors import OcrError
from pipeline.fields import PERSON_NAME_FIELDS, PERSON_NAME_RE, clean_text_value
from pipeline.foreign_ink import (
    WORK_DPI,
    ForeignInk,
    drop_isolated_specks,
    foreign_ink,
    streak_band,
    streak_clear_of_writing,
)
from pipeline.form_definition import (
    CLASS_LEVELS,
    ChoiceRule,
    Field,
    FieldKind,
    FormDefinition,
    PageIdentity,
    Rect,
    form_v1,
)
from pipeline.icr import (
    CellInk,
    CellVote,
    agree,
    baseline_agreement,
    comb_cells_ink,
    digit_features,
    digit_probabilities,
    looks_handwritten,
    typed_rendering_match,
)
from pipeline.identify_anchors import find_page
from pipeline.realign import realign_field
from pipeline.register import EVEN_PAPER_MIN, RegisteredPage, ink_threshold, register_page
from pipeline.settings import OcrSettings, OmrSettings
from pipeline.template_image import blank_page_image
from schemas.extraction import Doubt, ExtractedField, RawValue, Source, TickState, ZoneBox, format_comb

log = logging.getLogger(__name__)

DIGITS_CONFIG = "-c tessedit_char_whitelist=0123456789"
"""Comb strips hold digits only. (No whitelist for text or e-mail: with one, the LSTM's word
confidences collapse to 0-20 even on right answers, measured on this form's renderings.)"""
COMB_KINDS = (FieldKind.DATE, FieldKind.PHONE, FieldKind.POSTCODE)
TEXT_KINDS = (FieldKind.TEXT, FieldKind.EMAIL)


@dataclass(frozen=True)
class ScanPageResult:
    """Everything read from one scanned page.

    Attributes:
        identity: Form serial, version and page number from the QR codes.
        quarter_turns: Counter-clockwise quarter turns that made the input upright (0-3).
        dpi: Resolution the page was registered and read at (px per inch).
        residual_pt: Registration residual in PDF points (see ``RegisteredPage.residual_pt``).
        anchors_found: Registration anchors located, of five.
        fields: Field name → extracted field, for every field of this page.
        crops: Field name → PNG image of the field's zone on the registered page (see
            ``pipeline.crops``), for the review desk to show beside the value.
        handwritten: Whether the page as a whole was judged filled by hand (the median baseline agreement
            of its zones, :func:`pipeline.icr.looks_handwritten`); the form follows its most handwritten page
            (:func:`pipeline.crosscheck.hold_handwritten_form`).
    """

    identity: PageIdentity
    quarter_turns: int
    dpi: float
    residual_pt: float
    anchors_found: int
    fields: dict[str, ExtractedField]
    crops: dict[str, bytes] = field(default_factory=dict)
    handwritten: bool = False


@dataclass(frozen=True)
class Word:
    """One word tesseract read in a strip.

    Attributes:
        text: The word as read.
        confidence: Tesseract's confidence, 0-1.
        x_px: Left edge in strip pixels (orders words within a zone).
        y_px: Vertical centre in strip pixels (finds the zone).
    """

    text: str
    confidence: float
    x_px: int
    y_px: float


@dataclass(frozen=True)
class Strip:
    """Zone crops stacked vertically for one tesseract call.

    Attributes:
        image: ``uint8`` grey strip, white background.
        slots: For each stacked crop, its ``(top_px, bottom_px)`` span in the strip, in input order.
    """

    image: np.ndarray
    slots: tuple[tuple[int, int], ...]


# --- Pixel helpers ----------------------------------------------------------------------------


def _px(rect: Rect, px_per_pt: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Pixel bounds ``(x0, y0, x1, y1)`` of a rectangle in points, clipped to the image."""
    h, w = shape[:2]
    x0 = min(max(0, int(round(rect.x0 * px_per_pt))), w)
    y0 = min(max(0, int(round(rect.top * px_per_pt))), h)
    x1 = min(max(x0, int(round(rect.x1 * px_per_pt))), w)
    y1 = min(max(y0, int(round(rect.bottom * px_per_pt))), h)
    return x0, y0, x1, y1


def _crop(image: np.ndarray, rect: Rect, px_per_pt: float) -> np.ndarray:
    x0, y0, x1, y1 = _px(rect, px_per_pt, image.shape)
    return image[y0:y1, x0:x1]


def ink_mask(image: np.ndarray) -> np.ndarray:
    """Binary ink mask of a registered page: 1 where the pixel is ink, 0 for paper.

    Args:
        image: ``uint8`` grey page (grey or black-and-white scan).

    Returns:
        ``uint8`` array of the same shape holding 0 and 1. The threshold is Otsu's on the page
        (``pipeline.register.ink_threshold``), which separates toner from paper on both scan modes.
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
    threshold = ink_threshold(image)
    light = (image <= threshold + max(0.0, paper - threshold) * growth).astype(np.uint8) | mask.astype(np.uint8)
    count, labels = cv2.connectedComponents(light, connectivity=8)
    seeded = np.zeros(count, bool)
    seeded[np.unique(labels[mask.astype(bool)])] = True
    seeded[0] = False
    return seeded[labels].astype(np.uint8)


def paper_to_white(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Set every non-ink pixel to white, keeping the grey of ink pixels (anti-aliasing).

    Stacked crops sit on a white strip; left grey (scanned paper is about 240), each crop's
    rectangle shows as an edge and tesseract's LSTM then invents digits (measured: a date
    ``10/10/2026`` read as ``10702026`` on grey paper, right once paper is white).
    """
    return np.where(mask.astype(bool), image, np.uint8(255)).astype(np.uint8)


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
    crop = _crop(mask, rect, px_per_pt)
    return float(crop.mean()) if crop.size else 0.0


def ink_area_pt2(mask: np.ndarray, rect: Rect, px_per_pt: float) -> float:
    """Ink inside ``rect`` in square points, after an opening that drops isolated 1-px specks.

    An absolute area, not a share: a two-letter value in a 400-pt wide zone is as much
    writing as a full line.
    """
    crop = _crop(mask, rect, px_per_pt)
    if not crop.size:
        return 0.0
    opened = cv2.morphologyEx(crop, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return float(opened.sum()) / (px_per_pt * px_per_pt)


# --- OMR --------------------------------------------------------------------------------------


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
    sample = image[::2, ::2]
    return GreyLevels(float(np.percentile(sample, 90)), float(np.percentile(sample, 0.5)))


def tick_state(fill: float, omr: OmrSettings, darkness: float | None = None) -> TickState:
    """Band of a fill ratio (see ``OmrSettings`` for the bands and where they come from).

    ``darkness`` (the box's mean darkness, :meth:`GreyLevels.darkness`) confirms a fill in the
    cancelled band: a cross blurred by a phone photo fills 0.6-0.7 of the box once thresholded but
    keeps a darkness of 0.45-0.55, while a blackened box stays above 0.8.
    """
    if fill >= omr.cancelled_min and darkness is not None and darkness < omr.cancelled_darkness_min:
        if darkness >= omr.cancelled_darkness_unsure or fill > omr.blurred_tick_fill_max:
            return TickState.UNSURE
        return TickState.TICKED
    if fill >= omr.cancelled_min:
        return TickState.CANCELLED
    if fill >= omr.ticked_min:
        return TickState.TICKED
    if fill > omr.empty_max:
        return TickState.UNSURE
    return TickState.EMPTY


def _band_margin(fill: float, omr: OmrSettings) -> float:
    """Distance of a fill ratio to the nearest band edge, scaled to 0-1 by the band it lies in."""
    edges = sorted((omr.empty_max, omr.ticked_min, omr.cancelled_min))
    nearest = min(abs(fill - e) for e in edges)
    return min(1.0, nearest / max(1e-6, omr.empty_max))


def box_margin(fill: float, omr: OmrSettings, darkness: float | None = None) -> float:
    """How far a box is from changing state, 0 (on an edge) to 1 (clear), as :func:`tick_state` decides it.

    A typed cross blurred by a phone photo fills 0.6-0.7 of its box once thresholded, right on the
    ``cancelled_min`` fill edge; :func:`tick_state` then decides by darkness, so a box that is a tick on
    either side of that fill edge is measured by its darkness margin instead (edges
    ``cancelled_darkness_unsure`` and ``blurred_tick_fill_max``). A blackened box in the cancelled band
    is measured by both its fill and its darkness margins. Without darkness, the fill bands alone count.

    Args:
        fill: The box interior's fill ratio (0-1).
        omr: Bands (``OmrSettings``).
        darkness: The interior's mean darkness (0-1, :meth:`GreyLevels.darkness`), if measured.
    """
    fill_margin = _band_margin(fill, omr)
    if darkness is None or fill < omr.ticked_min:
        return fill_margin
    scale = max(1e-6, omr.empty_max)
    dark_scale = max(1e-6, omr.cancelled_darkness_min - omr.cancelled_darkness_unsure)
    dark_margin = min(abs(darkness - e) for e in (omr.cancelled_darkness_unsure, omr.cancelled_darkness_min)) / dark_scale
    if darkness < omr.cancelled_darkness_unsure and fill <= omr.blurred_tick_fill_max:
        # A tick whatever side of cancelled_min the fill falls: only ticked_min, the blurred-tick ceiling
        # and the darkness edge can change its state.
        fill_edge = min(fill - omr.ticked_min, omr.blurred_tick_fill_max - fill) / scale
        return float(min(1.0, fill_edge, dark_margin))
    if fill >= omr.cancelled_min:
        # Darkness takes part in the decision here; the blurred-tick fill ceiling only matters for a box
        # not dark enough to be cancelled.
        edges = (omr.cancelled_min,) if darkness >= omr.cancelled_darkness_min else (
            omr.cancelled_min, omr.blurred_tick_fill_max)
        fill_edge = min(abs(fill - e) for e in edges) / scale
        return float(min(1.0, fill_edge, dark_margin))
    return fill_margin


def _rule_ok(rule: ChoiceRule, ticked: int) -> bool:
    if rule is ChoiceRule.EXACTLY_ONE:
        return ticked == 1
    if rule is ChoiceRule.AT_MOST_ONE:
        return ticked <= 1
    return True


def read_ticks(
    field: Field, mask: np.ndarray, px_per_pt: float, omr: OmrSettings, quality: float,
    grey: np.ndarray | None = None, levels: GreyLevels | None = None,
) -> ExtractedField:
    """Read a choice or flag field by the fill ratio of each box interior.

    Args:
        field: A ``CHOICE`` or ``FLAG`` field (``field.boxes`` in pt).
        mask: Ink mask of the registered page (:func:`ink_mask`).
        px_per_pt: Scale of ``mask`` (``dpi / 72``).
        omr: Bands and inset (``OmrSettings``).
        quality: Registration quality 0-1 (``RegisteredPage.quality``).
        grey: The registered grey page, to measure each box's darkness (see :func:`tick_state`).
        levels: Its paper and ink levels (:func:`grey_levels`); both or neither.

    Returns:
        The field with value ``list[str]`` of ticked options in form order (``bool`` for a
        flag), per-box states and fill ratios. Cancelled and unsure boxes are not in the value.
        Confidence is ``omr.unsure_confidence`` when a box is unsure, ``omr.rule_violation_confidence``
        when the group's ``ChoiceRule`` is broken, else grows with the distance to the band edges.
    """
    fills = {b.option: ink_share(mask, b.rect.inset(omr.inset_pt), px_per_pt) for b in field.boxes}
    dark = {b.option: (levels.darkness(_crop(grey, b.rect.inset(omr.inset_pt), px_per_pt))
                       if grey is not None and levels is not None else None) for b in field.boxes}
    states = {opt: tick_state(f, omr, dark[opt]) for opt, f in fills.items()}
    ticked = [b.option for b in field.boxes if states[b.option] is TickState.TICKED]
    confidence = 0.5 + 0.5 * min(box_margin(fills[opt], omr, dark[opt]) for opt in fills)
    if any(s is TickState.UNSURE for s in states.values()):
        confidence = min(confidence, omr.unsure_confidence)
    if not _rule_ok(field.rule, len(ticked)) and (field.required or ticked):
        confidence = min(confidence, omr.rule_violation_confidence)
    value: RawValue = bool(ticked) if field.kind is FieldKind.FLAG else ticked
    return ExtractedField(
        name=field.name, value=value, confidence=_with_quality(confidence, quality), source=Source.OMR,
        page=field.page, zone=_zone(field), ticks=states, fill_ratios={k: round(v, 4) for k, v in fills.items()},
    )


def boxes_hold_only_streaks(field: Field, mask: np.ndarray, band: np.ndarray, px_per_pt: float,
                            omr: OmrSettings) -> bool:
    """Whether a choice or flag that a copier's streak reaches can be read without it: every box interior the
    streak passes through holds nothing else, and at least one does.

    A box interior the streak's band (:func:`pipeline.foreign_ink.streak_band`) touches must be crossed by it
    from edge to edge along a row or a column (else the streak may leave the band inside the box), and the
    ink off the band must fill no more than ``omr.empty_max`` of the rest of the interior. Such a box is
    empty: the band is the streak's own ink, and a cross, a check mark or a blackened box spreads beyond
    it. On photocopies of seed 2026 (issue 3), a streak through an empty box was read as a tick in 4 of
    1,150 boxes, and about one tick field a form was held for a person. A box with a mark and a streak
    still goes to a person, and so does one the streak crosses where it was found broken.

    Args:
        field: The realigned field (boxes in pt).
        mask: The page's ink mask, ``px_per_pt`` pixels per point.
        band: The streaks' own ink (same shape).
        px_per_pt: The scale.
        omr: ``inset_pt``, ``empty_max``.
    """
    crossed = False
    for box in field.boxes:
        interior = box.rect.inset(omr.inset_pt)
        near = _crop(band, interior, px_per_pt)
        if not near.any():
            continue
        if not (near.all(axis=0).any() or near.all(axis=1).any()):
            return False
        rest = cv2.morphologyEx(_crop(mask, interior, px_per_pt) & (1 - near), cv2.MORPH_OPEN,
                                np.ones((2, 2), np.uint8))
        if rest.sum() > omr.empty_max * max(1, int((near == 0).sum())):
            return False
        crossed = True
    return crossed


def read_signature(
    field: Field, mask: np.ndarray, px_per_pt: float, omr: OmrSettings, quality: float
) -> ExtractedField:
    """Decide whether a signature zone holds ink.

    Args:
        field: A ``SIGNATURE`` field.
        mask: Ink mask of the registered page.
        px_per_pt: Scale of ``mask`` (``dpi / 72``).
        omr: ``signature_inset_pt`` and ``signature_ink_min``.
        quality: Registration quality 0-1.

    Returns:
        The field with a ``bool`` value; the confidence falls towards 0.5 as the ink share nears
        ``signature_ink_min`` (within a factor of three either side).
    """
    share = ink_share(mask, field.rect.inset(omr.signature_inset_pt), px_per_pt)
    present = share >= omr.signature_ink_min
    ratio = share / omr.signature_ink_min if present else omr.signature_ink_min / max(share, 1e-9)
    confidence = min(0.98, 0.5 + 0.5 * min(1.0, (ratio - 1.0) / 2.0))
    return ExtractedField(name=field.name, value=present, confidence=_with_quality(confidence, quality),
                          source=Source.OMR, page=field.page, zone=_zone(field))


# --- OCR --------------------------------------------------------------------------------------


def _text_rect(field: Field, marks: Sequence[Rect] = ()) -> Rect:
    """The part of a text zone that holds writing.

    The dotted baseline at its bottom is left out, and so is any printed registration mark
    the zone runs into: on version 1, page 2's "Prénom" line ends under the top-right QR code,
    whose modules would otherwise read as ink (and as letters).
    """
    r = field.rect
    x1 = r.x1 - 1.0
    for m in marks:
        overlaps_y = m.top < r.bottom and m.bottom > r.top
        if overlaps_y and m.x0 > r.x0 and m.x0 < x1:
            x1 = m.x0 - 2.0
    return Rect(r.x0 + 1.0, r.top, x1, r.bottom - 1.3)


def zone_ink(mask: np.ndarray, field: Field, definition: FormDefinition, px_per_pt: float) -> np.ndarray:
    """The ink of a text zone's writing area (:func:`_text_rect`: no dotted baseline, no registration mark).

    Args:
        mask: The registered page's ``uint8`` 0/1 ink mask, ``px_per_pt`` pixels per PDF point.
        field: A text or e-mail field of that page.
        definition: The form, whose page layout gives the registration marks.
        px_per_pt: The mask's scale.

    Returns:
        A view of ``mask`` over the zone.
    """
    layout = definition.pages[field.page - 1]
    return _crop(mask, _text_rect(field, layout.qr_codes + layout.anchors), px_per_pt)


def streak_drop_areas(field: Field, definition: FormDefinition, omr: OmrSettings,
                      ocr: OcrSettings) -> tuple[tuple[Rect, ...], Rect, float] | None:
    """Where a streak crossing ``field`` must be clear of writing, where it is then taken out, and how clear.

    * A text or e-mail zone: its writing area (:func:`_text_rect`), clear by ``omr.streak_clearance_pt``
      (a narrow letter hidden under the streak keeps a neighbour within it).
    * A comb: each cell's interior (printed outline left out) by ``omr.comb_streak_clearance_pt``, and the
      streak taken out over the comb with the margin its digits are cut with (``icr.cell_margin_pt``). A
      digit hidden whole under a streak leaves its cell empty, and a date, phone or postcode with an empty
      cell is never accepted (:func:`comb_field`).
    * A signature zone: no area to be clear (``()``): the question is only whether the zone holds ink,
      and once a streak's pixels are taken out of the part whose ink is measured (``omr.signature_inset_pt``)
      what is left is the signature, cut where the streak crossed it, or nothing. A streak is at least
      ``omr.streak_min_pt`` long (80 pt), longer than the zone is tall (60 pt): no pen stroke inside it is one.

    Returns:
        ``(areas, drop_rect, clearance_pt)`` in PDF points, or ``None`` for a tick box: a tick's strokes
        cross its box, so a streak is never taken out of one; a box holding nothing but a streak is read
        past it instead (:func:`boxes_hold_only_streaks`).
    """
    if field.kind in TEXT_KINDS:
        layout = definition.pages[field.page - 1]
        area = _text_rect(field, layout.qr_codes + layout.anchors)
        return (area,), area, omr.streak_clearance_pt
    if field.kind in COMB_KINDS:
        m = ocr.icr.cell_margin_pt
        r = field.rect
        return (tuple(_cell_interior(c, ocr) for c in field.cells), Rect(r.x0 - m, r.top - m, r.x1 + m, r.bottom + m),
                omr.comb_streak_clearance_pt)
    if field.kind is FieldKind.SIGNATURE:
        return (), field.rect.inset(omr.signature_inset_pt), 0.0
    return None


def drop_clear_streaks(mask: np.ndarray, foreign: ForeignInk, crossed: Collection[str], definition: FormDefinition,
                       page: int, px_per_pt: float, omr: OmrSettings,
                       ocr: OcrSettings) -> tuple[np.ndarray, set[str]]:
    """Take copier streaks out of the zones, combs and signature zones whose blank part they cross.

    Args:
        mask: The registered page's ``uint8`` 0/1 ink mask, ``px_per_pt`` pixels per PDF point.
        foreign: Its foreign ink (:func:`pipeline.foreign_ink.foreign_ink`, at ``WORK_DPI``).
        crossed: Fields that streaks reach and no other foreign mark does (``ForeignInk.fields_reached``).
        definition: The form.
        page: 1-based page number; its text, e-mail, comb and signature fields are looked at.
        px_per_pt: The mask's scale.
        omr: Clearances (:func:`pipeline.foreign_ink.streak_clear_of_writing`, :func:`streak_drop_areas`).
        ocr: Comb cell insets and margins.

    Returns:
        The ink without those streaks (``mask`` itself when none was dropped), and the names of the fields
        they were dropped from: no other foreign mark reaches these, so they are read as if never crossed.
    """
    candidates = [(f, areas) for f in definition.page_fields(page) if f.name in crossed
                  and (areas := streak_drop_areas(f, definition, omr, ocr)) is not None]
    if not candidates:
        return mask, set()
    # A streak is found off the printed form: bridged where it crosses a zone's dotted line (``streak_gap_pt``),
    # and, found at ``WORK_DPI``, widened by a point (its edge pixels are the page's).
    gap = max(1, round(omr.streak_gap_pt * WORK_DPI / 72.0))
    bridged = cv2.morphologyEx(foreign.streaks.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((gap, 1), np.uint8))
    band = cv2.resize(bridged, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_NEAREST)
    reach = 2 * round(px_per_pt) + 1
    streak_ink = cv2.dilate(band, np.ones((1, reach), np.uint8)) & mask
    writing, dropped = mask, set()
    for f, (areas, drop_rect, clearance_pt) in candidates:
        crossings = [(_crop(mask, a, px_per_pt), _crop(streak_ink, a, px_per_pt)) for a in areas]
        crossings = [(ink, streak) for ink, streak in crossings if streak.any()]
        if f.kind in TEXT_KINDS and not crossings:
            continue  # the streak reaches the zone only off its writing area: as before, a person looks
        if not all(streak_clear_of_writing(ink, streak, px_per_pt, omr, clearance_pt) for ink, streak in crossings):
            continue
        in_drop = _crop(streak_ink, drop_rect, px_per_pt)
        if not in_drop.any():
            continue
        if writing is mask:
            writing = mask.copy()
        _crop(writing, drop_rect, px_per_pt)[in_drop > 0] = 0
        dropped.add(f.name)
    return writing, dropped


def _typed_as_read(zone: np.ndarray, words: Sequence[Word], px_per_pt: float, ocr: OcrSettings) -> bool:
    """Whether a text zone's ink (:func:`zone_ink`) is its own reading typed in the form's font.

    Blur merges a photographed zone's letters into a few blobs, and one descender then pulls its
    baseline agreement under the typed threshold (``Mme Becker, enseignant(e)``, issue 3); typing the
    reading again and laying it over the zone tells type from a hand (:func:`pipeline.icr.typed_rendering_match`).
    """
    match = typed_rendering_match(zone, " ".join(w.text for w in words), px_per_pt, ocr.icr)
    return match is not None and match.typed(ocr.icr)


def _cell_interior(cell: Rect, ocr: OcrSettings) -> Rect:
    """A comb cell without its printed outline (inset by ``comb_inset_pt``)."""
    return cell.inset(ocr.comb_inset_pt)


def stack_zones(crops: Sequence[np.ndarray], gap_px: int, pad_px: int) -> Strip:
    """Stack crops vertically, left-aligned, on white, with ``gap_px`` of white between them.

    Args:
        crops: ``uint8`` grey crops, any widths and heights.
        gap_px: White rows between two crops (and above the first / below the last).
        pad_px: White columns left and right.

    Returns:
        The strip and each crop's vertical span in it.
    """
    width = max((c.shape[1] for c in crops), default=1) + 2 * pad_px
    height = sum(c.shape[0] for c in crops) + gap_px * (len(crops) + 1)
    strip = np.full((max(height, 1), width), 255, dtype=np.uint8)
    slots: list[tuple[int, int]] = []
    y = gap_px
    for c in crops:
        strip[y : y + c.shape[0], pad_px : pad_px + c.shape[1]] = c
        slots.append((y, y + c.shape[0]))
        y += c.shape[0] + gap_px
    return Strip(strip, tuple(slots))


def ocr_strip(strip: Strip, ocr: OcrSettings, language: str, config: str = "") -> list[Word]:
    """Run one tesseract ``image_to_data`` call on a strip.

    Args:
        strip: Stacked crops.
        ocr: Page segmentation mode and timeout.
        language: Tesseract language(s), e.g. ``"fra"``.
        config: Extra tesseract options (e.g. a character whitelist).

    Returns:
        Non-empty words with confidence 0-1 and position.

    Raises:
        OcrError: Tesseract is missing, failed, or ran over ``ocr.timeout_s``.
    """
    if not strip.slots:
        return []
    try:
        data = pytesseract.image_to_data(
            strip.image, lang=language, config=f"--psm {ocr.psm} {config}".strip(),
            output_type=pytesseract.Output.DICT, timeout=ocr.timeout_s,
        )
    except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, RuntimeError, OSError) as exc:
        # RuntimeError is pytesseract's timeout.
        raise OcrError(f"tesseract failed on a strip of {len(strip.slots)} zone(s): {type(exc).__name__}") from exc
    words: list[Word] = []
    for text, conf, left, top, height in zip(
        data["text"], data["conf"], data["left"], data["top"], data["height"], strict=True
    ):
        if text and text.strip() and float(conf) >= 0:
            words.append(Word(text.strip(), float(conf) / 100.0, int(left), top + height / 2.0))
    return words


def words_by_slot(words: Sequence[Word], slots: Sequence[tuple[int, int]]) -> list[list[Word]]:
    """Assign each word to the slot its vertical centre falls in (nearest slot if in a gap), left to right."""
    out: list[list[Word]] = [[] for _ in slots]
    if not slots:
        return out
    centres = [(a + b) / 2 for a, b in slots]
    for w in words:
        i = min(range(len(slots)), key=lambda k: abs(centres[k] - w.y_px))
        out[i].append(w)
    for ws in out:
        ws.sort(key=lambda w: w.x_px)
    return out


def text_value(kind: FieldKind, words: Sequence[Word]) -> str | None:
    """Join a zone's words into its value: normalised text; e-mails lowercased without spaces."""
    return clean_text_value(kind, " ".join(w.text for w in words))


def drop_speck_words(words: Sequence[Word]) -> list[Word]:
    """A text zone's words without the lone punctuation marks at either end, which are toner specks.

    Tesseract reads a speck beside a value as a word of its own, ``.`` or ``:`` (``72, boulevard de
    Carpentier .`` at 0.78, ``CP B - Mme Joubert .``, photocopies of issue 3), and no value of this form
    begins or ends with a punctuation mark standing alone. Marks that could be a misread letter (``|`` for
    ``I``) are not dropped: :data:`NOISE_CHARACTERS` sends those to a person.

    Returns:
        The words in order, without those of :data:`SPECK_PUNCTUATION` alone at the ends.
    """
    kept = list(words)
    while kept and set(kept[-1].text) <= SPECK_PUNCTUATION:
        kept.pop()
    while kept and set(kept[0].text) <= SPECK_PUNCTUATION:
        kept.pop(0)
    return kept


SPECK_PUNCTUATION = frozenset(".,:;'’")
"""Punctuation a speck is read as; alone at either end of a text zone, such a word is dropped."""


CLASS_LETTER_FIELDS = ("class_name",)
"""Fields that hold a class letter (``5e A``): ``fra`` reads a lone ``A`` as ``À`` with confidence 0.9
(measured on photos and scans, issue 3), and a class is never called ``À``."""


def repair_class_line(value: str) -> str:
    """Turn a lone ``À`` back into the class letter ``A``, put back the space OCR lost between a class
    level and its one-letter division (``CM1B`` → ``CM1 B``, measured on phone photos at confidence 0.82:
    the level words are a closed list, so the cut is sure), and the spaces it lost around the dash before
    the teacher (``CP B-M. Morvan`` → ``CP B - M. Morvan``, accepted at 0.72 on a scan, pdf_wrong_order 17
    of seed 2026, issue 3)."""
    value = " ".join("A" if word == "À" else word for word in value.split(" "))
    value = GLUED_DIVISION_RE.sub(r"\1 \2", value)
    return TEACHER_DASH_RE.sub(r"\1 - ", value)


LEVEL_WORDS = r"CP|CE1|CE2|CM1|CM2|[3-6](?:e|è|ème|eme)"
"""How the class levels of ``form_definition.CLASS_LEVELS`` are written at the head of a class line."""
GLUED_DIVISION_RE = re.compile(rf"^({LEVEL_WORDS})([A-Z])(?=\s|$)")
TEACHER_DASH_RE = re.compile(rf"^((?:{LEVEL_WORDS})(?: [A-Z0-9]{{1,2}})?) ?- ?(?=[A-Z][a-zà-ÿ.])")
"""The dash between a class (level, perhaps a division) and its teacher's title or name, however spaced."""
CLASS_LINE_RE = re.compile(rf"^(?:{LEVEL_WORDS})(?:\s*[-/]?\s*(?P<division>[A-Z0-9]{{1,2}}))?(?:\s|$)")
"""A class line as the form asks for it: a level, then perhaps a division (``CM1 B - M. Lamy``, ``5e3``)."""
CONFUSABLE_DIVISIONS = frozenset({"8", "0"})
"""Divisions OCR makes of the letters ``B`` and ``O`` (``CM1 8`` for ``CM1 B`` at 0.81 on a phone photo,
issue 3). Schools name divisions with letters or digits alike, so such a digit is a person's call."""


def class_line_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a class line may keep (1.0 for any other field).

    The level leads the class line and repeats the ticked level that routes the pupil, so a line that does
    not start with a level word (``Se B`` read for ``5e B`` at 0.69 on a photo) or whose division is one
    of :data:`CONFUSABLE_DIVISIONS` goes to a person (``ocr.unread_confidence``).
    """
    if value is None or name not in CLASS_LETTER_FIELDS:
        return 1.0
    line = CLASS_LINE_RE.match(value)
    if line is None or line.group("division") in CONFUSABLE_DIVISIONS:
        return ocr.unread_confidence
    return 1.0


def person_name_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a person's name may keep (1.0 for any other field).

    A name is letters, spaces, hyphens and apostrophes (:data:`PERSON_NAME_RE`); a reading holding anything
    else was misread, or took in a speck (``Corinne:`` at 0.91 on a photocopy, issue 3): ``ocr.unread_confidence``.
    """
    if value is None or name not in PERSON_NAME_FIELDS or PERSON_NAME_RE.fullmatch(value):
        return 1.0
    return ocr.unread_confidence


ADDRESS_FIELDS = ("pupil_address",)
"""Fields that hold a postal address (``2, rue Boulay``)."""
STRAY_PUNCTUATION_FIELDS = (*ADDRESS_FIELDS, "referrer_name", "class_name", "home_languages", "pupil_town")
"""Fields whose values never begin with a punctuation mark, never end with ``.``, ``,``, ``:`` or ``;``, and
never hold a ``;`` (an address, ``M. Humbert, directeur(trice)``, ``CP B - Mme Lamy``, ``Tamoul, français``)."""
STRAY_PUNCTUATION_RE = re.compile(r"^[.,:;'’]|[.,:;]$|;")


def stray_punctuation_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a reading of :data:`STRAY_PUNCTUATION_FIELDS` may keep (1.0 for other fields).

    A toner speck glued to a word is read as its punctuation, and the word's confidence stays high: on
    photocopies of seed 2026 (issue 3), ``29, chemin Anaïs Marin.`` at 0.92, ``.M. Humbert, directeur(trice)``
    at 0.77, and a comma read ``;`` in ``Mme Dumont; directeur(trice)`` at 0.90. A reading with a mark where
    these fields never have one is kept as read, at ``ocr.unread_confidence``, for a person to correct.
    """
    if value is None or name not in STRAY_PUNCTUATION_FIELDS or not STRAY_PUNCTUATION_RE.search(value):
        return 1.0
    return ocr.unread_confidence


SAME_SHAPE_LETTERS = frozenset("cosuvwxzç")
"""Small letters drawn as their capital made smaller: only the letter's height tells ``c`` from ``C``."""
NAME_WORD_RE = re.compile(r"[^\s'’-]+")


def letter_case_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a person's name may keep when its case cannot be read (1.0 otherwise).

    When every letter of a word after its first is one of :data:`SAME_SHAPE_LETTERS` (``Luc``, ``Roux``),
    tesseract tells capitals from small letters by height alone, and a speckled copy moves it: ``LUC`` for
    ``Luc`` at 0.71 on a photocopy of seed 2026 (issue 3). Such a name, in either case, is kept as read at
    ``ocr.unread_confidence`` for a person to confirm. Of Faker's French names, ``Luc`` (of 215 first names)
    and ``Roux`` (of 400 surnames) are such names.
    """
    if value is None or name not in PERSON_NAME_FIELDS:
        return 1.0
    for word in NAME_WORD_RE.findall(value):
        if len(word) > 1 and all(ch in SAME_SHAPE_LETTERS for ch in word[1:].lower()):
            return ocr.unread_confidence
    return 1.0


NUMBER_PERIOD_RE = re.compile(r"^(\d+(?: ?(?:bis|ter|[A-Da-d]))?)\. (?=\D)")


def repair_address(value: str) -> str:
    """Put back the comma OCR read as a period after a house number.

    A French address writes ``2, rue Boulay`` or ``2 rue Boulay``, never ``2. rue``: the comma's tail is a
    pixel or two, lost on phone photos (``2. rue Boulay`` accepted at 0.93 on a HEIC photo, issue 3).
    """
    return NUMBER_PERIOD_RE.sub(r"\1, ", value)


READING_REPAIRS: dict[str, Callable[[str], str]] = {
    **dict.fromkeys(CLASS_LETTER_FIELDS, repair_class_line),
    **dict.fromkeys(ADDRESS_FIELDS, repair_address),
}
"""Text field → the repair of what OCR predictably gets wrong in what that field holds."""


TEXT_CAPS: tuple[Callable[[str, str | None, OcrSettings], float], ...] = (
    class_line_cap, person_name_cap, letter_case_cap, stray_punctuation_cap)
"""Caps on a text reading by what its field holds (each 1.0 for the fields it does not concern)."""


def reading_cap(field: Field, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a text or e-mail reading may keep: its kind's syntax (:func:`validator_cap`)
    and each of :data:`TEXT_CAPS`."""
    return min(validator_cap(field.kind, value, ocr), *(cap(field.name, value, ocr) for cap in TEXT_CAPS))


def repair_reading(name: str, value: str | None) -> str | None:
    """A text field's reading with its field's repair applied (:data:`READING_REPAIRS`; none for most)."""
    repair = READING_REPAIRS.get(name)
    return value if value is None or repair is None else repair(value)


EMAIL_RE = re.compile(r"^[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")
"""What a readable e-mail address looks like once lowercased and without spaces."""


def fix_email(value: str | None) -> str | None:
    """Undo the confusions measured on e-mails: an ``l`` read as ``|`` (never valid in an address), and
    a dot lost or doubled in a known domain (:func:`pipeline.crosscheck.repair_domain_dots`)."""
    return repair_domain_dots(value.replace("|", "l")) if value else value


def email_confidence(confidence: float, ocr: OcrSettings) -> float:
    """Rescale tesseract's confidence (0-1) in an e-mail address so that ``ocr.email_confidence_min`` lands
    on the review threshold ``ocr.text_confidence_min``: an address needs more than a name to be trusted
    (one lost dot makes it wrong). Confidences at or above the e-mail minimum are kept."""
    if confidence >= ocr.email_confidence_min:
        return confidence
    return confidence * ocr.text_confidence_min / ocr.email_confidence_min


def validator_cap(kind: FieldKind, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a value of ``kind`` may keep given its own syntax (issue 3's "validator").

    A date that is not a calendar date, a phone that is not ten digits starting with 0, a postcode
    that is not five digits, an e-mail that is not an address or a text holding one of the
    ``NOISE_CHARACTERS`` was misread: whatever tesseract's confidence, the field goes to a person
    (``ocr.unread_confidence``). Anything else: 1.0.
    """
    if value is None:
        return 1.0
    ok = True
    if kind is FieldKind.DATE:
        try:
            datetime.strptime(value, "%d/%m/%Y")
        except ValueError:
            ok = False
    elif kind is FieldKind.PHONE:
        ok = len(value) == 10 and value.isdigit() and value[0] == "0" and value[1] != "0"
    elif kind is FieldKind.POSTCODE:
        ok = len(value) == 5 and value.isdigit()
    elif kind is FieldKind.EMAIL:
        ok = EMAIL_RE.match(value) is not None
    elif kind is FieldKind.TEXT:
        ok = not any(ch in NOISE_CHARACTERS for ch in value)
    return 1.0 if ok else ocr.unread_confidence


NOISE_CHARACTERS = frozenset("|¦‘£¢©®§¬~^`")
"""Characters tesseract makes of specks, copier streaks and stamp ink, and that no value written on this
form holds (names, addresses, classes, languages, observations): measured on photocopies and faxes (issue 3),
``RAMOS ‘``, ``Corinne: |``, ``£E Jules Verne |`` at confidences 0.79-0.94. A text zone holding one was
misread, whatever tesseract says."""


def class_line_confidence(words: Sequence[Word], level: ExtractedField | None, threshold: float) -> float:
    """A class line's OCR confidence, its level word confirmed by the ticked level.

    The level box ticked on the same page is an independent reading of the level that leads the class line
    (``CM1 B - M. Marchand``): when one box is ticked at ``threshold`` or more and the line's first word is
    that level as printed beside the box, the word is as sure as the tick. Tesseract gives short level
    words 0.43-0.61 on phone photos where the rest of the line reads at 0.84-0.96 (issue 3, HEIC). The
    division after a confirmed level is settled too when tesseract's doubt was only where to break the words
    or which accent to put (:func:`division_settled`); other words keep their own confidence.

    Args:
        words: The line's words as read, in order.
        level: The page's ``class_level`` field, if read.
        threshold: The review threshold (0-1).
    """
    if not words:
        return 0.0
    ticked = level.value if level is not None and isinstance(level.value, list) else []
    if len(ticked) != 1 or level is None or level.confidence < threshold:
        return _words_confidence(words)
    printed = dict(CLASS_LEVELS)[ticked[0]].casefold()
    head = GLUED_DIVISION_RE.match(words[0].text)
    if head is not None and head.group(1).casefold() == printed and head.group(2) in SETTLED_DIVISIONS:
        rest = list(words[1:])  # "CE2B": the level and its division, one word for want of a space
    elif words[0].text.casefold() == printed:
        rest = list(words[1:])
        if rest and division_settled(words[0], rest[0]):
            rest = rest[1:]
    else:
        return _words_confidence(words)
    return min(level.confidence, _words_confidence(rest)) if rest else level.confidence


SETTLED_DIVISIONS = frozenset("ABCDEFHJKLMNPQRTUVWXY") | {"À"}
"""Division letters whose reading the class line's syntax settles, and ``À``, which is ``A`` (no class is called
``À``, :func:`repair_class_line`). Capitals OCR trades with a digit are left out (``G``/``6``, ``I``/``1``,
``O``/``0``, ``S``/``5``, ``Z``/``2``), except ``B``: the confusion measured runs the other way (``B`` read ``8``,
sent to a person by :data:`CONFUSABLE_DIVISIONS`), a division 8 needs eight classes of one level, and ``B`` is
the most common division there is."""


def division_settled(level_word: Word, division: Word) -> bool:
    """Whether the division letter after a confirmed level word is sure whatever its word confidence.

    Tesseract scores a word by its least sure character, spaces included: the level word and a one-letter
    division that share one low confidence (``CM2`` and ``C`` both 0.34-0.45 where the teacher's name reads
    0.92-0.96) were doubted at the break between them, which the line's syntax settles (``CM2C`` and ``CM2 C``
    are one class). A lone ``À`` (0.59-0.74 on phone photos) was doubted for its accent, which
    :func:`repair_class_line` settles. Measured on the class lines of 30 JPEG phone photos and 30 photocopies
    of a seed the thresholds were not tuned on (2027, issue 3): every division letter so settled was right.

    Args:
        level_word: The line's first word, the level confirmed by the tick.
        division: The word after it.
    """
    if division.text not in SETTLED_DIVISIONS:
        return False
    return division.text == "À" or round(division.confidence, 2) == round(level_word.confidence, 2)


def _words_confidence(words: Sequence[Word]) -> float:
    """A zone's OCR confidence: its weakest word (one wrong word makes the field wrong)."""
    return min(w.confidence for w in words) if words else 0.0


def _with_quality(confidence: float, quality: float) -> float:
    """Temper a reader's confidence by registration quality: a perfect fit keeps it, the worst costs 30 %."""
    return float(min(1.0, max(0.0, confidence * (0.7 + 0.3 * quality))))


def _zone(field: Field) -> ZoneBox:
    r = field.rect
    return ZoneBox(x0=r.x0, top=r.top, x1=r.x1, bottom=r.bottom)


def _empty_field(field: Field, quality: float) -> ExtractedField:
    """An OCR field whose zone holds no ink: no value, and sure of it."""
    return ExtractedField(name=field.name, value=None, confidence=_with_quality(0.97, quality), source=Source.OCR,
                          page=field.page, zone=_zone(field))


def _scaled(crop: np.ndarray, factor: float) -> np.ndarray:
    if abs(factor - 1.0) < 0.01:
        return crop
    interpolation = cv2.INTER_CUBIC if factor > 1.0 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=factor, fy=factor, interpolation=interpolation)


def read_text_fields(
    fields: Sequence[Field],
    page: RegisteredPage,
    ocr_image: np.ndarray,
    mask: np.ndarray,
    ocr: OcrSettings,
    marks: Sequence[Rect] = (),
) -> tuple[Strip, list[Field], dict[str, ExtractedField]]:
    """Prepare the text strip: empty zones are answered at once, inked ones are stacked.

    Args:
        fields: Text and e-mail fields of the page.
        page: The registered page (scale and quality).
        ocr_image: The registered page with paper set to white (:func:`paper_to_white`).
        mask: Its ink mask.
        ocr: Thresholds and scales.
        marks: Printed registration marks of the page (pt), cut out of the zones they overlap.

    Returns:
        The strip to OCR, the fields in its slot order, and the already-decided empty fields.
    """
    s = page.px_per_pt
    factor = ocr.text_ocr_dpi / page.dpi
    decided: dict[str, ExtractedField] = {}
    inked: list[Field] = []
    crops: list[np.ndarray] = []
    for f in fields:
        rect = _text_rect(f, marks)
        if ink_area_pt2(mask, rect, s) < ocr.zone_ink_min_pt2:
            decided[f.name] = _empty_field(f, page.quality)
            continue
        inked.append(f)
        crops.append(_scaled(_crop(ocr_image, rect, s), factor))
    gap = int(round(ocr.strip_gap_pt * s * factor))
    return stack_zones(crops, gap, gap), inked, decided


def _digit_row(cells: Sequence[CellInk], ocr_image: np.ndarray, gap_px: int) -> np.ndarray:
    """The cells' digits side by side on white, each cut to its ink's columns, ``gap_px`` apart.

    Cut to their own width, the digits sit as close as typed ones: with whole cells between them
    tesseract still reads them but its confidence falls to 0 (measured on typed 300 dpi scans).
    """
    pieces: list[np.ndarray] = []
    height = min(c.mask.shape[0] for c in cells)
    for c in cells:
        x, y = c.origin_px
        grey = ocr_image[y:y + height, x:x + c.mask.shape[1]]
        keep = cv2.dilate(c.mask[:height], np.ones((3, 3), np.uint8))[:grey.shape[0], :grey.shape[1]].astype(bool)
        digit = np.where(keep, grey, np.uint8(255)).astype(np.uint8)
        columns = np.nonzero(keep.any(axis=0))[0]
        if len(columns):
            digit = digit[:, columns.min():columns.max() + 1]
        pieces += [np.full((digit.shape[0], gap_px), 255, np.uint8), digit]
    pieces.append(np.full((height, gap_px), 255, np.uint8))
    return np.hstack([p[:height] for p in pieces])


@dataclass(frozen=True)
class CombStrip:
    """Combs prepared for reading: the tesseract strip and the digit model's view of every cell.

    Attributes:
        strip: One row per inked comb, its cells' ink side by side (outline removed).
        fields: The combs in the strip's slot order.
        decided: Combs without ink, answered at once.
        cells: For each stacked comb, the indexes of its inked cells (0-based, left to right).
        probabilities: For each stacked comb, the digit model's ``(len(cells), 10)`` probabilities.
        agreements: For each stacked comb, how many of its digits stand on one baseline
            (:func:`pipeline.icr.baseline_agreement`; typed digits all do).
    """

    strip: Strip
    fields: list[Field]
    decided: dict[str, ExtractedField]
    cells: list[list[int]]
    probabilities: list[np.ndarray]
    agreements: list[float | None] = field(default_factory=list)


def read_comb_fields(
    fields: Sequence[Field], page: RegisteredPage, ocr_image: np.ndarray, mask: np.ndarray, ocr: OcrSettings
) -> CombStrip:
    """Prepare the combs: each cell's digit isolated once, for tesseract and for the digit model.

    Each comb's ink is split into cells by ``pipeline.icr.comb_cells_ink`` (the printed outline
    erased, a digit crossing an edge kept whole, the printed "/" of a date ignored); a cell holds a
    character when its ink reaches ``ocr.cell_ink_min`` of the cell interior's area. For tesseract,
    each inked cell's digit (grey, on white, cell plus ``icr.cell_margin_pt`` each side) is laid
    side by side in one row per comb; the same ink goes to the digit model (``pipeline.icr``).

    Args:
        fields: Comb fields of the page (re-aligned, pt).
        page: The registered page (scale, resolution, quality).
        ocr_image: The registered page with paper set to white (:func:`paper_to_white`).
        mask: Its ink mask (0/1).
        ocr: Thresholds, scales and the ``icr`` section.

    Returns:
        The strip and, per stacked comb, its inked cells and their digit probabilities.
    """
    s = page.px_per_pt
    factor = max(1.0, ocr.comb_ocr_dpi_min / page.dpi)
    decided: dict[str, ExtractedField] = {}
    inked: list[Field] = []
    rows: list[np.ndarray] = []
    cells: list[list[int]] = []
    features: list[list[np.ndarray]] = []
    agreements: list[float | None] = []
    for f in fields:
        interior = _cell_interior(f.cells[0], ocr)
        min_area_pt2 = ocr.cell_ink_min * interior.width * interior.height
        full = [c for c in comb_cells_ink(mask, f, s, ocr.icr) if c.area_pt2 >= min_area_pt2]
        if not full:
            decided[f.name] = _empty_field(f, page.quality)
            continue
        rows.append(_scaled(_digit_row(full, ocr_image, int(round(ocr.comb_digit_gap_pt * s))), factor))
        inked.append(f)
        cells.append([c.index for c in full])
        height = min(c.mask.shape[0] for c in full)
        agreements.append(baseline_agreement(np.hstack([c.mask[:height] for c in full]), s, ocr.icr))
        features.append([digit_features(c.mask, ocr.icr) for c in full])  # type: ignore[misc]
    gap = int(round(ocr.strip_gap_pt * s * factor))
    flat = [v for row in features for v in row]
    probabilities = digit_probabilities(flat, ocr.icr) if flat else np.zeros((0, 10))
    split = np.cumsum([len(row) for row in features])[:-1]
    return CombStrip(stack_zones(rows, gap, gap), inked, decided, cells,
                     list(np.split(probabilities, split)) if features else [], agreements)


def comb_field(field: Field, words: Sequence[Word], cells: Sequence[int], probabilities: np.ndarray,
               quality: float, ocr: OcrSettings, typed: bool = False) -> ExtractedField:
    """Decide a comb's value and confidence from tesseract's words and the digit model, cell by cell.

    Tesseract's digits are placed in the inked cells left to right when it read exactly one per
    cell; each cell is then put to :func:`pipeline.icr.agree`. The comb's confidence is its weakest
    cell's, capped at ``ocr.unread_confidence`` when a cell is empty in a comb that must be full, and
    by the value's own syntax (:func:`validator_cap`). When tesseract lost or invented a digit, the
    model's digits stand in as the value shown to the person, at ``icr.disagree_confidence``.

    Args:
        field: The comb field.
        words: Tesseract's words for its row.
        cells: Indexes of its inked cells.
        probabilities: ``(len(cells), 10)`` digit probabilities.
        quality: Position quality 0-1 of the comb (``pipeline.realign``).
        ocr: Thresholds.
        typed: The comb's digits and its page stand on one baseline (``pipeline.icr.looks_handwritten``
            says no): tesseract alone decides when it reads one digit per inked cell at
            ``icr.typed_digit_confidence_min`` or more.

    Returns:
        The extracted field (canonical comb value, source OCR), with the model's own digits in
        ``model_digits``.
    """
    read = "".join(ch for w in words for ch in w.text if ch.isdigit())
    per_cell: list[str | None] = list(read) if len(read) == len(cells) else [None] * len(cells)
    votes = [agree(t, _words_confidence(words), p, ocr.icr) for t, p in zip(per_cell, probabilities, strict=True)]
    if typed and all(per_cell) and _words_confidence(words) >= ocr.icr.typed_digit_confidence_min:
        # Typed digits are tesseract's strength and outside the model's training (handwriting): on phone
        # photos the model read a blurred typed 7 as 9 at 0.98 (issue 3), so it only vouches for writing.
        votes = [CellVote(t, _words_confidence(words), True) for t in per_cell if t is not None]
    value = format_comb(field.kind, "".join(v.digit for v in votes))
    confidence = min((v.confidence for v in votes), default=ocr.unread_confidence) if value else ocr.unread_confidence
    if len(cells) != len(field.cells):
        confidence = min(confidence, ocr.unread_confidence)  # a part-filled comb
    confidence = min(confidence, validator_cap(field.kind, value, ocr))
    model = "".join(str(int(np.argmax(p))) for p in probabilities) or None
    return ExtractedField(name=field.name, value=value, confidence=_with_quality(confidence, quality),
                          source=Source.OCR, page=field.page, zone=_zone(field), model_digits=model)


def field_crops(image: np.ndarray, px_per_pt: float, fields: Sequence[Field], crop_dpi: float) -> dict[str, bytes]:
    """PNG crops of each field's zone (with a margin of ``CROP_MARGIN_PT``) from a registered page.

    Args:
        image: The registered grey page.
        px_per_pt: Its scale.
        fields: Fields to cut out.
        crop_dpi: Resolution of the crops (downscaled when the page is finer; never upscaled).

    Returns:
        Field name → PNG bytes (grey, a few kilobytes each).
    """
    factor = min(1.0, crop_dpi / (px_per_pt * 72.0))
    out: dict[str, bytes] = {}
    for f in fields:
        r = f.rect
        crop = _crop(image, Rect(r.x0 - CROP_MARGIN_PT, r.top - CROP_MARGIN_PT, r.x1 + CROP_MARGIN_PT,
                                 r.bottom + CROP_MARGIN_PT), px_per_pt)
        if not crop.size:
            continue
        ok, png = cv2.imencode(".png", _scaled(crop, factor), [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if ok:
            out[f.name] = png.tobytes()
    return out


DPI_HINT_TOLERANCE = 0.15
"""A file's stated resolution farther than this share from the one measured on the QR codes is ignored:
phones write 72 dpi in every photo (issue 3), and a photo of a page is 150-250 dpi on the paper."""
CROP_MARGIN_PT = 4.0
"""Margin kept around a field's zone in its crop, so a person sees a stroke that crosses the edge."""


def read_scan_page(
    image: np.ndarray,
    dpi_hint: float | None = None,
    ocr: OcrSettings | None = None,
    omr: OmrSettings | None = None,
    definition: FormDefinition | None = None,
) -> ScanPageResult:
    """Read every field of one scanned page.

    Args:
        image: The scanned page, ``uint8`` grey array ``(height_px, width_px)``, any quarter-turn
            orientation, skew up to a few degrees.
        dpi_hint: The scan's resolution in px per inch if the file says it; otherwise it is
            estimated from the QR module size. The page is registered and read at this resolution.
        ocr: Tesseract settings (defaults: ``OcrSettings()``).
        omr: Tick-box and signature settings (defaults: ``OmrSettings()``).
        definition: Form geometry; defaults to version 1.

    Returns:
        The page identity, registration figures and one ``ExtractedField`` per field of the page:
        text/e-mail ``str | None`` and combs in canonical form (source OCR); choices ``list[str]``
        in form order, flags and signatures ``bool`` (source OMR).

    Raises:
        PageNotIdentifiedError: No QR code of ours on the page.
        RegistrationError: The anchors could not be found or do not agree.
        OcrError: Tesseract failed or timed out.
    """
    ocr = ocr or OcrSettings()
    omr = omr or OmrSettings()
    definition = definition or form_v1()
    identified = find_page(image, definition)
    if dpi_hint and abs(dpi_hint - identified.dpi_estimate) > DPI_HINT_TOLERANCE * identified.dpi_estimate:
        dpi_hint = None  # a phone's nominal 72 dpi, not the page's resolution: trust the QR codes
    page = register_page(identified, dpi_hint, definition)
    mask = ink_mask(page.image)
    s = page.px_per_pt
    page_fields = definition.page_fields(identified.identity.page)
    # Stamps, stray signatures and copier streaks: found before reading, so that a streak crossing a zone's
    # blank part is dropped out of the text (``pipeline.foreign_ink``); the rest holds what it reaches.
    foreign = foreign_ink(mask, definition, identified.identity.page, omr, page.image)
    reached = foreign.fields_reached(definition, identified.identity.page, omr)
    crossed = set(reached) - set(foreign.fields_reached(definition, identified.identity.page, omr, streaks=False))
    writing, dropped = drop_clear_streaks(mask, foreign, crossed, definition, identified.identity.page, s, omr, ocr)
    # Toner specks far from any writing are not letters: dropped for reading text (photocopies, faxes).
    text_mask = drop_isolated_specks(writing, s, omr)
    ocr_image = paper_to_white(page.image, text_mask)
    levels = grey_levels(page.image)

    fields: dict[str, ExtractedField] = {}
    layout = definition.pages[identified.identity.page - 1]
    marks = layout.qr_codes + layout.anchors
    # A page whose light had to be flattened was photographed: its letters are sharpened for tesseract.
    photographed = page.evenness < EVEN_PAPER_MIN
    text_image = sharpen_for_ocr(ocr_image, s, ocr) if photographed else ocr_image
    text_strip, text_fields, decided_text = read_text_fields(
        [f for f in page_fields if f.kind is FieldKind.TEXT], page, text_image, text_mask, ocr, marks)
    mail_strip, mail_fields, decided_mail = read_text_fields(
        [f for f in page_fields if f.kind is FieldKind.EMAIL], page, text_image, text_mask, ocr, marks)
    # Each tick box and comb moved onto its own printed place (pipeline.realign), with its position quality.
    template = blank_page_image(identified.identity.page, page.dpi, definition.version)
    aligned = {f.name: realign_field(f, page.image, template, s, page.residual_pt)
               for f in page_fields if f.is_tick or f.kind in COMB_KINDS}
    # On a photo, digits are cut from the ink grown into their lighter strokes (a ballpoint is lighter than toner).
    # Combs and signatures are read on the ink without the streaks dropped out of them (never grown back).
    comb_mask = (grow_ink(page.image, writing, levels.paper, ocr.icr.comb_ink_growth) & (writing | (1 - mask))
                 if photographed else writing)
    combs = read_comb_fields([aligned[f.name][0] for f in page_fields if f.kind in COMB_KINDS], page, ocr_image,
                             comb_mask, ocr)
    with ThreadPoolExecutor(max_workers=3) as pool:
        text_job = pool.submit(ocr_strip, text_strip, ocr, ocr.language)
        mail_job = pool.submit(ocr_strip, mail_strip, ocr, ocr.email_language)
        comb_job = pool.submit(ocr_strip, combs.strip, ocr, ocr.language, DIGITS_CONFIG)
        # OMR runs while tesseract works.
        for f in page_fields:
            if f.is_tick:
                box_field, box_quality = aligned[f.name]
                fields[f.name] = read_ticks(box_field, mask, s, omr, box_quality, page.image, levels)
            elif f.kind is FieldKind.SIGNATURE:
                fields[f.name] = read_signature(f, writing, s, omr, page.quality)
        text_words, mail_words, comb_words = text_job.result(), mail_job.result(), comb_job.result()

    fields.update(decided_text | decided_mail | combs.decided)
    text_pairs = list(zip(text_fields, words_by_slot(text_words, text_strip.slots), strict=True))
    text_pairs += zip(mail_fields, words_by_slot(mail_words, mail_strip.slots), strict=True)
    zones = {f.name: zone_ink(writing, f, definition, s) for f, _ in text_pairs}
    agreements = {name: baseline_agreement(zone, s, ocr.icr) for name, zone in zones.items()}
    # The page's hand is judged on its text zones and its combs together (block capitals can stand as
    # straight as type; digits written one per cell rarely do).
    measured = [a for a in (*agreements.values(), *combs.agreements) if a is not None]
    page_agreement = float(np.median(measured)) if measured else None
    page_by_hand = looks_handwritten(None, page_agreement, ocr.icr)  # the page as a whole, not one zone
    for f, read in text_pairs:
        words = drop_speck_words(read) if f.kind is FieldKind.TEXT else read
        value = repair_reading(f.name, text_value(f.kind, words))
        confidence = _words_confidence(words) if value else ocr.unread_confidence
        if value and f.name in CLASS_LETTER_FIELDS:
            confidence = class_line_confidence(words, fields.get("class_level"), ocr.text_confidence_min)
        if f.kind is FieldKind.EMAIL:
            value, confidence = fix_email(value), email_confidence(confidence, ocr)
        confidence = min(confidence, reading_cap(f, value, ocr))
        doubt = None
        if looks_handwritten(agreements[f.name], page_agreement, ocr.icr) and not (
                not page_by_hand and _typed_as_read(zones[f.name], words, s, ocr)):
            confidence = min(confidence, ocr.icr.handwritten_text_confidence)  # a person reads it from its crop
            doubt = (Doubt.HANDWRITTEN_FORM if page_by_hand else Doubt.HANDWRITTEN) if value is not None else None
        fields[f.name] = ExtractedField(name=f.name, value=value, confidence=_with_quality(confidence, page.quality),
                                        source=Source.OCR, page=f.page, zone=_zone(f), doubt=doubt)
    for f, words, cells, probabilities, agreement in zip(combs.fields, words_by_slot(comb_words, combs.strip.slots),
                                                         combs.cells, combs.probabilities, combs.agreements,
                                                         strict=True):
        typed = not looks_handwritten(agreement, page_agreement, ocr.icr)
        fields[f.name] = comb_field(f, words, cells, probabilities, aligned[f.name][1], ocr, typed)
    # A choice or flag whose only foreign ink is a streak through empty boxes: read without the streak.
    streaked_ticks = [f for f in page_fields if f.is_tick and f.name in crossed]
    if streaked_ticks:
        band = streak_band(foreign.streaks, mask, s, omr)
        for f in streaked_ticks:
            box_field, box_quality = aligned[f.name]
            if boxes_hold_only_streaks(box_field, mask, band, s, omr):
                fields[f.name] = read_ticks(box_field, mask & (1 - band), s, omr, box_quality, page.image, levels)
                dropped.add(f.name)
    # A comb a streak was dropped out of, left with an empty cell: a digit may lie under the streak.
    emptied = {f.name for f, cells in zip(combs.fields, combs.cells, strict=True) if len(cells) != len(f.cells)}
    emptied = dropped & (emptied | set(combs.decided))
    # Ink of a stamp, a stray signature or a copier's streak reaching a zone or a box: a person decides.
    for name in (n for n in reached if n not in dropped or n in emptied):
        fields[name] = fields[name].model_copy(
            update={"confidence": min(fields[name].confidence, omr.foreign_ink_confidence),
                    "doubt": Doubt.FOREIGN_INK})
    log.debug("page %d read: %d fields, residual %.2f pt, %d text and %d comb zones OCR'd",
              identified.identity.page, len(fields), page.residual_pt, len(text_pairs), len(combs.fields))
    ordered = {f.name: fields[f.name] for f in page_fields}
    crops = field_crops(page.image, s, page_fields, ocr.crop_dpi) if ocr.keep_crops else {}
    return ScanPageResult(identified.identity, identified.quarter_turns, page.dpi, page.residual_pt,
                          page.anchors_found, ordered, crops, page_by_hand)
