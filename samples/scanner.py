"""Scanner simulator: turn a rendered form page into what an office scanner sends.

A FILLED rendering (``pipeline.form.render.render_form`` with ``Rendering.FILLED``) is
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
from PIL import Image

from pipeline.form.definition import FormDefinition, Rect
from pipeline.form.render import Rendering, render_form
from pipeline.form.template_image import rasterise_pdf_page as rasterise_grey
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
    return Image.fromarray(rasterise_grey(pdf if isinstance(pdf, bytes) else str(pdf), page, dpi))


def render_filled_pdf(values: FormValues, form_id: str, signature_seed: int = 0,
                      definition: FormDefinition | None = None) -> bytes:
    """Render the two-page FILLED form (values typed into their zones) to PDF bytes.

    Args:
        values: Field name → raw value (``schemas.extraction.FormValues``).
        form_id: Serial printed in the QR codes (``FO-…``).
        signature_seed: Seed of the drawn signature scribbles.
        definition: The form's version (default version 1).

    Returns:
        The PDF document as bytes.
    """
    buf = io.BytesIO()
    render_form(buf, form_id, Rendering.FILLED, values, definition=definition, signature_seed=signature_seed)
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
    fit_to_page: float = 1.0,
    expand: bool = False,
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
        fit_to_page: Scale of the printed content on the sheet (0.94 for a page printed "fit to
            page", shrunk about the sheet's centre); 1.0 for actual size.
        expand: Enlarge the output so that the whole skewed sheet is in it, as a sheet feeder
            with page-size detection delivers it (a flatbed cuts the corners of a skewed sheet).

    Returns:
        A PIL image in mode ``"L"``: the rasterised page's size, or larger when ``expand``.

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

    page_f = _place_sheet(page_f, skew_deg, offset_pt, px_per_pt, fit_to_page, expand, paper)
    page_f = _blur_and_noise(page_f, blur_px, noise, rng)
    out = np.clip(page_f, 0, 255).astype(np.uint8)
    if mode == "bw":
        out = np.where(out < BW_THRESHOLD, 0, 255).astype(np.uint8)
    result = Image.fromarray(out, mode="L")
    if jpeg_quality is not None:
        result = _jpeg_round_trip(result, jpeg_quality)
    return result


def _place_sheet(page_f: np.ndarray, skew_deg: float, offset_pt: tuple[float, float], px_per_pt: float,
                 fit_to_page: float, expand: bool, paper: float) -> np.ndarray:
    """Skew, shrink and shift the sheet on the glass; uncovered glass takes the paper's tone.

    Args:
        page_f: The page as float32 grey levels.
        skew_deg: Rotation about the page centre in degrees, counter-clockwise.
        offset_pt: Shift ``(dx, dy)`` in PDF points.
        px_per_pt: Pixels per PDF point (``dpi / 72``).
        fit_to_page: Scale of the content about the page centre (1.0 for actual size).
        expand: Enlarge the output so that the whole skewed sheet is in it.
        paper: Grey level of the paper, given to the uncovered glass.

    Returns:
        The placed page, float32, the input's size or larger when ``expand``.
    """
    h, w = page_f.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), skew_deg, fit_to_page)
    out_w, out_h = w, h
    if expand:
        cos, sin = abs(np.cos(np.radians(skew_deg))), abs(np.sin(np.radians(skew_deg)))
        out_w, out_h = int(np.ceil(w * cos + h * sin)), int(np.ceil(w * sin + h * cos))
        matrix[0, 2] += (out_w - w) / 2
        matrix[1, 2] += (out_h - h) / 2
    matrix[0, 2] += offset_pt[0] * px_per_pt
    matrix[1, 2] += offset_pt[1] * px_per_pt
    return cv2.warpAffine(page_f, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=float(paper))


def _blur_and_noise(page_f: np.ndarray, blur_px: float, noise: float, rng: random.Random) -> np.ndarray:
    """The optics' blur (Gaussian, sigma ``blur_px``), then the sensor's noise (``noise`` of full scale).

    The noise is drawn from a NumPy generator seeded by one draw of ``rng``, so that a
    seed still reproduces the scan; nothing is drawn when ``noise`` is 0.
    """
    if blur_px > 0:
        page_f = cv2.GaussianBlur(page_f, (0, 0), blur_px)
    if noise > 0:
        np_rng = np.random.default_rng(rng.getrandbits(64))
        page_f = page_f + np_rng.normal(0.0, noise * 255.0, size=page_f.shape).astype(np.float32)
    return page_f


def _jpeg_round_trip(image: Image.Image, quality: int) -> Image.Image:
    """The page as the scanner's JPEG compression leaves it (its artefacts), decoded back to grey."""
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
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


def image_bytes(images: Sequence[Image.Image], fmt: str, dpi: int, quality: int | None = None) -> bytes:
    """Encode scanned pages as the file a scanner or phone sends.

    Args:
        images: The pages; only the first is written unless ``fmt`` holds several pages
            (``"PDF"``, ``"TIFF"``).
        fmt: A Pillow format name: ``"PDF"``, ``"TIFF"`` (Group 4 for black and white, else LZW),
            ``"JPEG"`` or another single-image format (``"PNG"``), saved optimised.
        dpi: Resolution written in the file, in pixels per inch.
        quality: JPEG quality (85 when omitted); ignored by other formats.

    Returns:
        The encoded file's bytes.
    """
    buf = io.BytesIO()
    if fmt == "PDF":
        images[0].save(buf, format="PDF", resolution=float(dpi), save_all=True, append_images=list(images[1:]))
    elif fmt == "TIFF":
        compression = "group4" if images[0].mode == "1" else "tiff_lzw"
        images[0].save(buf, format="TIFF", dpi=(dpi, dpi), save_all=True, append_images=list(images[1:]),
                       compression=compression)
    elif fmt == "JPEG":
        images[0].save(buf, format="JPEG", dpi=(dpi, dpi), quality=quality or 85)
    else:
        images[0].save(buf, format=fmt, dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()



# --- Phone photos -------------------------------------------------------------------------------

PHOTO_FRAME_PX = (2448, 3264)
"""Width and height of the simulated phone photo (8 Mpx, portrait): what messaging apps and phone
"documents" modes commonly send after their own downscaling of a 12 Mpx sensor."""
DESK_TONES = ((92, 70, 52), (150, 118, 84), (60, 62, 66), (188, 186, 180))
"""RGB of desks a sheet is photographed on: dark wood, light wood, dark grey, light grey laminate."""


def _photo_corners(frame: tuple[int, int], page_px: tuple[int, int], fill: float, tilt_deg: float,
                   roll_deg: float, rng: random.Random) -> np.ndarray:
    """Where the page's four corners land in the photo: a pinhole camera looking at a tilted sheet.

    The sheet is turned by ``roll_deg`` in its plane, tilted by up to ``tilt_deg`` about both of
    its axes, and scaled so that its height covers ``fill`` of the frame's height.
    """
    fw, fh = frame
    pw, ph = page_px
    rx, ry = np.radians(rng.uniform(-tilt_deg, tilt_deg)), np.radians(rng.uniform(-tilt_deg, tilt_deg) * 0.6)
    rz = np.radians(roll_deg)
    rot_x = np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]])
    rot_y = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    rot_z = np.array([[np.cos(rz), -np.sin(rz), 0], [np.sin(rz), np.cos(rz), 0], [0, 0, 1]])
    corners = np.array([[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0], [-pw / 2, ph / 2, 0]])
    world = corners @ (rot_z @ rot_y @ rot_x).T
    focal = 1.1 * max(fw, fh)  # a phone's main camera: about 26 mm equivalent
    distance = focal * ph / (fill * fh)
    projected = focal * world[:, :2] / (distance + world[:, 2:3])
    projected -= projected.mean(axis=0)
    shift = (rng.uniform(-0.04, 0.04) * fw, rng.uniform(-0.03, 0.03) * fh)
    return (projected + np.array([fw / 2 + shift[0], fh / 2 + shift[1]])).astype(np.float32)


def simulate_photo(
    source: Image.Image | Path | bytes,
    *,
    page: int = 1,
    dpi: int = 200,
    tilt_deg: float = 20.0,
    roll_deg: float = 0.0,
    fill: float = 0.8,
    shadow: bool = True,
    blur_px: float = 1.0,
    jpeg_quality: int | None = 88,
    frame_px: tuple[int, int] = PHOTO_FRAME_PX,
    cancelled_boxes_pt: Sequence[Rect] = (),
    rng: random.Random | None = None,
) -> Image.Image:
    """Make a phone photo of a form page lying on a desk.

    Args:
        source: The page rasterised at ``dpi`` (PIL image), or a PDF of which ``page`` is rasterised.
        page: 1-based page of ``source`` when it is a PDF.
        dpi: Resolution the page is rasterised at before projection (the photo's own resolution
            on the page follows from ``fill``: about 180-230 dpi for 0.65-0.85).
        tilt_deg: Largest tilt of the phone against the sheet, about either axis (perspective).
        roll_deg: Turn of the sheet in the frame, degrees counter-clockwise.
        fill: Share of the frame's height the sheet covers (the page does not fill the frame).
        shadow: Whether the phone's (or a hand's) shadow falls across part of the page.
        blur_px: Sigma of the focus/motion blur, in photo pixels.
        jpeg_quality: JPEG quality of the phone (85-95), or ``None`` for none.
        frame_px: ``(width, height)`` of the photo in pixels.
        cancelled_boxes_pt: Boxes blacked out by hand before the photo (points).
        rng: Source of randomness; ``random.Random(0)`` if omitted.

    Returns:
        A PIL image in mode ``"RGB"`` of ``frame_px``, JPEG-degraded when ``jpeg_quality`` is set.
    """
    rng = rng or random.Random(0)
    image = source.convert("L") if isinstance(source, Image.Image) else rasterise_pdf_page(source, page, dpi)
    grey = np.asarray(image, dtype=np.uint8).copy()
    _mark_filled_boxes(grey, cancelled_boxes_pt, dpi / 72, rng)
    ph, pw = grey.shape
    fw, fh = frame_px
    dst = _photo_corners(frame_px, (pw, ph), fill, tilt_deg, roll_deg, rng)
    src = np.array([[0, 0], [pw - 1, 0], [pw - 1, ph - 1], [0, ph - 1]], np.float32)
    warp = cv2.getPerspectiveTransform(src, dst)
    # Paper reflects about 0.9 of the light, toner about 0.1; the desk has its own colour and grain.
    reflect = 0.1 + 0.8 * (grey.astype(np.float32) / 255.0)
    page_r = cv2.warpPerspective(reflect, warp, (fw, fh), flags=cv2.INTER_LINEAR, borderValue=-1.0)
    on_page = page_r >= 0
    desk = np.array(rng.choice(DESK_TONES), np.float32) / 255.0
    np_rng = np.random.default_rng(rng.getrandbits(64))
    grain = cv2.GaussianBlur(np_rng.normal(0, 0.04, (fh // 8, fw // 8)).astype(np.float32), (0, 0), 2)
    grain = cv2.resize(grain, (fw, fh), interpolation=cv2.INTER_LINEAR)
    albedo = np.where(on_page[..., None], np.clip(page_r, 0, 1)[..., None] * np.array([1.0, 0.99, 0.96], np.float32),
                      desk[None, None, :] * (1 + grain[..., None]))
    # Uneven light: a gradient from one side and a vignette, then a soft-edged shadow.
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = ((xx - fw / 2) * np.cos(angle) + (yy - fh / 2) * np.sin(angle)) / max(fw, fh)
    light = rng.uniform(0.75, 0.95) + rng.uniform(0.15, 0.35) * ramp
    light *= 1.0 - 0.25 * (((xx - fw / 2) / fw) ** 2 + ((yy - fh / 2) / fh) ** 2)
    if shadow:
        poly = _shadow_polygon(frame_px, rng)
        mask = np.zeros((fh, fw), np.float32)
        cv2.fillPoly(mask, [poly], 1.0)
        shade: np.ndarray = cv2.GaussianBlur(mask, (0, 0), rng.uniform(15, 45))
        light *= 1.0 - rng.uniform(0.3, 0.5) * shade
    rgb = albedo * light[..., None] * 255.0
    if blur_px > 0:
        rgb = cv2.GaussianBlur(rgb, (0, 0), blur_px)
    rgb = rgb + np_rng.normal(0.0, rng.uniform(2.0, 5.0), size=rgb.shape).astype(np.float32)
    result = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB")
    if jpeg_quality is not None:
        buf = io.BytesIO()
        result.save(buf, format="JPEG", quality=jpeg_quality)
        buf.seek(0)
        result = Image.open(buf).convert("RGB")
        result.load()
    return result


def _shadow_polygon(frame: tuple[int, int], rng: random.Random) -> np.ndarray:
    """A shadow entering from one edge of the frame and covering up to about a third of it."""
    fw, fh = frame
    depth = rng.uniform(0.15, 0.35)
    edge = rng.choice("tblr")
    a, b = sorted((rng.uniform(0, 1), rng.uniform(0, 1)))
    a, b = a * 0.5, 0.5 + b * 0.5
    if edge in "tb":
        y_edge, y_in = (0, depth * fh) if edge == "t" else (fh, (1 - depth) * fh)
        pts = [(a * fw, y_edge), (b * fw, y_edge), (b * fw + 0.1 * fw, y_in), (a * fw - 0.1 * fw, y_in)]
    else:
        x_edge, x_in = (0, depth * fw) if edge == "l" else (fw, (1 - depth) * fw)
        pts = [(x_edge, a * fh), (x_edge, b * fh), (x_in, b * fh + 0.1 * fh), (x_in, a * fh - 0.1 * fh)]
    return np.array(pts, np.int32)


def random_photo(values: FormValues, form_id: str, page: int, rng: random.Random, *, pdf: bytes | None = None,
                 max_tilt_deg: float = 20.0, cancelled_boxes_pt: Sequence[Rect] = ()) -> Image.Image:
    """Render a filled form and photograph one page with random but plausible phone conditions.

    Tilt up to ``max_tilt_deg``, the sheet turned by up to ±8° in the frame, covering 65-88 % of
    the frame's height, a shadow two times in three, blur sigma 0.6-1.6 px, JPEG quality 80-93.
    """
    pdf = pdf if pdf is not None else render_filled_pdf(values, form_id, signature_seed=rng.randint(0, 10_000))
    return simulate_photo(
        pdf, page=page, tilt_deg=max_tilt_deg, roll_deg=rng.uniform(-8, 8), fill=rng.uniform(0.65, 0.88),
        shadow=rng.random() < 0.67, blur_px=rng.uniform(0.6, 1.6), jpeg_quality=rng.randint(80, 93),
        cancelled_boxes_pt=cancelled_boxes_pt, rng=rng)


# --- Hand-drawn marks -----------------------------------------------------------------------------

MarkStyle = Literal["cross", "check", "overflow", "filled", "cross_then_filled"]
MARK_STYLES: tuple[MarkStyle, ...] = ("cross", "check", "overflow", "filled", "cross_then_filled")
"""Ways a hand marks a tick box: the first three tick it, the last two cancel it (the printed rule)."""
TICK_STYLES: tuple[MarkStyle, ...] = ("cross", "check", "overflow")


def _pen_line(grey: np.ndarray, a: tuple[float, float], b: tuple[float, float], width_px: int, ink: int) -> None:
    cv2.line(grey, (int(round(a[0])), int(round(a[1]))), (int(round(b[0])), int(round(b[1]))), int(ink),
             max(1, width_px), lineType=cv2.LINE_AA)


def draw_hand_mark(grey: np.ndarray, box_pt: Rect, style: MarkStyle, px_per_pt: float, rng: random.Random,
                   ink: int = INK_GREY) -> None:
    """Draw one hand mark on a rasterised page, in place.

    Args:
        grey: ``uint8`` grey page rasterised at ``px_per_pt``.
        box_pt: The tick box (pt, top-left origin).
        style: ``cross`` (an X inside the box), ``check`` (a ✓ inside), ``overflow`` (a large X whose
            strokes run past the box), ``filled`` (blackened), ``cross_then_filled`` (an X, then blackened).
        px_per_pt: Scale of ``grey``.
        rng: Jitter of the strokes and the pen's width (0.6-1.2 pt, ballpoint to felt pen).
        ink: Grey level of the pen.
    """
    s = px_per_pt
    x0, y0, x1, y1 = box_pt.x0 * s, box_pt.top * s, box_pt.x1 * s, box_pt.bottom * s
    w, h = x1 - x0, y1 - y0
    pen = int(round(rng.uniform(0.6, 1.2) * s))

    def j(v: float) -> float:
        return v + rng.uniform(-0.08, 0.08) * w

    if style in ("cross", "cross_then_filled"):
        _pen_line(grey, (j(x0 + 0.15 * w), j(y0 + 0.15 * h)), (j(x1 - 0.15 * w), j(y1 - 0.15 * h)), pen, ink)
        _pen_line(grey, (j(x1 - 0.15 * w), j(y0 + 0.15 * h)), (j(x0 + 0.15 * w), j(y1 - 0.15 * h)), pen, ink)
    elif style == "check":
        mid = (j(x0 + 0.4 * w), j(y1 - 0.15 * h))
        _pen_line(grey, (j(x0 + 0.1 * w), j(y0 + 0.5 * h)), mid, pen, ink)
        _pen_line(grey, mid, (j(x1 + 0.1 * w), j(y0 - 0.2 * h)), pen, ink)
    elif style == "overflow":
        _pen_line(grey, (j(x0 - 0.35 * w), j(y0 - 0.3 * h)), (j(x1 + 0.3 * w), j(y1 + 0.35 * h)), pen, ink)
        _pen_line(grey, (j(x1 + 0.35 * w), j(y0 - 0.3 * h)), (j(x0 - 0.3 * w), j(y1 + 0.3 * h)), pen, ink)
    if style in ("filled", "cross_then_filled"):
        _mark_filled_boxes(grey, [box_pt], s, rng)
