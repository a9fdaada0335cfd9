"""The rendered forms (``pipeline.form.render``): what a viewer prints of the fillable PDF's widgets."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.constants import FieldDictionaryAttributes
from pypdf.generic import DictionaryObject
from reportlab.pdfbase import pdfmetrics

from pipeline.form.definition import COMB_CELL_H_PT, COMB_CELL_W_PT, PAGE_HEIGHT_PT, Field, Rect, form_v1
from pipeline.form.fonts import BOLD_FONT, VALUE_FONT, register_form_fonts
from pipeline.form.render import Rendering, comb_runs, render_form
from tests.support.pdf_fonts import drawn_fonts

_FF = FieldDictionaryAttributes.FfBits
COMB, MULTILINE, PASSWORD, FILE_SELECT, DO_NOT_SCROLL = (
    int(_FF.Comb), int(_FF.Multiline), int(_FF.Password), int(_FF.FileSelect), int(_FF.DoNotScroll))


def test_the_fillable_forms_widgets_carry_no_border_colour() -> None:
    # Issue 16: a viewer printed each check box's /MK /BC inside the printed box, and empty boxes read as ticked.
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, {})

    widgets = [a.get_object() for page in PdfReader(buf).pages for a in page.get("/Annots", [])]

    assert len(widgets) > 60  # every tick box, comb run and text zone of both pages
    assert not [w.get("/T") for w in widgets if "/BC" in w.get("/MK", {})]


# --- Combs of the fillable PDF (issue 16, class 3) -----------------------------------------------------------

COMB_VALUES = {
    "referral_date": "28092026", "pupil_birth_date": "17032018", "pupil_postcode": "95870",
    "guardian1_phone": "0612345678", "guardian2_phone": "0798765432", "family_date": "01102026",
    "referrer_date": "30092026",
}
"""A value for every comb field of the form; together they hold every digit."""
DPI = 200.0
COMB_FIELDS = [f for f in form_v1().fields if f.is_comb]


def test_every_comb_field_of_the_form_has_a_value_here() -> None:
    assert sorted(COMB_VALUES) == sorted(f.name for f in COMB_FIELDS)
    assert all(len(COMB_VALUES[f.name]) == len(f.cells) for f in COMB_FIELDS)


def _widgets(pdf: bytes) -> dict[str, DictionaryObject]:
    return {str(a.get_object()["/T"]): a.get_object() for page in PdfReader(io.BytesIO(pdf)).pages
            for a in page.get("/Annots", []) if "/T" in a.get_object()}


@pytest.mark.parametrize("field", COMB_FIELDS, ids=lambda f: f.name)
def test_each_comb_widget_is_a_comb_of_exactly_its_printed_cells(field: Field) -> None:
    # A viewer cuts a comb widget into MaxLen equal cells (PDF 32000-1 §12.7.4.3, Ff bit 25), and ignores the
    # flag when Multiline, Password or FileSelect is set; DoNotScroll is left clear too.
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, {})
    widgets = _widgets(buf.getvalue())

    runs = comb_runs(field)
    names = sorted(n for n in widgets if n.rsplit(".", 1)[0] == field.name)
    assert names == [f"{field.name}.{i}" for i in range(len(runs))]
    for name, run in zip(names, runs, strict=True):
        w = widgets[name]
        flags = int(w.get("/Ff", 0))
        assert flags & COMB, name
        assert not flags & (MULTILINE | PASSWORD | FILE_SELECT | DO_NOT_SCROLL), name
        assert int(w["/MaxLen"]) == len(run)
        x0, y0, x1, y1 = (float(v) for v in w["/Rect"])
        assert (x0, PAGE_HEIGHT_PT - y1) == pytest.approx((run[0].x0, run[0].top), abs=0.01)
        assert ((x1 - x0) / len(run), y1 - y0) == pytest.approx((COMB_CELL_W_PT, COMB_CELL_H_PT), abs=0.01)
    assert sum(int(widgets[n]["/MaxLen"]) for n in names) == len(field.cells)


def _comb_parts() -> dict[str, str]:
    """Widget name → its part of :data:`COMB_VALUES` (``referral_date.0`` → ``28``…)."""
    parts = {}
    for field in COMB_FIELDS:
        value = COMB_VALUES[field.name]
        for i, run in enumerate(comb_runs(field)):
            parts[f"{field.name}.{i}"], value = value[:len(run)], value[len(run):]
    return parts


def _filled_by_render_form() -> bytes:
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, dict(COMB_VALUES))
    return buf.getvalue()


def _filled_by_pypdf(flatten: bool) -> bytes:
    """The blank fillable PDF filled by pypdf as a viewer does: widgets found by name, appearances rebuilt
    from each widget's /DA, /MaxLen and flags."""
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, {})
    writer = PdfWriter(clone_from=PdfReader(buf))
    parts = _comb_parts()
    for page in writer.pages:
        names = {str(a.get_object().get("/T")) for a in page.get("/Annots", [])}
        writer.update_page_form_field_values(page, {n: v for n, v in parts.items() if n in names},
                                             auto_regenerate=False, flatten=flatten)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _render_stored_appearances(pdf: bytes, page: int) -> np.ndarray:
    """Page ``page`` at :data:`DPI` in grey, widgets drawn from their stored appearances only: pdfium's
    "flatten for print" merges each widget's /AP /N into the page, as printing without rebuilding does."""
    doc = pdfium.PdfDocument(pdf)
    try:
        pdf_page = doc[page - 1]
        flattened = pdfium_c.FPDFPage_Flatten(pdf_page.raw, pdfium_c.FLAT_PRINT)
        assert flattened in (pdfium_c.FLATTEN_SUCCESS, pdfium_c.FLATTEN_NOTHINGTODO)
        pdf_page.close()
        pdf_page = doc[page - 1]
        bitmap = pdf_page.render(scale=DPI / 72.0, grayscale=True)
        image = np.asarray(bitmap.to_pil().convert("L")).copy()
        pdf_page.close()
    finally:
        doc.close()
    return image


def _cell_ink(image: np.ndarray, cell: Rect) -> np.ndarray:
    """The 0/1 ink inside a comb cell, its printed border (0.6 pt) left out."""
    s = DPI / 72.0
    inner = cell.inset(1.2)
    return (image[round(inner.top * s):round(inner.bottom * s), round(inner.x0 * s):round(inner.x1 * s)] < 128)


FILLERS = {
    "render_form": _filled_by_render_form,
    "pypdf": lambda: _filled_by_pypdf(flatten=False),
    "pypdf_flattened": lambda: _filled_by_pypdf(flatten=True),
}


@pytest.mark.parametrize("filler", sorted(FILLERS))
def test_a_filled_comb_prints_one_digit_centred_in_each_cell(filler: str) -> None:
    # Issue 16: the stored appearances put a date's digits into its first cells, so a typed form printed
    # or flattened without the viewer rebuilding appearances lost its dates, postcode and phones.
    pdf = FILLERS[filler]()
    typed = io.BytesIO()
    render_form(typed, "FO-2026-N00001", Rendering.FILLED, dict(COMB_VALUES))
    pages = {p: _render_stored_appearances(pdf, p) for p in (1, 2)}
    reference = {p: _render_stored_appearances(typed.getvalue(), p) for p in (1, 2)}
    s = DPI / 72.0

    misplaced = []
    for field in COMB_FIELDS:
        for cell, digit in zip(field.cells, COMB_VALUES[field.name], strict=True):
            ink = _cell_ink(pages[field.page], cell)
            expected = _cell_ink(reference[field.page], cell)  # the digit as the FILLED form prints it
            if not ink.any():
                misplaced.append((field.name, digit, "empty"))
                continue
            rows, cols = np.nonzero(ink)
            centre_offset_pt = ((cols.min() + cols.max()) / 2 - (ink.shape[1] - 1) / 2) / s
            glyph, expected_glyph = _crop(ink), _crop(expected)
            same_shape = (abs(glyph.shape[0] - expected_glyph.shape[0]) <= 2
                          and abs(glyph.shape[1] - expected_glyph.shape[1]) <= 2)
            if abs(centre_offset_pt) > 1.0 or not same_shape:
                misplaced.append((field.name, digit, round(centre_offset_pt, 1), glyph.shape, expected_glyph.shape))
    assert misplaced == []


def _crop(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    if not len(rows):
        return mask[:0, :0]
    return mask[rows.min():rows.max() + 1, cols.min():cols.max() + 1]


def test_the_stored_appearance_of_a_comb_is_the_filled_forms_print() -> None:
    # The fillable form's own appearances set each digit where the FILLED rendering prints it: a typed form
    # looks the same to the readers whichever way it was made.
    pdf = _filled_by_render_form()
    typed = io.BytesIO()
    render_form(typed, "FO-2026-N00001", Rendering.FILLED, dict(COMB_VALUES))
    for page in (1, 2):
        ours = _render_stored_appearances(pdf, page)
        theirs = _render_stored_appearances(typed.getvalue(), page)
        for field in (f for f in COMB_FIELDS if f.page == page):
            for cell in field.cells:
                assert (_cell_ink(ours, cell) != _cell_ink(theirs, cell)).sum() <= 2, (field.name, cell)


def test_a_text_widget_types_its_value_in_the_embedded_form_font() -> None:
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, {"pupil_surname": "Lefèvre-Noël"})
    reader = PdfReader(buf)
    resources = reader.trailer["/Root"]["/AcroForm"]["/DR"]["/Font"]
    text_widgets = [w for w in _widgets(buf.getvalue()).values() if w.get("/FT") == "/Tx"]

    assert len(text_widgets) > 20
    for widget in text_widgets:
        font_name = str(widget["/DA"]).split()[0]
        font = resources[font_name].get_object()
        # Embedded whole (no subset prefix), WinAnsi: a viewer can type any Latin-1 letter with it.
        assert font["/BaseFont"] == "/LiberationSans" and "/FontFile2" in font["/FontDescriptor"]
        assert font["/Encoding"] == "/WinAnsiEncoding" and (font["/FirstChar"], font["/LastChar"]) == (32, 255)
        appearance_fonts = widget["/AP"]["/N"].get_object()["/Resources"]["/Font"]
        assert appearance_fonts.raw_get(font_name).idnum == resources.raw_get(font_name).idnum
    surname = _widgets(buf.getvalue())["pupil_surname"]["/AP"]["/N"].get_object().get_data()
    assert b"(Lef\xe8vre-No\xebl) Tj" in surname


@pytest.mark.parametrize("rendering", list(Rendering))
def test_no_rendering_leaves_a_font_to_the_machine(rendering: Rendering) -> None:
    # Issue 16: "Helvetica" was drawn with whatever font each machine maps it to.
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", rendering, {"pupil_surname": "Martin", "class_level": ["CE2"],
                                                   **COMB_VALUES})
    fonts = drawn_fonts(buf.getvalue())

    assert fonts
    assert [f for f in fonts if not f.embedded] == []
    assert {f.base_font.lstrip("/").split("+")[-1] for f in fonts} <= {"LiberationSans", "LiberationSans-Bold"}


def test_the_form_font_keeps_helveticas_widths_so_the_layout_does_not_move() -> None:
    register_form_fonts()
    definition = form_v1()
    for text in definition.texts:
        face = BOLD_FONT if text.bold else VALUE_FONT
        standard = "Helvetica-Bold" if text.bold else "Helvetica"
        assert pdfmetrics.stringWidth(text.text, face, text.size) == pytest.approx(
            pdfmetrics.stringWidth(text.text, standard, text.size), abs=0.05), text.text  # 1/2048 em rounding


def test_the_same_form_is_written_byte_for_byte_twice() -> None:
    first, second = io.BytesIO(), io.BytesIO()
    render_form(first, "FO-2026-N00001", Rendering.FILLABLE, dict(COMB_VALUES))
    render_form(second, "FO-2026-N00001", Rendering.FILLABLE, dict(COMB_VALUES))
    assert first.getvalue() == second.getvalue()
