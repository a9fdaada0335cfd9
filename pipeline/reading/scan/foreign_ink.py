"""Find ink on a registered page that neither the printed form nor a filled-in value explains.

A school stamp, a signature that strays out of its box, a copier's toner streak: such marks cross
zones and tick boxes, and the readers would take their ink for letters or for a tick (issue 3). The
product must not decide such a field alone: every field that foreign ink touches goes to a person
with its crop.

Chain of small steps over plain arrays:
``template_ink`` (the blank form, rendered from the one form definition at the page's resolution)
→ ``value_areas`` (where values may legitimately be written: zones and boxes, with a margin)
→ ``foreign_marks`` (ink not printed, grouped into marks; a mark is foreign when a part of it big
enough lies outside every value area) → ``fields_touched`` (fields whose zone a foreign mark reaches).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from pipeline.form.definition import FOOTER_BASELINE_PT, Field, FormDefinition, Rect
from pipeline.form.template_image import blank_page_image
from pipeline.reading.scan.pixels import grey_percentiles
from pipeline.settings import OmrSettings

FOOTER_BAND_PT = (12.0, 5.0)
"""Height above and below the footer baseline of the printed serial line: it differs on every copy
(the serial), so it is left out rather than compared with a template rendered for another serial."""
WORK_DPI = 100.0
"""Resolution the marks are looked for at: a stamp, a signature or a streak is points wide and long,
and at the page's own 300 dpi the grouping dilations cost seconds (measured: 3.3 s a page; 0.1 s here)."""
# The bands left out along the page's edges and round its marks are ``OmrSettings.foreign_page_edge_pt`` and
# ``foreign_mark_margin_pt``.


@lru_cache(maxsize=8)
def template_ink(version: int, page: int, dpi: float, tolerance_pt: float, ink_grey_max: int) -> np.ndarray:
    """The blank form's printed ink on one page, grown by ``tolerance_pt`` (bounded cache of 8 pages).

    Args:
        version: Form version (a key of ``pipeline.form.definition.FORM_VERSIONS``).
        page: 1-based page.
        dpi: Resolution of the mask (px per inch).
        tolerance_pt: Growth of the printed ink, in pt: registration error plus toner spread.
        ink_grey_max: Grey level (0-255) under which a pixel of the rendered blank form is ink
            (``OmrSettings.template_ink_grey_max``).

    Returns:
        ``bool`` array ``(round(PAGE_HEIGHT_PT * dpi / 72), round(PAGE_WIDTH_PT * dpi / 72))``, read-only.

    Raises:
        ValueError: Unknown form version.
    """
    grey = blank_page_image(page, dpi, version)
    radius = max(1, int(round(tolerance_pt * dpi / 72.0)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    mask = cv2.dilate((grey < ink_grey_max).astype(np.uint8), kernel) > 0
    mask.setflags(write=False)
    return mask


def _rect_px(r: Rect, s: float, shape: tuple[int, ...], grow_pt: float = 0.0) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    return (max(0, int((r.x0 - grow_pt) * s)), max(0, int((r.top - grow_pt) * s)),
            min(w, int(np.ceil((r.x1 + grow_pt) * s))), min(h, int(np.ceil((r.bottom + grow_pt) * s))))


def _field_rects(field: Field) -> tuple[Rect, ...]:
    """Where a field's value is written: its tick boxes for choices and flags, else its zone."""
    return tuple(b.rect for b in field.boxes) if field.is_tick else (field.rect,)


def value_areas(fields: Sequence[Field], marks: Sequence[Rect], shape: tuple[int, ...], px_per_pt: float,
                margin_pt: float, mark_margin_pt: float, edge_pt: float) -> np.ndarray:
    """Where ink is expected besides the template: value zones and boxes grown by ``margin_pt``, and marks.

    Args:
        fields: The page's fields.
        marks: Anchors and QR codes of the page (pt), left out with ``mark_margin_pt`` around them; the
            footer line and an ``edge_pt`` band along the edges are left out too.
        shape: Shape of the registered page.
        px_per_pt: Its scale.
        margin_pt: How far a value's ink may stray out of its zone (a hand cross overflowing its box).
        mark_margin_pt: Space left out round the marks (``OmrSettings.foreign_mark_margin_pt``).
        edge_pt: Band left out along the page's edges (``OmrSettings.foreign_page_edge_pt``).

    Returns:
        ``bool`` array of ``shape``.
    """
    areas = np.zeros(shape[:2], bool)
    for f in fields:
        for r in _field_rects(f):
            x0, y0, x1, y1 = _rect_px(r, px_per_pt, shape, margin_pt)
            areas[y0:y1, x0:x1] = True
    for m in marks:
        x0, y0, x1, y1 = _rect_px(m, px_per_pt, shape, mark_margin_pt)
        areas[y0:y1, x0:x1] = True
    edge = int(round(edge_pt * px_per_pt))
    areas[:edge, :] = areas[-edge:, :] = areas[:, :edge] = areas[:, -edge:] = True
    top, bottom = FOOTER_BAND_PT
    y0, y1 = int((FOOTER_BASELINE_PT - top) * px_per_pt), int((FOOTER_BASELINE_PT + bottom) * px_per_pt)
    areas[max(0, y0):y1, :] = True
    return areas


@dataclass(frozen=True)
class ForeignInk:
    """The foreign ink of a registered page, at ``WORK_DPI``, in two kinds.

    Attributes:
        marks: ``bool`` array: what stamps, stray signatures and short lines cover.
        streaks: ``bool`` array, same shape: straight lines of unprinted ink (:func:`streaks`: copier or
            fax streaks, a stamp's frame), their own ink only. An upright one passing through a text zone's
            blank part can be dropped out of it (:func:`streak_clear_of_writing`); everything else sends the
            fields it reaches to a person.
    """

    marks: np.ndarray
    streaks: np.ndarray

    def fields_reached(self, definition: FormDefinition, page: int, omr: OmrSettings, *,
                       streaks: bool = True) -> list[str]:
        """Fields of the page that the marks reach, and the streaks too unless ``streaks`` is false.

        What a mark covers is measured on its darkest pixels: its paler edge reaches ``omr.foreign_group_pt``
        further, by which it is grown. The fields of ``omr.stamp_fields`` are exempt.

        Returns:
            Field names, in form order.
        """
        found = (self.marks | self.streaks) if streaks else self.marks
        radius = max(1, round(omr.foreign_group_pt * WORK_DPI / 72.0))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        grown = cv2.dilate(found.astype(np.uint8), disc) > 0
        return fields_touched(grown, definition.page_fields(page), WORK_DPI / 72.0, omr.stamp_fields)


def _unseen_lines(labels: np.ndarray, count: int, mask: np.ndarray, template: np.ndarray, areas: np.ndarray,
                  omr: OmrSettings) -> np.ndarray:
    """Labels of the lines found on the faint mask that the readers never see: on the blank paper they cross (off
    the printed form and every value area), under ``omr.streak_paper_ink_min`` of their pixels are ink.

    Readers see only the ink mask: the text readers a page whitened outside it, OMR and combs its fill. A copier's
    streak lighter than the ink threshold all along its length changes no reading, yet it reached every field of
    its column (issue 16; devset typed forms at 10be5cb + the witnesses: fields held as « encre étrangère » 16 → 11,
    each read right by both readers; the project's own scans, seed 2026, 2 forms per kind: 42 → 38, none wrong
    above the review threshold). A line of letters' strokes that the gap
    bridging joined across rows is no ink on paper either.
    """
    paper = (~template & ~areas).ravel()
    flat = labels.ravel()
    on_paper = np.bincount(flat[paper], minlength=count).astype(np.float64)
    inked = np.bincount(flat[paper & (mask.ravel() > 0)], minlength=count)
    share = inked / np.maximum(on_paper, 1.0)
    unseen = np.nonzero(share < omr.streak_paper_ink_min)[0]
    return unseen[unseen > 0]


def _split_lines(extra: np.ndarray, mask: np.ndarray, template: np.ndarray, px_per_pt: float, omr: OmrSettings,
                 faint: np.ndarray | None, areas: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The page's straight lines, as streaks and as short level lines (a stamp's frame, an underline).

    ``extra`` (the ink not in the template, 0/1 ``uint8``) is updated in place: short lines join it, and the ink
    around streaks leaves it (:func:`foreign_marks`).

    Returns:
        The streaks and the short lines, ``uint8`` 0/1 masks of the page's shape.
    """
    # Streaks are looked for on all the ink: where they cross printed text they would break into dashes.
    lines = streaks((faint if faint is not None else mask > 0).astype(np.uint8), px_per_pt, omr)
    # A level line shorter than a stamp (its frame, a signature's underline) is foreign all the same, and also
    # joins the ink around it, so that a stamp's frame makes part of its hull. An upright line is a streak
    # whatever its length (a faint one is seen in pieces; a stamp's sides are shorter than ``streak_min_pt``).
    # Each line is judged whole, before the printed form is taken out of it: the piece of an upright streak
    # left between two printed lines of text can be wider than tall (issue 16: it became a mark at the title
    # once the title's glyphs changed by a pixel).
    count, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    if count > 1 and faint is not None and areas is not None:
        lines[np.isin(labels, _unseen_lines(labels, count, mask, template, areas, omr))] = 0
    lines &= ~template.astype(np.uint8)
    longest = omr.foreign_hull_max_pt * px_per_pt
    short = [i for i in range(1, count)
             if stats[i, cv2.CC_STAT_HEIGHT] <= stats[i, cv2.CC_STAT_WIDTH] <= longest]
    short_lines = (np.isin(labels, short) & (lines > 0)).astype(np.uint8) if short else np.zeros_like(lines)
    lines[short_lines > 0] = 0
    extra[short_lines > 0] = 1
    # Streaks are marks of their own; taken out, they cannot join the values they cross into one hull.
    extra[cv2.dilate(lines, np.ones((omr.streak_exclusion_px, omr.streak_exclusion_px), np.uint8)) > 0] = 0
    return lines, short_lines


def foreign_marks(mask: np.ndarray, template: np.ndarray, areas: np.ndarray, px_per_pt: float,
                  omr: OmrSettings, faint: np.ndarray | None = None,
                  coverage: np.ndarray | None = None) -> ForeignInk:
    """Marks of ink that are neither printed nor a value: stamps, stray signatures, streaks.

    Ink not in the (grown) template is grouped into marks by a dilation of
    ``omr.foreign_group_pt``, and a mark is foreign when its ink outside every value area reaches
    ``omr.foreign_ink_min_pt2``.

    Args:
        mask: Ink mask of the registered page (0/1 ``uint8``, specks removed; see :func:`foreign_ink_mask`).
        template: :func:`template_ink` for the page (same shape).
        areas: :func:`value_areas` for the page (same shape).
        px_per_pt: Scale of the page.
        omr: Thresholds (``OmrSettings.foreign_*``).
        faint: Where the page is darker than paper at all (0/1 ``uint8``, same shape), to find streaks too
            faint to be ink everywhere along their length; ``mask`` when not given.
        coverage: The share (0-1, ``float32``, same shape) of each pixel that the full-resolution ink covers,
            when ``mask`` was reduced from a finer page keeping any ink: a mark's ink is then measured as the
            area it covers, not as the count of coarse pixels it touches. ``mask`` counts whole pixels when
            not given.

    Returns:
        What each foreign mark covers (the convex hull of a compact mark grouped by ``omr.foreign_merge_pt``,
        the grouped ink of a mark longer than ``omr.foreign_hull_max_pt``), and apart from it the straight
        lines (:func:`streaks`, a stamp's frame as well as a copier's streak).
    """
    extra: np.ndarray = ((mask > 0) & ~template).astype(np.uint8)
    # Stamps, signatures and streaks are strokes; a wide dark blot is a shadow's edge left by flattening a
    # photo (or a blackened box, a value): whatever holds a large solid part is no foreign mark.
    drop_blots(extra, px_per_pt, omr)
    lines, short_lines = _split_lines(extra, mask, template, px_per_pt, omr, faint, areas)
    drop_dust(extra, mask, px_per_pt, omr)
    longest = omr.foreign_hull_max_pt * px_per_pt
    radius = max(1, int(round(omr.foreign_group_pt * px_per_pt)))
    grouped = cv2.dilate(extra, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    count, labels = cv2.connectedComponents(grouped, connectivity=8)
    if count <= 1:
        return ForeignInk(np.zeros(lines.shape, bool), (lines | short_lines) > 0)
    loose = (extra > 0) & ~areas
    outside = np.bincount(labels[loose], weights=None if coverage is None else coverage[loose],
                          minlength=count).astype(np.float64)
    foreign = outside / (px_per_pt * px_per_pt) >= omr.foreign_ink_min_pt2
    foreign[0] = False
    if not foreign.any():  # what follows would find no mark (most pages: nothing was stamped or signed astray)
        return ForeignInk(np.zeros(lines.shape, bool), (lines | short_lines) > 0)
    seeds = foreign[labels].astype(np.uint8)
    # A stamp prints unevenly and its pale strokes fall under the ink threshold, so its ring breaks into
    # arcs, and the arcs crossing zones are not outside any: ink within ``foreign_merge_pt`` of a foreign
    # mark joins it (one step, no chains), and what a compact mark covers is its convex hull (a stamp's
    # disc, a signature's loops). A long mark (a copier's streak) covers only its own ink: its hull would
    # take in every value it passes by.
    radius = max(1, int(round(omr.foreign_merge_pt * px_per_pt)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = dilate_around_ink(seeds, disc) > 0
    joining = np.unique(labels[near & (grouped > 0)])
    marks = np.isin(labels, joining[joining > 0]).astype(np.uint8)
    count, groups = cv2.connectedComponents(dilate_around_ink(marks, disc), connectivity=8)
    # The joined ink ties a mark's parts together, but the hull is that of the foreign ink outside the
    # zones and of what lies within ``foreign_merge_pt`` of it: a value line the stamp touches would
    # otherwise stretch the hull over the fields beyond.
    outer = (seeds & ~areas.astype(np.uint8)) | (extra & dilate_around_ink(seeds & ~areas.astype(np.uint8), disc))
    ys, xs = np.nonzero(outer)
    owner = groups[ys, xs]
    covered = np.zeros_like(marks)
    for label in np.unique(owner):
        mine = owner == label
        pts = np.column_stack((xs[mine], ys[mine])).astype(np.int32)
        if max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])) <= longest:
            cv2.fillPoly(covered, [cv2.convexHull(pts)], 1)
        else:
            covered |= (seeds & (groups == label)).astype(np.uint8)
    # A line's own hull is the line: it stays a streak, not a mark; a stamp's frame leaves its disc a mark.
    thin = cv2.dilate(lines | short_lines, np.ones((omr.streak_hull_px, omr.streak_hull_px), np.uint8))
    return ForeignInk((covered > 0) & (thin == 0), (lines | short_lines) > 0)


def dilate_around_ink(binary: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``cv2.dilate(binary, kernel)``, the same array, computed only over the ink's bounding box grown by the kernel.

    A foreign mark covers a small part of a page: dilating the whole page by a 29 × 29 disc cost 6 ms at
    ``WORK_DPI``, three times a page (issue 19). Outside that box the dilation is zero; inside it, every pixel
    sees all the ink it would see on the whole page.

    Args:
        binary: ``uint8`` image (0/1 or 0/255).
        kernel: A structuring element of odd sides, anchored at its centre (``cv2.getStructuringElement``).
    """
    out = np.zeros_like(binary)
    points = cv2.findNonZero(binary)
    if points is None:
        return out
    x, y, w, h = cv2.boundingRect(points)
    ry, rx = kernel.shape[0] // 2, kernel.shape[1] // 2
    y0, y1 = max(0, y - ry), min(binary.shape[0], y + h + ry)
    x0, x1 = max(0, x - rx), min(binary.shape[1], x + w + rx)
    out[y0:y1, x0:x1] = cv2.dilate(binary[y0:y1, x0:x1], kernel)
    return out


def drop_dust(extra: np.ndarray, mask: np.ndarray, px_per_pt: float, omr: OmrSettings) -> None:
    """Take isolated toner specks out of the foreign ink, in place: dust makes no mark.

    A photocopy's specks measure 0.3-1.7 pt² (``OmrSettings.speck_max_pt2``). Reduced to ``WORK_DPI`` keeping any
    ink, one covers up to 3 × 3 pixels, so that two or three of them, grouped by ``omr.foreign_group_pt``, reached
    ``omr.foreign_ink_min_pt2`` and their hull held the fields beside them (devset photocopies: e-mails and tick
    boxes read right held « un tampon… couvre la zone »). A piece of foreign ink at most ``omr.foreign_dust_max_pt``
    a side with no other ink within ``omr.speck_isolation_pt`` (printed form included) is taken for dust. A stamp
    or a signature is strokes longer than that, and a pale stamp's ring breaks into arcs, not dots; a speck beside
    a stroke or a streak stays, as before. Measured when it was added: devset, one field fewer for a person (an
    e-mail read right by both readers) and nothing else changed; the project's own 25 kinds (2 forms each,
    stamped scans and copies included), every figure unchanged. Cost: under 0.01 s a page.

    Args:
        extra: The page's foreign ink (0/1 ``uint8``, at ``px_per_pt``), updated in place.
        mask: The page's whole ink mask (same shape), against which a speck's isolation is measured.
        px_per_pt: Scale of both.
        omr: ``foreign_dust_max_pt`` and ``speck_isolation_pt``.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(extra, connectivity=8)
    if count <= 1:
        return
    side = omr.foreign_dust_max_pt * px_per_pt
    small = (stats[:, cv2.CC_STAT_WIDTH] <= side) & (stats[:, cv2.CC_STAT_HEIGHT] <= side)
    small[0] = False
    if not small.any():
        return
    is_small = small[labels]
    radius = max(1, int(round(omr.speck_isolation_pt * px_per_pt)))
    near = cv2.dilate(((mask > 0) & ~is_small).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))) > 0
    touching = np.unique(labels[is_small & near])
    dust = small.copy()
    dust[touching] = False
    extra[dust[labels]] = 0


def drop_blots(extra: np.ndarray, px_per_pt: float, omr: OmrSettings) -> None:
    """Erase from ``extra`` (0/1 ``uint8``, in place) every group of ink holding a solid part.

    A part is solid when a square of ``omr.foreign_stroke_max_pt`` fits in it; its group is erased when that
    solid area reaches ``omr.foreign_blot_min_pt2`` (square PDF points at ``px_per_pt``).
    """
    side = max(2, int(round(omr.foreign_stroke_max_pt * px_per_pt)))
    solid = cv2.morphologyEx(extra, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
    if solid.any():
        count, labels = cv2.connectedComponents(extra, connectivity=8)
        solid_area = np.bincount(labels[solid > 0], minlength=count) / (px_per_pt * px_per_pt)
        blots = np.nonzero(solid_area >= omr.foreign_blot_min_pt2)[0]
        extra[np.isin(labels, blots[blots > 0])] = 0


def streaks(extra: np.ndarray, px_per_pt: float, omr: OmrSettings) -> np.ndarray:
    """Long straight vertical or horizontal lines of unprinted ink: a copier's or fax's streaks.

    Along each axis the ink is widened by two pixels across (``omr.streak_widen_px``: a streak on a copy skewed
    by 2° drifts 4 px over ``streak_min_pt`` at ``WORK_DPI``), a vertical
    streak's gaps bridged (``omr.streak_gap_pt``: a black-and-white copy breaks a faint streak into
    dashes), and opened
    with a line as long as ``omr.streak_min_pt`` (vertical) or ``omr.streak_min_horizontal_pt``; what
    survives, back on the ink, is a streak.

    Args:
        extra: Ink (0/1 ``uint8``) at ``px_per_pt``: the page's, so that printed text does not break a
            streak; the caller keeps the part off the printed form.
        px_per_pt: Its scale.
        omr: Lengths (``OmrSettings.streak_*``).

    Returns:
        ``uint8`` 0/1 array of ``extra``'s shape: the streaks' ink.
    """
    out = np.zeros_like(extra)
    # Gaps are bridged along vertical streaks only: bridged horizontally, the words of a typed line join.
    for length_pt, gap_pt, along_y in ((omr.streak_min_pt, omr.streak_gap_pt, True),
                                       (omr.streak_min_horizontal_pt, 0.0, False)):
        length = max(2, int(round(length_pt * px_per_pt)))
        gap = max(1, int(round(gap_pt * px_per_pt)))
        # Kernels as numpy (rows, columns): a vertical streak is widened across its columns, bridged and
        # opened along its rows.
        widen = omr.streak_widen_px
        across, bridge, line = ((1, widen), (gap, 1), (length, 1)) if along_y else ((widen, 1), (1, gap), (1, length))
        widened = cv2.dilate(extra, np.ones(across, np.uint8))
        bridged = cv2.morphologyEx(widened, cv2.MORPH_CLOSE, np.ones(bridge, np.uint8))
        found = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, np.ones(line, np.uint8))
        # A streak is thin: a wide dark band (a photo's shadow edge left by flattening) is not one. A streak is
        # thick only where it crosses other ink (a printed word, a box), a band along most of its length.
        side = int(round(omr.streak_max_width_pt * px_per_pt)) + widen
        thick = cv2.morphologyEx(found, cv2.MORPH_OPEN, np.ones((side, side), np.uint8))
        if thick.any():
            count, labels, stats, _ = cv2.connectedComponentsWithStats(found, connectivity=8)
            lengths = stats[:, cv2.CC_STAT_HEIGHT if along_y else cv2.CC_STAT_WIDTH]
            thick_labels = labels * (thick > 0)
            thick_length = np.zeros(count)
            for label in np.unique(thick_labels[thick_labels > 0]):
                ys, xs = np.nonzero(thick_labels == label)
                thick_length[label] = len(np.unique(ys if along_y else xs))
            wide = np.nonzero(thick_length > omr.streak_thick_share_max * lengths)[0]
            found[np.isin(labels, wide[wide > 0])] = 0
        out |= found
    return out & cv2.dilate(extra, np.ones((3, 3), np.uint8))


def streak_band(streaks: np.ndarray, mask: np.ndarray, px_per_pt: float, omr: OmrSettings) -> np.ndarray:
    """The page's ink that is its streaks' own, at the page's scale (for clearing tick boxes of them).

    ``streaks`` was found at ``WORK_DPI``, a point or two wide and, for a faint streak, in pieces. Upright
    pieces (at least ``omr.streak_piece_pt`` tall) are joined across gaps of ``omr.streak_run_on_pt`` vertically,
    level pieces horizontally, each apart (two parallel streaks a few pixels apart are never joined across),
    and brought to the page's scale with every piece as found, widened by a point. Of the page's ink there,
    only straight runs at least ``omr.streak_run_pt`` long along an axis are kept, then widened by a pixel: the
    streak itself, not the strokes of a cross or the body of a blackened box it passes through. Where the
    page's streak is broken, less is kept, and a box it crosses is not cleared of it.

    Args:
        streaks: ``ForeignInk.streaks`` (at ``WORK_DPI``).
        mask: The page's ``uint8`` 0/1 ink mask, ``px_per_pt`` pixels per point.
        px_per_pt: Its scale.
        omr: ``streak_run_on_pt``, ``streak_piece_pt`` and ``streak_run_pt``.

    Returns:
        ``uint8`` 0/1 array of ``mask``'s shape.
    """
    s = WORK_DPI / 72.0
    piece = max(2, round(omr.streak_piece_pt * s))
    run_on = max(1, round(omr.streak_run_on_pt * s))
    found: np.ndarray = streaks.astype(np.uint8)
    near: np.ndarray = found.copy()
    for piece_kernel, run_kernel in (((piece, 1), (run_on, 1)), ((1, piece), (1, run_on))):
        pieces = cv2.morphologyEx(found, cv2.MORPH_OPEN, np.ones(piece_kernel, np.uint8))
        near |= cv2.morphologyEx(pieces, cv2.MORPH_CLOSE, np.ones(run_kernel, np.uint8))
    reach = 2 * round(px_per_pt) + 1
    near = cv2.dilate(cv2.resize(near, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_NEAREST),
                      np.ones((reach, reach), np.uint8))
    ink: np.ndarray = near & mask
    run = max(2, round(omr.streak_run_pt * px_per_pt))
    along_rows: np.ndarray = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    along_columns: np.ndarray = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    own = along_rows | along_columns
    return cv2.dilate(own, np.ones((3, 3), np.uint8))


def fields_touched(foreign: np.ndarray, fields: Sequence[Field], px_per_pt: float,
                   exempt: Sequence[str] = ()) -> list[str]:
    """Names of the fields whose zone or boxes a foreign mark reaches (in field order).

    Args:
        foreign: :func:`foreign_marks` of the page.
        fields: The page's fields.
        px_per_pt: Scale of the page.
        exempt: Fields where a foreign mark is expected (the school stamp's signature box).
    """
    out = []
    for f in fields:
        if f.name in exempt:
            continue
        for r in _field_rects(f):
            x0, y0, x1, y1 = _rect_px(r, px_per_pt, foreign.shape)
            if foreign[y0:y1, x0:x1].any():
                out.append(f.name)
                break
    return out


def foreign_ink(mask: np.ndarray, definition: FormDefinition, page: int, omr: OmrSettings,
                grey: np.ndarray | None = None) -> ForeignInk:
    """The foreign marks and streaks of a registered page (see :func:`foreign_marks`), at ``WORK_DPI``.

    Specks are removed at the page's resolution (a 2×2 opening, joined by openings along five pixels down
    and across, so that a streak one pixel wide survives), then the mask is reduced to ``WORK_DPI`` keeping
    any ink, where the marks are found.

    Args:
        mask: Ink mask of the registered page (0/1 ``uint8``), any resolution: the page covers it whole.
        definition: Form geometry.
        page: 1-based page number.
        omr: Thresholds (``OmrSettings.foreign_*``, ``streak_*``).
        grey: The registered grey page (same shape as ``mask``), to find faint streaks; optional.

    Returns:
        Marks and streaks, each a ``bool`` array of
        ``(round(PAGE_HEIGHT_PT * WORK_DPI / 72), round(PAGE_WIDTH_PT * WORK_DPI / 72))``.
    """
    s = WORK_DPI / 72.0
    template = template_ink(definition.version, page, WORK_DPI, omr.foreign_template_tolerance_pt,
                            omr.template_ink_grey_max)
    size = (template.shape[1], template.shape[0])

    def reduce(binary: np.ndarray) -> np.ndarray:
        """The share (0-255) of each ``WORK_DPI`` pixel that ``binary``'s ink covers, specks removed."""
        # Specks go (a 2×2 opening); a streak one pixel wide, which that opening loses, stays (a run of 5 pixels).
        opened = cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        for kernel in ((5, 1), (1, 5)):
            cv2.bitwise_or(opened, cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones(kernel, np.uint8)), dst=opened)
        opened *= np.uint8(255)
        share: np.ndarray = cv2.resize(opened, size, interpolation=cv2.INTER_AREA)
        return share

    faint = None
    if grey is not None:
        paper, ink = grey_percentiles(grey[::4, ::4], (90.0, 0.5))
        faint = (reduce((grey < paper - omr.streak_faint_share * (paper - ink)).astype(np.uint8)) > 0).astype(np.uint8)
    layout = definition.pages[page - 1]
    areas = value_areas(definition.page_fields(page), layout.anchors + layout.qr_codes, (size[1], size[0]), s,
                        omr.foreign_zone_margin_pt, omr.foreign_mark_margin_pt, omr.foreign_page_edge_pt)
    share = reduce(mask)
    return foreign_marks((share > 0).astype(np.uint8), template, areas, s, omr, faint, share / np.float32(255))


def find_foreign_ink(mask: np.ndarray, definition: FormDefinition, page: int, omr: OmrSettings,
                     grey: np.ndarray | None = None) -> list[str]:
    """Fields of a registered page that foreign ink (a stamp, a stray signature, a streak) reaches.

    Args:
        mask: Ink mask of the registered page (0/1 ``uint8``), any resolution: the page covers it whole.
        definition: Form geometry.
        page: 1-based page number.
        omr: Thresholds (``OmrSettings.foreign_*``, ``streak_*``, ``stamp_fields``).
        grey: The registered grey page, to find streaks too faint to be ink all along; optional.

    Returns:
        Field names, in form order; empty for a page with no foreign mark.
    """
    return foreign_ink(mask, definition, page, omr, grey).fields_reached(definition, page, omr)


def streak_clear_of_writing(zone_ink: np.ndarray, streak_ink: np.ndarray, px_per_pt: float,
                            omr: OmrSettings, clearance_pt: float | None = None) -> bool:
    """Whether the streaks crossing a text zone can be dropped out of it without touching its writing.

    A copier's drum streak runs down the whole page and crosses every zone in its column; tesseract reads
    it as ``|`` (``École élémentaire Anatole France |`` on photocopies, issue 3). Where it passes through the
    blank part of a zone, no writing lies within ``omr.streak_clearance_pt`` of it, and taking its pixels out
    loses nothing. The clearance is wider than a word space at the form's 10 pt (2.8 pt), so that a narrow
    letter hidden under a streak (``l``, ``I``) always has a neighbour close enough to hold the zone.

    Args:
        zone_ink: ``uint8`` 0/1 ink of the zone (:func:`pipeline.reading.scan.streaks.zone_ink`), at ``px_per_pt``.
        streak_ink: ``uint8`` 0/1, same shape: the part of that ink that belongs to streaks.
        px_per_pt: Scale, pixels per PDF point.
        omr: ``streak_clearance_pt``, ``streak_max_width_pt``, ``streak_width_slack_pt`` and ``speck_max_pt2``.
        clearance_pt: Clearance in PDF points in place of ``omr.streak_clearance_pt`` (a comb's is narrower).

    Returns:
        True when every piece of streak in the zone is thin (an upright line, or a faint one's dashes) and
        clear of other ink but specks; False otherwise, or when no streak is there.
    """
    count, _, stats, _ = cv2.connectedComponentsWithStats(streak_ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        return False
    widest = (omr.streak_max_width_pt + omr.streak_width_slack_pt) * px_per_pt
    if (stats[1:, cv2.CC_STAT_WIDTH] > widest).any():
        return False  # a level streak runs along the letters; a wide one is no drum line
    radius = max(1, round((omr.streak_clearance_pt if clearance_pt is None else clearance_pt) * px_per_pt))
    near = cv2.dilate(streak_ink.astype(np.uint8), np.ones((1, 2 * radius + 1), np.uint8))
    edge = cv2.dilate(streak_ink.astype(np.uint8), np.ones((1, 3), np.uint8))  # its anti-aliased rim
    writing = ((zone_ink > 0) & (edge == 0)).astype(np.uint8)
    # Toner specks beside a streak are no writing (``omr.speck_max_pt2``): a letter is larger.
    count, labels, stats, _ = cv2.connectedComponentsWithStats(writing, connectivity=8)
    close = np.unique(labels[(near > 0) & (writing > 0)])
    speck_px = omr.speck_max_pt2 * px_per_pt * px_per_pt
    return bool((stats[close[close > 0], cv2.CC_STAT_AREA] <= speck_px).all())


def drop_isolated_specks(mask: np.ndarray, px_per_pt: float, omr: OmrSettings) -> np.ndarray:
    """The ink mask without toner specks: small blots far from any other ink (photocopies, faxes).

    Tesseract reads a speck beside a value as ``|`` or ``.`` with high confidence (measured on
    photocopies: ``2026-2027 |`` at 0.94). A blot of at most ``omr.speck_max_pt2`` is dropped when no
    larger ink lies within ``omr.speck_isolation_pt``: the dot of an ``i``, an accent, a period or an
    e-mail's dot sit within 2 pt of their letters and stay.

    Args:
        mask: Ink mask of the registered page (0/1 ``uint8``).
        px_per_pt: Its scale.
        omr: ``speck_max_pt2`` and ``speck_isolation_pt``.

    Returns:
        A copy of ``mask`` without the isolated specks (``mask`` itself when it has none).
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] <= omr.speck_max_pt2 * px_per_pt * px_per_pt
    small[0] = False
    if not small.any():
        return mask
    # Only the ink's pixels are looked at (a page is mostly paper): the specks' among them.
    points = cv2.findNonZero(mask).reshape(-1, 2)  # (x, y) of every ink pixel (a speck is ink)
    xs, ys = points[:, 0], points[:, 1]
    speck = small[labels[ys, xs]]
    xs, ys = xs[speck], ys[speck]
    big = (mask > 0).astype(np.uint8)
    big[ys, xs] = 0
    # Nearness is measured at a quarter of the resolution: points, not pixels, matter here.
    h, w = mask.shape
    reduced = cv2.resize(big * np.uint8(255), (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA) > 0
    radius = max(1, int(round(omr.speck_isolation_pt * px_per_pt / 4)))
    grown = cv2.dilate(reduced.astype(np.uint8),
                       cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    near = cv2.resize(grown, (w, h), interpolation=cv2.INTER_NEAREST) > 0
    alone = ~near[ys, xs]
    out = mask.copy()
    out[ys[alone], xs[alone]] = 0
    return out
