"""The form's one typeface (``pipeline.form.fonts``): registered from its Debian package's files, or a clear error."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest

from pipeline.form import fonts
from pipeline.form.fonts import FORM_FONT_PACKAGE, VALUE_FONT, FormFontMissingError, can_encode, form_font
from pipeline.form.render import Rendering, render_form


def test_the_form_font_is_read_from_the_debian_packages_file() -> None:
    font = form_font(VALUE_FONT)
    assert Path(font.face.filename) == Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
    assert FORM_FONT_PACKAGE == "fonts-liberation"


def test_a_missing_form_font_stops_the_rendering_with_what_to_install(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    absent = tmp_path / "LiberationSans-Regular.ttf"
    monkeypatch.setitem(fonts.FORM_FONT_FILES, VALUE_FONT, absent)

    with pytest.raises(FormFontMissingError) as caught:
        render_form(io.BytesIO(), "FO-2026-N00001", Rendering.PRINT)

    message = str(caught.value)
    assert caught.value.path == absent and caught.value.package == "fonts-liberation"
    assert "police du formulaire absente" in message and "form font missing" in message
    assert "apt-get install -y fonts-liberation" in message
    # Sent back whole from a benchmark worker process.
    assert str(pickle.loads(pickle.dumps(caught.value))) == message


def test_can_encode_tells_the_letters_the_font_has() -> None:
    assert can_encode("Éléonore Lefèvre-Noël, 06 12")
    assert not can_encode("王芳")
