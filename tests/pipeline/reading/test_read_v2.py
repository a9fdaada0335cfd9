"""Form version 2 read beside version 1 (issue 18): capital-letter combs, ticked home languages, unknown versions.

A scenario file by kind of input: the QR payload decides which definition reads a page.
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from bench.benchmark import normalise_value
from pipeline.deciding.assemble import as_v1_fields, assemble_form
from pipeline.deciding.directory import load_directory
from pipeline.errors import PageNotIdentifiedError
from pipeline.form.definition import LETTER_COMB_FIELDS_V2, FieldKind, form_v1, form_v2
from pipeline.form.render import Rendering, render_form
from pipeline.form.template_image import rasterise_pdf_page
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.reading.extract import PageReading, read_document
from pipeline.reading.scan.letter_combs import AGREE_RULE, on_cells, unread_marks
from pipeline.reading.scan.page import read_scan_page
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.handwriting import require_hand_fonts, v2_values
from samples.kinds import SampleKind
from schemas.document import MediaType
from schemas.extraction import ExtractedField, ExtractedForm, Reader, Source, ZoneBox

SEED = 2026
V2_TYPED = {"pupil_surname": "LE GALL", "pupil_first_name": "Anne-Sophie", "pupil_town": "Argenteuil",
            "referrer_email": "j.roux@ac-versailles.fr", "guardian1_surname": "Le Gall", "guardian1_first_name": "Yves",
            "home_languages": ["fr", "tr"], "home_languages_other": "wolof", "p2_pupil_surname": "LE GALL"}


def _pdf(definition_version: int, values: dict[str, object], rendering: Rendering = Rendering.FILLED) -> bytes:
    definition = form_v2() if definition_version == 2 else form_v1()
    buf = io.BytesIO()
    render_form(buf, "FO-2026-000042", rendering, values, definition=definition)
    return buf.getvalue()


def test_a_typed_version_2_scan_is_read_with_version_2s_geometry() -> None:
    grey = rasterise_pdf_page(_pdf(2, V2_TYPED), 2, 300)

    result = read_scan_page(grey)

    assert result.identity.version == 2
    fields = result.fields
    assert "home_languages_other" in fields
    assert fields["home_languages"].value == ["fr", "tr"]
    assert fields["home_languages_other"].value == "WOLOF"
    assert fields["p2_pupil_surname"].value == "LE GALL"  # the empty cell between the words is the space
    assert fields["guardian1_first_name"].value == "YVES"


def test_the_text_layer_of_a_version_2_pdf_is_read_cell_by_cell(tmp_path: Path) -> None:
    path = tmp_path / "v2.pdf"
    path.write_bytes(_pdf(2, V2_TYPED))

    pages = read_document(path, MediaType.PDF, Settings())

    fields = {k: v for p in pages if isinstance(p, PageReading) for k, v in p.fields.items()}
    assert all(isinstance(p, PageReading) and p.identity.version == 2 for p in pages)
    assert fields["pupil_surname"].value == "LE GALL"
    assert fields["pupil_first_name"].value == "ANNE-SOPHIE"
    assert fields["referrer_email"].value == "j.roux@ac-versailles.fr"
    form = assemble_form(pages)
    assert form.version == 2
    assert form.fields["home_languages"].value == "Français, turc, wolof"
    assert "home_languages_other" not in form.fields


def test_a_version_1_pdf_is_still_read_with_version_1(tmp_path: Path) -> None:
    path = tmp_path / "v1.pdf"
    path.write_bytes(_pdf(1, {"pupil_surname": "Le Gall", "home_languages": "Français, turc"}))

    pages = read_document(path, MediaType.PDF, Settings())

    form = assemble_form(pages)
    assert form.version == 1
    assert (form.fields["pupil_surname"].value, form.fields["home_languages"].value) == ("Le Gall", "Français, turc")


def test_a_page_of_an_unknown_version_is_quarantined_with_a_french_reason(tmp_path: Path) -> None:
    v9 = dataclasses.replace(form_v1(), version=9)
    buf = io.BytesIO()
    render_form(buf, "FO-2026-000042", Rendering.FILLED, {"pupil_surname": "Le Gall"}, definition=v9)
    grey = rasterise_pdf_page(buf.getvalue(), 1, 200)

    with pytest.raises(PageNotIdentifiedError) as raised:
        read_scan_page(grey)
    assert "Version de fiche inconnue (v9)" in raised.value.reason_fr

    path = tmp_path / "v9.png"
    Image.fromarray(grey).save(path, dpi=(200, 200))
    reading = read_received(ingest_file(path, "test", tmp_path / "originals"), Settings())
    assert reading.failure is not None
    assert reading.failure.code == "unknown_form_version"
    assert "Version de fiche inconnue (v9)" in reading.failure.message_fr


def test_letters_read_on_a_comb_take_their_spaces_from_the_empty_cells() -> None:
    inked = [True, True, False, True, True, True, True, False, False]

    assert on_cells(FieldKind.TEXT, "L E G A L L", inked) == ("LE GALL", True)
    assert on_cells(FieldKind.TEXT, "LEGAL", inked) == ("LEGAL", False)  # a letter missing: not the ink's
    assert on_cells(FieldKind.EMAIL, "A.B@C", [True] * 5) == ("a.b@c", True)
    assert on_cells(FieldKind.EMAIL, "AB@C", [True, False, True, True, True]) == ("ab@c", False)  # a dot missed
    # PP-OCRv6 reads a full stop written in its cell as a middle dot, which no address holds.
    assert on_cells(FieldKind.EMAIL, "a\u00b7b@free\u00b7fr", [True] * 11) == ("a.b@free.fr", True)
    # Only that, one character for one: a domain's lost dot is not put back on the cells (the ink has no cell for it),
    # and a bar stays a bar (on capitals it may be an I, not the l an address's repair reads).
    assert on_cells(FieldKind.EMAIL, "AB@FREEFR", [True] * 9) == ("ab@freefr", True)
    assert on_cells(FieldKind.EMAIL, "J.|SNARD@FREE.FR", [True] * 16) == ("j.|snard@free.fr", True)


def test_a_mark_over_a_cell_that_no_accent_read_explains_keeps_the_comb_for_a_person() -> None:
    inked, accent_on_e = [True] * 4, [False, True, False, False]

    assert unread_marks("REMY", inked, accent_on_e)  # both readers missed the accent of RÉMY
    assert not unread_marks("RÉMY", inked, accent_on_e)
    assert not unread_marks("REMY", inked, [False] * 4)


def test_version_2s_languages_become_version_1s_one_value_held_as_its_least_sure_part() -> None:
    zone = ZoneBox(x0=0, top=0, x1=1, bottom=1)
    ticked = ExtractedField(name="home_languages", value=["fr", "ar"], confidence=0.98, source=Source.OMR, page=2,
                            zone=zone)
    other = ExtractedField(name="home_languages_other", value="LINGALA", confidence=0.2, source=Source.OCR, page=2,
                           zone=zone, rules=("handwriting_hold",))

    fields = as_v1_fields({"home_languages": ticked, "home_languages_other": other})

    assert set(fields) == {"home_languages"}
    assert fields["home_languages"].value == "Français, arabe, lingala"
    assert fields["home_languages"].confidence == 0.2
    assert fields["home_languages"].rules[-1] == "home_languages_ticked"


def _read_handwritten_v2(index: int, settings: Settings, folder: Path) -> tuple[ExtractedForm, dict[str, object]]:
    """Form ``index`` of the handwritten version-2 kind (seed ``SEED``), read and assembled, and its true values."""
    require_hand_fonts()
    docs = generate_documents(SampleKind.SCAN_HANDWRITTEN_V2, index, SEED, load_directory(settings.directory_file))
    pages = []
    for doc in docs:
        path = folder / doc.name
        path.write_bytes(doc.data)
        pages += read_document(path, MediaType.JPEG, settings)
    return assemble_form(pages), docs[0].truth["values"]


def _accepted_are_right(form: ExtractedForm, truth: dict[str, object], threshold: float) -> dict[str, ExtractedField]:
    """The fields read at ``threshold`` or more, each asserted equal to its true value."""
    definition = form_v1()
    accepted = {name: f for name, f in form.fields.items() if f.confidence >= threshold}
    for name, f in accepted.items():
        kind = definition.field(name).kind
        assert normalise_value(kind, f.value) == normalise_value(kind, truth[name]), name
    return accepted


@pytest.mark.timeout(180)
def test_a_handwritten_version_2_form_is_read_against_what_was_written(tmp_path: Path) -> None:
    settings = Settings()
    form, truth = _read_handwritten_v2(2, settings, tmp_path)

    assert form.version == 2
    accepted = _accepted_are_right(form, truth, settings.ocr.text_confidence_min)
    letter_combs = {name for name in accepted if name in LETTER_COMB_FIELDS_V2}
    assert len(letter_combs) >= 6  # names and the town read cell by cell
    assert {name for name, f in accepted.items() if AGREE_RULE in f.rules} >= {"pupil_surname"}
    assert form.fields["home_languages"].value == truth["home_languages"]  # ticked, in the form's order
    assert v2_values(truth)["home_languages"] # at least one language was ticked on paper


@pytest.mark.timeout(180)
def test_a_light_pens_thin_strokes_reach_the_comb_readers(tmp_path: Path) -> None:
    # Form 0: the thin side of a light pen's 9 falls under Otsu's threshold; the strip of comb digits showed a 3, and
    # tesseract, PP-OCRv6 and the digit model all read the referrer's 29/10/2026 as 23/10/2026, accepted at 0.89.
    # The strip now shows each digit's lighter strokes (combs.read_comb_fields, ``paper``).
    settings = Settings()
    form, truth = _read_handwritten_v2(0, settings, tmp_path)

    for name in ("referral_date", "referrer_date"):
        assert truth[name] == "29/10/2026"
        assert form.fields[name].value == truth[name]
        assert next(r.value for r in form.fields[name].readings if r.reader is Reader.PPOCR) == "29102026"
    _accepted_are_right(form, truth, settings.ocr.text_confidence_min)
