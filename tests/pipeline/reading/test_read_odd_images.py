"""Image files whose pages a plain QR decoder reads once a standard transform is applied (issue 16, item 6).

A scenario file, by kind of input: 16-bit, transparent, palette and 1-bit images; a fax whose rows are
halved, stating its resolution with a unit, without one, or not at all, upright or sideways, or whose pixels a
noisy line flipped; a blurred phone
photo stored turned with its EXIF orientation. Each is made from the project's own rendering of the form and
must be identified as its page, never declared "not the form". Most tests identify only (the
``identify_only`` fixture's page reader reports the identity it found, so they stay fast); two read the
page through and check its values.
"""

from __future__ import annotations

import io
import random
import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image, ImageOps

from pipeline.errors import UnreadableDocumentError
from pipeline.form.definition import PageIdentity
from pipeline.reading import extract
from pipeline.reading.extract import PageReading, UnidentifiedPage, read_document
from pipeline.reading.identify import decode_our_codes
from pipeline.reading.normalise import decode_with_stretches, grey_array
from pipeline.settings import Settings
from samples.copies import fax_page
from samples.scanner import rasterise_pdf_page, render_filled_pdf, simulate_photo, simulate_scan
from schemas.document import MediaType
from schemas.extraction import FormValues

FORM_ID = "FO-2026-000912"
VALUES: FormValues = {"pupil_surname": "LEFÈVRE", "pupil_first_name": "Inès", "pupil_birth_date": "14/03/2016",
                      "class_level": ["CM1"]}


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_filled_pdf(VALUES, FORM_ID)


@pytest.fixture(scope="module")
def scan(pdf: bytes) -> np.ndarray:
    """Page 1 scanned in grey at 200 dpi, skewed 1°: ``uint8`` array."""
    return np.asarray(simulate_scan(pdf, 200, page=1, skew_deg=1.0, jpeg_quality=None, rng=random.Random(7)))


def _save(tmp_path: Path, image: Image.Image, fmt: str, **params: object) -> Path:
    path = tmp_path / f"page.{fmt.lower()}"
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    path.write_bytes(buf.getvalue())
    return path


def _identities(path: Path, media_type: MediaType, settings: Settings) -> list[PageIdentity | str]:
    return [p.identity if isinstance(p, PageReading) else p.error.code
            for p in read_document(path, media_type, settings)]


PAGE_1 = PageIdentity(FORM_ID, 1, 1, 2)


def _sixteen_bit(grey: np.ndarray) -> Image.Image:
    return Image.fromarray(grey.astype(np.uint16) * 257)  # full 16-bit range: mode I;16


def _transparent_paper(grey: np.ndarray) -> Image.Image:
    # Black ink whose coverage is the alpha channel: the paper is fully transparent, its hidden colour black.
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., 3] = 255 - grey
    return Image.fromarray(rgba, "RGBA")


def _transparent_grey_alpha(grey: np.ndarray) -> Image.Image:
    la = np.stack([np.zeros_like(grey), 255 - grey], axis=-1)
    return Image.fromarray(la, "LA")


def _palette(grey: np.ndarray) -> Image.Image:
    # 16 grey levels in a palette, listed lightest first so that an index is not a grey level.
    image = Image.fromarray((15 - grey // 16).astype(np.uint8), "P")
    image.putpalette([v for i in range(16) for v in (255 - 17 * i,) * 3])
    return image


IMAGE_FORMATS: dict[str, tuple[Callable[[np.ndarray], Image.Image], str, MediaType]] = {
    "16-bit PNG": (_sixteen_bit, "PNG", MediaType.PNG),
    "16-bit TIFF": (_sixteen_bit, "TIFF", MediaType.TIFF),
    "transparent RGBA PNG": (_transparent_paper, "PNG", MediaType.PNG),
    "transparent grey+alpha PNG": (_transparent_grey_alpha, "PNG", MediaType.PNG),
    "palette PNG": (_palette, "PNG", MediaType.PNG),
    "1-bit TIFF": (lambda g: Image.fromarray(g).convert("1"), "TIFF", MediaType.TIFF),
}


@pytest.mark.parametrize("name", list(IMAGE_FORMATS))
def test_any_pixel_format_is_made_grey_without_losing_the_page(name: str, scan: np.ndarray) -> None:
    make, _, _ = IMAGE_FORMATS[name]
    grey = grey_array(make(scan))

    assert grey.dtype == np.uint8 and grey.shape == scan.shape
    # Paper stays paper and ink stays ink (a 1-bit image is thresholded, a palette quantised).
    paper, ink = scan > 200, scan < 60
    assert np.median(grey[paper]) > 200 and np.median(grey[ink]) < 80


def test_a_naive_8_bit_conversion_would_have_lost_those_pages(scan: np.ndarray) -> None:
    # Why grey_array exists: Pillow's own conversion clips 16-bit samples and ignores alpha.
    assert np.mean(np.asarray(_sixteen_bit(scan).convert("L")) == 255) > 0.99  # all but pure black clipped
    assert np.asarray(_transparent_paper(scan).convert("L")).max() == 0


@pytest.mark.usefixtures("identify_only")
@pytest.mark.parametrize("name", list(IMAGE_FORMATS))
def test_a_page_in_any_pixel_format_is_identified(name: str, scan: np.ndarray, tmp_path: Path,
                                                  settings: Settings) -> None:
    make, fmt, media_type = IMAGE_FORMATS[name]
    path = _save(tmp_path, make(scan), fmt)

    assert _identities(path, media_type, settings) == [PAGE_1]


@pytest.mark.usefixtures("identify_only")
def test_a_dim_16_bit_scan_is_identified_once_its_contrast_is_stretched(scan: np.ndarray, tmp_path: Path,
                                                                        settings: Settings) -> None:
    # A 12-bit scanner's samples in a 16-bit file: the page fills a sixteenth of the range (grey 0-16).
    dim = Image.fromarray(scan.astype(np.uint16) * 16)
    path = _save(tmp_path, dim, "PNG")
    assert not zxingcpp.read_barcodes(grey_array(dim))  # as received, no code decodes

    assert _identities(path, MediaType.PNG, settings) == [PAGE_1]


@pytest.fixture(scope="module")
def fax(pdf: bytes) -> Image.Image:
    """Page 1 as ``samples.copies`` faxes it: 1-bit, 200 dpi across and 100 lines per inch down."""
    page = np.asarray(rasterise_pdf_page(pdf, 1, 200))
    return fax_page(page, random.Random(3), "04/11/2026 10:12  DE: ECOLE  01 39 12 34 56   P.001/002")


FAXES: dict[str, tuple[str, dict[str, object], int]] = {
    "TIFF stating 200 x 100 dpi": ("TIFF", {"dpi": (200, 100), "compression": "group4"}, 0),
    "TIFF stating 200 x 100 without a unit": ("TIFF", {"x_resolution": 200, "y_resolution": 100,
                                                       "resolution_unit": 1}, 0),
    "PNG stating nothing": ("PNG", {}, 0),
    "PNG stating nothing, sent sideways": ("PNG", {}, 1),
}


@pytest.mark.usefixtures("identify_only")
@pytest.mark.parametrize("name", list(FAXES))
def test_a_fax_with_half_its_rows_is_identified(name: str, fax: Image.Image, tmp_path: Path,
                                                settings: Settings) -> None:
    fmt, params, turns = FAXES[name]
    path = _save(tmp_path, fax.rotate(90 * turns, expand=True) if turns else fax, fmt, **params)

    assert _identities(path, MediaType.TIFF if fmt == "TIFF" else MediaType.PNG, settings) == [PAGE_1]


@pytest.mark.usefixtures("identify_only")
def test_a_fax_with_flipped_pixels_is_identified_on_both_its_codes(fax: Image.Image, tmp_path: Path,
                                                                   settings: Settings) -> None:
    # A noisy line flips pixels: 3 % of them here, enough to break every module of a plain decoder's codes.
    pixels = np.asarray(fax.convert("L"))
    flipped = np.where(np.random.default_rng(5).random(pixels.shape) < 0.03, 255 - pixels, pixels).astype(np.uint8)
    noisy = Image.fromarray(flipped).convert("1")
    path = _save(tmp_path, noisy, "TIFF", dpi=(200, 100), compression="group4")
    square = np.repeat(np.asarray(noisy.convert("L")), 2, axis=0)
    assert sum(PageIdentity.parse(b.text) is not None for b in zxingcpp.read_barcodes(square)) < 2  # plain decoder

    assert _identities(path, MediaType.TIFF, settings) == [PAGE_1]
    assert len(decode_our_codes(square).codes) == 2


@pytest.mark.parametrize("turns", [0, 1])
def test_a_coarse_fax_decodes_once_its_short_axis_is_stretched(pdf: bytes, turns: int) -> None:
    # 120 dpi across, 60 lines per inch down: QR modules 1 px tall, too few for the decoder as received.
    scan = np.asarray(simulate_scan(pdf, 120, page=1, skew_deg=1.0, jpeg_quality=None, rng=random.Random(7)))
    halved = np.asarray(Image.fromarray(scan).resize((scan.shape[1], scan.shape[0] // 2), Image.Resampling.BOX))
    received = np.ascontiguousarray(np.rot90(halved, turns))
    assert not decode_our_codes(received).codes

    image, codes, factor = decode_with_stretches(received)

    assert factor == 2.0 and {c.identity for c in codes} == {PAGE_1}
    long_axis = 1 - turns  # the axis that had half its pixels is the one stretched
    assert image.shape[long_axis] == received.shape[long_axis]
    assert image.shape[1 - long_axis] == 2 * received.shape[1 - long_axis]


def test_pixels_stated_non_square_without_a_unit_are_made_square(fax: Image.Image, tmp_path: Path,
                                                                 settings: Settings) -> None:
    path = _save(tmp_path, fax, "TIFF", x_resolution=200, y_resolution=100, resolution_unit=1)

    [(grey, dpi, coarsest)] = list(extract._image_pages(path, MediaType.TIFF, settings))

    assert grey.shape == (2 * fax.height, fax.width)
    assert dpi is None and coarsest is None  # a ratio without a unit says nothing of the resolution itself


@pytest.fixture(scope="module")
def blurred_photo(pdf: bytes) -> Image.Image:
    """A 12-megapixel phone photo blurred by 3 px: its codes decode only once sharpened."""
    return simulate_photo(pdf, page=1, tilt_deg=15.0, fill=0.8, blur_px=3.0, jpeg_quality=90, rng=random.Random(3))


@pytest.mark.usefixtures("identify_only")
def test_a_blurred_phone_photo_stored_turned_with_its_exif_tag_is_identified(blurred_photo: Image.Image,
                                                                           tmp_path: Path, settings: Settings) -> None:
    stored = blurred_photo.rotate(90, expand=True)  # the sensor's frame; EXIF 6 turns it back for display
    exif = Image.Exif()
    exif[0x0112] = 6
    path = _save(tmp_path, stored, "JPEG", exif=exif.tobytes(), quality=92)
    with Image.open(path) as received:
        assert not zxingcpp.read_barcodes(ImageOps.exif_transpose(received).convert("L"))  # plain decoder: nothing

    [page] = read_document(path, MediaType.JPEG, settings)

    assert isinstance(page, PageReading), page.error if isinstance(page, UnidentifiedPage) else ""
    assert page.identity == PAGE_1


@pytest.mark.parametrize("name", ["16-bit PNG", "transparent RGBA PNG"])
def test_a_16_bit_or_transparent_page_is_read_through(name: str, scan: np.ndarray, tmp_path: Path,
                                                      settings: Settings) -> None:
    make, fmt, media_type = IMAGE_FORMATS[name]
    path = _save(tmp_path, make(scan), fmt, dpi=(200, 200))

    [page] = read_document(path, media_type, settings)

    assert isinstance(page, PageReading) and page.identity == PAGE_1
    assert page.fields["pupil_surname"].value == "LEFÈVRE"
    assert page.fields["pupil_birth_date"].value == "14/03/2016"
    assert page.fields["class_level"].value == ["CM1"]


def _tiff_with_a_damaged_frame(frames: int, broken: int) -> bytes:
    """An LZW TIFF of ``frames`` noise pages whose frame ``broken`` (0-based) has its strip data overwritten."""
    rng = np.random.default_rng(0)
    pages = [Image.fromarray((rng.random((300, 240)) > 0.5).astype(np.uint8) * 255) for _ in range(frames)]
    out = io.BytesIO()
    pages[0].save(out, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    data = bytearray(out.getvalue())
    offset, ifds = struct.unpack("<I", data[4:8])[0], []
    while offset:
        ifds.append(offset)
        count = struct.unpack("<H", data[offset:offset + 2])[0]
        offset = struct.unpack("<I", data[offset + 2 + 12 * count:offset + 6 + 12 * count])[0]
    ifd = ifds[broken]
    for k in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        entry = ifd + 2 + 12 * k
        if struct.unpack("<H", data[entry:entry + 2])[0] == 273:  # StripOffsets
            count, where = struct.unpack("<II", data[entry + 4:entry + 12])
            first = struct.unpack("<I", data[where:where + 4])[0] if count > 1 else where
            data[first:first + 2000] = b"\xab" * 2000
    return bytes(data)


def test_a_multi_page_tiff_with_a_damaged_page_says_which(tmp_path: Path) -> None:
    # An attack (2026-12-06): a fax TIFF whose third page is damaged was told « fichier illisible » as a whole.
    path = tmp_path / "fax.tif"
    path.write_bytes(_tiff_with_a_damaged_frame(3, 2))

    with pytest.raises(UnreadableDocumentError) as raised:
        read_document(path, MediaType.TIFF, Settings())

    assert "sa page 3 ne peut pas être décodée" in raised.value.reason_fr


@pytest.mark.parametrize(("damage", "raised_by_pillow"), [
    (((3, 4), (112, 195)), TypeError),
    (((11, 224), (31, 206), (46, 191), (53, 88)), KeyError),
])
def test_a_damaged_page_directory_is_told_as_damage_not_as_an_internal_error(
        tmp_path: Path, damage: tuple[tuple[int, int], ...], raised_by_pillow: type[Exception]) -> None:
    """A review's fuzzing (2026-12-07) of a 3-page TIFF's third page directory: Pillow raised TypeError or KeyError,
    which ended as « erreur interne » instead of naming the damaged page. The bytes are two of its finds."""
    frames = [Image.new("L", (400, 500), v) for v in (255, 200, 150)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    data = bytearray(out.getvalue())
    offset = struct.unpack("<I", data[4:8])[0]
    for _ in range(2):  # the third page's directory
        count = struct.unpack("<H", data[offset:offset + 2])[0]
        offset = struct.unpack("<I", data[offset + 2 + 12 * count:offset + 6 + 12 * count])[0]
    for at, byte in damage:
        data[offset + at] = byte
    path = tmp_path / "fax.tif"
    path.write_bytes(bytes(data))
    with Image.open(path) as img, pytest.raises(raised_by_pillow):
        img.seek(2)
        img.load()

    with pytest.raises(UnreadableDocumentError) as raised:
        read_document(path, MediaType.TIFF, Settings())

    assert "sa page 3 ne peut pas être décodée" in (raised.value.reason_fr or "")
