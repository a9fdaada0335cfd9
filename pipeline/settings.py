"""Configuration: one pydantic-settings model, environment variables prefixed ``CLAS_``.

Nested sections use ``__`` in variable names, e.g. ``CLAS_OMR__TICKED_MIN=0.2``.
Stages receive only the section they need; settings are frozen, nobody mutates
them in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


class OmrSettings(BaseModel):
    """Tick-box decision bands on the fill ratio (dark share of the box interior).

    The interior is the box inset by ``inset_pt`` so that the printed outline and a
    small registration error do not count as ink. Bands: at or below ``empty_max`` empty,
    up to ``ticked_min`` unsure (review), up to ``cancelled_min`` ticked, above it the box
    is filled (a correction: the printed rule says a blackened box is cancelled).

    Calibrated on this form's own renderings scanned by ``samples.scanner`` (300 dpi grey
    JPEG and 200 dpi black and white, skew up to 3°; ``tests/pipeline/test_omr_calibration.py``,
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
    foreign_ink_min_pt2: float = 6.0
    """Ink (pt², specks removed) a mark must have outside every zone, box and printed line to be foreign
    (a stamp, a stray signature, a toner streak). Measured (issue 3): clean scans, photos and hand-marked
    pages leave under 2 pt² per mark there; a round stamp's ring alone is several hundred, a streak 30+."""
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
    letter_height_share: float = 0.4
    """Blobs of a text zone at least this share of the tallest one count as letters (dots and commas do not)."""
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


class OcrSettings(BaseModel):
    """Tesseract options and ink thresholds for zone reading (``pipeline.reading.scan``).

    Three tesseract calls per page, run side by side: all text zones stacked in one strip
    (``language``), all e-mail zones in another (``email_language``), all combs in a third
    (digits whitelist). Thresholds measured on this form's renderings scanned by
    ``samples.scanner`` (``tests/pipeline/test_omr_calibration.py``).
    """

    model_config = ConfigDict(frozen=True)

    language: str = "fra"
    text_confidence_min: float = 0.60
    """Below this word confidence (0-1) a text field goes to review."""
    digit_confidence_min: float = 0.60
    timeout_s: float = 60.0
    """Hard limit for one tesseract call, in seconds."""
    photo_sharpen_sigma_pt: float = 0.8
    """Radius (Gaussian sigma, in pt at the page's scale) of the unsharp mask applied to a photographed page's
    text before OCR (``read_scan.sharpen_for_ocr``). Measured on 5 HEIC photos of seed 2026 (issue 3): unsharpened,
    ``Coliège`` for ``Collège``, ``Se B`` for ``5e B``, ``CM1 8`` for ``CM1 B``, ``Français.`` for ``Français,``;
    at 0.8 pt and ``photo_sharpen_amount`` 1.0, all four right. 0.5 pt and 0.8 amount fixed three of them."""
    photo_sharpen_amount: float = 1.0
    """Weight of the unsharp mask: the page plus this much of (page − its blur)."""
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
    comb_digit_gap_pt: float = 3.0
    """White space between two comb digits laid side by side for tesseract (typed digits of 11 pt stand
    about 3 pt apart in their cells; whole cells between them make tesseract's confidence fall to 0)."""
    comb_ocr_dpi_min: float = 300.0
    """Comb strips from scans below this resolution are upscaled to it before OCR (digits read right
    at 300 dpi on every rendering measured)."""
    strip_gap_pt: float = 6.0
    """White space between stacked zones in a strip, in pt at the page scale."""
    unread_confidence: float = 0.20
    """Confidence of a zone with ink where nothing (or the wrong number of digits) was read, and the cap
    on a value that fails its own syntax (date, phone, postcode, e-mail; ``read_scan.validator_cap``)."""
    min_text_dpi: float = 150.0
    """Coarsest resolution (px per inch, on either axis of the file as received) at which text zones are
    trusted. A fax's 100 lines per inch leave a 9-pt capital 12 px tall: on the ``fax_200x100`` kind,
    3 values in 5 forms were read wrong at 0.73-0.81 (``Lémaitre``, ``Mrne``, an address's lost dot,
    issue 3), so below this every text and e-mail zone goes to a person; combs and ticks are not
    affected (the digit model and the OMR bands still read them)."""
    keep_crops: bool = True
    """Keep a PNG crop of every field of a scanned page for the review desk (``pipeline.reading.crops``)."""
    crop_dpi: float = 150.0
    """Resolution of the kept crops: enough to read a handwritten letter, a few kilobytes a field."""
    icr: IcrSettings = IcrSettings()
    """Comb-cell digit model and handwritten-zone rules (``pipeline.reading.scan``)."""


class ScanSettings(BaseModel):
    """Rasterisation of image-only PDF pages."""

    model_config = ConfigDict(frozen=True)

    raster_dpi: int = 200
    """DPI at which image-only PDF pages without a known resolution are rasterised."""
    max_pixels: int = 60_000_000
    """Largest image accepted, in pixels (about A4 at 1200 dpi)."""


class SmtpSettings(BaseModel):
    """The SMTP server that sends replies to schools (``CLAS_MAIL__SMTP__*``).

    Replies are off by default (``enabled``); see ``pipeline.intake.replies``.
    """

    model_config = ConfigDict(frozen=True)

    enabled: bool = False
    host: str = ""
    port: int | None = None
    """Defaults to 465 for ``tls``, 587 for ``starttls``, 25 for ``none``."""
    security: Literal["tls", "starttls", "none"] = "starttls"
    user: str = ""
    password: SecretStr = SecretStr("")
    ca_file: Path | None = None
    """Extra CA certificate (PEM) to trust, for a server with a private certificate."""
    sender: str = ""
    """The ``From`` address of replies, e.g. ``clas@ville-argenteuil.example``."""
    timeout_s: float = 30.0


class MailSettings(BaseModel):
    """The shared mailbox read by ``clas-referrals mail`` (``CLAS_MAIL__*``).

    ``source`` picks where messages come from: an IMAP mailbox (``imap``), a folder
    of ``.eml`` files (``eml``) or a Maildir (``maildir``), the last two at ``path``.
    Limits bound one run's memory and reject abuse; defaults are documented per field.
    """

    model_config = ConfigDict(frozen=True)

    source: Literal["imap", "eml", "maildir"] = "imap"
    path: Path | None = None
    """Folder of ``.eml`` files or Maildir, for ``eml`` and ``maildir`` sources."""
    host: str = ""
    port: int | None = None
    """Defaults to 993 for ``tls``, 143 for ``starttls`` and ``none``."""
    security: Literal["tls", "starttls", "none"] = "tls"
    """``none`` is accepted only for a loopback host (tests, a local bridge)."""
    user: str = ""
    password: SecretStr = SecretStr("")
    ca_file: Path | None = None
    """Extra CA certificate (PEM) to trust, for a server with a private certificate."""
    folder: str = "INBOX"
    processed_folder: str = "Traités"
    quarantine_folder: str = "Quarantaine"
    after: Literal["move", "flag"] = "move"
    """``move`` files each message in its folder; ``flag`` leaves it and sets a keyword."""
    timeout_s: float = 60.0
    """Socket timeout of one IMAP command, in seconds."""
    max_message_bytes: int = 25 * 1024 * 1024
    """Largest message read (25 MiB: the sending limit of the common webmails)."""
    max_attachments: int = 30
    """Most attachments in one message; beyond, the message is quarantined whole."""
    max_nesting: int = 5
    """Deepest chain of forwarded messages (``message/rfc822``) opened."""
    decoration_max_side_px: int = 600
    """An image whose longer side is under this many pixels cannot hold a readable A4
    page (A4 is 842 px long at 72 dpi) and is taken as a logo or decoration."""
    smtp: SmtpSettings = SmtpSettings()


class LimitSettings(BaseModel):
    """Bounds on the reading of one document (``CLAS_LIMITS__*``).

    Defaults: the slowest legitimate document measured (a two-page 300 dpi grey
    scan, all three Tesseract calls per page) reads in about 15 s on a 2-core
    machine, so 180 s leaves a wide margin while still ending a hung reader within
    a night's run. 3 GiB of address space covers the largest accepted image
    (``CLAS_SCAN__MAX_PIXELS`` = 60 Mpx, 60 MB grey + copies) and OpenCV's arenas.
    """

    model_config = ConfigDict(frozen=True)

    document_timeout_s: float = 180.0
    """Wall-clock seconds one document may take to read; 0 disables the worker process."""
    document_memory_mib: int = 3072
    """Address space of the reading worker in MiB (``RLIMIT_AS``); 0 for no memory limit."""


class RetentionSettings(BaseModel):
    """How long personal data is kept (``CLAS_RETENTION__*``), enforced by ``pipeline.privacy.retention``.

    Defaults are the city's proposal, to be confirmed by its data protection officer:
    originals are only needed while a person may check the reading against the paper
    (30 days after the decision); files that never became a form are kept 90 days for
    the school to resend; referrals not enrolled are kept to the end of the school year
    (the French school calendar ends in early July) plus 60 days for late enrolments
    and the carriers' yearly report (CNIL, *référentiel relatif aux traitements de
    données à caractère personnel mis en œuvre dans le cadre de l'accueil des enfants*,
    keeps records no longer than the activity's year unless a text requires more).
    """

    model_config = ConfigDict(frozen=True)

    originals_days: int = 30
    """Days after a form is decided (routed, waiting list, rejected, duplicate) before its files go."""
    quarantine_days: int = 90
    """Days after reception before a quarantined or duplicate file goes."""
    grace_days: int = 60
    """Days after the end of the school year before referrals not enrolled are deleted whole."""
    school_year_end_month: int = 7
    school_year_end_day: int = 4
    """Last day of the school year (month, day) in its second calendar year."""


class AlertSettings(BaseModel):
    """The e-mail sent to staff when a nightly run fails (``CLAS_ALERTS__*``), see ``pipeline.runs.alerts``.

    Off while ``staff_address`` is empty. Sent through the SMTP server of the replies
    (``CLAS_MAIL__SMTP__*``: host, port, security, login and ``sender``), whether or not
    replies to schools are enabled.
    """

    model_config = ConfigDict(frozen=True)

    staff_address: str = ""
    """Where the alert goes, e.g. the CLAS team's shared address; empty for no alert."""
    connect_attempts: int = 3
    """Tries to reach the SMTP server; a try that delivered part of the message is never repeated."""
    backoff_s: float = 10.0
    """Wait before the second try, doubled before each next one (10 s, 20 s: a server restarting)."""


class Settings(BaseSettings):
    """All settings of the product.

    Attributes:
        environment: ``development`` (default) or ``production``; production refuses
            the placeholder secret.
        database_url: SQLAlchemy URL; SQLite file by default, PostgreSQL by URL.
        data_dir: Where received files, quarantined files and crops are stored.
        inbox_dir: Folder read by ``clas-referrals run`` when none is given.
        directory_file: The school and carrier directory (TOML).
        school_year: Year the referrals are for, ``AAAA-AAAA``.
        secret_key: Secret for signed cookies (review desk).
    """

    model_config = SettingsConfigDict(env_prefix="CLAS_", env_nested_delimiter="__", frozen=True)

    environment: str = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{PROJECT_DIR / 'var' / 'clas.sqlite3'}")
    data_dir: Path = PROJECT_DIR / "var" / "data"
    inbox_dir: Path = PROJECT_DIR / "samples" / "inbox"
    directory_file: Path = PACKAGE_DIR / "config" / "directory.toml"
    school_year: str = "2026-2027"
    secret_key: str = "dev-only-change-me"
    omr: OmrSettings = OmrSettings()
    ocr: OcrSettings = OcrSettings()
    scan: ScanSettings = ScanSettings()
    mail: MailSettings = MailSettings()
    limits: LimitSettings = LimitSettings()
    retention: RetentionSettings = RetentionSettings()
    alerts: AlertSettings = AlertSettings()

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment != "development" and self.secret_key == "dev-only-change-me":
            raise ValueError("CLAS_SECRET_KEY must be set outside development")
        return self
