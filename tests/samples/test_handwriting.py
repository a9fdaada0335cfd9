"""Handwritten sample forms (``samples.handwriting``): the hand fonts are installed, or say what to install;
the generator writes by hand, seeded, with its ground truth."""

from __future__ import annotations

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from samples.generator import GeneratedDocument, generate_documents
from samples.handwriting import HAND_FONTS, HandFontsMissingError, missing_font_packages, require_hand_fonts
from samples.kinds import SampleKind

SEED = 2026


def _documents(kind: SampleKind, index: int) -> list[GeneratedDocument]:
    require_hand_fonts()
    return generate_documents(kind, index, SEED, load_directory(Settings().directory_file))


def test_handwriting_fonts_are_installed() -> None:
    """The Makefile's TEST_APT_PACKAGES and .ci/run install them; missing fonts fail here, they never skip."""
    assert missing_font_packages() == [], f"apt-get install -y {' '.join(missing_font_packages())}"
    require_hand_fonts()


def test_missing_fonts_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("samples.handwriting.missing_font_packages", lambda: ["fonts-breip"])
    with pytest.raises(HandFontsMissingError, match="apt-get install -y fonts-breip"):
        require_hand_fonts()


def test_generator_writes_by_hand_with_ground_truth() -> None:
    docs = _documents(SampleKind.SCAN_HANDWRITTEN, 0)
    assert [d.name for d in docs] == ["scan_handwritten-0000-p1.jpg", "scan_handwritten-0000-p2.jpg"]
    conditions = docs[0].truth["conditions"]
    assert set(conditions) == {"p1", "p2"}  # type: ignore[arg-type]
    p1 = conditions["p1"]  # type: ignore[index]
    assert p1["font"] in {f.name for f in HAND_FONTS} and p1["ink"] in ("blue", "black")
    assert p1["ticks"] in ("hand", "typed")
    # Same seed, same bytes.
    assert _documents(SampleKind.SCAN_HANDWRITTEN, 0)[0].data == docs[0].data


def test_the_missing_fonts_error_crosses_a_process_boundary_whole() -> None:
    import pickle

    from samples.handwriting import HandFontsMissingError

    error = pickle.loads(pickle.dumps(HandFontsMissingError(["fonts-breip", "fonts-humor-sans"])))

    assert error.packages == ("fonts-breip", "fonts-humor-sans")
    assert str(error).startswith("handwriting fonts missing: run `apt-get install -y fonts-breip fonts-humor-sans`")
