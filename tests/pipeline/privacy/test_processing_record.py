"""The record of processing (``pipeline.privacy.processing_record``), as the command line writes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def test_record_of_processing_follows_the_schemas_and_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.setenv("CLAS_RETENTION__ORIGINALS_DAYS", "45")
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "record-of-processing", "--out",
                           str(tmp_path / "registre.md")], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    record = (tmp_path / "registre.md").read_text(encoding="utf-8")
    from schemas.referral import Guardian, Pupil

    for name in [*Pupil.model_fields, *Guardian.model_fields]:
        assert f"`{name}`" in record
    assert "45 jours après la décision" in record
    for heading in ("## Finalités", "## Catégories de données", "## Destinataires", "## Durées de conservation"):
        assert heading in record
