"""Read a received document into pages of extracted fields, cheapest faithful source first.

Per page: AcroForm values, then the text layer, then OCR/OMR on the image
(OCRmyPDF's ``is_ocr_required`` idea, per page). Image files go straight to the
scan reader. Heavy objects (PDFs, images) live only inside this module's calls and
are closed before returning.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pdfplumber
from PIL import Image, ImageOps, ImageSequence
from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from pipeline.errors import (
    ClasError,
    EncryptedPdfError,
    ImageTooLargeError,
    UnreadableDocumentError,
    UnsupportedMediaTypeError,
)
from pipeline.form.definition import FieldKind, FormDefinition, PageIdentity, Rect, form_v1
from pipeline.reading.crops import store_crops
from pipeline.reading.normalise import grey_array, split_pages, square_pixels, stated_resolution
from pipeline.reading.pdf import (
    acroform_widget_values,
    identify_text_page,
    is_scanned_page,
    read_acroform_page,
    read_text_layer_page,
)
from pipeline.reading.scan.page import ScanPageResult, read_scan_page
from pipeline.settings import Settings
from schemas.document import MediaType
from schemas.extraction import Doubt, ExtractedField, Source

logger = logging.getLogger(__name__)


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
    """

    index: int
    identity: PageIdentity
    source: Source
    fields: dict[str, ExtractedField]
    handwritten: bool = False


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


def read_document(path: Path, media_type: MediaType, settings: Settings,
                  definition: FormDefinition | None = None) -> list[PageResult]:
    """Read every page of a document.

    Args:
        path: The stored original.
        media_type: As detected at ingestion.
        settings: Product settings (scan, OCR and OMR sections are used).
        definition: Form geometry; version 1 by default.

    Returns:
        One result per page, in document order.

    Raises:
        UnsupportedMediaTypeError: Not a PDF or a supported image.
        EncryptedPdfError: A PDF protected by a password other than the empty one.
        UnreadableDocumentError: A truncated or corrupt file.
        ImageTooLargeError: An image above ``settings.scan.max_pixels``.
    """
    definition = definition or form_v1()
    if media_type is MediaType.PDF:
        return list(_read_pdf(path, settings, definition))
    if media_type in (MediaType.JPEG, MediaType.PNG, MediaType.TIFF, MediaType.HEIC):
        results: list[PageResult] = []
        for grey, dpi, coarsest_dpi in _image_pages(path, media_type, settings):
            results += _read_image_pages(len(results), grey, dpi, settings, definition, coarsest_dpi)
        return results
    raise UnsupportedMediaTypeError(f"unsupported media type {media_type.value}", media_type=media_type.value)


def _read_image_pages(first_index: int, grey: np.ndarray, dpi: float | None, settings: Settings,
                      definition: FormDefinition, coarsest_dpi: float | None = None) -> list[PageResult]:
    """Read one image, which may hold several pages of the form side by side (``pipeline.reading.normalise``).

    Pages cut out of the image are numbered from ``first_index`` on, in the image's reading order.
    ``coarsest_dpi`` is the file's coarser resolution before its pixels were made square (a fax's 100);
    a page whose coarser axis had fewer than ``ocr.min_text_dpi`` px per inch, as the file states it or as
    the QR codes measure it (a fax saved without its resolution is stretched by ``split_pages``), sends its
    text zones to a person.
    """
    pages = split_pages(grey, dpi, definition, settings.registration)
    return [_read_image_page(first_index + i, p.image, p.dpi, settings, definition, coarsest_dpi, p.upsampled)
            for i, p in enumerate(pages)]


def _read_image_page(index: int, grey: np.ndarray, dpi: float | None, settings: Settings,
                     definition: FormDefinition, coarsest_dpi: float | None = None,
                     upsampled: float = 1.0) -> PageResult:
    try:
        result = read_scan_page(grey, dpi, settings.ocr, settings.omr, definition, settings.registration)
    except ClasError as exc:
        return UnidentifiedPage(index, exc)
    if min(result.dpi / upsampled, coarsest_dpi or result.dpi) < settings.ocr.min_text_dpi:
        result = doubt_text_zones(result, settings.ocr.unread_confidence)
    _keep_doubtful_crops(result, settings)
    return PageReading(index, result.identity, Source.OCR, dict(result.fields), result.handwritten)


def doubt_text_zones(result: ScanPageResult, cap: float) -> ScanPageResult:
    """The page with every text and e-mail field's confidence capped at ``cap`` (0-1): a page received at
    too coarse a resolution for letters (``OcrSettings.min_text_dpi``) sends its words to a person."""
    kinds = {f.name: f.kind for f in form_v1().page_fields(result.identity.page)}
    fields = {name: (f.model_copy(update={"confidence": min(f.confidence, cap), "doubt": Doubt.LOW_RESOLUTION})
                     if kinds.get(name) in (FieldKind.TEXT, FieldKind.EMAIL) and f.value is not None else f)
              for name, f in result.fields.items()}
    return replace(result, fields=fields)


def _keep_doubtful_crops(result: ScanPageResult, settings: Settings) -> None:
    """Store the crops of the fields read below the confidence threshold, for the review page.

    Only doubtful fields are kept (data minimisation): confident fields need no person,
    and the review desk can still cut any zone from the kept original. A serial that
    cannot name a safe path (a forged QR code) keeps no crop.
    """
    threshold = settings.ocr.text_confidence_min
    doubtful = {name: png for name, png in result.crops.items()
                if name in result.fields and result.fields[name].confidence < threshold}
    if not doubtful:
        return
    try:
        store_crops(doubtful, settings.data_dir, result.identity.form_id, result.identity.page)
    except ValueError:
        logger.warning("page of an unsafe form serial: no crop kept")


EXIF_ORIENTATION_TAG = 0x0112
EXIF_SWAPS_AXES = frozenset({5, 6, 7, 8})
"""EXIF orientations whose transpose turns the image a quarter turn (its columns become rows)."""


def _image_pages(path: Path, media_type: MediaType, settings: Settings
                 ) -> Iterator[tuple[np.ndarray, float | None, float | None]]:
    """Yield ``(grey uint8 array, dpi or None, coarser stated dpi or None)`` for each frame of an image file.

    Each frame is turned upright by its EXIF orientation, made grey whatever its pixel format
    (:func:`pipeline.reading.normalise.grey_array`: 16-bit scaled, transparency on white), and given square
    pixels when the file states two different resolutions, with or without a unit
    (:func:`pipeline.reading.normalise.stated_resolution`; a 200 × 100 dpi fax).

    Raises:
        UnsupportedMediaTypeError: A HEIC image without pillow-heif.
        ImageTooLargeError: A frame above ``settings.scan.max_pixels``.
        UnreadableDocumentError: The image cannot be decoded.
    """
    if media_type is MediaType.HEIC:
        try:
            from pillow_heif import register_heif_opener
        except ImportError as exc:  # pragma: no cover - depends on the optional package
            raise UnsupportedMediaTypeError("HEIC support (pillow-heif) not installed",
                                            media_type=media_type.value) from exc
        register_heif_opener()
    # Pillow's own bomb check raises a generic error at twice its default limit; we
    # enforce the configured limit below instead, with a specific, French reason.
    Image.MAX_IMAGE_PIXELS = None
    try:
        with Image.open(path) as img:
            for frame in ImageSequence.Iterator(img):
                if frame.width * frame.height > settings.scan.max_pixels:
                    raise ImageTooLargeError(f"image of {frame.width}x{frame.height} px over the limit",
                                             pixels=frame.width * frame.height)
                stated = stated_resolution(frame.info)
                copy = frame.copy()
                if stated is not None and copy.getexif().get(EXIF_ORIENTATION_TAG) in EXIF_SWAPS_AXES:
                    stated = replace(stated, x=stated.y, y=stated.x)  # the turn makes columns of the rows
                grey = grey_array(ImageOps.exif_transpose(copy))
                if stated is not None:
                    # A fax states 200 x 100 dpi (or 200 x 100 without a unit): make pixels square before
                    # anything measures them.
                    grey = square_pixels(grey, stated.x, stated.y, settings.registration)
                per_inch = stated is not None and stated.per_inch
                # Only a fax states two resolutions; a phone's equal 72 dpi says nothing of the page, whose
                # real resolution the QR codes measure (ScanPageResult.dpi).
                coarsest = (min(stated.x, stated.y) if stated is not None and per_inch and abs(stated.x - stated.y) > 1
                            else None)
                yield grey, (max(stated.x, stated.y) if stated is not None and per_inch else None), coarsest
    except (OSError, SyntaxError, ValueError) as exc:
        raise UnreadableDocumentError(f"image cannot be decoded: {type(exc).__name__}") from exc


def _open_pdf_reader(path: Path) -> PdfReader:
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedPdfError("PDF is protected by a password")
        len(reader.pages)  # forces parsing of the page tree
    except (FileNotDecryptedError, NotImplementedError) as exc:
        raise EncryptedPdfError(f"PDF cannot be decrypted: {type(exc).__name__}") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocumentError(f"PDF cannot be parsed: {type(exc).__name__}") from exc
    return reader


def _read_pdf(path: Path, settings: Settings, definition: FormDefinition) -> Iterator[PageResult]:
    reader = _open_pdf_reader(path)
    has_acroform = bool(reader.get_fields())
    try:
        pdf = pdfplumber.open(path, password="")
    except Exception as exc:  # pdfminer raises many unrelated types on broken files
        raise UnreadableDocumentError(f"PDF cannot be opened: {type(exc).__name__}") from exc
    with pdf:
        count = 0
        for index, page in enumerate(pdf.pages):
            try:
                # A scanned PDF page may hold several pages of the form (an A3 scan): number results in order.
                for result in _read_pdf_page(index, page, reader, has_acroform, settings, definition):
                    yield replace(result, index=count)
                    count += 1
            finally:
                page.close()  # pdfplumber caches per page (pdfplumber #1339)


def _read_pdf_page(index: int, page: pdfplumber.page.Page, reader: PdfReader, has_acroform: bool,
                   settings: Settings, definition: FormDefinition) -> list[PageResult]:
    images = [Rect(float(i["x0"]), float(i["top"]), float(i["x1"]), float(i["bottom"])) for i in page.images]
    identity = None if is_scanned_page(float(page.width), float(page.height), images, settings.text_layer) else \
        identify_text_page(page.extract_text() or "")
    if identity is not None and identity.version == definition.version:
        fields = definition.page_fields(identity.page)
        words = page.extract_words()
        graphics = list(page.curves) + list(page.lines)
        from_text = read_text_layer_page(words, page.chars, graphics, fields, settings.text_layer)
        if has_acroform:
            widgets = acroform_widget_values([a.get_object() for a in reader.pages[index].get("/Annots", [])])
            if any(widgets.values()):
                # Widget values override the text layer; signatures stay read from the drawing.
                return [PageReading(index, identity, Source.ACROFORM,
                                    {**from_text, **read_acroform_page(widgets, fields)})]
        return [PageReading(index, identity, Source.TEXT_LAYER, from_text)]
    # No usable text layer: rasterise at the embedded image's own resolution when known.
    dpi = float(settings.scan.raster_dpi)
    if page.images:
        biggest = max(page.images, key=lambda i: float(i["width"]) * float(i["height"]))
        src_w = float(biggest["srcsize"][0])
        dpi = min(settings.scan.raster_dpi_max,
                  max(settings.scan.raster_dpi_min, src_w / (float(biggest["width"]) / 72.0)))
    pil = page.to_image(resolution=dpi).original.convert("L")
    return _read_image_pages(index, np.asarray(pil), dpi, settings, definition)
