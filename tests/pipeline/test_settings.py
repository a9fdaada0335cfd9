"""Settings that must agree with each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import OcrSettings, Settings
from pipeline.settings.reading import ConstrainedSettings

BUNDLED = ConstrainedSettings().directory_file


def test_the_school_decoder_reads_the_directory_the_run_routes_with(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    city = tmp_path / "annuaire.toml"

    assert Settings(directory_file=city).ocr.constrained.directory_file == city
    monkeypatch.setenv("CLAS_DIRECTORY_FILE", str(city))
    assert Settings().ocr.constrained.directory_file == city
    # Other reading settings given beside it are kept.
    monkeypatch.setenv("CLAS_OCR__CONSTRAINED__SHORTLIST", "12")
    settings = Settings()
    assert (settings.ocr.constrained.directory_file, settings.ocr.constrained.shortlist) == (city, 12)
    assert Settings(ocr=OcrSettings(language="eng")).ocr.constrained.directory_file == city


def test_a_decoder_directory_given_on_its_own_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    city, other = tmp_path / "annuaire.toml", tmp_path / "autre.toml"
    monkeypatch.setenv("CLAS_DIRECTORY_FILE", str(city))
    monkeypatch.setenv("CLAS_OCR__CONSTRAINED__DIRECTORY_FILE", str(other))

    assert Settings().ocr.constrained.directory_file == other
    assert Settings(ocr=OcrSettings(constrained=ConstrainedSettings(directory_file=other))
                    ).ocr.constrained.directory_file == other


def test_without_a_directory_the_bundled_one_is_read() -> None:
    assert Settings().ocr.constrained.directory_file == BUNDLED == Settings().directory_file
