"""A third reading of a typed zone whose two readers differ: Tesseract again, alone on the zone, at another scale.

When Tesseract and PP-OCRv6 read a typed zone differently and no witness of the field chooses between them
(:func:`pipeline.reading.scan.choices.choose_reading`), the zone is held for a person. Tesseract's errors there are
mostly of its page segmentation and scale: it read the zone stacked with the page's other zones, at
``OcrSettings.text_ocr_dpi``; read alone as one line (segmentation mode 7) at ``OcrSettings.third_reading_dpi``,
it often reads what PP-OCRv6 read. PP-OCRv6 resizes every line to 48 px high, so reading it again at another
scale mostly repeats it: it is not asked again. When Tesseract's third reading is, after the field's repairs,
PP-OCRv6's reading, two independent engines now read the same characters: that reading is the value, at
``OcrSettings.readers_chosen_confidence`` (rule ``third_reading_agrees``), and the field's caps, the accent hold and
foreign ink still apply. When it is Tesseract's first reading again, or a third spelling, the zone stays held.
Handwritten zones are not read a third time (the handwriting hold keeps them for a person whatever the readers).

Chosen on 2026-12-06 from every zone whose two readers differed, Tesseract re-read alone on the zone crop
scaled 400 → 300 dpi, to 500 dpi, and at 400 dpi (``--psm 7``): how often the re-read was PP-OCRv6's reading,
and how often that reading was right:

===============================  ==================  ==================  ===================
re-read equal to PP-OCRv6's      devset typed        devset handwritten  own typed (seed 31)
===============================  ==================  ==================  ===================
300 dpi                          5 right of 5        5 right of 6        9 right of 9
500 dpi                          4 right of 6        5 right of 6        2 right of 2
400 dpi                          3 right of 4        6 right of 7        4 right of 4
===============================  ==================  ==================  ===================

The wrong ones at 500 and 400 dpi are a given name read without its accent (``Anais``) by both engines; at
300 dpi the one wrong reading was handwritten (``Lthan``), and handwriting is never read a third time. The
project's own corpus there is 4 forms each of its photocopies, faxes (200 × 100 dpi and halftone), stamps, phone
photos, hand-marked, 1-bit and fit-to-page scans of seed 31, on which no other rule was measured.

As built (300 dpi, the crop with no margin added), read through the whole scan reader, against the same commit
without it: devset (``bench --corpus ../shared/devset``), 17 typed zones read a third time, 3 settled, all right
and accepted (a fax's school year ``2026-7027`` and surname ``LEUÈVRE``, whose settled surname then spells its
owner's e-mail), nothing wrong accepted, fields exact 1,473 → 1,476 of 1,720; the seed-31 corpus above, 25 read, 10
settled, 9 right (4 of those still held by the fax's low-resolution hold, which asks both first readers to agree),
one more form routed with no person; the wrong one was an e-mail both engines read on ``tree.fr`` for ``free.fr``
(halftone fax): an address is settled only on a known mail domain
(:data:`pipeline.deciding.crosscheck.KNOWN_EMAIL_DOMAINS`), as the low-resolution hold asks of agreeing readers.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from pipeline.form.definition import Field, FieldKind
from pipeline.reading.lexicon import Lexicon
from pipeline.reading.register import RegisteredPage
from pipeline.reading.scan.choices import CHOOSING_RULES
from pipeline.reading.scan.engines_agree import settle_where_engines_agree
from pipeline.reading.scan.strips import Word, ocr_strip, stack_zones
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import ExtractedField, Reader

LINE_PSM = 7
"""Tesseract's page segmentation mode for one zone read alone: a single text line."""


def wants_third_reading(field: ExtractedField, ocr: OcrSettings) -> bool:
    """Whether ``field``, as the two readers left it, is a typed zone they read differently that no witness chose
    for, with a reading from PP-OCRv6 to be confirmed (see the module's docstring)."""
    rules = set(field.rules)
    second = field.read_by(Reader.PPOCR)
    return ("readers_differ" in rules and "handwriting_hold" not in rules and not rules & CHOOSING_RULES
            and field.doubt is None and bool(second) and field.confidence < ocr.text_confidence_min)


def third_readings(fields: Sequence[Field], crops: Sequence[np.ndarray], ocr: OcrSettings) -> list[list[Word]]:
    """Tesseract's words on each zone crop alone, scaled from ``ocr.text_ocr_dpi`` to ``ocr.third_reading_dpi``.

    Args:
        fields: The zones' fields (an e-mail is read in ``ocr.email_language``, any other in ``ocr.language``).
        crops: Their crops as the first readers read them: ``uint8`` grey, paper white, at ``ocr.text_ocr_dpi``.
        ocr: Resolutions, languages and Tesseract's time limit.

    Returns:
        Each zone's words, in order.

    Raises:
        OcrError: Tesseract failed or ran over ``ocr.timeout_s``.
    """
    factor = ocr.third_reading_dpi / ocr.text_ocr_dpi
    out = []
    for f, crop in zip(fields, crops, strict=True):
        small = cv2.resize(crop, None, fx=factor, fy=factor,
                           interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)
        language = ocr.email_language if f.kind is FieldKind.EMAIL else ocr.language
        out.append(ocr_strip(stack_zones([small], 0, 0), ocr, language, psm=LINE_PSM))
    return out


def settle_by_third_reading(fields: dict[str, ExtractedField], zones: Sequence[Field],
                            values: Sequence[tuple[str | None, str | None]], names: Lexicon,
                            page: RegisteredPage, ocr: OcrSettings, registration: RegistrationSettings) -> list[str]:
    """Record Tesseract's third reading of each zone and, where it is PP-OCRv6's, take that reading as the value.

    Args:
        fields: The page's fields as the two readers left them; updated in place (``readings`` gains the third,
            reader ``tesseract_rescaled``; a settled field its value, confidence and rule ``third_reading_agrees``).
        zones: The fields read a third time (:func:`wants_third_reading`).
        values: For each, Tesseract's third reading and PP-OCRv6's reading, both after the field's repairs
            (:func:`pipeline.reading.scan.page.first_reader_value` and ``second_reader_value``).
        names: The given-name lexicon, for the accent hold.
        page: The registered page (its position quality).
        ocr: ``readers_chosen_confidence`` and the caps' thresholds.
        registration: What the position quality costs the confidence.

    Returns:
        The names of the fields settled.
    """
    return settle_where_engines_agree(fields, zones, values, Reader.TESSERACT_RESCALED, "third_reading_agrees",
                                      names, page, ocr, registration)
