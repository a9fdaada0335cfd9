"""Assembly by QR serial: pages in any order, across files; missing pages reported."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from pypdf import PdfReader, PdfWriter

from pipeline.deciding.decide import decide_form
from pipeline.form.definition import form_v1
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
    # The page's fields are not listed one by one as « champ obligatoire non rempli »: the page is what is missing.
    page2 = {f.name for f in form_v1().fields if f.page == 2}
    assert not [r for r in decision.reasons if r.field in page2]
    assert [r.code for r in decision.reasons] == ["missing_page"]  # page 1 was read right and is valid


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


def _joined(*pdfs: bytes) -> bytes:
    writer = PdfWriter()
    for data in pdfs:
        writer.append(PdfReader(io.BytesIO(data)))  # as a school's PDF tool joins files: widgets and all
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_two_filled_fillable_forms_joined_in_one_file_are_quarantined_not_one_dropped(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    # Both carry the fillable's shared serial: assembled by serial and page, the second pupil used to vanish
    # while the first was routed.
    a, b = (generate_documents(SampleKind.FILLABLE, i, 21, directory)[0] for i in (0, 1))
    assert a.truth["form_id"] == b.truth["form_id"]
    assert a.truth["values"]["pupil_surname"] != b.truth["values"]["pupil_surname"]
    reading = _reading(tmp_path, "batch.pdf", _joined(a.data, b.data), settings)

    groups, failures = group_forms([reading])

    assert groups == [] and [f.failure.code for f in failures if f.failure] == ["repeated_page"]
    assert "plusieurs fiches" in failures[0].failure.message_fr
    assert failures[0].pages == ()


def test_a_page_sent_twice_for_the_same_pupil_is_one_page(tmp_path: Path, settings: Settings,
                                                        directory: Directory) -> None:
    doc = generate_documents(SampleKind.FILLABLE, 2, 21, directory)[0]
    reading = _reading(tmp_path, "twice.pdf", _joined(doc.data, doc.data), settings)

    groups, failures = group_forms([reading])

    assert failures == [] and len(groups) == 1
    decision = decide_form(groups[0].pages, settings, directory, {}, lambda _k, _y: None)
    assert decision.form.fields["pupil_surname"].value == doc.truth["values"]["pupil_surname"]
    assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}


def test_two_fillable_forms_for_one_pupil_joined_in_one_file_are_quarantined(tmp_path: Path, settings: Settings,
                                                                            directory: Directory) -> None:
    # A review (2026-12-06): two versions of one pupil's form, another guardian name in the second, were
    # assembled from the first alone and the second's values dropped without a reason.
    doc = generate_documents(SampleKind.FILLABLE, 3, 21, directory)[0]
    reader = PdfReader(io.BytesIO(doc.data))
    writer = PdfWriter()
    writer.append(reader)
    writer.update_page_form_field_values(writer.pages[1], {"guardian1_surname": "AUTRE"}, auto_regenerate=False)
    changed = io.BytesIO()
    writer.write(changed)
    reading = _reading(tmp_path, "versions.pdf", _joined(doc.data, changed.getvalue()), settings)

    groups, failures = group_forms([reading])

    assert groups == [] and [f.failure.code for f in failures if f.failure] == ["repeated_page"]


def test_a_printed_sheet_scanned_twice_is_one_form_whatever_its_copies_read(settings: Settings) -> None:
    # A printed serial is one sheet: its page twice in a file is that sheet twice, even when the hand's name is read
    # two ways (a review, 2026-12-06: DUPONT and DUPOND on two scans of one page were quarantined).
    from pipeline.form.definition import PageIdentity
    from pipeline.reading.document import DocumentReading
    from pipeline.reading.pages import PageReading
    from schemas.document import MediaType, ReceivedDocument
    from schemas.extraction import ExtractedField, Source, ZoneBox

    def page(index: int, serial: str, surname: str) -> PageReading:
        fields = {name: ExtractedField(name=name, value=value, confidence=0.35, source=Source.OCR, page=1,
                                       zone=ZoneBox(x0=0, top=0, x1=1, bottom=1))
                  for name, value in (("pupil_surname", surname), ("pupil_first_name", "Léa"))}
        return PageReading(index, PageIdentity(serial, 1, 1, 2), Source.OCR, fields)

    doc = ReceivedDocument(sha256="0" * 64, source="test", original_name="scan.pdf", media_type=MediaType.PDF,
                           size_bytes=1, received_at=datetime.now(UTC), stored_path=Path("scan.pdf"))
    printed = DocumentReading(doc, (page(0, "FO-2026-000123", "DUPONT"), page(1, "FO-2026-000123", "DUPOND")))
    shared = DocumentReading(doc, (page(0, "FO-2026-N00001", "DUPONT"), page(1, "FO-2026-N00001", "DUPOND")))

    assert [len(g.readings) for g in group_forms([printed])[0]] == [1]
    assert [f.failure.code for f in group_forms([shared])[1] if f.failure] == ["repeated_page"]


def test_fillable_copies_share_a_serial_but_stay_apart(tmp_path: Path, settings: Settings,
                                                       directory: Directory) -> None:
    docs = [generate_documents(SampleKind.FILLABLE, i, 21, directory)[0] for i in range(2)]
    assert docs[0].truth["form_id"] == docs[1].truth["form_id"]
    readings = [_reading(tmp_path, d.name, d.data, settings) for d in docs]
    groups, _ = group_forms(readings)
    assert len(groups) == 2


def _filled(values: dict, serial: str) -> bytes:  # noqa: ANN001
    from pipeline.form.render import Rendering, render_form

    buf = io.BytesIO()
    render_form(buf, serial, Rendering.FILLED, values, signature_seed=1)
    return buf.getvalue()


SHARED = "FO-2026-N00001"
"""The fillable PDF's serial, which every school shares."""


def test_a_shared_serials_pages_in_two_files_are_paired_by_the_pupil_they_name(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    # Issue 16: two teachers print the fillable form and scan each page to its own file; four files, one serial.
    pupils = [generate_documents(SampleKind.TEXT_PDF, i, 41, directory)[0].truth["values"] for i in (0, 1)]
    files = {f"{n}-p{p}.pdf": _pages(_filled(dict(v), SHARED), [p - 1]) for n, v in enumerate(pupils) for p in (1, 2)}
    readings = [_reading(tmp_path, name, data, settings) for name, data in files.items()]

    groups, failures = group_forms(readings)

    assert not failures and len(groups) == 2
    for group, values in zip(groups, pupils, strict=True):
        decision = decide_form(group.pages, settings, directory, {}, lambda _k, _y: None)
        assert decision.form.pages_found == [1, 2]
        assert decision.form.fields["pupil_surname"].value == values["pupil_surname"]
        assert decision.form.fields["guardian1_phone"].value == values["guardian1_phone"]
        assert decision.outcome in {Outcome.ROUTED, Outcome.WAITING_LIST}


def test_a_page_two_files_could_complete_is_not_paired(tmp_path: Path, settings: Settings,
                                                       directory: Directory) -> None:
    # Two page-1 files name the same pupil (sent twice, or twins' forms): the page 2 pairs with neither.
    values = generate_documents(SampleKind.TEXT_PDF, 2, 41, directory)[0].truth["values"]
    filled = _filled(dict(values), SHARED)
    readings = [_reading(tmp_path, "a-p1.pdf", _pages(filled, [0]), settings),
                _reading(tmp_path, "b-p1.pdf", _pages(_filled({**values, "observations": "Copie."}, SHARED), [0]),
                         settings),
                _reading(tmp_path, "a-p2.pdf", _pages(filled, [1]), settings)]

    groups, _ = group_forms(readings)

    assert len(groups) == 3 and all(len(g.readings) == 1 for g in groups)


def test_pages_naming_different_pupils_stay_apart(tmp_path: Path, settings: Settings, directory: Directory) -> None:
    first, second = (generate_documents(SampleKind.TEXT_PDF, i, 41, directory)[0].truth["values"] for i in (3, 4))
    readings = [_reading(tmp_path, "x-p1.pdf", _pages(_filled(dict(first), SHARED), [0]), settings),
                _reading(tmp_path, "y-p2.pdf", _pages(_filled(dict(second), SHARED), [1]), settings)]

    groups, _ = group_forms(readings)

    assert len(groups) == 2
