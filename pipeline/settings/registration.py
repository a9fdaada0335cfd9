"""Settings of identification and registration: finding the form's page on an image and fitting it to the form's points.

Split from ``pipeline.settings.reading`` (which re-exports both classes) to keep each settings module short.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class IdentificationSettings(BaseModel):
    """Standard transforms retried before a page is declared not the form (``CLAS_REGISTRATION__IDENTIFICATION__*``;
    issue 16): while a page's QR codes do not all decode on the image as received, they are looked for again on the
    image with its contrast stretched, sharpened, then smoothed (``pipeline.reading.identify.decode_our_codes``);
    when none decodes, on the image stretched 2× along either axis (``pipeline.reading.normalise.split_pages``: a
    fax at 200 × 100 dpi saved without its resolution, upright or sideways). Retries run only when needed.
    """

    model_config = ConfigDict(frozen=True)

    contrast_low_quantile: float = 0.01
    """Share (0-1) of the darkest pixels mapped to black when the contrast is stretched: a 16-bit scan using a
    fraction of its range, or a dim photo, decodes once its ink and paper span the grey scale. Not measured:
    a percentile stretch's usual 1 %."""
    contrast_high_quantile: float = 0.99
    """Share (0-1) of the pixels under the level mapped to white (see ``contrast_low_quantile``)."""
    sharpen_sigma_px: float = 2.0
    """Gaussian sigma (pixels of the image as received) of the unsharp mask tried on a blurred page. Measured on
    ``samples.scanner.simulate_photo`` pages (12-megapixel frame, tilt 15°): codes decode as received up to a
    blur of about 2.5 px, after this mask up to 3-3.5 px; sigma 2 and 4 px do as well (``test_identify.py``)."""
    sharpen_amount: float = 2.0
    """Weight of the unsharp mask (``image + amount × (image − blurred)``): 1, 2 and 4 decode the same blurred
    photos at blur 3 px, 2 and 4 more of them at 3.5 px than 1 (same measurement as ``sharpen_sigma_px``)."""
    smooth_sigma_px: float = 1.0
    """Gaussian sigma (pixels) of the blur tried on a page whose codes do not all decode: it joins the modules a
    1-bit fax's flipped or dithered pixels break. Measured (issue 16): ``samples.copies`` faxes of both pages (8) with
    3 % of their pixels flipped decode 0 of their 16 codes as received, 16 with this blur (6 at 6 %); on the
    independent corpus, one fax page decoded its second code only so, and was then registered on its five
    anchors instead of failing."""
    stretches: tuple[float, ...] = (2.0,)
    """Stretch factors tried along the rows, then along the columns, of an image whose codes do not decode: a
    standard-mode fax has half the rows (ITU-T T.4: 3.85 lines/mm against 8 dots/mm), and sent sideways half the
    columns; its QR modules are then 1.3 px on the coarse axis, too few for the decoder."""
    layout_dpi: float = 50.0
    """Resolution (px per inch) at which a page found by its anchors, whose QR codes and footer are unreadable, is
    compared with each blank page of the form (``pipeline.reading.anchors.match_layout``): the printed labels and
    frames are 1-3 mm apart, which 50 dpi (2 px per mm) still separates, and the comparison costs a few ms."""
    layout_match_min: float = 0.5
    """Share (0-1) of the blank page's printed ink that must be found inked on such a page for it to be taken as
    that page of the form and sent to a person, rather than to quarantine. Measured (issue 16) on the project's
    own renderings with their QR codes and footer blotted out (``samples.scanner`` scans at 200 and 300 dpi, grey
    and black and white, turned; ``samples.copies`` faxes): 0.74-0.91 on the right page, 0.22-0.26 on the other
    page of the form, 0.22-0.27 on a blank sheet carrying the five anchors and lines of text. Phone photos were
    not measured: on the one tried, the anchors' fit scored 0.25 on both pages, so such a photo stays quarantined."""


class RegistrationSettings(BaseModel):
    """Finding the form on a scanned image (``CLAS_REGISTRATION__*``): square pixels and one page per image
    (``pipeline.reading.normalise``), identification by the anchors when no QR code reads
    (``pipeline.reading.anchors``), registration on the template (``pipeline.reading.register``), local
    re-alignment of boxes and combs (``pipeline.reading.realign``), and what a zone's position quality costs
    its confidence (``pipeline.reading.scan.zones.with_quality``).
    """

    model_config = ConfigDict(frozen=True)

    identification: IdentificationSettings = IdentificationSettings()
    """The standard transforms retried before a page is declared not the form."""
    aspect_tolerance: float = 0.04
    """Pixel aspect (x resolution over y resolution) within this share of 1 is taken as square. Scanners
    state equal resolutions; our QR codes measure 0.98-1.02 on square scans and photos (skew, blur, JPEG),
    and a fax is 2.0 (ITU-T T.4 standard mode: 8 dots/mm across, 3.85 lines/mm down). Source: 6b7dcad."""
    max_page_overlap: float = 0.2
    """Two page outlines overlapping by more than this share (0-1) of the smaller one are not two sheets side
    by side but one sheet with two different codes: the image is left whole (``identify_page`` then says so).
    Not measured: set by hand in 6b7dcad."""
    dpi_hint_tolerance: float = 0.15
    """A file's stated resolution farther than this share (0-1) from the one measured on the QR codes is
    ignored (``pipeline.reading.scan.page.identify_and_register``): phones write 72 dpi in every photo
    (issue 3), and a photo of a page is 150-250 dpi on the paper. Source: 8843e18 (its regression test)."""
    candidate_min_solidity: float = 0.6
    """Smallest blob area / bounding-box area (0-1) of an anchor candidate (``anchors.anchor_candidates``): a
    solid square turned by 10° fills 0.74 of its box (``anchor_min_fill``), a letter rarely more than 0.5.
    Not measured: set by hand in 555632c, from that geometry."""
    candidate_aspect_min: float = 0.6
    """Smallest blob width / height of an anchor candidate: a square seen in a 20° perspective stays well
    inside 0.6-1.6. Not measured: set by hand in 555632c."""
    candidate_aspect_max: float = 1.6
    """Largest blob width / height of an anchor candidate (see ``candidate_aspect_min``)."""
    candidate_min_side_px: int = 8
    """Smallest blob side (pixels of the image as received) of an anchor candidate: a 14-pt anchor is 19 px
    even at 100 dpi. Not measured: set by hand in 555632c."""
    candidate_page_side_divisor: int = 8
    """A candidate's longer side must not exceed the image's shorter side divided by this: an anchor (14 pt)
    is a fortieth of an A4 page's width, so bigger blobs are a desk's edge or a shadow. Not measured: set by
    hand in 555632c."""
    fifth_anchor_tolerance_pt: float = 8.0
    """Largest distance (PDF points) between the fifth (off-centre) anchor's predicted place and a candidate,
    which tells the page's orientation (``anchors.fit_anchor_layout``). Not measured: set by hand in
    555632c."""
    anchor_side_share_min: float = 0.7
    """The four corner anchor candidates' sides must be within this share (0-1) of each other: anchors are
    equal, and a photo's perspective makes the far ones up to a fifth smaller. Not measured: set by hand in
    555632c."""
    anchor_search_pt: float = 18.0
    """Half-side (PDF points) of the square searched around each predicted anchor centre
    (``register.locate_anchors``). QR corners from zxing are within a pixel or two, so the prediction is off
    by well under 5 pt even at 3° skew; 18 pt leaves room for a sheet slightly stretched by the feeder without
    reaching any printed text (nearest is 22 pt). Source: 2320661, from the form's geometry."""
    anchor_area_min_share: float = 0.55
    """Smallest blob area accepted as an anchor, as a share of the anchor's area projected through the QR
    homography: blur, threshold and toner spread change it. Not measured: set by hand in 2320661."""
    anchor_area_max_share: float = 1.6
    """Largest blob area accepted as an anchor, as a share of its projected area (see
    ``anchor_area_min_share``). Not measured: set by hand in 2320661."""
    anchor_min_fill: float = 0.80
    """Smallest blob area / bounding-box area, as a share of what a solid square turned by the page's skew
    fills (``1 / (|cos| + |sin|)²``: 0.90 at 3°, 0.74 at 10°; issue 3 asks for skew up to 10°). Source:
    f3f1d32, from that geometry."""
    anchor_aspect_min: float = 0.7
    """Smallest blob width / height, over the projected anchor's, accepted as an anchor. Not measured: set by
    hand in f3f1d32."""
    anchor_aspect_max: float = 1.4
    """Largest blob width / height, over the projected anchor's, accepted as an anchor. Not measured: set by
    hand in f3f1d32."""
    anchor_min_contrast: int = 60
    """Grey levels (0-255) between the darkest and lightest pixel of a search window below which it holds no
    anchor (paper alone) and the page's own ink threshold is used: printed black is about 35 and paper 240 on
    scans, 60 and 200 in a dim photo. Source: f3f1d32."""
    min_anchors: int = 3
    """Fewer anchors found than this (of five) and the anchor fit is not trusted: the page is probably cropped
    or folded, and registration falls back on the form's features. Not measured: set by hand in 2320661."""
    even_paper_min: float = 0.90
    """Darkest/lightest paper level (0-1) above which a page is left as it is, below which its light is
    flattened and it is read as a photo. Simulated flatbed scans measure 0.96-1.0 (noise only); phone photos
    0.45-0.85 (gradient, vignette, shadow). Source: 72e1e76."""
    feature_ratio: float = 0.8
    """Lowe's ratio test on ORB matches with the blank form (``register.register_by_features``): a match is
    kept when clearly better than the second best. Source: Lowe 2004 (0.8), taken in e33e166."""
    feature_ransac_px: float = 3.0
    """RANSAC inlier distance in pixels at ``register.FEATURE_DPI`` (100 dpi, so 2.2 pt): a label is 9 pt tall.
    Not measured: set by hand in e33e166."""
    feature_min_inliers: int = 40
    """Fewer RANSAC inliers than this and the feature homography is refused: a wrong fit on a few repeated
    labels ("Nom", "Prénom") agrees with 10-20 points, a right one with several hundred (measured on photos,
    e33e166)."""
    feature_qr_agreement_pt: float = 40.0
    """Largest distance (PDF points) between where the QR codes and the feature homography put the page's
    corners: the QR codes are measured, so a feature fit that disagrees with them is wrong, whatever its
    inliers. Not measured: set by hand in e33e166."""
    max_residual_pt: float = 2.5
    """Largest RMS position error (PDF points) accepted; a page's position quality is 0 there. Zones are 17 pt
    tall and tick boxes 10 pt with a 1.8 pt inset; beyond 2.5 pt box interiors start to include their outline.
    Measured residuals on simulated scans are 0.05-0.3 pt (``tests/pipeline/reading/test_register.py``).
    Source: 2320661."""
    local_search_pt: float = 2.5
    """Largest local shift (PDF points) searched when a box or comb is re-aligned (``realign.fit_zone``): no
    zone of an accepted page is expected further than ``max_residual_pt``; neighbouring boxes and comb cells
    are 17 pt apart or more, so no other box's outline can be mistaken for this one's. Source: e698210, from
    the form's geometry."""
    local_peak_min: float = 0.55
    """Correlation (normalised, -1 to 1) a peak must reach to move a zone. Measured on this form: empty and
    ticked boxes 0.75-0.95 on scans and photos; a blackened box 0.2-0.5 (its interior is the whole signal).
    Source: e698210."""
    local_fit_error_pt: float = 0.25
    """Position error (PDF points) left after a clear local match: a pixel at 100 dpi, the coarsest
    resolution read. Source: e698210."""
    quality_floor: float = 0.7
    """Share (0-1) of a reader's confidence a zone keeps at position quality 0
    (``pipeline.reading.scan.zones.with_quality``: ``confidence * (quality_floor + quality_weight * quality)``):
    the worst accepted registration costs 30 %. Not measured: set by hand in 8e4fa0e."""
    quality_weight: float = 0.3
    """Share of a reader's confidence that depends on position quality, see ``quality_floor``. Not measured:
    set by hand in 8e4fa0e."""
