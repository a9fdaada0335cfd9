"""PP-OCRv6 reading a photo's agreed zones again on the grey photo (pipeline.reading.scan.photo_witness)."""

from __future__ import annotations

from pipeline.form.definition import form_v1
from pipeline.reading.rules import FIELD_RULES
from pipeline.reading.scan.photo_witness import RULE, hold_unstable_agreements, letters, wants_grey_reading
from pipeline.reading.scan.second_reader import LineReading
from pipeline.settings import OcrSettings
from schemas.extraction import Reader
from tests.pipeline.reading.scan.test_second_reader import _text_field

OCR = OcrSettings()


def _witnessed(name: str, agreed: str, grey: str) -> tuple[list[str], object, object]:
    """The field both readers read ``agreed``, then PP-OCRv6's ``grey`` reading of it on the photo."""
    read = _text_field(name, agreed, agreed)
    fields = {name: read}
    held = hold_unstable_agreements(fields, [form_v1().field(name)], [LineReading(grey, 0.97)], OCR)
    return held, read, fields[name]


def test_letters_keep_letters_and_digits_only_case_folded() -> None:
    assert letters("3, rue Lorraine Perrier.") == "3ruelorraineperrier"
    assert letters("Élève volontaire maistrès") == letters("élève volontaire mais très.")
    assert letters("Lévy") != letters("Levy")  # accents are letters
    assert letters(None) == ""


def test_an_agreement_the_grey_photo_spells_otherwise_is_held_with_both_readings_recorded() -> None:
    # The project's photo_heic, seed 41: both readers read « Perner » on the sharpened, masked zone; PP-OCRv6 on the
    # grey photo reads « Perrier », as written.
    held, before, after = _witnessed("pupil_address", "3, rue Lorraine Perner", "3,rue Lorraine Perrier")
    assert wants_grey_reading(before, OCR)  # type: ignore[arg-type]
    assert held == ["pupil_address"]
    assert after.value == "3, rue Lorraine Perner"  # type: ignore[attr-defined]
    assert after.confidence == OCR.readers_differ_confidence < OCR.text_confidence_min  # type: ignore[attr-defined]
    assert after.rules[-1] == RULE and RULE in FIELD_RULES  # type: ignore[attr-defined]
    assert [(r.reader, r.value) for r in after.readings][-1] == (  # type: ignore[attr-defined]
        Reader.PPOCR_GREY, "3,rue Lorraine Perrier")


def test_spaces_and_stops_the_grey_reading_loses_do_not_hold_the_field() -> None:
    for agreed, grey in (("Élève volontaire mais très dispersé en classe.", "Élève volontaire maistrès dispersé en "
                          "classe"), ("6e C - M. Martin", "6e C -M.Martin")):
        held, before, after = _witnessed("observations" if "Élève" in agreed else "class_name", agreed, grey)
        assert held == []
        assert (after.value, after.confidence, after.rules) == (  # type: ignore[attr-defined]
            before.value, before.confidence, before.rules)  # type: ignore[attr-defined]
        assert after.read_by(Reader.PPOCR_GREY) == grey  # type: ignore[attr-defined]


def test_only_fields_accepted_on_the_readers_agreement_are_read_again() -> None:
    differing = _text_field("pupil_address", "3, rue Lorraine Perner", "3, rue Lorraine Perrier")
    assert "readers_agree" not in differing.rules and not wants_grey_reading(differing, OCR)
