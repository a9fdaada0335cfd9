"""Verifications simulated from truth: what ``clas-referrals calibrate`` would fit if staff checked generated forms.

No real handwriting is available here (issue 18), so the calibration's mechanics are shown on the project's own
generated hand forms: each file of a corpus written by ``clas-referrals samples`` (``inbox`` + ``<file>.json``
truth beside it) is read by the product, and every field that carries a constrained reading
(``Reader.PPOCR_CONSTRAINED``) is taken as verified by a person who typed its true value. Those records have the
shape of the desk's (``pipeline.store.Store.field_verifications``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipeline.intake.ingest import detect_media_type
from pipeline.reading.extract import PageReading, read_document
from pipeline.settings import Settings
from schemas.extraction import Reader


def corpus_files(inbox: Path) -> list[Path]:
    """The files :func:`simulated_verifications` reads, in the order it reads them."""
    return sorted(p for p in inbox.iterdir() if p.is_file())


def simulated_verifications(inbox: Path, truth_dir: Path, settings: Settings,
                            progress: Callable[[], None] | None = None) -> list[dict[str, Any]]:
    """Read every file of ``inbox`` and verify its decoded fields from the truth in ``truth_dir``.

    Args:
        inbox: Files written by ``samples.generator.write_corpus``.
        truth_dir: Their truth, ``<file name>.json`` with ``values`` (field name → true value).
        settings: Product settings the files are read with.
        progress: Called after each file read (a progress line on stderr: a corpus takes minutes).

    Returns:
        Records ``{"name", "readings", "final_value", "corrected"}`` as the desk keeps them.

    Raises:
        FileNotFoundError: A file has no truth beside it.
    """
    records: list[dict[str, Any]] = []
    for path in corpus_files(inbox):
        truth = json.loads((truth_dir / f"{path.name}.json").read_text(encoding="utf-8"))["values"]
        pages = read_document(path, detect_media_type(path.read_bytes()[:64]), settings)
        for page in (p for p in pages if isinstance(p, PageReading)):
            for name, field in page.fields.items():
                if not any(r.reader is Reader.PPOCR_CONSTRAINED for r in field.readings):
                    continue
                records.append({"name": name, "readings": [r.model_dump(mode="json") for r in field.readings],
                                "final_value": truth.get(name), "corrected": field.value != truth.get(name)})
        if progress is not None:
            progress()
    return records
