"""Identify a scanned page: read our QR codes, say which form and page it is, turn it upright.

Each page carries two QR codes (top-right and bottom-left, see
``pipeline.form.definition._qr_codes``) whose payload is parsed by
:meth:`PageIdentity.parse`. zxing-cpp reports each code's corners and its
orientation; the orientation, rounded to a quarter turn, tells how the sheet was
fed, and the corners give the first estimate of where the template lies in the image
(``pipeline.reading.register`` refines it with the anchors).

A code that does not decode on the image as received is looked for again after standard photometric
transforms (:func:`decode_our_codes`: contrast stretched, sharpened, smoothed), so that a blurred phone photo,
a dim 16-bit scan or a noisy 1-bit fax is not declared "not the form", or registered on one code, while a plain
decoder reads its codes once transformed (issue 16).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from pipeline.errors import NoFormCodeError, PageNotIdentifiedError, UnknownFormVersionPageError
from pipeline.form.definition import (
    PAGE_HEIGHT_PT,
    PAGE_WIDTH_PT,
    QR_SIZE_PT,
    FormDefinition,
    PageIdentity,
    Rect,
    UnknownFormVersionError,
    form_definition,
    form_v1,
)
from pipeline.settings.reading import IdentificationSettings

UNREAD_SERIAL = "FO-0000-N00000"
"""Serial given to a page found by its anchors and printed layout whose QR codes and footer cannot be read
(``pipeline.reading.anchors.identify_by_anchors``). It is a shared serial (``N…``), so such a page is assembled
within its own file, or paired with another by the pupil it names, never with another copy's pages; every field
it gives is held for a person (``Doubt.FORM_CODE_UNREAD``)."""

QR_QUIET_MODULES = 2
"""Quiet zone drawn around each QR symbol, in modules (``barBorder=2`` in ``pipeline.form.render``)."""

log = logging.getLogger(__name__)

Point = tuple[float, float]
Quad = tuple[Point, Point, Point, Point]
"""Corners of a QR symbol in the symbol's own order: top-left, top-right, bottom-right, bottom-left."""


@dataclass(frozen=True)
class QrSighting:
    """One of our QR codes as found on an upright page.

    Attributes:
        corners_px: Symbol corners (without quiet zone) in upright-image pixels,
            ordered top-left, top-right, bottom-right, bottom-left of the symbol.
        template_corners_pt: The same corners on the template, in PDF points (top-left origin).
        version: QR symbol version (the symbol is ``17 + 4 * version`` modules wide).
    """

    corners_px: Quad
    template_corners_pt: Quad
    version: int


@dataclass(frozen=True)
class IdentifiedPage:
    """A page whose identity is known, turned upright.

    Attributes:
        identity: Form serial, version and page number read from the QR codes.
        image: The page turned upright, ``uint8`` grey array of shape ``(height_px, width_px)``.
        quarter_turns: Counter-clockwise quarter turns applied to the input to make it upright (0-3).
        qr_codes: Our QR codes found, in upright-image pixels, with their template corners.
        dpi_estimate: Scan resolution estimated from the QR module size (px per inch).
    """

    identity: PageIdentity
    image: np.ndarray
    quarter_turns: int
    qr_codes: tuple[QrSighting, ...]
    dpi_estimate: float


def rotate_point(x: float, y: float, width: int, height: int, quarter_turns: int) -> Point:
    """Map a pixel position through ``np.rot90(image, quarter_turns)`` (counter-clockwise turns).

    ``width``/``height`` are those of the image before rotation.
    """
    for _ in range(quarter_turns % 4):
        x, y = y, (width - 1) - x
        width, height = height, width
    return (x, y)


def quarter_turns_from_orientations(orientations_deg: Sequence[float]) -> int:
    """Counter-clockwise quarter turns (0-3) that bring symbols at these orientations upright.

    zxing-cpp reports a symbol's rotation in degrees (0, 90, 180 or -90, plus the skew); turning
    the image by ``round(orientation / 90)`` quarter turns counter-clockwise cancels it. Each code
    votes in quarter turns; averaging degrees would break at the ±180 wrap (179 and -179 average
    to 0), which is how a page turned upside down once came out unturned.

    Args:
        orientations_deg: One orientation per decoded code, in degrees; at least one.

    Returns:
        The majority vote, ties going to the first code's vote.

    Raises:
        ValueError: ``orientations_deg`` is empty.
    """
    if not orientations_deg:
        raise ValueError("no orientation to vote on")
    votes = [int(round(o / 90.0)) % 4 for o in orientations_deg]
    return max(votes, key=votes.count)


def template_corners(rect: Rect, version: int) -> Quad:
    """Symbol corners (quiet zone excluded) of a QR drawn in ``rect`` (pt) at ``version``."""
    modules = 17 + 4 * version
    module_pt = QR_SIZE_PT / (modules + 2 * QR_QUIET_MODULES)
    r = rect.inset(QR_QUIET_MODULES * module_pt)
    return ((r.x0, r.top), (r.x1, r.top), (r.x1, r.bottom), (r.x0, r.bottom))


def symbol_version(barcode: zxingcpp.Barcode) -> int:
    """QR version from zxing's extra metadata; falls back to 3 (our 30-character payloads)."""
    try:
        return int(barcode.extra.get("Version", 3))  # type: ignore[attr-defined]  # a dict at run time
    except (AttributeError, TypeError, ValueError):
        return 3


@dataclass(frozen=True)
class DecodedCode:
    """One of our QR codes decoded in an image.

    Attributes:
        identity: What its payload says.
        corners_px: Symbol corners in the image's pixels: top-left, top-right, bottom-right, bottom-left
            of the symbol (zxing-cpp's order).
        orientation_deg: The symbol's rotation as zxing-cpp reports it (0, 90, 180 or -90, plus the skew).
        version: QR symbol version.
    """

    identity: PageIdentity
    corners_px: Quad
    orientation_deg: float
    version: int


@dataclass(frozen=True)
class Decoding:
    """What a decoding pass found: our codes, and how many barcodes there were in all (ours or not)."""

    codes: tuple[DecodedCode, ...]
    barcodes_found: int


def stretch_contrast(image: np.ndarray, settings: IdentificationSettings | None = None) -> np.ndarray:
    """The grey image with its ``contrast_low_quantile`` level mapped to 0 and ``contrast_high_quantile`` to 255.

    Args:
        image: ``uint8`` grey array.
        settings: The two quantiles (0-1).

    Returns:
        A new ``uint8`` array of the same shape (the image itself when it is uniform).
    """
    settings = settings or IdentificationSettings()
    low, high = np.quantile(image[::4, ::4], (settings.contrast_low_quantile, settings.contrast_high_quantile))
    if high - low < 1:
        return image
    scaled = (image.astype(np.float32) - float(low)) * (255.0 / float(high - low))
    return np.clip(scaled, 0, 255).astype(np.uint8)


def sharpen(image: np.ndarray, settings: IdentificationSettings | None = None) -> np.ndarray:
    """The grey image through an unsharp mask (``image + amount × (image − gaussian(image, sigma))``).

    Args:
        image: ``uint8`` grey array.
        settings: ``sharpen_sigma_px`` (pixels) and ``sharpen_amount``.

    Returns:
        A new ``uint8`` array of the same shape.
    """
    settings = settings or IdentificationSettings()
    f = image.astype(np.float32)
    blurred = cv2.GaussianBlur(f, (0, 0), settings.sharpen_sigma_px)
    return np.clip(f + settings.sharpen_amount * (f - blurred), 0, 255).astype(np.uint8)


def smooth(image: np.ndarray, settings: IdentificationSettings | None = None) -> np.ndarray:
    """The grey image through a Gaussian blur of ``smooth_sigma_px``: the flipped and dithered pixels of a 1-bit
    fax or scan break a QR symbol's modules, which a blur of about one pixel joins again.

    Args:
        image: ``uint8`` grey array.
        settings: ``smooth_sigma_px`` (pixels).

    Returns:
        A new ``uint8`` array of the same shape.
    """
    settings = settings or IdentificationSettings()
    return cv2.GaussianBlur(image, (0, 0), settings.smooth_sigma_px)


PhotometricTransform = Callable[[np.ndarray, IdentificationSettings], np.ndarray]

PHOTOMETRIC_RETRIES: tuple[tuple[str, PhotometricTransform], ...] = (
    ("contrast", stretch_contrast),
    ("sharpened", lambda image, settings: sharpen(stretch_contrast(image, settings), settings)),
    ("smoothed", smooth),
)
"""Transforms tried, in order, on an image where the codes of ours do not all decode as received. Each keeps the
image's geometry, so the corners found on it are corners in the image as received."""


def _variants(image: np.ndarray, settings: IdentificationSettings) -> Iterator[tuple[str, np.ndarray]]:
    yield "as received", image
    for name, transform in PHOTOMETRIC_RETRIES:
        yield name, transform(image, settings)


def _read(image: np.ndarray) -> Decoding:
    barcodes = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)  # type: ignore[arg-type]
    codes = []
    for b in barcodes:
        identity = PageIdentity.parse(b.text)
        if identity is None:
            continue
        p = b.position
        corners = tuple((float(pt.x), float(pt.y)) for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        codes.append(DecodedCode(identity, corners, float(b.orientation), symbol_version(b)))  # type: ignore[arg-type]
    return Decoding(tuple(codes), len(barcodes))


def _centre(code: DecodedCode) -> Point:
    return (sum(x for x, _ in code.corners_px) / 4, sum(y for _, y in code.corners_px) / 4)


def _is_new(code: DecodedCode, found: Sequence[DecodedCode]) -> bool:
    """Whether ``code`` is another symbol than those found: its centre lies outside each of theirs."""
    cx, cy = _centre(code)
    for other in found:
        ox, oy = _centre(other)
        side = float(np.hypot(other.corners_px[1][0] - other.corners_px[0][0],
                              other.corners_px[1][1] - other.corners_px[0][1]))
        if np.hypot(cx - ox, cy - oy) < side / 2:
            return False
    return True


def decode_our_codes(image: np.ndarray, settings: IdentificationSettings | None = None,
                     definition: FormDefinition | None = None) -> Decoding:
    """Every QR code of ours in a grey image (zxing-cpp), retrying standard transforms before giving up.

    The image is decoded as received; while fewer codes of ours are found than their page carries (two), it is
    decoded again after each of :data:`PHOTOMETRIC_RETRIES` (contrast stretched; sharpened; smoothed), and the
    symbols each pass adds are kept. Retries cost nothing on a page whose codes all decode as received; a second
    code makes the first estimate of the page's place (``pipeline.reading.register``) hold at its far corners.

    Args:
        image: ``uint8`` grey array ``(height_px, width_px)``.
        settings: The transforms' parameters.
        definition: Form geometry (how many codes a page carries); version 1 by default.

    Returns:
        The codes of ours found (corners in ``image``'s pixels), with the most barcodes (ours or not) one pass saw.
    """
    settings = settings or IdentificationSettings()
    definition = definition or form_v1()
    found: list[DecodedCode] = []
    barcodes_found = 0
    for name, variant in _variants(image, settings):
        decoding = _read(variant)
        barcodes_found = max(barcodes_found, decoding.barcodes_found)
        added = [c for c in decoding.codes if _is_new(c, found)]
        if added and name != "as received":
            log.info("%d QR code(s) decoded once the image was %s", len(added), name)
        found += added
        wanted = {len(definition.pages[c.identity.page - 1].qr_codes) if 1 <= c.identity.page <= len(definition.pages)
                  else 1 for c in found}
        if found and len(found) >= max(wanted):
            break
    return Decoding(tuple(found), barcodes_found)


def identify_page(image: np.ndarray, definition: FormDefinition | None = None,
                  settings: IdentificationSettings | None = None) -> IdentifiedPage:
    """Read the page's QR codes, identify it and turn it upright.

    Args:
        image: Scanned page, ``uint8`` grey array ``(height_px, width_px)`` in any of the four
            quarter-turn orientations (plus a small skew).
        definition: Form geometry (QR rectangles in pt); defaults to version 1.
        settings: The transforms retried when no code decodes as received (:func:`decode_our_codes`).

    Returns:
        The identity, the upright image (a new array unless no turn was needed), the QR
        corners in upright pixels matched to their template corners, and a DPI estimate.

    Raises:
        PageNotIdentifiedError: No QR code of ours was decoded, the codes on the page
            disagree, or the image is not a 2-D ``uint8`` array.
    """
    if image.ndim != 2 or image.dtype != np.uint8:
        raise PageNotIdentifiedError(f"expected a 2-D uint8 grey image, got {image.dtype} {image.shape}")
    definition = definition or form_v1()
    decoding = decode_our_codes(image, settings, definition)
    found = decoding.barcodes_found
    ours = decoding.codes
    if not ours:
        raise NoFormCodeError(f"none of {found} barcode(s) is a CLAS form code", codes_found=found)
    identities = {c.identity for c in ours}
    if len(identities) > 1:
        raise PageNotIdentifiedError(
            f"{len(identities)} different CLAS identities on one page",
            codes_found=found,
            reason_fr="Page ambiguë : deux codes QR différents sur la même page. Rescanner les pages une par une.",
        )
    identity = next(iter(identities))
    check_identity(identity, definition, found)

    # zxing's orientation is the symbol's rotation in degrees (0, 90, 180, -90 plus skew); turning the
    # image by that many quarter turns counter-clockwise brings the symbol, hence the page, upright.
    quarter_turns = quarter_turns_from_orientations([c.orientation_deg for c in ours])
    height, width = image.shape
    upright = np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image

    qr_rects = definition.pages[identity.page - 1].qr_codes
    upright_w, upright_h = (width, height) if quarter_turns % 2 == 0 else (height, width)
    sightings: list[QrSighting] = []
    for code in ours:
        corners = tuple(rotate_point(x, y, width, height, quarter_turns) for x, y in code.corners_px)
        cx = sum(c[0] for c in corners) / 4 / upright_w
        cy = sum(c[1] for c in corners) / 4 / upright_h
        # Which printed QR is it? The one whose centre (as a share of the page) is nearest.
        rect = min(qr_rects,
                   key=lambda r: (r.center[0] / PAGE_WIDTH_PT - cx) ** 2 + (r.center[1] / PAGE_HEIGHT_PT - cy) ** 2)
        sightings.append(QrSighting(corners, template_corners(rect, code.version), code.version))  # type: ignore[arg-type]

    dpi_estimate = float(np.median([_sighting_dpi(s) for s in sightings]))
    return IdentifiedPage(identity, upright, quarter_turns, tuple(sightings), dpi_estimate)


def _sighting_dpi(s: QrSighting) -> float:
    """Pixels per inch implied by a QR symbol's side lengths (px) against its template side (pt)."""
    px = s.corners_px
    sides = [float(np.hypot(px[i][0] - px[(i + 1) % 4][0], px[i][1] - px[(i + 1) % 4][1])) for i in range(4)]
    side_pt = s.template_corners_pt[1][0] - s.template_corners_pt[0][0]
    return float(np.mean(sides)) / side_pt * 72.0


def check_identity(identity: PageIdentity, definition: FormDefinition, codes_found: int = 0) -> FormDefinition:
    """The definition of the page's own version, once its version and page number are known to be ours.

    Every version shares its registration marks (anchors, QR codes), so a page is found with any definition and
    then read with its own version's (:func:`pipeline.form.definition.form_definition`).

    Args:
        identity: What the page's QR code or footer says.
        definition: The definition the page was found with (returned when the versions are the same).
        codes_found: Barcodes seen on the page, for the error.

    Raises:
        UnknownFormVersionPageError: The version is unknown (a page printed from a newer or a foreign form);
            ``reason_fr`` says what to do.
        PageNotIdentifiedError: The page number is not one of the form's.
    """
    try:
        own = definition if identity.version == definition.version else form_definition(identity.version)
    except UnknownFormVersionError:
        raise UnknownFormVersionPageError(f"QR says form version {identity.version}, which this product does not read",
                                          version=identity.version, codes_found=codes_found) from None
    if not 1 <= identity.page <= len(own.pages):
        raise PageNotIdentifiedError(
            f"QR says page {identity.page} of a {len(own.pages)}-page form",
            codes_found=codes_found,
            reason_fr="Numéro de page inconnu : utiliser la fiche d'orientation en vigueur.",
        )
    return own
