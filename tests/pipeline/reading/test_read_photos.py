"""Phone photos (issue 3): perspective, a sheet that does not fill the frame, shadow, blur, EXIF orientation.

A scenario file, by kind of input rather than by module: flattening a shadow is tested in
``test_register.py``, a blurred tick in ``scan/test_omr.py``.
"""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageOps

from pipeline.deciding.directory import load_directory
from pipeline.form.definition import form_v1
from pipeline.reading.scan.page import read_scan_page
from pipeline.settings import Settings
from samples.generator import EXIF_ORIENTATION_TURNS, generate_documents
from samples.kinds import SampleKind
from samples.scanner import render_filled_pdf, rotate_quarter_turns, simulate_photo
from schemas.extraction import TickState

FORM_ID = "FO-2026-000733"
VALUES = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "pupil_postcode": "95100",
          "class_level": ["CM1"], "referrer_role": ["enseignant"], "existing_support": ["APC"]}


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    pdf = render_filled_pdf(VALUES, FORM_ID)
    ce2 = next(b for b in form_v1().field("class_level").boxes if b.option == "CE2")
    return simulate_photo(pdf, page=1, tilt_deg=20.0, roll_deg=6.0, fill=0.7, shadow=True, blur_px=1.3,
                          jpeg_quality=85, cancelled_boxes_pt=[ce2.rect], rng=random.Random(4))


def test_photo_with_shadow_is_flattened_registered_and_read(photo: Image.Image) -> None:
    result = read_scan_page(np.asarray(photo.convert("L")))

    assert result.identity.form_id == FORM_ID and result.identity.page == 1
    assert result.anchors_found == 5 and result.residual_pt < 1.0
    f = result.fields
    assert f["pupil_surname"].value == "LEFÈVRE"
    assert f["pupil_birth_date"].value == "14/03/2016" and f["pupil_postcode"].value == "95100"
    # The blackened CE2 box is a correction; the blurred crosses are ticks, not fills.
    assert f["class_level"].value == ["CM1"] and f["class_level"].ticks["CE2"] is TickState.CANCELLED
    assert f["referrer_role"].value == ["enseignant"] and f["existing_support"].value == ["APC"]
    assert f["school_name"].value is None  # shadowed paper is not ink


def test_exif_orientation_round_trip(photo: Image.Image) -> None:
    for orientation, turns in EXIF_ORIENTATION_TURNS.items():
        stored = rotate_quarter_turns(photo, -turns)
        exif = Image.Exif()
        exif[0x0112] = orientation
        buf = io.BytesIO()
        stored.save(buf, format="JPEG", exif=exif.tobytes())
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue())))
        assert upright.size == photo.size


def test_a_phones_nominal_72_dpi_is_ignored(photo: Image.Image) -> None:
    # Regression (issue 3): photos say 72 dpi in their header; reading at 72 dpi lost most fields.
    result = read_scan_page(np.asarray(photo.convert("L")), dpi_hint=72.0)

    assert result.dpi > 150
    assert result.fields["pupil_surname"].value == "LEFÈVRE"


def test_a_phone_photo_stating_72_dpi_keeps_its_text_confidences(tmp_path, settings, directory) -> None:  # noqa: ANN001
    """A phone writes 72 dpi in its JPEG whatever the page's resolution: that is no fax (OcrSettings.min_text_dpi)."""
    from pipeline.reading.extract import read_document
    from samples.generator import generate_documents
    from samples.kinds import SampleKind
    from schemas.document import MediaType

    (doc,) = generate_documents(SampleKind.PHOTO_JPEG, 0, 2026, directory, first_page_only=True)
    path = tmp_path / doc.name
    path.write_bytes(doc.data)
    with Image.open(path) as im:
        assert im.info.get("dpi", (72, 72))[0] < settings.ocr.min_text_dpi
    (page,) = read_document(path, MediaType.JPEG, settings)
    surname = page.fields["pupil_surname"]
    assert surname.value == doc.truth["values"]["pupil_surname"]
    assert surname.confidence >= settings.ocr.text_confidence_min


@pytest.mark.parametrize(("index", "name"), [(3, "class_name"), (5, "class_name"), (1, "school_name")])
def test_a_blurred_heic_photo_is_sharpened_before_ocr(index: int, name: str) -> None:
    # Unsharpened, tesseract read these "Se B" (5e B), "CM1 8" (CM1 B) and "Coliège" (Collège) at 0.68-0.81.
    settings = Settings()
    directory = load_directory(settings.directory_file)
    (doc,) = generate_documents(SampleKind.PHOTO_HEIC, index, 2026, directory, settings.school_year,
                                first_page_only=True)
    with Image.open(io.BytesIO(doc.data)) as im:
        page = np.asarray(ImageOps.exif_transpose(im).convert("L"))

    field = read_scan_page(page).fields[name]

    assert field.value == doc.truth["values"][name]  # type: ignore[index]
    # CM1 B: tesseract gave "CM1" and "B" one 0.42 (a doubt on the break); the ticked CM1 settles both
    # (pipeline.reading.scan.text_rules.division_settled).
    assert field.confidence >= settings.ocr.text_confidence_min


def test_typed_zones_blur_pulls_off_one_baseline_are_read_as_typed() -> None:
    # Regression (issue 3): on photo_jpeg 11 blur merged these zones' letters into blobs off one
    # baseline, and they were held as handwritten; typed again in the form's font they match their ink.
    settings = Settings()
    directory = load_directory(settings.directory_file)
    docs = generate_documents(SampleKind.PHOTO_JPEG, 11, 2026, directory, settings.school_year)
    fields = {}
    for doc in docs:
        with Image.open(io.BytesIO(doc.data)) as im:
            fields.update(read_scan_page(np.asarray(ImageOps.exif_transpose(im).convert("L"))).fields)
    truth = docs[0].truth["values"]

    for name in ("referrer_name", "home_languages"):
        assert fields[name].value == truth[name]  # type: ignore[index]
        assert fields[name].doubt is None
        assert fields[name].confidence >= settings.ocr.text_confidence_min


def test_a_photo_zone_whose_readers_differ_is_settled_by_the_grey_photo_and_not_read_a_third_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The page reader's wiring of photo_witness.settle_by_grey_reading: PP-OCRv6's first reading of the school is
    made to differ from Tesseract's, as devset r0005's « Paul L.angevin »; its reading of the grey photo, left as it
    is, is Tesseract's, and the field is settled by that, with no third reading after it."""
    import pipeline.reading.scan.page as page_reader
    from pipeline.reading.scan.second_reader import LineReading
    from schemas.extraction import Reader

    settings = Settings()
    (doc,) = generate_documents(SampleKind.PHOTO_JPEG, 0, 2026, load_directory(settings.directory_file),
                                settings.school_year, first_page_only=True)
    school = str(doc.truth["values"]["school_name"])
    first, _, last = school.rpartition(" ")
    misread = f"{first} {last[0]}.{last[1:]}"
    real_read_lines = page_reader.read_lines
    misled: list[bool] = []

    def first_reading_misled(crops, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        lines = real_read_lines(crops, *args, **kwargs)
        # The text zones' call is the first to read the school (the combs' runs beside it, in any order); the grey
        # photo's comes after both, and is left as read.
        if misled or all(line.text != school for line in lines):
            return lines
        misled.append(True)
        return [LineReading(misread, line.score, line.frames) if line.text == school else line for line in lines]

    monkeypatch.setattr(page_reader, "read_lines", first_reading_misled)
    with Image.open(io.BytesIO(doc.data)) as im:
        field = read_scan_page(np.asarray(ImageOps.exif_transpose(im).convert("L"))).fields["school_name"]

    readers = {r.reader: r.value for r in field.readings}
    assert readers[Reader.PPOCR] == misread and readers[Reader.TESSERACT] == school
    assert readers[Reader.PPOCR_GREY] == school
    assert Reader.TESSERACT_RESCALED not in readers  # settled: not read a third time
    assert field.value == school and field.rules[-1] == "grey_reading_agrees"
    assert field.confidence >= settings.ocr.text_confidence_min
