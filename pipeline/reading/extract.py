"""Read a received document into pages of extracted fields, cheapest faithful source first.

Per page: AcroForm values, then the text layer, then OCR/OMR on the image
(OCRmyPDF's ``is_ocr_required`` idea, per page). Image files go straight to the
scan reader. Heavy objects (PDFs, images) live only inside this module's calls and
are closed before returning.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import logging
import struct
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.utils.exceptions import MalformedPDFException
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter
from pypdf.errors import FileNotDecryptedError, PdfReadError

from pipeline.deciding.crosscheck import on_known_mail_domain
from pipeline.errors import (
    ClasError,
    EncryptedPdfError,
    ImageTooLargeError,
    TooManyPagesError,
    UnreadableDocumentError,
    UnsupportedMediaTypeError,
)
from pipeline.form.definition import (
    Field,
    FieldKind,
    FormDefinition,
    Rect,
    UnknownFormVersionError,
    form_definition,
    form_v1,
)
from pipeline.heic import register_heic
from pipeline.pdfium_lock import PDFIUM_LOCK
from pipeline.reading.crops import store_crops
from pipeline.reading.identify import UNREAD_SERIAL
from pipeline.reading.normalise import grey_array, split_pages, square_pixels, stated_resolution
from pipeline.reading.pages import PageReading, PageResult, UnidentifiedPage
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
from pipeline.reading.scan.choices import without_edge_marks
from pipeline.reading.scan.page import ScanPageResult, read_scan_page, second_reader_value
from pipeline.reading.text_register import label_words, register_text_layer
from pipeline.settings import Settings
from schemas.document import MediaType
from schemas.extraction import Doubt, ExtractedField, Reader, Source, normalise_text

logger = logging.getLogger(__name__)
# pypdf's warnings about a damaged file (``EOF marker not found``) are counted by damaged_pdf's handler, and the
# damage is logged by this module; passed on to the root logger (or, with no handler, to logging's last resort),
# they reached the terminal in English beside the run's French lines.
logging.getLogger("pypdf").propagate = False
logging.getLogger("pypdf").addHandler(logging.NullHandler())


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
        UnreadableDocumentError: A truncated or corrupt file of which no page of the form could be read.
        ImageTooLargeError: An image above ``settings.scan.max_pixels``.
        TooManyPagesError: More pages or frames than ``settings.scan.max_pages``, before any is read.
    """
    definition = definition or form_v1()
    if media_type is MediaType.PDF:
        if (pages := _pdf_pages_over_limit(path, settings.scan.max_pages)) is not None:
            raise _too_many_pages(pages, settings)
        return _retry_pdf_pages_rendered(path, settings, definition)
    if media_type in (MediaType.JPEG, MediaType.PNG, MediaType.TIFF, MediaType.HEIC):
        results: list[PageResult] = []
        for grey, dpi, coarsest_dpi in _image_pages(path, media_type, settings):
            results += _read_image_pages(len(results), grey, dpi, settings, definition, coarsest_dpi)
        return results
    raise UnsupportedMediaTypeError(f"unsupported media type {media_type.value}", media_type=media_type.value)


def _too_many_pages(pages: int | None, settings: Settings) -> TooManyPagesError:
    """The error for a file over ``settings.scan.max_pages`` (``pages``: its count when known)."""
    return TooManyPagesError(f"{pages or 'more'} pages, over the limit of {settings.scan.max_pages}",
                             page_count=pages, max_pages=settings.scan.max_pages)


def _pdf_pages_over_limit(path: Path, max_pages: int) -> int | None:
    """The PDF's page count when it has more than ``max_pages`` pages, else ``None``; no page is read.

    PDFium takes the count from the page tree (``/Count``), which a file may state wrongly: a count over the limit
    is believed only when page ``max_pages + 1`` loads (a review, 2026-12-07: the 2-page form with ``/Count 50``).
    ``None`` too when PDFium cannot open the file (the readers then say why: encrypted, damaged).
    """
    with PDFIUM_LOCK:  # PDFium is not thread-safe (pipeline.pdfium_lock)
        try:
            pdf = pdfium.PdfDocument(path)
        except pdfium.PdfiumError:
            return None
        try:
            if len(pdf) <= max_pages:
                return None
            try:
                pdf[max_pages].close()
            except pdfium.PdfiumError:
                return None  # the stated count is wrong: the readers read what is there
            return len(pdf)
        finally:
            pdf.close()


PILLOW_DAMAGE = (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error)
"""What Pillow raises on a damaged image file: its decoders' ``OSError``, ``SyntaxError`` and ``ValueError``, and,
from a TIFF whose page directory is damaged, ``TypeError``, ``KeyError``, ``IndexError`` or ``struct.error`` (a
review's fuzzing of a 3-page TIFF, 2026-12-07: those ended as internal errors). Caught only around Pillow's own
calls (:func:`_frames_over_limit`, :func:`_image_pages`), so that a bug of ours is never told to staff as a damaged
file."""


def _frames_over_limit(img: Image.Image, max_pages: int) -> bool:
    """Whether an image file has more than ``max_pages`` frames (TIFF pages): frame ``max_pages + 1`` is sought
    directly, without walking or decoding the others (Pillow's ``n_frames`` walks every page directory, and raised
    on a damaged last one, which let a 300-frame file be read whole: a review, 2026-12-07). A directory that cannot
    be reached for damage counts as not over: the frames are then read until the damaged one, whose page the
    reason names. The image is left on its first frame."""
    try:
        img.seek(max_pages)
        over = True
    except (EOFError, *PILLOW_DAMAGE):
        over = False  # no such frame, or a damaged directory on the way
    with contextlib.suppress(EOFError, *PILLOW_DAMAGE):
        img.seek(0)  # left as it was, the frame loop meets the damage and names its page
    return over


def _read_image_pages(first_index: int, grey: np.ndarray, dpi: float | None, settings: Settings,
                      definition: FormDefinition, coarsest_dpi: float | None = None) -> list[PageResult]:
    """Read one image, which may hold several pages of the form side by side (``pipeline.reading.normalise``).

    Pages cut out of the image are numbered from ``first_index`` on, in the image's reading order.
    ``coarsest_dpi`` is the file's coarser resolution before its pixels were made square (a fax's 100);
    a page whose coarser axis had fewer than ``ocr.min_text_dpi`` px per inch, as the file states it or as
    the QR codes measure it (a fax saved without its resolution is stretched by ``split_pages``), sends to a person
    the text zones its two readers do not read alike (:func:`doubt_text_zones`).
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
    if result.identity.form_id == UNREAD_SERIAL:
        result = doubt_every_field(result, settings.ocr.unread_confidence, Doubt.FORM_CODE_UNREAD)
    _keep_doubtful_crops(result, settings)
    return PageReading(index, result.identity, Source.OCR, dict(result.fields), result.handwritten,
                       result.stage_seconds)


def version_definition(version: int, definition: FormDefinition) -> FormDefinition | None:
    """The definition of form ``version``: ``definition`` when it is that version, ``None`` when the product has no
    such version (the page is then read as a scan, whose identification quarantines it with the reason)."""
    if version == definition.version:
        return definition
    try:
        return form_definition(version)
    except UnknownFormVersionError:
        return None


def doubt_text_zones(result: ScanPageResult, cap: float) -> ScanPageResult:
    """The page with its text and e-mail fields held for a person, but those both readers read alike: a page
    received at too coarse a resolution for letters (``OcrSettings.min_text_dpi``, a fax's 100 lines per inch).

    A field keeps its confidence (rule ``low_resolution_readers_agree``) when Tesseract and PP-OCRv6 read the
    same value (rule ``readers_agree`` of :func:`pipeline.reading.scan.page.readers_verdict`, or another rule of
    :data:`LOW_RESOLUTION_AGREEMENT`) and, for an e-mail,
    its domain is one of :data:`pipeline.deciding.crosscheck.KNOWN_EMAIL_DOMAINS`; any other is capped at ``cap``
    (0-1) with the doubt ``LOW_RESOLUTION`` and the rule ``low_resolution_hold``. Before the second reader, every
    text zone was held: Tesseract alone read 3 values in 5 faxes wrong at 0.73-0.81 (issue 3).

    Measured (issue 16, 2026-12-05) on every low-resolution text or e-mail zone with ink: the project's
    ``fax_200x100`` kind, 32 forms of seed 2026 (524 zones), both readers agreed on 459, of which 458 were right;
    the wrong one, ``free.tr`` for ``free.fr`` read by both, is the e-mail domain check's (43 of the 44 agreeing
    e-mails are on a known domain and right). The devset's two 100-lpi faxes are handwritten: 4 agreeing zones, all
    right, and held anyway by the handwriting hold. Held out, ``clas-referrals bench --kinds fax_200x100 --per-kind 16
    --seed 7``: routed with no person 0 → 4 of 16, median fields for a person 14.5 → 2, no value wrong accepted
    (172 accepted) nor wrong at or above the threshold, either way. Fields chosen between differing readings by a
    lexicon (``first_name_lexicon``, ``class_level_chooses``…) stay held: at this resolution a lexicon picks among
    misreadings.
    """
    definition = version_definition(result.identity.version, form_v1()) or form_v1()
    zones = {f.name: f for f in definition.page_fields(result.identity.page)}
    fields = {}
    for name, f in result.fields.items():
        zone = zones.get(name)
        if zone is None or zone.kind not in (FieldKind.TEXT, FieldKind.EMAIL) or f.value is None:
            fields[name] = f
        elif _readers_agree_on_known_shape(f, zone):
            fields[name] = f.model_copy(update={"rules": (*f.rules, "low_resolution_readers_agree")})
        else:
            fields[name] = f.model_copy(update={"confidence": min(f.confidence, cap), "doubt": Doubt.LOW_RESOLUTION,
                                                "rules": (*f.rules, "low_resolution_hold")})
    return replace(result, fields=fields)


LOW_RESOLUTION_AGREEMENT = ("readers_agree", "readers_agree_edges", "third_reading_agrees", "email_domain_lexicon")
"""The rules by which two engines read a low-resolution zone alike (:func:`doubt_text_zones`): Tesseract and PP-OCRv6
read the same value (``readers_agree``), the same once a speck read at one end by one of them is dropped
(``readers_agree_edges``), Tesseract read alone at another scale what PP-OCRv6 read (``third_reading_agrees``), or
the same local part of an address of which one read a known mail domain (``email_domain_lexicon``, the domain test
an agreed address passes here too). Lexicons that choose between two different readings are not among them.

Measured 2026-12-07 on every low-resolution text or e-mail zone held before, whose two readers differed: the
project's ``fax_200x100`` of seeds 13 (12 forms) and 29 (14 forms), and a helper's variants of the devset's 14 typed
referrals faxed at 200 × 100 dpi (half thresholded, half dithered; the devset's own 100-lpi faxes are handwritten).
Settled by these rules and held: seed 13, 5 fields; seed 29, 9; the variants, 10; all 24 right (Tesseract again
13, a known domain 7, a speck at an end 4; none wrong). Lexicon choices were right as often (8, 12 and 13 of as
many) but stay held, as designed with the hold: at this resolution a lexicon picks between two misreadings, which
corpora this small cannot rule out."""


ENGINE_READERS = (Reader.TESSERACT, Reader.PPOCR, Reader.TESSERACT_RESCALED)
"""The engines whose readings a low-resolution value must be one of (:func:`_value_as_read`)."""


def _value_as_read(field: ExtractedField, zone: Field) -> bool:
    """Whether ``field``'s value is what one of the engines read in its zone (:data:`ENGINE_READERS`, after the
    field's repairs, whole or without a speck at an end), compared as :func:`~schemas.extraction.normalise_text` does.

    An agreement rule recorded on a field says how its readers agreed, not that nothing changed the value after: a
    handwritten zone's constrained decoding replaces it with a listed value and keeps the rules before it (a review,
    2026-12-07: ``Mrine.`` / ``Mrine`` agreeing but for a speck, then decoded ``Marine`` and kept at 0.90 on a
    100-lines-per-inch fax, where a lexicon's choice is to be held)."""
    value = normalise_text(str(field.value))
    for reading in field.readings:
        if reading.reader in ENGINE_READERS and isinstance(reading.value, str):
            read = second_reader_value(zone, reading.value)
            if read and value in {normalise_text(read), normalise_text(without_edge_marks(read) or "")}:
                return True
    return False


def _readers_agree_on_known_shape(field: ExtractedField, zone: Field) -> bool:
    """Whether two engines read ``field``'s value alike (:data:`LOW_RESOLUTION_AGREEMENT`) and it is still what they
    read (:func:`_value_as_read`), an e-mail's on a known mail domain (see :func:`doubt_text_zones`)."""
    if not any(rule in field.rules for rule in LOW_RESOLUTION_AGREEMENT) or not isinstance(field.value, str):
        return False
    return (zone.kind is not FieldKind.EMAIL or on_known_mail_domain(field.value)) and _value_as_read(field, zone)


def doubt_every_field(result: ScanPageResult, cap: float, doubt: Doubt) -> ScanPageResult:
    """The page with every field's confidence capped at ``cap`` (0-1) and marked ``doubt``: a page found by its
    anchors and printed layout whose QR codes and footer are unreadable goes to a person whole, so that they check
    which form and page it is (``pipeline.reading.anchors.identify_by_anchors``)."""
    fields = {name: f.model_copy(update={"confidence": min(f.confidence, cap), "doubt": doubt})
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


DAMAGED_PDF_FR = ("PDF endommagé : aucune page de la fiche n'a pu y être lue, même après réparation. "
                  "Demander à l'école de renvoyer la fiche (scannée à nouveau ou enregistrée une nouvelle fois).")


def _retry_pdf_pages_rendered(path: Path, settings: Settings, definition: FormDefinition) -> list[PageResult]:
    """Read a PDF; pages not identified are rendered again by PDFium at their true size and read as images.

    The PDF reader (:func:`_read_pdf`) rasterises a scanned page in the page's user units, so a page that states
    ``/UserUnit`` (its MediaBox in units of, say, 10 pt) came out 248 px wide and was declared not the form; a
    damaged file that pypdf or pdfminer cannot parse may still render (issue 16). Here, when a page is not
    identified or the file cannot be parsed, the pages are rendered again by :func:`_render_pdf_page` and read
    by the image reader; a re-read page replaces the first reading only when it is identified.

    Returns:
        One result per page, in document order (see :func:`read_document`).

    Raises:
        UnreadableDocumentError: The file is damaged (pypdf cannot parse it strictly, or not at all) and no page
            of the form could be read from it, rendered or not: its reason says the file is damaged, never that it
            is not the form.
        EncryptedPdfError: A PDF protected by a password other than the empty one.
    """
    damaged: UnreadableDocumentError | None = None
    try:
        results = list(_read_pdf(path, settings, definition))
    except UnreadableDocumentError as error:
        damaged, results = error, []
    if results and all(isinstance(r, PageReading) for r in results):
        return results
    try:
        retried = _reread_rendered(path, results, settings, definition, every_page=damaged is not None)
    except (pdfium.PdfiumError, OSError):  # PDFium cannot open it either
        retried = results
    if not any(isinstance(r, PageReading) for r in retried):
        damage = damaged_pdf(path) if damaged is None else str(damaged)
        if damage is not None:
            raise UnreadableDocumentError(f"damaged PDF, no page of the form read: {damage}",
                                          reason_fr=DAMAGED_PDF_FR)
    elif damaged is not None:
        logger.info("damaged PDF: its pages were read from PDFium's rendering")
    return retried


def _reread_rendered(path: Path, results: list[PageResult], settings: Settings, definition: FormDefinition,
                     every_page: bool) -> list[PageResult]:
    """``results`` with each unidentified page replaced by its PDFium rendering's reading when that identifies it;
    every page re-read when ``results`` are not one per PDF page (the file did not parse, or a page held several
    pages of the form), kept only when more pages are identified so. Results are numbered again in order.

    Without ``every_page`` (a file that parsed), only the pages stating a ``/UserUnit`` other than 1 are rendered
    again: the others would render as the PDF reader rendered them (pdfplumber rasterises with PDFium too).

    Raises:
        pypdfium2.PdfiumError: PDFium cannot open the file.
    """
    with PDFIUM_LOCK:  # PDFium is not thread-safe; the page readers' threads rasterise templates with it
        pdf = pdfium.PdfDocument(path)
        page_count = len(pdf)
    try:
        units = _user_units(path, page_count)
        retried: list[PageResult] = []
        if page_count == len(results):
            for number, result in enumerate(results):
                again = (_read_image_pages(len(retried), *_render_pdf_page(pdf, number, units[number], settings),
                                           settings, definition)
                         if isinstance(result, UnidentifiedPage) and (every_page or units[number] != 1.0) else [])
                retried += again if any(isinstance(r, PageReading) for r in again) else [result]
        else:
            for number in range(page_count):
                retried += _read_image_pages(len(retried), *_render_pdf_page(pdf, number, units[number], settings),
                                             settings, definition)
            if sum(isinstance(r, PageReading) for r in retried) <= sum(isinstance(r, PageReading) for r in results):
                retried = results
    finally:
        with PDFIUM_LOCK:
            pdf.close()
    return [replace(r, index=i) for i, r in enumerate(retried)]


def _user_units(path: Path, page_count: int) -> list[float]:
    """Each page's ``/UserUnit`` (PDF points per user unit; 1.0 when absent, or when pypdf cannot tell).

    PDFium renders in user units and does not apply ``/UserUnit`` (ISO 32000-1, 14.11.2, table 30): pypdf reads it.
    """
    try:
        pages = PdfReader(path, strict=False).pages
        units = [float(page.user_unit) for page in pages]
    except Exception:  # noqa: BLE001 - a damaged file: its pages are rendered at their stated size
        return [1.0] * page_count
    units = [u if u > 0 else 1.0 for u in units]
    return units if len(units) == page_count else [1.0] * page_count


def _render_pdf_page(pdf: pdfium.PdfDocument, number: int, user_unit: float, settings: Settings
                     ) -> tuple[np.ndarray, float]:
    """Render page ``number`` (0-based) of ``pdf`` with PDFium at its true size: ``(grey uint8 array, dpi)``.

    The resolution is the biggest image's own (its pixels over its drawn width in inches, the width in user units
    times ``user_unit`` / 72), within ``settings.scan.raster_dpi_min``-``raster_dpi_max``; ``raster_dpi`` when
    the page holds no image. Pixels are made grey by :func:`pipeline.reading.normalise.grey_array`. The page is
    opened, rendered and closed holding :data:`~pipeline.pdfium_lock.PDFIUM_LOCK`.

    Raises:
        ImageTooLargeError: The rendering would exceed ``settings.scan.max_pixels``.
    """
    with PDFIUM_LOCK:
        page = pdf[number]
        try:
            return _render_open_page(page, user_unit, settings)
        finally:
            page.close()


def _render_open_page(page: pdfium.PdfPage, user_unit: float, settings: Settings) -> tuple[np.ndarray, float]:
    """:func:`_render_pdf_page` on an open page (the caller holds the PDFium lock)."""
    width_uu, height_uu = page.get_size()
    dpi = float(settings.scan.raster_dpi)
    images = list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)))
    sized = [(image.get_px_size()[0], image.get_bounds()) for image in images]
    sized = [(px, b) for px, b in sized if px > 0 and b[2] - b[0] > 0]
    if sized:
        px, (left, _, right, _) = max(sized, key=lambda s: s[0] * (s[1][2] - s[1][0]))
        native = px / ((right - left) * user_unit / 72.0)
        dpi = min(settings.scan.raster_dpi_max, max(settings.scan.raster_dpi_min, native))
    scale = dpi * user_unit / 72.0
    pixels = int(width_uu * scale) * int(height_uu * scale)
    if pixels > settings.scan.max_pixels:
        raise ImageTooLargeError(f"PDF page rendering of {pixels} px over the limit", pixels=pixels)
    bitmap = page.render(scale=scale)
    try:
        grey = grey_array(bitmap.to_pil())
    finally:
        bitmap.close()
    return grey, dpi


class _Repairs(logging.Handler):
    """Counts the warnings pypdf logs while it repairs a file (``Object ID 5,0 ref repaired``, ``incorrect
    startxref pointer``): pypdf tells a repair only so."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


def damaged_pdf(path: Path) -> str | None:
    """Why a PDF is damaged, or ``None`` when pypdf parses it, every page's content included, without repair.

    Damaged means pypdf's strict parser refuses it, or its lenient parser had to repair it (a cross-reference
    table pointing at the wrong bytes, a missing trailer). An encrypted file is not damaged.

    Returns:
        The kind of damage in English (for logs), or ``None``.
    """
    repairs = _Repairs()
    pypdf_log = logging.getLogger("pypdf")
    pypdf_log.addHandler(repairs)
    try:
        reader = PdfReader(path, strict=True)
        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()
    except (FileNotDecryptedError, NotImplementedError):
        return None  # encrypted: told apart by _open_pdf_reader, not damaged
    except Exception as error:  # noqa: BLE001 - pypdf raises many types on a damaged file
        return f"refused by pypdf's strict parser ({type(error).__name__})"
    finally:
        pypdf_log.removeHandler(repairs)
    return f"{repairs.count} repair(s) by pypdf" if repairs.count else None


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
        TooManyPagesError: More frames than ``settings.scan.max_pages``, before any is decoded.
        UnreadableDocumentError: The image cannot be decoded.
    """
    if media_type is MediaType.HEIC and not register_heic():  # pragma: no cover - pillow-heif is a dependency
        raise UnsupportedMediaTypeError("HEIC support (pillow-heif) not installed", media_type=media_type.value)
    # Pillow's own bomb check raises a generic error at twice its default limit; we
    # enforce the configured limit below instead, with a specific, French reason.
    Image.MAX_IMAGE_PIXELS = None
    try:
        img = Image.open(path)
    except PILLOW_DAMAGE as exc:
        raise _undecodable(0, exc) from exc
    with img:
        if _frames_over_limit(img, settings.scan.max_pages):
            raise _too_many_pages(None, settings)
        for decoded in itertools.count():  # frames read whole so far
            try:  # Pillow's own work only: a failure here is the file's damage, never our code's
                try:
                    img.seek(decoded)
                except EOFError:
                    return
                if img.width * img.height > settings.scan.max_pixels:
                    raise ImageTooLargeError(f"image of {img.width}x{img.height} px over the limit",
                                             pixels=img.width * img.height)
                info = dict(img.info)
                copy = img.copy()
                orientation = copy.getexif().get(EXIF_ORIENTATION_TAG)
                upright = ImageOps.exif_transpose(copy)
                upright.load()
            except PILLOW_DAMAGE as exc:
                raise _undecodable(decoded, exc) from exc
            stated = stated_resolution(info)
            if stated is not None and orientation in EXIF_SWAPS_AXES:
                stated = replace(stated, x=stated.y, y=stated.x)  # the turn makes columns of the rows
            grey = grey_array(upright)
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


def _undecodable(decoded: int, exc: BaseException) -> UnreadableDocumentError:
    """The error for an image whose frame ``decoded + 1`` Pillow cannot read: a later page of a multi-page TIFF is
    named, so staff can ask for that page again."""
    which = (f"Fichier endommagé : sa page {decoded + 1} ne peut pas être décodée (les pages d'avant se "
             "lisent). Demander à l'école de renvoyer la fiche.") if decoded else None
    return UnreadableDocumentError(f"image cannot be decoded (frame {decoded + 1}): {type(exc).__name__}",
                                   reason_fr=which)


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

    Raises:
        UnreadableDocumentError: The page must be rasterised and PDFium cannot load the file, which pypdf and
            pdfminer parsed (a review's ``/Root`` pointing at no object, 2026-12-07: it ended as an internal error).
    """
    images = [Rect(float(i["x0"]), float(i["top"]), float(i["x1"]), float(i["bottom"])) for i in page.images]
    identity = None if is_scanned_page(float(page.width), float(page.height), images, settings.text_layer) else \
        identify_text_page(page.extract_text() or "")
    # AcroForm values do not depend on where the page's text lies: read them even when the text layer does not
    # identify the page (a page turned by /Rotate 180, whose text pdfminer reads backwards).
    widgets: dict[str, WidgetValue] = {}
    if has_acroform:
        widgets = acroform_widget_values([a.get_object() for a in reader.pages[index].get("/Annots", [])], xfa)
    own = version_definition(identity.version, definition) if identity is not None else None
    from_widgets = any(w.value for w in widgets.values()) and names_form_fields(widgets, own or definition)
    if identity is not None and own is not None and 1 <= identity.page <= len(own.pages):
        definition = own
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
    with PDFIUM_LOCK:  # pdfplumber rasterises with PDFium
        try:
            pil = page.to_image(resolution=dpi).original.convert("L")
        except MalformedPDFException as exc:  # pypdf and pdfminer parsed the file, PDFium cannot load it
            raise UnreadableDocumentError(f"PDFium cannot render page {index + 1}", reason_fr=DAMAGED_PDF_FR) from exc
    results = _read_image_pages(index, np.asarray(pil), dpi, settings, definition)
    if from_widgets and len(results) == 1 and isinstance(results[0], PageReading):
        # The page as the scan reader identified it (QR codes); its widget values override what was read on the
        # rendering, which does not draw form fields. Signatures stay read from the drawing.
        page_reading = results[0]
        fields = (version_definition(page_reading.identity.version, definition) or definition).page_fields(
            page_reading.identity.page)
        results = [replace(page_reading, source=Source.ACROFORM, fields={
            **page_reading.fields, **read_acroform_page(widgets, fields, settings.text_layer)})]
    return results
