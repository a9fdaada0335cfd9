"""Fixtures of the reading tests."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.reading import extract
from pipeline.reading.anchors import find_page
from pipeline.reading.scan.page import ScanPageResult


@pytest.fixture
def identify_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replace the scan page reader by identification alone: each page's identity, no field read (fast)."""
    def identify(image: np.ndarray, dpi_hint: float | None, ocr: object, omr: object, definition: object,
                 registration: object) -> ScanPageResult:
        page = find_page(image, definition, registration)  # type: ignore[arg-type]
        return ScanPageResult(page.identity, page.quarter_turns, page.dpi_estimate, 0.0, 0, {})
    monkeypatch.setattr(extract, "read_scan_page", identify)
