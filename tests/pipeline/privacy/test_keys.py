"""The pupil hash is never keyed by a value written in the source (issue 17, ``pipeline.privacy.keys``)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from pipeline.privacy.keys import PUPIL_KEY_FILE_NAME, SecretKeyError, pupil_hash_key
from pipeline.settings import Settings


def test_without_a_configured_key_the_pupil_hash_key_is_generated_once_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    key = pupil_hash_key(settings)
    path = tmp_path / PUPIL_KEY_FILE_NAME
    assert path.read_text(encoding="ascii").strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key != Settings().secret_key and len(key) >= 32
    assert pupil_hash_key(Settings(data_dir=tmp_path / "data")) == key  # stable: the hashes stay comparable


def test_a_configured_key_is_used_when_strong_and_refused_when_known(tmp_path: Path) -> None:
    strong = "k" * 8 + "Zq4-9vT2mLx7RwB1nYc3hJ5s"
    assert pupil_hash_key(Settings(data_dir=tmp_path / "data", secret_key=strong)) == strong
    assert not (tmp_path / PUPIL_KEY_FILE_NAME).exists()
    for known in ("dev-only-change-me", "changeme", "short-key"):
        with pytest.raises(SecretKeyError):
            pupil_hash_key(Settings(data_dir=tmp_path / "data", secret_key=known))
