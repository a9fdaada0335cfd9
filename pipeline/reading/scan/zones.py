"""Zones of the form on a registered page: which kinds OCR reads, the rectangles read, empty results.

Shared by the zone readers (``text_zones``, ``combs``, ``omr``, ``streaks``). Rectangles in PDF
points from the form definition.
"""


from __future__ import annotations

import logging
from collections.abc import Sequence

from pipeline.form.definition import (
    Field,
    FieldKind,
    Rect,
)
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import ExtractedField, Source, ZoneBox

log = logging.getLogger(__name__)


COMB_KINDS = (FieldKind.DATE, FieldKind.PHONE, FieldKind.POSTCODE)


TEXT_KINDS = (FieldKind.TEXT, FieldKind.EMAIL)


def text_rect(field: Field, marks: Sequence[Rect] = (), ocr: OcrSettings | None = None) -> Rect:
    """The part of a text zone that holds writing.

    The dotted baseline at its bottom is left out (``ocr.text_zone_baseline_pt``), with a margin each side
    (``ocr.text_zone_margin_pt``), and so is any printed registration mark the zone runs into
    (``ocr.text_zone_mark_gap_pt`` clear of it): a letter comb's area also rises ``ocr.letter_comb.accent_room_pt``
    over its cells, for the accents of capitals. On version 1, page 2's "Prénom" line ends under the
    top-right QR code, whose modules would otherwise read as ink (and as letters).
    """
    ocr = ocr or OcrSettings()
    r = field.rect
    x1 = r.x1 - ocr.text_zone_margin_pt
    for m in marks:
        overlaps_y = m.top < r.bottom and m.bottom > r.top
        if overlaps_y and m.x0 > r.x0 and m.x0 < x1:
            x1 = m.x0 - ocr.text_zone_mark_gap_pt
    if field.is_letter_comb:
        # Form version 2: the grid is erased (``letter_combs.erase_letter_grids``); the accent of a capital (É, È)
        # rises over the cells' top line, and a reader that does not see it reads another name (RÉMY as REMY).
        return Rect(r.x0 + ocr.text_zone_margin_pt, r.top - ocr.letter_comb.accent_room_pt, x1,
                    r.bottom - ocr.text_zone_baseline_pt)
    return Rect(r.x0 + ocr.text_zone_margin_pt, r.top, x1, r.bottom - ocr.text_zone_baseline_pt)


def cell_interior(cell: Rect, ocr: OcrSettings) -> Rect:
    """A comb cell without its printed outline (inset by ``comb_inset_pt``)."""
    return cell.inset(ocr.comb_inset_pt)


def with_quality(confidence: float, quality: float, registration: RegistrationSettings | None = None) -> float:
    """Temper a reader's confidence by registration quality: a perfect fit keeps it, the worst costs 30 %
    (``registration.quality_floor`` and ``quality_weight``)."""
    registration = registration or RegistrationSettings()
    return float(min(1.0, max(0.0, confidence * (registration.quality_floor + registration.quality_weight * quality))))


def zone_box(field: Field) -> ZoneBox:
    """The field's rectangle (PDF points, y down) as stored with its extracted value."""
    r = field.rect
    return ZoneBox(x0=r.x0, top=r.top, x1=r.x1, bottom=r.bottom)


def empty_field(field: Field, quality: float, ocr: OcrSettings | None = None,
                registration: RegistrationSettings | None = None) -> ExtractedField:
    """An OCR field whose zone holds no ink: no value, and sure of it (``ocr.empty_zone_confidence``)."""
    confidence = with_quality((ocr or OcrSettings()).empty_zone_confidence, quality, registration)
    return ExtractedField(name=field.name, value=None, confidence=confidence, source=Source.OCR,
                          page=field.page, zone=zone_box(field))
