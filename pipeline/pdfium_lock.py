"""One lock for every PDFium call of a process.

PDFium is not thread-safe: two threads may not call it at the same time, not even on different documents
(pypdfium2's documentation, "Incompatibility with Threading"; doing so "would crash or corrupt the process").
A scanned page is read by several threads at once (:func:`pipeline.reading.scan.page.read_scan_page`): the
fine realignment rasterises the blank form at the page's resolution while the page's own thread may render a
PDF page or rasterise another template. Unserialised, this killed the process with ``SIGTRAP`` in about half
of the runs that read a scanned PDF in a fresh process (measured 2026-12-05: 4 of 6 runs of one devset
file; a reading worker that dies so is reported as a document too heavy to read).

Every PDFium use of the product (pypdfium2 directly, or pdfplumber's ``Page.to_image``) opens, uses and
closes its objects inside ``with PDFIUM_LOCK:``; objects are closed explicitly there, never left to the
garbage collector, which could close them from another thread outside the lock. The lock is re-entrant, so a
helper that takes it may call another that does.
"""

from __future__ import annotations

import threading

PDFIUM_LOCK = threading.RLock()
"""Held around every PDFium call (re-entrant; one per process, and so one per reading worker)."""
