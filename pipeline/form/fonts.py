"""The one typeface the forms and the readers' synthesis draw text in, embedded from its font files.

ReportLab's standard "Helvetica" is never embedded: each renderer maps it to a font the machine happens to
have (``fc-match Helvetica`` gives Liberation Sans with ``fonts-liberation``, else DejaVu Sans or Nimbus Sans),
so the printed form, the blank template the reader compares pages with (:mod:`pipeline.form.template_image`)
and verification by synthesis (``pipeline.reading.scan.hand``, ``pipeline.reading.scan.digit_model``) changed
with the machine (issue 16, "reproducible results"). Every one of them now draws with Liberation Sans, read
from the files of the Debian package ``fonts-liberation`` (the Makefile's ``APT_PACKAGES``) and embedded in
every PDF drawn with it. Liberation Sans has Helvetica's advance widths (it is metric-compatible with Arial,
whose widths are Helvetica's), so the form's layout and the reader's zones do not move: every printed label is
as wide as in Helvetica to 0.05 pt (``tests/pipeline/form``), the text layer's characters lie where they did to
0.05 pt, and both pages rendered at 100 dpi before and after moved by under 0.1 px (issue 16).

The regular face types values and labels; the bold face the bold labels and a typed tick mark. Both are one
family from one package: the regular file alone would change what the bold labels and ticks look like.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from pipeline.installation import MissingInstallError

FORM_FONT_PACKAGE = "fonts-liberation"
"""Debian package holding :data:`FORM_FONT_FILES` (installed by ``make system``)."""
FORM_FONT_DIR = Path("/usr/share/fonts/truetype/liberation")
"""Where ``fonts-liberation`` installs its TrueType files."""
VALUE_FONT = "LiberationSans"
"""ReportLab name of the regular face: labels, typed values (comb digits at 11 pt, text at 10 pt)."""
BOLD_FONT = "LiberationSans-Bold"
"""ReportLab name of the bold face: bold labels and the typed tick mark."""
FORM_FONT_FILES: dict[str, Path] = {
    VALUE_FONT: FORM_FONT_DIR / "LiberationSans-Regular.ttf",
    BOLD_FONT: FORM_FONT_DIR / "LiberationSans-Bold.ttf",
}
"""Font file of each ReportLab name."""
VIEWER_FONT = "DejaVuSans"
"""ReportLab name of the sans face a PDF viewer draws a fillable field's Helvetica in when the machine has no
Helvetica, Arial or Liberation Sans: DejaVu Sans, the default sans of Debian, Ubuntu and Fedora desktops
(``fc-match Helvetica`` without ``fonts-liberation``). Only verification by synthesis uses it
(``pipeline.reading.scan.hand``): a typed value printed from such a viewer is typed, in another font."""
VIEWER_FONT_PACKAGE = "fonts-dejavu-core"
"""Debian package holding :data:`VIEWER_FONT`'s file."""
VIEWER_FONT_FILES: dict[str, Path] = {VIEWER_FONT: Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")}
"""Font file of the viewers' substitute face."""


class FormFontMissingError(MissingInstallError):
    """A font file of the form is not installed: nothing is drawn rather than drawn in a machine's fallback."""

    part_fr = "police du formulaire absente"
    part_en = "form font missing"
    default_package = FORM_FONT_PACKAGE


@cache
def _register(name: str, path: Path) -> TTFont:
    font = TTFont(name, str(path))
    pdfmetrics.registerFont(font)
    return font


def form_font(name: str = VALUE_FONT) -> TTFont:
    """Register the form's face ``name`` with ReportLab (once per process) and return it.

    Call it before drawing or measuring with :data:`VALUE_FONT` or :data:`BOLD_FONT`
    (``Canvas.setFont``, ``pdfmetrics.stringWidth``).

    Args:
        name: :data:`VALUE_FONT`, :data:`BOLD_FONT` or :data:`VIEWER_FONT`.

    Returns:
        The registered ReportLab font (its ``face`` gives metrics in 1/1000 em).

    Raises:
        FormFontMissingError: The face's file is not installed.
        KeyError: ``name`` is not a face of the form.
    """
    if name in VIEWER_FONT_FILES:
        path, package = VIEWER_FONT_FILES[name], VIEWER_FONT_PACKAGE
    else:
        path, package = FORM_FONT_FILES[name], FORM_FONT_PACKAGE
    if not path.is_file():
        raise FormFontMissingError(path, package)
    return _register(name, path)


def register_form_fonts() -> None:
    """Register every face of :data:`FORM_FONT_FILES` and :data:`VIEWER_FONT_FILES` with ReportLab.

    Raises:
        FormFontMissingError: A face's file is not installed.
    """
    for name in (*FORM_FONT_FILES, *VIEWER_FONT_FILES):
        form_font(name)


def can_encode(text: str, name: str = VALUE_FONT) -> bool:
    """Whether face ``name`` has a glyph for every character of ``text`` (registering it if needed).

    Raises:
        FormFontMissingError: The face's file is not installed.
    """
    glyphs = form_font(name).face.charToGlyph
    return all(ord(ch) in glyphs for ch in text)
