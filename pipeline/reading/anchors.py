"""Identify a page whose QR codes cannot be read: find it by its anchors, read its printed footer.

The QR codes are tried first, on the image as received (:func:`pipeline.reading.identify.identify_page`).
When none can be decoded (a code smudged by a photocopier, cut by a fax, blurred in a photo), the
page still carries its five solid anchors and, in its footer, the same payload as the QR codes in
plain text (``CLASFO|v1|FO-2026-000123|p1/2``, ``pipeline.form.render``). So:

1. :func:`anchor_candidates` — solid, square, dark blobs of the page (Otsu ink, connected components);
2. :func:`fit_anchor_layout` — the four corner anchors are the widest quadrilateral of the biggest
   candidates; of its four possible turns, the one that puts a candidate where the fifth, off-centre
   anchor should be is the page's orientation; a homography on all five follows;
3. :func:`read_footer` — the footer band warped flat and read by Tesseract, parsed as a payload.

The result is an :class:`~pipeline.reading.identify.IdentifiedPage` like the QR path's, its QR corners
predicted from the anchors (they are then no extra measure in the registration's fit).
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass

import cv2
import numpy as np
import pytesseract

from pipeline.errors import NoFormCodeError, PageNotIdentifiedError
from pipeline.form.definition import (
    FOOTER_BASELINE_PT,
    PAGE_HEIGHT_PT,
    PAGE_WIDTH_PT,
    FormDefinition,
    PageIdentity,
    form_v1,
)
from pipeline.form.template_image import blank_page_image, template_mask
from pipeline.reading.identify import (
    UNREAD_SERIAL,
    IdentifiedPage,
    QrSighting,
    check_identity,
    identify_page,
    rotate_point,
    template_corners,
)
from pipeline.settings import RegistrationSettings
from pipeline.settings.reading import IdentificationSettings

log = logging.getLogger(__name__)

# Thresholds on candidates and on the anchors' layout are in ``RegistrationSettings`` (``candidate_*``, ``anchor_*``).
CANDIDATES_KEPT = 14
"""Biggest solid square blobs kept as anchor candidates: five anchors, plus filled tick boxes (10 pt,
smaller), QR finder patterns (4.5 pt) and what a desk shows around a photo."""
FOOTER_DPI = 300.0
"""Resolution the footer band is warped to for Tesseract (its 7-pt text wants 300 dpi)."""
FOOTER_BAND_PT = (11.0, 4.0)
"""Band above and below the footer baseline that holds the printed payload."""

_FOOTER_RE = re.compile(
    # The "|" separators come back as "|", "l", "I", "J" or "!": anything but the next expected letter.
    r"CLASF[O0][^v]{0,3}v(?P<version>\d)[^F]{0,3}(?P<form_id>F[O0]-\d{4}-N?[\dO]{5,6})[^p]{0,3}"
    r"p(?P<page>\d)\s*/\s*(?P<count>\d)")


@dataclass(frozen=True)
class AnchorCandidate:
    """A solid square blob that may be an anchor.

    Attributes:
        center_px: Its centroid in image pixels ``(x, y)``.
        side_px: The square root of its area, in pixels.
    """

    center_px: tuple[float, float]
    side_px: float


def anchor_candidates(image: np.ndarray, registration: RegistrationSettings | None = None) -> list[AnchorCandidate]:
    """The biggest solid, square, dark blobs of a grey page, biggest first.

    Args:
        image: ``uint8`` grey array ``(height_px, width_px)``.
        registration: A candidate's side, aspect and solidity (``candidate_*``).

    Returns:
        Up to ``CANDIDATES_KEPT`` candidates.
    """
    registration = registration or RegistrationSettings()
    _, ink = cv2.threshold(image, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    count, _, stats, centroids = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    found = []
    height, width = image.shape
    for i in range(1, count):
        w, h, area = (int(stats[i, cv2.CC_STAT_WIDTH]), int(stats[i, cv2.CC_STAT_HEIGHT]),
                      int(stats[i, cv2.CC_STAT_AREA]))
        if (min(w, h) < registration.candidate_min_side_px
                or max(w, h) > min(width, height) / registration.candidate_page_side_divisor):
            continue
        if (not registration.candidate_aspect_min <= w / h <= registration.candidate_aspect_max
                or area / float(w * h) < registration.candidate_min_solidity):
            continue
        found.append(AnchorCandidate((float(centroids[i][0]), float(centroids[i][1])), float(np.sqrt(area))))
    found.sort(key=lambda c: -c.side_px)
    return found[:CANDIDATES_KEPT]


def _quad_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def _clockwise(points: np.ndarray) -> np.ndarray:
    """Order four points clockwise on screen (y down), starting anywhere."""
    center = points.mean(axis=0)
    angles = np.arctan2(points[:, 1] - center[1], points[:, 0] - center[0])
    return points[np.argsort(angles)]


def fit_anchor_layout(candidates: list[AnchorCandidate], definition: FormDefinition,
                      registration: RegistrationSettings | None = None) -> tuple[np.ndarray, int]:
    """Match candidates to the template's five anchors and fit a homography.

    Args:
        candidates: From :func:`anchor_candidates`.
        definition: Form geometry (anchors in pt; both pages share them).
        registration: ``anchor_side_share_min`` and ``fifth_anchor_tolerance_pt``.

    Returns:
        The homography template pt → image px, and the quarter turns counter-clockwise that bring
        the image upright (``np.rot90`` convention, as :func:`pipeline.reading.identify.identify_page`).

    Raises:
        PageNotIdentifiedError: No set of candidates fits the anchor layout.
    """
    registration = registration or RegistrationSettings()
    anchors = definition.pages[0].anchors
    corner_pt = np.array([anchors[i].center for i in (0, 1, 3, 2)], dtype=np.float64)  # TL, TR, BR, BL: clockwise
    fifth_pt = anchors[4].center
    if len(candidates) < 5:
        raise PageNotIdentifiedError(f"only {len(candidates)} anchor candidates")
    usable = candidates
    best: tuple[float, np.ndarray, int] | None = None
    for quad in itertools.combinations(usable, 4):
        sides = [c.side_px for c in quad]
        if min(sides) < registration.anchor_side_share_min * max(sides):
            continue
        pts = _clockwise(np.array([c.center_px for c in quad], dtype=np.float64))
        area = _quad_area(pts)
        if best is not None and area <= best[0]:
            continue
        for start in range(4):
            image_pts = np.roll(pts, -start, axis=0)
            h = cv2.getPerspectiveTransform(corner_pt.astype(np.float32), image_pts.astype(np.float32))
            fx, fy = cv2.perspectiveTransform(np.array([[fifth_pt]], dtype=np.float64), h)[0, 0]
            scale = np.sqrt(area / _quad_area(corner_pt))  # px per pt
            near = [c for c in usable if c not in quad
                    and np.hypot(c.center_px[0] - fx, c.center_px[1] - fy)
                    < registration.fifth_anchor_tolerance_pt * scale]
            if near:
                src = np.vstack([corner_pt, [fifth_pt]])
                dst = np.vstack([image_pts, [near[0].center_px]])
                h5, _ = cv2.findHomography(src, dst, 0)
                if h5 is not None:
                    best = (area, h5, start)
                break
    if best is None:
        raise PageNotIdentifiedError("no anchor layout of the form found on the page")
    _, h, _ = best
    # The template's top edge direction in the image tells how the page lies.
    top_edge = np.array([[(0.0, 0.0), (PAGE_WIDTH_PT, 0.0)]], dtype=np.float64)
    (x0, y0), (x1, y1) = cv2.perspectiveTransform(top_edge, h)[0]
    angle = np.degrees(np.arctan2(y1 - y0, x1 - x0))  # 0: upright; 90: top edge points down (turned cw)
    quarter_turns = int(round(angle / 90.0)) % 4
    return h, quarter_turns


def _turned_homography(h: np.ndarray, width: int, height: int, quarter_turns: int) -> np.ndarray:
    """Compose a template → image homography with ``np.rot90(image, quarter_turns)``."""
    src = np.array([(0, 0), (PAGE_WIDTH_PT, 0), (PAGE_WIDTH_PT, PAGE_HEIGHT_PT), (0, PAGE_HEIGHT_PT)], dtype=np.float64)
    dst = cv2.perspectiveTransform(src.reshape(-1, 1, 2), h).reshape(-1, 2)
    turned = np.array([rotate_point(x, y, width, height, quarter_turns) for x, y in dst], dtype=np.float64)
    return cv2.getPerspectiveTransform(src.astype(np.float32), turned.astype(np.float32))


def read_footer(image: np.ndarray, h: np.ndarray, language: str = "eng") -> PageIdentity | None:
    """Warp the footer band of an upright page flat and read its payload with Tesseract.

    Args:
        image: Upright ``uint8`` grey page.
        h: Homography template pt → ``image`` px.
        language: Tesseract language (the payload is ASCII: ``eng`` has no French dictionary to fight it).

    Returns:
        The identity printed there, or ``None`` when it cannot be read.
    """
    above, below = FOOTER_BAND_PT
    s = FOOTER_DPI / 72.0
    top = FOOTER_BASELINE_PT - above
    size = (int(round(PAGE_WIDTH_PT * s)), int(round((above + below) * s)))
    out_to_image = h @ np.array([[1.0 / s, 0, 0], [0, 1.0 / s, top], [0, 0, 1.0]])
    band = cv2.warpPerspective(image, out_to_image, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderValue=255)
    text = pytesseract.image_to_string(band, lang=language, config="--psm 7", timeout=20)
    m = _FOOTER_RE.search(text.replace(" ", ""))
    if not m:
        return None
    form_id = m["form_id"].replace("O", "0").replace("F0-", "FO-")
    return PageIdentity.parse(f"CLASFO|v{m['version']}|{form_id}|p{m['page']}/{m['count']}")


def match_layout(upright: np.ndarray, h: np.ndarray, definition: FormDefinition,
                 settings: IdentificationSettings | None = None) -> dict[int, float]:
    """How much of each blank page's printed ink (labels, frames, boxes) is inked on an upright page.

    The page is warped into the template frame at ``settings.layout_dpi``, its ink found by Otsu's threshold
    and grown by one pixel (registration error, toner spread); the share of each blank page's ink pixels
    (:func:`pipeline.form.template_image.blank_page_image`, QR codes and footer left out) that fall on ink is
    that page's score. What was written on the page only adds ink, so the right page scores near 1.

    Args:
        upright: Upright ``uint8`` grey page.
        h: Homography template pt → ``upright`` px.
        definition: Form geometry (its page count).
        settings: ``layout_dpi``.

    Returns:
        Page number → share (0-1) of that blank page's ink found on the page.
    """
    settings = settings or IdentificationSettings()
    s = settings.layout_dpi / 72.0
    size = (int(round(PAGE_WIDTH_PT * s)), int(round(PAGE_HEIGHT_PT * s)))
    out_to_image = h @ np.diag([1.0 / s, 1.0 / s, 1.0])
    warped = cv2.warpPerspective(upright, out_to_image, size, flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
                                 borderValue=255)
    _, ink = cv2.threshold(warped, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    ink = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    scores = {}
    for number in range(1, len(definition.pages) + 1):
        blank = blank_page_image(number, settings.layout_dpi, definition.version)
        printed = (blank < 128) & (template_mask(number, settings.layout_dpi, definition) > 0)
        scores[number] = float(ink[: printed.shape[0], : printed.shape[1]][printed].mean()) if printed.any() else 0.0
    return scores


def _identity_from_layout(upright: np.ndarray, h: np.ndarray, definition: FormDefinition,
                          settings: IdentificationSettings) -> PageIdentity:
    """The page whose printed layout the page shows best, under :data:`UNREAD_SERIAL`.

    Raises:
        PageNotIdentifiedError: No blank page's ink is found at ``settings.layout_match_min`` or more.
    """
    scores = match_layout(upright, h, definition, settings)
    number = max(scores, key=lambda n: scores[n])
    if scores[number] < settings.layout_match_min:
        raise PageNotIdentifiedError(f"anchors found, footer unreadable, layout matches {scores[number]:.2f} at best")
    log.info("page %d found by its anchors and printed layout (%.2f); its QR codes and footer are unreadable",
             number, scores[number])
    return PageIdentity(UNREAD_SERIAL, definition.version, number, len(definition.pages))


def identify_by_anchors(image: np.ndarray, definition: FormDefinition | None = None,
                        registration: RegistrationSettings | None = None) -> IdentifiedPage:
    """Identify, turn upright and locate a page from its anchors and printed footer.

    Args:
        image: Page as received, ``uint8`` grey ``(height_px, width_px)``, any quarter turn.
        definition: Form geometry; defaults to version 1.
        registration: Thresholds on anchor candidates and their layout.

    Returns:
        The page as :func:`pipeline.reading.identify.identify_page` returns it; its ``qr_codes`` hold the QR
        corners where the anchors put them (predicted, not decoded).

    When the footer cannot be read either, the page is still the form's if its printed layout matches one of the
    blank pages (:func:`match_layout`): it is given that page number and the serial
    :data:`pipeline.reading.identify.UNREAD_SERIAL`, so that it goes to a person, never to quarantine (issue 16).

    Raises:
        PageNotIdentifiedError: The anchors do not fit the form's layout, or neither the footer nor the printed
            layout identifies the page, or the footer names a page or version the definition does not have.
    """
    definition = definition or form_v1()
    registration = registration or RegistrationSettings()
    h, quarter_turns = fit_anchor_layout(anchor_candidates(image, registration), definition, registration)
    height, width = image.shape
    upright = np.ascontiguousarray(np.rot90(image, quarter_turns)) if quarter_turns else image
    h_up = _turned_homography(h, width, height, quarter_turns) if quarter_turns else h
    identity = read_footer(upright, h_up)
    if identity is None:
        identity = _identity_from_layout(upright, h_up, definition, registration.identification)
    check_identity(identity, definition)
    sightings = []
    for rect in definition.pages[identity.page - 1].qr_codes:
        template = template_corners(rect, 3)
        corners = cv2.perspectiveTransform(np.array([template], dtype=np.float64), h_up)[0]
        sightings.append(QrSighting(tuple(map(tuple, corners)), template, 3))  # type: ignore[arg-type]
    scale = np.sqrt(abs(np.linalg.det(h_up[:2, :2] / h_up[2, 2])))  # px per pt near the origin
    return IdentifiedPage(identity, upright, quarter_turns, tuple(sightings), float(scale * 72.0))


def find_page(image: np.ndarray, definition: FormDefinition | None = None,
              registration: RegistrationSettings | None = None) -> IdentifiedPage:
    """Identify a page by its QR codes, tried on the image as received, else by its anchors and footer.

    Args:
        image: Page as received, ``uint8`` grey ``(height_px, width_px)``.
        definition: Form geometry; defaults to version 1.
        registration: Thresholds of the identification by anchors.

    Returns:
        See :func:`pipeline.reading.identify.identify_page`.

    Raises:
        PageNotIdentifiedError: The QR path failed for a reason other than "no code of ours" (two
            different codes, an unknown version), or both paths failed: the QR path's error is raised.
    """
    registration = registration or RegistrationSettings()
    try:
        return identify_page(image, definition, registration.identification)
    except NoFormCodeError as error:
        try:
            page = identify_by_anchors(image, definition, registration)
        except PageNotIdentifiedError:
            raise error from None
        log.info("page identified by its anchors and printed footer: no QR code could be decoded")
        return page
