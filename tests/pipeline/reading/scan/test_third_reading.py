"""Tesseract's third reading of a typed zone whose two readers differ (pipeline.reading.scan.third_reading)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipeline.form.definition import form_v1
from pipeline.reading.lexicon import first_names
from pipeline.reading.rules import FIELD_RULES
from pipeline.reading.scan.page import first_reader_value
from pipeline.reading.scan.third_reading import settle_by_third_reading, third_readings, wants_third_reading
from pipeline.settings import OcrSettings, RegistrationSettings
from schemas.extraction import Doubt, Reader
from tests.pipeline.reading.scan.test_second_reader import _line, _text_field

OCR = OcrSettings()


def _settle(field_name: str, tesseract: str, ppocr: str, third: str | None):
    """The field as the two readers leave it, then settled by ``third`` (Tesseract's third reading, repaired)."""
    read = _text_field(field_name, tesseract, ppocr)
    fields = {field_name: read}
    page = SimpleNamespace(quality=1.0)
    settled = settle_by_third_reading(fields, [form_v1().field(field_name)], [(third, ppocr)],
                                      first_names(OCR.first_names_file), page, OCR,  # type: ignore[arg-type]
                                      RegistrationSettings())
    return read, fields[field_name], settled


def test_a_third_reading_equal_to_the_second_readers_settles_the_zone() -> None:
    # The project's halftone fax (seed 31): tesseract read the class's division « B » as « 8 » in the page's strip,
    # and « B » alone on the zone at 300 dpi, as PP-OCRv6 read it.
    before, after, settled = _settle("class_name", "CE2 8 - Mme Blin", "CE2 B - Mme Blin", "CE2 B - Mme Blin")
    assert wants_third_reading(before, OCR)
    assert settled == ["class_name"]
    assert (after.value, after.confidence) == ("CE2 B - Mme Blin", OCR.readers_chosen_confidence)
    assert after.rules == ("readers_differ", "second_reading_shown", "third_reading_agrees")
    assert [(r.reader, r.value) for r in after.readings] == [
        (Reader.TESSERACT, "CE2 8 - Mme Blin"), (Reader.PPOCR, "CE2 B - Mme Blin"),
        (Reader.TESSERACT_RESCALED, "CE2 B - Mme Blin")]
    assert "third_reading_agrees" in FIELD_RULES


def test_a_third_reading_that_repeats_tesseract_or_reads_a_third_spelling_keeps_the_zone_held() -> None:
    for third in ("CE2 8 - Mme Blin", "CE2 & - Mme Blin", None):
        before, after, settled = _settle("class_name", "CE2 8 - Mme Blin", "CE2 B - Mme Blin", third)
        assert settled == []
        assert (after.value, after.confidence, after.rules) == (before.value, before.confidence, before.rules)
        assert after.readings[-1].reader is Reader.TESSERACT_RESCALED and after.readings[-1].value == third


def test_the_fields_caps_and_the_accent_hold_still_apply_to_a_settled_zone() -> None:
    # Both engines read a given name without its accent: the lexicon writes it only with one.
    _, accent, _ = _settle("guardian1_first_name", "Anaís", "Anais", "Anais")
    assert accent.value == "Anais" and accent.confidence < OCR.text_confidence_min
    assert accent.rules[-2:] == ("third_reading_agrees", "accent_lost_hold")
    # A speck read as a semicolon by both engines: a referrer's name never holds one.
    _, capped, _ = _settle("referrer_name", "M. Dufour, enseignant(c)", "M. Dufour; enseignant(e)",
                           "M. Dufour; enseignant(e)")
    assert capped.value == "M. Dufour; enseignant(e)" and "stray_punctuation_cap" in capped.rules
    assert capped.confidence < OCR.text_confidence_min and "third_reading_agrees" in capped.rules


def test_only_typed_zones_no_witness_chose_for_are_read_a_third_time() -> None:
    differ = _text_field("class_name", "CE2 8 - Mme Blin", "CE2 B - Mme Blin")
    assert wants_third_reading(differ, OCR)
    chosen = _text_field("pupil_first_name", "Maëélys", "Maëlys")  # the given-name lexicon chose
    assert not wants_third_reading(chosen, OCR)
    agreed = _text_field("pupil_first_name", "Lucas", "Lucas")
    assert not wants_third_reading(agreed, OCR)
    by_hand = differ.model_copy(update={"rules": (*differ.rules, "handwriting_hold"), "doubt": Doubt.HANDWRITTEN})
    assert not wants_third_reading(by_hand, OCR)
    stamped = differ.model_copy(update={"doubt": Doubt.FOREIGN_INK})
    assert not wants_third_reading(stamped, OCR)
    nothing_second = _text_field("class_name", "CE2 8 - Mme Blin", "")
    assert not wants_third_reading(nothing_second, OCR)


@pytest.mark.parametrize("text", ["CE2 B - Mme Blin", "Collège Paul Vaillant-Couturier"])
def test_tesseract_reads_a_zone_alone_at_the_third_readings_scale(text: str) -> None:
    # A zone crop as the first readers get it (about 400 dpi), read again alone, scaled to 300 dpi.
    crop = _line(text)
    field = form_v1().field("class_name")
    words = third_readings([field], [crop], OCR)
    assert first_reader_value(field, words[0])[0] == text
    assert third_readings([], [], OCR) == []


def test_an_address_is_settled_only_on_a_known_mail_domain() -> None:
    # The project's halftone fax (seed 31): both engines read « tree.fr » for « free.fr ».
    _, unknown, settled = _settle("guardian1_email", "laurent.alves@ftree.fr", "laurent.alves@tree.fr",
                                  "laurent.alves@tree.fr")
    assert settled == [] and unknown.confidence < OCR.text_confidence_min
    _, known, settled = _settle("guardian1_email", "thibaut.quichard@free.fr", "thibaut.guichard@free.fr",
                                "thibaut.guichard@free.fr")
    assert settled == ["guardian1_email"] and known.value == "thibaut.guichard@free.fr"


def test_staff_read_the_third_reading_and_its_rule_in_french() -> None:
    from web.evidence import READER_LABELS_FR, evidence_lines_fr

    assert set(READER_LABELS_FR) == {r.value for r in Reader}  # every reader, this one included, has a French name
    lines = evidence_lines_fr({"readings": [{"reader": "tesseract", "value": "LEUÈVRE", "score": 0.47},
                                            {"reader": "ppocr", "value": "LELIÈVRE", "score": 0.93},
                                            {"reader": "tesseract_rescaled", "value": "LELIÈVRE", "score": None}],
                               "rules": ["readers_differ", "third_reading_agrees"]})
    assert lines[2] == "Tesseract (zone relue seule, à une autre échelle) a lu « LELIÈVRE »."
    assert any("relisant la zone seule" in line and "PP-OCRv6" in line for line in lines[3:])
