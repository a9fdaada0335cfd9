"""Read every field of a scanned page: the order of the scan reader's steps.

The page is identified (``pipeline.reading.identify``) and registered
(``pipeline.reading.register``), so each zone of the form definition is cut out of the
registered image by multiplying its points by ``dpi / 72``. :func:`read_scan_page` is a short
sequence of named steps, each in the module of its concern:

1. ink and foreign ink: ``pixels.ink_mask``, ``foreign_ink.foreign_ink`` (stamps, stray
   signatures, copier streaks), ``streaks.drop_clear_streaks``, ``foreign_ink.drop_isolated_specks``;
2. text zones (``text_zones``): stacked into one strip per language for tesseract (``strips``);
3. combs (``combs``): each cell's digit read by tesseract and the digit model (``digit_model``),
   a cell passing only when both agree;
4. OMR (``omr``): tick boxes and signatures, read while tesseract works;
5. text rules (``text_rules``): repairs, caps and the handwriting hold (``hand``); a typed zone whose two
   readers differ and that no witness settles (``choices``) is read a third time (``third_reading``);
6. foreign ink: a field a stamp or a streak reaches goes to a person.

Speed comes from calling tesseract three times per page (text, e-mails, digits), not once per
zone; the three calls run side by side.
"""


from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import cv2
import numpy as np

from pipeline.deciding.crosscheck import fix_email
from pipeline.deciding.fields import clean_text_value
from pipeline.form.definition import (
    Field,
    FieldKind,
    FormDefinition,
    PageIdentity,
    PageLayout,
    Rect,
    form_v1,
)
from pipeline.form.template_image import blank_page_image
from pipeline.reading.anchors import find_page
from pipeline.reading.identify import IdentifiedPage, check_identity
from pipeline.reading.lexicon import first_names
from pipeline.reading.realign import realign_field
from pipeline.reading.register import RegisteredPage, register_page
from pipeline.reading.scan.choices import agreement_holds, choose_reading, chosen_by_a_rule, name_without_edge_marks
from pipeline.reading.scan.combs import CombStrip, comb_field, read_comb_fields
from pipeline.reading.scan.constrained import decode_handwritten
from pipeline.reading.scan.foreign_ink import (
    ForeignInk,
    drop_isolated_specks,
    foreign_ink,
    streak_band,
)
from pipeline.reading.scan.hand import agreement_of, baseline_counts, looks_handwritten
from pipeline.reading.scan.letter_combs import (
    erase_letter_grids,
    inked_cells,
    letter_comb_fields,
    line_on_cells,
    marks_above,
)
from pipeline.reading.scan.omr import (
    blank_interior_inked,
    blank_rings,
    boxes_hold_only_streaks,
    deeper_from_rings,
    frame_from_rings,
    name_weak_ticks,
    read_signature,
    read_ticks,
)
from pipeline.reading.scan.photo_witness import hold_unstable_agreements, settle_by_grey_reading, wants_grey_reading
from pipeline.reading.scan.pixels import (
    GreyLevels,
    crop_rect,
    descreen,
    dither_share,
    grey_levels,
    grow_ink,
    ink_mask,
    paper_to_white,
    scaled,
    sharpen_for_ocr,
)
from pipeline.reading.scan.second_reader import LineReading, read_lines
from pipeline.reading.scan.streaks import (
    drop_clear_streaks,
    erase_streaks_through_writing,
    streak_unseen_in_zones,
    zone_ink,
)
from pipeline.reading.scan.strips import (
    DIGITS_VARIABLES,
    Strip,
    Word,
    limit_tesseract_threads,
    ocr_strip,
    strip_crops,
    words_by_slot,
)
from pipeline.reading.scan.text_rules import (
    CLASS_LETTER_FIELDS,
    caps_that_bite,
    class_line_confidence,
    drop_speck_tokens,
    drop_speck_words,
    email_confidence,
    repair_reading,
    text_value,
    words_confidence,
)
from pipeline.reading.scan.text_zones import read_text_fields, typed_as_read
from pipeline.reading.scan.third_reading import settle_by_third_reading, third_readings, wants_third_reading
from pipeline.reading.scan.zones import COMB_KINDS, with_quality, zone_box
from pipeline.reading.timing import StageClock
from pipeline.settings import OcrSettings, OmrSettings, RegistrationSettings
from schemas.extraction import Doubt, ExtractedField, RawValue, Reader, ReaderReading, Source, normalise_text

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ScanPageResult:
    """Everything read from one scanned page.

    Attributes:
        identity: Form serial, version and page number from the QR codes.
        quarter_turns: Counter-clockwise quarter turns that made the input upright (0-3).
        dpi: Resolution the page was registered and read at (px per inch).
        residual_pt: Registration residual in PDF points (see ``RegisteredPage.residual_pt``).
        anchors_found: Registration anchors located, of five.
        fields: Field name → extracted field, for every field of this page.
        crops: Field name → PNG image of the field's zone on the registered page (see
            ``pipeline.reading.crops``), for the review desk to show beside the value.
        handwritten: Whether the page as a whole was judged filled by hand (the median baseline agreement
            of its zones, :func:`pipeline.reading.scan.hand.looks_handwritten`); the form follows its most
            handwritten page (:func:`pipeline.deciding.crosscheck.hold_handwritten_form`).
        stage_seconds: Stage name → wall seconds spent reading this page (:class:`~pipeline.reading.timing.StageClock`;
            the OCR stages run in threads beside the others, so the stages add up to more than the page's time).
    """

    identity: PageIdentity
    quarter_turns: int
    dpi: float
    residual_pt: float
    anchors_found: int
    fields: dict[str, ExtractedField]
    crops: dict[str, bytes] = field(default_factory=dict)
    handwritten: bool = False
    stage_seconds: dict[str, float] = field(default_factory=dict)


def field_crops(image: np.ndarray, px_per_pt: float, fields: Sequence[Field], crop_dpi: float) -> dict[str, bytes]:
    """PNG crops of each field's zone (with a margin of ``CROP_MARGIN_PT``) from a registered page.

    Args:
        image: The registered grey page.
        px_per_pt: Its scale.
        fields: Fields to cut out.
        crop_dpi: Resolution of the crops (downscaled when the page is finer; never upscaled).

    Returns:
        Field name → PNG bytes (grey, a few kilobytes each).
    """
    factor = min(1.0, crop_dpi / (px_per_pt * 72.0))
    out: dict[str, bytes] = {}
    for f in fields:
        r = f.rect
        crop = crop_rect(image, Rect(r.x0 - CROP_MARGIN_PT, r.top - CROP_MARGIN_PT, r.x1 + CROP_MARGIN_PT,
                                 r.bottom + CROP_MARGIN_PT), px_per_pt)
        if not crop.size:
            continue
        ok, png = cv2.imencode(".png", scaled(crop, factor), [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if ok:
            out[f.name] = png.tobytes()
    return out


CROP_MARGIN_PT = 4.0


"""Margin kept around a field's zone in its crop, so a person sees a stroke that crosses the edge."""


def read_scan_page(
    image: np.ndarray,
    dpi_hint: float | None = None,
    ocr: OcrSettings | None = None,
    omr: OmrSettings | None = None,
    definition: FormDefinition | None = None,
    registration: RegistrationSettings | None = None,
) -> ScanPageResult:
    """Read every field of one scanned page, each field once.

    Args:
        image: The scanned page, ``uint8`` grey array ``(height_px, width_px)``, any quarter-turn
            orientation, skew up to a few degrees.
        dpi_hint: The scan's resolution in px per inch if the file says it; otherwise it is
            estimated from the QR module size. The page is registered and read at this resolution.
        ocr: Tesseract settings (defaults: ``OcrSettings()``).
        omr: Tick-box and signature settings (defaults: ``OmrSettings()``).
        definition: Form geometry the page is found with (defaults to version 1); the page is then read with the
            definition of the version its QR code or footer says (``pipeline.form.definition.form_definition``).
        registration: Identification, registration and position-quality settings (defaults:
            ``RegistrationSettings()``).

    Returns:
        The page identity, registration figures and one ``ExtractedField`` per field of the page:
        text/e-mail ``str | None`` and combs in canonical form (source OCR); choices ``list[str]``
        in form order, flags and signatures ``bool`` (source OMR).

    Raises:
        PageNotIdentifiedError: No QR code of ours on the page.
        RegistrationError: The anchors could not be found or do not agree.
        OcrError: Tesseract failed or timed out.
    """
    ocr, omr, definition = ocr or OcrSettings(), omr or OmrSettings(), definition or form_v1()
    registration = registration or RegistrationSettings()
    limit_tesseract_threads(ocr.tesseract_threads)  # before the reader threads start
    clock = StageClock()
    with clock.stage("identify_register"):
        # As received: registration resamples the dots.
        dithered = dither_share(image, ocr.dither_share_min) >= ocr.dither_share_min
        identified, page, definition = identify_and_register(image, dpi_hint, definition, registration,
                                                             ocr.descreen_sigma_pt if dithered else None)
    number = identified.identity.page
    page_fields = definition.page_fields(number)

    def timed(stage: str, reader: Callable[..., T], *args: Any) -> T:
        with clock.stage(stage):
            return reader(*args)

    # Work that needs only the registered page (realigning boxes and combs on the blank form, the desk's crops)
    # starts beside the ink separation; the readers start as soon as their zones are cut, and combs and tick boxes
    # are read while they work (Tesseract runs in its own processes, PP-OCRv6 and OpenCV release the GIL).
    with ThreadPoolExecutor(max_workers=6) as pool:
        realign_job = pool.submit(timed, "realign", realign_zones, page_fields, page, number, definition,
                                  registration)
        crops_job = pool.submit(timed, "crops", field_crops, page.image, page.px_per_pt, page_fields, ocr.crop_dpi
                                ) if ocr.keep_crops else None
        with clock.stage("ink"):
            ink = separate_ink(page, number, definition, ocr, omr, dithered)
        photographed = page.evenness < registration.even_paper_min  # its light had to be flattened
        with clock.stage("zones"):
            zones = prepare_zones(page_fields, page, ink, definition.pages[number - 1], ocr, photographed,
                                  registration)
        text_job = pool.submit(timed, "tesseract_text", ocr_strip, zones.text_strip, ocr, ocr.language)
        mail_job = pool.submit(timed, "tesseract_mail", ocr_strip, zones.mail_strip, ocr, ocr.email_language)
        zone_crops = [*strip_crops(zones.text_strip), *strip_crops(zones.mail_strip)]
        second_job = pool.submit(timed, "second_reader", read_lines, zones.second_crops, ocr.second_reader_batch,
                                 ocr.second_reader_threads)
        with clock.stage("waiting_for_realign"):
            aligned = realign_job.result()
        with clock.stage("combs"):
            combs = read_comb_fields([aligned[f.name][0] for f in page_fields if f.kind in COMB_KINDS], page,
                                     ink.ocr_image, comb_ink(page, ink, ocr, photographed), ocr, registration,
                                     None if photographed else ink.levels.paper)
        comb_job = pool.submit(timed, "tesseract_combs", ocr_strip, combs.strip, ocr, ocr.language, DIGITS_VARIABLES)
        second_comb_job = pool.submit(timed, "second_reader", read_lines, strip_crops(combs.strip),
                                      ocr.second_reader_batch)
        restored_job = pool.submit(timed, "second_reader", read_lines, combs.restored_crops(),
                                   ocr.second_reader_batch) if combs.restored is not None else None
        with clock.stage("tick_boxes"):
            fields, unstreaked = read_marks(page_fields, aligned, page, ink, omr, registration)
            name_weak_ticks(fields, ocr.text_confidence_min)
        with clock.stage("waiting_for_ocr"):
            text_words, mail_words, comb_words = text_job.result(), mail_job.result(), comb_job.result()
            second = [*second_job.result(), *second_comb_job.result()]
            restored_digits = combs.restored_readings(restored_job.result() if restored_job is not None else [])
            crops = crops_job.result() if crops_job is not None else {}
    second_combs = second[len(zones.text_fields) + len(zones.mail_fields):]
    fields.update(zones.decided | combs.decided)
    text_pairs = [*zip(zones.text_fields, words_by_slot(text_words, zones.text_strip.slots), strict=True),
                  *zip(zones.mail_fields, words_by_slot(mail_words, zones.mail_strip.slots), strict=True)]
    with clock.stage("hands"):
        # A dithered page's letters are judged on its descreened ink: dots along a typed line's edges broke its
        # baseline, and whole typed pages were held as handwritten (judge_hands).
        hands = judge_hands(text_pairs, combs, ink.marks_writing, definition, page.px_per_pt, ocr)
    with clock.stage("fields"):
        fields.update(text_fields_read(text_pairs, second[:len(text_pairs)], hands, fields.get("class_level"), page,
                                       ocr, registration))
    agreed = {f.name for f, _ in text_pairs if not f.is_letter_comb and wants_grey_reading(fields[f.name], ocr)
              } if photographed else set()
    differing = {f.name: first_reader_value(f, words)[0] for f, words in text_pairs
                 if not f.is_letter_comb and wants_third_reading(fields[f.name], ocr)} if photographed else {}
    settled: list[str] = []  # two engines agree on these: no third reading may undo it
    if agreed or differing:
        with clock.stage("photo_witness"):
            printed = definition.pages[number - 1]
            grey_fields, grey_crops = zone_crops_on(
                page.image, [f for f, _ in text_pairs if f.name in agreed or f.name in differing], page, ink, ocr,
                printed.qr_codes + printed.anchors)
            grey_lines = dict(zip((f.name for f in grey_fields), read_lines(
                grey_crops, ocr.second_reader_batch, ocr.second_reader_threads), strict=True))
            witnessed = [f for f in grey_fields if f.name in agreed]
            hold_unstable_agreements(fields, witnessed, [grey_lines[f.name] for f in witnessed], ocr)
            settling = [f for f in grey_fields if f.name in differing]
            settled = settle_by_grey_reading(
                fields, settling, [second_reader_value(f, clean_text_value(f.kind, grey_lines[f.name].text))
                                   for f in settling],
                [differing[f.name] for f in settling], first_names(ocr.first_names_file), page, ocr, registration)
    third = [(f, crop) for (f, _), crop in zip(text_pairs, zone_crops, strict=True)
             if not f.is_letter_comb and f.name not in settled and wants_third_reading(fields[f.name], ocr)]
    if third:
        with clock.stage("third_reading"):
            read_again = third_readings([f for f, _ in third], [crop for _, crop in third], ocr)
            settle_by_third_reading(
                fields, [f for f, _ in third],
                [(first_reader_value(f, words)[0], second_reader_value(f, fields[f.name].read_by(Reader.PPOCR)))
                 for (f, _), words in zip(third, read_again, strict=True)],
                first_names(ocr.first_names_file), page, ocr, registration)
    with clock.stage("fields"):
        fields.update(comb_fields_read(combs, comb_words, second_combs, hands, aligned, ocr, registration,
                                       restored_digits))
        letters = [f for f, _ in text_pairs if f.is_letter_comb]
        inked = {f.name: inked_cells(ink.writing, f, page.px_per_pt, ocr) for f in letters}
        marked = {f.name: marks_above(ink.writing, f, page.px_per_pt, ocr) for f in letters}
        text_lines = [line_on_cells(f, line, inked[f.name]) if f.name in inked else line
                      for (f, _), line in zip(text_pairs, second, strict=False)]
        on_cells = {f.name: line for (f, _), line in zip(text_pairs, text_lines, strict=True) if f.name in inked}
    with clock.stage("constrained"):
        fields.update(decode_handwritten(fields, [f for f, _ in text_pairs], text_lines, combs,
                                         second_combs, hands.page_agreement,
                                         with_quality(1.0, page.quality, registration), ocr))
    with clock.stage("fields"):
        fields.update(letter_comb_fields(fields, letters, inked, marked, on_cells, ocr,
                                         with_quality(1.0, page.quality, registration)))
    through = [f for f, _ in text_pairs if f.name in ink.crossed and f.name not in ink.dropped]
    if through:
        with clock.stage("streak_reread"):
            unstreaked |= reread_past_streaks(fields, through, page, ink, definition, ocr, omr, photographed,
                                              registration)
    combs_through = [f for f in combs.fields if f.name in ink.crossed and f.name not in ink.dropped]
    if combs_through:
        with clock.stage("streak_reread"):
            unstreaked |= reread_combs_past_streaks(fields, combs_through, page, ink, definition, aligned, hands, ocr,
                                                    omr, photographed, registration)
    hold_foreign_ink(fields, ink.reached, ink.dropped | unstreaked, combs, omr)
    if dithered:
        _record_descreened(fields)
    log.debug("page %d read: %d fields, residual %.2f pt, %d text and %d comb zones OCR'd",
              number, len(fields), page.residual_pt, len(text_pairs), len(combs.fields))
    return ScanPageResult(identified.identity, identified.quarter_turns, page.dpi, page.residual_pt,
                          page.anchors_found, {f.name: fields[f.name] for f in page_fields}, crops,
                          hands.page_by_hand, clock.seconds())


def identify_and_register(image: np.ndarray, dpi_hint: float | None, definition: FormDefinition,
                          registration: RegistrationSettings | None = None, descreen_sigma_pt: float | None = None
                          ) -> tuple[IdentifiedPage, RegisteredPage, FormDefinition]:
    """Find the page by its QR codes and register it to the geometry of its own form version (a dithered page's
    anchors looked for through ``descreen_sigma_pt``'s blur: :func:`pipeline.reading.register.register_page`).

    Returns:
        The identified page, the registered page, and the definition of the page's version.

    A file's stated resolution farther than ``registration.dpi_hint_tolerance`` from the one measured on the
    QR codes is ignored (a phone's nominal 72 dpi is not the page's resolution).

    Raises:
        PageNotIdentifiedError: No QR code of ours on the page.
        RegistrationError: The anchors could not be found or do not agree.
    """
    registration = registration or RegistrationSettings()
    identified = find_page(image, definition, registration)
    definition = check_identity(identified.identity, definition)
    if dpi_hint and abs(dpi_hint - identified.dpi_estimate) > registration.dpi_hint_tolerance * identified.dpi_estimate:
        dpi_hint = None
    return identified, register_page(identified, dpi_hint, definition, registration, descreen_sigma_pt), definition


@dataclass(frozen=True)
class PageInk:
    """The ink of a registered page, as each reader needs it (``uint8`` 0/1 masks at the page's DPI).

    Attributes:
        mask: All ink (:func:`pipeline.reading.scan.pixels.ink_mask`).
        marks: The ink tick boxes are read on and foreign ink is looked for on: ``mask``, or for a page received
            ``dithered`` the ink of the page descreened (:func:`pipeline.reading.scan.pixels.descreen`, then Otsu's
            threshold), whose dots are joined into strokes (:func:`read_marks`).
        marks_writing: ``writing`` made from ``marks`` as from ``mask`` (streaks clear of the writing dropped, letter
            grids erased): what a dithered page's signatures, comb cells and hand are read on; ``writing`` itself
            for any other page.
        writing: ``mask`` with the copier streaks clear of the writing dropped out
            (:func:`pipeline.reading.scan.streaks.drop_clear_streaks`); combs and signatures are read on it.
        text_mask: ``writing`` without toner specks far from any writing; text zones are read on it.
        ocr_image: The registered grey page with the paper outside ``text_mask`` set to white.
        levels: The page's paper and ink grey levels.
        foreign: Stamps, stray signatures and streaks found on the page.
        reached: Fields the foreign ink reaches, streaks included.
        crossed: Of those, the fields reached only by streaks.
        dropped: Text, comb and signature fields a streak was dropped out of.
        dithered: Whether the page was received error-diffused and ``ocr_image`` is descreened
            (:func:`reader_image`).
    """

    mask: np.ndarray
    marks: np.ndarray
    writing: np.ndarray
    marks_writing: np.ndarray
    text_mask: np.ndarray
    ocr_image: np.ndarray
    levels: GreyLevels
    foreign: ForeignInk
    reached: list[str]
    crossed: set[str]
    dropped: set[str]
    dithered: bool = False


def separate_ink(page: RegisteredPage, number: int, definition: FormDefinition, ocr: OcrSettings,
                 omr: OmrSettings, dithered: bool = False) -> PageInk:
    """Find the page's ink and the foreign ink in it, before any zone is read.

    Stamps, stray signatures and copier streaks are found first, so that a streak crossing a zone's blank
    part is dropped out of the text (``pipeline.reading.scan.foreign_ink``); the rest holds what it reaches.
    Toner specks far from any writing are not letters: dropped for reading text (photocopies, faxes). A page
    received ``dithered`` is descreened for the text and comb readers (:func:`reader_image`), and its foreign ink
    is looked for on it descreened: a fax's doubled rows pair its dots into blocks that outlast the speck
    removal. Measured 2026-12-07: on 12 dithered fax pages whose paper kept its tone (the project's generator,
    seed 41, background suppression skipped), 31 fields no longer held for foreign ink, none wrong; the devset's 3
    dithered pages and the project's 9 ``fax_halftone`` forms read the same (the devset's fax line through a box
    still holds it).
    """
    mask = ink_mask(page.image)
    smooth = descreen(page.image, page.px_per_pt, ocr) if dithered else page.image
    marks = ink_mask(smooth) if dithered else mask
    foreign = foreign_ink(marks, definition, number, omr, smooth)
    reached = foreign.fields_reached(definition, number, omr)
    crossed = set(reached) - set(foreign.fields_reached(definition, number, omr, streaks=False))
    def writing_of(ink: np.ndarray) -> tuple[np.ndarray, set[str]]:
        """``ink`` without the streaks clear of the writing and without form version 2's letter grids."""
        kept, dropped = drop_clear_streaks(ink, foreign, crossed, definition, number, page.px_per_pt, omr, ocr)
        return erase_letter_grids(kept, definition.page_fields(number), page.px_per_pt, ocr), dropped

    writing, dropped = writing_of(mask)
    # The same streaks dropped from the descreened ink: a fax line through a blank signature zone read signed.
    marks_writing = writing_of(marks)[0] if dithered else writing
    text_mask = drop_isolated_specks(writing, page.px_per_pt, omr)
    return PageInk(mask, marks, writing, marks_writing, text_mask, reader_image(page, text_mask, ocr, dithered),
                   grey_levels(page.image), foreign, reached, crossed, dropped, dithered)


def reader_image(page: RegisteredPage, text_mask: np.ndarray, ocr: OcrSettings, dithered: bool) -> np.ndarray:
    """The registered page as the text and comb readers see it: the paper outside ``text_mask`` white
    (:func:`pipeline.reading.scan.pixels.paper_to_white`) and, for a page received ``dithered`` (a fax in photo
    mode: :func:`pipeline.reading.scan.pixels.dither_share`), its dots joined into strokes again
    (:func:`pipeline.reading.scan.pixels.descreen`; rule ``descreened`` on the fields read from it).

    Measured 2026-12-05 (issue 16): devset, fields exact 1452 → 1455 of 1720, held 390 → 387, the same 12 forms
    routed, none wrong accepted (on its 3 dithered fax pages a typed birth date, school and referrer's mail address
    now read right; a school year and a guardian's surname and e-mail, read right before, are now held); the
    project's ``fax_halftone`` (seed 31, 16 forms), exact 599 → 671 of 688, held 179 → 53, values wrong yet accepted
    2 → 0. Held out (seed 37, 10 forms): exact 376 → 423 of 430, held 104 → 30, routed 0 → 1, none wrong accepted
    once a given name read without its accent is held (:func:`pipeline.reading.scan.choices.accent_lost`: ``Anais``
    read alike by both readers at 0.89). Its other kinds are never dithered (:attr:`OcrSettings.dither_share_min`):
    unchanged.
    """
    image = paper_to_white(page.image, text_mask)
    return descreen(image, page.px_per_pt, ocr) if dithered else image


def _record_descreened(fields: dict[str, ExtractedField]) -> None:
    """Add the rule ``descreened`` to every field of ``fields`` (updated in place) that a text reader read."""
    for name, f in fields.items():
        if f.readings:
            fields[name] = f.model_copy(update={"rules": ("descreened", *f.rules)})


@dataclass(frozen=True)
class TextZones:
    """Text and e-mail zones ready for the readers: one strip per language for tesseract, empty zones already decided.

    Attributes:
        text_strip: The inked text zones, stacked for tesseract in ``ocr.language``.
        text_fields: Their fields, in slot order.
        mail_strip: The inked e-mail zones, stacked for tesseract in ``ocr.email_language``.
        mail_fields: Their fields, in slot order.
        decided: Fields answered without reading (no ink in the zone).
        second_crops: The same zones as PP-OCRv6 reads them, text then e-mail, in slot order: ``uint8`` grey crops
            at ``ocr.text_ocr_dpi``, the strips' own crops on a photographed page, else cut from
            :func:`second_reader_image`.
    """

    text_strip: Strip
    text_fields: list[Field]
    mail_strip: Strip
    mail_fields: list[Field]
    decided: dict[str, ExtractedField]
    second_crops: list[np.ndarray]


def prepare_zones(page_fields: Sequence[Field], page: RegisteredPage, ink: PageInk, layout: PageLayout,
                  ocr: OcrSettings, photographed: bool, registration: RegistrationSettings) -> TextZones:
    """Stack the page's inked text and e-mail zones, each kind in its strip, and cut the second reader's crops.

    A photographed page's letters are sharpened for tesseract first
    (:func:`pipeline.reading.scan.pixels.sharpen_for_ocr`); the printed QR codes and anchors are cut out
    of the zones they overlap.
    """
    image = sharpen_for_ocr(ink.ocr_image, page.px_per_pt, ocr) if photographed else ink.ocr_image
    marks = layout.qr_codes + layout.anchors
    texts = [f for f in page_fields if f.kind is FieldKind.TEXT]
    mails = [f for f in page_fields if f.kind is FieldKind.EMAIL]
    text_strip, text_fields, decided_text = read_text_fields(texts, page, image, ink.text_mask, ocr, marks,
                                                             registration)
    mail_strip, mail_fields, decided_mail = read_text_fields(mails, page, image, ink.text_mask, ocr, marks,
                                                             registration)
    second_crops = [*strip_crops(text_strip), *strip_crops(mail_strip)]
    halo_px = round(ocr.second_reader_halo_pt * page.px_per_pt)
    if not photographed and halo_px >= 1:
        second = second_reader_image(page, ink, halo_px, ocr)
        # The same fields are inked (the same mask decides), so the crops come in the same slots.
        second_crops = [*zone_crops_on(second, texts, page, ink, ocr, marks)[1],
                        *zone_crops_on(second, mails, page, ink, ocr, marks)[1]]
    return TextZones(text_strip, text_fields, mail_strip, mail_fields, decided_text | decided_mail, second_crops)


def zone_crops_on(image: np.ndarray, fields: Sequence[Field], page: RegisteredPage, ink: PageInk, ocr: OcrSettings,
                  marks: Sequence[Rect]) -> tuple[list[Field], list[np.ndarray]]:
    """The inked zones of ``fields`` and their crops cut from ``image``, as the readers' strips cut them.

    Zones are told inked on the page's text mask (:func:`pipeline.reading.scan.text_zones.read_text_fields`),
    whatever ``image`` is: another image of the same registered page (PP-OCRv6's with the ink's halo, the grey photo)
    gives crops in the same slots as the first readers'.

    Args:
        image: A ``uint8`` grey image of ``page.image``'s shape.
        fields: Text or e-mail fields of the page.
        page: The registered page (scale, resolution).
        ink: Its ink (the text mask decides which zones are inked).
        ocr: The readers' resolution and strip geometry.
        marks: Printed QR codes and anchors cut out of the zones they overlap (PDF points).

    Returns:
        The inked fields, in slot order, and one ``uint8`` crop each at ``ocr.text_ocr_dpi`` (full strip width,
        white padding included).
    """
    strip, inked, _ = read_text_fields(fields, page, image, ink.text_mask, ocr, marks)
    return inked, strip_crops(strip)


def second_reader_image(page: RegisteredPage, ink: PageInk, halo_px: int, ocr: OcrSettings) -> np.ndarray:
    """The registered page as PP-OCRv6 reads a scan's text zones: the grey of the ink and of a halo of ``halo_px``
    around it (``ocr.second_reader_halo_pt`` at the page's scale), the paper beyond white.

    Tesseract reads the page with the paper outside the ink mask set to white (:func:`reader_image`). The mask keeps
    the pixels dark enough to be ink; a pen's or a faint print's lighter edges fall outside it and are cut away,
    and PP-OCRv6, a network trained on photographs of text, reads strokes so thinned worse than whole ones. The
    halo gives it back the edges as scanned. Ink the page's separation took out (toner specks, copier streaks,
    the letter grids of form version 2) stays out, with its own lighter rim: the halo only brings back the edges
    of the ink that is read. A page received dithered is descreened as for Tesseract.

    Args:
        page: The registered page (grey image, scale).
        ink: Its ink (:func:`separate_ink`).
        halo_px: The halo's width in pixels of the page, 1 or more.
        ocr: The descreening's settings.

    Returns:
        A ``uint8`` grey page of ``page.image``'s shape.
    """
    kernel = np.ones((2 * halo_px + 1, 2 * halo_px + 1), np.uint8)
    grown = cv2.dilate(ink.text_mask, kernel)
    taken_out = ((ink.mask > 0) & (ink.text_mask == 0)).astype(np.uint8)
    # Nor its lighter rim: a streak's edge, left beside a letter it was erased from, reads as an accent.
    grown[(cv2.dilate(taken_out, kernel) > 0) & (ink.text_mask == 0)] = 0
    return reader_image(page, grown, ocr, ink.dithered)


def realign_zones(page_fields: Sequence[Field], page: RegisteredPage, number: int, definition: FormDefinition,
                  registration: RegistrationSettings) -> dict[str, tuple[Field, float]]:
    """Each tick box and comb moved onto its own printed place, with its position quality.

    Returns:
        Field name → (the field at its printed place, quality 0-1), for tick and comb fields
        (:func:`pipeline.reading.realign.realign_field`).
    """
    template = blank_page_image(number, page.dpi, definition.version)
    return {f.name: realign_field(f, page.image, template, page.px_per_pt, page.residual_pt,
                                  registration=registration)
            for f in page_fields if f.is_tick or f.kind in COMB_KINDS}


def comb_ink(page: RegisteredPage, ink: PageInk, ocr: OcrSettings, photographed: bool) -> np.ndarray:
    """The ink combs are cut from: on a photo, grown into the digits' lighter strokes; on a page received
    dithered, its descreened writing (:attr:`PageInk.marks_writing`).

    A ballpoint is lighter than toner. Combs are read on the ink without the streaks dropped out of them
    (never grown back). A dithered page's dots put ink in every cell, empty or not, and break its digits into
    specks for the digit model. Measured 2026-12-07, the cells cut from the dots' ink, then the descreened: the
    devset's 3 dithered pages, fields accepted 164 → 165 (a handwritten birth date, right), the same exact; the
    project's 9 ``fax_halftone`` forms, exact 384 → 386, accepted 367 → 368; its 6 toned ones, exact 224 → 238,
    accepted 193 → 200; 4 devset typed referrals faxed with the paper's tone, exact 162 → 169, accepted 150 →
    152; no value wrong yet accepted in any.
    """
    if ink.dithered:
        return ink.marks_writing
    if not photographed:
        return ink.writing
    return grow_ink(page.image, ink.writing, ink.levels.paper, ocr.icr.comb_ink_growth) & (ink.writing | (1 - ink.mask))


def read_marks(page_fields: Sequence[Field], aligned: dict[str, tuple[Field, float]], page: RegisteredPage,
               ink: PageInk, omr: OmrSettings, registration: RegistrationSettings
               ) -> tuple[dict[str, ExtractedField], set[str]]:
    """OMR: every tick question and signature of the page, each read once.

    A choice or flag whose only foreign ink is a streak through empty boxes is read without the streak
    (:func:`pipeline.reading.scan.omr.boxes_hold_only_streaks`). The boxes of a page received dithered are read
    on its descreened ink (:attr:`PageInk.marks`), as its text is read descreened, and so are its signatures
    (on the dots, a blank signature zone of a fax whose paper kept its tone read signed at 0.91-0.96: variants of
    devset pages faxed so, 2026-12-07). A page whose paper itself reads as ink in its empty boxes
    (:func:`~pipeline.reading.scan.omr.blank_interior_inked`) reads no box and no signature with confidence.

    On an error-diffused fax the paper's grey is a scatter of single dots, which fill an empty box's interior past
    the empty band; blurred, a lone dot keeps a sixth of its darkness at most, a stroke several pixels wide all of
    its own, and Otsu's level on the blurred page falls between them. (Halfway between the page's paper and ink
    grey, the level thinned the faxes' one-pixel ticks into the unsure band: on the devset, 2 tick fields read
    wrong and held.)

    Measured 2026-12-07 on every dithered page of both corpora (no other page changes): the devset's 3 (two
    typed faxes, one handwritten), every empty box reads 0.000 (22 had been filled past ``omr.empty_max`` by the
    dots, up to 0.14), the 21 ticks read 0.31-0.57 (0.17-0.50 before); tick fields held 4 → 0, none read wrong
    before or after; the project's ``fax_halftone`` (9 forms of seeds 41, 53 and 67; its machine whitens the
    paper before it dithers): 126 tick fields, the same values and confidences.

    Returns:
        Field name → extracted field, and the tick fields read with a streak dropped out.
    """
    s = page.px_per_pt
    marks = ink.marks
    streaked = [f for f in page_fields if f.is_tick and f.name in ink.crossed]
    band = streak_band(ink.foreign.streaks, marks, s, omr) if streaked else None
    # The blank box's own look on this page (a printed fillable form inks its widget border inside the box).
    boxes = [b for f in page_fields if f.is_tick for b in aligned[f.name][0].boxes]
    blank = blank_rings(boxes, marks, s, omr)  # measured once, read twice
    frame_px = frame_from_rings(blank, s, omr)
    paper_inked = blank_interior_inked(boxes, marks, s, frame_px, omr)
    blank_unsure = paper_inked or deeper_from_rings(blank, s, omr)
    fields: dict[str, ExtractedField] = {}
    unstreaked: set[str] = set()
    for f in page_fields:
        if f.is_tick:
            box_field, box_quality = aligned[f.name]
            mask = marks
            if band is not None and f.name in ink.crossed and boxes_hold_only_streaks(box_field, marks, band, s,
                                                                                       omr):
                mask = marks & (1 - band)
                unstreaked.add(f.name)
            fields[f.name] = read_ticks(box_field, mask, s, omr, box_quality, page.image, ink.levels, registration,
                                        frame_px, blank_unsure)
        elif f.kind is FieldKind.SIGNATURE:
            fields[f.name] = read_signature(f, ink.marks_writing, s, omr, page.quality, registration, paper_inked)
    return fields, unstreaked


@dataclass(frozen=True)
class Hands:
    """How typed or handwritten the page's zones look (baseline agreement, 0-1; ``None`` when unmeasured).

    Attributes:
        zones: Field name → the zone's ink mask (:func:`pipeline.reading.scan.text_zones.zone_ink`).
        agreements: Field name → the zone's agreement, its reading's descenders excused
            (:func:`pipeline.reading.scan.hand.baseline_agreement`).
        page_agreement: Median of the zones' and combs' agreements, no descender excused.
        page_by_hand: Whether the page as a whole was filled by hand.
    """

    zones: dict[str, np.ndarray]
    agreements: dict[str, float | None]
    page_agreement: float | None
    page_by_hand: bool


def judge_hands(text_pairs: Sequence[tuple[Field, list[Word]]], combs: CombStrip, writing: np.ndarray,
                definition: FormDefinition, px_per_pt: float, ocr: OcrSettings) -> Hands:
    """Judge each text zone's hand, and the page's on its text zones and its combs together.

    Block capitals can stand as straight as type; digits written one per cell rarely do. A zone's own agreement
    excuses the descenders of tesseract's reading of it; the page's does not.

    ``writing`` is the page's writing ink; for a page received dithered, its descreened writing
    (:attr:`PageInk.marks_writing`), on which a typed line keeps its baseline. Measured 2026-12-07 with the dots'
    ink, then the descreened: the devset's 3 dithered pages, the same readings; the project's 9 ``fax_halftone`` forms,
    fields accepted 357 → 367 (none wrong), and its 6 toned ones 173 → 193 (none wrong; 14 held zones now show
    Tesseract's reading where a handwritten zone's constrained decoding had given the right value); 42 devset
    referrals faxed with the paper's tone (three variants, 30 typed, 12 handwritten), fields accepted 1,172 →
    1,246, none wrong (exact 1,539 → 1,523: held zones, shown as the typed path shows them), and the handwritten
    zones still held for their hand (79 of 80 text zones in each).
    """
    zones = {f.name: zone_ink(writing, f, definition, px_per_pt, ocr) for f, _ in text_pairs}
    counts = {name: baseline_counts(zone, px_per_pt, ocr.icr) for name, zone in zones.items()}
    agreements = {f.name: None if (c := counts[f.name]) is None else agreement_of(c, " ".join(w.text for w in words))
                  for f, words in text_pairs}
    # The page's median is measured as before, no descender excused: the excuse is for one zone's test.
    raw = [agreement_of(c) for c in counts.values() if c is not None]
    measured = [a for a in (*raw, *combs.agreements) if a is not None]
    page_agreement = float(np.median(measured)) if measured else None
    page_by_hand = looks_handwritten(None, page_agreement, ocr.icr)  # the page as a whole, not one zone
    return Hands(zones, agreements, page_agreement, page_by_hand)


def text_fields_read(text_pairs: Sequence[tuple[Field, list[Word]]], second: Sequence[LineReading], hands: Hands,
                     class_level: ExtractedField | None, page: RegisteredPage, ocr: OcrSettings,
                     registration: RegistrationSettings) -> dict[str, ExtractedField]:
    """Text and e-mail fields from their words: repairs, the two readers' verdict, caps, and the handwriting hold.

    When the readers differ, a witness of the field may choose one reading (:func:`choices.choose_reading`: edge
    marks, the given-name lexicon, the ticked level, a known mail domain). Otherwise, when only the second reader's
    reading passes the field's caps, that reading is the value shown to the person who decides; the field stays
    held.

    Raises:
        LexiconMissingError: The given-name lexicon is not installed (``ocr.first_names_file``).

    Args:
        text_pairs: Each inked text or e-mail field with the words tesseract read in it.
        second: The second reader's reading of each of those zones, in the same order
            (:func:`pipeline.reading.scan.second_reader.read_lines`).
        hands: The zones' and the page's hands (:func:`judge_hands`).
        class_level: The class level as read by OMR, which the class line is checked against.
        page: The registered page (scale and quality).
        ocr: Thresholds.
        registration: What the position quality costs the confidence.
    """
    fields: dict[str, ExtractedField] = {}
    names = first_names(ocr.first_names_file)
    for (f, read), line in zip(text_pairs, second, strict=True):
        readings = (ReaderReading(reader=Reader.TESSERACT, value=text_value(f.kind, read),
                                  score=round(words_confidence(read), 4) if read else None),
                    ReaderReading(reader=Reader.PPOCR, value=clean_text_value(f.kind, line.text),
                                  score=round(line.score, 4) if line.text else None))
        value, words, rules = first_reader_value(f, read)
        confidence = words_confidence(words) if value else ocr.unread_confidence
        if value and f.name in CLASS_LETTER_FIELDS:
            confidence = class_line_confidence(words, class_level, ocr.text_confidence_min)
        if f.kind is FieldKind.EMAIL:
            confidence = email_confidence(confidence, ocr)
        second_value = second_reader_value(f, readings[1].value)
        if (f.kind is FieldKind.EMAIL and "fix_email" not in rules
                and second_value != repair_reading(f.name, readings[1].value)):
            rules.append("fix_email")  # PP-OCRv6's reading was repaired: they are compared, and may be shown, so
        confidence, verdict = readers_verdict(value, second_value, confidence, ocr)
        rules.append(verdict)
        choice = None if verdict == "readers_agree" else choose_reading(f, value, second_value, class_level, names, ocr)
        bare = name_without_edge_marks(f.name, value) if verdict == "readers_agree" else None
        if bare is not None:  # a speck both readers read glued to a name
            value = bare
            rules.append("name_edge_marks_dropped")
        if choice is not None:
            value, confidence = choice.value, choice.confidence
            rules.append(choice.rule)
        elif verdict == "readers_differ" and second_value and caps_that_bite(f, value, ocr) and not caps_that_bite(
                f, second_value, ocr):
            value = second_value  # shown to the person who decides: the reading that has the field's shape
            rules.append("second_reading_shown")
        handwritten = looks_handwritten(hands.agreements[f.name], hands.page_agreement, ocr.icr) and not (
            not hands.page_by_hand and typed_as_read(hands.zones[f.name], words, page.px_per_pt, ocr))
        if handwritten and ocr.icr.hand_second_reading_shown and verdict == "readers_differ" and second_value and (
                second_value != value and not f.is_letter_comb and not chosen_by_a_rule(rules)):
            value = second_value  # shown to the person: the reader that misreads a hand least (IcrSettings)
            rules.append("hand_second_reading_shown")
        for name, cap in caps_that_bite(f, value, ocr):
            confidence = min(confidence, cap)
            rules.append(name)
        agreed = verdict == "readers_agree" or (choice is not None and choice.rule == "readers_agree_edges")
        holds = agreement_holds(f, value, (r.value for r in readings), names,
                                accent=verdict == "readers_agree") if agreed else []
        if holds:
            confidence = min(confidence, ocr.readers_differ_confidence)
            rules += holds
        doubt = None
        if handwritten:
            confidence = min(confidence, ocr.icr.handwritten_text_confidence)  # a person reads it from its crop
            doubt = (Doubt.HANDWRITTEN_FORM if hands.page_by_hand else Doubt.HANDWRITTEN) if value is not None else None
            rules.append("handwriting_hold")
        fields[f.name] = ExtractedField(name=f.name, value=value,
                                        confidence=with_quality(confidence, page.quality, registration),
                                        source=Source.OCR, page=f.page, zone=zone_box(f), doubt=doubt,
                                        readings=readings, rules=tuple(rules))
    return fields


def first_reader_value(f: Field, read: Sequence[Word]) -> tuple[str | None, list[Word], list[str]]:
    """Tesseract's reading of a text or e-mail zone after the field's repairs: specks dropped from text
    (``drop_speck_words``), the field's own repairs (``repair_reading``) and an e-mail's (``fix_email``).

    Returns:
        The value (``None`` when nothing was read), the words it was made from, and the names of the repairs that
        changed it.
    """
    rules: list[str] = []
    words = drop_speck_words(read) if f.kind is FieldKind.TEXT else list(read)
    if len(words) != len(read):
        rules.append("drop_speck_words")
    value = repair_reading(f.name, text_value(f.kind, words))
    if value != text_value(f.kind, words):
        rules.append("repair_reading")
    if f.kind is FieldKind.EMAIL:
        fixed = fix_email(value)
        rules += ["fix_email"] if fixed != value else []
        value = fixed
    return value, words, rules


def second_reader_value(f: Field, value: str | None) -> str | None:
    """PP-OCRv6's reading of a text or e-mail zone (after :func:`clean_text_value`) with the repairs its first
    reader's gets (:func:`first_reader_value`): specks dropped from text, the field's repairs, an e-mail's."""
    second = value if f.kind is FieldKind.EMAIL else drop_speck_tokens(value)
    second = repair_reading(f.name, second)
    return fix_email(second) if f.kind is FieldKind.EMAIL else second


def readers_verdict(first: str | None, second: str | None, confidence: float, ocr: OcrSettings
                    ) -> tuple[float, str]:
    """Weigh tesseract's reading of a zone against the second reader's (both after the field's repairs).

    Two independent readers that read the same characters are stronger evidence than either one's score
    (issue 16): agreeing, the confidence is raised to ``ocr.readers_agree_confidence``; differing, it is
    held under the review threshold at ``ocr.readers_differ_confidence``, whatever tesseract's own score.
    Values are compared after :func:`schemas.extraction.normalise_text` (white space, Unicode form).

    Returns:
        The confidence (0-1) and the verdict's rule name: ``readers_agree`` or ``readers_differ``.
    """
    if normalise_text(first) == normalise_text(second):
        return max(confidence, ocr.readers_agree_confidence), "readers_agree"
    return min(confidence, ocr.readers_differ_confidence), "readers_differ"


def comb_fields_read(combs: CombStrip, comb_words: Sequence[Word], second: Sequence[LineReading], hands: Hands,
                     aligned: dict[str, tuple[Field, float]], ocr: OcrSettings, registration: RegistrationSettings,
                     restored: Sequence[str | None] | None = None) -> dict[str, ExtractedField]:
    """Comb fields from tesseract's digits, the digit model's and the second reader's, judged typed or handwritten
    per comb (``second``: the second reader's reading of each comb row, in the strip's slot order; ``restored``: its
    text, spaces taken out, on each comb's row with the outline along a digit given back,
    :meth:`CombStrip.restored_readings`; a comb without one is held when a digit lies along an edge)."""
    fields: dict[str, ExtractedField] = {}
    for f, words, cells, probabilities, agreement, line, edge_share, again in zip(
            combs.fields, words_by_slot(comb_words, combs.strip.slots), combs.cells, combs.probabilities,
            combs.agreements, second, combs.edge_shares, restored or [None] * len(combs.fields), strict=True):
        typed = not looks_handwritten(agreement, hands.page_agreement, ocr.icr)
        digits = "".join(ch for ch in line.text if ch.isdigit()) or None
        same = bool(line.text.strip()) and again == "".join(line.text.split())
        fields[f.name] = comb_field(f, words, cells, probabilities, aligned[f.name][1], ocr, typed, registration,
                                    digits, edge_share, same)
    return fields


def reread_past_streaks(fields: dict[str, ExtractedField], through: Sequence[Field], page: RegisteredPage,
                        ink: PageInk, definition: FormDefinition, ocr: OcrSettings, omr: OmrSettings,
                        photographed: bool, registration: RegistrationSettings) -> set[str]:
    """Read again, with the streak taken out, the text zones a copier's streak crosses through the writing (combs:
    :func:`reread_combs_past_streaks`).

    First, zones where the streak is too pale to be ink are no longer held for it, unread
    (:func:`pipeline.reading.scan.streaks.streak_unseen_in_zones`, rule ``streak_unseen_in_zone``): the readers saw
    only the letters it passes over.

    Such a streak may add a letter (an ``l``, a ``|``) that both readers read alike, so their agreement alone does
    not clear it. Its own ink is taken out (:func:`pipeline.reading.scan.streaks.erase_streaks_through_writing`,
    with the part of a letter's stem it runs down) and the zone read again by both readers. When one reader reads
    the zone without the streak exactly as it read it with the streak, the streak's ink is not needed for that
    reading: the field is no longer held for it (rule ``streak_reread_agrees``) and keeps the confidence its first
    readings earned (two readers differing still hold it). A letter the streak added vanishes for both readers once
    taken out, so neither reading is the same and the field stays held. One reader, not both, must read the same:
    the other may lose the letter whose stem the streak ran down (« de » read « cle » by PP-OCRv6 on a devset
    photocopy, Tesseract reading « de » both times). What it cannot see is a mark hidden whole under the streak (a
    full stop exactly under it), gone both times; the field's other tests still apply to it. A zone the streak runs
    through too faintly or too broken to be taken out stays held.

    Measured at 99ba2be with the foreign-ink area of the same commit: devset, fields held as foreign ink 120 → 111
    (typed 8 → 6), one more typed scan routed with no person, nothing wrong accepted for it (a guardian's address
    whose hand's full stop every reader missed, far from the streak, came out of the hold: see
    ``constrained.has_dotted_twin``); the project's scans, copies, stamps and hand marks (seed 11, 6 each),
    72 → 60, every field it cleared right.

    Args:
        fields: The page's fields as read, updated in place (the rule's name added).
        through: Inked text and e-mail fields that only streaks reach, through their writing.
        page: The registered page.
        ink: Its ink and foreign ink.
        definition: The form.
        ocr: Languages, strip geometry and the second reader's batch.
        omr: Streak geometry.
        photographed: Whether the page's letters are sharpened for Tesseract (as for the first reading).
        registration: Passed to the zones' preparation.

    Returns:
        The names of the fields the streak no longer holds.
    """
    cleared = streak_unseen_in_zones(ink.text_mask, ink.foreign, through, definition, page.px_per_pt, omr, ocr)
    for name in cleared:
        fields[name] = fields[name].model_copy(update={"rules": (*fields[name].rules, "streak_unseen_in_zone")})
    through = [f for f in through if f.name not in cleared]
    writing, erased = erase_streaks_through_writing(ink.writing, ink.mask, ink.foreign, through, definition,
                                                    page.px_per_pt, omr, ocr)
    if not erased:
        return cleared
    zones = prepare_zones([f for f in through if f.name in erased], page, _unstreaked(ink, writing, page, ocr, omr),
                          definition.pages[through[0].page - 1], ocr, photographed, registration)
    words = [*words_by_slot(ocr_strip(zones.text_strip, ocr, ocr.language), zones.text_strip.slots),
             *words_by_slot(ocr_strip(zones.mail_strip, ocr, ocr.email_language), zones.mail_strip.slots)]
    lines = read_lines(zones.second_crops, ocr.second_reader_batch)
    again = {f.name: {Reader.TESSERACT: text_value(f.kind, read), Reader.PPOCR: clean_text_value(f.kind, line.text)}
             for f, read, line in zip([*zones.text_fields, *zones.mail_fields], words, lines, strict=True)}
    return cleared | _clear_where_a_reader_agrees(fields, again, ocr.text_confidence_min)


def _unstreaked(ink: PageInk, writing: np.ndarray, page: RegisteredPage, ocr: OcrSettings,
                omr: OmrSettings) -> PageInk:
    """``ink`` with ``writing`` (its streaks taken out) in place of its own, and the text mask and OCR image made
    from it as :func:`separate_ink` makes them; a dithered page's descreened writing loses the same pixels (and
    the pixel the blur spread them by)."""
    text_mask = drop_isolated_specks(writing, page.px_per_pt, omr)
    marks_writing = writing
    if ink.dithered:
        erased = (ink.writing & (1 - writing)).astype(np.uint8)
        marks_writing = ink.marks_writing & (1 - cv2.dilate(erased, np.ones((3, 3), np.uint8)))
    return replace(ink, writing=writing, marks_writing=marks_writing, text_mask=text_mask,
                   ocr_image=reader_image(page, text_mask, ocr, ink.dithered))


def _clear_where_a_reader_agrees(fields: dict[str, ExtractedField],
                                 again: dict[str, dict[Reader, str | None]], accepted_min: float) -> set[str]:
    """Fields some reader read again, with a streak taken out, exactly as it first read them: the rule
    ``streak_reread_agrees`` is added to them in ``fields``, and their names returned.

    Where the readers differed and a witness or a third reading still gave the field a confidence of at least
    ``accepted_min``, only a reader whose first reading is the field's value counts (:func:`_reads_value`): the
    other reader's steadiness says nothing of the chosen reading, which the streak may have made (a streak read as
    the ``l`` of ``Lilian`` by one reader, chosen by the given-name lexicon, while the other reads ``Lian`` with and
    without it). Found by a review on 2026-12-06; on every photocopy, stamp and hand mark read that day (devset;
    seeds 41, 43, 53, 67; photocopies of 59 and 2026) no field cleared the old way was wrong. A field held anyway
    for its differing readers is cleared as before: only the cause staff read changes.

    Args:
        fields: The page's fields as first read (``ExtractedField.readings``), updated in place.
        again: Field name → reader → its value read without the streak (``None``: nothing read).
        accepted_min: The review threshold (``OcrSettings.text_confidence_min``).
    """
    cleared: set[str] = set()
    for name, after in again.items():
        field = fields[name]
        before = {r.reader: r.value for r in field.readings}
        chosen = "readers_differ" in field.rules and field.confidence >= accepted_min
        if any(value is not None and before.get(reader) == value
               and (not chosen or _reads_value(value, field.value)) for reader, value in after.items()):
            fields[name] = field.model_copy(update={"rules": (*field.rules, "streak_reread_agrees")})
            cleared.add(name)
    return cleared


def _reads_value(reading: str, value: RawValue) -> bool:
    """Whether a reader's reading is the field's value: the same text once white space and Unicode form are
    normalised, or, for a comb's value (digits and separators only: ``14/06/2018``), the same digits."""
    if not isinstance(value, str):
        return False
    if normalise_text(reading) == normalise_text(value):
        return True
    digits = "".join(ch for ch in value if ch.isdigit())
    return bool(digits) and not any(ch.isalpha() for ch in value) and "".join(
        ch for ch in reading if ch.isdigit()) == digits


def reread_combs_past_streaks(fields: dict[str, ExtractedField], through: Sequence[Field], page: RegisteredPage,
                              ink: PageInk, definition: FormDefinition, aligned: dict[str, tuple[Field, float]],
                              hands: Hands, ocr: OcrSettings, omr: OmrSettings, photographed: bool,
                              registration: RegistrationSettings) -> set[str]:
    """Read again, with the streak taken out, the combs a copier's streak crosses through their digits.

    The combs' counterpart of :func:`reread_past_streaks`: the streak's own straight runs are taken out of the comb
    (:func:`pipeline.reading.scan.streaks.erase_streaks_through_writing`, with the part of a digit's stroke it runs
    down) and its digits cut and read again by tesseract, the digit model and PP-OCRv6. When one of them reads the
    same digits without the streak as with it, the streak's ink was not needed for that reading: the comb is no
    longer held for it (rule ``streak_reread_agrees``) and keeps what its first readings earned (readers that differ,
    a digit the model doubts, a date that does not parse still hold it). A streak running down a ``1`` takes the
    digit with it, the cell is left empty and the comb stays held.

    Measured at fa815d5 against the same commit without it: the project's stamped, photocopied, hand-marked and grey
    scans (seed 11, 6 each), fields held as foreign ink 60 → 53, held for a person 69 → 64, each comb released read
    right (dates, a postcode, a phone); devset (``bench --corpus ../shared/devset``) 103 → 98, three handwritten
    combs released and accepted, all right, two others still held by their readings; nothing wrong accepted in
    either.

    Args:
        fields: The page's fields as read, updated in place (the rule's name added).
        through: Inked combs, at their printed place (``aligned``), that only streaks reach, through their digits.
        page: The registered page.
        ink: Its ink and foreign ink.
        definition: The form.
        aligned: Each comb at its printed place, with its position quality.
        hands: The page's judgement of its hand (typed digits are read as typed again).
        ocr: The combs' cutting and reading settings.
        omr: Streak geometry.
        photographed: Whether the page's digits are grown into their lighter strokes (as for the first reading).
        registration: What position quality costs.

    Returns:
        The names of the combs the streak no longer holds.
    """
    writing, erased = erase_streaks_through_writing(ink.writing, ink.mask, ink.foreign, through, definition,
                                                    page.px_per_pt, omr, ocr)
    if not erased:
        return set()
    unstreaked = _unstreaked(ink, writing, page, ocr, omr)
    combs = read_comb_fields([f for f in through if f.name in erased], page, unstreaked.ocr_image,
                             comb_ink(page, unstreaked, ocr, photographed), ocr, registration,
                             None if photographed else ink.levels.paper)
    words = ocr_strip(combs.strip, ocr, ocr.language, DIGITS_VARIABLES)
    lines = read_lines(strip_crops(combs.strip), ocr.second_reader_batch)
    # Only the readers' values of this reading are used: the edge's second look (restored rows) is not needed.
    again = comb_fields_read(combs, words, lines, hands, aligned, ocr, registration)
    return _clear_where_a_reader_agrees(fields, {name: {r.reader: r.value for r in read.readings}
                                                 for name, read in again.items()}, ocr.text_confidence_min)


def hold_foreign_ink(fields: dict[str, ExtractedField], reached: Sequence[str], dropped: set[str], combs: CombStrip,
                     omr: OmrSettings) -> None:
    """Ink of a stamp, a stray signature or a copier's streak reaching a zone or a box: a person decides.

    A field a streak was dropped out of is not held, unless it is a comb left with an empty cell (a digit
    may lie under the streak). Lowers the held fields' confidence in ``fields`` to
    ``omr.foreign_ink_confidence`` with the doubt ``FOREIGN_INK``.
    """
    emptied = {f.name for f, cells in zip(combs.fields, combs.cells, strict=True) if len(cells) != len(f.cells)}
    emptied = dropped & (emptied | set(combs.decided))
    for name in (n for n in reached if n not in dropped or n in emptied):
        fields[name] = fields[name].model_copy(
            update={"confidence": min(fields[name].confidence, omr.foreign_ink_confidence),
                    "doubt": Doubt.FOREIGN_INK})
