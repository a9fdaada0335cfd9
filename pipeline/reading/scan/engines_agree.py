"""Two OCR engines reading a typed zone alike settle it: the step the third reading and the grey photo share.

A typed zone whose first two readers (Tesseract and PP-OCRv6) differed is read once more by one engine, on another
image or at another scale; when that reading is, after the field's repairs, the *other* engine's first reading, two
independent engines read the same characters and the zone is settled
(:func:`pipeline.reading.scan.third_reading.settle_by_third_reading`,
:func:`pipeline.reading.scan.photo_witness.settle_by_grey_reading`, whose docstrings give the figures).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.deciding.crosscheck import on_known_mail_domain
from pipeline.form.definition import Field, FieldKind
from pipeline.reading.lexicon import Lexicon
from pipeline.reading.register import RegisteredPage
from pipeline.reading.scan.choices import agreement_holds
from pipeline.reading.scan.text_rules import caps_that_bite
from pipeline.reading.scan.zones import with_quality
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import ExtractedField, Reader, ReaderReading, normalise_text


def settle_where_engines_agree(fields: dict[str, ExtractedField], zones: Sequence[Field],
                               values: Sequence[tuple[str | None, str | None]], reader: Reader, rule: str,
                               names: Lexicon, page: RegisteredPage, ocr: OcrSettings,
                               registration: RegistrationSettings) -> list[str]:
    """Record one more reading of each zone and, where it is the other engine's first reading, take that as the value.

    The zones are typed zones whose two readers differed
    (:func:`pipeline.reading.scan.third_reading.wants_third_reading`); the new reading comes from the engine that
    did *not* give the reading it is compared with, so that two independent engines then read the same characters:
    Tesseract again for PP-OCRv6's reading (:func:`pipeline.reading.scan.third_reading.settle_by_third_reading`), or
    PP-OCRv6 on a photo's own pixels for Tesseract's
    (:func:`pipeline.reading.scan.photo_witness.settle_by_grey_reading`). A settled field takes
    ``ocr.readers_chosen_confidence`` and ``rule``; the field's caps, the accent hold, the
    known mail domain of an address and its dot (:func:`pipeline.deciding.crosscheck.dot_may_be_lost`) still apply.

    Args:
        fields: The page's fields; updated in place (``readings`` gains ``reader``'s; a settled field its value,
            confidence and ``rule``).
        zones: The fields read once more.
        values: For each, the new reading and the other engine's reading, both after the field's repairs.
        reader: Who gave the new reading.
        rule: The rule recorded on a settled field (``pipeline.reading.rules.FIELD_RULES``).
        names: The given-name lexicon, for the accent hold.
        page: The registered page (its position quality).
        ocr: ``readers_chosen_confidence`` and the caps' thresholds.
        registration: What the position quality costs the confidence.

    Returns:
        The names of the fields settled.
    """
    settled = []
    for f, (again, other) in zip(zones, values, strict=True):
        field = fields[f.name]
        readings = (*field.readings, ReaderReading(reader=reader, value=again))
        if again and other and normalise_text(again) == normalise_text(other) and (
                f.kind is not FieldKind.EMAIL or on_known_mail_domain(other)):
            confidence, rules = ocr.readers_chosen_confidence, [*field.rules, rule]
            for name, cap in caps_that_bite(f, other, ocr):
                confidence = min(confidence, cap)
                rules.append(name)
            holds = agreement_holds(f, other, (r.value for r in readings), names)
            if holds:
                confidence = min(confidence, ocr.readers_differ_confidence)
                rules += holds
            fields[f.name] = field.model_copy(update={
                "value": other, "readings": readings, "rules": tuple(rules),
                "confidence": with_quality(confidence, page.quality, registration)})
            settled.append(f.name)
        else:
            fields[f.name] = field.model_copy(update={"readings": readings})
    return settled
