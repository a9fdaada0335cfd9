"""Scan PDFs of unusual geometry or damaged, whose pages still render (issue 16, item 6).

A page stating ``/UserUnit`` (its MediaBox in units of 10 pt, as large-format scanners write) was rasterised in
user units, 248 px wide, and declared not the form; so was a page whose MediaBox does not start at (0, 0) in the
same file. A file with a broken cross-reference table, which pypdf refused, renders in PDFium. Each is made from
the project's own scan of the form, transformed with pypdf in the test, and must be identified; a file too
damaged to render is quarantined as damaged, never as not the form.
"""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import FloatObject, NameObject, RectangleObject

from pipeline.errors import UnreadableDocumentError
from pipeline.form.definition import PageIdentity
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.reading.extract import PageReading, damaged_pdf, read_document
from pipeline.settings import Settings
from samples.generator import write_not_the_form
from samples.scanner import image_bytes, render_filled_pdf, simulate_scan
from schemas.document import MediaType

FORM_ID = "FO-2026-000913"
PAGES = [PageIdentity(FORM_ID, 1, 1, 2), PageIdentity(FORM_ID, 1, 2, 2)]


@pytest.fixture(scope="module")
def scan_pdf() -> bytes:
    """Both pages scanned in grey at 200 dpi into one image PDF, as a scanner sends them."""
    pdf = render_filled_pdf({"pupil_surname": "LEFÈVRE", "p2_pupil_surname": "LEFÈVRE"}, FORM_ID)
    scans = [simulate_scan(pdf, 200, page=p, skew_deg=1.0, rng=random.Random(p)) for p in (1, 2)]
    return image_bytes(scans, "PDF", 200)


def _in_user_units(pdf: bytes, user_unit: float, origins: list[tuple[float, float]]) -> bytes:
    """Each page redrawn in user units of ``user_unit`` pt (``/UserUnit``), its MediaBox starting at ``origins[i]``."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    for page, (x, y) in zip(writer.pages, origins, strict=True):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.add_transformation(Transformation().scale(1 / user_unit).translate(x, y))
        page.mediabox = RectangleObject([x, y, x + width / user_unit, y + height / user_unit])
        page[NameObject("/UserUnit")] = FloatObject(user_unit)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _identities(path: Path, settings: Settings) -> list[PageIdentity | str]:
    return [p.identity if isinstance(p, PageReading) else p.error.code
            for p in read_document(path, MediaType.PDF, settings)]


@pytest.mark.usefixtures("identify_only")
@pytest.mark.parametrize(("user_unit", "origins"), [(10.0, [(0.0, 0.0), (0.0, 0.0)]),
                                                    (10.0, [(0.0, 0.0), (30.0, -12.0)]),
                                                    (1.0, [(100.0, 50.0), (-40.0, 700.0)])])
def test_a_scan_pdf_in_user_units_or_with_an_odd_mediabox_is_identified(
        scan_pdf: bytes, user_unit: float, origins: list[tuple[float, float]], tmp_path: Path,
        settings: Settings) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(_in_user_units(scan_pdf, user_unit, origins))
    assert PdfReader(path).pages[0].user_unit == user_unit

    assert _identities(path, settings) == PAGES
    assert damaged_pdf(path) is None  # redrawn, not damaged


@pytest.mark.usefixtures("identify_only")
def test_a_fax_image_drawn_at_twice_its_height_in_a_pdf_is_identified(scan_pdf: bytes, tmp_path: Path,
                                                                       settings: Settings) -> None:
    # A fax at 200 x 100 dpi put in a PDF: its image has half the rows and is drawn at non-square scale.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_faxed(scan_pdf))))
    for page in writer.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        page.add_transformation(Transformation().scale(1.0, 2.0))
        page.mediabox = RectangleObject([0, 0, width, 2 * height])
    path = tmp_path / "fax.pdf"
    with path.open("wb") as out:
        writer.write(out)

    assert _identities(path, settings) == PAGES


def _faxed(pdf: bytes) -> bytes:
    """The scan PDF's pages with half their rows, 1-bit, each in a PDF page of half the height."""
    from PIL import Image

    reader = PdfReader(io.BytesIO(pdf))
    pages = []
    for page in reader.pages:
        [image] = page.images
        grey = image.image.convert("L")
        pages.append(grey.resize((grey.width, grey.height // 2), Image.Resampling.BOX).point(
            lambda v: 0 if v < 150 else 255).convert("1"))
    out = io.BytesIO()
    pages[0].save(out, format="PDF", resolution=200.0, save_all=True, append_images=pages[1:])
    return out.getvalue()


def _break_xref(pdf: bytes) -> bytes:
    """Every cross-reference entry pointing at byte 1: pypdf's parser gives up, PDFium rebuilds the table."""
    return re.sub(rb"\d{10} 00000 n", b"0000000001 00000 n", pdf)


def _drop_xref(pdf: bytes) -> bytes:
    """The cross-reference table and trailer cut off, as a mail client truncating the end might."""
    return pdf[:pdf.rindex(b"xref")]


@pytest.mark.usefixtures("identify_only")
@pytest.mark.parametrize("damage", [_break_xref, _drop_xref])
def test_a_damaged_pdf_whose_pages_render_is_read(scan_pdf: bytes, damage, tmp_path: Path,  # noqa: ANN001
                                                  settings: Settings) -> None:
    path = tmp_path / "damaged.pdf"
    path.write_bytes(damage(scan_pdf))
    assert damaged_pdf(path) is not None

    assert _identities(path, settings) == PAGES


def test_a_pdf_too_damaged_to_render_is_quarantined_as_damaged(scan_pdf: bytes, tmp_path: Path,
                                                               settings: Settings) -> None:
    path = tmp_path / "truncated.pdf"
    path.write_bytes(scan_pdf[: len(scan_pdf) * 4 // 5])

    with pytest.raises(UnreadableDocumentError):
        read_document(path, MediaType.PDF, settings)
    reading = read_received(ingest_file(path, "test", tmp_path / "originals"), settings)

    assert reading.failure is not None and reading.failure.code == "unreadable_document"
    assert "endommagé" in reading.failure.message_fr


def test_a_foreign_pdf_is_still_not_the_form(tmp_path: Path, settings: Settings) -> None:
    # The retries must not turn a document that is not the form into anything else.
    path = tmp_path / "letter.pdf"
    path.write_bytes(write_not_the_form(3))

    reading = read_received(ingest_file(path, "test", tmp_path / "originals"), settings)

    assert reading.failure is not None and reading.failure.code == "not_the_form"


def test_a_pdf_that_pypdf_parses_but_pdfium_cannot_load_is_quarantined_as_damaged(
        scan_pdf: bytes, tmp_path: Path, settings: Settings) -> None:
    # The trailer's /Root names an object the file lacks: pypdf and pdfminer find the catalogue anyway, PDFium
    # refuses the file, and the page could not be rasterised (it ended as an internal error).
    path = tmp_path / "root.pdf"
    root = re.search(rb"/Root (\d+) 0 R", scan_pdf)
    assert root is not None
    path.write_bytes(scan_pdf.replace(root.group(0), b"/Root 9999 0 R", 1))
    assert len(PdfReader(path).pages) == 2

    reading = read_received(ingest_file(path, "test", tmp_path / "originals"), settings)

    assert reading.failure is not None and reading.failure.code == "unreadable_document"
    assert "endommagé" in reading.failure.message_fr
