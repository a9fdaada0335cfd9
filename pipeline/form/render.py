"""Draw the fiche d'orientation from its definition: blank, fillable (AcroForm) or filled.

Three renderings of a form definition (:func:`pipeline.form.definition.form_v1` or ``form_v2``):

* ``PRINT``: the blank form to print and fill by hand;
* ``FILLABLE``: the same with AcroForm text fields and check boxes, optionally pre-filled;
* ``FILLED``: values printed as text into their zones, as a filled form "printed to PDF" looks
  (text layer present, no AcroForm).

All geometry comes from the definition (PDF points, top-left origin); this module
only flips y for ReportLab. Every page carries its QR codes and a footer line
repeating the QR payload in the text layer.

All text is set in the form's one typeface, Liberation Sans, embedded from its font files
(:mod:`pipeline.form.fonts`): a rendering looks the same on every machine. The fillable form's
text widgets are finished by :mod:`pipeline.form.widgets` (their font embedded whole, their stored
appearances drawn one glyph per comb cell).
"""

from __future__ import annotations

import io
import random
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.colors import black, white
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from pipeline.form.definition import (
    FOOTER_BASELINE_PT,
    PAGE_COUNT,
    PAGE_HEIGHT_PT,
    PAGE_WIDTH_PT,
    VALUE_FONT_SIZE_PT,
    Field,
    FieldKind,
    FormDefinition,
    PageIdentity,
    Rect,
    form_v1,
)
from pipeline.form.fonts import BOLD_FONT, VALUE_FONT, register_form_fonts
from pipeline.form.widgets import finish_text_widgets
from schemas.extraction import FormValues

TICK_MARK = "X"
ACROFORM_STANDIN_FONT = "Helvetica"
"""The font ReportLab's AcroForm is given (it takes only the standard 14 fonts): every text widget written
with it is re-expressed in the embedded form font by :func:`pipeline.form.widgets.finish_text_widgets`."""


class Rendering(StrEnum):
    """Which rendering of the form to draw."""

    PRINT = "print"
    FILLABLE = "fillable"
    FILLED = "filled"


def _y(top_pt: float) -> float:
    """Convert a top-left-origin y (pt) to ReportLab's bottom-left origin."""
    return PAGE_HEIGHT_PT - top_pt


def render_form(
    out: Path | BinaryIO,
    form_id: str,
    rendering: Rendering = Rendering.PRINT,
    values: FormValues | None = None,
    definition: FormDefinition | None = None,
    signature_seed: int = 0,
) -> None:
    """Write the two-page form to ``out`` as a PDF.

    Args:
        out: Destination path or binary file object.
        form_id: Serial of this copy (``FO-…``), encoded in the QR codes and footer.
        rendering: Blank print, fillable AcroForm, or filled text.
        values: Field values (the shape of :data:`schemas.extraction.FormValues`) to
            print (``FILLED``) or pre-fill (``FILLABLE``); ignored for ``PRINT``.
        definition: Form geometry; defaults to version 1.
        signature_seed: Seed for the shape of drawn signatures (``FILLED`` only).

    Raises:
        KeyError: ``values`` names a field the form does not have.
        pipeline.form.fonts.FormFontMissingError: The form's font (``fonts-liberation``) is not installed.
    """
    definition = definition or form_v1()
    values = values or {}
    unknown = set(values) - {f.name for f in definition.fields}
    if unknown:
        raise KeyError(f"unknown field(s): {sorted(unknown)}")
    register_form_fonts()
    buf = io.BytesIO()
    # The initial font too: ReportLab lists its default (Helvetica) in every page's resources otherwise.
    c = Canvas(buf, pagesize=(PAGE_WIDTH_PT, PAGE_HEIGHT_PT), invariant=1, initialFontName=VALUE_FONT)
    c.setTitle("Fiche d'orientation CLAS")
    c.setAuthor("Ville - CLAS")
    rng = random.Random(signature_seed)
    for page in range(1, PAGE_COUNT + 1):
        identity = PageIdentity(form_id, definition.version, page, PAGE_COUNT)
        _draw_marks(c, definition, identity)
        _draw_static(c, definition, page)
        for field in definition.page_fields(page):
            _draw_field_outline(c, field)
            if rendering is Rendering.FILLABLE:
                _add_acroform_field(c, field, values.get(field.name), rng)
            elif rendering is Rendering.FILLED:
                _draw_value(c, field, values.get(field.name), rng)
        c.showPage()
    c.save()
    pdf = finish_text_widgets(buf.getvalue()) if rendering is Rendering.FILLABLE else buf.getvalue()
    if isinstance(out, Path):
        out.write_bytes(pdf)
    else:
        out.write(pdf)


def _draw_marks(c: Canvas, definition: FormDefinition, identity: PageIdentity) -> None:
    layout = definition.pages[identity.page - 1]
    c.setFillColor(black)
    for a in layout.anchors:
        c.rect(a.x0, _y(a.bottom), a.width, a.height, stroke=0, fill=1)
    payload = identity.payload()
    for q in layout.qr_codes:
        widget = QrCodeWidget(payload, barLevel="M", barBorder=2)
        x0, y0, x1, y1 = widget.getBounds()
        d = Drawing(q.width, q.height, transform=[q.width / (x1 - x0), 0, 0, q.height / (y1 - y0), 0, 0],
                    initialFontName=VALUE_FONT)  # else the drawing's state names Helvetica, unembedded
        d.add(widget)
        renderPDF.draw(d, c, q.x0, _y(q.bottom))
    c.setFont(VALUE_FONT, 6.5)
    c.drawCentredString(PAGE_WIDTH_PT / 2, _y(FOOTER_BASELINE_PT), f"{payload}")


def _draw_static(c: Canvas, definition: FormDefinition, page: int) -> None:
    c.setFillColor(black)
    for t in definition.texts:
        if t.page != page:
            continue
        c.setFont(BOLD_FONT if t.bold else VALUE_FONT, t.size)
        c.drawString(t.x_pt, _y(t.baseline_pt), t.text)


def _draw_field_outline(c: Canvas, field: Field) -> None:
    c.setStrokeColor(black)
    if field.cells:
        c.setLineWidth(0.6)
        for cell in field.cells:
            c.rect(cell.x0, _y(cell.bottom), cell.width, cell.height, stroke=1, fill=0)
    elif field.is_tick:
        c.setLineWidth(0.8)
        for box in field.boxes:
            r = box.rect
            c.rect(r.x0, _y(r.bottom), r.width, r.height, stroke=1, fill=0)
    elif field.kind is FieldKind.SIGNATURE:
        c.setLineWidth(0.6)
        r = field.rect
        c.rect(r.x0, _y(r.bottom), r.width, r.height, stroke=1, fill=0)
    else:
        # A dotted baseline for writing on; the zone itself is not boxed.
        c.setLineWidth(0.5)
        c.setDash(1, 2)
        r = field.rect
        c.line(r.x0, _y(r.bottom), r.x1, _y(r.bottom))
        c.setDash()


def _text_fits(text: str, rect: Rect) -> str:
    """Shorten ``text`` so it fits the zone width at the value font size."""
    while text and pdfmetrics.stringWidth(text, VALUE_FONT, VALUE_FONT_SIZE_PT) > rect.width - 6:
        text = text[:-1]
    return text


def _chosen_options(value: object) -> set[str]:
    """Ticked option codes of a tick field's raw value (``True`` for a flag means ``{"yes"}``)."""
    if value is True:
        return {"yes"}
    if isinstance(value, list | tuple | set):
        return {str(v) for v in value}
    return set()


def _draw_value(c: Canvas, field: Field, value: object, rng: random.Random) -> None:
    if value in (None, "", False, []):
        return
    c.setFillColor(black)
    if field.is_comb:
        digits = "".join(ch for ch in str(value) if ch.isdigit())
        c.setFont(VALUE_FONT, VALUE_FONT_SIZE_PT + 1)
        for cell, ch in zip(field.cells, digits, strict=False):
            cx, _ = cell.center
            c.drawCentredString(cx, _y(cell.bottom - 4.5), ch)
    elif field.is_letter_comb:
        c.setFont(VALUE_FONT, VALUE_FONT_SIZE_PT + 1)
        for cell, ch in zip(field.cells, comb_letters(field, str(value)), strict=False):
            cx, _ = cell.center
            c.drawCentredString(cx, _y(cell.bottom - 4.5), ch)
    elif field.is_tick:
        chosen = _chosen_options(value)
        c.setFont(BOLD_FONT, VALUE_FONT_SIZE_PT)
        for box in field.boxes:
            if box.option in chosen:
                cx, _ = box.rect.center
                c.drawCentredString(cx, _y(box.rect.bottom - 1.6), TICK_MARK)
    elif field.kind is FieldKind.SIGNATURE:
        _draw_signature(c, field.rect, rng)
    else:
        c.setFont(VALUE_FONT, VALUE_FONT_SIZE_PT)
        c.drawString(field.rect.x0 + 3, _y(field.rect.bottom - 4.5), _text_fits(str(value), field.rect))


def _draw_signature(c: Canvas, rect: Rect, rng: random.Random) -> None:
    """Draw an invented scribble inside ``rect`` (stands for a handwritten signature)."""
    c.setLineWidth(1.2)
    p = c.beginPath()
    x = rect.x0 + 20 + rng.uniform(0, 20)
    y = rect.top + rect.height / 2
    p.moveTo(x, _y(y))
    for _ in range(rng.randint(4, 7)):
        nx = min(x + rng.uniform(15, 35), rect.x1 - 10)
        ny = rect.top + rect.height * rng.uniform(0.3, 0.75)
        p.curveTo(x + 5, _y(y - 15), nx - 5, _y(ny + 15), nx, _y(ny))
        x, y = nx, ny
    c.drawPath(p, stroke=1, fill=0)


def _add_acroform_field(c: Canvas, field: Field, value: object, rng: random.Random) -> None:
    form = c.acroForm
    # A transparent background: the printed baseline and comb cells stay visible under the field. No border
    # colour (/MK /BC) either: a viewer that draws it prints a second border inside the printed box or zone,
    # which a 1-bit scan, a fax or a phone photo thickens into the box (issue 16: empty boxes read as ticked).
    common = {"borderWidth": 0, "borderColor": None, "fillColor": None, "textColor": black, "forceBorder": False}
    if field.is_tick:
        chosen = _chosen_options(value)
        for box in field.boxes:
            r = box.rect
            name = field.name if field.kind is FieldKind.FLAG else f"{field.name}.{box.option}"
            form.checkbox(name=name, tooltip=box.label, x=r.x0 + 0.5, y=_y(r.bottom) + 0.5, size=r.width - 1,
                          checked=box.option in chosen, buttonStyle="cross", borderWidth=0, borderColor=None,
                          fillColor=white, textColor=black)
    elif field.kind is FieldKind.SIGNATURE:
        # No AcroForm field: families sign with a PDF reader's "fill and sign" ink,
        # which ends up as drawing in the page content, as drawn here.
        if value is True:
            _draw_signature(c, field.rect, rng)
    elif field.is_comb:
        # One comb text field per run of adjacent cells (JJ, MM, AAAA; phone pairs), so typed
        # digits sit in the printed cells: named ``name.0``, ``name.1``… in reading order. Comb flag
        # and MaxLen = the run's cell count make a viewer cut the widget into those cells; the stored
        # appearance does the same (pipeline.form.widgets).
        digits = "".join(ch for ch in str(value or "") if ch.isdigit())
        for i, run in enumerate(comb_runs(field)):
            part, digits = digits[:len(run)], digits[len(run):]
            form.textfield(name=f"{field.name}.{i}", tooltip=field.label, x=run[0].x0, y=_y(run[0].bottom),
                           width=run[-1].x1 - run[0].x0, height=run[0].height, value=part, maxlen=len(run),
                           fieldFlags="comb", fontName=ACROFORM_STANDIN_FONT, fontSize=VALUE_FONT_SIZE_PT + 1, **common)
    elif field.is_letter_comb:
        # One comb text field over the whole row of letter cells: comb flag and MaxLen = the cell count, as for the
        # digit combs' runs, so that a viewer sets one character in each printed cell.
        r = field.rect
        form.textfield(name=field.name, tooltip=field.label, x=r.x0, y=_y(r.bottom), width=r.width,
                       height=r.height, value=comb_letters(field, str(value or "")), maxlen=len(field.cells),
                       fieldFlags="comb", fontName=ACROFORM_STANDIN_FONT, fontSize=VALUE_FONT_SIZE_PT + 1, **common)
    else:
        r = field.rect
        form.textfield(name=field.name, tooltip=field.label, x=r.x0, y=_y(r.bottom), width=r.width,
                       height=r.height, value=str(value or ""), fontName=ACROFORM_STANDIN_FONT,
                       fontSize=VALUE_FONT_SIZE_PT, **common)


def comb_letters(field: Field, value: str) -> str:
    """What a capital-letter comb holds for ``value``: capitals, one character per cell.

    Raises:
        ValueError: ``value`` has more characters than the comb has cells (never cut silently).
    """
    text = value.upper()
    if len(text) > len(field.cells):
        raise ValueError(f"{field.name}: {len(text)} characters for {len(field.cells)} cells")
    return text


def comb_runs(field: Field) -> list[tuple[Rect, ...]]:
    """A comb field's cells grouped into runs of touching cells (split where the form leaves a gap)."""
    runs: list[list[Rect]] = []
    for cell in field.cells:
        if runs and cell.x0 - runs[-1][-1].x1 < 1.0:
            runs[-1].append(cell)
        else:
            runs.append([cell])
    return [tuple(run) for run in runs]

