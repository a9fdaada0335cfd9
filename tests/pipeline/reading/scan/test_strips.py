"""Tesseract strips: the strip image handed to tesseract is the same pixels, and its words come back to their zone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.form.fonts import FORM_FONT_FILES, VALUE_FONT
from pipeline.reading.scan.strips import ocr_strip, stack_zones, words_by_slot, write_pgm
from pipeline.settings import OcrSettings


def test_pgm_holds_the_strip_pixel_for_pixel(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    image = rng.integers(0, 256, size=(37, 53), dtype=np.uint8)
    path = tmp_path / "strip.pgm"

    write_pgm(path, image)

    with Image.open(path) as read:
        assert read.mode == "L" and read.size == (53, 37)
        assert np.array_equal(np.asarray(read), image)


def test_pgm_refuses_what_is_not_a_grey_image(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="2-D uint8"):
        write_pgm(tmp_path / "x.pgm", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="2-D uint8"):
        write_pgm(tmp_path / "x.pgm", np.zeros((4, 4), dtype=np.float32))


def _typed(text: str) -> np.ndarray:
    font = ImageFont.truetype(str(FORM_FONT_FILES[VALUE_FONT]), 42)
    image = Image.new("L", (700, 70), 255)
    ImageDraw.Draw(image).text((10, 8), text, font=font, fill=0)
    return np.asarray(image)


def test_each_zone_of_a_strip_gets_its_own_words() -> None:
    strip = stack_zones([_typed("Durand"), _typed("Camille Rose")], gap_px=30, pad_px=20)

    words = ocr_strip(strip, OcrSettings(), "fra")

    by_slot = words_by_slot(words, strip.slots)
    assert [" ".join(w.text for w in ws) for ws in by_slot] == ["Durand", "Camille Rose"]
    assert all(0.0 <= w.confidence <= 1.0 for w in words)
