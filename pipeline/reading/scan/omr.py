"""OMR: tick boxes and signature zones, read by their fill ratio.

A tick box is ticked, empty or doubtful by the share of its interior that holds ink
(:func:`tick_state`), with a margin to the nearest band edge as its confidence
(:func:`box_margin`); a blacked-out box is the form's way to cancel a tick. Bands and darkness
thresholds are in ``OmrSettings``. Rectangles in PDF points, masks in pixels at the page's DPI.
"""


from __future__ import annotations

import logging
from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.form.definition import (
    ChoiceRule,
    Field,
    FieldKind,
    TickBox,
)
from pipeline.reading.rules import cause_rule
from pipeline.reading.scan.pixels import GreyLevels, crop_rect, ink_share
from pipeline.reading.scan.zones import with_quality, zone_box
from pipeline.settings import OmrSettings, RegistrationSettings
from schemas.extraction import ExtractedField, RawValue, Source, TickState

log = logging.getLogger(__name__)


def tick_state(fill: float, omr: OmrSettings, darkness: float | None = None, core: float | None = None) -> TickState:
    """Band of a fill ratio (see ``OmrSettings`` for the bands and where they come from).

    ``darkness`` (the box's mean darkness, :meth:`GreyLevels.darkness`) confirms a fill in the
    cancelled band: a cross blurred by a phone photo fills 0.6-0.7 of the box once thresholded but
    keeps a darkness of 0.45-0.55, while a blackened box stays above 0.8.

    ``core`` (the ink share of the interior's centre, :func:`core_share`) tells a tick from ink at the rim: every
    tick, cross or check mark crosses the centre of its box, while a frame thickened by a 1-bit scan, a fax's
    or a copier's noise along the border and a shadow's edge stay at the rim (``omr.core_empty_max``). A box in
    the unsure band with no ink at its centre is empty; a box in the ticked band with none is unsure.
    """
    if fill >= omr.cancelled_min and darkness is not None and darkness < omr.cancelled_darkness_min:
        if darkness >= omr.cancelled_darkness_unsure or fill > omr.blurred_tick_fill_max:
            return TickState.UNSURE
        return TickState.TICKED
    if fill >= omr.cancelled_min:
        return TickState.CANCELLED
    rim_only = core is not None and core <= omr.core_empty_max
    if fill >= omr.ticked_min:
        return TickState.UNSURE if rim_only else TickState.TICKED
    if fill > omr.empty_max:
        return TickState.EMPTY if rim_only else TickState.UNSURE
    return TickState.EMPTY


def core_share(interior: np.ndarray, omr: OmrSettings) -> float:
    """Ink share (0-1) of a box interior's centre: the interior (0/1, frame already left out) without
    ``omr.core_cut`` of its height and width on each side. 0 for an empty crop."""
    h, w = interior.shape[:2]
    dy, dx = int(h * omr.core_cut), int(w * omr.core_cut)
    return _share(interior[dy:h - dy, dx:w - dx])


def _band_margin(fill: float, omr: OmrSettings) -> float:
    """Distance of a fill ratio to the nearest band edge that would change the box's value, scaled to 0-1.

    A box read empty changes value only by reaching ``ticked_min``: past ``empty_max`` it would be unsure and go
    to a person, not be read wrong. So an empty box's margin is its distance to ``ticked_min`` over
    ``ticked_min`` (1 at fill 0, 0.6 at ``empty_max``). Measured at c463086 + the second reader: no ticked box
    filled less than 0.15 of its interior, on the devset (500 ticked boxes) or on the project's own scans and
    photos (510, seed 2026, 3 per image kind), while the devset's typed forms print their empty boxes at
    0.035-0.040 (40 boxes: the fillable form's widget border a pixel deeper than the blank frame), which the
    distance to ``empty_max`` put at 0.54 and held for a person though every one was right.
    Other boxes: the distance to the nearest band edge over ``empty_max``.
    """
    if fill <= omr.empty_max:
        return min(1.0, (omr.ticked_min - fill) / max(1e-6, omr.ticked_min))
    edges = sorted((omr.empty_max, omr.ticked_min, omr.cancelled_min))
    nearest = min(abs(fill - e) for e in edges)
    return min(1.0, nearest / max(1e-6, omr.empty_max))


def box_margin(fill: float, omr: OmrSettings, darkness: float | None = None, core: float | None = None) -> float:
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
        core: The ink share of the interior's centre (:func:`core_share`), if measured: in the unsure and ticked
            fill bands it decides, so its distance to ``core_empty_max`` is the margin there.
    """
    if core is not None and omr.empty_max < fill < omr.cancelled_min:
        # The centre decides between empty and ticked here (:func:`tick_state`): its distance to
        # ``core_empty_max``, over it, is the margin of a box empty for want of it, and bounds a tick's.
        core_margin = min(1.0, abs(core - omr.core_empty_max) / max(1e-6, omr.core_empty_max))
        if core <= omr.core_empty_max:
            return core_margin
        return min(core_margin, box_margin(fill, omr, darkness))
    fill_margin = _band_margin(fill, omr)
    if darkness is None or fill < omr.ticked_min:
        return fill_margin
    scale = max(1e-6, omr.empty_max)
    dark_scale = max(1e-6, omr.cancelled_darkness_min - omr.cancelled_darkness_unsure)
    dark_margin = min(abs(darkness - e)
                      for e in (omr.cancelled_darkness_unsure, omr.cancelled_darkness_min)) / dark_scale
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


def _share(crop: np.ndarray) -> float:
    """Share (0-1) of ink pixels in a 0/1 crop; 0 for an empty crop (as :func:`ink_share`)."""
    return float(crop.mean()) if crop.size else 0.0


def inside_frame(crop: np.ndarray, frame_px: int) -> np.ndarray:
    """``crop`` without its outer ``frame_px`` pixels on every side (the crop itself for 0)."""
    if frame_px <= 0:
        return crop
    return crop[frame_px:crop.shape[0] - frame_px, frame_px:crop.shape[1] - frame_px]


def ring_coverage(crop: np.ndarray, rings: int) -> np.ndarray:
    """Ink share (0-1) of each one-pixel ring of a 0/1 crop, from its edge inwards; ``rings`` values at most."""
    out = []
    for k in range(rings):
        inner = crop[k:crop.shape[0] - k, k:crop.shape[1] - k]
        if inner.shape[0] <= 2 or inner.shape[1] <= 2:
            break
        core = inner[1:-1, 1:-1]
        out.append((float(inner.sum()) - float(core.sum())) / (inner.size - core.size))
    return np.array(out)


def blank_frame_px(boxes: Sequence[TickBox], mask: np.ndarray, px_per_pt: float, omr: OmrSettings) -> int:
    """Pixels at the edge of a box interior that the blank form itself inks on this page, whatever printed it.

    The print copies leave a box's interior (inset by ``omr.inset_pt``) blank. The fillable PDF, printed by a
    viewer, draws its check boxes' widget border inside the printed box (issue 16: its ``/MK /BC``), and a
    1-bit scan, a fax or a phone photo thickens it into the interior, where it read as ticks (every class level
    of a phone photo at 0.38, all five « accompagnement existant » at 0.92). The page's own boxes tell the
    blank look: at least a quarter of them are empty even on page 2 (ten boxes, ticks running over their
    edges), so the ``omr.frame_quantile`` quantile, over the page's boxes, of each edge ring's ink share is the
    blank box's (the median took page 2's ticks for a frame on 4 handwritten forms). The frame is the rings from
    the edge whose quantile reaches ``omr.frame_ring_min``, plus one ring of margin; none when the outermost
    ring's is under it. At most ``omr.frame_max_pt``. (Measuring each side apart, the middle half of each
    side's rows or columns, did worse on the independent corpus: typed boxes 96.1 % and 92.7 %.)

    Measured: the project's own kinds (print copies) give 0 on every page, so their reading is unchanged
    (benchmark JSON, base and hard kinds, identical). On the independent corpus (``bench --corpus
    ../shared/devset``): tick boxes right on typed forms 89.9 % → 99.8 % (DejaVu) and 88.3 % → 94.8 %
    (Liberation), boxes read wrong at or above the review threshold 28 → 7 (all on one phone photo whose
    frame is wider on one side than the trimmed rings; :func:`frame_runs_deeper` sends that page's boxes to a
    person: 0), handwritten forms unchanged (98.4 %).

    Args:
        boxes: Every tick box of the page, realigned (PDF points).
        mask: Ink mask of the registered page (0/1 ``uint8``).
        px_per_pt: Its scale.
        omr: ``inset_pt``, ``frame_ring_min``, ``frame_max_pt``.

    Returns:
        The frame's width in pixels at the page's DPI (0 when the blank box is blank).
    """
    return frame_from_rings(blank_rings(boxes, mask, px_per_pt, omr), px_per_pt, omr)


def frame_runs_deeper(boxes: Sequence[TickBox], mask: np.ndarray, px_per_pt: float, omr: OmrSettings) -> bool:
    """Whether the blank box's own ink runs deeper into the interior than ``omr.frame_max_pt``.

    The same measure as :func:`blank_frame_px`, one ring further: when even the ring past the widest frame
    is inked on the page's blank box (its ``omr.frame_quantile`` reaches ``omr.frame_ring_min``), trimming
    cannot give the boxes their blank look back (a border photographed thick on one side, a shadow), and no
    box of the page is read with confidence (:func:`read_ticks`, ``blank_unsure``). Measured: on the
    independent corpus one page, the phone photo ``r0005-phone-typed-liberation`` p1, whose 7 boxes read
    wrong at 0.95 now go to a person; on the project's own kinds no page (benchmark JSON identical).
    """
    return deeper_from_rings(blank_rings(boxes, mask, px_per_pt, omr), px_per_pt, omr)


def blank_rings(boxes: Sequence[TickBox], mask: np.ndarray, px_per_pt: float, omr: OmrSettings) -> np.ndarray:
    """The page's blank box, ring by ring: the ``omr.frame_quantile`` over ``boxes`` of each edge ring's ink
    share (:func:`ring_coverage`), one ring past the widest frame (``omr.frame_max_pt``) when the boxes are
    that deep. Measured once per page; :func:`frame_from_rings` and :func:`deeper_from_rings` read it."""
    most = max(1, round(omr.frame_max_pt * px_per_pt))
    profiles = [ring_coverage(crop_rect(mask, b.rect.inset(omr.inset_pt), px_per_pt), most + 1) for b in boxes]
    depth = min((len(p) for p in profiles), default=0)
    if not depth:
        return np.zeros(0)
    return np.quantile(np.stack([p[:depth] for p in profiles]), omr.frame_quantile, axis=0)


def frame_from_rings(blank: np.ndarray, px_per_pt: float, omr: OmrSettings) -> int:
    """The frame :func:`blank_frame_px` describes, from the page's :func:`blank_rings`."""
    most = max(1, round(omr.frame_max_pt * px_per_pt))
    frame = 0
    while frame < min(most, len(blank)) and blank[frame] >= omr.frame_ring_min:
        frame += 1
    return min(most, frame + 1) if frame else 0


def deeper_from_rings(blank: np.ndarray, px_per_pt: float, omr: OmrSettings) -> bool:
    """Whether the blank box is inked past the widest frame (:func:`frame_runs_deeper`), from :func:`blank_rings`."""
    most = max(1, round(omr.frame_max_pt * px_per_pt))
    return len(blank) > most and bool(np.all(blank[:most + 1] >= omr.frame_ring_min))


def blank_interior_inked(boxes: Sequence[TickBox], mask: np.ndarray, px_per_pt: float, frame_px: int,
                         omr: OmrSettings) -> bool:
    """Whether the page's blank box is inked at its centre: even the emptiest of ``boxes`` has ink past
    ``omr.core_empty_max`` in its core (:func:`core_share` of its interior, ``frame_px`` left out, as
    :func:`read_ticks` reads it).

    Every page has empty boxes. When none reads empty, the page's paper itself reads as ink (dots of a dithered
    fax not told as such, grey paper under a 1-bit scan's threshold): an empty box then fills as much as a thin
    tick, every box is unsure (:func:`read_ticks`, ``blank_unsure``) and the page's questions go to a person. The
    emptiest box, not a quantile: a page 2 with two boxes blacked out (cancelled) and four ticked has three empty
    boxes of ten, and its quarter quantile held a hand-marked scan of the project's benchmark (seed 2026). The
    core, not the whole interior: frayed box edges ink the rim of every box, which :func:`tick_state` already
    reads as empty (a review, 2026-12-07). Measured 2026-12-07 on 202 pages (every scanned page of the devset; the
    project's typed kinds of seed 67 and hand kinds of seed 53; 12 faxes whose paper kept its tone): the emptiest
    box's whole interior is at most 0.003, so no reading changes; the toned faxes, read before their dots were
    told dithered, filled every box to 0.12-0.28 and had a question read wrong at 0.90, which this holds.

    Args:
        boxes: Every tick box of the page, realigned (PDF points).
        mask: The ink the boxes are read on (0/1 ``uint8``).
        px_per_pt: Its scale.
        frame_px: The blank form's frame left out of each interior (:func:`blank_frame_px`).
        omr: ``inset_pt``, ``core_cut``, ``core_empty_max``.
    """
    if not boxes:
        return False
    return min(core_share(inside_frame(crop_rect(mask, b.rect.inset(omr.inset_pt), px_per_pt), frame_px), omr)
               for b in boxes) > omr.core_empty_max


def read_ticks(
    field: Field, mask: np.ndarray, px_per_pt: float, omr: OmrSettings, quality: float,
    grey: np.ndarray | None = None, levels: GreyLevels | None = None,
    registration: RegistrationSettings | None = None, frame_px: int = 0, blank_unsure: bool = False,
) -> ExtractedField:
    """Read a choice or flag field by the fill ratio of each box interior and the ink at its centre.

    Args:
        field: A ``CHOICE`` or ``FLAG`` field (``field.boxes`` in pt).
        mask: Ink mask of the registered page (:func:`ink_mask`).
        px_per_pt: Scale of ``mask`` (``dpi / 72``).
        omr: Bands and inset (``OmrSettings``).
        quality: Registration quality 0-1 (``RegisteredPage.quality``).
        grey: The registered grey page, to measure each box's darkness (see :func:`tick_state`).
        levels: Its paper and ink levels (:func:`grey_levels`); both or neither.
        registration: What the position quality costs the confidence (:func:`with_quality`).
        frame_px: Pixels of each box interior's edge that the blank form itself inks on this page
            (:func:`blank_frame_px`), left out of the fill: 0 for the print copies.
        blank_unsure: The page's blank box is inked deeper than any frame (:func:`frame_runs_deeper`) or inside
            it (:func:`blank_interior_inked`): every box of the page is unsure.

    Returns:
        The field with value ``list[str]`` of ticked options in form order (``bool`` for a
        flag), per-box states and fill ratios. Cancelled and unsure boxes are not in the value.
        Confidence is ``omr.unsure_confidence`` when a box is unsure (rule ``tick_box_unsure``) or the page's
        every box is (``tick_page_unsure``), ``omr.rule_violation_confidence`` when the group's ``ChoiceRule`` is
        broken (``tick_rule_broken``), else grows with the distance to the band edges (``omr.box_edge_confidence``
        on an edge); the rules that held it are in ``rules``, for staff.
    """
    interiors = {b.option: inside_frame(crop_rect(mask, b.rect.inset(omr.inset_pt), px_per_pt), frame_px)
                 for b in field.boxes}
    fills = {opt: _share(interior) for opt, interior in interiors.items()}
    cores = {opt: core_share(interior, omr) for opt, interior in interiors.items()}
    dark = {b.option: (levels.darkness(inside_frame(crop_rect(grey, b.rect.inset(omr.inset_pt), px_per_pt), frame_px))
                       if grey is not None and levels is not None else None) for b in field.boxes}
    states = {opt: tick_state(f, omr, dark[opt], cores[opt]) for opt, f in fills.items()}
    ticked = [b.option for b in field.boxes if states[b.option] is TickState.TICKED]
    confidence = omr.box_edge_confidence + omr.box_margin_weight * min(
        box_margin(fills[opt], omr, dark[opt], cores[opt]) for opt in fills)
    rules: list[str] = []  # the reading's own doubt last: it is what the desk shows (rules.cause_rule)
    if not _rule_ok(field.rule, len(ticked)) and (field.required or ticked):
        confidence = min(confidence, omr.rule_violation_confidence)
        rules.append("tick_rule_broken")
    if any(s is TickState.UNSURE for s in states.values()):
        confidence = min(confidence, omr.unsure_confidence)
        rules.append("tick_box_unsure")
    if blank_unsure:
        confidence = min(confidence, omr.unsure_confidence)
        rules.append("tick_page_unsure")
    value: RawValue = bool(ticked) if field.kind is FieldKind.FLAG else ticked
    return ExtractedField(
        name=field.name, value=value, confidence=with_quality(confidence, quality, registration), source=Source.OMR,
        page=field.page, zone=zone_box(field), ticks=states, fill_ratios={k: round(v, 4) for k, v in fills.items()},
        rules=tuple(rules),
    )


def name_weak_ticks(fields: dict[str, ExtractedField], review_min: float) -> None:
    """Add, in place, the rule ``tick_margin_hold`` to each tick field (choice or flag, read by OMR) under
    ``review_min`` (the review threshold, ``OcrSettings.text_confidence_min``, 0-1) that no rule of its own holds.

    Such a field has no unsure box and keeps its group's rule, but its weakest box lies near a band edge
    (:func:`box_margin`), or the page's position quality costs it (:func:`~pipeline.reading.scan.zones.with_quality`):
    its confidence alone holds it. Until 2026-12-07 staff read « lecture incertaine (54 %) » for it. Measured in the
    field dumps of the devset and of the project's seeds 31, 53 and 67 (hand kinds, typed kinds of 67) and
    photocopies of seed 2026: 2 fields of 5,891 (devset r0021's family criteria, a hand photo's interpreter flag),
    the only held fields left without a recorded cause once combs said theirs (``combs.cell_rules``).
    """
    for name, field in fields.items():
        if (field.source is Source.OMR and field.fill_ratios and field.confidence < review_min
                and cause_rule(field.rules) is None):
            fields[name] = field.model_copy(update={"rules": (*field.rules, "tick_margin_hold")})


def boxes_hold_only_streaks(field: Field, mask: np.ndarray, band: np.ndarray, px_per_pt: float,
                            omr: OmrSettings) -> bool:
    """Whether a choice or flag that a copier's streak reaches can be read without it: every box interior the
    streak passes through holds nothing else, and at least one does.

    A box interior the streak's band (:func:`pipeline.reading.scan.foreign_ink.streak_band`) touches must be
    crossed by it from edge to edge along a row or a column (else the streak may leave the band inside the box), and the
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
        near = crop_rect(band, interior, px_per_pt)
        if not near.any():
            continue
        if not (near.all(axis=0).any() or near.all(axis=1).any()):
            return False
        rest = cv2.morphologyEx(crop_rect(mask, interior, px_per_pt) & (1 - near), cv2.MORPH_OPEN,
                                np.ones((2, 2), np.uint8))
        if rest.sum() > omr.empty_max * max(1, int((near == 0).sum())):
            return False
        crossed = True
    return crossed


def read_signature(
    field: Field, mask: np.ndarray, px_per_pt: float, omr: OmrSettings, quality: float,
    registration: RegistrationSettings | None = None, paper_inked: bool = False,
) -> ExtractedField:
    """Decide whether a signature zone holds ink.

    Args:
        field: A ``SIGNATURE`` field.
        mask: Ink mask of the registered page.
        px_per_pt: Scale of ``mask`` (``dpi / 72``).
        omr: ``signature_inset_pt``, ``signature_ink_min`` and the ``signature_*confidence*`` figures.
        quality: Registration quality 0-1.
        registration: What the position quality costs the confidence (:func:`with_quality`).
        paper_inked: The page's paper reads as ink (:func:`blank_interior_inked`): the zone's ink tells nothing,
            and the confidence is ``omr.unsure_confidence`` at most (rule ``tick_page_unsure``).

    Returns:
        The field with a ``bool`` value; the confidence falls towards ``omr.signature_edge_confidence`` (0.5)
        as the ink share nears ``signature_ink_min`` (within a factor of three either side, at most
        ``omr.signature_confidence_max``).
    """
    share = ink_share(mask, field.rect.inset(omr.signature_inset_pt), px_per_pt)
    present = share >= omr.signature_ink_min
    ratio = share / omr.signature_ink_min if present else omr.signature_ink_min / max(share, 1e-9)
    confidence = min(omr.signature_confidence_max, omr.signature_edge_confidence + omr.signature_margin_weight
                     * min(1.0, (ratio - 1.0) / omr.signature_ratio_span))
    rules: tuple[str, ...] = ()
    if paper_inked:
        confidence, rules = min(confidence, omr.unsure_confidence), ("tick_page_unsure",)
    return ExtractedField(name=field.name, value=present, confidence=with_quality(confidence, quality, registration),
                          source=Source.OMR, page=field.page, zone=zone_box(field), rules=rules)
