"""Re-align each tick box and comb field locally after the page-wide registration.

One homography cannot follow a sheet that is not flat (a curled photo, a page bent over a book's
spine, a feeder that stretches the paper): a box can sit a point or two away from where the page-wide
fit puts it, which is enough for its outline to enter the interior the OMR measures. Each box and comb
is therefore matched, by normalised cross-correlation (``cv2.matchTemplate``, ``TM_CCOEFF_NORMED``),
against the blank form's own printing around it (:mod:`pipeline.form.template_image`), within
``RegistrationSettings.local_search_pt`` of its registered place; a clear peak (``local_peak_min``) moves the
zone onto what was printed.

The position quality of a zone (0-1) then says how well its place is known: a clear peak leaves only
the match's own uncertainty (``RegistrationSettings.local_fit_error_pt``), no clear peak (a box blackened, a
zone under a stamp) leaves the page-wide residual. It replaces the page's quality in that zone's confidence
(issue 3: "a position quality per zone feeds its confidence").
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline.form.definition import Field, Rect
from pipeline.settings import RegistrationSettings

LOCAL_MARGIN_PT = 3.0
"""Printed surroundings kept around a zone for matching, in pt: the outline and the first letters of its label."""


@dataclass(frozen=True)
class ZoneFit:
    """Where a zone was found relative to its registered place.

    Attributes:
        dx_pt: Horizontal shift to apply to the zone, in pt (positive to the right).
        dy_pt: Vertical shift, in pt (positive downwards).
        peak: Normalised cross-correlation at the best shift (-1 to 1); below
            ``RegistrationSettings.local_peak_min`` the shift is zero and the zone keeps its registered place.
        clear: Whether the match was clear enough to move the zone (its peak reached ``local_peak_min``).
    """

    dx_pt: float
    dy_pt: float
    peak: float
    clear: bool = False

    def quality(self, page_residual_pt: float, registration: RegistrationSettings | None = None) -> float:
        """Position quality 0-1 of the zone: ``1 - error / registration.max_residual_pt``, the error being
        ``registration.local_fit_error_pt`` after a clear match and the page's residual (pt) otherwise."""
        registration = registration or RegistrationSettings()
        error = min(registration.local_fit_error_pt, page_residual_pt) if self.clear else page_residual_pt
        return float(max(0.0, 1.0 - error / registration.max_residual_pt))


NO_FIT = ZoneFit(0.0, 0.0, 0.0)


def fit_zone(image: np.ndarray, template: np.ndarray, rect: Rect, px_per_pt: float,
             registration: RegistrationSettings | None = None) -> ZoneFit:
    """Find the shift that lays the blank form's printing around ``rect`` best on the registered page.

    Args:
        image: Registered page, ``uint8`` grey, template frame at ``px_per_pt`` pixels per point.
        template: The blank page at the same scale and shape (:func:`pipeline.form.template_image.blank_page_image`).
        rect: The zone (pt).
        px_per_pt: Scale of both images (``dpi / 72``).
        registration: ``local_search_pt`` and ``local_peak_min``.

    Returns:
        The shift in pt and its correlation; :data:`NO_FIT` when the window leaves the page or the
        printing there is blank.
    """
    registration = registration or RegistrationSettings()
    s = px_per_pt
    m, r = LOCAL_MARGIN_PT * s, registration.local_search_pt * s
    x0, y0 = int(round(rect.x0 * s - m)), int(round(rect.top * s - m))
    x1, y1 = int(round(rect.x1 * s + m)), int(round(rect.bottom * s + m))
    sr = int(np.ceil(r))
    height, width = image.shape
    if x0 - sr < 0 or y0 - sr < 0 or x1 + sr > width or y1 + sr > height:
        return NO_FIT
    patch = template[y0:y1, x0:x1]
    if patch.size == 0 or float(patch.std()) < 1.0:
        return NO_FIT
    region = image[y0 - sr:y1 + sr, x0 - sr:x1 + sr]
    scores = cv2.matchTemplate(region, patch, cv2.TM_CCOEFF_NORMED)
    _, peak, _, (px, py) = cv2.minMaxLoc(scores)
    if not np.isfinite(peak) or peak < registration.local_peak_min:
        return ZoneFit(0.0, 0.0, float(peak) if np.isfinite(peak) else 0.0)
    return ZoneFit((px - sr) / s, (py - sr) / s, float(peak), clear=True)


def _moved(rect: Rect, fit: ZoneFit) -> Rect:
    return Rect(rect.x0 + fit.dx_pt, rect.top + fit.dy_pt, rect.x1 + fit.dx_pt, rect.bottom + fit.dy_pt)


def realign_field(field: Field, image: np.ndarray, template: np.ndarray, px_per_pt: float,
                  page_residual_pt: float, registration: RegistrationSettings | None = None) -> tuple[Field, float]:
    """The field with each tick box (or its comb as a whole) moved onto its printed place, and its quality.

    Tick boxes are matched one by one (a choice's boxes spread over the page's width); a comb is
    matched as one piece (its cells share one outline). Other fields are returned as they are with
    the page's quality.

    Args:
        field: A field of the form definition (pt).
        image: Registered page (see :func:`fit_zone`).
        template: Blank page at the same scale.
        px_per_pt: Scale of both images.
        page_residual_pt: The page-wide registration residual (pt).
        registration: The local search, peak and fit error, and the largest residual (quality 0).

    Returns:
        A copy of the field with moved boxes or cells, and its position quality (0-1): the lowest of
        its boxes' qualities (:meth:`ZoneFit.quality`).
    """
    registration = registration or RegistrationSettings()
    if field.is_tick:
        fits = [fit_zone(image, template, b.rect, px_per_pt, registration) for b in field.boxes]
        boxes = tuple(dataclasses.replace(b, rect=_moved(b.rect, f)) for b, f in zip(field.boxes, fits, strict=True))
        return dataclasses.replace(field, boxes=boxes), min(f.quality(page_residual_pt, registration) for f in fits)
    if field.is_comb:
        fit = fit_zone(image, template, field.rect, px_per_pt, registration)
        cells = tuple(_moved(c, fit) for c in field.cells)
        return (dataclasses.replace(field, rect=_moved(field.rect, fit), cells=cells),
                fit.quality(page_residual_pt, registration))
    return field, NO_FIT.quality(page_residual_pt, registration)
