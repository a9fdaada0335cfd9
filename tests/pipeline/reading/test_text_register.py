"""Text-layer registration (issue 16): a born-digital page whose coordinates are not the form's is placed on the
form by its printed labels before its zones are cut, or read as a scan when it cannot be."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pdfplumber
import pytest

from bench.benchmark import normalise_value
from pipeline.deciding.decide import decide_form
from pipeline.form.definition import FieldKind, form_v1
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.reading.pdf import read_text_layer_page
from pipeline.reading.text_register import label_in_zone, label_words, pair_labels, register_text_layer
from pipeline.settings import Settings, TextLayerSettings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import Doubt, Source
from tests.pipeline.reading import pdf_variants as v

GEOMETRIES: dict[str, Callable[[bytes], bytes]] = {
    "mediabox_offset": v.mediabox_offset,
    "cropbox_inside": v.cropbox_inside,
    "fit_to_letter": v.fit_to_letter,
    "shifted_6pt": v.shifted,
    "turned_90": v.turned,
    "turned_180": lambda data: v.turned(data, 180),
}


def _read(tmp_path: Path, data: bytes, settings: Settings):  # noqa: ANN202
    path = tmp_path / "fiche.pdf"
    path.write_bytes(data)
    return read_received(ingest_file(path, "test", tmp_path / "originals"), settings)


def _assert_read_exactly(reading, truth, settings: Settings, directory: Directory) -> None:  # noqa: ANN001
    decision = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)
    for field in form_v1().fields:
        got = normalise_value(field.kind, decision.form.fields[field.name].value)
        assert got == normalise_value(field.kind, truth[field.name]), field.name
    assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}, decision.reasons


MAKERS: dict[str, tuple[SampleKind, Callable[[bytes], bytes], Source]] = {
    "text_pdf": (SampleKind.TEXT_PDF, lambda data: data, Source.TEXT_LAYER),
    "fillable": (SampleKind.FILLABLE, lambda data: data, Source.ACROFORM),
    "flattened": (SampleKind.FILLABLE, v.flattened, Source.TEXT_LAYER),
    # Every box's appearance drawn in, the unticked boxes' outline too: read all ticked at 1.0 until 2026-12-07.
    "appearances_flattened": (SampleKind.FILLABLE, v.appearances_flattened, Source.TEXT_LAYER),
}
"""Born-digital forms: printed to PDF by the samples, filled in the fillable PDF, and that flattened (by PDFium,
or by drawing every widget's appearance into the page)."""


@pytest.mark.parametrize("geometry", [*GEOMETRIES, "as_made"])
@pytest.mark.parametrize("maker", MAKERS)
def test_a_moved_born_digital_page_is_read_exactly(geometry: str, maker: str, tmp_path: Path,
                                                   settings: Settings, directory: Directory) -> None:
    """Every field and tick box right, the form routed, whatever the page geometry (issue 16, item 4)."""
    kind, make, source = MAKERS[maker]
    doc = generate_documents(kind, 1, 16, directory)[0]
    data = make(doc.data)
    reading = _read(tmp_path, GEOMETRIES[geometry](data) if geometry in GEOMETRIES else data, settings)
    assert reading.failure is None
    assert {p.source for p in reading.pages} == {source}
    _assert_read_exactly(reading, doc.truth["values"], settings, directory)


@pytest.mark.parametrize("geometry", [g for g in GEOMETRIES if g != "turned_180"])  # read unturned (extract)
def test_the_fit_recovers_the_geometry(geometry: str, directory: Directory) -> None:
    """The fitted transform is the one applied: scale 1 or 1/0.94, residual well under a point."""
    doc = generate_documents(SampleKind.TEXT_PDF, 2, 16, directory)[0]
    with pdfplumber.open(io.BytesIO(GEOMETRIES[geometry](doc.data))) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            reg = register_text_layer(page.extract_words(), form_v1(), number)
            assert reg is not None
            assert reg.rms_pt < 0.2
            expected = 1 / min(v.LETTER_W / v.A4_W, v.LETTER_H / v.A4_H) if geometry == "fit_to_letter" else 1.0
            assert reg.scale == pytest.approx(expected, abs=1e-3)
            assert reg.inliers == reg.matched >= 40


def test_a_page_no_similarity_places_is_read_as_a_scan(tmp_path: Path, settings: Settings,
                                                       directory: Directory) -> None:
    """A page squeezed on one axis only: its labels disagree with any similarity, so the text layer is given up
    and the rendered page goes through the scan reader, which still reads the form."""
    doc = generate_documents(SampleKind.TEXT_PDF, 3, 16, directory)[0]
    data = v.stretched(doc.data)
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert register_text_layer(pdf.pages[0].extract_words(), form_v1(), 1) is None
    reading = _read(tmp_path, data, settings)
    assert reading.failure is None
    assert {p.source for p in reading.pages} == {Source.OCR}
    decision = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)
    truth = doc.truth["values"]
    assert decision.form.fields["class_level"].value == truth["class_level"]
    assert decision.form.fields["pupil_birth_date"].value == truth["pupil_birth_date"]


def test_a_fillable_page_no_similarity_places_keeps_its_acroform_values(tmp_path: Path, settings: Settings,
                                                                       directory: Directory) -> None:
    """A fillable page squeezed on one axis: its text layer is given up, the scan reader identifies the page by
    its QR codes and reads its signatures, and the widget values, which no geometry moves, are kept."""
    doc = generate_documents(SampleKind.FILLABLE, 5, 16, directory)[0]
    reading = _read(tmp_path, v.stretched(doc.data), settings)
    assert reading.failure is None
    assert {p.source for p in reading.pages} == {Source.ACROFORM}
    _assert_read_exactly(reading, doc.truth["values"], settings, directory)


def test_too_few_labels_do_not_register(directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 16, directory)[0]
    with pdfplumber.open(io.BytesIO(doc.data)) as pdf:
        words = pdf.pages[0].extract_words()
    labels = {w.text for w in label_words(form_v1(), 1)}
    kept = [w for w in words if w["text"] not in labels]
    few = kept + [w for w in words if w["text"] in labels][:5]
    assert len(pair_labels(few, label_words(form_v1(), 1))) < TextLayerSettings().register_min_labels
    assert register_text_layer(few, form_v1(), 1) is None
    assert register_text_layer(words, form_v1(), 1) is not None


def test_a_zone_cut_from_an_unregistered_page_holds_label_text(directory: Directory) -> None:
    """Words read 70 pt to the right and 3 pt lower, as an unplaced page gives them: every text zone that
    catches a printed label is held for a person, never confident (the issue's « X par Enseignant(e) »)."""
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 16, directory)[0]
    with pdfplumber.open(io.BytesIO(doc.data)) as pdf:
        page = pdf.pages[0]
        words, chars = page.extract_words(), page.chars
        graphics = list(page.curves) + list(page.lines)

        def moved(objs):  # noqa: ANN001, ANN202
            return [{**o, "x0": o["x0"] + 70, "x1": o["x1"] + 70, "top": o["top"] + 3,
                     "bottom": o["bottom"] + 3} for o in objs]

        labels = label_words(form_v1(), 1)
        fields = read_text_layer_page(moved(words), moved(chars), moved(graphics), form_v1().page_fields(1),
                                      labels=labels)
        straight = read_text_layer_page(words, chars, graphics, form_v1().page_fields(1), labels=labels)
    label_texts = {w.text for w in labels if len(w.text) > 2}
    caught = [f for f in fields.values() if isinstance(f.value, str) and set(f.value.split()) & label_texts]
    assert caught  # the shift does put labels in zones
    for f in caught:
        assert f.doubt is Doubt.LABEL_TEXT and f.confidence < Settings().ocr.text_confidence_min, f.name
    assert all(f.doubt is None and f.confidence == 1.0 for f in straight.values())


def test_label_in_zone_needs_the_label_place() -> None:
    """A value that only spells a label word, its label at its place, is a value; the label itself is not."""
    labels = label_words(form_v1(), 1)
    nom = next(w for w in labels if w.text == "Courriel")

    def word(text: str, x: float, y: float) -> dict[str, object]:
        return {"text": text, "x0": x - 10, "x1": x + 10, "top": y - 4, "bottom": y + 4}

    at_place = word("Courriel", nom.x_pt, nom.y_pt)
    elsewhere = word("Courriel", 400, 700)
    assert label_in_zone([at_place], [at_place], labels, 4.0)
    assert not label_in_zone([elsewhere], [elsewhere, at_place], labels, 4.0)
    assert label_in_zone([elsewhere], [elsewhere], labels, 4.0)  # its label is missing from its place


def test_label_centres_match_the_blank_form(directory: Directory) -> None:
    """The definition's label words land where pdfminer measures the rendered form's words (a tenth of a
    point), so a registered page of the form is the identity."""
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 16, directory)[0]
    with pdfplumber.open(io.BytesIO(doc.data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            pairs = pair_labels(page.extract_words(), label_words(form_v1(), number))
            assert len(pairs) >= 40
            for (x, y), label in pairs:
                assert abs(x - label.x_pt) < 0.1 and abs(y - label.y_pt) < 0.1, label.text


def test_comb_kinds_are_in_the_definition() -> None:
    assert {f.kind for f in form_v1().fields if f.is_comb} == {FieldKind.DATE, FieldKind.PHONE, FieldKind.POSTCODE}


@pytest.mark.skipif(shutil.which("pdftocairo") is None, reason="poppler-utils (pdftocairo) not installed")
@pytest.mark.parametrize("paper", [None, "letter"])
@pytest.mark.parametrize("maker", ["text_pdf", "flattened"])
def test_a_form_printed_to_pdf_by_cairo_is_read_exactly(paper: str | None, maker: str, tmp_path: Path,
                                                        settings: Settings, directory: Directory) -> None:
    """A real print driver's output: fonts re-embedded (Liberation Sans, metrics a point off Helvetica's on long
    labels), on A4 or fitted to Letter; registered (residual about 0.06 pt) and read exactly."""
    kind, make, _ = MAKERS[maker]
    doc = generate_documents(kind, 4, 16, directory)[0]
    reading = _read(tmp_path, v.printed_by_cairo(make(doc.data), paper), settings)
    assert reading.failure is None
    assert {p.source for p in reading.pages} == {Source.TEXT_LAYER}
    _assert_read_exactly(reading, doc.truth["values"], settings, directory)


@pytest.mark.parametrize("geometry", [*GEOMETRIES, "as_made"])
def test_vector_check_marks_read_after_the_page_moved(geometry: str, tmp_path: Path, settings: Settings,
                                                      directory: Directory) -> None:
    """Ticks drawn as vector strokes, no text and no form field, on a page in any geometry: every box right."""
    doc = generate_documents(SampleKind.TEXT_PDF, 6, 16, directory)[0]
    data = v.vector_ticks(doc.truth["values"], str(doc.truth["form_id"]))
    reading = _read(tmp_path, GEOMETRIES[geometry](data) if geometry in GEOMETRIES else data, settings)
    assert {p.source for p in reading.pages} == {Source.TEXT_LAYER}
    _assert_read_exactly(reading, doc.truth["values"], settings, directory)
