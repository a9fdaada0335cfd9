"""Born-digital PDFs: AcroForm and text layer read exactly, bad PDFs quarantined with reasons."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from bench.benchmark import normalise_value
from pipeline.deciding.decide import decide_form
from pipeline.form.definition import Rect, form_v1
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.reading.pdf import (
    WidgetValue,
    acroform_widget_values,
    comb_value,
    read_acroform_page,
    read_text_layer_page,
    xfa_datasets,
)
from pipeline.reading.rules import FIELD_RULES, cause_fr
from pipeline.settings import Settings, TextLayerSettings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import Doubt, Source, TickState
from tests.pipeline.reading import pdf_variants


def _read(tmp_path: Path, name: str, data: bytes, settings: Settings):  # noqa: ANN202
    path = tmp_path / name
    path.write_bytes(data)
    return read_received(ingest_file(path, "test", tmp_path / "originals"), settings)


@pytest.mark.parametrize("kind", [SampleKind.FILLABLE, SampleKind.TEXT_PDF])
@pytest.mark.parametrize("index", range(4))
def test_digital_forms_are_read_exactly(kind: SampleKind, index: int, tmp_path: Path, settings: Settings,
                                        directory: Directory) -> None:
    doc = generate_documents(kind, index, 11, directory)[0]
    reading = _read(tmp_path, doc.name, doc.data, settings)
    assert reading.failure is None
    expected_source = Source.ACROFORM if kind is SampleKind.FILLABLE else Source.TEXT_LAYER
    assert {p.source for p in reading.pages} == {expected_source}
    decision = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)
    truth = doc.truth["values"]
    for field in form_v1().fields:
        got = normalise_value(field.kind, decision.form.fields[field.name].value)
        assert got == normalise_value(field.kind, truth[field.name]), field.name
    assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}  # valid: no person needed
    assert decision.referral is not None
    assert decision.referral.guardians[0].phone == "+33" + truth["guardian1_phone"][1:]


def test_checkbox_on_state_names_all_read(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    """Export values /Yes, /On and /1 are all read as ticked (the generator draws one per file)."""
    seen = set()
    for index in range(12):
        doc = generate_documents(SampleKind.FILLABLE, index, 3, directory)[0]
        reader = PdfReader(io.BytesIO(doc.data))
        states = {str(a.get_object().get("/AS")) for page in reader.pages for a in page.get("/Annots", [])
                  if a.get_object().get("/FT") == "/Btn"} - {"/Off", "None"}
        seen |= states
        reading = _read(tmp_path, doc.name, doc.data, settings)
        form = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None).form
        assert form.fields["class_level"].value == doc.truth["values"]["class_level"]
        assert form.fields["agreement_orientation"].value is True
    assert seen == {"/Yes", "/On", "/1"}


def test_not_the_form_is_quarantined(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    doc = generate_documents(SampleKind.NOT_THE_FORM, 0, 1, directory)[0]
    reading = _read(tmp_path, doc.name, doc.data, settings)
    assert reading.failure is not None
    assert reading.failure.code == "not_the_form"
    assert "n'est pas une fiche" in reading.failure.message_fr


def _encrypted(data: bytes, password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_encrypted_with_empty_password_is_read(tmp_path: Path, settings: Settings,
                                                   directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 5, directory)[0]
    reading = _read(tmp_path, "empty-password.pdf", _encrypted(doc.data, ""), settings)
    assert reading.failure is None
    decision = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)
    assert decision.form.fields["pupil_surname"].value == doc.truth["values"]["pupil_surname"]


def test_pdf_with_a_real_password_is_quarantined(tmp_path: Path, settings: Settings,
                                                 directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 5, directory)[0]
    reading = _read(tmp_path, "locked.pdf", _encrypted(doc.data, "s3cret"), settings)
    assert reading.failure is not None and reading.failure.code == "encrypted_pdf"
    assert "mot de passe" in reading.failure.message_fr


def test_truncated_pdf_is_quarantined(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 5, directory)[0]
    reading = _read(tmp_path, "truncated.pdf", doc.data[: len(doc.data) // 3], settings)
    assert reading.failure is not None
    assert reading.failure.code in {"unreadable_document", "not_the_form"}


def test_pypdf_warnings_on_a_truncated_pdf_stay_off_the_terminal(tmp_path: Path, directory: Directory) -> None:
    # The test session hands non-propagating loggers to caplog, so the terminal is looked at in a process of its own.
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 5, directory)[0]
    path = tmp_path / "truncated.pdf"
    path.write_bytes(doc.data[:3000])
    code = ("import sys; from pathlib import Path; from pipeline.reading.extract import read_document; "
            "from pipeline.errors import UnreadableDocumentError; from pipeline.settings import Settings; "
            "from schemas.document import MediaType\n"
            "try:\n    read_document(Path(sys.argv[1]), MediaType.PDF, Settings())\n"
            "except UnreadableDocumentError:\n    print('illisible')\n")
    proc = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120,
                          check=False)

    assert (proc.returncode, proc.stdout.strip()) == (0, "illisible"), proc.stderr[-2000:]
    assert "EOF marker" not in proc.stderr and proc.stderr.strip() == ""


def test_unsupported_file_is_quarantined(tmp_path: Path, settings: Settings) -> None:
    reading = _read(tmp_path, "fiche.docx", b"PK\x03\x04" + b"\x00" * 200, settings)
    assert reading.failure is not None and reading.failure.code == "unsupported_media_type"


# --- AcroForm variants (issue 16, item 5) ---------------------------------------------------------------------


def _decide(tmp_path: Path, data: bytes, settings: Settings, directory: Directory):  # noqa: ANN202
    reading = _read(tmp_path, "fiche.pdf", data, settings)
    assert reading.failure is None
    assert {p.source for p in reading.pages} == {Source.ACROFORM}
    return decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)


def _assert_all_fields_right(decision, truth) -> None:  # noqa: ANN001
    for field in form_v1().fields:
        got = normalise_value(field.kind, decision.form.fields[field.name].value)
        assert got == normalise_value(field.kind, truth[field.name]), field.name
    assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}, decision.reasons


@pytest.mark.parametrize("variant", ["kids_tree", "text_stream_values", "with_xfa"])
@pytest.mark.parametrize("index", range(2))
def test_acroform_variants_are_read_exactly(variant: str, index: int, tmp_path: Path, settings: Settings,
                                            directory: Directory) -> None:
    """A real /Kids tree (names through /Parent, /FT /Ff /V inherited), values stored as Flate text streams
    (UTF-16 with BOM, plain UTF-8) and XFA datasets that agree: every field read, the form routed."""
    doc = generate_documents(SampleKind.FILLABLE, index, 21, directory)[0]
    data = getattr(pdf_variants, variant)(doc.data)
    _assert_all_fields_right(_decide(tmp_path, data, settings, directory), doc.truth["values"])


def test_kids_tree_and_text_streams_together(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    doc = generate_documents(SampleKind.FILLABLE, 2, 21, directory)[0]
    data = pdf_variants.text_stream_values(pdf_variants.kids_tree(doc.data))
    _assert_all_fields_right(_decide(tmp_path, data, settings, directory), doc.truth["values"])


def _held_reason(decision, name: str, doubt: Doubt) -> str:  # noqa: ANN001
    field = decision.form.fields[name]
    assert field.doubt is doubt
    assert field.confidence < Settings().ocr.text_confidence_min
    assert decision.outcome is Outcome.REVIEW
    return next(r.message_fr for r in decision.reasons if r.field == name)


def test_a_check_box_whose_value_and_look_disagree_goes_to_a_person(tmp_path: Path, settings: Settings,
                                                                    directory: Directory) -> None:
    """The box shown ticked is not the one the value names: a person decides, told why in French."""
    doc = generate_documents(SampleKind.FILLABLE, 0, 21, directory)[0]
    level = doc.truth["values"]["class_level"][0]
    other = "CM1" if level != "CM1" else "CE2"
    decision = _decide(tmp_path, pdf_variants.checkbox_conflict(doc.data, "class_level", other, level), settings,
                       directory)
    assert "ne concordent pas" in _held_reason(decision, "class_level", Doubt.CHECKBOX_CONFLICT)
    assert decision.referral is None or decision.carrier_id is None


@pytest.mark.parametrize(("name", "xfa_text"), [("pupil_address", "3 rue Autre"), ("agreement_orientation", "0")])
def test_acroform_and_xfa_that_disagree_go_to_a_person(name: str, xfa_text: str, tmp_path: Path,
                                                       settings: Settings, directory: Directory) -> None:
    doc = generate_documents(SampleKind.FILLABLE, 1, 21, directory)[0]
    decision = _decide(tmp_path, pdf_variants.with_xfa(doc.data, {name: xfa_text}), settings, directory)
    assert "XFA" in _held_reason(decision, name, Doubt.XFA_CONFLICT)


def test_a_comb_date_typed_without_leading_zeros_is_normalised(tmp_path: Path, settings: Settings,
                                                               directory: Directory) -> None:
    """``5``, ``6`` and the year typed in a date's three comb runs read as ``05/06/<year>``, never ``562018``."""
    doc = generate_documents(SampleKind.FILLABLE, 0, 21, directory)[0]
    year = doc.truth["values"]["family_date"][-4:]
    data = pdf_variants.set_values(doc.data, {"family_date.0": "5", "family_date.1": "6"})
    decision = _decide(tmp_path, data, settings, directory)
    field = decision.form.fields["family_date"]
    assert field.value == f"05/06/{year}"
    assert field.doubt is None


@pytest.mark.parametrize(("runs", "expected", "held"), [
    (["5/6/2018"], "05/06/2018", False),
    (["05/06/2018"], "05/06/2018", False),
    (["05062018"], "05/06/2018", False),
    (["5", "6", "2018"], "05/06/2018", False),
    (["5/", "6/", "2018"], "05/06/2018", False),
    (["05", "06", "2018"], "05/06/2018", False),
    (["562018"], "562018", True),
    (["5", "6", "18"], "5618", True),
    (["31", "13", "2018"], "31/13/2018", False),  # every cell typed: the validator judges the date
    ([""], None, False),
])
def test_comb_value_of_a_date(runs: list[str], expected: str | None, held: bool) -> None:
    value, doubt = comb_value(form_v1().field("pupil_birth_date"), runs)
    assert value == expected
    assert (doubt is Doubt.COMB_SHAPE) is held


def test_comb_value_of_a_phone_short_of_digits_is_held() -> None:
    phone = form_v1().field("guardian1_phone")
    assert comb_value(phone, ["06 12 34 56 78"]) == ("0612345678", None)
    assert comb_value(phone, ["6", "12", "34", "56", "78"]) == ("612345678", Doubt.COMB_SHAPE)


def test_a_text_layer_comb_typed_with_slashes_is_normalised() -> None:
    """A date typed ``5/6/2018`` one character per cell of a comb, then printed: its slashes split it."""
    field = form_v1().field("pupil_birth_date")
    chars = [{"text": ch, "x0": c.x0 + 4, "x1": c.x1 - 4, "top": c.top + 3, "bottom": c.bottom - 3}
             for ch, c in zip("5/6/2018", field.cells, strict=True)]
    out = read_text_layer_page([], chars, [], [field])
    assert out[field.name].value == "05/06/2018" and out[field.name].doubt is None


def _path(*points: tuple[float, float]) -> dict[str, object]:
    """A pdfplumber curve through ``points`` (PDF points, y down)."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return {"object_type": "curve", "pts": list(points), "x0": min(xs), "x1": max(xs), "top": min(ys),
            "bottom": max(ys)}


def test_a_drawing_is_a_tick_only_across_the_boxs_centre() -> None:
    """A flattened form draws each box's outline inside it (read ticked at 1.0 until 2026-12-07); a cross through
    the centre is a tick; a small mark in a corner is held for a person, never read empty."""
    field = form_v1().field("class_level")
    cp, ce1 = (b.rect for b in field.boxes[:2])

    def outline(r: Rect) -> dict[str, object]:
        return _path((r.x0 + 1, r.top + 1), (r.x1 - 1, r.top + 1), (r.x1 - 1, r.bottom - 1), (r.x0 + 1, r.bottom - 1),
                     (r.x0 + 1, r.top + 1))

    boxes = [outline(b.rect) for b in field.boxes]
    cross = _path((cp.x0 + 2, cp.top + 2), (cp.x1 - 2, cp.bottom - 2))
    read = read_text_layer_page([], [], [*boxes, cross], [field])[field.name]
    assert (read.value, read.confidence, read.rules) == (["CP"], 1.0, ())

    corner = _path((ce1.x0 + 1.2, ce1.top + 8.2), (ce1.x0 + 1.7, ce1.top + 8.8), (ce1.x0 + 2.3, ce1.top + 7.7))
    held = read_text_layer_page([], [], [*boxes, cross, corner], [field])[field.name]
    assert held.ticks["CE1"] is TickState.UNSURE and held.ticks["CE2"] is TickState.EMPTY
    assert held.confidence == TextLayerSettings().held_confidence and held.rules == ("tick_mark_off_centre",)
    assert cause_fr(held.rules) == FIELD_RULES["tick_mark_off_centre"].fr  # staff are told a mark misses the centre
    assert "sans passer par son milieu" in FIELD_RULES["tick_mark_off_centre"].fr


def test_an_undecodable_value_is_held_not_quarantined() -> None:
    """A /V of a type no text can come from (a dictionary) holds the field; it is never its repr."""
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    widget = DictionaryObject({NameObject("/Subtype"): NameObject("/Widget"),
                               NameObject("/T"): TextStringObject("pupil_surname"),
                               NameObject("/FT"): NameObject("/Tx"),
                               NameObject("/V"): DictionaryObject({NameObject("/Filter"): NameObject("/FlateDecode")})})
    values = acroform_widget_values([widget])
    assert values["pupil_surname"] == WidgetValue("", Doubt.UNREADABLE_VALUE)
    field = read_acroform_page(values, [form_v1().field("pupil_surname")])["pupil_surname"]
    assert field.doubt is Doubt.UNREADABLE_VALUE and field.value is None and field.confidence < 0.6


def test_an_xfa_conflict_on_a_repeated_name_still_goes_to_a_person(tmp_path: Path, settings: Settings,
                                                                   directory: Directory) -> None:
    doc = generate_documents(SampleKind.FILLABLE, 1, 21, directory)[0]
    decision = _decide(tmp_path, pdf_variants.with_xfa(doc.data, {"pupil_surname": "AUTRENOM"}), settings,
                       directory)
    _held_reason(decision, "pupil_surname", Doubt.XFA_CONFLICT)


def _stream(data: bytes):  # noqa: ANN202
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream


def test_xfa_datasets_from_a_whole_xdp_stream_and_from_packets() -> None:
    from pypdf.generic import ArrayObject, NameObject, TextStringObject

    datasets = (b'<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/"><xfa:data><form1>'
                b"<pupil_surname>MARTIN</pupil_surname><class_level><CE2>1</CE2></class_level>"
                b"</form1></xfa:data></xfa:datasets>")
    xdp = (b'<?xml version="1.0" encoding="UTF-8"?><xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'
           b"<template/>" + datasets + b"</xdp:xdp>")
    expected = {"form1.pupil_surname": "MARTIN", "form1.class_level.CE2": "1"}
    assert xfa_datasets({"/XFA": _stream(xdp)}) == expected
    packets = ArrayObject([TextStringObject("preamble"), _stream(b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/">'),
                           TextStringObject("datasets"), _stream(datasets),
                           TextStringObject("postamble"), _stream(b"</xdp:xdp>")])
    assert xfa_datasets({"/XFA": packets}) == expected
    assert xfa_datasets({"/XFA": _stream(b"<xdp:xdp broken")}) == {}
    assert xfa_datasets({NameObject("/Fields"): ArrayObject()}) == {}
