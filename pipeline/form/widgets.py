"""The fillable PDF's text widgets: their font embedded whole, and their stored appearances drawn as printed.

ReportLab's AcroForm writes text fields in a standard, non-embedded font (``/Helv``) and stores an
appearance (``/AP /N``) that sets a comb's value as one left-aligned string: a viewer that prints or
flattens the form without rebuilding appearances put a date's digits into its first cells (issue 16,
class 3). :func:`finish_text_widgets` rewrites, after ReportLab, every text widget of the PDF:

* its default appearance (``/DA``) names the form's font, :data:`pipeline.form.fonts.VALUE_FONT`, embedded
  whole in the AcroForm's resources (``/DR``) with the WinAnsi encoding, so a viewer that types a value
  with it has every Latin-1 glyph, whatever fonts its machine has;
* its stored appearance draws the value as :func:`pipeline.form.render.render_form` prints a ``FILLED``
  form: a comb one glyph centred in each cell (cell width = widget width / ``MaxLen``), a text zone from
  3 pt in; both on a baseline 4.5 pt above the widget's bottom edge.

Widget geometry is read from each widget's own ``/Rect``, ``/MaxLen`` and field flags, so any text
widget is handled the same way.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import cast

from pypdf import PdfReader, PdfWriter
from pypdf.constants import FieldDictionaryAttributes
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
    TextStringObject,
)
from reportlab.pdfbase import pdfmetrics

from pipeline.form.definition import VALUE_FONT_SIZE_PT
from pipeline.form.fonts import FORM_FONT_FILES, VALUE_FONT, form_font

FORM_FONT_RESOURCE = "/ClasSans"
"""Name of the embedded form font in the AcroForm's ``/DR`` and in each text widget's ``/DA``."""
VALUE_BASELINE_PT = 4.5
"""Height of a typed value's baseline above its zone's (or cell's) bottom edge, in PDF points: the
``FILLED`` rendering's (``pipeline.form.render``), which centres an 11 pt digit in a 17 pt cell."""
VALUE_INSET_PT = 3.0
"""Left margin of a typed value in a text zone, in PDF points (as the ``FILLED`` rendering)."""
_COMB = int(FieldDictionaryAttributes.FfBits.Comb)
_FONT_SIZE = re.compile(rb"([0-9]+(?:\.[0-9]+)?)\s+Tf")
_WIN_ANSI = "cp1252"


def finish_text_widgets(pdf: bytes) -> bytes:
    """The PDF with every text widget's ``/DA`` and ``/AP /N`` in the embedded form font (see the module).

    Args:
        pdf: A PDF with an AcroForm, as ReportLab wrote it.

    Returns:
        The rewritten PDF's bytes (deterministic: the same input gives the same bytes).

    Raises:
        pipeline.form.fonts.FormFontMissingError: The form font is not installed.
    """
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    font_ref = writer._add_object(_embedded_font(writer))  # noqa: SLF001 - pypdf's way to add an indirect object
    acro_form = cast(DictionaryObject, writer._root_object["/AcroForm"].get_object())  # noqa: SLF001
    resources = cast(DictionaryObject, acro_form.setdefault(NameObject("/DR"), DictionaryObject()).get_object())
    fonts = cast(DictionaryObject, resources.setdefault(NameObject("/Font"), DictionaryObject()).get_object())
    fonts.pop(NameObject("/Helv"), None)  # nothing refers to ReportLab's non-embedded Helvetica any more
    fonts[NameObject(FORM_FONT_RESOURCE)] = font_ref
    acro_form[NameObject("/DA")] = TextStringObject(f"{FORM_FONT_RESOURCE} 0 Tf 0 g")
    for page in writer.pages:
        for annot_ref in page.get("/Annots", []):
            widget = annot_ref.get_object()
            if widget.get("/FT") != "/Tx":
                continue
            size = _font_size(widget) or VALUE_FONT_SIZE_PT
            widget[NameObject("/DA")] = TextStringObject(f"{FORM_FONT_RESOURCE} {_num(size)} Tf 0 g")
            x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
            flags = int(widget.get("/Ff", 0))
            cells = int(widget["/MaxLen"]) if flags & _COMB and "/MaxLen" in widget else None
            stream = text_appearance(str(widget.get("/V", "")), abs(x1 - x0), abs(y1 - y0), size, cells)
            stream[NameObject("/Resources")] = DictionaryObject({
                NameObject("/Font"): DictionaryObject({NameObject(FORM_FONT_RESOURCE): font_ref})})
            widget[NameObject("/AP")] = DictionaryObject({NameObject("/N"): writer._add_object(stream)})  # noqa: SLF001
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def text_appearance(value: str, width_pt: float, height_pt: float, size_pt: float,
                    comb_cells: int | None = None) -> StreamObject:
    """A text widget's normal appearance: ``value`` set in the form font, as the ``FILLED`` form prints it.

    Args:
        value: The widget's value; characters beyond ``comb_cells`` are not drawn (a comb holds that many).
        width_pt: Widget width, in PDF points.
        height_pt: Widget height, in PDF points.
        size_pt: Font size, in points.
        comb_cells: For a comb field, its ``MaxLen``: the widget is cut in that many equal cells and
            each character centred in its own; ``None`` for a plain text zone.

    Returns:
        A form XObject (``/BBox`` ``[0 0 width height]``) without resources: the caller adds the font.
    """
    font = FORM_FONT_RESOURCE
    ops = [f"/Tx BMC q 0 0 {_num(width_pt)} {_num(height_pt)} re W n"]
    if value:
        ops.append(f"BT {font} {_num(size_pt)} Tf 0 g")
        if comb_cells:
            cell_w = width_pt / comb_cells
            for i, ch in enumerate(value[:comb_cells]):
                x = i * cell_w + (cell_w - pdfmetrics.stringWidth(ch, VALUE_FONT, size_pt)) / 2
                ops.append(f"1 0 0 1 {_num(x)} {_num(VALUE_BASELINE_PT)} Tm {_pdf_string(ch)} Tj")
        else:
            ops.append(f"1 0 0 1 {_num(VALUE_INSET_PT)} {_num(VALUE_BASELINE_PT)} Tm {_pdf_string(value)} Tj")
        ops.append("ET")
    ops.append("Q EMC")
    stream = DecodedStreamObject()
    stream.set_data("\n".join(ops).encode("latin-1"))
    stream.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): ArrayObject([NumberObject(0), NumberObject(0),
                                          FloatObject(width_pt), FloatObject(height_pt)]),
    })
    return stream


def _embedded_font(writer: PdfWriter) -> DictionaryObject:
    """The regular form face as a simple TrueType font, embedded whole, WinAnsi-encoded (codes 32-255)."""
    ttf = form_font(VALUE_FONT)
    face = ttf.face
    data = Path(FORM_FONT_FILES[VALUE_FONT]).read_bytes()
    raw = DecodedStreamObject()
    raw.set_data(data)
    file_stream = raw.flate_encode(level=9)
    file_stream[NameObject("/Length1")] = NumberObject(len(data))
    base_font = NameObject("/" + face.name.decode("ascii"))
    descriptor = DictionaryObject({
        NameObject("/Type"): NameObject("/FontDescriptor"),
        NameObject("/FontName"): base_font,
        NameObject("/Flags"): NumberObject(32),  # non-symbolic: glyphs looked up through the WinAnsi names
        NameObject("/FontBBox"): ArrayObject([NumberObject(round(v)) for v in face.bbox]),
        NameObject("/ItalicAngle"): NumberObject(round(face.italicAngle)),
        NameObject("/Ascent"): NumberObject(round(face.ascent)),
        NameObject("/Descent"): NumberObject(round(face.descent)),
        NameObject("/CapHeight"): NumberObject(round(face.capHeight)),
        NameObject("/StemV"): NumberObject(round(face.stemV)),
        NameObject("/FontFile2"): writer._add_object(file_stream),  # noqa: SLF001
    })
    widths: list[PdfObject] = []
    for code in range(32, 256):
        try:
            ch = bytes([code]).decode(_WIN_ANSI)
        except UnicodeDecodeError:  # the five codes WinAnsi leaves undefined
            widths.append(NumberObject(0))
            continue
        widths.append(FloatObject(round(pdfmetrics.stringWidth(ch, VALUE_FONT, 1000), 3)))
    return DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/TrueType"),
        NameObject("/BaseFont"): base_font,
        NameObject("/FirstChar"): NumberObject(32),
        NameObject("/LastChar"): NumberObject(255),
        NameObject("/Widths"): ArrayObject(widths),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        NameObject("/FontDescriptor"): writer._add_object(descriptor),  # noqa: SLF001
    })


def _font_size(widget: DictionaryObject) -> float:
    """The font size of a widget's ``/DA`` (ReportLab writes ``/Helv 11 Tf …``); 0 (auto) when it has none."""
    match = _FONT_SIZE.search(str(widget.get("/DA", "")).encode("latin-1", "replace"))
    return float(match.group(1)) if match else 0.0


def _pdf_string(text: str) -> str:
    """``text`` as a PDF literal string in WinAnsi (characters it lacks become ``?``)."""
    raw = text.encode(_WIN_ANSI, errors="replace").decode("latin-1")
    return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def _num(v: float) -> str:
    """A number as PDF content writes it: at most 3 decimals, no trailing zeros."""
    return f"{v:.3f}".rstrip("0").rstrip(".")
