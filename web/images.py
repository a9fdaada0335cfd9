"""Page images for the review desk: the stored originals, aligned on the form template.

Zones of ``pipeline.form.definition`` are in PDF points, top-left origin. A page can
show them only once it is in the template frame, so each page is brought there the
way the readers did it:

* a PDF page with the form's text layer (fillable or typed PDF) *is* the template
  frame: it is rasterised with pypdfium2 (form fields drawn) and zones scale by dpi/72;
* a scanned page (image file or image-only PDF) is identified by its QR codes and
  registered on its anchors with the pipeline's own :func:`pipeline.reading.anchors.find_page`
  and :func:`pipeline.reading.register.register_page` (the registration is not stored, so it is
  computed again here, once per form thanks to a small bounded cache);
* a page that cannot be registered is shown as it is, without zones (``aligned`` False).

The page number of each image comes from the page itself (text footer or QR code),
never from file order, as in the pipeline.
"""

from __future__ import annotations

import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw, ImageOps, ImageSequence

from pipeline.errors import ClasError
from pipeline.form.definition import PAGE_COUNT, PAGE_HEIGHT_PT, PAGE_WIDTH_PT, Rect
from pipeline.heic import register_heic
from pipeline.reading.anchors import find_page
from pipeline.reading.normalise import grey_array
from pipeline.reading.pdf import identify_text_page
from pipeline.reading.register import register_page
from schemas.document import MediaType

logger = logging.getLogger(__name__)

SCAN_RASTER_DPI = 200.0
"""Resolution at which image-only PDF pages are rasterised before QR identification (the
pipeline's ``ScanSettings.raster_dpi``: QR modules are about 5 px there)."""
ZONE_PAD_PT = 4.0
"""Margin around a field's zone in its crop, so strokes overflowing the box stay visible."""
MAX_PIXELS = 60_000_000
"""Refuse to decode larger images (same limit as ``ScanSettings.max_pixels``)."""


@dataclass(frozen=True)
class PageImage:
    """One page of a form, ready to show.

    Attributes:
        image: ``uint8`` grey array.
        px_per_pt: Pixels per PDF point of ``image`` when aligned.
        aligned: Whether template zones can be drawn at ``(x_pt * px_per_pt, y_pt * px_per_pt)``.
    """

    image: np.ndarray
    px_per_pt: float
    aligned: bool


def _register(grey: np.ndarray, dpi: float) -> tuple[int, PageImage] | None:
    """Identify and register a scanned page; ``None`` when its codes or anchors cannot be read."""
    try:
        identified = find_page(grey)
        registered = register_page(identified, dpi)
    except ClasError as exc:
        logger.info("page image not registered: %s", exc.code)
        return None
    return identified.identity.page, PageImage(registered.image, registered.px_per_pt, True)


def _pdf_pages(path: Path, dpi: float) -> Iterator[tuple[int | None, PageImage]]:
    pdf = pdfium.PdfDocument(path)
    try:
        pdf.init_forms()  # draw AcroForm values (fillable PDFs)
        for page in pdf:
            try:
                textpage = page.get_textpage()
                identity = identify_text_page(textpage.get_text_bounded() or "")
                textpage.close()
                width, height = page.get_size()
                if identity is not None and abs(width - PAGE_WIDTH_PT) < 2 and abs(height - PAGE_HEIGHT_PT) < 2:
                    bitmap = page.render(scale=dpi / 72.0, may_draw_forms=True)
                    grey = np.asarray(bitmap.to_pil().convert("L"))
                    yield identity.page, PageImage(grey, dpi / 72.0, True)
                    continue
                bitmap = page.render(scale=SCAN_RASTER_DPI / 72.0, may_draw_forms=True)
                grey = np.asarray(bitmap.to_pil().convert("L"))
                found = _register(grey, dpi)
                yield found if found else (None, _unaligned(grey, SCAN_RASTER_DPI, dpi))
            finally:
                page.close()
    finally:
        pdf.close()


def _unaligned(grey: np.ndarray, source_dpi: float, dpi: float) -> PageImage:
    img = Image.fromarray(grey)
    scale = dpi / source_dpi
    img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    return PageImage(np.asarray(img), dpi / 72.0, False)


def _image_pages(path: Path, dpi: float) -> Iterator[tuple[int | None, PageImage]]:
    with Image.open(path) as img:
        for frame in ImageSequence.Iterator(img):
            if frame.width * frame.height > MAX_PIXELS:
                logger.warning("page image too large to show: %d px", frame.width * frame.height)
                continue
            src_dpi = frame.info.get("dpi", (SCAN_RASTER_DPI, SCAN_RASTER_DPI))[0] or SCAN_RASTER_DPI
            grey = grey_array(ImageOps.exif_transpose(frame.copy()))  # 16-bit scaled, transparency on white
            found = _register(grey, dpi)
            yield found if found else (None, _unaligned(grey, float(src_dpi), dpi))


def form_page_images(documents: Sequence[tuple[Path, str]], dpi: float) -> dict[int, PageImage]:
    """Every page of a form's documents, by form page number.

    Args:
        documents: ``(stored path, media type)`` of each file carrying the form.
        dpi: Resolution of the returned images.

    Returns:
        Form page number → image. Pages that could not be identified fill the page
        numbers no identified page took (shown without zones).
    """
    pages: dict[int, PageImage] = {}
    unknown: list[PageImage] = []
    for path, media_type in documents:
        try:
            if media_type == MediaType.HEIC.value:
                register_heic()  # without pillow-heif, the file fails to open below and is told in the log
            found = _pdf_pages(path, dpi) if media_type == "application/pdf" else _image_pages(path, dpi)
            for number, image in found:
                if number is None or number in pages:
                    unknown.append(image)
                else:
                    pages[number] = image
        except (OSError, pdfium.PdfiumError, ValueError) as exc:
            logger.warning("stored original cannot be rendered: %s", type(exc).__name__)
    for number in range(1, PAGE_COUNT + 1):
        if number not in pages and unknown:
            pages[number] = unknown.pop(0)
    return pages


class PageCache:
    """A bounded, thread-safe cache of form page images (least recently used evicted).

    Args:
        max_forms: Forms kept (each holds at most two grey pages).
        dpi: Resolution of the cached pages.
    """

    def __init__(self, max_forms: int, dpi: float) -> None:
        self.dpi = dpi
        self._max = max_forms
        self._items: OrderedDict[str, dict[int, PageImage]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, form_id: str, documents: Sequence[tuple[Path, str]]) -> dict[int, PageImage]:
        """The form's pages, rendered on first use.

        Rendering holds one lock: PDFium is not thread-safe (pypdfium2 docs, "Thread
        safety"), and the page and crop requests of one form page arrive together, so
        the first renders and the others find the result in the cache.
        """
        with self._lock:
            if form_id in self._items:
                self._items.move_to_end(form_id)
                return self._items[form_id]
            pages = form_page_images(documents, self.dpi)
            self._items[form_id] = pages
            while len(self._items) > self._max:
                self._items.popitem(last=False)
            return pages

    def forget(self, form_id: str) -> None:
        """Drop a form's pages (after a decision: they are not needed any more)."""
        with self._lock:
            self._items.pop(form_id, None)


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


_RED = 254
_GREYS = 254
# Palette: 254 greys, then red for the zones and white for their numbers. A palette PNG keeps the
# page grey and the outlines pure red at the size of a grey PNG (RGB triples it, quantising muddies red).
_PALETTE = [v for i in range(_GREYS) for v in (round(i * 255 / (_GREYS - 1)),) * 3] + [200, 0, 0, 255, 255, 255]


def outlined_page_png(page: PageImage, zones: Sequence[tuple[int, Rect]], out_dpi: float) -> bytes:
    """The page with numbered problem zones outlined in red, scaled to ``out_dpi``.

    Args:
        page: The page image.
        zones: ``(number shown, zone in points)``; ignored when the page is not aligned.
        out_dpi: Resolution of the PNG.
    """
    grey = Image.fromarray(page.image)
    scale = (out_dpi / 72.0) / page.px_per_pt
    if abs(scale - 1.0) > 0.01:
        size = (max(1, round(grey.width * scale)), max(1, round(grey.height * scale)))
        grey = grey.resize(size, Image.Resampling.LANCZOS)
    levels = (np.asarray(grey).astype(np.uint16) * (_GREYS - 1) // 255).astype(np.uint8)
    img = Image.fromarray(levels)
    img.putpalette(_PALETTE)  # an "L" image becomes "P" with this palette
    if page.aligned:
        s = out_dpi / 72.0
        draw = ImageDraw.Draw(img)
        for number, r in zones:
            box = (r.x0 * s - 3, r.top * s - 3, r.x1 * s + 3, r.bottom * s + 3)
            draw.rectangle(box, outline=_RED, width=3)
            label = str(number)
            draw.rectangle((box[0] - 2, box[1] - 14, box[0] + 8 * len(label) + 4, box[1]), fill=_RED)
            draw.text((box[0] + 1, box[1] - 13), label, fill=_RED + 1)
    return _png(img)


def crop_png(page: PageImage, zone: Rect) -> bytes | None:
    """The field's zone cut from an aligned page, with a small margin; ``None`` if not aligned."""
    if not page.aligned:
        return None
    s = page.px_per_pt
    h, w = page.image.shape[:2]
    x0 = max(0, int((zone.x0 - ZONE_PAD_PT) * s))
    y0 = max(0, int((zone.top - ZONE_PAD_PT) * s))
    x1 = min(w, int((zone.x1 + ZONE_PAD_PT) * s) + 1)
    y1 = min(h, int((zone.bottom + ZONE_PAD_PT) * s) + 1)
    if x1 <= x0 or y1 <= y0:
        return None
    return _png(Image.fromarray(page.image[y0:y1, x0:x1]))
