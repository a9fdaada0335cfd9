"""A reader's unexpected failure: the document is kept with a reason, and the log says where, never what it read."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NoReturn

import pytest

import pipeline.reading.extract
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import INTERNAL_ERROR_FR, _read_unbounded
from pipeline.settings import Settings

READ = "LEFÈVRE Anaïs"
"""What the failing reader read: its error's message quotes it."""


def _reader_that_fails_on_a_name(*_args: object) -> NoReturn:
    raise KeyError(READ)


def test_an_unexpected_reader_error_is_kept_as_an_internal_error_and_logged_without_its_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "fiche.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    doc = ingest_file(path, "test", tmp_path / "originals")
    monkeypatch.setattr(pipeline.reading.extract, "read_document", _reader_that_fails_on_a_name)

    with caplog.at_level(logging.DEBUG, logger="pipeline.reading.document"):
        reading = _read_unbounded(doc, Settings(), None)

    assert reading.failure is not None
    assert (reading.failure.code, reading.failure.message_fr) == ("internal_error", INTERNAL_ERROR_FR)
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"document {doc.short_id}: unexpected KeyError while reading"]
    debug = "\n".join(r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG)
    assert "_reader_that_fails_on_a_name" in debug  # where it was raised
    assert "LEFÈVRE" not in caplog.text and "Anaïs" not in caplog.text


@pytest.mark.parametrize("suffix", [".pdf", ".tif"])
def test_a_file_of_more_pages_than_are_read_is_quarantined_before_any_page_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str) -> None:
    """Measured 2026-12-07: a 3 KB PDF of 300 blank pages held its worker 132 s, then was quarantined as too heavy."""
    from PIL import Image
    from pypdf import PdfWriter

    settings = Settings()
    pages = settings.scan.max_pages + 1
    path = tmp_path / f"lot{suffix}"
    if suffix == ".pdf":
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(595, 842)
        writer.write(path)
    else:
        frames = [Image.new("1", (850, 1100), 1) for _ in range(pages)]
        frames[0].save(path, save_all=True, append_images=frames[1:], compression="group4")
    read: list[object] = []
    for reader in ("_retry_pdf_pages_rendered", "_read_image_pages"):
        monkeypatch.setattr(pipeline.reading.extract, reader, lambda *args, **kwargs: read.append(args) or [])
    doc = ingest_file(path, "test", tmp_path / "originals")

    reading = _read_unbounded(doc, settings, None)

    assert reading.failure is not None and reading.failure.code == "too_many_pages"
    counted = f"{pages} pages" if suffix == ".pdf" else f"plus de {pages - 1} pages"  # frames are not all walked
    assert counted in reading.failure.message_fr and "une fiche par fichier" in reading.failure.message_fr
    assert read == []  # counted, not one page read
    # At the limit, the file goes to the readers.
    from pipeline.settings import ScanSettings

    _read_unbounded(doc, settings.model_copy(update={"scan": ScanSettings(max_pages=pages)}), None)
    assert len(read) >= 1


def test_a_file_over_the_size_limit_is_kept_and_quarantined_without_being_parsed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An attack of 2026-12-07: a 3 GB file went to the reader, which ran out of memory before saying anything."""
    import pipeline.reading.document
    from pipeline.reading.document import read_received
    from pipeline.settings import ScanSettings

    path = tmp_path / "gros.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024))
    doc = ingest_file(path, "test", tmp_path / "originals")
    parsed: list[object] = []
    monkeypatch.setattr(pipeline.reading.document, "run_limited", lambda *args: parsed.append(args))
    settings = Settings()

    small = settings.model_copy(update={"scan": ScanSettings(max_file_mib=1)})
    reading = read_received(doc, small)

    assert reading.failure is not None and reading.failure.code == "file_too_large"
    assert "trop volumineux" in reading.failure.message_fr
    assert parsed == [] and doc.stored_path.exists()  # kept, never parsed
    read_received(doc, settings)  # under the default limit, it goes to the readers
    assert len(parsed) == 1


def test_a_page_count_the_pdf_states_wrongly_does_not_quarantine_a_form(tmp_path: Path) -> None:
    """A review of 2026-12-07: PDFium takes the count from /Count, and the 2-page form stating /Count 50 was
    quarantined as a file of 50 pages. The count is believed only when the page past the limit loads."""
    import re

    from pipeline.reading.extract import read_document
    from pipeline.reading.pages import PageReading
    from schemas.document import MediaType

    samples = Path(__file__).parents[3] / "samples" / "inbox"
    path = tmp_path / "fiche.pdf"
    path.write_bytes(re.sub(rb"/Count 2\b", b"/Count 50", (samples / "text_pdf-0000.pdf").read_bytes()))

    pages = read_document(path, MediaType.PDF, Settings())

    assert sum(isinstance(p, PageReading) for p in pages) == 2
