"""Doubtful fields of a scan keep their crop for the review page; confident ones do not."""

from __future__ import annotations

import io
import random
from pathlib import Path

from pipeline.reading.extract import read_document
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from samples.scanner import random_scan
from schemas.directory import Directory
from schemas.document import MediaType


def test_only_doubtful_fields_keep_a_crop(tmp_path: Path, settings: Settings, directory: Directory,
                                          monkeypatch) -> None:  # noqa: ANN001
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 8, directory)[0]
    values, form_id = doc.truth["values"], doc.truth["form_id"]
    page = random_scan(values, form_id, 1, random.Random(3), dpi=200, mode="grey")
    path = tmp_path / "p1.png"
    buf = io.BytesIO()
    page.save(buf, format="PNG", dpi=(200, 200))
    path.write_bytes(buf.getvalue())
    # A threshold above every confidence makes every field doubtful; 0 makes none.
    for threshold, expect_crops in ((1.01, True), (0.0, False)):
        monkeypatch.setenv("CLAS_OCR__TEXT_CONFIDENCE_MIN", str(threshold))
        monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / f"data{threshold}"))
        s = Settings()
        [reading] = read_document(path, MediaType.PNG, s)
        crops_dir = s.data_dir / "crops" / form_id / "p1"
        crops = sorted(p.stem for p in crops_dir.glob("*.png")) if crops_dir.exists() else []
        if expect_crops:
            assert set(crops) == set(reading.fields)
            assert (crops_dir / "pupil_surname.png").stat().st_mode & 0o077 == 0
        else:
            assert crops == []
