"""Tesseract strips, read in this process: each zone's words come back to it, and engines are loaded once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from pipeline.errors import OcrError
from pipeline.form.fonts import FORM_FONT_FILES, VALUE_FONT
from pipeline.reading.scan.strips import (
    DIGITS_VARIABLES,
    ENGINES,
    Engines,
    ocr_strip,
    stack_zones,
    tessdata_dir,
    words_by_slot,
)
from pipeline.settings import OcrSettings


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


def test_a_comb_strip_reads_digits_only_and_its_engine_is_kept_apart_from_the_texts() -> None:
    strip = stack_zones([_typed("14 03 2016")], gap_px=30, pad_px=20)
    ocr = OcrSettings()

    digits = " ".join(w.text for w in ocr_strip(strip, ocr, "fra", DIGITS_VARIABLES))
    letters = " ".join(w.text for w in ocr_strip(stack_zones([_typed("Durand")], 30, 20), ocr, "fra"))

    assert digits.replace(" ", "") == "14032016"
    assert letters == "Durand"  # the text engine has no digit whitelist


def test_an_engine_is_loaded_once_and_reused() -> None:
    engines = Engines()
    with engines.borrow("fra", OcrSettings().psm) as first:
        pass
    with engines.borrow("fra", OcrSettings().psm) as again:
        assert again is first
        with engines.borrow("fra", OcrSettings().psm) as meanwhile:
            assert meanwhile is not first  # two threads at once get two engines


def test_a_language_whose_model_is_not_installed_is_a_clear_ocr_error() -> None:
    with pytest.raises(OcrError, match="tesseract-ocr-xyz"), ENGINES.borrow("xyz", OcrSettings().psm):
        pass


def test_the_models_are_the_system_tesseracts_unless_tessdata_prefix_says_otherwise(
        monkeypatch: pytest.MonkeyPatch) -> None:
    tessdata_dir.cache_clear()
    monkeypatch.delenv("TESSDATA_PREFIX", raising=False)
    try:
        assert (Path(tessdata_dir()) / "fra.traineddata").is_file()  # what `tesseract --list-langs` names
        tessdata_dir.cache_clear()
        monkeypatch.setenv("TESSDATA_PREFIX", "/opt/tessdata")
        assert tessdata_dir() == "/opt/tessdata/"
    finally:
        tessdata_dir.cache_clear()
