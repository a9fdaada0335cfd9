"""Scanner simulator: turn a rendered form page into what an office scanner sends.

A FILLED rendering (``pipeline.render_form.render_form`` with ``Rendering.FILLED``) is
rasterised with pypdfium2 at the scan resolution, optionally marked by hand (boxes
blacked out to cancel them, as the printed rule asks), then degraded the way a flatbed
or sheet-fed scanner degrades paper: a small rotation and offset, a grey paper tone,
sensor noise, a slight blur, a black-and-white threshold, and JPEG artefacts.

Everything is driven by the ``random.Random`` given, so a seed reproduces a scan
bit for bit (OpenCV's warp and blur are deterministic for a given input).
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from pipeline.form_definition import Rect
from pipeline.render_form import Rendering, render_form
from schemas.extraction import FormValues

ScanMode = Literal["grey", "bw"]

PAPER_GREY = 242
"""Typical grey level of white office paper in a scan (0-255)."""
INK_GREY = 35
"""Typical grey level of laser-printed black in a scan (0-255)."""
BW_THRESHOLD = 150
"""Grey level below which a black-and-white scanner outputs black (scanner driver default is near mid-grey)."""


def rasterise_pdf_page(pdf: Path | bytes, page: int, dpi: int) -> Image.Image:
    """Rasterise one PDF page to a greyscale image.

    Args:
        pdf: Path of the PDF, or its bytes.
        page: 1-based page number.
        dpi: Resolution in pixels per inch (px per pt = dpi / 72).

    Returns:
        A PIL image in mode ``"L"`` of ``round(page_width_pt * dpi / 72)`` by the same in height.

    Raises:
        ValueError: ``page`` is not in the document or ``dpi`` is not positive.
    """
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    doc = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    try:
        if not 1 <= page <= len(doc):
            raise ValueError(f"page {page} not in a document of {len(doc)} page(s)")
        pdf_page = doc[page - 1]
        try:
            bitmap = pdf_page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil().convert("L")
            bitmap.close()
        finally:
            pdf_page.close()
    finally:
        doc.close()
    return image


def render_filled_pdf(values: FormValues, form_id: str, signature_seed: int = 0) -> bytes:
    """Render the two-page FILLED form (values typed into their zones) to PDF bytes.

    Args:
        values: Field name → raw value (``schemas.extraction.FormValues``).
        form_id: Serial printed in the QR codes (``FO-…``).
        signature_seed: Seed of the drawn signature scribbles.

    Returns:
        The PDF document as bytes.
    """
    buf = io.BytesIO()
    render_form(buf, form_id, Rendering.FILLED, values, signature_seed=signature_seed)
    return buf.getvalue()


def _mark_filled_boxes(grey: np.ndarray, boxes_pt: Sequence[Rect], px_per_pt: float, rng: random.Random) -> None:
    """Black out boxes in place as a pen would: dense strokes covering most of the box (about 90 %)."""
    for r in boxes_pt:
        x0, y0 = int(round(r.x0 * px_per_pt)), int(round(r.top * px_per_pt))
        x1, y1 = int(round(r.x1 * px_per_pt)), int(round(r.bottom * px_per_pt))
        grey[y0:y1, x0:x1] = INK_GREY
        # A few pale streaks where the pen skipped, so the fill is not perfectly solid.
        for _ in range(rng.randint(1, 3)):
            yy = rng.randint(y0 + 1, max(y0 + 1, y1 - 2))
            xa = rng.randint(x0, max(x0, (x0 + x1) // 2))
            grey[yy : yy + 1, xa : xa + max(1, (x1 - x0) // 3)] = PAPER_GREY


def simulate_scan(
    source: Image.Image | Path | bytes,
    dpi: int = 300,
    *,
    page: int = 1,
    mode: ScanMode = "grey",
    skew_deg: float = 0.0,
    offset_pt: tuple[float, float] = (0.0, 0.0),
    noise: float = 0.03,
    blur_px: float = 0.6,
    jpeg_quality: int | None = 85,
    cancelled_boxes_pt: Sequence[Rect] = (),
    rng: random.Random | None = None,
) -> Image.Image:
    """Make a realistic scan of a form page.

    Args:
        source: Either the page already rasterised at ``dpi`` (greyscale or RGB PIL image),
            or a PDF (path or bytes) of which ``page`` is rasterised at ``dpi`` with pypdfium2.
        dpi: Scan resolution in pixels per inch (the product expects 200 or 300).
        page: 1-based page of ``source`` when it is a PDF.
        mode: ``"grey"`` (8-bit grey) or ``"bw"`` (black and white, values 0 and 255 only).
        skew_deg: Rotation of the sheet on the glass in degrees, counter-clockwise
            (scanners deliver within about ±3°).
        offset_pt: Shift of the sheet ``(dx, dy)`` in PDF points (content moves right/down).
        noise: Standard deviation of the sensor noise as a share of full scale (0.03 = 7.7 grey levels).
        blur_px: Sigma of the optics blur in pixels at ``dpi`` (0 for none).
        jpeg_quality: JPEG quality 1-95 the scanner compresses with, or ``None`` for lossless
            (black-and-white scans are normally sent as TIFF G4 or PNG: pass ``None``).
        cancelled_boxes_pt: Boxes (PDF points, top-left origin) blacked out by hand before
            scanning, to cancel a tick as the printed rule says.
        rng: Source of randomness (paper tone, noise, pen streaks); ``random.Random(0)`` if omitted.

    Returns:
        A PIL image in mode ``"L"``, same size as the rasterised page.

    Raises:
        ValueError: An argument is out of range (``mode``, ``jpeg_quality``, ``dpi``).
    """
    if mode not in ("grey", "bw"):
        raise ValueError(f"mode must be 'grey' or 'bw', got {mode!r}")
    if jpeg_quality is not None and not 1 <= jpeg_quality <= 95:
        raise ValueError(f"jpeg_quality must be in 1..95, got {jpeg_quality}")
    rng = rng or random.Random(0)
    if isinstance(source, Image.Image):
        image = source.convert("L")
    else:
        image = rasterise_pdf_page(source, page, dpi)
    px_per_pt = dpi / 72
    grey = np.asarray(image, dtype=np.uint8).copy()
    _mark_filled_boxes(grey, cancelled_boxes_pt, px_per_pt, rng)

    # Paper is not pure white and toner is not pure black.
    paper = PAPER_GREY + rng.uniform(-6, 6)
    ink = INK_GREY + rng.uniform(-10, 10)
    page_f = ink + (grey.astype(np.float32) / 255.0) * (paper - ink)

    # Sheet skew and offset: rotate about the page centre, fill uncovered glass with paper tone.
    h, w = page_f.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), skew_deg, 1.0)
    matrix[0, 2] += offset_pt[0] * px_per_pt
    matrix[1, 2] += offset_pt[1] * px_per_pt
    page_f = cv2.warpAffine(page_f, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                            borderValue=float(paper))
    if blur_px > 0:
        page_f = cv2.GaussianBlur(page_f, (0, 0), blur_px)
    if noise > 0:
        np_rng = np.random.default_rng(rng.getrandbits(64))
        page_f = page_f + np_rng.normal(0.0, noise * 255.0, size=page_f.shape).astype(np.float32)
    out = np.clip(page_f, 0, 255).astype(np.uint8)
    if mode == "bw":
        out = np.where(out < BW_THRESHOLD, 0, 255).astype(np.uint8)
    result = Image.fromarray(out, mode="L")
    if jpeg_quality is not None:
        buf = io.BytesIO()
        result.save(buf, format="JPEG", quality=jpeg_quality)
        buf.seek(0)
        result = Image.open(buf).convert("L")
        result.load()
    return result


def random_scan(
    values: FormValues,
    form_id: str,
    page: int,
    rng: random.Random,
    *,
    dpi: int = 300,
    mode: ScanMode = "grey",
    max_skew_deg: float = 3.0,
    cancelled_boxes_pt: Sequence[Rect] = (),
    pdf: bytes | None = None,
) -> Image.Image:
    """Render a filled form and scan one page with random but plausible degradations.

    Args:
        values: Field name → raw value written on the form.
        form_id: Serial in the QR codes.
        page: 1-based page to scan.
        rng: Drives every random choice (skew in ±``max_skew_deg``, offset within ±4 pt,
            noise, blur, JPEG quality 70-90 for grey; black-and-white is sent losslessly).
        dpi: Scan resolution (200 or 300 in the product).
        mode: ``"grey"`` or ``"bw"``.
        max_skew_deg: Largest rotation drawn, in degrees.
        cancelled_boxes_pt: Boxes blacked out by hand (points).
        pdf: The FILLED rendering if already made (saves rendering twice for two pages).

    Returns:
        The scanned page, PIL mode ``"L"``.
    """
    pdf = pdf if pdf is not None else render_filled_pdf(values, form_id, signature_seed=rng.randint(0, 10_000))
    return simulate_scan(
        pdf,
        dpi,
        page=page,
        mode=mode,
        skew_deg=rng.uniform(-max_skew_deg, max_skew_deg),
        offset_pt=(rng.uniform(-4, 4), rng.uniform(-4, 4)),
        noise=rng.uniform(0.01, 0.04),
        blur_px=rng.uniform(0.3, 0.8) * dpi / 300,
        jpeg_quality=rng.randint(70, 90) if mode == "grey" else None,
        cancelled_boxes_pt=cancelled_boxes_pt,
        rng=rng,
    )


def rotate_quarter_turns(image: Image.Image, quarter_turns: int) -> Image.Image:
    """Rotate a page by a multiple of 90° counter-clockwise (a sheet fed sideways or upside down)."""
    return image.rotate(90 * (quarter_turns % 4), expand=True)

