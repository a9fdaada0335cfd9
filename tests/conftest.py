"""Shared fixtures: settings on a temporary database and data folder, the demo directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from schemas.directory import Directory

PROJECT = Path(__file__).resolve().parent.parent
SAMPLES_INBOX = PROJECT / "samples" / "inbox"
SAMPLES_TRUTH = PROJECT / "samples" / "truth"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a fresh SQLite file and data folder under ``tmp_path``."""
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / "data"))
    return Settings()


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The demo city's directory shipped with the package."""
    return load_directory(Settings().directory_file)
