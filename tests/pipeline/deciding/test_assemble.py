"""Assembly by QR serial: pages in any order, across files; missing pages reported."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from pipeline.deciding.decide import decide_form
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.settings import Settings
from pipeline.stages import group_forms
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from schemas.document import Outcome


def _pages(data: bytes, order: list[int]) -> bytes:
    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter()
    for i in order:
        writer.add_page(reader.pages[i])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _reading(tmp_path: Path, name: str, data: bytes, settings: Settings):  # noqa: ANN202
    path = tmp_path / name
    path.write_bytes(data)
    return read_received(ingest_file(path, "test", tmp_path / "originals"), settings)


def test_pages_in_reverse_order_are_assembled_by_serial(tmp_path: Path, settings: Settings,
                                                        directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 21, directory)[0]
    reading = _reading(tmp_path, "reversed.pdf", _pages(doc.data, [1, 0]), settings)
    decision = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)
    assert decision.form.pages_found == [1, 2]
    assert decision.form.fields["guardian1_phone"].value == doc.truth["values"]["guardian1_phone"]
    assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}  # valid: no person needed


def test_pages_in_two_files_make_one_form(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    doc = generate_documents(SampleKind.TEXT_PDF, 1, 21, directory)[0]
    other = generate_documents(SampleKind.TEXT_PDF, 2, 21, directory)[0]
    readings = [_reading(tmp_path, "page2.pdf", _pages(doc.data, [1]), settings),
                _reading(tmp_path, "other.pdf", other.data, settings),
                _reading(tmp_path, "page1.pdf", _pages(doc.data, [0]), settings)]
    groups, failures = group_forms(readings)
    assert failures == []
    by_id = {g.form_id: g for g in groups}
    assert set(by_id) == {doc.truth["form_id"], other.truth["form_id"]}
    group = by_id[doc.truth["form_id"]]
    assert [r.doc.original_name for r in group.readings] == ["page2.pdf", "page1.pdf"]
    decision = decide_form(group.pages, settings, directory, {}, lambda _k, _y: None)
    assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}  # valid: no person needed
    assert decision.form.fields["pupil_surname"].value == doc.truth["values"]["pupil_surname"]


def test_missing_page_two_goes_to_review_with_reason(tmp_path: Path, settings: Settings,
                                                     directory: Directory) -> None:
    doc = generate_documents(SampleKind.INVALID_PAGE2_MISSING, 0, 21, directory)[0]
    reading = _reading(tmp_path, doc.name, doc.data, settings)
    decision = decide_form(list(reading.pages), settings, directory, {}, lambda _k, _y: None)
    assert decision.outcome is Outcome.REVIEW
    assert decision.form.pages_found == [1]
    assert decision.reasons[0].code == "missing_page"
    assert "Page 2" in decision.reasons[0].message_fr


def test_two_forms_in_one_file_are_quarantined(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    a = generate_documents(SampleKind.TEXT_PDF, 3, 21, directory)[0]
    b = generate_documents(SampleKind.TEXT_PDF, 4, 21, directory)[0]
    writer = PdfWriter()
    for data in (a.data, b.data):
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    reading = _reading(tmp_path, "batch.pdf", out.getvalue(), settings)
    assert reading.failure is not None and reading.failure.code == "multiple_forms"


def test_fillable_copies_share_a_serial_but_stay_apart(tmp_path: Path, settings: Settings,
                                                       directory: Directory) -> None:
    docs = [generate_documents(SampleKind.FILLABLE, i, 21, directory)[0] for i in range(2)]
    assert docs[0].truth["form_id"] == docs[1].truth["form_id"]
    readings = [_reading(tmp_path, d.name, d.data, settings) for d in docs]
    groups, _ = group_forms(readings)
    assert len(groups) == 2
