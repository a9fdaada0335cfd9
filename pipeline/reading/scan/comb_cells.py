"""The ink of each comb cell, its printed outline removed and a digit crossing it kept.

:func:`comb_cells_ink` cuts a comb into its cells on the registered page's ink mask (pixels at
``px_per_pt`` per PDF point) and returns each cell's ink for the digit readers.
"""


from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.form.definition import Field, Rect
from pipeline.settings import IcrSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CellInk:
    """The ink of one comb cell, with the printed outline removed.

    Attributes:
        index: Position of the cell in ``field.cells`` (0-based, left to right).
        mask: ``uint8`` 0/1 mask of the digit's ink, over the cell enlarged by the margin
            (``IcrSettings.cell_margin_pt`` each side), at the page scale.
        area_pt2: Ink area in square points.
        origin_px: Page pixel ``(x, y)`` of ``mask``'s top-left corner.
        edge_share: Share (0-1) of the digit's rows, top to bottom of its ink, in which its ink touches the printed
            outline of a vertical cell edge that was erased (:func:`edge_touch_share`): a digit whose side lies
            along the edge lost that side with the outline.
        restored: ``mask`` with the erased outline ink of each vertical edge it touches given back, from the first
            row where it touches that edge to the last (:func:`restored_digit`), or ``None`` when it touches none.
    """

    index: int
    mask: np.ndarray
    area_pt2: float
    origin_px: tuple[int, int] = (0, 0)
    edge_share: float = 0.0
    restored: np.ndarray | None = None


def _bounds(rect: Rect, px_per_pt: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    x0 = min(max(0, int(round(rect.x0 * px_per_pt))), w)
    y0 = min(max(0, int(round(rect.top * px_per_pt))), h)
    x1 = min(max(x0, int(round(rect.x1 * px_per_pt))), w)
    return x0, y0, x1, min(max(y0, int(round(rect.bottom * px_per_pt))), h)


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
    near_v = edge_columns(shape[1], field, origin_pt[0], px_per_pt, tolerance_pt)
    near_h = np.zeros(shape[0], bool)
    for c in field.cells:
        for y in (c.top, c.bottom):
            a = int(np.floor((y - tolerance_pt - origin_pt[1]) * px_per_pt))
            b = int(np.ceil((y + tolerance_pt - origin_pt[1]) * px_per_pt))
            near_h[max(0, a):max(0, b)] = True
    return near_v[None, :] | near_h[:, None]


def edge_columns(width_px: int, field: Field, origin_x_pt: float, px_per_pt: float, tolerance_pt: float) -> np.ndarray:
    """Columns of a comb's region within ``tolerance_pt`` of a cell's left or right edge (``bool`` of ``width_px``).

    Args:
        width_px: Width of the region.
        field: The comb (cells in pt).
        origin_x_pt: Page x in pt of the region's first column.
        px_per_pt: Scale of the region.
        tolerance_pt: Half-width of the band round each edge, in pt.
    """
    near = np.zeros(width_px, bool)
    for c in field.cells:
        for x in (c.x0, c.x1):
            a = int(np.floor((x - tolerance_pt - origin_x_pt) * px_per_pt))
            b = int(np.ceil((x + tolerance_pt - origin_x_pt) * px_per_pt))
            near[max(0, a):max(0, b)] = True
    return near


def edge_touch_share(digit: np.ndarray, erased_edges: np.ndarray) -> float:
    """The share of a digit's rows in which its ink touches (4-connected) ink erased with a vertical cell edge.

    A stroke that crosses an edge touches it over the rows of its own width; a digit whose side runs along the
    edge touches it over most of its height, and that side was erased with the outline. What is left may be
    another digit, and every reader reads the same strip: a Klee One 8 whose left side lay on the edge became a 3
    for Tesseract, PP-OCRv6 and the digit model alike (``pipeline.reading.scan.combs.comb_field``, rule
    ``digit_on_cell_edge``, gives the figures).

    Args:
        digit: ``bool`` or 0/1 mask of the cell's digit, outline removed.
        erased_edges: Same shape: pixels of the raw ink mask erased as the outline, in the vertical edges' columns
            (:func:`edge_columns`).

    Returns:
        0-1; 0 for an empty cell.
    """
    ink = digit.astype(bool)
    rows = np.nonzero(ink.any(axis=1))[0]
    if not len(rows):
        return 0.0
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    touching = ink & (cv2.dilate(erased_edges.astype(np.uint8), cross) > 0)
    return float(np.count_nonzero(touching.any(axis=1))) / float(rows.max() - rows.min() + 1)


def restored_digit(digit: np.ndarray, erased_edges: np.ndarray) -> np.ndarray | None:
    """The digit with the outline ink erased along it given back: the erased pixels of each vertical edge it
    touches, from the first row where it touches that edge to the last (the digit's side that lay on the edge, with
    the printed line there).

    Args:
        digit: 0/1 mask of the cell's digit, outline removed.
        erased_edges: ``bool``, same shape, as for :func:`edge_touch_share`.

    Returns:
        A ``uint8`` 0/1 mask of ``digit``'s shape, or ``None`` when the digit touches no erased edge (nothing to
        give back).
    """
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], np.uint8)
    ink = digit.astype(bool)
    _, labels = cv2.connectedComponents(erased_edges.astype(np.uint8), connectivity=8)
    near = cv2.dilate(ink.astype(np.uint8), cross) > 0
    out = ink.copy()
    # Each edge the digit touches, over its own span of rows (the side as one stroke, not only the rows it happened
    # to touch); an edge it does not touch is no part of it.
    for label in np.unique(labels[near & erased_edges]):
        edge = labels == label
        rows = np.nonzero((ink & (cv2.dilate(edge.astype(np.uint8), cross) > 0)).any(axis=1))[0]
        if len(rows):
            out[rows.min():rows.max() + 1] |= edge[rows.min():rows.max() + 1]
    return out.astype(np.uint8) if (out != ink).any() else None


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
    # The outline band and the one-pixel ring round it that :func:`remove_outline`'s 3×3 dilation also erases.
    erased_edges = (raw > region) & edge_columns(region.shape[1], field, origin[0], px_per_pt,
                                                 icr.outline_tolerance_pt + 1.0 / px_per_pt)[None, :]
    out: list[CellInk] = []
    for k, cell in enumerate(field.cells):
        a = int(round((cell.x0 - m - origin[0]) * px_per_pt))
        b = int(round((cell.x1 + m - origin[0]) * px_per_pt))
        a, b = max(0, a), min(region.shape[1], b)
        areas = {i: int(stats[i, cv2.CC_STAT_AREA]) for i in owned[k]}
        keep = [i for i, area in areas.items() if area >= icr.fragment_share * max(areas.values())]
        cell_mask = (np.isin(labels[:, a:b], keep) & (region[:, a:b] > 0)).astype(np.uint8) if keep else np.zeros(
            (region.shape[0], max(0, b - a)), np.uint8)
        edges = erased_edges[:, a:b]
        out.append(CellInk(k, cell_mask, float(cell_mask.sum()) / (px_per_pt * px_per_pt), (x0 + a, y0),
                           edge_touch_share(cell_mask, edges), restored_digit(cell_mask, edges)))
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
