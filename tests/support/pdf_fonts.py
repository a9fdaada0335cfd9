"""The fonts a PDF draws with, and whether each is embedded (issue 16: no reading may depend on a machine's fonts).

A font that is not embedded is drawn with whatever the renderer maps its name to on that machine.
:func:`drawn_fonts` walks every place a PDF can draw text from: page resources, the form XObjects they
use, every annotation's appearance streams and the AcroForm's default resources (``/DR``), the fonts a
viewer types a field's value with.
"""

from __future__ import annotations

import io
from typing import Any, NamedTuple

from pypdf import PdfReader
from pypdf.generic import DictionaryObject

FONT_FILE_KEYS = ("/FontFile", "/FontFile2", "/FontFile3")


class DrawnFont(NamedTuple):
    """One font resource of a PDF.

    Attributes:
        where: Where it was found (``page 1``, ``annotation referral_date.0``, ``AcroForm /DR``…).
        base_font: Its ``/BaseFont`` (a subset's name carries a ``ABCDEF+`` prefix).
        embedded: Whether its descriptor (or, for a composite font, its descendant's) holds a font file.
    """

    where: str
    base_font: str
    embedded: bool


def drawn_fonts(pdf: bytes) -> list[DrawnFont]:
    """Every font resource of ``pdf`` (see the module), with where it was found."""
    reader = PdfReader(io.BytesIO(pdf))
    found: list[DrawnFont] = []
    for number, page in enumerate(reader.pages, start=1):
        _walk_resources(page.get("/Resources"), f"page {number}", found, set())
        for annot_ref in page.get("/Annots", []):
            annot = annot_ref.get_object()
            for states in annot.get("/AP", DictionaryObject()).values():
                states = states.get_object()
                streams = [states] if "/BBox" in states else [s.get_object() for s in states.values()]
                for stream in streams:
                    _walk_resources(stream.get("/Resources"), f"annotation {annot.get('/T')}", found, set())
    acro_form = reader.trailer["/Root"].get("/AcroForm")
    if acro_form is not None:
        _walk_resources(acro_form.get_object().get("/DR"), "AcroForm /DR", found, set())
    return found


def _walk_resources(resources: object, where: str, found: list[DrawnFont], seen: set[int]) -> None:
    if resources is None:
        return
    resources = resources.get_object()  # type: ignore[attr-defined]
    if id(resources) in seen:
        return
    seen.add(id(resources))
    for font in resources.get("/Font", DictionaryObject()).get_object().values():
        font = font.get_object()
        found.append(DrawnFont(where, str(font.get("/BaseFont")), _embedded(font)))
    for xobject in resources.get("/XObject", DictionaryObject()).get_object().values():
        xobject = xobject.get_object()
        if xobject.get("/Subtype") == "/Form":
            _walk_resources(xobject.get("/Resources"), where, found, seen)


def _embedded(font: DictionaryObject) -> bool:
    if font.get("/Subtype") == "/Type3":
        return True  # glyphs are drawn by the font's own content streams
    if font.get("/Subtype") == "/Type0":
        return all(_embedded(d.get_object()) for d in font["/DescendantFonts"])
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(k in descriptor.get_object() for k in FONT_FILE_KEYS)


def record_rasterised_pdfs(monkeypatch: Any, module: Any) -> list[bytes]:
    """Spy on ``module.rasterise_pdf_page``: the list it returns fills with every PDF the module rasterises."""
    drawn: list[bytes] = []
    rasterise = module.rasterise_pdf_page

    def spy(pdf: bytes, page: int, dpi: float) -> Any:
        drawn.append(pdf)
        return rasterise(pdf, page, dpi)

    monkeypatch.setattr(module, "rasterise_pdf_page", spy)
    return drawn
