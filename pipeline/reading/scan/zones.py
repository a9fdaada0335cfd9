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
from pipeline.settings import OcrSettings
from schemas.extraction import ExtractedField, Source, ZoneBox

log = logging.getLogger(__name__)


COMB_KINDS = (FieldKind.DATE, FieldKind.PHONE, FieldKind.POSTCODE)


TEXT_KINDS = (FieldKind.TEXT, FieldKind.EMAIL)


def text_rect(field: Field, marks: Sequence[Rect] = ()) -> Rect:
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


def cell_interior(cell: Rect, ocr: OcrSettings) -> Rect:
    """A comb cell without its printed outline (inset by ``comb_inset_pt``)."""
    return cell.inset(ocr.comb_inset_pt)


def with_quality(confidence: float, quality: float) -> float:
    """Temper a reader's confidence by registration quality: a perfect fit keeps it, the worst costs 30 %."""
    return float(min(1.0, max(0.0, confidence * (0.7 + 0.3 * quality))))


def zone_box(field: Field) -> ZoneBox:
    """The field's rectangle (PDF points, y down) as stored with its extracted value."""
    r = field.rect
    return ZoneBox(x0=r.x0, top=r.top, x1=r.x1, bottom=r.bottom)


def empty_field(field: Field, quality: float) -> ExtractedField:
    """An OCR field whose zone holds no ink: no value, and sure of it."""
    return ExtractedField(name=field.name, value=None, confidence=with_quality(0.97, quality), source=Source.OCR,
                          page=field.page, zone=zone_box(field))
