"""The kinds of received document the sample generator makes, and the named groups of them.

Kept apart from ``samples.generator`` so that the modules making one family of kinds
(``samples.copies``, ``samples.handwriting``), the benchmark and the command line can
name kinds without importing the generator (issue 15: the generator and its helpers
used to import each other). Standard library only, so naming a kind costs nothing.
"""

from __future__ import annotations

from enum import StrEnum


class SampleKind(StrEnum):
    """Kinds of received document the generator produces."""

    FILLABLE = "fillable"
    TEXT_PDF = "text_pdf"
    SCAN_300_GREY_JPEG = "scan_300_grey_jpeg"
    SCAN_200_BW_PNG = "scan_200_bw_png"
    SCAN_300_BW_TIFF = "scan_300_bw_tiff"
    SCAN_200_GREY_PDF = "scan_200_grey_pdf"
    INVALID_NO_AGREEMENT = "invalid_no_agreement"
    INVALID_NO_CRITERION = "invalid_no_criterion"
    INVALID_UNKNOWN_SCHOOL = "invalid_unknown_school"
    INVALID_TWO_LEVELS = "invalid_two_levels"
    INVALID_PAGE2_MISSING = "invalid_page2_missing"
    NOT_THE_FORM = "not_the_form"
    # Hard inputs (issue 3): benchmarked, not in the demo inbox.
    SCAN_TURNED = "scan_turned"
    SCAN_FIT_TO_PAGE = "scan_fit_to_page"
    PHOTO_JPEG = "photo_jpeg"
    PHOTO_HEIC = "photo_heic"
    SCAN_HAND_MARKS = "scan_hand_marks"
    # Poor copies, stamps and assembly (issue 3; made by ``samples.copies``).
    SCAN_PHOTOCOPY = "scan_photocopy"
    FAX_200X100 = "fax_200x100"
    FAX_HALFTONE = "fax_halftone"
    SCAN_STAMPED = "scan_stamped"
    SCAN_TWO_UP = "scan_two_up"
    PDF_WRONG_ORDER = "pdf_wrong_order"
    # Handwriting (issue 3; made by ``samples.handwriting``).
    SCAN_HANDWRITTEN = "scan_handwritten"
    PHOTO_HANDWRITTEN = "photo_handwritten"
    # Form version 2, made for hand-print (issue 18; made by ``samples.handwriting``).
    SCAN_HANDWRITTEN_V2 = "scan_handwritten_v2"


SCAN_KINDS = (SampleKind.SCAN_300_GREY_JPEG, SampleKind.SCAN_200_BW_PNG, SampleKind.SCAN_300_BW_TIFF,
              SampleKind.SCAN_200_GREY_PDF)
HARD_KINDS = (SampleKind.SCAN_TURNED, SampleKind.SCAN_FIT_TO_PAGE, SampleKind.PHOTO_JPEG, SampleKind.PHOTO_HEIC,
              SampleKind.SCAN_HAND_MARKS)
"""Kinds of issue 3 (orientation, fit to page, phone photos); see ``samples/README.md``."""
COPY_KINDS = (SampleKind.SCAN_PHOTOCOPY, SampleKind.FAX_200X100, SampleKind.FAX_HALFTONE, SampleKind.SCAN_STAMPED,
              SampleKind.SCAN_TWO_UP, SampleKind.PDF_WRONG_ORDER)
"""Poor copies, stamps over zones and pages assembled oddly (``samples.copies``)."""
HANDWRITTEN_KINDS = (SampleKind.SCAN_HANDWRITTEN, SampleKind.PHOTO_HANDWRITTEN)
"""Forms filled by hand in handwriting fonts (``samples.handwriting``)."""
V2_KINDS = (SampleKind.SCAN_HANDWRITTEN_V2,)
"""Forms of version 2 (capital-letter combs, ticked home languages) filled by hand and scanned (issue 18)."""
IMAGE_KINDS = (*SCAN_KINDS, *HARD_KINDS, *COPY_KINDS, *HANDWRITTEN_KINDS, *V2_KINDS)
"""Every kind whose pages are images (the benchmark times a bare tesseract call beside them)."""
VALID_KINDS = (SampleKind.FILLABLE, SampleKind.TEXT_PDF, *SCAN_KINDS)
INVALID_KINDS = (SampleKind.INVALID_NO_AGREEMENT, SampleKind.INVALID_NO_CRITERION,
                 SampleKind.INVALID_UNKNOWN_SCHOOL, SampleKind.INVALID_TWO_LEVELS,
                 SampleKind.INVALID_PAGE2_MISSING)
KIND_GROUPS: dict[str, tuple[SampleKind, ...]] = {
    "base": (*VALID_KINDS, *INVALID_KINDS, SampleKind.NOT_THE_FORM),
    "hard": (*HARD_KINDS, *COPY_KINDS, *HANDWRITTEN_KINDS),
    "v2": V2_KINDS,
}
"""Names the benchmark accepts for groups of kinds: the pipeline issue's corpus, issue 3's hard one, and form
version 2's (issue 18)."""
