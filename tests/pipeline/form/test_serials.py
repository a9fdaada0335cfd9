"""Printed form serials come from the database: unique for ever, across print batches (issue 17)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from flows.cli import main
from pipeline.form.serials import allocate_print_serials, serial_number
from pipeline.settings import Settings
from pipeline.store import DocumentRow, Store


def _serials_in(folder: Path) -> list[str]:
    """The serial printed in the footer of each print copy of ``folder``."""
    serials = []
    for pdf in sorted(folder.glob("*imprimable*.pdf")):
        text = PdfReader(pdf).pages[0].extract_text()
        serials += sorted(set(re.findall(r"FO-2026-\d{6}", text)))
    return serials


def test_a_second_print_batch_never_reuses_the_first_batchs_serials(settings: Settings, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "forms"
    assert main(["form", "--out", str(out), "--copies", "2"]) == 0
    assert main(["form", "--out", str(out), "--copies", "3"]) == 0
    serials = _serials_in(out)
    assert serials == [f"FO-2026-00000{n}" for n in range(1, 6)]  # five copies, five serials, none twice
    assert "FO-2026-000003 à FO-2026-000005" in capsys.readouterr().out


def test_serials_start_above_the_highest_already_received(settings: Settings) -> None:
    store = Store(settings.database_url)
    with store.session() as s:  # a form printed before serials were kept, already received
        s.add(DocumentRow(sha256="a" * 64, source="folder:x", original_name="f.pdf", media_type="application/pdf",
                          size_bytes=1, stored_path="x", received_at=datetime.now(UTC), status="routed",
                          form_id="FO-2026-000041"))
        s.add(DocumentRow(sha256="b" * 64, source="folder:x", original_name="g.pdf", media_type="application/pdf",
                          size_bytes=1, stored_path="x", received_at=datetime.now(UTC), status="review",
                          form_id="FO-2026-N00001@bbbbbbbbbbbb"))
    assert allocate_print_serials(store, "2026", 2) == ["FO-2026-000042", "FO-2026-000043"]
    assert allocate_print_serials(store, "2027", 1) == ["FO-2027-000001"]  # each series its own counter
    store.close()


def test_concurrent_print_batches_get_disjoint_serials(settings: Settings) -> None:
    got: list[list[str]] = []

    def batch() -> None:
        store = Store(settings.database_url)
        got.append(allocate_print_serials(store, "2026", 20))
        store.close()

    Store(settings.database_url).close()
    threads = [threading.Thread(target=batch) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [s for batch_serials in got for s in batch_serials]
    assert len(got) == 4 and len(set(every)) == 80


def test_serial_numbers_are_read_back_and_bad_series_refused(settings: Settings) -> None:
    assert serial_number("FO-2026-000123", "2026") == 123
    assert serial_number("FO-2026-N00001@abc", "2026") is None
    assert serial_number("FO-2025-000123", "2026") is None
    store = Store(settings.database_url)
    with pytest.raises(ValueError, match="four digits"):
        allocate_print_serials(store, "26'; DROP", 1)
    with pytest.raises(ValueError, match="at least 1"):
        allocate_print_serials(store, "2026", 0)
    store.close()
