"""What a reader makes of one page: a page of the form read, or a page that is not one.

Kept apart from the readers (:mod:`pipeline.reading.extract`), which re-export these names, so that deciding
(:mod:`pipeline.deciding`) and the run's process, which only receive page results, do not import OpenCV, PDFium,
scikit-learn and the rest of the readers (issue 19: about 90 MB of every such process, and a second of a run's start;
the readers run in their own worker processes, :mod:`pipeline.reading.limits`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.errors import ClasError
from pipeline.form.definition import PageIdentity
from schemas.extraction import ExtractedField, Source


@dataclass(frozen=True)
class PageReading:
    """One page of a document, identified and read.

    Attributes:
        index: 0-based position of the page in the document (scan order; never used to assemble).
        identity: Form serial, version and page number.
        source: The reader that produced the fields.
        fields: Field name → extracted field, for this page's fields.
        handwritten: Whether the scan reader judged the page filled by hand (``ScanPageResult.handwritten``);
            always ``False`` for AcroForm and text-layer pages.
        stage_seconds: Stage name → wall seconds the scan reader spent on the page
            (``ScanPageResult.stage_seconds``); empty for AcroForm and text-layer pages.
    """

    index: int
    identity: PageIdentity
    source: Source
    fields: dict[str, ExtractedField]
    handwritten: bool = False
    stage_seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class UnidentifiedPage:
    """A page that is not a page of our form (or whose codes could not be read).

    Attributes:
        index: 0-based position in the document.
        error: Why it was not identified.
    """

    index: int
    error: ClasError


PageResult = PageReading | UnidentifiedPage
