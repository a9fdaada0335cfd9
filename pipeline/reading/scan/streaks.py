"""Copier streaks dropped out of the zones they cross but do not write in.

A streak (``pipeline.reading.scan.foreign_ink``) crossing a text zone's blank part, a comb's
printed gaps or a signature zone, clear of the writing by ``omr.streak_clearance_pt``, is removed
from the ink the zone is read on (:func:`drop_clear_streaks`); a streak through the writing
holds the field for a person unless the streak is too pale there to be ink (:func:`streak_unseen_in_zones`) or
the zone, read again with the streak taken out (:func:`erase_streaks_through_writing`), reads the same for one of
its readers. Geometry in PDF points,
masks in pixels at the page's DPI.
"""


from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

import cv2
import numpy as np

from pipeline.form.definition import (
    Field,
    FieldKind,
    FormDefinition,
    Rect,
)
from pipeline.reading.scan.foreign_ink import (
    WORK_DPI,
    ForeignInk,
    streak_band,
    streak_clear_of_writing,
)
from pipeline.reading.scan.pixels import crop_rect
from pipeline.reading.scan.zones import COMB_KINDS, TEXT_KINDS, cell_interior, text_rect
from pipeline.settings import OcrSettings, OmrSettings

log = logging.getLogger(__name__)


def zone_ink(mask: np.ndarray, field: Field, definition: FormDefinition, px_per_pt: float,
             ocr: OcrSettings | None = None) -> np.ndarray:
    """The ink of a text zone's writing area (:func:`text_rect`: no dotted baseline, no registration mark).

    Args:
        mask: The registered page's ``uint8`` 0/1 ink mask, ``px_per_pt`` pixels per PDF point.
        field: A text or e-mail field of that page.
        definition: The form, whose page layout gives the registration marks.
        px_per_pt: The mask's scale.
        ocr: The writing area's margins (:func:`text_rect`).

    Returns:
        A view of ``mask`` over the zone.
    """
    layout = definition.pages[field.page - 1]
    return crop_rect(mask, text_rect(field, layout.qr_codes + layout.anchors, ocr), px_per_pt)


def streak_drop_areas(field: Field, definition: FormDefinition, omr: OmrSettings,
                      ocr: OcrSettings) -> tuple[tuple[Rect, ...], Rect, float] | None:
    """Where a streak crossing ``field`` must be clear of writing, where it is then taken out, and how clear.

    * A text or e-mail zone: its writing area (:func:`text_rect`), clear by ``omr.streak_clearance_pt``
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
        area = text_rect(field, layout.qr_codes + layout.anchors, ocr)
        return (area,), area, omr.streak_clearance_pt
    if field.kind in COMB_KINDS:
        m = ocr.icr.cell_margin_pt
        r = field.rect
        return (tuple(cell_interior(c, ocr) for c in field.cells), Rect(r.x0 - m, r.top - m, r.x1 + m, r.bottom + m),
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
        foreign: Its foreign ink (:func:`pipeline.reading.scan.foreign_ink.foreign_ink`, at ``WORK_DPI``).
        crossed: Fields that streaks reach and no other foreign mark does (``ForeignInk.fields_reached``).
        definition: The form.
        page: 1-based page number; its text, e-mail, comb and signature fields are looked at.
        px_per_pt: The mask's scale.
        omr: Clearances (:func:`pipeline.reading.scan.foreign_ink.streak_clear_of_writing`, :func:`streak_drop_areas`).
        ocr: Comb cell insets and margins.

    Returns:
        The ink without those streaks (``mask`` itself when none was dropped), and the names of the fields
        they were dropped from: no other foreign mark reaches these, so they are read as if never crossed.
    """
    candidates = [(f, found) for f in definition.page_fields(page) if f.name in crossed
                  and (found := streak_drop_areas(f, definition, omr, ocr)) is not None]
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
        crossings = [(crop_rect(mask, a, px_per_pt), crop_rect(streak_ink, a, px_per_pt)) for a in areas]
        crossings = [(ink, streak) for ink, streak in crossings if streak.any()]
        if f.kind in TEXT_KINDS and not crossings:
            continue  # the streak reaches the zone only off its writing area: as before, a person looks
        if not all(streak_clear_of_writing(ink, streak, px_per_pt, omr, clearance_pt) for ink, streak in crossings):
            if f.kind in TEXT_KINDS:
                writing = _drop_clear_pieces(writing, mask, crossings[0], drop_rect, px_per_pt, omr, clearance_pt)
            continue
        in_drop = crop_rect(streak_ink, drop_rect, px_per_pt)
        if not in_drop.any():
            continue
        if writing is mask:
            writing = mask.copy()
        crop_rect(writing, drop_rect, px_per_pt)[in_drop > 0] = 0
        dropped.add(f.name)
    return writing, dropped


def _drop_clear_pieces(writing: np.ndarray, mask: np.ndarray, crossing: tuple[np.ndarray, np.ndarray], drop_rect: Rect,
                       px_per_pt: float, omr: OmrSettings, clearance_pt: float) -> np.ndarray:
    """``writing`` without the streaks that cross a text zone clear of its writing, when another crosses through it.

    A zone two streaks cross, one through its letters and one through its blank part, kept both: the zone's test
    (:func:`pipeline.reading.scan.foreign_ink.streak_clear_of_writing`) is over all its streak ink. Tesseract then
    read the clear one as ``|`` after the value (``Mme Bigot, directeur(trice) |``), and read it again once the
    streaks were erased for the second reading (:func:`erase_streaks_through_writing` takes only the straight runs,
    and the clear streak's rim is left): the two readers still differed and the zone went to a person. Each
    streak of the zone (its pieces down one column, :func:`streak_columns`) is put to the same test alone, the other
    streaks' ink counting as writing: those clear of it are taken out as a zone's clear streak is. The zone is still
    held for the streak through its letters, and read again past it
    (``pipeline.reading.scan.page.reread_past_streaks``).

    Measured at 5c8e12c against 1e1e507, every field through ``bench.corpus``'s reading, nothing wrong accepted
    either way: the project's photocopies of seeds 53, 2026 and 59 (13 forms), 4 right fields out of the hold (a
    referrer's name, a guardian's e-mail, an observation, a given name) and one typed school year held that was
    accepted (the streak through its digits cannot be erased, and the clear streak, once taken out of the first
    reading, no longer gives the second reading something to read past: the old clearance had said nothing of the
    streak through the digits); the devset, 2 right fields of a handwritten photocopy (r0031) held that were
    accepted (its guardian's e-mail, read much closer, now conflicts with a given name a letter away, and its home
    languages decode otherwise), no typed field changed.

    Args:
        writing: The ink so far (``mask`` itself until something is dropped).
        mask: The page's ink mask (never changed).
        crossing: The zone's writing area's ink and streak ink (``uint8`` 0/1, same shape).
        drop_rect: The writing area, PDF points.
        px_per_pt: The masks' scale.
        omr: ``streak_clearance_pt`` and the streak geometry.
        clearance_pt: The clearance of the zone's kind.

    Returns:
        ``writing`` itself when no streak is clear; else ``writing`` with the clear streaks taken out, changed in
        place when it is already the page's own copy, a new copy when it is still ``mask``.
    """
    ink, streak = crossing
    groups = streak_columns(streak)
    clear = [g for g in groups if streak_clear_of_writing(ink, g.astype(np.uint8), px_per_pt, omr, clearance_pt)]
    if not clear:
        return writing
    out = mask.copy() if writing is mask else writing
    crop_rect(out, drop_rect, px_per_pt)[np.logical_or.reduce(clear)] = 0
    return out


def streak_columns(streak: np.ndarray) -> list[np.ndarray]:
    """A zone's streak ink split into its streaks: pieces (8-connected) whose columns overlap are one streak.

    A streak lighter than the ink threshold in places reaches the mask in broken pieces down one column; tested
    piece by piece, a piece above a letter is clear of it sideways while the streak runs through the letter
    (:func:`pipeline.reading.scan.foreign_ink.streak_clear_of_writing` looks across, not up and down), and taking it
    out took an accent's stroke (« LEFÈVRE » read « LEFÉVRE »). The pieces of one column stand or fall together.

    Args:
        streak: ``uint8`` 0/1 streak ink of a zone.

    Returns:
        One ``bool`` mask of ``streak``'s shape per streak, left to right.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(streak, connectivity=8)
    spans = sorted((int(stats[k, cv2.CC_STAT_LEFT]), int(stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH]), k)
                   for k in range(1, count))
    columns: list[tuple[int, list[int]]] = []  # (right edge so far, labels)
    for left, right, k in spans:
        if columns and left < columns[-1][0]:
            columns[-1] = (max(columns[-1][0], right), [*columns[-1][1], k])
        else:
            columns.append((right, [k]))
    return [np.isin(labels, ks) for _, ks in columns]


def erase_streaks_through_writing(writing: np.ndarray, mask: np.ndarray, foreign: ForeignInk,
                                  fields: Sequence[Field], definition: FormDefinition, px_per_pt: float,
                                  omr: OmrSettings, ocr: OcrSettings) -> tuple[np.ndarray, set[str]]:
    """The ink with the streaks taken out of text and e-mail zones they cross through the writing.

    :func:`drop_clear_streaks` leaves such a streak in place. Here only the streak's own ink is taken out, the
    straight runs of :func:`pipeline.reading.scan.foreign_ink.streak_band` (longer than ``omr.streak_run_pt``),
    not the ink a point either side of it that :func:`drop_clear_streaks` takes from a zone's blank part: that would
    take whole strokes of the letters it passes (« Argenteuil » read « A: Jent :uil »). The part of a letter's
    stem the streak runs down goes with it; the streak's pixels cannot be told from the letters' by their grey,
    since only its pixels dark enough to be ink are in the mask (devset photocopy: their median 126, the
    letters' 113, paper 233). This copy is what the zone is read on a second time
    (``pipeline.reading.scan.page.reread_past_streaks``).

    Args:
        writing: The page's ink the zones were read on (``uint8`` 0/1, ``px_per_pt`` pixels per PDF point).
        mask: The page's whole ink mask (same shape), printed form included, along which streaks run.
        foreign: The page's foreign ink.
        fields: Text, e-mail or comb fields of the page (others are left as they are); a comb's streak is taken out
            over the comb and the margin its digits are cut with.
        definition: The form (the zones' writing areas avoid its registration marks).
        px_per_pt: The masks' scale.
        omr: Streak geometry (``streak_band``).
        ocr: The writing areas' margins.

    Returns:
        A new ``uint8`` 0/1 array of ``writing``'s shape, and the names of the fields some ink was taken out of:
        in the others the streak is too faint or broken to run straight through the zone's ink.
    """
    band = streak_band(foreign.streaks, mask, px_per_pt, omr)
    out, erased = writing.copy(), set()
    for f in fields:
        found = streak_drop_areas(f, definition, omr, ocr) if f.kind in (*TEXT_KINDS, *COMB_KINDS) else None
        if found is None:
            continue
        zone, streak = crop_rect(out, found[1], px_per_pt), crop_rect(band, found[1], px_per_pt) > 0
        if (zone[streak] > 0).any():
            zone[streak] = 0
            erased.add(f.name)
    return out, erased


def streak_unseen_in_zones(text_mask: np.ndarray, foreign: ForeignInk, fields: Sequence[Field],
                           definition: FormDefinition, px_per_pt: float, omr: OmrSettings,
                           ocr: OcrSettings) -> set[str]:
    """Text and e-mail zones a copier's streak crosses without leaving any ink of its own where the readers look.

    The text readers see only the text mask (the page is whitened outside it). A streak found on the faint mask
    (``omr.streak_faint_share``) may be ink in one stretch of the page and lighter than the ink threshold in the
    next: :func:`pipeline.reading.scan.foreign_ink._unseen_lines` lets a streak whose whole length is under the
    threshold reach no field; this judges each zone's own stretch, since a streak seen elsewhere holds every zone of
    its column. In a zone it is unseen when, along its own footprint,

    * the rows that hold no writing (the writing's rows grown by ``omr.streak_letter_margin_pt``) have under
      ``omr.streak_paper_ink_min`` of their pixels inked, over at least ``omr.streak_unseen_min_pt`` of rows, and
    * no ink of ``omr.streak_dash_min_pt2`` or more lies wholly inside the footprint (a dash of the streak standing
      alone among the letters, which a reader takes for ``l`` or ``|``):

    the only ink there is then the letters it passes over. What it cannot see is a dash of the streak that touches a
    letter exactly where the letter's rows are (an ``e`` lengthened into a ``d``) while the streak is unseen above
    and below it; the field's other tests still apply to it. A zone too short in blank rows to tell stays held.

    Measured at 69e3c6b against the same commit without it: devset (``bench --corpus ../shared/devset``), fields
    held as foreign ink 111 → 103, typed 6 → 1 (a photocopy's town, address, school and mail address, a second
    photocopy's town: each read right by both readers), nothing wrong accepted; the project's stamped, photocopied,
    hand-marked and grey scans (seed 11, 6 each) and faxes at 200 × 100 dpi (seed 2026, 32): unchanged (their
    streaks are as dark as toner all along).

    Args:
        text_mask: The page's ``uint8`` 0/1 ink the text zones are read on (``PageInk.text_mask``), ``px_per_pt``
            pixels per PDF point.
        foreign: The page's foreign ink (``streaks`` at ``WORK_DPI``).
        fields: Text or e-mail fields that only streaks reach (others are left out).
        definition: The form (the zones' writing areas avoid its registration marks).
        px_per_pt: The mask's scale.
        omr: ``streak_paper_ink_min``, ``streak_unseen_min_pt``, ``streak_letter_margin_pt``, ``streak_dash_min_pt2``.
        ocr: The writing areas' margins.

    Returns:
        The names of the fields whose zone the streak leaves no ink of its own in.
    """
    footprint = cv2.resize(foreign.streaks.astype(np.uint8), (text_mask.shape[1], text_mask.shape[0]),
                           interpolation=cv2.INTER_NEAREST)
    margin = max(1, round(omr.streak_letter_margin_pt * px_per_pt))
    unseen: set[str] = set()
    for f in fields:
        found = streak_drop_areas(f, definition, omr, ocr) if f.kind in TEXT_KINDS else None
        if found is None:
            continue
        ink, streak = crop_rect(text_mask, found[1], px_per_pt) > 0, crop_rect(footprint, found[1], px_per_pt) > 0
        if not streak.any():
            continue
        if not (ink & streak).any():
            unseen.add(f.name)
            continue
        inked_rows = (ink & ~streak).any(axis=1).astype(np.uint8).reshape(-1, 1)
        letter_rows: np.ndarray = cv2.dilate(inked_rows, np.ones((2 * margin + 1, 1), np.uint8)).ravel() > 0
        count, labels = cv2.connectedComponents(ink.astype(np.uint8), connectivity=8)
        outside = np.bincount(labels[ink & ~streak], minlength=count)
        size = np.bincount(labels[ink], minlength=count)
        # Each streak on its own (:func:`streak_columns`): a streak another's blank footprint dilutes is still seen.
        if all(_column_unseen(ink, column, letter_rows, labels, outside, size, px_per_pt, omr)
               for column in streak_columns(streak.astype(np.uint8))):
            unseen.add(f.name)
    return unseen


def _column_unseen(ink: np.ndarray, column: np.ndarray, letter_rows: np.ndarray, labels: np.ndarray,
                   outside: np.ndarray, size: np.ndarray, px_per_pt: float, omr: OmrSettings) -> bool:
    """Whether one streak of a zone leaves no ink of its own where the readers look (:func:`streak_unseen_in_zones`).

    Args:
        ink: The zone's ``bool`` text mask.
        column: This streak's ``bool`` footprint in the zone (:func:`streak_columns`).
        letter_rows: ``bool`` per row: the rows the writing holds, grown by ``omr.streak_letter_margin_pt``.
        labels: The ink's 8-connected labels.
        outside: Per label, its pixels off every streak's footprint.
        size: Per label, its pixels.
        px_per_pt: The mask's scale.
        omr: ``streak_paper_ink_min``, ``streak_unseen_min_pt``, ``streak_dash_min_pt2``.
    """
    on_streak = ink & column
    if not on_streak.any():
        return True
    blank = column[~letter_rows]
    if blank.any(axis=1).sum() < omr.streak_unseen_min_pt * px_per_pt:
        return False
    if on_streak[~letter_rows].sum() >= omr.streak_paper_ink_min * blank.sum():
        return False
    touching = np.unique(labels[on_streak])
    dashes = touching[(outside[touching] == 0) & (size[touching] >= omr.streak_dash_min_pt2 * px_per_pt ** 2)]
    return not len(dashes)
