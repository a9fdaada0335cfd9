"""Variants of the project's own born-digital forms, made with pypdf as other tools write them (issue 16).

Each function takes the bytes of a PDF made by ``samples`` (a filled fillable PDF or a text PDF) and returns
the bytes of the variant: page geometry (MediaBox offset, CropBox, fit to Letter, shift, stretch) or AcroForm
structure (a ``/Kids`` tree, text-stream values, ``/V`` against ``/AS``, XFA datasets).
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Mapping
from typing import Any

from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    RectangleObject,
    TextStringObject,
)

A4_W, A4_H = 595.28, 841.89
LETTER_W, LETTER_H = 612.0, 792.0


def _rewrite(data: bytes, edit: Callable[[PdfWriter], None]) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    edit(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pages(edit: Callable[[Any], None]) -> Callable[[PdfWriter], None]:
    def run(writer: PdfWriter) -> None:
        for page in writer.pages:
            edit(page)
    return run


def mediabox_offset(data: bytes, dx: float = 120.0, dy: float = 80.0) -> bytes:
    """The page drawn at ``(dx, dy)`` with a MediaBox starting there: looks the same, coordinates do not."""
    def edit(page: Any) -> None:
        page.add_transformation(Transformation().translate(dx, dy))
        page.mediabox = RectangleObject([dx, dy, dx + A4_W, dy + A4_H])
    return _rewrite(data, _pages(edit))


def cropbox_inside(data: bytes) -> bytes:
    """A larger MediaBox with a CropBox around the form (a page cut out of a bigger sheet)."""
    def edit(page: Any) -> None:
        page.mediabox = RectangleObject([-50, -60, A4_W + 70, A4_H + 40])
        page.cropbox = RectangleObject([0, 0, A4_W, A4_H])
    return _rewrite(data, _pages(edit))


def fit_to_letter(data: bytes) -> bytes:
    """The A4 form printed to Letter with "fit to page": scaled to fit (about 94 %) and centred."""
    scale = min(LETTER_W / A4_W, LETTER_H / A4_H)

    def edit(page: Any) -> None:
        page.add_transformation(Transformation().scale(scale, scale).translate(
            (LETTER_W - A4_W * scale) / 2, (LETTER_H - A4_H * scale) / 2))
        page.mediabox = RectangleObject([0, 0, LETTER_W, LETTER_H])
    return _rewrite(data, _pages(edit))


def shifted(data: bytes, dx: float = 6.0, dy: float = -6.0) -> bytes:
    """The content moved by ``(dx, dy)`` points on an unchanged page (a printer driver's offset)."""
    return _rewrite(data, _pages(lambda page: page.add_transformation(Transformation().translate(dx, dy))))


def turned(data: bytes, angle: int = 90) -> bytes:
    """Every page turned by ``/Rotate`` (a page saved in landscape): the viewer turns it, the text layer's
    coordinates turn with it."""
    return _rewrite(data, _pages(lambda page: page.rotate(angle)))


def stretched(data: bytes, sx: float = 0.85) -> bytes:
    """The content squeezed horizontally only: no similarity places it, so the page must be read as a scan."""
    return _rewrite(data, _pages(lambda page: page.add_transformation(Transformation().scale(sx, 1.0))))


def _widgets(writer: PdfWriter) -> list[DictionaryObject]:
    return [a.get_object() for page in writer.pages for a in page.get("/Annots", [])]


def kids_tree(data: bytes) -> bytes:
    """The fillable form's dotted names made a real field tree, as Acrobat builds it.

    ``class_level.CE2`` becomes a field ``class_level`` with a kid ``CE2``; ``referral_date.0`` a field
    ``referral_date`` with kids ``0``, ``1``, ``2``; ``/FT`` and ``/Ff`` move up to the parent (inherited).
    Every plain text field is split into a field (``/T``, ``/V``) and its widget (no name, no value).
    """
    def edit(writer: PdfWriter) -> None:
        parents: dict[str, Any] = {}
        top: list[Any] = []
        for widget in _widgets(writer):
            name = str(widget["/T"])
            if "." in name:
                head, tail = name.split(".", 1)
                if head not in parents:
                    parent = DictionaryObject({NameObject("/T"): TextStringObject(head),
                                               NameObject("/FT"): widget["/FT"],
                                               NameObject("/Ff"): widget.get("/Ff", 0),
                                               NameObject("/Kids"): ArrayObject()})
                    parents[head] = writer._add_object(parent)
                    top.append(parents[head])
                ref = parents[head]
                ref.get_object()["/Kids"].append(widget.indirect_reference)
                widget[NameObject("/T")] = TextStringObject(tail)
                widget[NameObject("/Parent")] = ref
                del widget["/FT"]
                widget.pop("/Ff", None)
            elif widget.get("/FT") == "/Tx":
                field = DictionaryObject({NameObject("/T"): widget["/T"], NameObject("/FT"): widget["/FT"],
                                          NameObject("/V"): widget.get("/V", TextStringObject("")),
                                          NameObject("/Kids"): ArrayObject([widget.indirect_reference])})
                ref = writer._add_object(field)
                for key in ("/T", "/FT", "/V"):
                    widget.pop(key, None)
                widget[NameObject("/Parent")] = ref
                top.append(ref)
            else:
                top.append(widget.indirect_reference)
        writer._root_object["/AcroForm"][NameObject("/Fields")] = ArrayObject(top)
    return _rewrite(data, edit)


def text_stream_values(data: bytes) -> bytes:
    """Every non-empty text value stored as a Flate-compressed text stream: UTF-16BE with its byte order mark
    for fields of page 1, plain UTF-8 for those of page 2."""
    def edit(writer: PdfWriter) -> None:
        for number, page in enumerate(writer.pages, start=1):
            for annot in page.get("/Annots", []):
                widget = annot.get_object()
                value = widget.get("/V")
                if widget.get("/FT") != "/Tx" or not value:
                    continue
                raw = codecs.BOM_UTF16_BE + str(value).encode("utf-16-be") if number == 1 else \
                    str(value).encode("utf-8")
                stream = DecodedStreamObject()
                stream.set_data(raw)
                widget[NameObject("/V")] = writer._add_object(stream.flate_encode())
    return _rewrite(data, edit)


def checkbox_conflict(data: bytes, field: str, shown: str, valued: str) -> bytes:
    """Box ``field.shown`` shows ticked (``/AS``) while the value (``/V``) names ``field.valued``."""
    def edit(writer: PdfWriter) -> None:
        for widget in _widgets(writer):
            name = str(widget.get("/T"))
            if name.startswith(f"{field}."):
                option = name.split(".", 1)[1]
                widget[NameObject("/AS")] = NameObject("/Yes" if option == shown else "/Off")
                widget[NameObject("/V")] = NameObject("/Yes" if option == valued else "/Off")
    return _rewrite(data, edit)


def with_xfa(data: bytes, overrides: Mapping[str, str] | None = None) -> bytes:
    """An XFA ``datasets`` packet added to the AcroForm, holding the AcroForm's own values (a check box as ``1``
    or ``0``) except ``overrides`` (dotted field name → XFA text)."""
    overrides = overrides or {}

    def edit(writer: PdfWriter) -> None:
        tree: dict[str, Any] = {}
        for widget in _widgets(writer):
            name = str(widget.get("/T"))
            if any(part[0].isdigit() for part in name.split(".")):  # "referral_date.0", "class_level.6E":
                continue  # not XML names; such fields are left out of the packet
            value = widget.get("/V")
            text = ("0" if str(value) in ("/Off", "None") else "1") if widget.get("/FT") == "/Btn" else \
                str(value or "")
            node = tree
            *heads, last = name.split(".")
            for head in heads:
                node = node.setdefault(head, {})
            node[last] = overrides.get(name, text)

        def xml(node: Mapping[str, Any]) -> str:
            return "".join(f"<{k}>{xml(v) if isinstance(v, dict) else _escape(v)}</{k}>" for k, v in node.items())

        packet = ('<xfa:datasets xmlns:xfa="http://www.xfa.org/schema/xfa-data/1.0/"><xfa:data><form1>'
                  f"{xml(tree)}</form1></xfa:data></xfa:datasets>").encode()
        stream = DecodedStreamObject()
        stream.set_data(packet)
        writer._root_object["/AcroForm"][NameObject("/XFA")] = ArrayObject(
            [TextStringObject("datasets"), writer._add_object(stream.flate_encode())])
    return _rewrite(data, edit)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def set_values(data: bytes, values: Mapping[str, str]) -> bytes:
    """Text widgets' ``/V`` replaced (``pupil_birth_date.0`` → ``"5"``): what a person typed in a viewer."""
    def edit(writer: PdfWriter) -> None:
        for widget in _widgets(writer):
            name = str(widget.get("/T"))
            if name in values:
                widget[NameObject("/V")] = TextStringObject(values[name])
    return _rewrite(data, edit)


def flattened(data: bytes) -> bytes:
    """A filled fillable PDF flattened by PDFium (what Chrome's "print to PDF" keeps of a filled form): each
    widget's appearance drawn into the page content, no annotation and no AcroForm left."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        pdf.init_forms()
        for page in pdf:
            page.flatten()
            page.close()
        out = io.BytesIO()
        pdf.save(out)
    finally:
        pdf.close()
    return out.getvalue()


def appearances_flattened(data: bytes) -> bytes:
    """A filled fillable PDF flattened as pikepdf's ``flatten_annotations`` and tools like it do: each widget's
    appearance for its state (``/AS``) drawn into the page as a form XObject mapped onto the widget's rectangle; no
    annotation and no AcroForm left. Each check box's appearances first get the square outline the fillable form
    drew until issue 16 took its border colour (``/MK /BC``) away, as the copies schools kept still have it (the
    devset's): flattened, every box, ticked or not, carries it inside its printed square."""
    def edit(writer: PdfWriter) -> None:
        seen: set[int] = set()  # the check boxes share their appearance streams: each gets one outline
        for widget in _widgets(writer):
            if "/AS" not in widget:
                continue
            for state in widget["/AP"]["/N"].values():
                appearance = state.get_object()
                if id(appearance) in seen:
                    continue
                seen.add(id(appearance))
                _, _, width, height = (float(c) for c in appearance["/BBox"])
                # A path, as flatteners write it; a 1 pt border, centred half a point inside, as viewers draw it.
                x1, y1 = width - 0.5, height - 0.5
                outline = f"0.5 0.5 m {x1} 0.5 l {x1} {y1} l 0.5 {y1} l h s"
                appearance.set_data(appearance.get_data() + f"\nq .1 .1 .1 RG 1 w {outline} Q".encode())
        for page in writer.pages:
            resources = page["/Resources"]
            if "/XObject" not in resources:
                resources[NameObject("/XObject")] = DictionaryObject()
            xobjects = resources["/XObject"]
            ops = []
            for k, annot in enumerate(page.get("/Annots", [])):
                widget = annot.get_object()
                normal = widget.get("/AP", DictionaryObject()).get("/N")
                if normal is None:
                    continue
                ref = normal.raw_get(widget["/AS"]) if "/AS" in widget and "/Length" not in normal else (
                    widget["/AP"].raw_get("/N"))
                stream = ref.get_object()
                x0, y0, x1, y1 = (float(c) for c in widget["/Rect"])
                bx0, by0, bx1, by1 = (float(c) for c in stream.get("/BBox", [0, 0, x1 - x0, y1 - y0]))
                sx, sy = (x1 - x0) / (bx1 - bx0), (y1 - y0) / (by1 - by0)
                stream[NameObject("/Type")] = NameObject("/XObject")
                stream[NameObject("/Subtype")] = NameObject("/Form")
                xobjects[NameObject(f"/Flat{k}")] = ref
                ops.append(f"q {sx:.4f} 0 0 {sy:.4f} {x0 - bx0 * sx:.4f} {y0 - by0 * sy:.4f} cm /Flat{k} Do Q")
            drawn = DecodedStreamObject()
            drawn.set_data(("\n".join(ops) + "\n").encode())
            contents = page.get_contents()
            merged = DecodedStreamObject()
            merged.set_data((contents.get_data() if contents is not None else b"") + b"\n" + drawn.get_data())
            page.replace_contents(merged)
            if "/Annots" in page:
                del page["/Annots"]
        if "/AcroForm" in writer._root_object:
            del writer._root_object["/AcroForm"]
    return _rewrite(data, edit)


def printed_by_cairo(data: bytes, paper: str | None = None) -> bytes:
    """The PDF "printed to PDF" by poppler's ``pdftocairo`` (Debian ``poppler-utils``), which re-encodes every
    text in embedded subset fonts (Liberation Sans for Helvetica) and, with ``paper="letter"``, fits the A4 page
    to Letter. Raises ``FileNotFoundError`` when the tool is not installed."""
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    tool = shutil.which("pdftocairo")
    if tool is None:
        raise FileNotFoundError("pdftocairo")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        src.write_bytes(data)
        subprocess.run([tool, "-pdf", *(["-paper", paper] if paper else []), str(src), str(dst)], check=True,
                       capture_output=True, timeout=60)
        return dst.read_bytes()


def vector_ticks(values: Mapping[str, Any], form_id: str) -> bytes:
    """The filled form printed to PDF with every tick drawn as a vector check mark (two strokes, no text), as
    drivers that outline glyphs print it; the other values as text (``Rendering.FILLED``)."""
    from reportlab.pdfgen.canvas import Canvas

    from pipeline.form.definition import FieldKind, form_v1
    from pipeline.form.render import Rendering, render_form

    definition = form_v1()
    ticks = {f.name for f in definition.fields if f.is_tick}
    base = io.BytesIO()
    render_form(base, form_id, Rendering.FILLED, {k: ([] if k in ticks and v not in (True, False) else
                                                      False if k in ticks else v) for k, v in values.items()})
    overlay = io.BytesIO()
    c = Canvas(overlay, pagesize=(A4_W, A4_H))
    for page in (1, 2):
        c.setLineWidth(1.0)
        for field in definition.page_fields(page):
            if not field.is_tick:
                continue
            value = values.get(field.name)
            chosen = {"yes"} if value is True else set(value) if isinstance(value, list) else set()
            for box in field.boxes:
                if box.option in chosen or (field.kind is FieldKind.FLAG and value is True):
                    r = box.rect
                    path = c.beginPath()
                    path.moveTo(r.x0 + 2.5, A4_H - (r.top + 5.5))
                    path.lineTo(r.x0 + 4.3, A4_H - (r.bottom - 2.5))
                    path.lineTo(r.x1 - 2.3, A4_H - (r.top + 2.5))
                    c.drawPath(path, stroke=1, fill=0)
        c.showPage()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(base.getvalue())))
    marks = PdfReader(io.BytesIO(overlay.getvalue()))
    for page, mark in zip(writer.pages, marks.pages, strict=True):
        page.merge_page(mark)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
