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

Everything here works on plain ``uint8`` grey arrays; resolutions are in pixels per inch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from pipeline.form.definition import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, FormDefinition, PageIdentity, Rect, form_v1
from pipeline.reading.identify import symbol_version, template_corners
from pipeline.settings import RegistrationSettings

log = logging.getLogger(__name__)

# The square-pixel tolerance and the largest overlap of two pages are in ``RegistrationSettings``.
FAX_STRETCH = 2.0
"""Vertical stretch tried on an image where no QR code decodes as it is: a standard-mode fax saved
without its resolution has QR modules 1.3 px tall at 100 lines per inch, too few for the decoder."""
PAGE_MARGIN_PT = 14.0
"""Paper kept around a page's template outline when it is cut out of a several-page image. Our
anchors are printed 18 pt from the edge and the registration searches 18 pt around them, so 14 pt
keeps every mark of the page while staying off the neighbouring sheet's anchors (36 pt away or more)."""


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


def _decode(image: np.ndarray) -> list[_Code]:
    """Every QR code of ours in the image (zxing-cpp), whatever its orientation."""
    out = []
    for b in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):  # type: ignore[arg-type]
        ident = PageIdentity.parse(b.text)
        if ident is None:
            continue
        p = b.position
        corners = np.array([(pt.x, pt.y) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
                           np.float64)
        out.append(_Code(ident, corners, symbol_version(b)))
    return out


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
    codes = _decode(image)
    upsampled = 1.0
    if not codes:
        stretched = cv2.resize(image, (image.shape[1], int(round(image.shape[0] * FAX_STRETCH))),
                               interpolation=cv2.INTER_CUBIC)
        codes = _decode(stretched)
        if not codes:
            return [PageImage(image, dpi)]
        image, upsampled = stretched, FAX_STRETCH
    aspect = qr_aspect([c.corners for c in codes])
    if abs(aspect - 1.0) > registration.aspect_tolerance:
        log.debug("QR codes measure a pixel aspect of %.2f: resampling", aspect)
        image = square_pixels(image, aspect, 1.0, registration)
        upsampled *= max(aspect, 1.0 / aspect)
        dpi = None  # the file's single figure no longer describes both axes
        codes = _decode(image)
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

