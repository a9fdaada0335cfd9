"""On a photographed page, the zones both readers agreed on are read again by PP-OCRv6 on the photo itself.

Tesseract and PP-OCRv6 read a photographed page's text zones from one prepared image: the paper outside the ink mask
set to white, the letters sharpened (:func:`pipeline.reading.scan.page.prepare_zones`). Their agreement is evidence
only as far as their errors are independent, and on that image they are not: a phone's blur joins ``ri`` into the
shape of an ``n`` before either engine sees it, and the mask and the sharpening keep the joined shape. Both then read
``Perner`` for *Perrier* alike, and the value is accepted wrong (the project's ``photo_heic``, seed 41: the one value
wrong and accepted of 16 typed photos, 688 fields, at 0.93, and the form routed).

PP-OCRv6 reading the same zone on the registered photo itself (grey, neither masked nor sharpened) is a reading of
other pixels: it read ``Perrier``. Its spaces and full stops are less sure there (``maistrès``, ``maison`` for
``maison.``), so only its letters and digits are compared, case aside. When they differ from PP-OCRv6's first
reading, the agreement of the two readers hangs on the preparation: the field is held
(rule ``photo_grey_reading_differs``, confidence at most ``OcrSettings.readers_differ_confidence``). The reading is
recorded either way (reader ``ppocr_grey``).

Measured 2026-12-06, against the commit before, on the project's typed ``photo_jpeg`` and ``photo_heic`` of seeds
41 (16 forms) and 43 (20 forms, made after the rule was written) and the devset's 5 phone photos, every field through
``bench.corpus``'s reading: the rule held 3 fields, all wrong, all ``ri`` read ``n`` by both readers (``Perner``,
which had been routed; ``Astnd`` and ``Adnenne`` on page 2, held before by their conflict with page 1's right
``Astrid`` and ``Adrienne``, which are now accepted); it held nothing on the devset's photos; values wrong and accepted
on seed 41, 1 → 0. The second reading costs PP-OCRv6's time on a photo's agreed zones again (a stage of the per-stage
table). Scanned pages are not read again: their readers see the ink without a phone's blur, and PP-OCRv6 reads them
with the grey edges of the ink (``OcrSettings.second_reader_halo_pt``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from pipeline.deciding.fields import clean_text_value
from pipeline.form.definition import Field
from pipeline.reading.lexicon import Lexicon
from pipeline.reading.register import RegisteredPage
from pipeline.reading.scan.engines_agree import settle_where_engines_agree
from pipeline.reading.scan.second_reader import LineReading
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import ExtractedField, Reader, ReaderReading

RULE = "photo_grey_reading_differs"
"""The rule recorded on a field the grey reading holds (``pipeline.reading.rules.FIELD_RULES``)."""

_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")


def letters(text: str | None) -> str:
    """The letters and digits of ``text``, case folded, accents kept (NFC), in order: ``"3, rue X."`` → ``"3ruex"``."""
    return _NOT_ALPHANUMERIC.sub("", unicodedata.normalize("NFC", text or "")).casefold()


def wants_grey_reading(field: ExtractedField, ocr: OcrSettings) -> bool:
    """Whether ``field`` is a zone the two readers read alike and that is accepted on that agreement."""
    return ("readers_agree" in field.rules and field.doubt is None and field.confidence >= ocr.text_confidence_min
            and bool(field.read_by(Reader.PPOCR)))


def hold_unstable_agreements(fields: dict[str, ExtractedField], zones: Sequence[Field],
                             lines: Sequence[LineReading], ocr: OcrSettings) -> list[str]:
    """Record PP-OCRv6's reading of each zone on the grey photo, and hold the fields whose letters it reads otherwise.

    Args:
        fields: The page's fields; updated in place (``readings`` gains reader ``ppocr_grey``; a held field the rule
            :data:`RULE` and a confidence of at most ``ocr.readers_differ_confidence``).
        zones: The fields read again (:func:`wants_grey_reading`), in the order of ``lines``.
        lines: PP-OCRv6's reading of each zone's crop cut from the registered grey page, at ``ocr.text_ocr_dpi``.
        ocr: ``readers_differ_confidence``.

    Returns:
        The names of the fields held.
    """
    held = []
    for f, line in zip(zones, lines, strict=True):
        field = fields[f.name]
        grey = clean_text_value(f.kind, line.text)
        reading = ReaderReading(reader=Reader.PPOCR_GREY, value=grey, score=round(line.score, 4) if grey else None)
        update: dict[str, object] = {"readings": (*field.readings, reading)}
        if letters(grey) != letters(field.read_by(Reader.PPOCR)):
            update |= {"confidence": min(field.confidence, ocr.readers_differ_confidence),
                       "rules": (*field.rules, RULE)}
            held.append(f.name)
        fields[f.name] = field.model_copy(update=update)
    return held


SETTLE_RULE = "grey_reading_agrees"
"""The rule recorded on a field the grey reading settles (``pipeline.reading.rules.FIELD_RULES``)."""


def settle_by_grey_reading(fields: dict[str, ExtractedField], zones: Sequence[Field], grey: Sequence[str | None],
                           first: Sequence[str | None], names: Lexicon, page: RegisteredPage, ocr: OcrSettings,
                           registration: RegistrationSettings) -> list[str]:
    """On a photographed page, settle the typed zones whose two readers differed where PP-OCRv6, reading the zone on
    the photo itself, reads exactly what Tesseract read (rule :data:`SETTLE_RULE`).

    The readers differ on a photo mostly where the preparation misled one of them: PP-OCRv6 read ``Paul L.angevin``
    and ``chemin de l.óvy`` on the masked, sharpened image of a devset phone photo (r0005) where Tesseract read
    ``Paul Langevin`` and ``chemin de Lévy``; on the grey photo it read them as Tesseract did. Two engines then read
    the same characters, each on its own image: the field is settled as :func:`pipeline.reading.scan.engines_agree.
    settle_where_engines_agree` settles one (whole readings compared, spaces and punctuation included: on the grey
    photo PP-OCRv6 may drop them, and then nothing is settled). Tesseract's third reading still comes after, for the
    zones this leaves held.

    Measured 2026-12-06 before it was built, PP-OCRv6's grey reading recorded on every photographed typed zone whose
    readers differed: the devset's 5 phone photos, 8 such zones, 3 equal to Tesseract's, all right; the project's
    typed photos of seeds 41, 43 and 53 (42 forms, 53 made after the rule was written), 16 zones, 2 equal, both
    right; none wrong. Compared on letters and digits only (as :func:`hold_unstable_agreements` does), 2 more would
    be: a class line (right) and ``jules`` for *Jules* (wrong: Tesseract's small ``j``). Where PP-OCRv6 reads the
    grey photo as it read the prepared image, nothing is settled (one engine twice): on those 16 zones that reading
    was right 8 times and wrong twice (``i.leroux@…`` and ``i.richard@…`` for an initial ``l.``). As built, every
    field through ``bench.corpus``'s reading: devset, 2 fields settled, both right, out of the hold (r0005's street
    and school; its first name was already chosen by the given-name lexicon), 0 wrong accepted; the project's
    photos, one address settled, right, that its owner's name already vouched for, and (once the grey reading had
    the field's repairs, e3014fe) a class line out of the hold, right.

    Args:
        fields: The page's fields; updated in place (``readings`` gains reader ``ppocr_grey``; a settled field its
            value, ``ocr.readers_chosen_confidence`` and the rule).
        zones: Typed zones whose readers differed (:func:`pipeline.reading.scan.third_reading.wants_third_reading`),
            in the order of ``grey``.
        grey: PP-OCRv6's reading of each on the registered grey page, at ``ocr.text_ocr_dpi``, after the field's
            repairs (``pipeline.reading.scan.page.second_reader_value``).
        first: Tesseract's first reading of each, after the field's repairs.
        names: The given-name lexicon, for the accent hold.
        page: The registered page (its position quality).
        ocr: Confidences and caps.
        registration: What the position quality costs the confidence.

    Returns:
        The names of the fields settled.
    """
    values = list(zip(grey, first, strict=True))
    return settle_where_engines_agree(fields, zones, values, Reader.PPOCR_GREY, SETTLE_RULE, names, page, ocr,
                                      registration)
