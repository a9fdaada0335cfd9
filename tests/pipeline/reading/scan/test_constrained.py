"""Constrained decoding of handwritten zones: a listed value is taken only when the ink reads it, never forced."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.form.definition import form_v1
from pipeline.reading.rules import FIELD_RULES
from pipeline.reading.scan.constrained import (
    FIELD_DECODERS,
    ConstrainedReading,
    Context,
    accept,
    accepts,
    decode_digits,
    decode_zone,
    digits_witnessed,
    drops_a_letter_read,
    has_dotted_twin,
    local_as_read,
    page_context,
    page_names,
    show_valid_digits,
)
from pipeline.reading.scan.second_reader import LineReading, read_lines
from pipeline.settings import OcrSettings
from pipeline.settings.reading import ConstrainedSettings
from schemas.extraction import Doubt, ExtractedField, Reader, ReaderReading, Source, ZoneBox

# A hand font of samples.handwriting (Debian fonts-dkg-handwriting, Makefile HAND_FONT_PACKAGES).
HAND = Path("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf")
ZONE = ZoneBox(x0=0, top=0, x1=10, bottom=10)


def _hand_line(text: str) -> np.ndarray:
    image = Image.new("L", (1800, 96), 255)
    ImageDraw.Draw(image).text((30, 18), text, font=ImageFont.truetype(str(HAND), 52), fill=0)
    return np.asarray(image)


def _decode(field_name: str, text: str, context: Context) -> ConstrainedReading:
    line = read_lines([_hand_line(text)])[0]
    reading = decode_zone(form_v1().field(field_name), line, context)
    assert reading is not None
    return reading


@pytest.fixture
def context() -> Context:
    return Context(None, (), OcrSettings())


def test_a_listed_value_the_ink_spells_is_accepted(context: Context) -> None:
    for field_name, written in (("pupil_first_name", "Lucas"), ("guardian1_first_name", "Nathalie"),
                                ("pupil_town", "Bezons"), ("school_name", "Collège Claude Monet"),
                                ("home_languages", "turc"), ("home_languages", "français")):
        reading = _decode(field_name, written, context)
        assert (reading.value, reading.accepted) == (written, True), field_name
        assert reading.rule == FIELD_DECODERS[field_name][0]


def test_languages_are_kept_in_lower_case_whatever_case_the_hand_wrote(context: Context) -> None:
    # « Arabe, français » and « arabe, français » differ by one letter's case, which this hand barely shows: both
    # are the same value, which French writes in lower case.
    for written, kept in (("Arabe, français", "arabe, français"), ("FRANÇAIS", "français"),
                          ("Français, turc", "français, turc")):
        reading = _decode("home_languages", written, context)

        assert (reading.value, reading.accepted) == (kept, True), written


def test_a_given_name_keeps_its_case_rivals(context: Context) -> None:
    # For a name the case written is the value: a rival differing only by case is scored apart.
    reading = _decode("pupil_first_name", "Lucas", context)

    assert reading.value == "Lucas" and reading.accepted


def test_the_school_year_is_the_one_in_progress_or_a_neighbour() -> None:
    december = Context(None, (), OcrSettings(), date(2026, 12, 5))
    july = Context(None, (), OcrSettings(), date(2027, 7, 10))

    assert (_decode("school_year", "2026-2027", december).value, _decode("school_year", "2026-2027",
                                                                          december).accepted) == ("2026-2027", True)
    assert _decode("school_year", "2025-2026", december).accepted  # last year's form, sent late: the validator says
    assert _decode("school_year", "2026-2027", july).accepted  # July still belongs to the year that began in 2026
    far = _decode("school_year", "2031-2032", december)
    assert far.value != "2031-2032" and not far.accepted  # never forced onto a listed year


def test_a_name_missing_from_the_lexicon_is_not_forced_onto_its_neighbour(context: Context) -> None:
    # "Alexandrie" is no given name of the lexicon; "Alexandre" is one edit away from it.
    reading = _decode("pupil_first_name", "Alexandrie", context)

    assert reading.value != "Alexandrie" and not reading.accepted


def test_a_listed_name_that_drops_a_letter_the_ink_has_is_not_accepted_whatever_the_threshold() -> None:
    # A held-out hand (2026-12-07) read « Alexandrie » at 0.997; its listed neighbour « Alexandre » was accepted at
    # 0.90 over the shipped threshold. A city's own fitted threshold may be lower still: set to 0 here.
    lax = OcrSettings(constrained=ConstrainedSettings(fitted=(("constrained_first_name", 0.0),)))
    variant = _decode("pupil_first_name", "Alexandrie", Context(None, (), lax))
    misread = _decode("pupil_first_name", "Louise", Context(None, (), lax))

    assert (variant.value, variant.unconstrained, variant.accepted) == ("Alexandre", "Alexandrie", False)
    assert (misread.value, misread.accepted) == ("Louise", True)  # a letter misread, none dropped: still read


@pytest.mark.parametrize(("value", "reading", "drops"), [
    ("Alexandre", "Alexandrie", True),
    ("ARNAUD", "ARNAUDE", True),
    ("Marine", "Mrine", False),  # a letter the reader missed: added, not dropped
    ("Ethan", "¿than", False),  # a mark read for a letter
    ("RENÉ", "R E N É", False),  # capitals spaced one per box
    ("Jade", "Jade.", False),  # a speck
    ("Chloé", "Chlo'e", False),  # an accent read as a mark beside its letter (a review)
    ("Inès", "In`es", False),
    ("Marie", "Maire", False),  # two letters in each other's place
    ("Philippe", "Philippine", True),
])
def test_a_dropped_letter_is_a_letter_read_that_the_value_deletes(value: str, reading: str, drops: bool) -> None:
    assert drops_a_letter_read(value, reading) is drops


def test_the_class_line_is_the_ticked_level_and_a_division(context: Context) -> None:
    ticked = Context("CM2", (), context.ocr)

    assert (_decode("class_name", "CM2 B", ticked).value, _decode("class_name", "CM2 B", ticked).accepted) == (
        "CM2 B", True)
    assert not _decode("class_name", "CM1 B", ticked).accepted  # the line says another level than the box


def test_a_kinds_shipped_threshold_applies_until_a_city_fits_its_own() -> None:
    from pipeline.reading.scan.constrained import _verdict

    settings = ConstrainedSettings()
    shipped = dict(settings.shipped)["constrained_first_name"]
    assert shipped < settings.min_char_probability
    between = (shipped + settings.min_char_probability) / 2
    name = ConstrainedReading("Maëlys", between, 2.0, 1, "Maelys", False, "constrained_first_name")
    mail = ConstrainedReading("a.roux@free.fr", between, 9.0, 1, "a.roux@fre.fr", False, "constrained_email")

    assert _verdict(name, settings).accepted  # given names: the threshold calibrated on the project's hands
    assert "constrained_email" not in dict(settings.shipped)
    assert not _verdict(mail, settings).accepted  # a kind with none shipped: min_char_probability
    refitted = settings.model_copy(update={"fitted": (("constrained_first_name", 0.9),)})
    assert not _verdict(name, refitted).accepted  # a city's own fit replaces the shipped one


def test_the_rule_needs_probability_margin_and_closeness() -> None:
    settings = ConstrainedSettings()
    read = ConstrainedReading("Maëlys", 0.95, 2.0, 1, "Maelys", False, "constrained_first_name")

    assert accepts(read, settings)
    assert not accepts(ConstrainedReading("Maëlys", settings.min_char_probability - 0.01, 2.0, 1, "Maelys", False,
                                          "constrained_first_name"), settings)  # not probable
    assert not accepts(ConstrainedReading("Maëlys", 0.95, settings.min_margin / 2, 1, "Maelys", False, ""),
                       settings)  # a rival as likely
    assert not accepts(ConstrainedReading("Jade", 0.95, 2.0, 2, "Jale!", False, ""), settings)  # 2 edits of 4
    assert accepts(read, settings, min_probability=0.99) is False  # a fitted, stricter threshold


def test_digits_are_accepted_only_whole_valid_and_witnessed() -> None:
    settings = ConstrainedSettings()
    phone = form_v1().field("guardian1_phone")
    line = read_lines([_hand_line("0612345678")])[0]

    witnessed = decode_digits(phone, line, 10, ["0612345678"], settings)
    alone = decode_digits(phone, line, 10, ["0612345673", None], settings)
    part_filled = decode_digits(phone, line, 9, ["0612345678"], settings)

    assert witnessed is not None and (witnessed.value, witnessed.accepted) == ("0612345678", True)
    assert alone is not None and not alone.accepted
    assert part_filled is not None and not part_filled.accepted


def test_a_phone_comb_read_as_no_mobile_number_is_not_accepted() -> None:
    # Own scan_handwritten_v2 (seed 2026, form 4): a hand's 7 read 1 by Tesseract and PP-OCRv6 alike.
    settings = ConstrainedSettings()
    phone = form_v1().field("guardian1_phone")
    line = read_lines([_hand_line("0137328770")])[0]

    landline = decode_digits(phone, line, 10, ["0137328770"], settings)
    any_phone = decode_digits(phone, line, 10, ["0137328770"], settings, mobile_only=False)

    assert landline is not None and not landline.accepted
    assert any_phone is not None and (any_phone.value, any_phone.accepted) == ("0137328770", True)


def test_an_accepted_value_lifts_the_hold_and_keeps_its_evidence() -> None:
    held = ExtractedField(name="pupil_first_name", value="Lucos", confidence=0.35, source=Source.OCR, page=1,
                          zone=ZONE, doubt=Doubt.HANDWRITTEN, readings=(ReaderReading(reader=Reader.PPOCR,
                                                                                      value="Lucos"),),
                          rules=("readers_differ", "handwriting_hold"))
    reading = ConstrainedReading("Lucas", 0.93, 2.0, 1, "Lucos", True, "constrained_first_name")

    got = accept(held, reading, ConstrainedSettings(), quality=1.0)
    refused = accept(held, ConstrainedReading("Lucas", 0.5, 2.0, 1, "Lucos", False, "constrained_first_name"),
                     ConstrainedSettings())

    assert (got.value, got.confidence, got.doubt) == ("Lucas", ConstrainedSettings().accept_confidence, None)
    assert got.rules[-1] == "constrained_first_name" and "constrained_first_name" in FIELD_RULES
    assert got.readings[-1] == ReaderReading(reader=Reader.PPOCR_CONSTRAINED, value="Lucas", score=0.93)
    assert (refused.value, refused.confidence, refused.doubt) == ("Lucos", 0.35, Doubt.HANDWRITTEN)
    assert refused.readings[-1] == ReaderReading(reader=Reader.PPOCR_CONSTRAINED, value="Lucas", score=0.5)
    # A reading too far from the ink (or too close to a rival) is no point of the threshold's calibration.
    far = accept(held, ConstrainedReading("Lucas", 0.5, 2.0, 3, "Lxcxs", False, "constrained_first_name", False),
                 ConstrainedSettings())
    assert far.readings[-1].score is None


def _held_comb(name: str, value: str | None) -> ExtractedField:
    return ExtractedField(name=name, value=value, confidence=0.2, source=Source.OCR, page=1, zone=ZONE,
                          readings=(ReaderReading(reader=Reader.DIGIT_MODEL, value=value),), rules=("readers_differ",))


def test_a_held_comb_is_shown_with_its_digits_only_decoding_when_that_is_a_valid_value() -> None:
    # Devset r0013 (Breip hand): the digit model read 09/10/2026 as 09/10/5058; PP-OCRv6's digits read it right,
    # the comb stayed held (no witness), and the person was shown the model's impossible year.
    settings = ConstrainedSettings()
    date_field = form_v1().field("family_date")
    line = read_lines([_hand_line("09102026")])[0]
    reading = decode_digits(date_field, line, 8, ["09105058", None], settings)
    assert reading is not None and not reading.accepted and reading.unconstrained == "09102026"

    shown = show_valid_digits(_held_comb("family_date", "09/10/5058"), date_field, reading, settings)

    assert (shown.value, shown.confidence, shown.rules) == ("09/10/2026", 0.2,
                                                            ("readers_differ", "constrained_digits_shown"))
    assert "constrained_digits_shown" in FIELD_RULES
    off = ConstrainedSettings(digits_shown=False)
    assert show_valid_digits(_held_comb("family_date", "09/10/5058"), date_field, reading, off).value == "09/10/5058"


@pytest.mark.parametrize(("name", "digits", "accepted"), [
    ("family_date", "31022026", False),  # no such day
    ("family_date", "0910202", False),  # a cell short
    ("guardian1_phone", "0137328770", False),  # no mobile number
    ("pupil_postcode", "99999", False),  # no town of the lexicon
    ("family_date", "09102026", True),  # accepted: accept() set it already
])
def test_a_decoding_that_is_not_a_valid_value_leaves_the_vote_shown(name: str, digits: str, accepted: bool) -> None:
    held = _held_comb(name, "vote")
    reading = ConstrainedReading(digits, 0.5, float("inf"), 0, digits, accepted, "constrained_digits", False)

    assert show_valid_digits(held, form_v1().field(name), reading, ConstrainedSettings()) == held


def test_a_listed_postcode_is_shown() -> None:
    reading = ConstrainedReading("95100", 0.5, float("inf"), 0, "95100", False, "constrained_postcode", False)

    shown = show_valid_digits(_held_comb("pupil_postcode", "95700"), form_v1().field("pupil_postcode"), reading,
                              ConstrainedSettings())

    assert shown.value == "95100" and shown.rules[-1] == "constrained_digits_shown"


def test_teachers_come_only_from_confidently_read_referrer_fields() -> None:
    ocr = OcrSettings()
    level = ExtractedField(name="class_level", value=["CM2"], confidence=0.95, source=Source.OMR, page=1, zone=ZONE)
    sure = ExtractedField(name="referrer_email", value="j.roux@ac-versailles.fr", confidence=0.95,
                          source=Source.OCR, page=1, zone=ZONE)
    held = sure.model_copy(update={"value": "j.langlcis@ac-versailles.fr", "confidence": 0.35})

    assert page_context({"class_level": level, "referrer_email": sure}, ocr) == Context("CM2", ("Roux",), ocr)
    assert page_context({"class_level": level, "referrer_email": held}, ocr).teachers == ()


def test_a_guardians_address_is_read_against_the_names_the_page_reads() -> None:
    names = {"guardian1_first_name": ("Odette",), "guardian1_surname": ("LEMAIRE", "LEMA1RE")}
    context = Context(None, (), OcrSettings(), date(2026, 12, 5), names)

    for written in ("odette.lemaire48@wanadoo.fr", "lemaire.odette@free.fr"):
        reading = _decode("guardian1_email", written, context)
        assert (reading.value, reading.accepted, reading.rule) == (written, True, "constrained_email"), written
    # Without its full stop, the address is one small mark from « odette.lemaire@orange.fr »: read, not accepted.
    reading = _decode("guardian1_email", "odettelemaire@orange.fr", context)
    assert (reading.value, reading.accepted) == ("odettelemaire@orange.fr", False)
    # Another surname than the page's, a domain off the list: the nearest address is never forced onto the ink.
    for written in ("odette.lemoine@orange.fr", "odette.lemaire@monfai.fr"):
        reading = _decode("guardian1_email", written, context)
        assert reading.value != written and not reading.accepted, written


def test_an_address_listed_from_a_misread_name_is_not_forced_onto_the_ink_that_says_otherwise() -> None:
    # The project's scan_handwritten (seed 31, form 2): JULIEN read SULIEN on the page, the address written right.
    context = Context(None, (), OcrSettings(), date(2026, 12, 5),
                      {"guardian1_first_name": ("Lucie",), "guardian1_surname": ("SULIEN",)})
    reading = _decode("guardian1_email", "lucie.julien@gmail.com", context)
    assert reading.unconstrained.startswith("lucie.julien")  # the ink's own letters
    assert reading.value == "lucie.sulien@gmail.com" and not reading.accepted and not reading.eligible


@pytest.mark.parametrize(("value", "reading", "same"), [
    ("marthe.roussel@outlook.fr", "martheroussel@outlook.fr.", True),
    ("g.fernandes@free.fr", "g.fernandes@freefr", True),
    ("jean-luc.lefevre@free.fr", "jeanluc.lefèvre@fre.fr", True),
    ("lucie.sulien@gmail.com", "lucie.julien@grail.com", False),
    ("roland.fouquet@orange.fr", "rdand.fauquet@orange.fr", False),
    ("a.roux@free.fr", "a.roux2@free.fr", False),
])
def test_an_addresss_local_part_as_read_is_its_letters_and_digits(value: str, reading: str, same: bool) -> None:
    assert local_as_read(value, reading) is same


def test_an_address_one_full_stop_from_another_has_a_dotted_twin() -> None:
    listed = ["marthe.roussel@outlook.fr", "martheroussel@outlook.fr", "m.roussel@outlook.fr", "mroussel@outlook.fr"]
    assert has_dotted_twin("martheroussel@outlook.fr", listed)
    assert has_dotted_twin("mroussel@outlook.fr", listed)
    assert not has_dotted_twin("marthe.roussel@outlook.fr", listed)
    assert not has_dotted_twin("martheroussel@outlook.fr", ["martheroussel@outlook.fr", "marthe-roussel@outlook.fr"])


def test_no_address_is_built_without_both_names() -> None:
    context = Context(None, (), OcrSettings(), date(2026, 12, 5), {"guardian1_first_name": ("Odette",)})
    line = read_lines([_hand_line("odette.lemaire@orange.fr")])[0]

    assert decode_zone(form_v1().field("guardian1_email"), line, context) is None
    assert decode_zone(form_v1().field("referrer_email"), line, context) is None  # its owner's name is on page 2


def test_the_page_names_are_every_readers_spelling_of_a_name() -> None:
    surname = ExtractedField(name="guardian1_surname", value="Lemaire", confidence=0.3, source=Source.OCR, page=2,
                             zone=ZONE, readings=(ReaderReading(reader=Reader.TESSERACT, value="Lema1re"),
                                                  ReaderReading(reader=Reader.PPOCR, value="LEMAIRE")))
    email = ExtractedField(name="guardian1_email", value="x@y.fr", confidence=0.3, source=Source.OCR, page=2,
                           zone=ZONE)

    assert page_names({"guardian1_surname": surname, "guardian1_email": email}) == {
        "guardian1_surname": ("LEMAIRE", "Lemaire")}


def test_the_shortlist_does_not_depend_on_the_hash_seed() -> None:
    # Given names come from a set: values tied at the shortlist's cut-off once depended on the process's hash seed.
    code = ("from pipeline.reading.lexicon import first_names; from pipeline.settings import OcrSettings;"
            "from pipeline.reading.scan.constrained import shortlist; o = OcrSettings();"
            "print(shortlist('Lia', first_names(o.first_names_file).words, o.constrained))")
    outputs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, timeout=120).stdout for seed in "012"}

    assert len(outputs) == 1 and "Lia" in outputs.pop()


def test_a_zone_too_short_for_every_listed_value_leads_by_nothing(context: Context) -> None:
    line = read_lines([_hand_line("Nathalie")])[0]
    assert line.frames is not None
    short = LineReading(line.text, line.score, line.frames[:3])  # 3 frames spell no value of 4 letters or more
    reading = decode_zone(form_v1().field("guardian1_first_name"), short, context)
    assert reading is not None
    assert (reading.margin, reading.probability, reading.accepted) == (0.0, 0.0, False)


@pytest.mark.parametrize(("witnesses", "witnessed"), [
    (["0766937335"], True),  # one reader read them all
    (["0766937385", "0786937335"], True),  # each digit by one reader or the other
    (["0766937385", "0786937385"], False),  # the ninth digit by neither
    (["076693733"], False),  # a cell short: its digits are in no known cell
    (["07669373355", "0766937385"], False),  # a cell too many: only the other reader counts, and it misses one
    ([None, ""], False),
])
def test_each_digit_must_be_read_in_its_cell_by_another_reader(witnesses: list[str | None], witnessed: bool) -> None:
    assert digits_witnessed("0766937335", witnesses) is witnessed


def test_a_comb_witnessed_digit_by_digit_is_accepted() -> None:
    settings = ConstrainedSettings()
    phone = form_v1().field("guardian1_phone")
    line = read_lines([_hand_line("0612345678")])[0]

    split = decode_digits(phone, line, 10, ["0612345673", "0912345678"], settings)
    short = decode_digits(phone, line, 10, ["0612345673", "0912345673"], settings)

    assert split is not None and (split.value, split.accepted) == ("0612345678", True)
    assert short is not None and not short.accepted


def test_a_witness_shifted_by_a_lost_digit_witnesses_nothing() -> None:
    # A review: tesseract lost the 7 and read a cell's bar as a 1; of its length, it agreed with PP-OCRv6's misread
    # 6 by chance.
    assert not digits_witnessed("0666637335", ["0766637335", "0666373351"])
    assert digits_witnessed("0666637335", ["0766637335", "0666637331"])  # each differs in one cell only
