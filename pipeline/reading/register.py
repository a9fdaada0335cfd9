"""Register an identified page on the form template: find the anchors, fit a homography, warp.

Chain of small steps (pdfplumber ``table.py`` style):

1. :func:`initial_homography` — template points (pt) → image pixels from the QR corners;
2. :func:`locate_anchors` — the five solid squares, searched near where step 1 puts them,
   as dark connected components of the expected size; their centroids are the measures;
3. :func:`fit_homography` — least-squares fit on anchors and QR corners, with the residual
   position error expressed in PDF points;
4. :func:`register_by_features` — the fallback when anchors are missing (a folded corner, a thumb):
   ORB keypoints of the blank form matched to the page, homography by RANSAC, checked against the QR codes;
5. :func:`register_page` — all of the above and the warp of the page into the template
   frame at ``dpi / 72`` pixels per point, so every zone of ``pipeline.form.definition``
   can be cut out by multiplying its points by that scale.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.errors import RegistrationError
from pipeline.form.definition import ANCHOR_SIZE_PT, PAGE_HEIGHT_PT, PAGE_WIDTH_PT, FormDefinition, Rect, form_v1
from pipeline.reading.identify import IdentifiedPage, Point
from pipeline.settings import RegistrationSettings

log = logging.getLogger(__name__)

# Thresholds (anchor search and acceptance, evenness, feature matching, residual) are in ``RegistrationSettings``.
PAPER_WINDOW_PT = 24.0
"""Side of the window the paper level is taken in: wider than any ink on the form (filled 10-pt boxes,
17-pt comb cells hold thin strokes, the 14-pt anchors), narrower than a shadow's soft edge."""
FEATURE_DPI = 100.0
"""Resolution both the blank form and the page are brought to for feature matching: ORB keypoints on
printed 9-pt text are stable at 100 dpi, and 0.7 Mpx per side keeps detection near 50 ms."""
FEATURE_COUNT = 5000
"""ORB keypoints kept per image; a form page yields about 6,000 at 100 dpi, most of them on its labels."""


@dataclass(frozen=True)
class RegisteredPage:
    """A page warped into the template frame.

    Attributes:
        image: ``uint8`` grey array of shape ``(round(PAGE_HEIGHT_PT * dpi / 72), round(PAGE_WIDTH_PT * dpi / 72))``;
            a point ``(x_pt, y_pt)`` of the form definition is at pixel ``(x_pt * dpi / 72, y_pt * dpi / 72)``.
        dpi: Resolution of ``image`` in pixels per inch.
        residual_pt: RMS distance in PDF points between measured marks (anchors, QR corners)
            and where the fitted homography puts them: the position quality of the page.
        anchors_found: How many of the five anchors were located.
        homography: 3×3 matrix mapping template points (pt) to pixels of the upright scan.
        quality: Position quality 0-1: 1 for a perfect fit, 0 at ``RegistrationSettings.max_residual_pt``;
            used in confidences.
        evenness: Darkest over lightest paper level before flattening (1 for an even scan; see
            :func:`flatten_illumination`); the image is flattened when it is under
            ``RegistrationSettings.even_paper_min``.
        method: ``"anchors"`` (anchors and QR corners) or ``"features"`` (ORB matches with the blank
            form, used when too few anchors were found: :func:`register_by_features`).
    """

    image: np.ndarray
    dpi: float
    residual_pt: float
    anchors_found: int
    homography: np.ndarray
    quality: float
    evenness: float = 1.0
    method: str = "anchors"

    @property
    def px_per_pt(self) -> float:
        """Scale of :attr:`image`: pixels per PDF point (``dpi / 72``)."""
        return self.dpi / 72.0


def _apply(h: np.ndarray, points: Sequence[Point]) -> np.ndarray:
    """Apply a homography to ``(x, y)`` points; returns an ``(n, 2)`` float array."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 1, 2)
    return cv2.perspectiveTransform(pts, h).reshape(-1, 2)


def initial_homography(page: IdentifiedPage) -> np.ndarray:
    """Template (pt) → upright image (px) homography from the QR corners alone.

    Args:
        page: An identified page with at least one QR sighting (four corners).

    Returns:
        A 3×3 float64 matrix.

    Raises:
        RegistrationError: The QR corners are degenerate (no homography fits).
    """
    src = [c for s in page.qr_codes for c in s.template_corners_pt]
    dst = [c for s in page.qr_codes for c in s.corners_px]
    h, _ = cv2.findHomography(np.asarray(src, np.float64), np.asarray(dst, np.float64), 0)
    if h is None:
        raise RegistrationError("QR corners are degenerate; no initial homography")
    return h


def ink_threshold(image: np.ndarray) -> float:
    """Grey level separating ink from paper, by Otsu's method on a subsampled page (0-255).

    Works for grey scans and for black-and-white ones (which are already 0/255).
    """
    sample = np.ascontiguousarray(image[::4, ::4])
    value, _ = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(value)


def _local_threshold(window: np.ndarray, fallback: float, min_contrast: int) -> float:
    """Otsu's grey level inside one search window; ``fallback`` when the window is flat (no ink): its darkest and
    lightest pixels less than ``min_contrast`` grey levels apart (``RegistrationSettings.anchor_min_contrast``).

    A phone photo's light varies across the sheet and its desk is often darker than paper, so one
    threshold for the whole image may call shadowed paper ink; inside a window of a few anchor
    sides the light is nearly even and Otsu splits the anchor from the paper around it.
    """
    if window.size == 0 or int(window.max()) - int(window.min()) < min_contrast:
        return fallback
    value, _ = cv2.threshold(np.ascontiguousarray(window), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return float(value)


def _quad_area(quad: np.ndarray) -> float:
    """Area of a polygon given as an ``(n, 2)`` array (shoelace formula)."""
    x, y = quad[:, 0], quad[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2.0)


def locate_anchors(
    image: np.ndarray,
    anchors_pt: Sequence[Rect],
    h_initial: np.ndarray,
    threshold: float,
    registration: RegistrationSettings | None = None,
) -> list[Point | None]:
    """Find each solid anchor square near its predicted place and return its centroid.

    The expected area and fill of each anchor come from projecting its square through
    ``h_initial``, so a page seen in perspective (a phone photo) or turned by 10° is measured
    against what it should look like there, not against an upright square.

    Args:
        image: Upright ``uint8`` grey page.
        anchors_pt: Anchor rectangles on the template (pt).
        h_initial: Template (pt) → image (px) homography used to predict positions.
        threshold: Page-wide ink level (see :func:`ink_threshold`), used where a window is flat.
        registration: The search half-side and the anchor's accepted area, fill and aspect.

    Returns:
        For each anchor, its centroid in image pixels, or ``None`` when no blob of the
        right size and solidity lies in the search window.
    """
    registration = registration or RegistrationSettings()
    height, width = image.shape
    found: list[Point | None] = []
    for rect in anchors_pt:
        quad = _apply(h_initial, [(rect.x0, rect.top), (rect.x1, rect.top), (rect.x1, rect.bottom),
                                  (rect.x0, rect.bottom)])
        nominal_area = _quad_area(quad)
        box_w, box_h = np.ptp(quad[:, 0]), np.ptp(quad[:, 1])
        expected_fill = nominal_area / max(1.0, float(box_w * box_h))
        scale = float(np.sqrt(nominal_area)) / ANCHOR_SIZE_PT  # px per pt, here
        side_px = float(np.sqrt(nominal_area))
        (cx, cy), = _apply(h_initial, [rect.center])
        half = registration.anchor_search_pt * scale
        x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
        x1, y1 = min(width, int(cx + half) + 1), min(height, int(cy + half) + 1)
        if x1 - x0 < side_px or y1 - y0 < side_px:
            found.append(None)
            continue
        grey = image[y0:y1, x0:x1]
        window = (grey <= _local_threshold(grey, threshold, registration.anchor_min_contrast)).astype(np.uint8)
        count, _, stats, centroids = cv2.connectedComponentsWithStats(window, connectivity=8)
        best: Point | None = None
        best_dist = float("inf")
        for i in range(1, count):
            w, h, area = stats[i, cv2.CC_STAT_WIDTH], stats[i, cv2.CC_STAT_HEIGHT], stats[i, cv2.CC_STAT_AREA]
            if not (registration.anchor_area_min_share * nominal_area <= area
                    <= registration.anchor_area_max_share * nominal_area):
                continue
            aspect = (w / h) / max(1e-6, float(box_w / box_h))
            if (area / float(w * h) < registration.anchor_min_fill * expected_fill
                    or not registration.anchor_aspect_min <= aspect <= registration.anchor_aspect_max):
                continue
            left, top = stats[i, cv2.CC_STAT_LEFT], stats[i, cv2.CC_STAT_TOP]
            if left == 0 or top == 0 or left + w >= window.shape[1] or top + h >= window.shape[0]:
                continue  # cut by the window or the scan's edge: its centroid would be biased
            px, py = float(centroids[i][0]) + x0, float(centroids[i][1]) + y0
            dist = (px - cx) ** 2 + (py - cy) ** 2
            if dist < best_dist:
                best, best_dist = (px, py), dist
        found.append(best)
    return found


def fit_homography(template_pt: Sequence[Point], image_px: Sequence[Point]) -> tuple[np.ndarray, float]:
    """Least-squares homography template (pt) → image (px) and its RMS residual in pt.

    Args:
        template_pt: At least four template points (pt).
        image_px: The matching measured image points (px), same order.

    Returns:
        The 3×3 matrix and the RMS distance, in pt, between the template points and the
        measured points mapped back onto the template.

    Raises:
        RegistrationError: Fewer than four points, or no homography fits them.
    """
    if len(template_pt) < 4 or len(template_pt) != len(image_px):
        raise RegistrationError(f"need 4+ matched points, got {len(template_pt)}/{len(image_px)}")
    src = np.asarray(template_pt, np.float64)
    h, _ = cv2.findHomography(src, np.asarray(image_px, np.float64), 0)
    if h is None:
        raise RegistrationError("no homography fits the registration marks")
    back = _apply(np.linalg.inv(h), image_px)
    residual = float(np.sqrt(np.mean(np.sum((back - src) ** 2, axis=1))))
    return h, residual


def paper_level(image: np.ndarray, px_per_pt: float) -> np.ndarray:
    """Estimate the grey level of bare paper everywhere on a registered page (``float32``, same shape).

    A grey closing (local maximum, then local minimum) over ``PAPER_WINDOW_PT`` erases everything darker
    than the paper around it, text, tick boxes and filled boxes included, and keeps a shadow's edge where
    it is: a maximum alone carries the lit side 12 pt into the shadow, and a grey band along a sharp shadow
    edge then thresholds as ink (measured on a HEIC photo: an empty tick box under it filled 1.0). A small
    blur smooths the estimate. Worked at quarter resolution: light varies over centimetres, not pixels.
    """
    small = cv2.resize(image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    k = max(3, int(round(PAPER_WINDOW_PT * px_per_pt * 0.25)) | 1)
    level = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    level = cv2.GaussianBlur(level.astype(np.float32), (0, 0), max(1.0, k / 8))
    return cv2.resize(level, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_LINEAR)


def flatten_illumination(image: np.ndarray, px_per_pt: float, registration: RegistrationSettings | None = None
                         ) -> tuple[np.ndarray, float]:
    """Divide a registered page by its paper level, so shadows and light gradients vanish.

    A page whose paper is even (every scan: the lamp is uniform) is returned unchanged, so that
    flatbed figures do not move; a phone photo with a shadow or a gradient is flattened to white paper.

    Args:
        image: ``uint8`` grey registered page.
        px_per_pt: Its scale.
        registration: ``even_paper_min``, the evenness from which a page is left as it is.

    Returns:
        The page (flattened or not) and its evenness: darkest over lightest paper level (0-1).
    """
    registration = registration or RegistrationSettings()
    level = paper_level(image, px_per_pt)
    lo, hi = np.percentile(level[::8, ::8], (2, 98))
    evenness = float(lo / max(hi, 1.0))
    if evenness >= registration.even_paper_min:
        return image, evenness
    flat = image.astype(np.float32) * (255.0 / np.maximum(level, 1.0))
    return np.clip(flat, 0, 255).astype(np.uint8), evenness


def register_by_features(page: IdentifiedPage, h_initial: np.ndarray, definition: FormDefinition | None = None,
                         registration: RegistrationSettings | None = None) -> tuple[np.ndarray, float, int]:
    """Template (pt) → image (px) homography from ORB features matched with the blank form, by RANSAC.

    The fallback of :func:`register_page` when the anchors cannot be found (a corner folded or cut
    off, a thumb or a stamp over an anchor): the printed labels and lines of the form are themselves
    landmarks. The blank form (:mod:`pipeline.form.template_image`, QR codes and footer masked out) and the
    page are both brought to ``FEATURE_DPI``; matches pass Lowe's ratio test; RANSAC fits the
    homography. The QR codes stay the judge: a fit that puts the page corners more than
    ``registration.feature_qr_agreement_pt`` away from where the QR codes put them is refused.

    Args:
        page: The identified, upright page.
        h_initial: The QR-only homography (:func:`initial_homography`), template pt → image px.
        definition: Form geometry; defaults to version 1.
        registration: Lowe's ratio, the RANSAC distance, the fewest inliers, the agreement with the QR codes.

    Returns:
        The homography (template pt → upright image px), the RMS reprojection error of its inliers in
        pt, and the inlier count.

    Raises:
        RegistrationError: Too few matches or inliers, or the fit disagrees with the QR codes.
    """
    from pipeline.form.template_image import blank_page_image, template_mask

    definition = definition or form_v1()
    registration = registration or RegistrationSettings()
    min_inliers = registration.feature_min_inliers
    number = page.identity.page
    template = blank_page_image(number, FEATURE_DPI, definition.version)
    t_mask = template_mask(number, FEATURE_DPI, definition)
    factor = FEATURE_DPI / max(1.0, page.dpi_estimate)
    small = (cv2.resize(page.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA) if factor < 1
             else page.image)
    factor = small.shape[1] / page.image.shape[1]
    orb = cv2.ORB_create(nfeatures=FEATURE_COUNT)  # type: ignore[attr-defined]  # missing from OpenCV 5's stubs
    kp_t, des_t = orb.detectAndCompute(np.ascontiguousarray(template), t_mask)
    kp_i, des_i = orb.detectAndCompute(np.ascontiguousarray(small), None)
    if des_t is None or des_i is None or len(kp_t) < min_inliers or len(kp_i) < min_inliers:
        raise RegistrationError("too few features on the page to register it")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(des_t, des_i, k=2)
    good = [m[0] for m in pairs if len(m) == 2 and m[0].distance < registration.feature_ratio * m[1].distance]
    if len(good) < min_inliers:
        raise RegistrationError(f"only {len(good)} feature matches with the blank form")
    t_scale = FEATURE_DPI / 72.0
    src_pt = np.array([kp_t[m.queryIdx].pt for m in good], dtype=np.float64) / t_scale
    dst_px = np.array([kp_i[m.trainIdx].pt for m in good], dtype=np.float64) / factor
    h, inliers = cv2.findHomography(src_pt, dst_px, cv2.RANSAC, registration.feature_ransac_px / factor)
    count = int(inliers.sum()) if inliers is not None else 0
    if h is None or count < min_inliers:
        raise RegistrationError(f"only {count} feature inliers with the blank form")
    corners = [(0.0, 0.0), (PAGE_WIDTH_PT, 0.0), (PAGE_WIDTH_PT, PAGE_HEIGHT_PT), (0.0, PAGE_HEIGHT_PT)]
    px_per_pt = page.dpi_estimate / 72.0
    gap_pt = float(np.max(np.hypot(*(_apply(h, corners) - _apply(h_initial, corners)).T))) / px_per_pt
    if gap_pt > registration.feature_qr_agreement_pt:
        raise RegistrationError(f"feature fit is {gap_pt:.0f} pt away from the QR codes' one")
    keep = inliers.ravel().astype(bool)
    back = _apply(np.linalg.inv(h), dst_px[keep])
    residual = float(np.sqrt(np.mean(np.sum((back - src_pt[keep]) ** 2, axis=1))))
    return h, residual, count


def register_page(
    page: IdentifiedPage,
    dpi: float | None = None,
    definition: FormDefinition | None = None,
    registration: RegistrationSettings | None = None,
    descreen_sigma_pt: float | None = None,
) -> RegisteredPage:
    """Align an identified page on its template and warp it into the template frame.

    Args:
        page: Output of :func:`pipeline.reading.identify.identify_page` (upright image, QR corners).
        dpi: Resolution of the warped image in pixels per inch; defaults to the scan's own
            resolution (``page.dpi_estimate`` rounded to 10) so no detail is invented or lost.
        definition: Form geometry; defaults to version 1.
        registration: Thresholds (defaults: ``RegistrationSettings()``).
        descreen_sigma_pt: For a page received dithered, the blur (Gaussian sigma, pt at the page's estimated
            scale; ``OcrSettings.descreen_sigma_pt``) the anchors are looked for through when some are not found
            as received (the more found wins); the page itself is warped as received. Its dots break an anchor's
            solid square at the edges and pepper the paper around it, and the anchor fails the blob tests.
            Measured 2026-12-07 on the dithered pages of both corpora: the devset's 3 find their 5 anchors as
            received (looked for blurred as well, the centroids moved a fraction of a pixel and the readings of
            4 zones changed, two for the better, two for the worse: hence only when one is missing); of the 23
            dithered fax pages of the project's generator that register (seeds 41, 53, 67, paper white; seed
            41, paper toned), 13 found 0-4 anchors (residual up to 1.01 pt) and now 5 (residual 0.16-0.56 pt,
            position quality up to +0.30). Read through the pipeline: the project's 9 ``fax_halftone`` forms,
            fields exact 380 → 383, accepted 350 → 357; its 6 toned ones, exact 234 → 238, accepted 177 → 173
            (a page's zones judged handwritten); 14 devset referrals faxed so (a variant), exact 501 → 504,
            accepted 372 → 378; no value wrong yet accepted in any.

    Returns:
        The warped page with its resolution, residual error (pt) and homography.

    Raises:
        RegistrationError: Fewer than ``registration.min_anchors`` anchors found (or a residual over
            ``registration.max_residual_pt``) and the feature fallback (:func:`register_by_features`) failed too.
    """
    definition = definition or form_v1()
    registration = registration or RegistrationSettings()
    max_residual_pt = registration.max_residual_pt
    h0 = initial_homography(page)
    anchors = definition.pages[page.identity.page - 1].anchors
    located = locate_anchors(page.image, anchors, h0, ink_threshold(page.image), registration)
    if descreen_sigma_pt and None in located:
        smooth = cv2.GaussianBlur(page.image, (0, 0), descreen_sigma_pt * page.dpi_estimate / 72.0)
        through = locate_anchors(smooth, anchors, h0, ink_threshold(smooth), registration)
        if sum(p is not None for p in through) > sum(p is not None for p in located):
            located = through
    pairs = [(a.center, p) for a, p in zip(anchors, located, strict=True) if p is not None]
    anchors_found = len(pairs)
    method, h, residual = "anchors", h0, float("inf")
    if anchors_found >= registration.min_anchors:
        # Anchor centroids are sub-pixel measures; QR corners add redundancy so one bad anchor shows in the residual.
        pairs += [(t, p) for s in page.qr_codes for t, p in zip(s.template_corners_pt, s.corners_px, strict=True)]
        h, residual = fit_homography([t for t, _ in pairs], [p for _, p in pairs])
    if anchors_found < registration.min_anchors or residual > max_residual_pt:
        try:
            h, residual, _ = register_by_features(page, h0, definition, registration)
        except RegistrationError as error:
            raise RegistrationError(f"only {anchors_found} of {len(anchors)} anchors found, and {error}",
                                    anchors_found=anchors_found) from error
        method = "features"
        log.info("page registered on form features (%d of %d anchors found), residual %.2f pt",
                 anchors_found, len(anchors), residual)
    if residual > max_residual_pt:
        raise RegistrationError(f"residual {residual:.2f} pt exceeds {max_residual_pt} pt",
                                anchors_found=anchors_found, residual_pt=residual)
    out_dpi = float(dpi) if dpi else float(max(100.0, round(page.dpi_estimate / 10.0) * 10.0))
    s = out_dpi / 72.0
    size = (int(round(PAGE_WIDTH_PT * s)), int(round(PAGE_HEIGHT_PT * s)))
    # Output pixel (u, v) sits at template point (u / s, v / s); h maps that to the scan.
    out_to_scan = h @ np.diag([1.0 / s, 1.0 / s, 1.0])
    warped = cv2.warpPerspective(page.image, out_to_scan, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                 borderMode=cv2.BORDER_REPLICATE)
    flat, evenness = flatten_illumination(warped, s, registration)
    quality = float(max(0.0, 1.0 - residual / max_residual_pt))
    return RegisteredPage(flat, out_dpi, residual, anchors_found, h, quality, evenness, method)
