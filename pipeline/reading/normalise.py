"""Normalise a received image before it is identified: square pixels, and one page per image.

Two things a scanner or a phone can send that the page reader (``pipeline.reading.scan``) does not
expect, both from issue 3:

* non-square pixels: a "standard" fax is 200 dpi across and 100 lines per inch down. The file's
  resolution says so when it is given; otherwise our QR codes, which are square, tell the aspect
  (:func:`square_pixels`, :func:`qr_aspect`);
* several pages of the form in one image: both pages side by side on an A3 scan or in one photo.
  Every QR code is decoded, codes are grouped by page identity, and each page's region is cut out
  with the template geometry of ``pipeline.form.definition`` (where the QR codes are printed on the
  page) so that each page is read as if it had come alone (:func:`split_pages`).

Before either, a received image is turned into one ``uint8`` grey array whatever its pixel format
(:func:`grey_array`: 16-bit samples scaled, not clipped; transparent paper composited onto white; 1-bit and
palette images through their palette), and what the file says of its pixels' shape is read whatever the
unit (:func:`stated_resolution`) (issue 16: a 16-bit PNG turned white and a transparent PNG black, and
both were quarantined as not the form).

Everything else here works on plain ``uint8`` grey arrays; resolutions are in pixels per inch.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from pipeline.form.definition import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, FormDefinition, PageIdentity, Rect, form_v1
from pipeline.reading.identify import decode_our_codes, template_corners
from pipeline.settings import RegistrationSettings
from pipeline.settings.reading import IdentificationSettings

log = logging.getLogger(__name__)

# The square-pixel tolerance and the largest overlap of two pages are in ``RegistrationSettings``.
PAGE_MARGIN_PT = 14.0
"""Paper kept around a page's template outline when it is cut out of a several-page image. Our
anchors are printed 18 pt from the edge and the registration searches 18 pt around them, so 14 pt
keeps every mark of the page while staying off the neighbouring sheet's anchors (36 pt away or more)."""


SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
"""Pillow's modes of 16-bit unsigned samples (PNG and TIFF greyscale at 16 bits per sample)."""


def _full_scale(image: Image.Image, values: np.ndarray) -> float:
    """The sample value that means white in an integer or float image (16-bit: 65535)."""
    if image.mode in SIXTEEN_BIT_MODES:
        return 65535.0
    bits = getattr(image, "tag_v2", {}).get(258) if image.format == "TIFF" else None  # BitsPerSample
    if isinstance(bits, tuple):
        bits = bits[0] if bits else None
    if isinstance(bits, int) and 1 <= bits <= 32:
        return float(2 ** bits - 1)
    peak = float(values.max()) if values.size else 0.0
    for full in (1.0, 255.0, 65535.0) if image.mode == "F" else (255.0, 65535.0):
        if peak <= full:
            return full
    return peak


def grey_array(image: Image.Image) -> np.ndarray:
    """A received image as one ``uint8`` grey array, whatever its pixel format.

    * 16-bit and 32-bit greyscale (``I;16``, ``I``) and float (``F``) samples are scaled from their full
      range (65535 for 16 bits, the file's BitsPerSample when a TIFF states it) to 0-255: Pillow's own
      ``convert("L")`` clips them at 255, which turns a 16-bit scan white;
    * an image with transparency (an alpha channel, or a palette or grey level marked transparent) is
      composited onto white paper: its transparent pixels would otherwise take their hidden colour,
      usually black;
    * anything else (1-bit, palette, RGB, CMYK) goes through Pillow's ``convert("L")`` (ITU-R 601 luma).

    Args:
        image: A Pillow image (one frame).

    Returns:
        ``uint8`` array ``(height_px, width_px)``.

    Raises:
        ValueError: Pillow cannot convert the image's mode to grey.
    """
    if image.mode in SIXTEEN_BIT_MODES or image.mode in ("I", "F"):
        values = np.asarray(image).astype(np.float64)
        scaled = values * (255.0 / max(_full_scale(image, values), 1e-9))
        return np.clip(np.round(scaled), 0, 255).astype(np.uint8)
    if "A" in image.mode or "a" in image.mode or "transparency" in image.info:
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(paper, image.convert("RGBA")).convert("L"))
    return np.asarray(image.convert("L"))


@dataclass(frozen=True)
class StatedResolution:
    """What an image file says of the size of its pixels.

    Attributes:
        x: Resolution across (pixels per unit).
        y: Resolution down (pixels per unit).
        per_inch: Whether the unit is a length, the values then in pixels per inch; otherwise only their
            ratio means something (a TIFF without ResolutionUnit, a PNG pHYs or a JFIF density of unit 0).
    """

    x: float
    y: float
    per_inch: bool

    @property
    def aspect(self) -> float:
        """Pixel aspect, x resolution over y resolution (2.0 for a fax at 200 × 100 dpi)."""
        return self.x / self.y


def _pair(value: object) -> tuple[float, float] | None:
    if not isinstance(value, tuple | list) or len(value) != 2:
        return None
    try:
        x, y = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        return None
    return (x, y) if x > 0 and y > 0 else None


def stated_resolution(info: Mapping[Any, Any]) -> StatedResolution | None:
    """The resolution an image file states, from Pillow's ``Image.info``.

    Pillow puts a resolution in inches or centimetres in ``dpi`` (converted to inches); one without a unit
    in ``resolution`` (TIFF), ``aspect`` (PNG) or ``jfif_density`` with ``jfif_unit`` 0 (JPEG). A unit-less
    pair still tells the pixels' shape: a fax whose TIFF says 200 × 100 without a unit has pixels twice as tall
    as wide. Values of 1 or less per inch are no statement (Pillow reads an absent figure as 0 or 1).

    Args:
        info: ``Image.info`` of a frame.

    Returns:
        The stated resolution, or ``None`` when the file states none.
    """
    dpi = _pair(info.get("dpi"))
    if dpi is not None and min(dpi) > 1:
        return StatedResolution(dpi[0], dpi[1], True)
    for key in ("resolution", "aspect", "jfif_density"):
        if key == "jfif_density" and info.get("jfif_unit") != 0:
            continue
        pair = _pair(info.get(key))
        if pair is not None:
            return StatedResolution(pair[0], pair[1], False)
    return None


@dataclass(frozen=True)
class PageImage:
    """One page's image, ready for ``pipeline.reading.scan.page.read_scan_page``.

    Attributes:
        image: ``uint8`` grey array ``(height_px, width_px)`` with square pixels.
        dpi: Its resolution in px per inch if known, else ``None``.
        identity: The page identity its QR codes carry, when they were decoded here.
        upsampled: How many times the image's coarser axis was stretched here to make its pixels square
            (2.0 for a fax at 200 × 100 dpi whose file did not say so, 1.0 when nothing was stretched): that
            axis holds only the page's measured resolution divided by this.
    """

    image: np.ndarray
    dpi: float | None
    identity: PageIdentity | None = None
    upsampled: float = 1.0


def square_pixels(image: np.ndarray, dpi_x: float, dpi_y: float,
                  registration: RegistrationSettings | None = None) -> np.ndarray:
    """Resample an image whose two resolutions differ so that its pixels are square.

    The finer axis is kept and the coarser one upsampled (nothing measured is thrown away).

    Args:
        image: ``uint8`` grey array ``(height_px, width_px)``.
        dpi_x: Horizontal resolution, px per inch (or any unit, as long as both are the same).
        dpi_y: Vertical resolution.
        registration: ``aspect_tolerance``.

    Returns:
        The image itself when the aspect is within ``registration.aspect_tolerance`` of 1, else a resampled
        copy at ``max(dpi_x, dpi_y)`` on both axes.

    Raises:
        ValueError: A resolution is not positive.
    """
    if dpi_x <= 0 or dpi_y <= 0:
        raise ValueError(f"resolutions must be positive, got {dpi_x} x {dpi_y}")
    ratio = dpi_x / dpi_y
    if abs(ratio - 1.0) <= (registration or RegistrationSettings()).aspect_tolerance:
        return image
    h, w = image.shape[:2]
    fx, fy = (1.0, ratio) if ratio > 1 else (1.0 / ratio, 1.0)
    size = (int(round(w * fx)), int(round(h * fy)))
    log.debug("resampling %dx%d px to %dx%d for square pixels", w, h, *size)
    return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)


@dataclass(frozen=True)
class _Code:
    """One of our QR codes found in an image: its identity, corners (px) and symbol version."""

    identity: PageIdentity
    corners: np.ndarray  # (4, 2) float: symbol top-left, top-right, bottom-right, bottom-left
    version: int


def _decode(image: np.ndarray, settings: IdentificationSettings | None = None,
            definition: FormDefinition | None = None) -> list[_Code]:
    """Every QR code of ours in the image, whatever its orientation, standard transforms retried
    (:func:`pipeline.reading.identify.decode_our_codes`)."""
    return [_Code(c.identity, np.array(c.corners_px, np.float64), c.version)
            for c in decode_our_codes(image, settings, definition).codes]


def stretched(image: np.ndarray, factor: float, axis: int) -> np.ndarray:
    """The image resampled ``factor`` times longer along ``axis`` (0: more rows, 1: more columns), bicubic."""
    h, w = image.shape[:2]
    size = (w, int(round(h * factor))) if axis == 0 else (int(round(w * factor)), h)
    return cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)


def decode_with_stretches(image: np.ndarray, settings: IdentificationSettings | None = None,
                          definition: FormDefinition | None = None) -> tuple[np.ndarray, list[_Code], float]:
    """Our codes in the image as received, else in the image stretched along its rows, then its columns.

    A standard-mode fax saved without its resolution has half the rows of its page (half the columns when it
    was sent sideways): its QR modules are too short for the decoder until that axis is stretched back
    (``IdentificationSettings.stretches``). Each image is decoded with the photometric retries of
    :func:`pipeline.reading.identify.decode_our_codes`.

    Args:
        image: ``uint8`` grey array.
        settings: The stretch factors and the photometric retries.
        definition: Form geometry (how many codes a page carries); version 1 by default.

    Returns:
        ``(image, codes, stretch)``: the image the codes were found on (the input itself, or a stretched
        copy), the codes (empty when none of ours decodes), and the factor the image was stretched by (1.0
        when it was not).
    """
    settings = settings or IdentificationSettings()
    codes = _decode(image, settings, definition)
    if codes:
        return image, codes, 1.0
    for factor in settings.stretches:
        for axis in (0, 1):
            candidate = stretched(image, factor, axis)
            codes = _decode(candidate, settings, definition)
            if codes:
                log.debug("QR codes decoded once the image was stretched %.1fx along axis %d", factor, axis)
                return candidate, codes, factor
    return image, [], 1.0


def qr_aspect(corners: Sequence[np.ndarray]) -> float:
    """Pixel aspect (x over y resolution) measured on square QR symbols.

    A square turned by any angle has a bounding box as wide as it is tall; scaled by ``(sx, sy)``
    the box's width over height is ``sx / sy``, whatever the turn. The median over symbols is taken.

    Args:
        corners: For each symbol, its four corners as a ``(4, 2)`` array of pixels.

    Returns:
        Width over height of the symbols' bounding boxes (1.0 for square pixels, 0.5 for a fax).

    Raises:
        ValueError: No symbol given.
    """
    if not corners:
        raise ValueError("no QR symbol to measure")
    ratios = [float(np.ptp(c[:, 0])) / max(1e-6, float(np.ptp(c[:, 1]))) for c in corners]
    return float(np.median(ratios))


def _page_quad(code: _Code, qr_rect: Rect, margin_pt: float) -> np.ndarray:
    """Where the page outline (plus margin) lies in the image if ``code`` is the QR printed in ``qr_rect``."""
    template = np.array(template_corners(qr_rect, code.version), np.float64)
    h, _ = cv2.findHomography(template, code.corners, 0)
    if h is None:
        return np.zeros((4, 2))
    m = margin_pt
    outline = np.array([[-m, -m], [PAGE_WIDTH_PT + m, -m], [PAGE_WIDTH_PT + m, PAGE_HEIGHT_PT + m],
                        [-m, PAGE_HEIGHT_PT + m]], np.float64)
    return cv2.perspectiveTransform(outline.reshape(-1, 1, 2), h).reshape(-1, 2)


def _inside_share(quad: np.ndarray, width: int, height: int) -> float:
    """Share of a quadrilateral's area that lies within the image."""
    area = abs(cv2.contourArea(quad.astype(np.float32)))
    if area <= 0:
        return 0.0
    frame = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    inter, _ = cv2.intersectConvexConvex(quad.astype(np.float32), frame)
    return float(inter) / area


def page_outline(codes: Sequence[_Code], definition: FormDefinition, width: int, height: int,
                 margin_pt: float = PAGE_MARGIN_PT) -> np.ndarray:
    """The outline of one page in the image, from its QR codes and where they are printed.

    With two codes, the one further along the page's own x axis (the symbol's top edge direction)
    is the top-right QR; the outline is fitted on all eight corners. With one code, the hypothesis
    (top-right or bottom-left QR) whose page lies more within the image is kept.

    Returns:
        ``(4, 2)`` float array: the page's top-left, top-right, bottom-right and bottom-left corners
        (pt outline grown by ``margin_pt``) in image pixels.
    """
    qr_rects = definition.pages[codes[0].identity.page - 1].qr_codes
    top_right, bottom_left = sorted(qr_rects, key=lambda r: -r.center[0])[:2]
    if len(codes) >= 2:
        a, b = codes[0], codes[1]
        x_axis = a.corners[1] - a.corners[0]
        a_first = float(np.dot(a.corners.mean(axis=0) - b.corners.mean(axis=0), x_axis)) > 0
        pairs = [(a, top_right), (b, bottom_left)] if a_first else [(a, bottom_left), (b, top_right)]
        template = np.array([c for code, r in pairs for c in template_corners(r, code.version)], np.float64)
        image_pts = np.concatenate([code.corners for code, _ in pairs])
        h, _ = cv2.findHomography(template, image_pts, 0)
        if h is not None:
            m = margin_pt
            outline = np.array([[-m, -m], [PAGE_WIDTH_PT + m, -m], [PAGE_WIDTH_PT + m, PAGE_HEIGHT_PT + m],
                                [-m, PAGE_HEIGHT_PT + m]], np.float64)
            return cv2.perspectiveTransform(outline.reshape(-1, 1, 2), h).reshape(-1, 2)
    quads = [_page_quad(codes[0], r, margin_pt) for r in (top_right, bottom_left)]
    return max(quads, key=lambda q: _inside_share(q, width, height))


def cut_page(image: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Cut the bounding box of ``outline`` out of ``image``, paper-filled outside the outline.

    Args:
        image: ``uint8`` grey array.
        outline: ``(4, 2)`` corners in image pixels (may reach outside the image).

    Returns:
        A new ``uint8`` array: pixels outside the outline (the other sheet, the desk) are set to the
        crop's paper level (its 90th percentile), so only this page's marks remain.
    """
    h, w = image.shape
    x0, y0 = (int(max(0, np.floor(v))) for v in outline.min(axis=0))
    x1, y1 = int(min(w, np.ceil(outline[:, 0].max()))), int(min(h, np.ceil(outline[:, 1].max())))
    crop = image[y0:y1, x0:x1].copy()
    mask = np.zeros(crop.shape, np.uint8)
    cv2.fillPoly(mask, [np.round(outline - (x0, y0)).astype(np.int32)], 1)
    paper = np.uint8(np.percentile(crop[::4, ::4], 90)) if crop.size else np.uint8(255)
    crop[mask == 0] = paper
    return crop


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection area of two convex quads over the smaller one's area."""
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    smaller = min(abs(cv2.contourArea(a.astype(np.float32))), abs(cv2.contourArea(b.astype(np.float32))))
    return float(inter) / smaller if smaller > 0 else 1.0


def split_pages(image: np.ndarray, dpi: float | None, definition: FormDefinition | None = None,
                registration: RegistrationSettings | None = None) -> list[PageImage]:
    """Give each page of the form held by one image its own image, with square pixels.

    Args:
        image: ``uint8`` grey array ``(height_px, width_px)`` as received (pixels already square when
            the file stated its resolutions; see :func:`square_pixels`).
        dpi: Its resolution in px per inch if the file says it.
        definition: Form geometry (where the QR codes are printed); version 1 by default.
        registration: ``aspect_tolerance`` and ``max_page_overlap``.

    Returns:
        One :class:`PageImage` per page identity found, ordered left to right then top to bottom in
        the image; the image itself (as one page, identity ``None``) when no code of ours is decoded,
        so the reader can report it. A page whose codes say a different serial than its neighbour's
        is split too: pages are assembled by serial later (``pipeline.deciding.assemble``).
    """
    definition = definition or form_v1()
    registration = registration or RegistrationSettings()
    image, codes, upsampled = decode_with_stretches(image, registration.identification, definition)
    if not codes:
        return [PageImage(image, dpi)]
    aspect = qr_aspect([c.corners for c in codes])
    if abs(aspect - 1.0) > registration.aspect_tolerance:
        log.debug("QR codes measure a pixel aspect of %.2f: resampling", aspect)
        image = square_pixels(image, aspect, 1.0, registration)
        upsampled *= max(aspect, 1.0 / aspect)
        dpi = None  # the file's single figure no longer describes both axes
        codes = _decode(image, registration.identification, definition)
        if not codes:
            return [PageImage(image, dpi, upsampled=upsampled)]
    groups: dict[PageIdentity, list[_Code]] = {}
    for c in codes:
        groups.setdefault(c.identity, []).append(c)
    if len(groups) == 1:
        return [PageImage(image, dpi, next(iter(groups)), upsampled)]
    h, w = image.shape
    outlines = {ident: page_outline(group, definition, w, h) for ident, group in groups.items()}
    idents = list(outlines)
    for i, a in enumerate(idents):
        for b in idents[i + 1:]:
            if _overlap(outlines[a], outlines[b]) > registration.max_page_overlap:
                return [PageImage(image, dpi, upsampled=upsampled)]  # one sheet, two codes: identify_page refuses it
    ordered = sorted(idents, key=lambda k: (outlines[k][:, 0].mean(), outlines[k][:, 1].mean()))
    log.debug("%d pages of the form in one image: cut apart", len(ordered))
    return [PageImage(cut_page(image, outlines[k]), dpi, k, upsampled) for k in ordered]

