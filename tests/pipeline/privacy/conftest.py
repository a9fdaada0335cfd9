"""Fixtures of the privacy tests: a database the pipeline stages filled from the distinctive forms."""

from __future__ import annotations

from pathlib import Path

import pytest

import web.models  # noqa: F401 - the review desk's tables (follow-ups, corrections) exist, as in production
from pipeline.settings import Settings
from pipeline.store import Store
from schemas.directory import Directory
from tests.support.distinctive_forms import process_inbox, write_distinctive_inbox


@pytest.fixture
def loaded(tmp_path: Path, settings: Settings, directory: Directory) -> Store:
    """The store after one run of the stages (no Prefect) over the forms of ``tests/support/distinctive_forms.py``."""
    write_distinctive_inbox(tmp_path / "inbox", directory)
    process_inbox(settings, tmp_path / "inbox")
    return Store(settings.database_url)
