"""Where a page's reading time goes: wall seconds per stage, recorded by the page reader for the benchmark.

A :class:`StageClock` is filled while one page is read (:func:`pipeline.reading.scan.page.read_scan_page`)
and its totals travel with the page's result, so the benchmark can print a per-stage time table beside the
bare Tesseract reference (issue 19). Stages that run in the reader threads (the two OCR engines) are timed
in their own thread: their seconds overlap the main thread's, so the stages of a page add up to more than
its wall time. Nothing here holds a value read from the page.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class StageClock:
    """Wall seconds spent per named stage of one page (thread-safe)."""

    def __init__(self) -> None:
        """Start with no stage timed."""
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add its wall seconds to stage ``name`` (also when it raises)."""
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            with self._lock:
                self._seconds[name] = self._seconds.get(name, 0.0) + elapsed

    def seconds(self) -> dict[str, float]:
        """Stage name → wall seconds, in the order the stages were first timed."""
        with self._lock:
            return dict(self._seconds)
