"""Read a received document into pages of extracted fields, cheapest faithful source first.

Per page: AcroForm values, then the text layer, then OCR/OMR on the image
(OCRmyPDF's ``is_ocr_required`` idea, per page). Image files go straight to the
scan reader. Heavy objects (PDFs, images) live only inside this module's calls and
are closed before returning.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pdfplumber
from PIL import Image, ImageOps, ImageSequence
from pypdf import PdfReader, PdfWriter
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
from pipeline.reading.normalise import split_pages, square_pixels
from pipeline.reading.pdf import (
    WidgetValue,
    acroform_widget_values,
    identify_text_page,
    is_scanned_page,
    names_form_fields,
    read_acroform_page,
    read_text_layer_page,
    xfa_datasets,
)
from pipeline.reading.scan.page import ScanPageResult, read_scan_page
from pipeline.reading.text_register import label_words, register_text_layer
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


def _image_pages(path: Path, media_type: MediaType, settings: Settings
                 ) -> Iterator[tuple[np.ndarray, float | None, float | None]]:
    """Yield ``(grey uint8 array, dpi or None, coarser stated dpi or None)`` for each frame of an image file."""
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
                dpi: tuple[float, float] = frame.info.get("dpi") or (0.0, 0.0)  # none stated: (0, 0)
                upright = ImageOps.exif_transpose(frame.copy())
                grey = np.asarray(upright.convert("L"))
                if min(dpi) > 1:
                    # A fax states 200 x 100 dpi: make pixels square before anything measures them.
                    # (EXIF turns that swap the axes come from phones, which state equal resolutions.)
                    grey = square_pixels(grey, float(dpi[0]), float(dpi[1]), settings.registration)
                stated = min(dpi) > 1
                # Only a fax states two resolutions; a phone's equal 72 dpi says nothing of the page, whose
                # real resolution the QR codes measure (ScanPageResult.dpi).
                coarsest = float(min(dpi)) if stated and abs(float(dpi[0]) - float(dpi[1])) > 1 else None
                yield grey, (float(max(dpi)) if stated else None), coarsest
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


def _unrotated(reader: PdfReader) -> io.BytesIO | None:
    """The document with every page's ``/Rotate`` set to 0, or ``None`` when no page is turned.

    ``/Rotate`` only tells a viewer how to show the page; the content keeps the form's own coordinates. pdfminer
    applies it, and reads the words of a page turned by 180 or 270 degrees backwards or letter by letter, so
    neither the footer nor the labels are found (issue 16). Unturned, the text layer reads as made; the
    registration (:mod:`pipeline.reading.text_register`) still places it, and the scan reader, if it comes to
    that, finds any orientation by the QR codes.

    Raises:
        UnreadableDocumentError: pypdf cannot write the copy.
    """
    if not any(page.rotation % 360 for page in reader.pages):
        return None
    try:
        writer = PdfWriter(clone_from=reader)
        for page in writer.pages:
            page.rotation = 0
        out = io.BytesIO()
        writer.write(out)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise UnreadableDocumentError(f"PDF cannot be unrotated: {type(exc).__name__}") from exc
    out.seek(0)
    return out


def _read_pdf(path: Path, settings: Settings, definition: FormDefinition) -> Iterator[PageResult]:
    reader = _open_pdf_reader(path)
    # Not ``reader.get_fields()``: pypdf's field summary fails on a value stored as a UTF-16 text stream
    # (UnicodeDecodeError, issue 16); the widgets are read through the field tree page by page instead.
    acroform = reader.root_object.get("/AcroForm")
    acroform = acroform.get_object() if acroform is not None else None
    has_acroform = isinstance(acroform, Mapping) and bool(acroform.get("/Fields"))
    xfa = xfa_datasets(acroform) if has_acroform else {}
    try:
        pdf = pdfplumber.open(_unrotated(reader) or path, password="")
    except Exception as exc:  # pdfminer raises many unrelated types on broken files
        raise UnreadableDocumentError(f"PDF cannot be opened: {type(exc).__name__}") from exc
    with pdf:
        count = 0
        for index, page in enumerate(pdf.pages):
            try:
                # A scanned PDF page may hold several pages of the form (an A3 scan): number results in order.
                for result in _read_pdf_page(index, page, reader, has_acroform, settings, definition, xfa):
                    yield replace(result, index=count)
                    count += 1
            finally:
                page.close()  # pdfplumber caches per page (pdfplumber #1339)


def _read_pdf_page(index: int, page: pdfplumber.page.Page, reader: PdfReader, has_acroform: bool,
                   settings: Settings, definition: FormDefinition,
                   xfa: Mapping[str, str] | None = None) -> list[PageResult]:
    """Read one PDF page: AcroForm values and the registered text layer, or the rendered page as a scan.

    The text layer is read only once registered to the form's printed labels
    (:func:`pipeline.reading.text_register.register_text_layer`): a page whose labels do not place it (too few,
    disagreeing, a stretch that is not a similarity) is rasterised and read as a scan, its AcroForm values (if
    any) still overriding what the scan read.
    """
    images = [Rect(float(i["x0"]), float(i["top"]), float(i["x1"]), float(i["bottom"])) for i in page.images]
    identity = None if is_scanned_page(float(page.width), float(page.height), images, settings.text_layer) else \
        identify_text_page(page.extract_text() or "")
    # AcroForm values do not depend on where the page's text lies: read them even when the text layer does not
    # identify the page (a page turned by /Rotate 180, whose text pdfminer reads backwards).
    widgets: dict[str, WidgetValue] = {}
    if has_acroform:
        widgets = acroform_widget_values([a.get_object() for a in reader.pages[index].get("/Annots", [])], xfa)
    from_widgets = any(w.value for w in widgets.values()) and names_form_fields(widgets, definition)
    if identity is not None and identity.version == definition.version:
        fields = definition.page_fields(identity.page)
        words = page.extract_words()
        registration = register_text_layer(words, definition, identity.page, settings.text_layer)
        if registration is not None:
            graphics = list(page.curves) + list(page.lines)
            from_text = read_text_layer_page(registration.transform(words), registration.transform(page.chars),
                                             registration.transform(graphics), fields, settings.text_layer,
                                             label_words(definition, identity.page))
            if from_widgets:
                # Widget values override the text layer; signatures stay read from the drawing.
                return [PageReading(index, identity, Source.ACROFORM,
                                    {**from_text, **read_acroform_page(widgets, fields, settings.text_layer)})]
            return [PageReading(index, identity, Source.TEXT_LAYER, from_text)]
        logger.info("page %d: text layer not registered to the form's labels, read as a scan", index + 1)
    # No usable text layer: rasterise at the embedded image's own resolution when known.
    dpi = float(settings.scan.raster_dpi)
    if page.images:
        biggest = max(page.images, key=lambda i: float(i["width"]) * float(i["height"]))
        src_w = float(biggest["srcsize"][0])
        dpi = min(settings.scan.raster_dpi_max,
                  max(settings.scan.raster_dpi_min, src_w / (float(biggest["width"]) / 72.0)))
    pil = page.to_image(resolution=dpi).original.convert("L")
    results = _read_image_pages(index, np.asarray(pil), dpi, settings, definition)
    if from_widgets and len(results) == 1 and isinstance(results[0], PageReading):
        # The page as the scan reader identified it (QR codes); its widget values override what was read on the
        # rendering, which does not draw form fields. Signatures stay read from the drawing.
        page_reading = results[0]
        fields = definition.page_fields(page_reading.identity.page)
        results = [replace(page_reading, source=Source.ACROFORM, fields={
            **page_reading.fields, **read_acroform_page(widgets, fields, settings.text_layer)})]
    return results
