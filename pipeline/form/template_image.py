"""The blank form page as an image: what the feature-based registration matches a photo against.

The blank print rendering of :mod:`pipeline.form.render` is rasterised with pypdfium2 at the
resolution asked for; its labels are set in the form's embedded font (:mod:`pipeline.form.fonts`),
so the template is the same on every machine. The QR codes carry each copy's serial, so they differ from copy to copy:
:func:`template_mask` leaves them (and the footer that prints the serial) out of any matching.
"""

from __future__ import annotations

import io
from functools import lru_cache

import numpy as np
import pypdfium2 as pdfium

from pipeline.form.definition import (
    FOOTER_BASELINE_PT,
    PAGE_HEIGHT_PT,
    PAGE_WIDTH_PT,
    FormDefinition,
    UnknownFormVersionError,
    form_definition,
    form_v1,
)
from pipeline.form.render import Rendering, render_form
from pipeline.pdfium_lock import PDFIUM_LOCK

TEMPLATE_SERIAL = "FO-0000-000000"
"""Serial printed on the rendered template; its QR codes and footer are masked out of matching."""
FOOTER_BAND_PT = (12.0, 4.0)
"""Band above and below the footer baseline left out of matching: the footer prints the copy's serial."""


@lru_cache(maxsize=4)
def _blank_pdf(version: int) -> bytes:
    try:
        definition = form_definition(version)
    except UnknownFormVersionError as exc:
        raise ValueError(f"no template for form version {version}") from exc
    buf = io.BytesIO()
    render_form(buf, TEMPLATE_SERIAL, Rendering.PRINT, definition=definition)
    return buf.getvalue()


def rasterise_pdf_page(pdf: bytes | str, page: int, dpi: float) -> np.ndarray:
    """Rasterise one PDF page in grey with pypdfium2, holding :data:`~pipeline.pdfium_lock.PDFIUM_LOCK`.

    Args:
        pdf: The PDF's bytes, or its path.
        page: 1-based page number.
        dpi: Resolution in pixels per inch (px per pt = ``dpi / 72``).

    Returns:
        A ``uint8`` array ``(height_px, width_px)``.

    Raises:
        ValueError: ``page`` is not in the document or ``dpi`` is not positive.
    """
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    with PDFIUM_LOCK:  # PDFium is not thread-safe (pipeline.pdfium_lock)
        doc = pdfium.PdfDocument(pdf)
        try:
            if not 1 <= page <= len(doc):
                raise ValueError(f"page {page} not in a document of {len(doc)} page(s)")
            pdf_page = doc[page - 1]
            try:
                bitmap = pdf_page.render(scale=dpi / 72.0, grayscale=True)
                try:
                    image = np.asarray(bitmap.to_pil().convert("L")).copy()
                finally:
                    bitmap.close()
            finally:
                pdf_page.close()
        finally:
            doc.close()
    return image


@lru_cache(maxsize=8)
def blank_page_image(page: int, dpi: float, version: int = 1) -> np.ndarray:
    """The blank print page rasterised in grey.

    Args:
        page: 1-based page number.
        dpi: Resolution in pixels per inch (px per pt = ``dpi / 72``).
        version: Form version (a key of ``pipeline.form.definition.FORM_VERSIONS``).

    Returns:
        A read-only ``uint8`` array of shape ``(round(PAGE_HEIGHT_PT * dpi / 72), round(PAGE_WIDTH_PT * dpi / 72))``;
        a template point ``(x_pt, y_pt)`` (top-left origin) is at pixel ``(x_pt * dpi / 72, y_pt * dpi / 72)``.

    Raises:
        ValueError: No such page or version, or ``dpi`` is not positive.
    """
    image = rasterise_pdf_page(_blank_pdf(version), page, dpi)
    size = (int(round(PAGE_HEIGHT_PT * dpi / 72.0)), int(round(PAGE_WIDTH_PT * dpi / 72.0)))
    image = image[: size[0], : size[1]]
    image.setflags(write=False)
    return image


def template_mask(page: int, dpi: float, definition: FormDefinition | None = None) -> np.ndarray:
    """Where the template is the same on every copy: 255 there, 0 over the QR codes and the footer.

    Args:
        page: 1-based page number.
        dpi: Resolution of the matching :func:`blank_page_image`.
        definition: Form geometry; defaults to version 1.

    Returns:
        A ``uint8`` array of the template's shape, usable as an OpenCV detection mask.
    """
    definition = definition or form_v1()
    s = dpi / 72.0
    mask = np.full((int(round(PAGE_HEIGHT_PT * s)), int(round(PAGE_WIDTH_PT * s))), 255, np.uint8)
    for qr in definition.pages[page - 1].qr_codes:
        mask[int(qr.top * s):int(np.ceil(qr.bottom * s)), int(qr.x0 * s):int(np.ceil(qr.x1 * s))] = 0
    above, below = FOOTER_BAND_PT
    mask[int((FOOTER_BASELINE_PT - above) * s):int(np.ceil((FOOTER_BASELINE_PT + below) * s)), :] = 0
    return mask
