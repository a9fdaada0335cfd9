"""The second text reader (PP-OCRv6's bundled recogniser) and how its reading weighs on a field's confidence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.form.definition import FieldKind, form_v1
from pipeline.reading.rules import FIELD_RULES
from pipeline.reading.scan import second_reader
from pipeline.reading.scan.page import read_scan_page, readers_verdict
from pipeline.reading.scan.second_reader import (
    SecondReaderError,
    balanced_parts,
    model_path,
    read_lines,
    trim_to_ink,
)
from pipeline.settings import OcrSettings
from samples.scanner import render_filled_pdf
from schemas.extraction import Reader
from tests.pipeline.reading.scan.test_page import FORM_ID, VALUES, _scan, expected_value

# DejaVu Sans comes from fonts-dejavu-core (Makefile HAND_FONT_PACKAGES), so the crops do not depend on fontconfig.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _line(text: str, height_px: int = 94, size_px: int = 56) -> np.ndarray:
    """A text zone as the scan reader gives it: one line on white, 400 dpi-like scale."""
    image = Image.new("L", (2200, height_px), 255)
    ImageDraw.Draw(image).text((40, (height_px - size_px) // 2), text, font=ImageFont.truetype(str(DEJAVU), size_px),
                               fill=0)
    return np.asarray(image)


def test_the_bundled_model_is_found_and_checked() -> None:
    path = model_path()
    assert path.name == "PP-OCRv6_rec_small.onnx" and path.parent.parent.name == "rapidocr"


def test_a_model_that_is_not_the_measured_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(second_reader, "MODEL_SHA256", "0" * 64)
    with pytest.raises(SecondReaderError, match="SHA-256"):
        model_path()


def test_french_lines_are_read_letter_for_letter() -> None:
    texts = ["LEFÈVRE", "Noémie", "Mme Dupont (CM1)", "helene.lefevre@example.fr", "12 rue Paul Vaillant-Couturier"]

    readings = read_lines([_line(t) for t in texts])

    assert [r.text for r in readings] == texts
    assert all(0.9 <= r.score <= 1.0 for r in readings)


def test_lines_shared_out_to_threads_read_the_same_and_come_back_in_order() -> None:
    texts = ["LEFÈVRE", "Noémie", "Mme Dupont (CM1)", "helene.lefevre@example.fr", "12 rue Paul Vaillant-Couturier"]
    crops = [_line(t) for t in texts]
    crops.insert(2, np.full((94, 800), 255, dtype=np.uint8))

    alone, shared = read_lines(crops), read_lines(crops, threads=3)

    assert [r.text for r in shared] == [r.text for r in alone] == [*texts[:2], "", *texts[2:]]
    assert [r.score for r in shared] == [r.score for r in alone]
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(alone, shared, strict=True) if a.frames is not None)


def test_the_widest_lines_are_dealt_first_so_that_threads_share_the_width() -> None:
    widths = [900, 100, 500, 400, 300]
    parts = balanced_parts([np.zeros((50, w), np.uint8) for w in widths], 2)
    assert parts == [[0, 4], [1, 2, 3]]  # 900 | 500, then 400 to the lighter, 300 to the first of two equal, 100
    assert balanced_parts([np.zeros((50, 100), np.uint8)], 3) == [[0], [], []]


def test_a_blank_zone_reads_nothing_and_keeps_its_place() -> None:
    blank = np.full((94, 800), 255, dtype=np.uint8)

    readings = read_lines([blank, _line("Argenteuil"), blank])

    assert [r.text for r in readings] == ["", "Argenteuil", ""]
    assert readings[0].score == 0.0
    assert trim_to_ink(blank) is None


def test_agreeing_readers_raise_and_differing_readers_hold() -> None:
    ocr = OcrSettings()

    agreed, verdict = readers_verdict("Noémie", " Noémie ", 0.41, ocr)
    assert (agreed, verdict) == (ocr.readers_agree_confidence, "readers_agree")
    assert readers_verdict("Noémie", "Noémie", 0.99, ocr) == (0.99, "readers_agree")  # never lowered by agreeing

    held, verdict = readers_verdict("LUCas", "Lucas", 0.94, ocr)
    assert verdict == "readers_differ" and held == ocr.readers_differ_confidence < ocr.text_confidence_min
    assert readers_verdict("Lucas", None, 0.94, ocr)[1] == "readers_differ"  # one reader read nothing


@pytest.fixture(scope="module")
def scanned_page_1() -> dict:
    pdf = render_filled_pdf(VALUES, FORM_ID, signature_seed=7)
    return read_scan_page(_scan(pdf, 1, 300, "grey", 1.2, seed=310)).fields


def test_each_text_field_keeps_both_readings_and_the_rules_that_acted(scanned_page_1: dict) -> None:
    definition = form_v1()
    for name, f in scanned_page_1.items():
        field = definition.field(name)
        assert set(f.rules) <= set(FIELD_RULES), f"{name}: unknown rules {set(f.rules) - set(FIELD_RULES)}"
        if field.kind not in (FieldKind.TEXT, FieldKind.EMAIL) or f.value is None:
            continue
        assert [r.reader for r in f.readings] == [Reader.TESSERACT, Reader.PPOCR]
        assert {"readers_agree", "readers_differ"} & set(f.rules)
    surname = scanned_page_1["pupil_surname"]
    assert surname.value == expected_value(definition.field("pupil_surname"), VALUES) == "LEFÈVRE"
    assert [r.value for r in surname.readings] == ["LEFÈVRE", "LEFÈVRE"]
    assert "readers_agree" in surname.rules and surname.confidence >= 0.9


def _text_field(name: str, tesseract: str, ppocr: str, ppocr_score: float = 0.99, by_hand: bool = False,
                ocr: OcrSettings | None = None):
    from types import SimpleNamespace

    from pipeline.reading.scan.page import Hands, text_fields_read
    from pipeline.reading.scan.second_reader import LineReading
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import RegistrationSettings

    field = form_v1().field(name)
    words = [Word(w, 0.93, 10 * i, 5.0) for i, w in enumerate(tesseract.split())]
    hands = Hands({}, {name: 0.0 if by_hand else None}, 0.0 if by_hand else None, by_hand)
    page = SimpleNamespace(quality=1.0, px_per_pt=400 / 72)
    return text_fields_read([(field, words)], [LineReading(ppocr, ppocr_score)], hands, None, page,  # type: ignore[arg-type]
                            ocr or OcrSettings(), RegistrationSettings())[name]


def test_the_reading_with_the_fields_shape_is_the_one_shown_when_the_readers_differ() -> None:
    # A noise mark inside a name, read by tesseract only: PP-OCRv6's reading has a name's shape and is shown, held.
    held = _text_field("p2_pupil_surname", "BOU|LANGER", "BOULANGER")
    assert held.value == "BOULANGER" and held.confidence < OcrSettings().text_confidence_min
    assert held.rules[:2] == ("readers_differ", "second_reading_shown")
    assert [r.value for r in held.readings] == ["BOU|LANGER", "BOULANGER"]

    kept = _text_field("guardian1_surname", "LÉVÉQUE", "LÉVÊQUE")  # both have a name's shape: tesseract's stays
    assert kept.value == "LÉVÉQUE" and kept.rules == ("readers_differ",)
    assert kept.confidence < OcrSettings().text_confidence_min

    agreed = _text_field("pupil_first_name", "Anaïs", "Anaïs")
    assert agreed.value == "Anaïs" and agreed.confidence == OcrSettings().readers_agree_confidence


def test_a_handwritten_zone_is_shown_with_the_reader_that_misreads_hands_least() -> None:
    # Devset r0004 (Breip hand): tesseract « Mre Fouquet, direcirire », PP-OCRv6 « Mme Fouguet, directrice ».
    held = _text_field("referrer_name", "Mre Fouquet, direcirire", "Mme Fouguet, directrice", by_hand=True)
    assert held.value == "Mme Fouguet, directrice"
    assert held.rules[:2] == ("readers_differ", "hand_second_reading_shown") and "handwriting_hold" in held.rules
    assert held.confidence <= OcrSettings().icr.handwritten_text_confidence
    assert [r.value for r in held.readings] == ["Mre Fouquet, direcirire", "Mme Fouguet, directrice"]
    # A witness's choice stands: only PP-OCRv6's reading is a given name of the lexicon, and it was chosen anyway.
    named = _text_field("pupil_first_name", "Maëélys", "Maëlys", by_hand=True)
    assert named.value == "Maëlys" and "hand_second_reading_shown" not in named.rules
    # Tesseract's reading chosen by the given-name lexicon stays (a review: the guard was untested).
    chosen = _text_field("pupil_first_name", "Maëlys", "Maëiys", by_hand=True)
    assert chosen.value == "Maëlys" and "first_name_lexicon" in chosen.rules
    assert "hand_second_reading_shown" not in chosen.rules
    # A typed zone keeps tesseract's reading, and so does a handwritten one with the setting off.
    typed = _text_field("referrer_name", "Mre Fouquet, direcirire", "Mme Fouguet, directrice")
    assert typed.value == "Mre Fouquet, direcirire" and typed.rules == ("readers_differ",)
    off = OcrSettings(icr=OcrSettings().icr.model_copy(update={"hand_second_reading_shown": False}))
    kept = _text_field("referrer_name", "Mre Fouquet, direcirire", "Mme Fouguet, directrice", by_hand=True, ocr=off)
    assert kept.value == "Mre Fouquet, direcirire" and "hand_second_reading_shown" not in kept.rules


def test_a_witness_of_the_field_chooses_between_differing_readers() -> None:
    # Devset photocopy: a streak beside "Lucas" read "Lucas |" by tesseract, "Lucas" by PP-OCRv6: one reading once
    # the mark at its end is dropped.
    edges = _text_field("p2_pupil_first_name", "Lucas |", "Lucas")
    assert (edges.value, edges.confidence) == ("Lucas", OcrSettings().readers_agree_confidence)
    assert edges.rules == ("readers_differ", "readers_agree_edges")
    # Devset shrunk print: only PP-OCRv6's reading is a given name of the lexicon.
    named = _text_field("pupil_first_name", "Maëélys", "Maëlys")
    assert (named.value, named.confidence) == ("Maëlys", OcrSettings().readers_chosen_confidence)
    assert named.rules == ("readers_differ", "first_name_lexicon")
    assert [r.value for r in named.readings] == ["Maëélys", "Maëlys"]


def test_a_speck_both_readers_read_at_the_end_of_a_name_is_dropped() -> None:
    # Devset photocopy: a toner speck after a given name, read as a full stop by both readers.
    bare = _text_field("guardian1_first_name", "Virginie.", "Virginie.")
    assert (bare.value, bare.confidence) == ("Virginie", OcrSettings().readers_agree_confidence)
    assert bare.rules == ("readers_agree", "name_edge_marks_dropped")
    assert [r.value for r in bare.readings] == ["Virginie.", "Virginie."]  # what each reader read is kept
    # A mark inside the name is no speck at its end: the name's cap still holds it.
    inside = _text_field("guardian1_first_name", "Virgi.nie", "Virgi.nie")
    assert inside.value == "Virgi.nie" and inside.confidence < OcrSettings().text_confidence_min


def test_a_given_name_both_readers_read_without_its_accent_is_held() -> None:
    # A halftone fax of the project's own (seed 37): « Anaïs » read « Anais » by both readers once descreened.
    held = _text_field("guardian1_first_name", "Anais", "Anais")
    assert held.value == "Anais" and held.confidence < OcrSettings().text_confidence_min
    assert held.rules == ("readers_agree", "accent_lost_hold")
    kept = _text_field("guardian1_first_name", "Anaïs", "Anaïs")
    assert kept.confidence == OcrSettings().readers_agree_confidence and kept.rules == ("readers_agree",)


def test_the_second_readers_full_width_marks_are_the_ones_tesseract_gives() -> None:
    from pipeline.reading.scan.second_reader import line_text

    assert line_text(" ： ") == ":"  # a speck on an empty devset zone, beside tesseract's nothing
    assert line_text("Lucas，") == "Lucas,"
    assert line_text("Mae\u0308lys LÉVÊQUE") == "Maëlys LÉVÊQUE"  # accents kept, composed


def test_an_address_the_second_reader_read_repaired_says_so() -> None:
    # A devset photocopy variant: PP-OCRv6 read the académie's domain with a letter misread, Tesseract read it right;
    # they agree once it is put back, and the field says a repair made them agree.
    agreed = _text_field("referrer_email", "monique.richard@ac-versailles.fr", "monique.richard@ac-yersailles.fr")
    assert agreed.value == "monique.richard@ac-versailles.fr"
    assert agreed.rules == ("fix_email", "readers_agree")
    assert [r.value for r in agreed.readings] == ["monique.richard@ac-versailles.fr",
                                                   "monique.richard@ac-yersailles.fr"]
    plain = _text_field("referrer_email", "monique.richard@ac-versailles.fr", "monique.richard@ac-versailles.fr")
    assert plain.rules == ("readers_agree",)


def test_an_address_of_one_run_agreed_only_once_a_domain_was_repaired_is_held() -> None:
    # Two variants of a devset photo: both readers lost the dot of « monique.richard » and each misread the
    # académie's domain its own way; once repaired, the domains agree, and so would the address.
    held = _text_field("referrer_email", "moniquerichard@acversailles.fr", "moniquerichard@ac-versaillesfr")
    assert held.value == "moniquerichard@acversailles.fr".replace("acv", "ac-v")
    assert held.rules[-1] == "email_dot_lost_hold" and held.confidence < OcrSettings().text_confidence_min
    # The same run read right, domain and all, by both: nothing says a dot went.
    clean = _text_field("referrer_email", "moniquerichard@ac-versailles.fr", "moniquerichard@ac-versailles.fr")
    assert clean.rules == ("readers_agree",) and clean.confidence >= OcrSettings().text_confidence_min
    # Devset r0002: PP-OCRv6 read the domain's dot, and no dot in the local part, which has none.
    kept = _text_field("referrer_email", "josephineboyer@ac-versaillesfr", "josephineboyer@ac-versailles.fr")
    assert kept.rules == ("fix_email", "readers_agree") and kept.confidence >= OcrSettings().text_confidence_min
    # A separated address whose domain was repaired: its own dot was read.
    dotted = _text_field("referrer_email", "monique.richard@acversailles.fr", "monique.richard@ac-versailles.fr")
    assert dotted.rules == ("fix_email", "readers_agree")
