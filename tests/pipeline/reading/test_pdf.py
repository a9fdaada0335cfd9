"""Born-digital PDFs: AcroForm and text layer read exactly, bad PDFs quarantined with reasons."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from bench.benchmark import normalise_value
from pipeline.deciding.decide import decide_form
from pipeline.form.definition import form_v1
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import Source


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


def test_unsupported_file_is_quarantined(tmp_path: Path, settings: Settings) -> None:
    reading = _read(tmp_path, "fiche.docx", b"PK\x03\x04" + b"\x00" * 200, settings)
    assert reading.failure is not None and reading.failure.code == "unsupported_media_type"
