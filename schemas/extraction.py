"""What the readers produce: one value per field with its confidence, source and place.

A field's *raw value* has the same shape whoever produced it (ground truth, AcroForm,
text layer, OCR/OMR), so that extraction can be compared with ground truth and
validated by one schema:

* text and e-mail fields: ``str`` (``None`` when empty);
* comb fields: the canonical printed form, ``"14/03/2016"`` for a date,
  ``"0612345678"`` for a phone, ``"95100"`` for a postcode (``None`` when empty);
* choices: the list of ticked option codes, in form order (``[]`` when none);
* flags and signatures: ``bool``.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

RawValue = str | list[str] | bool | None
FormValues = dict[str, RawValue]
"""Field name → raw value (the shape described in the module docstring)."""


class Source(StrEnum):
    """Where a value was read from, cheapest faithful source first."""

    ACROFORM = "acroform"
    TEXT_LAYER = "text_layer"
    OCR = "ocr"
    OMR = "omr"
    NONE = "none"  # the page carrying the field was not received


class TickState(StrEnum):
    """OMR decision for one tick box, by fill ratio bands (see ``pipeline.settings.OmrSettings``)."""

    EMPTY = "empty"
    UNSURE = "unsure"
    TICKED = "ticked"
    CANCELLED = "cancelled"  # filled in completely: the printed rule says this cancels the box


class Doubt(StrEnum):
    """Why a reader holds a field under the review threshold whatever the OCR's own confidence, so that staff
    are told what to look for (``pipeline.deciding.decide.confidence_reasons``)."""

    HANDWRITTEN = "handwritten"  # tesseract's confidence means nothing on handwriting (pipeline.reading.scan)
    HANDWRITTEN_FORM = "handwritten_form"  # a page of the form was filled by hand, so the whole form was
    FOREIGN_INK = "foreign_ink"  # a stamp, a signature or a streak crosses the zone (pipeline.reading.scan.foreign_ink)
    LOW_RESOLUTION = "low_resolution"  # a fax: too few lines per inch for letters (pipeline.reading.extract)
    REPEAT_CONFLICT = "repeat_conflict"  # the name and its page-2 repeat were read differently
    NAME_CONFLICT = "name_conflict"  # another field spells the same name a letter or two apart
    IMPOSSIBLE_DATE = "impossible_date"  # a date read is impossible for the form, so every comb is doubted
    CHECKBOX_CONFLICT = "checkbox_conflict"  # a PDF check box's value (/V) and its look (/AS) disagree
    XFA_CONFLICT = "xfa_conflict"  # the PDF's AcroForm value and its XFA datasets value disagree
    LABEL_TEXT = "label_text"  # the zone holds a printed label of the form: the page is not where it should be
    COMB_SHAPE = "comb_shape"  # a comb's characters do not make a value of its kind (a date typed 5/6/18)
    UNREADABLE_VALUE = "unreadable_value"  # a PDF form value that cannot be decoded as text
    FORM_CODE_UNREAD = "form_code_unread"  # a page found by its anchors and layout, its QR codes and footer unread


class Reader(StrEnum):
    """Who read a value in a field's zone (one field may have several readers)."""

    ACROFORM = "acroform"
    TEXT_LAYER = "text_layer"
    TESSERACT = "tesseract"
    PPOCR = "ppocr"  # PP-OCRv6's recogniser, the second text reader (pipeline.reading.scan.second_reader)
    DIGIT_MODEL = "digit_model"
    OMR = "omr"
    PPOCR_CONSTRAINED = "ppocr_constrained"  # PP-OCRv6 decoded against the field's allowed values (scan.constrained)
    TESSERACT_RESCALED = "tesseract_rescaled"  # Tesseract on the zone alone, rescaled (scan.third_reading)
    PPOCR_GREY = "ppocr_grey"  # PP-OCRv6 on a photo's zone neither masked nor sharpened (scan.photo_witness)


class ReaderReading(BaseModel):
    """What one reader read in a field's zone, before any rule changed or held it.

    Attributes:
        reader: Who read it.
        value: The value as read, in the field's raw shape for text (``None`` when it read nothing).
        score: The reader's own score, 0-1, as it gave it (not calibrated; ``None`` when it gives none).
    """

    model_config = ConfigDict(frozen=True)

    reader: Reader
    value: str | None
    score: float | None = None


class ZoneBox(BaseModel):
    """Where a field lies on its page, in PDF points (top-left origin)."""

    model_config = ConfigDict(frozen=True)

    x0: float
    top: float
    x1: float
    bottom: float


class ExtractedField(BaseModel):
    """One field as a reader produced it.

    Attributes:
        name: Field name from the form definition.
        value: Raw value (see module docstring).
        confidence: 0 to 1; below the field's threshold the form goes to review.
        source: Which reader produced the value.
        page: 1-based page number.
        zone: The field's zone in PDF points.
        ticks: For tick fields, the OMR state of each option (option → state).
        fill_ratios: For tick fields read by OMR, dark-pixel share of each box interior.
        doubt: Why the field was held under the review threshold beyond its OCR confidence, if it was.
        readings: What each reader read in the zone, before any rule (evidence kept beside the decision).
        rules: The reading rules that changed, held or vouched for the value, in the order they acted (keys
            of :data:`pipeline.reading.rules.FIELD_RULES`, which says each one's effect in French).
        model_digits: For a comb read from a scan: the digit model's own reading (``pipeline.reading.scan``), one digit
            per inked cell left to right, whatever value was kept (tesseract's when it read one digit per
            cell). An independent reading a cross-check may weigh (``pipeline.deciding.crosscheck.vouch_town``);
            ``None`` for every other field. Not stored.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    value: RawValue
    confidence: float = Field(ge=0.0, le=1.0)
    source: Source
    page: int
    zone: ZoneBox
    ticks: dict[str, TickState] = Field(default_factory=dict)
    fill_ratios: dict[str, float] = Field(default_factory=dict)
    doubt: Doubt | None = None
    readings: tuple[ReaderReading, ...] = ()
    rules: tuple[str, ...] = ()
    model_digits: str | None = None

    def read_by(self, reader: Reader) -> str | None:
        """What ``reader`` read in the field's zone (``None``: it read nothing, or did not read this zone)."""
        return next((r.value for r in self.readings if r.reader is reader), None)


class ExtractedForm(BaseModel):
    """A whole form as extracted from one document.

    Attributes:
        form_id: Serial read from the QR codes or footer.
        version: Form version.
        pages_found: 1-based page numbers present in the document.
        fields: Field name → extracted field (every field of the received pages).
        page_sources: Page number → reader used for it.
        handwritten_pages: Page numbers the scan reader judged filled by hand (baseline agreement of the
            page's zones, ``pipeline.reading.scan.hand.looks_handwritten``).
    """

    form_id: str
    version: int
    pages_found: list[int]
    fields: dict[str, ExtractedField]
    page_sources: dict[int, Source]
    handwritten_pages: list[int] = Field(default_factory=list)

    def values(self) -> FormValues:
        """Field name → raw value."""
        return {name: f.value for name, f in self.fields.items()}


def format_comb(kind: str, text: str) -> str | None:
    """Canonical form of a comb value from whatever characters were read.

    Args:
        kind: ``"date"``, ``"phone"`` or ``"postcode"`` (a ``FieldKind`` value).
        text: Characters as read; non-digits are dropped.

    Returns:
        ``"JJ/MM/AAAA"`` for a date of 8 digits, else the digits themselves;
        ``None`` when there are no digits.
    """
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None
    if kind == "date" and len(digits) == 8:
        return f"{digits[:2]}/{digits[2:4]}/{digits[4:]}"
    return digits


def normalise_text(value: str | None) -> str | None:
    """Collapse white space and Unicode forms so values compare as a reader sees them.

    Returns ``None`` for empty or blank input.
    """
    if value is None:
        return None
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    value = value.replace("’", "'")
    return value or None
