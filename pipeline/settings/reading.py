"""Settings of the reading stage: OMR, ICR, OCR, scan rasterising, the text layer, registration.

Every threshold a reader decides on, with its unit and the measurement or source of its value.
Sections of :class:`pipeline.settings.Settings` (``CLAS_OMR__*``, ``CLAS_OCR__*``, ``CLAS_SCAN__*``,
``CLAS_TEXT_LAYER__*``, ``CLAS_REGISTRATION__*``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

# Identification and registration live in their own module; re-exported here for the readers that import them.
from pipeline.settings.registration import IdentificationSettings, RegistrationSettings  # noqa: F401

_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
"""``pipeline/config``: the lexicons shipped with the code."""


class OmrSettings(BaseModel):
    """Tick-box decision bands on the fill ratio (dark share of the box interior).

    The interior is the box inset by ``inset_pt`` so that the printed outline and a
    small registration error do not count as ink. Bands: at or below ``empty_max`` empty,
    up to ``ticked_min`` unsure (review), up to ``cancelled_min`` ticked, above it the box
    is filled (a correction: the printed rule says a blackened box is cancelled).

    Calibrated on this form's own renderings scanned by ``samples.scanner`` (300 dpi grey
    JPEG and 200 dpi black and white, skew up to 3°; ``tests/pipeline/reading/scan/test_omr_calibration.py``,
    and 1,500 boxes over 8 random forms in four scan modes while developing):

    * empty boxes: fill 0.000 (max 0.000), so ``empty_max`` = 0.04 leaves room for dust;
    * typed "X" (Helvetica-Bold 10 pt): 0.45-0.55; ``ticked_min`` = 0.10 still accepts a thin
      hand-drawn cross (TeleForm uses 25 %/40 % and queXF 15-40 % on larger boxes);
    * blackened boxes: 0.91-1.00; ``cancelled_min`` = 0.70 sits between the heaviest tick (0.55)
      and the lightest fill (0.91), nearer ticks because hand fills are less complete than ours;
    * signatures (ink share of the zone inset by ``signature_inset_pt``): blank 0.000, drawn
      scribble 0.011-0.026; ``signature_ink_min`` = 0.004 is a third of the faintest.
    """

    model_config = ConfigDict(frozen=True)

    inset_pt: float = 1.8
    empty_max: float = 0.04
    ticked_min: float = 0.10
    cancelled_min: float = 0.70
    cancelled_darkness_min: float = 0.68
    """Mean darkness (0 paper, 1 ink) a box in the cancelled fill band must reach to be cancelled; below it
    the fill was inflated by blur and the box is a tick. Measured (issue 3) on 300 dpi grey, 200 dpi black
    and white and phone photos at 180-250 dpi: typed crosses 0.45-0.55, blackened boxes 0.81-1.00."""
    cancelled_darkness_unsure: float = 0.60
    """Between this and ``cancelled_darkness_min`` a box in the cancelled fill band is unsure (review)."""
    blurred_tick_fill_max: float = 0.90
    """Highest fill a blurred cross reaches (0.6-0.7 measured, issue 3): a box inked over more than this
    share yet not dark enough to be cancelled is neither a clear tick nor a clear correction, so a person
    decides (a HEIC photo's shadowed, fully inked "Autre" box was read as ticked at 0.98 confidence)."""
    core_cut: float = 0.25
    """Share of a box interior's height and width left out on each side to measure its centre (``omr.core_share``):
    the centre is the middle half, 3.2 pt of the 6.4 pt interior, where every tick crosses."""
    core_empty_max: float = 0.04
    """Highest ink share (0-1) of a box interior's centre at which its ink is at the rim only, not a tick
    (``omr.tick_state``). Measured at 10be5cb on the independent devset: the 525 ticked boxes (typed glyphs,
    crosses, check marks, crosses running out of the box) ink 0.067-1.0 of the centre (5th percentile 0.23), while
    the 54 empty boxes filled over ``empty_max`` by faxes, photocopies, 1-bit scans and phone shadows ink 0.000 of
    it but 9 (0.020-0.033 on a fax and a photocopy; 0.09-0.33 on two phone photos, whose shadows reach the centre).
    The project's own scans and photos (seed 2026, 2 forms per image kind): the 334 ticked boxes ink 0.18-1.0 of
    the centre, and no empty box fills over ``empty_max``."""
    frame_ring_min: float = 0.15
    """Ink share (0-1) a one-pixel ring at a box interior's edge must reach, as the ``frame_quantile`` over the
    page's boxes, to be taken as the blank form's own ink (``omr.blank_frame_px``). Not fitted on a labelled
    set: set by hand between the print copies' empty rings (0.00) and the printed fillable form's (0.26-1.00 on
    the independent corpus's typed scans)."""
    frame_quantile: float = 0.25
    """Quantile over a page's boxes of each edge ring's ink share taken as the blank box's look: a quarter of
    the boxes are empty on every page (page 2 has ten, a form ticks at most half of them)."""
    frame_max_pt: float = 1.5
    """Widest frame left out of a box interior, in PDF points: leaves a core of at least 3.4 pt of the
    6.4 pt interior, where every tick crosses."""
    foreign_template_tolerance_pt: float = 2.0
    """Growth of the blank form's printed ink before it is compared with a page (``pipeline.reading.scan.foreign_ink``):
    registration residuals are 0.05-1 pt on scans and photos (``pipeline.reading.register``) plus toner spread."""
    foreign_zone_margin_pt: float = 4.0
    """How far a value's ink may stray out of its zone or box and still be a value: a hand-drawn
    overflowing cross reaches 0.35 of a 10-pt box (3.5 pt) past its edge (``samples.scanner.draw_hand_mark``)."""
    foreign_group_pt: float = 2.0
    """Strokes closer than this (pt) are one mark: a stamp's letters and rings, a signature's loops."""
    foreign_merge_pt: float = 10.0
    """Foreign marks closer than this (pt) are parts of one mark, covered by one convex hull: the arcs a
    stamp's unevenly inked ring breaks into are a few points apart; zones are 17 pt tall."""
    foreign_hull_max_pt: float = 200.0
    """Longest side (pt) of a foreign mark covered by its convex hull: a school stamp is at most 60 mm
    (170 pt), a signature about 120 pt; anything longer is a streak or a line and covers only its ink."""
    streak_min_pt: float = 80.0
    """Shortest vertical run of ink taken for a copier's streak (``pipeline.reading.scan.foreign_ink.streaks``): the
    form's tallest printed vertical line is a signature box's side (60 pt) and no handwritten or typed
    stroke is 28 mm tall; a drum scratch runs the page's length."""
    streak_min_horizontal_pt: float = 150.0
    """Same, horizontally, without bridging gaps: longer, because a typed line's letters touch once reduced
    (a word is up to about 60 pt wide) and a handwritten line may run unbroken."""
    streak_gap_pt: float = 6.0
    """Gaps bridged along a streak before it is measured: a faint streak thresholded to black and white
    breaks into dashes a few points apart."""
    streak_max_width_pt: float = 3.0
    """Widest streak: a drum scratch or a dirty fax sensor draws lines 0.3-1 pt wide; a wider dark band is
    a shadow's edge in a photo, which flattening (``pipeline.reading.register.flatten_illumination``) leaves faint."""
    streak_clearance_pt: float = 4.0
    """A vertical streak is dropped out of a text zone only where no writing lies within this of it
    (``pipeline.reading.scan.foreign_ink.streak_clear_of_writing``): wider than a word space at 10 pt (2.8 pt)."""
    streak_run_on_pt: float = 100.0
    """Gaps a found streak is run on through, along its own axis, when tick boxes are cleared of it
    (``pipeline.reading.scan.foreign_ink.streak_band``): a faint streak is found in pieces, and a copier's streak runs
    the length of the page. On a photocopy of seed 2026 (form 23), the piece inside an empty box was not
    found, and without it 0.046 of the box stayed inked, in the unsure band."""
    comb_streak_clearance_pt: float = 1.0
    """A streak is dropped out of a comb only where no digit lies within this of it inside the cells it
    crosses: a cell's interior is 10 pt wide and its digit 5-7 pt, so a text zone's clearance would never
    be met; a digit hidden under the streak leaves its cell empty and the comb incomplete."""
    streak_faint_share: float = 0.2
    """A pixel darker than paper by this share of the paper-to-ink range counts towards a streak: a copier's
    streak is often lighter than toner and only partly under the ink threshold along its length."""
    streak_paper_ink_min: float = 0.02
    """Share (0-1) of a line's pixels on blank paper that must be ink for the line to be a streak the readers see
    (``pipeline.reading.scan.foreign_ink._unseen_lines``); a fainter line reaches no field. Set by hand between the
    devset photocopies' faint streaks (0.000-0.009 of their paper pixels inked) and those with toner dashes
    (0.088-0.35); effect: fields held as foreign ink, devset typed 16 → 11, own scans 42 → 38, none wrong."""
    streak_unseen_min_pt: float = 2.0
    """Length (PDF points) of a streak's footprint over a text zone's rows free of writing needed to tell whether
    the streak leaves ink of its own in that zone (``pipeline.reading.scan.streaks.streak_unseen_in_zones``). The
    footprint, found at 100 dpi, is a few points wide: over 2 pt of length it holds about 150 pixels at 300 dpi, of
    which a streak the readers see inks about 6 % (devset photocopy at 69e3c6b, a streak through a given name)
    and ``streak_paper_ink_min`` is 2 %. Set by hand from those counts."""
    streak_dash_min_pt2: float = 0.5
    """Smallest ink (pt²) lying wholly inside a streak's footprint in a text zone that counts as a dash of the
    streak a reader may take for a mark (``streaks.streak_unseen_in_zones``): under a full stop of the form's 10 pt
    type (about 1.4 pt²); the few-pixel bits a faint streak leaves on a letter's edge are not read. Set by hand."""
    streak_letter_margin_pt: float = 1.0
    """Rows (PDF points) either side of a text zone's writing that still count as the writing's when a streak's
    own ink is looked for in the zone's blank rows (``streaks.streak_unseen_in_zones``): a letter's anti-aliased
    top and bottom. Not measured: set by hand."""
    foreign_ink_min_pt2: float = 6.0
    """Ink (pt², specks removed) a mark must have outside every zone, box and printed line to be foreign
    (a stamp, a stray signature, a toner streak). Measured (issue 3): clean scans, photos and hand-marked
    pages leave under 2 pt² per mark there; a round stamp's ring alone is several hundred, a streak 30+.
    The ink is the area the page's own pixels cover (``foreign_ink.foreign_marks``' ``coverage``), not the
    count of 100-dpi pixels it touches, which made two 1-pt² toner specks 4 pixels a side weigh 11 pt²
    (issue 16, at 99ba2be: devset fields held as foreign ink 148 → 120, 11 → 8 typed, none of those released
    wrong and one more form routed; the project's stamped, photocopied, hand-marked and grey scans, seed 11, 6 of
    each, 73 → 72, the one released still held as misread)."""
    foreign_dust_max_pt: float = 2.2
    """Largest side (PDF points, at ``foreign_ink.WORK_DPI``) of an isolated piece of foreign ink taken for a toner
    speck, which makes no mark (``pipeline.reading.scan.foreign_ink.drop_dust``): a 1.7-pt² speck (the largest of
    ``speck_max_pt2``'s photocopies) covers up to 3 pixels a side at 100 dpi, 2.16 pt."""
    foreign_ink_confidence: float = 0.30
    """Confidence of a field that foreign ink reaches: below every review threshold, so a person sees its crop."""
    stamp_fields: tuple[str, ...] = ("referrer_signature",)
    """Fields where a stamp is expected ink, not foreign: the form asks for "Signature ou cachet de l'école"."""
    foreign_stroke_max_pt: float = 4.0
    """Thickest stroke of a foreign mark: stamp and pen strokes are 0.5-1.5 pt, a streak under 1 pt."""
    foreign_blot_min_pt2: float = 150.0
    """Solid ink (thicker than ``foreign_stroke_max_pt``) over this area makes a blot, not a foreign mark:
    a photo's shadow edge left by flattening is a band 10-20 pt wide and hundreds of points long
    (measured on a HEIC photo, issue 3); a blackened 10-pt tick box is 100 pt²."""
    speck_max_pt2: float = 2.0
    """Largest blot taken for a toner speck when isolated (``pipeline.reading.scan.foreign_ink.drop_isolated_specks``):
    photocopy specks measure 0.3-1.7 pt² at 200-300 dpi; a typed period 0.8-1.3 pt², always beside letters."""
    speck_isolation_pt: float = 6.0
    """A speck farther than this from any larger ink is dropped before text is read: a word space is about
    3 pt, the dot of an ``i`` or an accent sits 1-2 pt from its letter (10-pt values)."""
    signature_ink_min: float = 0.004
    """Dark share of a signature zone above which a signature is present."""
    signature_inset_pt: float = 3.0
    """Inset of the signature box before measuring ink, so its printed frame never counts."""
    unsure_confidence: float = 0.35
    """Confidence of a tick field with a box in the unsure band: below every review threshold."""
    rule_violation_confidence: float = 0.40
    """Confidence of a tick field whose ticks break its ``ChoiceRule`` (e.g. two levels ticked)."""
    box_edge_confidence: float = 0.5
    """Confidence (0-1) of a tick field whose weakest box lies right on a band edge (``omr.box_margin`` 0): a
    coin toss. The field's confidence is ``box_edge_confidence + box_margin_weight * margin``, 1.0 for a box
    clear of every edge (margin 1), before the position quality. Not measured: set by hand in 8e4fa0e."""
    box_margin_weight: float = 0.5
    """Confidence a tick field gains per unit of its weakest box's margin (0-1), see ``box_edge_confidence``.
    Not measured: set by hand in 8e4fa0e."""
    signature_edge_confidence: float = 0.5
    """Confidence (0-1) of a signature zone whose ink share is exactly ``signature_ink_min``: a coin toss; it
    grows by ``signature_margin_weight`` times ``(ratio - 1) / signature_ratio_span``, the ratio being the
    share over ``signature_ink_min`` (or its inverse when under it). Not measured: set by hand in 8e4fa0e."""
    signature_margin_weight: float = 0.5
    """See ``signature_edge_confidence``. Not measured: set by hand in 8e4fa0e."""
    signature_ratio_span: float = 2.0
    """Ratio span (dimensionless) over which a signature's confidence rises from ``signature_edge_confidence``
    to its ceiling: 2 puts the ceiling at three times ``signature_ink_min`` (or a third of it). Not measured:
    set by hand in 8e4fa0e."""
    signature_confidence_max: float = 0.98
    """Highest confidence (0-1) of a signature read from a scan, before the position quality: ink alone never
    proves a signature (a smudge, a stray stroke). Not measured: set by hand in 8e4fa0e."""
    template_ink_grey_max: int = 200
    """Grey level (0-255) under which a pixel of the blank form, rendered at ``foreign_ink.WORK_DPI`` (100 dpi),
    is printed ink before being grown by ``foreign_template_tolerance_pt``
    (``pipeline.reading.scan.foreign_ink.template_ink``): the rendering's paper is 255 and its print 0, and a
    light threshold keeps the anti-aliased edges of thin rules. Not measured: set by hand in 6b7dcad."""
    streak_piece_pt: float = 8.0
    """Shortest piece (PDF points) of a found streak that tells its axis (``foreign_ink.streak_band``): longer
    than a streak is wide (``streak_max_width_pt``, 3 pt). Not measured: set by hand in 423235d."""
    streak_run_pt: float = 14.0
    """Shortest straight run of ink (PDF points) taken for a streak's own at the page's scale
    (``foreign_ink.streak_band``): longer than a tick box (10 pt), so that nothing drawn inside a box counts,
    only a line that goes on past its edges. Not measured: set by hand in 423235d, from the box's size."""
    streak_thick_share_max: float = 0.5
    """Share (0-1) of a line's length over which it may be thicker than ``streak_max_width_pt`` and still be a
    streak (``foreign_ink.streaks``): a streak is thick only where it crosses printed words and boxes; thicker
    along more of its length it is a band (a photo's shadow edge). Not measured: set by hand in 5488155."""
    streak_hull_px: int = 11
    """Width in pixels at ``foreign_ink.WORK_DPI`` (100 dpi, so 7.9 pt) round a straight line within which a
    mark's hull is the line itself (``foreign_ink.foreign_marks``): marks are grouped ``foreign_group_pt``
    (2 pt) round their ink, and a streak skewed by a copy drifts a few pixels more. Not measured: set by hand
    in edf0a18."""
    streak_widen_px: int = 5
    """Width in pixels at ``foreign_ink.WORK_DPI`` (100 dpi) of the line ink is widened by across its axis before
    a streak is looked for (``foreign_ink.streaks``: two pixels each side, as a streak on a copy skewed by 2°
    drifts 4 px over ``streak_min_pt``); a found line is thick where it is wider than the widest streak
    (``streak_max_width_pt``) plus this. Not measured: set by hand in 6b7dcad."""
    streak_exclusion_px: int = 7
    """Side in pixels at ``foreign_ink.WORK_DPI`` (100 dpi; 3 px each side, about 2 pt) of the square round a
    streak's ink that is taken out of the other foreign ink (``foreign_ink.foreign_marks``), so that a streak
    never joins the values it crosses into one mark. Not measured: set by hand in 6b7dcad."""
    foreign_mark_margin_pt: float = 3.0
    """Space (PDF points) round the anchors and QR codes left out of the foreign-ink search
    (``foreign_ink.value_areas``): their print spreads, and their codes differ per copy. Not measured: set by
    hand in 6b7dcad."""
    foreign_page_edge_pt: float = 14.0
    """Band (PDF points) along the page's edges left out of the foreign-ink search: nothing is printed there
    (anchors start 18 pt in) and a registered page's border repeats the scan's edge pixels
    (``BORDER_REPLICATE``), dark on some scans. Not measured: set by hand in 6b7dcad."""
    streak_width_slack_pt: float = 1.0
    """How much wider (PDF points) than ``streak_max_width_pt`` a piece of streak in a zone may be and still be
    dropped out of it (``foreign_ink.streak_clear_of_writing``): its anti-aliased rim at the page's scale. Not
    measured: set by hand in edf0a18."""


class IcrSettings(BaseModel):
    """Handwriting rules of the scan reader: the comb-cell digit model (``pipeline.reading.scan``) and how sure a
    handwritten text zone must be (``pipeline.reading.scan``). Measured on ``samples.handwriting`` (issue 3).
    """

    model_config = ConfigDict(frozen=True)

    cell_margin_pt: float = 4.0
    """A comb cell is cut out with this margin each side, so a digit written across its edge stays whole."""
    outline_run_share: float = 0.6
    """A straight ink run at least this share of a cell's side, near a printed edge, is the outline."""
    outline_tolerance_pt: float = 1.5
    """How far from its printed place an outline may lie after registration (residuals measure under 1 pt)."""
    speck_max_pt2: float = 0.3
    """Ink blobs up to this area are dust, not writing (a 2×2-px speck at 200 dpi is 0.52 pt²: kept)."""
    fragment_share: float = 0.15
    """Within a cell, a blob under this share of the largest one is a neighbour's overflow and is dropped."""
    separator_ink_share: float = 0.5
    """A comb blob with at least this share of its ink in the printed gap between two cells is the date's "/"
    (blurred onto the next cell's edge by a phone photo, it made tesseract read a right date at confidence 0:
    photo_jpeg 2 of seed 2026, issue 3); a digit written across an edge keeps most of its ink in its cell."""
    comb_ink_growth: float = 0.5
    """A comb's ink is grown this share of the way from the ink threshold to the paper's grey
    (``pipeline.reading.scan.pixels.grow_ink``). Measured on 624 comb cells of 12 photographed handwritten forms
    (issue 3, seed 2026): the digit model read 68 % right on Otsu's mask, 85 % at 0.3, 87 % at 0.5, 82 % at
    0.65. Photographed pages only (their light was flattened): on 634 cells of 12 scanned forms, 0.5 lowered
    the share from 94 % to 91 %."""
    comb_strip_growth: float = 0.5
    """On a scanned page, the strip of comb digits the text readers read (tesseract, PP-OCRv6) shows each digit's
    pixels this share of the way from the ink threshold to the paper's grey when they touch its ink
    (``pipeline.reading.scan.combs.read_comb_fields``); the digit model keeps Otsu's mask, which read 94 % of 634
    scanned cells right against 91 % grown (see ``comb_ink_growth``). A photographed page's comb ink is grown
    already (``comb_ink_growth``): grown again, a typed phone photo's postcode strip read ``935100`` (devset).
    Same share as ``comb_ink_growth``. Measured when it was set: devset, handwritten fields exact 733 → 736 of 989
    and 5 fewer for a person, typed unchanged, none wrong accepted; own kinds (2 forms each), fields exact 1,932 →
    1,936 of 2,022 (version 2: 59 → 63, fields to check 18 → 15 on its form 0; handwritten scans 66 → 65), values
    wrong at or above the review threshold 1 → 0."""
    stroke_px: float = 5.0
    """Pen width every digit is brought to in the 32×32 bitmap before the 8×8 counts (``pipeline.reading.scan``).
    Of 0, 5 and 7 px, 5 read most handwritten comb cells right (issue 3, 1,174 cells)."""
    score_temperature: float = 0.25
    """Softmax temperature turning the digit SVM's one-versus-rest scores (about 0-9) into probabilities."""
    agree_probability_min: float = 0.5
    """The model must give tesseract's digit at least this probability for a comb cell to be accepted."""
    tesseract_confidence_min: float = 0.5
    """And tesseract's confidence must reach this."""
    typed_digit_confidence_min: float = 0.80
    """On a typed comb (digits on one baseline, page typed), tesseract's digits are accepted without the
    model when its confidence reaches this: typed combs read 34/34 right on 200 dpi black-and-white scans
    (issue 3), where the model, trained for handwriting, misread blurred typed photo digits at 0.98."""
    disagree_confidence: float = 0.20
    """Confidence of a comb whose cell the two readers do not agree on: below every review threshold."""
    edge_touch_share_max: float = 0.5
    """A handwritten comb goes to a person when one of its digits touches an erased vertical cell edge over at least
    this share of its height (``pipeline.reading.scan.comb_cells.edge_touch_share``), unless PP-OCRv6 reads the comb
    as before, and as its value, with the outline along that digit given back (figures in
    ``pipeline.reading.scan.combs.comb_field``).
    On the project's hands (seed 77, and seeds 4242, 4343, 4444 in four held-out fonts) the four wrong values
    accepted at page level touched at 0.61 to 0.89: 0.5 leaves a margin under the least of them. No comb of the
    devset's hands reaches 0.3."""
    letter_height_share: float = 0.4
    """Blobs of a text zone at least this share of the tallest one count as letters (dots and commas do not)."""
    letter_min_height_pt: float = 2.0
    """Blobs shorter than this (PDF points) are never letters, whatever the tallest blob of the zone: a blank zone
    of a photocopy holds only toner specks (0.5-1.5 pt across; ``OmrSettings.speck_max_pt2``), whose scattered
    bottoms made it look handwritten (« écrit à la main » on an empty zone). A 10-pt value's x-height is 5.2 pt.
    Measured when it was set, on every text zone read of the devset (691) and of 16 of the project's handwritten
    scans, photos, version-2 forms, copies, faxes and stamped scans (259): the only zones whose tallest blob is
    under 5 pt are empty zones of photocopies (1.4-2.4 pt, specks), and the bound changed the measure of one zone
    in each corpus, an empty one (judged handwritten, now unmeasured). Devset: one field fewer for a person."""
    baseline_tolerance_pt: float = 0.6
    """A letter whose bottom is within this of the zone's common bottom stands on the baseline."""
    typed_zone_agreement_min: float = 0.75
    """A text zone whose letters stand on one baseline less often than this is handwritten. Measured
    (issue 3) on 100 typed zones (300 dpi grey, 200 dpi black and white, phone photos): 0.75-1.00, median
    0.96-1.00; on 91 handwritten zones of ``samples.handwriting``: 0.22-1.00, median 0.62-0.67."""
    typed_page_agreement_min: float = 0.85
    """A page whose text zones' and combs' median agreement is under this was filled by hand. Measured
    (issue 3) on 12 typed pages (300 dpi grey, 200 dpi black and white, phone photos): 0.99-1.00; on 14
    handwritten pages (five hands, scans and photos): 0.37-0.77."""
    typed_rendering_tolerance_pt: float = 0.4
    """Ink of a zone and of its typed rendering within this distance of each other count as met
    (:func:`pipeline.reading.scan.hand.typed_rendering_match`); about the blur of a phone photo's registered page."""
    typed_rendering_match_min: float = 0.85
    """A zone whose ink its own reading, typed in the form's font, matches at least this well (f-measure)
    is typed, whatever its baseline agreement. Measured (issue 3, seed 2026) at 0.4 pt: the 7 typed JPEG photo
    zones under ``typed_zone_agreement_min``, as read, 0.90-0.95; 100 typed photo zones given their true value
    0.89-1.00; 262 handwritten zones (scans and photos) given their true value, their best case, at most 0.81."""
    typed_rendering_size_tolerance_pt: float = 1.5
    """And the zone's ink must be as wide and as tall as the rendering's to within this (PDF points):
    those 7 typed zones were within 0.8 pt."""
    handwritten_text_confidence: float = 0.35
    """Highest confidence of a handwritten text zone. Tesseract reads handwriting fonts wrong at 0.6-0.94
    word confidence (``RENARD`` for ``BENARD`` at 0.94, issue 3): no confidence of its own makes a handwritten
    name safe, so a person reads it from its crop."""
    hand_second_reading_shown: bool = True
    """Whether a handwritten text or e-mail zone held for a person, whose two readers differ and whose value no
    witness chose or repaired, is shown with PP-OCRv6's reading rather than tesseract's (``page.text_fields_read``,
    rule ``hand_second_reading_shown``). Tesseract has no model for hands (character error 30 % on hand fonts
    against PP-OCRv6's 8 %, issue 18). Measured against 99b13ad plus ``ConstrainedSettings.digits_shown``, every
    field through ``bench.corpus``'s reading, on the handwritten text and e-mail zones held for a person: the
    characters a person must correct fell on the devset (23 forms) from 1,576 to 635 (shown exact 68 → 87), on
    the project's handwritten scans, photos and version-2 forms of seed 67 from 775 to 436 (39 → 58), seed 53
    667 → 237 (38 → 71), seed 31 757 → 434 (35 → 51). The zones stay held; a school name now read right was
    vouched by the directory (``crosscheck.vouch_school``: devset 2, seeds 67 and 31 one each, all right), two
    surnames no longer conflict with the e-mail that spells them (seed 53, right) and one does (devset, held); no
    value wrong accepted, the same outcomes. Seed 67's 39 typed forms: 6 held zones of a halftone fax and stamps
    judged handwritten show PP-OCRv6's reading, 2 of them now right."""
    agreement_letters_min: int = 3
    """Fewest blobs, and then fewest letters, a zone or comb must hold for its baseline agreement to be measured
    (``pipeline.reading.scan.hand.baseline_agreement``; with fewer it is unmeasured, too few to tell a hand
    from type). Not measured: set by hand in 8df286b."""
    rendering_ink_grey_max: int = 128
    """Grey level (0-255) under which a pixel of a zone's reading typed again in the value font and rasterised
    (``pipeline.reading.scan.hand.typed_rendering_match``) is ink: the middle of its anti-aliased edge, black
    print on white paper. Not measured: set by hand in 2f85496."""


class LetterCombSettings(BaseModel):
    """Capital-letter combs of form version 2 (``pipeline.reading.scan.letter_combs``, issue 18)."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    """Accept a letter comb both readers read alike with the ink's letter count (off: every one to a person)."""
    readers_agree_confidence: float = 0.9
    """Confidence (0-1, times the registration quality) of a letter comb whose two readers read the same letters,
    as many as its inked cells: above ``OcrSettings.text_confidence_min``, under ``readers_agree_confidence`` of
    typed text. Set at the commit that added form version 2; the accepted values' errors are measured by
    ``clas-referrals bench --kinds scan_handwritten_v2`` and re-fitted by ``clas-referrals calibrate``."""
    accent_room_pt: float = 3.5
    """How far over a letter comb's cells its writing area rises (pt): the accent of a capital written in a 17-pt cell
    crosses its top line (the hand-drawn accents of ``samples.handwriting`` rise 1-3 pt over it); the row above
    is 7 pt higher. Not fitted: set by hand when ``BÈGUE`` and ``RÉMY`` were read without their accents."""
    min_letter_probability: float = 0.97
    """Least probability (0-1) PP-OCRv6 may give a letter of a comb both readers read alike
    (:func:`pipeline.reading.scan.letter_combs.least_sure_letter`) for the comb to be accepted. Two readers can
    misread the same capital alike (``SOUBERT`` for *JOUBERT*, breip hand). Measured on the project's version-2
    handwritten scans, seed 2026, letter combs both readers read alike with the ink's letter count (before the
    e-mail, accent and list checks): forms 0-15, 66 combs, wrong ones at 0.43-0.92 and one at 0.98 (``REMY``, now
    held by the list check): 0.9 accepts 53 (3 wrong), 0.95 51 (2), 0.97 48 (1, that one); forms 16-31 (not used
    to choose), 32 combs: 0.97 accepts 24, none wrong. 0.97 keeps a margin over the highest wrong one left (0.95)."""
    count_differs_confidence: float = 0.3
    """Highest confidence (0-1) of a letter comb none of whose readings has as many letters as inked cells: a letter
    was missed or invented, whatever the reader's score. Under the handwriting ceiling (0.35)."""


class ConstrainedSettings(BaseModel):
    """Constrained decoding of handwritten zones (``pipeline.reading.scan.constrained``, issue 18).

    A field with a list of allowed values (a given name, a town, a school, a class line, home languages, a
    postcode) is decoded by scoring each allowed value against PP-OCRv6's per-frame probabilities (CTC), and a
    comb by decoding digits only. A value is accepted, lifting the handwriting hold, only when it is read, not
    forced: probable (``min_char_probability``), clearly ahead of the next allowed value (``min_margin``), and
    within ``max_edits`` of what the recogniser read unconstrained. Figures at the commit that set them, on the
    devset (``bench --corpus ../shared/devset``, 23 handwritten forms) and the project's own handwritten kinds
    (``bench --kinds scan_handwritten photo_handwritten --per-kind 4``, seed 2026): see
    ``pipeline.reading.scan.constrained``'s table. Fonts are not pens: ``clas-referrals calibrate`` re-fits the
    acceptance per field kind from the fields staff verify (``pipeline.reading.calibration``).
    """

    model_config = ConfigDict(frozen=True)

    enabled: bool = True
    """Whether handwritten zones are decoded against their field's allowed values at all."""
    min_char_probability: float = 0.60
    """Lowest geometric mean, per character, of the CTC likelihood of the best allowed value (0-1;
    ``exp(log-likelihood / characters)``). Measured at the commit that set it on every handwritten zone with a
    decoder (devset: 163 zones of 23 forms, 148 whose best value is right; own hand kinds, 8 forms of seed 2026:
    60 zones, 51): the wrong best values scored 0.00-0.53 (``Jude`` for *Jade* 0.53, ``Francis`` for *François*
    0.38, ``Alexandre`` for *Alexandrie* 0.18), right ones 0.00-1.00. With the margin and edit rules below, every
    threshold from 0.5 to 0.8 accepted no wrong value on either corpus; 0.60 keeps a step above the likeliest
    wrong one (accepted at 0.60: devset 91 zones, own 38; at 0.80: 75 and 30)."""
    min_margin: float = 1.0
    """Least lead, in per-character log-likelihood (natural log), of the best allowed value over the next
    different one: two names the ink cannot tell apart are left to a person (``Jude``/``Jade`` 0.35 on the devset;
    right values accepted led by 1.2-9.5)."""
    min_whole_margin: float = 5.0
    """Least lead of the best allowed value over the next one, in log-likelihood of the whole value (natural log),
    for the decoders that measure it so (``constrained.WHOLE_MARGIN_RULES``: e-mail addresses): ``min_margin`` over
    a five-letter name."""
    max_edits: int = 3
    """Most character edits (Levenshtein, case folded) between the accepted value and the unconstrained
    reading: a value the ink does not spell is not forced onto it ("read, not forced", issue 18). 3 lets a long
    school name through with three misread letters (``École elementaire Jean Jaures``), ``max_edit_share`` bounds
    short values."""
    max_edit_share: float = 0.25
    """And at most this share of the value's characters (a 4-letter name: one edit; 8 letters: two)."""
    accept_confidence: float = 0.90
    """Confidence (0-1) of a handwritten field whose constrained decoding is accepted (times the page's
    registration quality): above ``OcrSettings.text_confidence_min``, under ``readers_agree_confidence`` (two
    readers agreeing on typed text). Accepted values were all right on both corpora (devset 91 text zones and 48
    combs, own 38 and 18, at the commit that set it); the band is re-measured by ``clas-referrals calibrate``."""
    digits_min_probability: float = 0.90
    """Lowest probability (0-1) of the least sure digit of a comb's digits-only decoding for it to be accepted;
    the digits must also fill the comb, pass their validator and each be read the same in its cell by the digit
    model or tesseract (``constrained.digits_witnessed``: since 2026-12-07 each digit by either, no longer the
    whole value by one). Digits-only decoding alone is not safe: on the project's own hand scans it read
    ``07/11/2026`` for *09/11/2026* at 0.995, which no other reader confirmed. With the witness: devset 48
    handwritten combs accepted of 92, own 18 of 47, none wrong."""
    witness_max_differing_cells: int = Field(default=1, ge=0)
    """Most cells in which tesseract's or the digit model's digits may differ from a comb's digits-only decoding
    and still witness its other digits (``constrained.digits_witnessed``): a reading shifted by a lost digit and a
    bar read as one differs in many. Measured 2026-12-07: 1 keeps half the combs per-digit witnessing adds on four
    corpora (7 of 14, all right either way) and refuses a review's shifted witness."""
    digits_shown: bool = True
    """Whether a handwritten comb held for a person is shown with its digits-only decoding when that decoding
    passes the field's validator (a real date, a French phone number, a postcode of the towns lexicon), in place
    of the cell-by-cell vote of tesseract and the digit model (``constrained.show_valid_digits``). The field stays
    held: only what the person is given to check changes. Measured against 99b13ad, every field through
    ``bench.corpus``'s reading (devset, 23 handwritten forms; the project's handwritten scans, photos and version-2
    forms of seeds 67, 31 and 53, 18 forms each): held combs shown right 5 → 29 of 38, 12 → 27 of 67,
    17 → 37 of 68 and 5 → 35 of 66, shown right before and wrong after 0, 3, 3 and 0 (where both readings were
    valid and differed, the decoding was the right one 19 : 0, 15 : 3, 20 : 3 and 23 : 0); fields exact
    1,492 → 1,516 of 1,720, 569 → 584, 566 → 586 and 578 → 608 of 774; the same fields held, the same outcomes,
    no value accepted. Seed 67's 39 typed forms: no field changed."""
    class_divisions: str = "ABCDEFGH123456"
    """Division marks a class line may hold after its level (``CM2 B``, ``6e 3``)."""
    shortlist: int = 40
    """Allowed values scored per zone: the nearest to the unconstrained reading by edit distance (a value
    farther than ``max_edits`` is never accepted, so this bounds time, not what is accepted)."""
    directory_file: Path = _CONFIG_DIR / "directory.toml"
    """The school directory whose names and aliases a school zone is decoded against: ``Settings.directory_file``
    (``CLAS_DIRECTORY_FILE``) when that is given and this is not."""
    towns_file: Path = _CONFIG_DIR / "towns.toml"
    """The towns lexicon a town zone and the postcode are decoded against (``pipeline.deciding.towns``)."""
    mail_domains: tuple[str, ...] = (
        "gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "hotmail.fr",
        "hotmail.com", "live.fr", "outlook.fr", "outlook.com", "yahoo.fr", "yahoo.com", "icloud.com", "bbox.fr",
        "aol.com", "gmx.fr")
    """Mail domains a guardian's handwritten address is decoded against (``constrained.email_values``): the
    consumer mailboxes of France's main access providers (Orange and its former Wanadoo, Free, SFR and its former
    Neuf, Bouygues' Bbox, La Poste) and the international webmails French households use. An address at another
    domain is never accepted by decoding: it stays with a person. A city sets its own list here."""
    shipped: tuple[tuple[str, float], ...] = (
        ("constrained_first_name", 0.325), ("constrained_languages", 0.072), ("constrained_school", 0.238),
        ("constrained_school_year", 0.47), ("constrained_town", 0.266))
    """Acceptance thresholds the product ships per field kind (rule name → lowest per-character probability), in
    place of ``min_char_probability``, until a city's own ``fitted`` ones replace them. Fitted the way a city fits
    its own (``clas-referrals calibrate --simulate``: at least ``calibration_min_verified`` verified fields, 95 %
    error bound at most 5 %), on the project's own version-1 handwriting (``clas-referrals samples --kinds
    scan_handwritten photo_handwritten``), and kept only where no verified field at or above the threshold was
    wrong: given names from ``--per-kind 16 --seed 41`` (79 verified, 76 accepted, none wrong); home languages,
    school, school year and town from ``--per-kind 40 --seed 43`` (59, 59, 60 and 63 verified, all accepted, none
    wrong). There, given names fitted 0.083 with 2 wrong of 171, which is not kept: at 0.325 the same 171 hold 164
    right and none wrong. Held out (2026-12-05, fields exact / held for a person / wrong accepted, against
    ``min_char_probability`` for every kind): devset 1456 → 1469 of 1720 / 386 → 374 / 0 (handwritten median
    15 → 14); the project's hands of seed 13 (20 forms, v1 and v2) 721 → 727 of 860 / 184 → 178 / 0. The margin and
    closeness tests still apply. Fonts still, not pens: a city's verifications re-fit each kind."""
    fitted: tuple[tuple[str, float], ...] = ()
    """Acceptance thresholds fitted by ``clas-referrals calibrate`` (rule name → lowest per-character probability),
    which replace ``shipped`` and ``min_char_probability`` for their kind; the nightly run reads them from the data
    folder's calibration file (``pipeline.reading.calibration.with_fitted_thresholds``). Empty until enough fields
    of a kind are verified."""
    calibration_min_verified: int = 59
    """Fewest verified fields of a kind before ``clas-referrals calibrate``'s fitted threshold replaces
    ``min_char_probability`` for it: with 59 verified, all right, the one-sided 95 % upper bound on the error
    rate is 5 % (the "rule of three", 1 - 0.05 ** (1 / 59) = 0.0495; Hanley and Lippman-Hand 1983)."""


class OcrSettings(BaseModel):
    """Tesseract options and ink thresholds for zone reading (``pipeline.reading.scan``).

    Three tesseract calls per page, run side by side: all text zones stacked in one strip
    (``language``), all e-mail zones in another (``email_language``), all combs in a third
    (digits whitelist). Thresholds measured on this form's renderings scanned by
    ``samples.scanner`` (``tests/pipeline/reading/scan/test_omr_calibration.py``).
    """

    model_config = ConfigDict(frozen=True)

    language: str = "fra"
    text_confidence_min: float = 0.60
    """Below this word confidence (0-1) a text field goes to review."""
    readers_agree_confidence: float = 0.95
    """Confidence (0-1) of a text or e-mail zone whose two readers, tesseract and PP-OCRv6
    (``pipeline.reading.scan.second_reader``), read the same value after the field's repairs
    (``pipeline.reading.scan.page.readers_verdict``); caps, the handwriting hold and foreign ink still lower it.
    Measured at c463086 + the second reader: on the devset's typed forms, 218 of 222 agreeing zones were
    right as read (the 4 others differ from the truth by a dash or a space the validators fold); on the
    project's own scans and photos (seed 2026, 3 forms per image kind) 666 of 666. Handwritten: 109 of 122 on
    the devset, 18 of 22 on our own, so the handwriting hold stays. After the change (aee10d1), every devset
    field at 0.6 or more was right (1,116 fields; ``bench --corpus`` reliability table)."""
    readers_differ_confidence: float = 0.45
    """Highest confidence (0-1) of a text or e-mail zone whose two readers differ: under
    ``text_confidence_min``, so a person reads it. Devset, typed forms: of 45 differing zones, tesseract
    was right on 10 and wrong on 35 (PP-OCRv6 right on 28 of those); own scans and photos: of 33, tesseract
    right on 2, PP-OCRv6 on 20."""
    readers_chosen_confidence: float = 0.80
    """Confidence (0-1) of a zone whose two readers differ when a witness of the field chooses one reading
    (``pipeline.reading.scan.choices``: the given-name lexicon, the ticked class level, a known mail domain). Above
    ``text_confidence_min``, under ``readers_agree_confidence``: measured at 10be5cb on both corpora, the witnesses
    chose right 12 of 12 typed zones and 38 of 40 handwritten ones (those stay under the handwriting hold); table
    in ``pipeline.reading.scan.choices``. On the devset at 22c64e0, every field in the 0.8-0.9 band was right (51)."""
    first_names_file: Path = Path("/usr/share/hunspell/fr_FR.dic")
    """The French Hunspell dictionary whose ``po:prn`` entries are the given-name lexicon (Debian package
    ``hunspell-fr-comprehensive``; ``pipeline.reading.lexicon``)."""
    french_words_file: Path = Path("/usr/share/hunspell/fr_FR.dic")
    """The French Hunspell dictionary (its ``.aff`` beside it) whose words choose between two readings of a word in
    a sentence, an address, a school's name or a referrer's role (Debian package ``hunspell-fr-comprehensive``;
    ``pipeline.reading.french_words``)."""
    french_words_max_edits: int = Field(default=2, ge=0)
    """Most character edits (Levenshtein) between the two readings of a word for the French dictionary to choose
    between them (``pipeline.reading.scan.choices``): two readers of the same ink misread a letter or two
    (``coordonhatrice`` / ``coordonnatrice``, ``vouș`` / ``vous``); readings further apart were not read from the
    same word alike enough to trust either. Not measured: set by hand on 2026-12-06 (the words the dictionary
    chose on both corpora, table in ``choices``, were single-letter confusions)."""
    timeout_s: float = 60.0
    """Hard limit for one tesseract recognition (a strip, or the footer's command), in seconds."""
    tesseract_threads: int = Field(default=1, ge=1)
    """OpenMP threads the tesseract command may use (``OMP_THREAD_LIMIT`` of its process): the footer's one-off read
    (``pipeline.reading.anchors``). The zones' strips are read in this process by tesserocr's libtesseract, built
    without OpenMP (one thread a strip; ``pipeline.reading.scan.strips``). A page reads its three strips beside
    PP-OCRv6, so the page is already parallel; Debian's command is built with OpenMP and, left unlimited, spins
    threads that compete for the same cores. Issue 19, measured on 6 devset scan pages (2 cores, same run, same
    readings) when the strips were read by the command: unlimited, tesseract used 0.72 s of CPU a page and the page
    took 1.04 s; limited to 1 thread, 0.40 s of CPU and 0.90 s."""
    second_reader_threads: int = Field(default=2, ge=1)
    """Threads a page's text and e-mail crops are shared out to for the second reader
    (``pipeline.reading.scan.second_reader.read_lines``); the readings are the same whatever the number. Issue 19:
    once tesseract ran in-process, PP-OCRv6 on one thread was the page's longest path (devset, 76 scanned pages:
    35 s of 55 s of reading) while tesseract's three strips took 13 s beside it."""
    second_reader_batch: int = Field(default=1, ge=1)
    """Line crops per call of the second reader's recogniser (``pipeline.reading.scan.second_reader.read_lines``).
    rapidocr's default, 6, pads every line of a call to the call's widest: the page's one-word zones were read
    padded to its longest sentence. Issue 16, measured 2026-12-05 on 76 zone crops of 6 devset scan pages, same
    process: 6 per call 2.57 s, 1 per call 2.19 s (5 of the 76 texts differ, padding being part of what the model
    sees); devset ``bench --corpus`` at 923d763, 6 against 1: fields exact 84.42 % both, auto-decided 10/40 both,
    no misroute and no wrong value accepted either way; the project's own bench (``--kinds base hard v2
    --per-kind 2``, seed 2026): every accuracy column of every kind the same."""
    second_reader_halo_pt: float = Field(default=0.5, ge=0.0)
    """Width, in PDF points, of the halo around the ink that PP-OCRv6 sees in grey on a scanned page
    (``pipeline.reading.scan.page.second_reader_image``); 0 gives it Tesseract's image, the paper outside the ink
    mask white. A photographed page keeps Tesseract's image whatever this is.

    Issue 18, measured 2026-12-06 against the commit before, every field through ``bench.corpus``'s reading: PP-OCRv6
    reading a zone exactly as the truth, devset 519 → 538 of 940 (handwritten 235 → 252 of 576, typed 284 → 286
    of 364), the project's handwritten scans and photos of seed 31 (18 forms) 138 → 146 of 417; fields
    exact devset 1,476 → 1,490 of 1,720, seed 31 560 → 566 of 774, typed scans of seed 41 (27 forms of 9 kinds:
    copies, faxes, stamps, hand marks, 1-bit, turned, fit to page) 1,131 → 1,132 of 1,161; fields held devset
    344 → 337, seed 31 265 → 262; no value wrong accepted, the same forms routed. In a first trial (a halo in
    pixels, removed ink not kept out), 2 px at 300 dpi (this width) read more handwritten zones right than 1 px on
    both corpora (devset 259 against 252 of 576, seed 31 149 against 142 of 417, photos included) and as many as
    3 px with photos left out (devset 253 and 254). On typed phone photos of seed 41 (16 forms) the halo made
    PP-OCRv6 drop spaces and full stops (``maistrès``, ``M.Martin``, ``LEROUX``), and 3 fewer forms were routed:
    photos are left out."""
    photo_sharpen_sigma_pt: float = 0.8
    """Radius (Gaussian sigma, in pt at the page's scale) of the unsharp mask applied to a photographed page's
    text before OCR (``read_scan.sharpen_for_ocr``). Measured on 5 HEIC photos of seed 2026 (issue 3): unsharpened,
    ``Coliège`` for ``Collège``, ``Se B`` for ``5e B``, ``CM1 8`` for ``CM1 B``, ``Français.`` for ``Français,``;
    at 0.8 pt and ``photo_sharpen_amount`` 1.0, all four right. 0.5 pt and 0.8 amount fixed three of them."""
    photo_sharpen_amount: float = 1.0
    """Weight of the unsharp mask: the page plus this much of (page − its blur)."""
    dither_share_min: float = 0.12
    """Share of ink pixels alone on their row among other dots (``pipeline.reading.scan.pixels.dither_share``) at
    or above which a page is error-diffused (a fax in photo mode) and is descreened before it is read. Measured
    2026-12-07 on 232 pages as the reader gets them (a fax's rows doubled): dithered 0.19-0.88 (the devset's 3,
    the project's ``fax_halftone``, and such faxes whose paper kept its tone); every other page at most 0.062 (a
    project's ``scan_fit_to_page``; the devset's at most 0.040, a photocopy). 0.12 is about their geometric
    mean."""
    descreen_sigma_pt: float = 0.36
    """Radius (Gaussian sigma, pt at the page's scale) of the blur that joins a dithered page's dots into strokes
    before its text and combs are read (``pipeline.reading.scan.pixels.descreen``): about one pixel of a 200 dpi
    fax. Measured 2026-12-05 at 0.22, 0.36 and 0.50 pt (0.6, 1.0 and 1.4 px at 200 dpi) against none: the
    project's ``fax_halftone`` (seed 31, 16 forms, 688 fields), fields held 179 → 108, 53, 89, zones both readers
    read alike 83 → 162, 216, 182, values wrong yet accepted 2 → 2, 0, 2 (an accent lost on a capital, a comma
    read as a stop, read alike by both); the devset's 3 dithered pages, fields exact +4, +3, +4, held −5, −3,
    −6, none wrong accepted."""
    email_confidence_min: float = 0.80
    """Tesseract word confidence an e-mail address needs to pass review on its own (the text threshold
    applies to the rescaled confidence, see ``read_scan.email_confidence``). An address is wrong for one
    lost dot, and a dot is a few pixels: ``danieljacquot@gmail.com`` was read for ``daniel.jacquot@…`` at
    0.65 on a phone photo (issue 3). An address spelled by its owner's confident name is still vouched for
    (``pipeline.deciding.crosscheck``)."""
    email_language: str = "eng"
    """Language for e-mail zones: measured on 10 renderings, ``eng`` keeps the dot of ``t.etienne@…`` and
    ``j.valentin@…`` that ``fra`` drops or reads as a hyphen."""
    psm: int = 6
    """Tesseract page segmentation mode for the stacked strips: 6 = one uniform block of lines."""
    zone_ink_min_pt2: float = 0.6
    """Ink area (pt², specks of one pixel removed) at or above which a text zone is written in.
    Measured: blank zones 0.0; a lone typed period 0.78-1.32 pt²; a 2×2-px speck at 200 dpi is 0.52 pt²."""
    cell_ink_min: float = 0.02
    """Dark share of a comb cell interior at or above which the cell holds a character.
    Measured: empty cells 0.000, typed digits 0.066 ("1") to 0.18."""
    comb_inset_pt: float = 1.8
    """Inset of a comb cell before OCR, so its printed outline (0.6 pt) is cut away."""
    text_ocr_dpi: float = 400.0
    """Text and e-mail crops are resampled to this resolution before OCR. At the scan's own 300 dpi
    the 10-pt values are 21 px tall and ``fra`` drops the ``1`` of ``CM1 B``; at 400 dpi it does not,
    for about 10 % more time (measured on the test renderings, 300 dpi grey and 200 dpi black and white)."""
    third_reading_dpi: float = 300.0
    """Resolution a typed zone whose two readers differ is read at by Tesseract a third time, alone on its line
    (``pipeline.reading.scan.third_reading``): at 300 dpi its reading was PP-OCRv6's 14 times on typed zones of
    both corpora, right each time; at 500 dpi 8 times, 2 of them wrong (a given name's accent lost by both
    engines). Measured 2026-12-06, table in the module's docstring."""
    comb_digit_gap_pt: float = 3.0
    """White space between two comb digits laid side by side for tesseract (typed digits of 11 pt stand
    about 3 pt apart in their cells; whole cells between them make tesseract's confidence fall to 0)."""
    comb_ocr_dpi_min: float = 300.0
    """Comb strips from scans below this resolution are upscaled to it before OCR (digits read right
    at 300 dpi on every rendering measured)."""
    strip_gap_pt: float = 6.0
    """White space between stacked zones in a strip, in pt at the page scale."""
    empty_zone_confidence: float = 0.97
    """Confidence (0-1) of a text, e-mail or comb zone without ink (``pipeline.reading.scan.zones.empty_field``),
    before the position quality: the blank value is all but sure, yet ink fainter than the ink threshold may
    have been missed. Not measured: set by hand in 8e4fa0e."""
    text_zone_margin_pt: float = 1.0
    """Left and right margins (PDF points) of a text zone left out of its writing area
    (``pipeline.reading.scan.zones.text_rect``): ink there is not measured nor read. Not measured: set by hand
    in 8e4fa0e."""
    text_zone_baseline_pt: float = 1.3
    """Band (PDF points) at the bottom of a text zone left out of its writing area: the printed dotted baseline
    (0.5 pt pen, ``pipeline.form.render``) plus registration residuals (0.05-1 pt). Not measured: set by hand
    in 8e4fa0e."""
    text_zone_mark_gap_pt: float = 2.0
    """Space (PDF points) kept between a text zone's writing area and a printed QR code or anchor it runs into
    (page 2's "Prénom" line ends under the top-right QR code, whose modules read as letters). Not measured: set
    by hand in 59a1dca."""
    unread_confidence: float = 0.20
    """Confidence of a zone with ink where nothing (or the wrong number of digits) was read, and the cap
    on a value that fails its own syntax (date, phone, postcode, e-mail; ``read_scan.validator_cap``)."""
    phone_combs_mobile: bool = True
    """The form's phone combs ask for a mobile number (« Téléphone portable »): a read number that is not a French
    mobile (``schemas.referral.is_french_mobile``: 06, 07 from 073) was misread, and goes to a person like any value
    failing its syntax (``text_rules.validator_cap``, ``constrained.decode_digits``). Measured 2026-12-05: every true
    guardian phone is a mobile on the devset (63) and in the project's generator (``samples.generator._fake_phone``);
    of the phones read, the one not mobile at or above the review threshold was wrong (own ``scan_handwritten_v2``,
    seed 2026, form 4: ``0737328770`` read ``0137328770`` by Tesseract and PP-OCRv6, accepted at 0.88), and none
    read right was held by it (173 phones read: devset 63, own handwritten, v2 and fax forms 110). A city whose
    form asks for any phone sets it false: any valid French number then passes."""
    min_text_dpi: float = 150.0
    """Coarsest resolution (px per inch, on either axis of the file as received) at which text zones are
    trusted. A fax's 100 lines per inch leave a 9-pt capital 12 px tall: on the ``fax_200x100`` kind,
    3 values in 5 forms were read wrong at 0.73-0.81 (``Lémaitre``, ``Mrne``, an address's lost dot,
    issue 3), so below this a text or e-mail zone goes to a person unless Tesseract and PP-OCRv6 read it alike
    (an e-mail on a known domain; ``pipeline.reading.extract.doubt_text_zones`` gives the figures); combs and
    ticks are not affected (the digit model and the OMR bands still read them)."""
    keep_crops: bool = True
    """Keep a PNG crop of every field of a scanned page for the review desk (``pipeline.reading.crops``)."""
    crop_dpi: float = 150.0
    """Resolution of the kept crops: enough to read a handwritten letter, a few kilobytes a field."""
    icr: IcrSettings = IcrSettings()
    """Comb-cell digit model and handwritten-zone rules (``pipeline.reading.scan``)."""
    constrained: ConstrainedSettings = ConstrainedSettings()
    """Constrained decoding of handwritten zones against their allowed values (issue 18)."""
    letter_comb: LetterCombSettings = LetterCombSettings()
    """Capital-letter combs of form version 2 (issue 18)."""


class ScanSettings(BaseModel):
    """Rasterisation of image-only PDF pages."""

    model_config = ConfigDict(frozen=True)

    raster_dpi: int = 200
    """DPI at which image-only PDF pages without a known resolution are rasterised."""
    max_pixels: int = 60_000_000
    """Largest image accepted, in pixels (about A4 at 1200 dpi)."""
    max_file_mib: int = Field(default=100, ge=1)
    """Largest file read, in MiB; a larger one is kept and quarantined before it is parsed
    (``pipeline.errors.FileTooLargeError``). A form's two pages scanned at 600 dpi in colour make a PDF of about
    30 MiB; mail servers commonly refuse messages over 25-35 MiB. Found by an attack (2026-12-07): a 3 GB file went
    to the reader, which ran out of its memory before saying anything about its size."""
    max_pages: int = Field(default=40, ge=2)
    """Most pages (PDF pages or image frames) read in one file; a file with more is quarantined before any page is
    read (``pipeline.errors.TooManyPagesError``). A form has 2 pages; 40 is a class's worth of pages, read in
    34-36 s by a reading worker on the busy 2-core machine (a review's 40-page TIFF of form scans and 40-page PDF of
    photos, 2026-12-07), well within ``LimitSettings.document_timeout_s``. Measured 2026-12-07: a 3 KB PDF of 300
    blank pages held its reading worker 132 s, then was quarantined as too heavy to read (the worker's 3 GiB,
    ``LimitSettings.document_memory_mib``), with a reason that misled; 3,000 pages held a run for about 3 min."""
    raster_dpi_min: float = 100.0
    """Coarsest resolution (px per inch) an image-only PDF page is rasterised at when its biggest image states
    its own (``pipeline.reading.extract``): 100 dpi is the coarsest the readers are built for
    (``RegistrationSettings.local_fit_error_pt``). Not measured: set by hand in ea439bb."""
    raster_dpi_max: float = 300.0
    """Finest resolution (px per inch) such a page is rasterised at: the resolution of the grey scans the
    thresholds were measured on; finer only costs time. Not measured: set by hand in ea439bb."""


class TextLayerSettings(BaseModel):
    """Born-digital PDF pages (``CLAS_TEXT_LAYER__*``), read by ``pipeline.reading.pdf``: when a page's text layer
    is trusted, how it is registered to the form's printed labels (``pipeline.reading.text_register``), the
    tolerances, in PDF points, that place a character or a drawing in a zone or a box, and the confidence of a
    value held for a person."""

    model_config = ConfigDict(frozen=True)

    image_cover_min: float = 0.5
    """Share (0-1) of the page area covered by images from which a page is read as a scan, even if it has a
    (possibly invisible OCR) text layer. Not measured: set by hand in ea439bb."""
    tick_inset_pt: float = 1.0
    """Inset (PDF points) of a tick box before looking for a character in it: the box's printed outline is not
    a tick. Not measured: set by hand in ea439bb."""
    tick_drawing_slack_pt: float = 0.5
    """How far (PDF points) a drawn tick (a vector curve or line) may reach past that inset interior and still
    lie in the box. Not measured: set by hand in ea439bb."""
    tick_core_cut: float = Field(default=0.25, ge=0.0, lt=0.5)
    """Share of a tick box's width and height left out on each side of its core, which a drawn tick must cross
    (``pipeline.reading.pdf.crosses_core``): the central half, as the scan reader's ``OmrSettings.core_cut``.
    A flattened form's unticked appearance, a square outline half a point inside the box, never enters it.
    Measured 2026-12-07: the devset's born-digital referrals and the helper's 34 vector variants of them
    (rotated, cropped, fitted to Letter, encrypted, re-saved, flattened), every tick right; the project's fillable
    and text PDF kinds unchanged."""
    signature_inset_pt: float = 2.0
    """Inset (PDF points) of a signature zone before looking for a drawing or characters in it. Not measured:
    set by hand in ea439bb."""
    line_pt: float = 3.0
    """Words of a zone whose tops round to the same multiple of this (PDF points) are one line, read left to
    right. Not measured: set by hand in ea439bb."""
    held_confidence: float = 0.2
    """Confidence (0-1) given to a value the PDF itself contradicts or that is not where it should be (``/V``
    against ``/AS``, AcroForm against XFA, a label inside a zone, a comb date in an unexpected shape): under
    ``OcrSettings.text_confidence_min`` (0.60) so that a person decides, with the cause as its ``Doubt``.
    The same value as ``OcrSettings.unread_confidence``; issue 16."""
    register_min_labels: int = 8
    """Fewest printed label words (and the footer) that must agree on one similarity transform before the
    text layer is trusted (``pipeline.reading.text_register``); fewer, and the page is read as a scan. A page
    of form v1 pairs 111-116 (page 1) and 52 (page 2) label words on our samples and the devset's PDFs; a page
    keeping a sixth of page 2's still registers. Not fitted: set by hand (issue 16)."""
    register_ransac_pt: float = 2.0
    """RANSAC reprojection threshold (PDF points, form frame) of the label-to-form fit: a label word whose
    centre lands further than this from its printed place is an outlier. Word centres of the blank form
    land within 0.3 pt of the definition's (pdfminer and ReportLab share the AFM widths); a word in another
    font of the same metrics class moves its centre by up to a point. Issue 16."""
    register_max_rms_pt: float = 1.0
    """Largest root-mean-square residual (PDF points) of the inliers of an accepted fit; above it the page
    is read as a scan. Our own pages: 0.0-0.1 pt in every geometry tested (tests/pipeline/reading/
    test_text_register.py); issue 16."""
    register_min_inlier_share: float = 0.6
    """Smallest share (0-1) of the matched label words that must be inliers of the fit: a page whose labels
    disagree (a non-uniform stretch, a collage) is read as a scan. Not fitted: set by hand (issue 16)."""
    register_scale_min: float = 0.5
    """Smallest accepted scale of the page to the form (A4 printed on Letter "fit to page" is 0.94, on A5
    0.71); below, the page is read as a scan. Issue 16."""
    register_scale_max: float = 2.0
    """Largest accepted scale of the page to the form (A4 on A3 is 1.41). Issue 16."""
    label_match_pt: float = 4.0
    """A word of a text zone that spells a printed label word and lies within this distance (PDF points,
    form frame) of that label's place is the label, not a value: the field is held (``Doubt.LABEL_TEXT``).
    Issue 16 (surname read as « X par Enseignant(e) »)."""
