"""Field crops for the review desk: kept per field, stored at a known path, drawn on a contact sheet."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.form.definition import form_v1
from pipeline.reading.crops import SheetItem, contact_sheet, crop_path, sheet_font, store_crops
from pipeline.reading.scan.page import field_crops


def test_crops_are_small_pngs_of_each_zone_stored_where_the_desk_looks(tmp_path: Path) -> None:
    page = np.full((int(841.89 * 300 / 72), int(595.28 * 300 / 72)), 250, np.uint8)
    fields = form_v1().page_fields(1)
    crops = field_crops(page, 300 / 72, fields, 150.0)

    assert set(crops) == {f.name for f in fields}
    im = Image.open(io.BytesIO(crops["pupil_surname"]))
    rect = form_v1().field("pupil_surname").rect
    assert im.height == pytest.approx((rect.height + 8) * 150 / 72, abs=2)  # downscaled to 150 dpi, 4 pt margin
    assert max(len(png) for png in crops.values()) < 20_000

    paths = store_crops(crops, tmp_path, "FO-2026-000123", 1)
    assert crop_path(tmp_path, "FO-2026-000123", 1, "pupil_surname") in paths
    assert crop_path(tmp_path, "FO-2026-000123", 1, "pupil_surname").read_bytes() == crops["pupil_surname"]
    with pytest.raises(ValueError):
        crop_path(tmp_path, "../../etc", 1, "x")


def test_contact_sheet_stacks_crops_with_captions() -> None:
    buf = io.BytesIO()
    Image.fromarray(np.full((40, 300), 200, np.uint8)).save(buf, format="PNG")
    sheet = contact_sheet([SheetItem(buf.getvalue(), f"field {i} (0.{i})") for i in range(3)])
    assert sheet.width == 1400 and sheet.height >= 3 * 40


def test_the_sheet_font_writes_french_accents() -> None:
    """The cedilla hangs below the line: Pillow's built-in font drew a box instead (``Fran□ais``)."""
    font = sheet_font(12)
    c, cedilla = font.getbbox("c"), font.getbbox("ç")
    assert cedilla[3] > c[3]
    assert font.getbbox("é")[1] < c[1]  # the accent stands above the letter
