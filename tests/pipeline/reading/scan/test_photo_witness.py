"""PP-OCRv6 reading a photo's agreed zones again on the grey photo (pipeline.reading.scan.photo_witness)."""

from __future__ import annotations

from pipeline.form.definition import form_v1
from pipeline.reading.rules import FIELD_RULES
from pipeline.reading.scan.photo_witness import (
    RULE,
    SETTLE_RULE,
    hold_unstable_agreements,
    letters,
    settle_by_grey_reading,
    wants_grey_reading,
)
from pipeline.reading.scan.second_reader import LineReading
from pipeline.reading.scan.third_reading import wants_third_reading
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


def _settle(name: str, tesseract: str, ppocr: str, grey: str) -> tuple[object, object, list[str]]:
    """The field the readers read ``tesseract`` and ``ppocr``, then PP-OCRv6's ``grey`` reading of the photo."""
    from types import SimpleNamespace

    from pipeline.reading.lexicon import first_names
    from pipeline.settings import RegistrationSettings

    read = _text_field(name, tesseract, ppocr)
    fields = {name: read}
    settled = settle_by_grey_reading(fields, [form_v1().field(name)], [grey], [tesseract],
                                     first_names(OCR.first_names_file), SimpleNamespace(quality=1.0),  # type: ignore[arg-type]
                                     OCR, RegistrationSettings())
    return read, fields[name], settled


def test_tesseracts_reading_that_pp_ocrv6_reads_on_the_grey_photo_settles_the_zone() -> None:
    # Devset r0005 (phone photo): PP-OCRv6 read « Paul L.angevin » on the prepared zone, Tesseract « Paul Langevin »;
    # PP-OCRv6 on the grey photo reads it as Tesseract did.
    before, after, settled = _settle("school_name", "École élémentaire Paul Langevin",
                                     "École élémentaire Paul L.angevin", "École élémentaire Paul Langevin")
    assert wants_third_reading(before, OCR)  # type: ignore[arg-type]
    assert settled == ["school_name"]
    assert (after.value, after.confidence) == (  # type: ignore[attr-defined]
        "École élémentaire Paul Langevin", OCR.readers_chosen_confidence)
    assert after.rules[-1] == SETTLE_RULE and SETTLE_RULE in FIELD_RULES  # type: ignore[attr-defined]
    assert [(r.reader, r.value) for r in after.readings] == [  # type: ignore[attr-defined]
        (Reader.TESSERACT, "École élémentaire Paul Langevin"), (Reader.PPOCR, "École élémentaire Paul L.angevin"),
        (Reader.PPOCR_GREY, "École élémentaire Paul Langevin")]


def test_a_grey_reading_that_repeats_pp_ocrv6_or_drops_a_space_keeps_the_zone_held() -> None:
    for tesseract, ppocr, grey in (
            ("Alexandne", "Alexandrie", "Alexandrie"),      # one engine twice: no settling, whoever is right
            ("e.nou@ac-versailles.fr", "e.riou@ac-versailles.fr", "e.riou@ac-versailles.fr"),
            ("CP C - Mme Martinez", "CP C · Mme Martinez", "CPC - Mme Martinez")):  # the letters only agree
        name = "class_name" if "Mme" in tesseract else "referrer_email" if "@" in tesseract else "guardian1_first_name"
        before, after, settled = _settle(name, tesseract, ppocr, grey)
        assert wants_third_reading(before, OCR)  # type: ignore[arg-type]
        assert settled == []
        assert (after.value, after.confidence, after.rules) == (  # type: ignore[attr-defined]
            before.value, before.confidence, before.rules)  # type: ignore[attr-defined]
        assert after.confidence < OCR.text_confidence_min  # type: ignore[attr-defined]
        assert after.read_by(Reader.PPOCR_GREY) == grey  # type: ignore[attr-defined]


def test_a_first_name_settled_without_its_accent_stays_held() -> None:
    # The accent hold still applies: « Benoit » read alike by Tesseract and the grey reading, « Benoît » in the lexicon.
    before, after, settled = _settle("pupil_first_name", "Benoit", "Bcnoît", "Benoit")
    assert wants_third_reading(before, OCR)  # type: ignore[arg-type]
    assert settled == ["pupil_first_name"] and "accent_lost_hold" in after.rules  # type: ignore[attr-defined]
    assert after.value == "Benoit" and after.confidence < OCR.text_confidence_min  # type: ignore[attr-defined]
