"""Comb fields (dates, phones, postcode): one character per printed cell, read by two readers.

Each inked comb's cells, their printed outlines cut away, are laid side by side in one strip of
digits for tesseract (:func:`read_comb_fields`), and each cell's digit is also read by the digit
model (``pipeline.reading.scan.digit_model``). A cell passes only when both agree
(:func:`comb_field`). Cells in PDF points from the form definition, pixels at the page's DPI.
"""


from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.form.definition import (
    Field,
    FieldKind,
)
from pipeline.reading.register import RegisteredPage, ink_threshold
from pipeline.reading.scan.comb_cells import CellInk, comb_cells_ink
from pipeline.reading.scan.digit_model import CellVote, agree, digit_features, digit_probabilities
from pipeline.reading.scan.hand import baseline_agreement
from pipeline.reading.scan.pixels import connected_to, hysteresis_level, scaled
from pipeline.reading.scan.second_reader import LineReading
from pipeline.reading.scan.strips import Strip, Word, stack_zones, strip_crops
from pipeline.reading.scan.text_rules import phone_digits_ok, validator_cap, words_confidence
from pipeline.reading.scan.zones import cell_interior, empty_field, with_quality, zone_box
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import ExtractedField, Reader, ReaderReading, Source, format_comb

log = logging.getLogger(__name__)


def _digit_row(cells: Sequence[CellInk], ocr_image: np.ndarray, gap_px: int,
               stroke: tuple[np.ndarray, float, np.ndarray] | None = None,
               given_back: np.ndarray | None = None) -> np.ndarray:
    """The cells' digits side by side on white, each cut to its ink's columns, ``gap_px`` apart.

    Cut to their own width, the digits sit as close as typed ones: with whole cells between them
    tesseract still reads them but its confidence falls to 0 (measured on typed 300 dpi scans).

    Args:
        cells: The comb's inked cells.
        ocr_image: The registered page, paper white (:func:`pipeline.reading.scan.pixels.paper_to_white`).
        gap_px: Blank columns between two digits.
        stroke: ``(grey page, level, ink mask)``: a digit's own lighter strokes are shown too (:func:`own_strokes`,
            hysteresis as :func:`pipeline.reading.scan.pixels.grow_ink`). Without it, only the ink mask's pixels
            are shown.
        given_back: The registered grey page: each cell's :attr:`CellInk.restored` pixels are shown too, in their
            grey on that page (the printed outline along a digit, which ``ocr_image`` may have whitened). The rest
            of the row is as without it, strokes grown from the digit's own ink only.
    """
    pieces: list[np.ndarray] = []
    height = min(c.mask.shape[0] for c in cells)
    for c in cells:
        x, y = c.origin_px
        grey = ocr_image[y:y + height, x:x + c.mask.shape[1]]
        keep = cv2.dilate(c.mask[:height], np.ones((3, 3), np.uint8))[:grey.shape[0], :grey.shape[1]].astype(bool)
        if stroke is not None:
            page, level, ink = stroke
            raw = page[y:y + grey.shape[0], x:x + grey.shape[1]]
            keep = own_strokes(c.mask[:grey.shape[0], :grey.shape[1]] > 0, keep, raw, level,
                               ink[y:y + grey.shape[0], x:x + grey.shape[1]] > 0)
            grey = np.minimum(grey, raw)
        if given_back is not None and c.restored is not None:
            back = (c.restored[:grey.shape[0], :grey.shape[1]] > 0) & ~(c.mask[:grey.shape[0], :grey.shape[1]] > 0)
            keep = keep | back
            grey = np.where(back, np.minimum(grey, given_back[y:y + grey.shape[0], x:x + grey.shape[1]]), grey)
        digit = np.where(keep, grey, np.uint8(255)).astype(np.uint8)
        columns = np.nonzero(keep.any(axis=0))[0]
        if len(columns):
            digit = digit[:, columns.min():columns.max() + 1]
        pieces += [np.full((digit.shape[0], gap_px), 255, np.uint8), digit]
    pieces.append(np.full((height, gap_px), 255, np.uint8))
    return np.hstack([p[:height] for p in pieces])


def own_strokes(own: np.ndarray, keep: np.ndarray, raw: np.ndarray, level: float, ink: np.ndarray) -> np.ndarray:
    """Where a cell's digit lies, its lighter strokes included: hysteresis from its ink into the grey page.

    Args:
        own: ``bool`` mask of the digit's ink in the cell's window (Otsu's, :class:`CellInk`).
        keep: ``bool``, same shape: what is shown without growth (``own`` dilated by a pixel).
        raw: The registered grey page over the same window.
        level: Grey level (0-255) at or under which a pixel touching the digit's ink is part of its stroke.
        ink: ``bool``, same shape: the page's ink mask over the window; its long straight runs other than the
            digit (the printed outline) and 2 pixels round them are never grown into. A fragment of the digit that
            the cell's ink left out may be joined again.

    Returns:
        ``bool`` mask of ``keep``'s shape: ``keep`` and the pixels at ``level`` or darker connected to ``own``.
    """
    others = (ink & ~own).astype(np.uint8)
    h, w = others.shape
    lines = (cv2.morphologyEx(others, cv2.MORPH_OPEN, np.ones((max(3, h // 2), 1), np.uint8)) > 0) | (
        cv2.morphologyEx(others, cv2.MORPH_OPEN, np.ones((1, max(3, w // 2)), np.uint8)) > 0)
    outline = cv2.dilate(lines.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    return connected_to(own, ((raw <= level) & ~outline) | keep)


@dataclass(frozen=True)
class CombStrip:
    """Combs prepared for reading: the tesseract strip and the digit model's view of every cell.

    Attributes:
        strip: One row per inked comb, its cells' ink side by side (outline removed).
        fields: The combs in the strip's slot order.
        decided: Combs without ink, answered at once.
        cells: For each stacked comb, the indexes of its inked cells (0-based, left to right).
        probabilities: For each stacked comb, the digit model's ``(len(cells), 10)`` probabilities.
        agreements: For each stacked comb, how many of its digits stand on one baseline
            (:func:`pipeline.reading.scan.hand.baseline_agreement`; typed digits all do).
        edge_shares: For each stacked comb, the largest :attr:`CellInk.edge_share` of its inked cells.
        restored: Combs with a digit along a cell's edge (``edge_shares`` at ``icr.edge_touch_share_max`` or more)
            laid out again with the outline ink along their digits given back (:attr:`CellInk.restored`), one row
            each, for PP-OCRv6 (:meth:`restored_crops`); ``None`` when there are none.
        restored_slots: For each stacked comb, its row in ``restored``, or ``None``.
    """

    strip: Strip
    fields: list[Field]
    decided: dict[str, ExtractedField]
    cells: list[list[int]]
    probabilities: list[np.ndarray]
    agreements: list[float | None] = field(default_factory=list)
    edge_shares: list[float] = field(default_factory=list)
    restored: Strip | None = None
    restored_slots: list[int | None] = field(default_factory=list)

    def restored_crops(self) -> list[np.ndarray]:
        """The rows of ``restored``, for PP-OCRv6 (read in a call of their own: the recogniser pads a call's crops to
        its widest, and the combs' own readings must not depend on whether a comb was laid out again)."""
        return strip_crops(self.restored) if self.restored is not None else []

    def restored_readings(self, lines: Sequence[LineReading]) -> list[str | None]:
        """Per stacked comb, what PP-OCRv6 read on its restored row (``lines``: its readings of
        :meth:`restored_crops`), spaces taken out; ``None`` for a comb without one."""
        texts = ["".join(line.text.split()) for line in lines]
        return [None if k is None else texts[k] for k in self.restored_slots]


def read_comb_fields(
    fields: Sequence[Field], page: RegisteredPage, ocr_image: np.ndarray, mask: np.ndarray, ocr: OcrSettings,
    registration: RegistrationSettings | None = None, paper: float | None = None,
) -> CombStrip:
    """Prepare the combs: each cell's digit isolated once, for tesseract and for the digit model.

    Each comb's ink is split into cells by ``pipeline.reading.scan.comb_cells.comb_cells_ink`` (the printed outline
    erased, a digit crossing an edge kept whole, the printed "/" of a date ignored); a cell holds a
    character when its ink reaches ``ocr.cell_ink_min`` of the cell interior's area. For tesseract,
    each inked cell's digit (grey, on white, cell plus ``icr.cell_margin_pt`` each side) is laid
    side by side in one row per comb; the same ink goes to the digit model (``pipeline.reading.scan``).

    Args:
        fields: Comb fields of the page (re-aligned, pt).
        page: The registered page (scale, resolution, quality).
        ocr_image: The registered page with paper set to white (:func:`paper_to_white`).
        mask: Its ink mask (0/1).
        ocr: Thresholds, scales and the ``icr`` section.
        registration: What the position quality costs an empty comb's confidence.
        paper: Grey level of the page's bare paper (``GreyLevels.paper``), given for a scanned page. With it, the
            strip the text readers read shows each digit's lighter strokes too (``ocr.icr.comb_strip_growth``; the
            digit model keeps the ink mask's view): a thin or light pen stroke under Otsu's threshold cut a
            handwritten 9's loop, and the readers all took the 9 for a 3. A photo's ``mask`` is grown already.

    Returns:
        The strip and, per stacked comb, its inked cells and their digit probabilities.
    """
    s = page.px_per_pt
    factor = max(1.0, ocr.comb_ocr_dpi_min / page.dpi)
    stroke = None
    if paper is not None:
        stroke = (page.image, hysteresis_level(ink_threshold(page.image), paper, ocr.icr.comb_strip_growth), mask)
    decided: dict[str, ExtractedField] = {}
    inked: list[Field] = []
    rows: list[np.ndarray] = []
    cells: list[list[int]] = []
    features: list[list[np.ndarray]] = []
    agreements: list[float | None] = []
    edge_shares: list[float] = []
    restored: list[np.ndarray] = []
    restored_slots: list[int | None] = []
    gap_px = int(round(ocr.comb_digit_gap_pt * s))
    for f in fields:
        interior = cell_interior(f.cells[0], ocr)
        min_area_pt2 = ocr.cell_ink_min * interior.width * interior.height
        full = [c for c in comb_cells_ink(mask, f, s, ocr.icr) if c.area_pt2 >= min_area_pt2]
        if not full:
            decided[f.name] = empty_field(f, page.quality, ocr, registration)
            continue
        rows.append(scaled(_digit_row(full, ocr_image, gap_px, stroke), factor))
        inked.append(f)
        cells.append([c.index for c in full])
        height = min(c.mask.shape[0] for c in full)
        agreements.append(baseline_agreement(np.hstack([c.mask[:height] for c in full]), s, ocr.icr))
        edge_shares.append(max(c.edge_share for c in full))
        along = edge_shares[-1] >= ocr.icr.edge_touch_share_max
        restored_slots.append(len(restored) if along else None)
        if along:
            restored.append(scaled(_digit_row(full, ocr_image, gap_px, stroke, page.image), factor))
        features.append([digit_features(c.mask, ocr.icr) for c in full])  # type: ignore[misc]
    gap = int(round(ocr.strip_gap_pt * s * factor))
    flat = [v for row in features for v in row]
    probabilities = digit_probabilities(flat, ocr.icr) if flat else np.zeros((0, 10))
    split = np.cumsum([len(row) for row in features])[:-1]
    return CombStrip(stack_zones(rows, gap, gap), inked, decided, cells,
                     list(np.split(probabilities, split)) if features else [], agreements, edge_shares,
                     stack_zones(restored, gap, gap) if restored else None, restored_slots)


def second_reads_other_digits(second: str | None, digits: str, cells: int) -> bool:
    """Whether PP-OCRv6 read a whole comb (one digit per cell of the printed comb) of other digits than ``digits``.

    A handwritten comb is decided cell by cell by tesseract and the digit model (:func:`comb_field`), and PP-OCRv6,
    the third reader, was not asked. On the project's ``scan_handwritten`` of seed 53 (made after the rule was
    written), tesseract and the model both read a hand's 2 as a 9 in a phone number, ``0666129880`` for
    *0666122880*, and it was accepted at 0.89 with no rule, PP-OCRv6 reading ``0666127880``. A third reader that
    reads every cell and disagrees is evidence the two are not reading the ink as written.

    A reading of another length is no evidence: PP-OCRv6 merges or drops a hand's digit in a comb's cells
    (``9510`` for ``95100``), and which cell it left out is not known.

    Measured at 460c39d on every handwritten comb accepted without a person, both corpora (devset's 23 handwritten
    referrals; the project's hand kinds of seeds 31 and 53, 36 forms): 205. PP-OCRv6 read the accepted digits on
    201; other digits, one per cell, on 2: the phone above, wrong, now held, and a postcode whose town later vouched
    for it (``35100`` at reading, tesseract's and PP-OCRv6's alike, so untouched); fewer digits on 2, both right,
    unchanged. No other field changed.
    On typed combs PP-OCRv6 already votes (:func:`comb_field`'s ``typed`` branch).

    It applies to every comb decided cell by cell: a handwritten one, and a typed one tesseract read unsure or
    with a digit lost or invented (:func:`comb_field`'s other branch): on both corpora all such typed combs
    accepted were read alike by PP-OCRv6.

    Args:
        second: PP-OCRv6's digits on the comb's row, or ``None``.
        digits: The digits the comb was decided with, one per cell.
        cells: Cells of the printed comb.

    Returns:
        True when the comb is to go to a person for it.
    """
    return second is not None and len(second) == cells == len(digits) and second != digits


def cell_rules(votes: Sequence[CellVote], ocr: OcrSettings) -> list[str]:
    """The rules that hold a comb decided cell by cell (:func:`pipeline.reading.scan.digit_model.agree`), so that
    staff read why rather than a bare confidence: ``digits_differ`` when tesseract and the digit model give a cell
    different digits, or tesseract's digits could not be placed one per cell (a digit lost or invented);
    ``digits_unsure`` when both give every cell the same digit but some cell is under the review threshold
    (``ocr.text_confidence_min``): one of them under its minimum there (``icr.agree_probability_min``,
    ``icr.tesseract_confidence_min``), or both barely over it. Empty when every cell is confident.

    The rules only say why: the cells' confidences are :func:`~pipeline.reading.scan.digit_model.agree`'s, and
    :func:`comb_field` adds ``phone_not_mobile`` for a French number that is no mobile on a mobile comb (the one
    shape the validator does not tell staff of) and ``comb_part_filled`` when cells are empty. Until 2026-12-07
    such combs carried no rule, and the desk showed staff « lecture incertaine (20 %) ». Measured in the field dumps
    of the devset and of the project's seeds 31, 53 and 67 (hand kinds, the typed kinds of 67) and photocopies of
    seed 2026: of 1,164 fields held, 119 had no recorded cause, 117 of them combs; with these rules 2 (two tick
    fields held by their confidence alone). No value, confidence or doubt of the 5,891 fields changed. The cells'
    disagreement is its own rule, not ``readers_differ``, which the re-reading past a copier's streak takes as a
    sign that a chosen value must be the re-read one (:func:`pipeline.reading.scan.page.reread_combs_past_streaks`;
    a review found that reusing it made that re-reading stricter for a comb the constrained decoder accepted).
    """
    if all(v.agreed for v in votes):
        return ["digits_unsure"] if any(v.confidence < ocr.text_confidence_min for v in votes) else []
    return ["digits_differ"]


def comb_field(field: Field, words: Sequence[Word], cells: Sequence[int], probabilities: np.ndarray,
               quality: float, ocr: OcrSettings, typed: bool = False,
               registration: RegistrationSettings | None = None, second: str | None = None,
               edge_share: float = 0.0, edge_reread_same: bool = False) -> ExtractedField:
    """Decide a comb's value and confidence from tesseract's words and the digit model, cell by cell.

    Tesseract's digits are placed in the inked cells left to right when it read exactly one per
    cell; each cell is then put to :func:`pipeline.reading.scan.digit_model.agree`. The comb's confidence is its weakest
    cell's, capped at ``ocr.unread_confidence`` when a cell is empty in a comb that must be full, and
    by the value's own syntax (:func:`validator_cap`). When tesseract lost or invented a digit, the
    model's digits stand in as the value shown to the person, at ``icr.disagree_confidence``.

    Args:
        field: The comb field.
        words: Tesseract's words for its row.
        cells: Indexes of its inked cells.
        probabilities: ``(len(cells), 10)`` digit probabilities.
        quality: Position quality 0-1 of the comb (``pipeline.reading.realign``).
        ocr: Thresholds.
        typed: The comb's digits and its page stand on one baseline (``pipeline.reading.scan.hand.looks_handwritten``
            says no): tesseract decides when it reads one digit per inked cell at
            ``icr.typed_digit_confidence_min`` or more and a second reader reads the same digits, the digit
            model or PP-OCRv6 (``second``); when neither does, the comb goes to a person at
            ``icr.disagree_confidence``. When all three read the same digits, the comb is at
            ``ocr.readers_agree_confidence`` at least, whatever tesseract's own score: measured at 7e1b63d, such
            unanimous combs were right 92 of 92 on the devset's typed forms (one held, tesseract's score 0.0 on a
            photocopy's date) and 153 of 153 on the project's own typed scans. ``make test`` at 85e3626: a 300 dpi
            1-bit TIFF's typed phone
            ``0772842905`` was read ``…908`` by tesseract at 0.80, ``…905`` by the model, and routed.
            When tesseract and PP-OCRv6, the two OCR engines, read the same digits, one per cell, and only the digit
            model differs, the comb is at ``ocr.readers_chosen_confidence`` at least, whatever tesseract's own
            score (until 2026-12-07 a score under ``icr.typed_digit_confidence_min`` left it to the model, which
            held it). Measured on every typed comb the two engines read alike, one digit per cell, in the field
            dumps of seven corpora (the devset's typed forms; the project's typed kinds of seeds 67, 53, 43 and 41,
            and its photocopies of seeds 41 and 2026): 976, every one right; 11 of them were held with the model
            reading other digits (a dithered fax's birth date on the devset; halftone faxes, a stamped scan and
            photocopies of ours). Through the whole reader, against 42c6c23, fields newly accepted: devset 1,
            seed 67 typed 3, photocopies of seeds 2026 and 41: 4 and 0, all right; no other field changed.
        registration: What the position quality costs the confidence.
        second: The second text reader's digits on the comb's row (``pipeline.reading.scan.second_reader``),
            or ``None`` when it read none. On a handwritten comb, tesseract and the digit model decide cell by
            cell; when PP-OCRv6 read a whole comb of other digits, the comb goes to a person
            (:func:`second_reads_other_digits`).
        edge_share: The largest share of a digit's height along which it touches an erased vertical cell edge
            (:attr:`pipeline.reading.scan.comb_cells.CellInk.edge_share`). A handwritten comb at
            ``icr.edge_touch_share_max`` or more goes to a person (rule ``digit_on_cell_edge``), and no digits-only
            decoding may accept it (``pipeline.reading.scan.constrained.decode_handwritten``): a side of the digit lying
            along the edge was erased with the printed outline, and every reader read the same strip. Unless PP-OCRv6,
            reading the comb again with the outline along the digit given back (:attr:`CombStrip.restored`), reads it
            exactly as before (``edge_reread_same``), one digit per cell and the comb's value (rule
            ``edge_reread_agrees``): then the erasure took nothing the digits needed. Measured through the whole reader
            (``bench.corpus``'s reading, every field) against d56cf80: the devset, no field changed (its hands write
            inside the cells: no comb reaches 0.3; three combs held already gain the reason); the project's hand kinds
            of seed 77 (24 forms, made after the rule was written) and the same kinds of seeds 4242, 4343 and 4444
            written in four fonts the product was never tuned on (72 forms): the two wrong values accepted there held
            (Klee One 8s read 3 by every reader, 0.88 and 0.89; the second look read ``06298B3321`` and ``18088.2013``),
            29 right combs held (5, 6, 5 and 13), none newly accepted. The second look released 85 combs: 71 accepted,
            all right; 14 held by other rules, 5 of them wrong, read alike the second time (a 2096 referrer date, held
            as impossible; a 9 read 7 that Tesseract read otherwise). Without the second look, seed 77 lost 11 right
            combs instead of 5.

    Returns:
        The extracted field (canonical comb value, source OCR), with the model's own digits in
        ``model_digits``.
    """
    read = "".join(ch for w in words for ch in w.text if ch.isdigit())
    per_cell: list[str | None] = list(read) if len(read) == len(cells) else [None] * len(cells)
    votes = [agree(t, words_confidence(words), p, ocr.icr) for t, p in zip(per_cell, probabilities, strict=True)]
    model = "".join(str(int(np.argmax(p))) for p in probabilities) or None
    rules: list[str] = []
    unanimous = typed and all(per_cell) and read == model == second
    engines_agree = typed and all(per_cell) and read == second
    if unanimous or engines_agree or (
            typed and all(per_cell) and words_confidence(words) >= ocr.icr.typed_digit_confidence_min):
        # Typed digits are tesseract's strength and outside the model's training (handwriting): on phone
        # photos the model read a blurred typed 7 as 9 at 0.98 (issue 3). Either second reader may vouch.
        witnessed = read in (model, second)
        rules.append("readers_agree" if witnessed else "readers_differ")
        shown = per_cell if witnessed or model != second or not model else list(model)  # the two others agree
        rules += [] if shown is per_cell else ["second_reading_shown"]
        agreed = words_confidence(words)
        if unanimous:
            agreed = max(agreed, ocr.readers_agree_confidence)
        elif engines_agree:
            agreed = max(agreed, ocr.readers_chosen_confidence)
        votes = [CellVote(t, agreed if witnessed else ocr.icr.disagree_confidence, witnessed)
                 for t in shown if t is not None]
    by_cells = not rules  # decided cell by cell by tesseract and the digit model (digit_model.agree)
    value = format_comb(field.kind, "".join(v.digit for v in votes))
    confidence = min((v.confidence for v in votes), default=ocr.unread_confidence) if value else ocr.unread_confidence
    if value and by_cells:
        rules += cell_rules(votes, ocr)
    if value and by_cells and second_reads_other_digits(second, "".join(v.digit for v in votes), len(field.cells)):
        confidence = min(confidence, ocr.icr.disagree_confidence)
        rules.append("readers_differ")
    if value and not typed and edge_share >= ocr.icr.edge_touch_share_max:
        if edge_reread_same and second == "".join(v.digit for v in votes):
            rules.append("edge_reread_agrees")
        else:
            confidence = min(confidence, ocr.icr.disagree_confidence)
            rules.append("digit_on_cell_edge")
    if (capped := min(confidence, validator_cap(field.kind, value, ocr))) < confidence:
        confidence = capped
        # The validator tells staff what is wrong with a date, a postcode or a phone that is no French number
        # (« date impossible ou mal écrite (format attendu JJ/MM/AAAA) »); a French number that is no mobile, on
        # the mobile comb (OcrSettings.phone_combs_mobile), it accepts.
        if field.kind is FieldKind.PHONE and value and phone_digits_ok(value, mobile_only=False):
            rules.append("phone_not_mobile")
    if len(cells) != len(field.cells):  # a part-filled comb: the cause staff are shown, last
        confidence = min(confidence, ocr.unread_confidence)
        rules.append("comb_part_filled")
    readings = (ReaderReading(reader=Reader.TESSERACT, value=read or None, score=round(words_confidence(words), 4)),
                ReaderReading(reader=Reader.DIGIT_MODEL, value=model),
                ReaderReading(reader=Reader.PPOCR, value=second))
    return ExtractedField(name=field.name, value=value, confidence=with_quality(confidence, quality, registration),
                          source=Source.OCR, page=field.page, zone=zone_box(field), model_digits=model,
                          readings=readings, rules=tuple(rules))
