"""Text and e-mail zones: blank ones decided at once, inked ones stacked into one strip for tesseract.

:func:`read_text_fields` returns the strip to read and the fields already decided (an empty zone
is an empty value). Rectangles in PDF points, pixels at the registered page's DPI.
"""


from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from pipeline.form.definition import (
    Field,
    Rect,
)
from pipeline.form.fonts import VALUE_FONT, VIEWER_FONT
from pipeline.reading.register import RegisteredPage
from pipeline.reading.scan.hand import typed_rendering_match
from pipeline.reading.scan.pixels import crop_rect, ink_area_pt2, scaled
from pipeline.reading.scan.strips import Strip, Word, stack_zones
from pipeline.reading.scan.zones import empty_field, text_rect
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import ExtractedField

log = logging.getLogger(__name__)


TYPED_VALUE_FONTS = (VALUE_FONT, VIEWER_FONT)
"""Faces a fillable field's value is printed in: the form's own (a viewer that uses the field's embedded
appearance or has Helvetica's metrics: Acrobat, Chrome's PDFium, Firefox's pdf.js) and the desktop sans a viewer
falls back to (:data:`pipeline.form.fonts.VIEWER_FONT`): ``Tanguy`` in DejaVu Sans 10 pt is 3.6 pt wider than in
the form's font, past ``IcrSettings.typed_rendering_size_tolerance_pt``. Measured at 7012fc3, zones held as
handwriting: devset 420 → 419 (one typed surname of a DejaVu print photographed, ``r0019``; the other two miss the
size tolerance), the project's own scans 84 → 84 (their typed values are in the form's font); no handwritten zone
of either corpus newly judged typed. A small gain: it is kept because a viewer's fallback font is what any school
without Helvetica's metrics prints."""


def typed_as_read(zone: np.ndarray, words: Sequence[Word], px_per_pt: float, ocr: OcrSettings) -> bool:
    """Whether a text zone's ink (:func:`zone_ink`) is its own reading typed in one of :data:`TYPED_VALUE_FONTS`.

    Blur merges a photographed zone's letters into a few blobs, and one descender then pulls its
    baseline agreement under the typed threshold (``Mme Becker, enseignant(e)``, issue 3); typing the
    reading again and laying it over the zone tells type from a hand
    (:func:`pipeline.reading.scan.hand.typed_rendering_match`).
    """
    text = " ".join(w.text for w in words)
    for font in TYPED_VALUE_FONTS:
        match = typed_rendering_match(zone, text, px_per_pt, ocr.icr, font)
        if match is not None and match.typed(ocr.icr):
            return True
    return False


def read_text_fields(
    fields: Sequence[Field],
    page: RegisteredPage,
    ocr_image: np.ndarray,
    mask: np.ndarray,
    ocr: OcrSettings,
    marks: Sequence[Rect] = (),
    registration: RegistrationSettings | None = None,
) -> tuple[Strip, list[Field], dict[str, ExtractedField]]:
    """Prepare the text strip: empty zones are answered at once, inked ones are stacked.

    Args:
        fields: Text and e-mail fields of the page.
        page: The registered page (scale and quality).
        ocr_image: The registered page with paper set to white (:func:`paper_to_white`).
        mask: Its ink mask.
        ocr: Thresholds and scales.
        marks: Printed registration marks of the page (pt), cut out of the zones they overlap.
        registration: What the position quality costs an empty zone's confidence.

    Returns:
        The strip to OCR, the fields in its slot order, and the already-decided empty fields.
    """
    s = page.px_per_pt
    factor = ocr.text_ocr_dpi / page.dpi
    decided: dict[str, ExtractedField] = {}
    inked: list[Field] = []
    crops: list[np.ndarray] = []
    for f in fields:
        rect = text_rect(f, marks, ocr)
        if ink_area_pt2(mask, rect, s) < ocr.zone_ink_min_pt2:
            decided[f.name] = empty_field(f, page.quality, ocr, registration)
            continue
        inked.append(f)
        crops.append(scaled(crop_rect(ocr_image, rect, s), factor))
    gap = int(round(ocr.strip_gap_pt * s * factor))
    return stack_zones(crops, gap, gap), inked, decided
