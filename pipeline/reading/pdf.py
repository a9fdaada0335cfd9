"""Readers for born-digital PDFs: AcroForm values first, then the text layer.

Both readers take one page of an opened PDF and return every field of that page
as an :class:`ExtractedField` with confidence 1.0: nothing is guessed, the values
are the ones the PDF holds. A value the PDF contradicts (``/V`` against ``/AS``,
AcroForm against XFA), cannot decode, holds a printed label, or a comb that is no value
of its kind, is held instead: ``TextLayerSettings.held_confidence`` and its
:class:`~schemas.extraction.Doubt`, so that a person decides, told why in French.
Pages with neither (image-only pages) are left to the scan reader (``pipeline.reading.scan``).

Coordinates: pdfplumber's ``x0, top, x1, bottom`` are PDF points from the top-left
corner, the convention of ``pipeline.form.definition``; the text layer is brought to the
form's frame by :mod:`pipeline.reading.text_register` before it is read here.

On the project's own samples (20 fillable and 20 text PDFs, seed 2026) and the devset's
two born-digital files (``digital``, ``printed``), no field is held by any rule of this
module, and every value is read as before (issue 16).
"""

from __future__ import annotations

import codecs
import logging
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, NameObject, StreamObject, create_string_object

from pipeline.deciding.fields import clean_text_value, empty_value, make_field, tick_value
from pipeline.form.definition import Field, FieldKind, FormDefinition, PageIdentity, Rect
from pipeline.form.render import comb_runs
from pipeline.reading.text_register import LabelWord, label_in_zone
from pipeline.settings import TextLayerSettings
from schemas.extraction import Doubt, ExtractedField, Source, TickState, format_comb, normalise_text

logger = logging.getLogger(__name__)

_COMB_SEPARATORS = "/-. "
"""Characters that may separate a comb's groups when typed (``5/6/2018``); kept to split them, then dropped."""
_FOOTER_RE = re.compile(r"CLASFO\|v\d+\|[A-Z0-9-]+\|p\d/\d")
OFF_STATES = {"/Off", "Off", "", None}


def identify_text_page(text: str) -> PageIdentity | None:
    """Identify a page from the footer payload printed in its text layer, if any."""
    m = _FOOTER_RE.search(text.replace(" ", ""))
    return PageIdentity.parse(m.group(0)) if m else None


def is_scanned_page(page_width_pt: float, page_height_pt: float, image_boxes: Sequence[Rect],
                    text_layer: TextLayerSettings | None = None) -> bool:
    """Whether images cover ``text_layer.image_cover_min`` of the page or more (sizes in points)."""
    covered = sum(r.width * r.height for r in image_boxes)
    return covered >= (text_layer or TextLayerSettings()).image_cover_min * page_width_pt * page_height_pt


# --- AcroForm ----------------------------------------------------------------------

_TREE_DEPTH_MAX = 32
"""Deepest ``/Parent`` chain followed (a loop in a damaged field tree stops here)."""
_PUSHBUTTON_FLAG = 1 << 16
"""``/Ff`` bit 17: a push button holds no value (ISO 32000-1, table 226)."""
_XFA_TRUE = {"1", "on", "yes", "true", "oui"}
"""XFA check-box values that mean ticked (Adobe's default on-value is ``1``)."""


class UndecodableValueError(ValueError):
    """A form field's ``/V`` is neither a string, a name, a number nor a text stream this reader decodes; caught
    in :func:`acroform_widget_values`, which holds the field (``Doubt.UNREADABLE_VALUE``)."""


@dataclass(frozen=True)
class WidgetValue:
    """What one AcroForm field holds, as read from its widget.

    Attributes:
        value: Text (``/Tx``, ``/Ch``) or ticked (``/Btn``).
        doubt: Why the value must go to a person (the PDF contradicts itself or cannot be decoded), or ``None``.
    """

    value: str | bool
    doubt: Doubt | None = None


def _parents(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The node, then its ``/Parent`` chain up to the field tree's root (at most ``_TREE_DEPTH_MAX`` deep)."""
    seen: set[int] = set()
    current: Mapping[str, Any] | None = node
    while current is not None and id(current) not in seen and len(seen) < _TREE_DEPTH_MAX:
        seen.add(id(current))
        yield current
        parent = current.get("/Parent")
        current = parent.get_object() if parent is not None else None


def _inherited(node: Mapping[str, Any], key: str) -> Any:
    """An inheritable field attribute (``/FT``, ``/V``, ``/Ff``; ISO 32000-1, 12.7.3.1), from the nearest node
    that has it."""
    for n in _parents(node):
        if key in n:
            return n[key].get_object() if hasattr(n[key], "get_object") else n[key]
    return None


def field_name(widget: Mapping[str, Any]) -> str | None:
    """The fully qualified name of a widget's field: the partial names (``/T``) of its ancestors joined by dots
    (``class_level`` → ``CE2`` gives ``class_level.CE2``). ``None`` when no node has a name."""
    parts = [decode_text_stream(t) if isinstance(t := n["/T"], bytes) else str(t) for n in _parents(widget)
             if "/T" in n]
    return ".".join(reversed(parts)) if parts else None


def decode_text_stream(data: bytes) -> str:
    """Text of a text stream (a ``/V`` stored as a stream; ISO 32000-1, 7.9.3): UTF-16 or UTF-8 with a byte order
    mark, else UTF-8 when the bytes are valid UTF-8 (what tools write; multi-byte UTF-8 sequences are
    implausible in French PDFDocEncoding text), else PDFDocEncoding."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)):
        return str(create_string_object(data))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return str(create_string_object(data))


def value_text(value: Any) -> str:
    """A ``/V`` as text: string, name (without its slash), number, text stream, or array of those (a list
    box's choices, joined by ``", "``).

    Raises:
        UndecodableValueError: Any other object, or a stream whose filter cannot be undone.
    """
    value = value.get_object() if hasattr(value, "get_object") else value
    if value is None:
        return ""
    if isinstance(value, StreamObject):
        try:
            return decode_text_stream(value.get_data())
        except (PdfReadError, NotImplementedError, ValueError, OSError, zlib.error) as exc:
            raise UndecodableValueError(f"text stream cannot be decoded: {type(exc).__name__}") from exc
    if isinstance(value, NameObject):
        return str(value)[1:]
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, bytes):
        return decode_text_stream(value)
    if isinstance(value, ArrayObject):
        return ", ".join(value_text(v) for v in value)
    raise UndecodableValueError(f"form value of type {type(value).__name__}")


def _on_states(widget: Mapping[str, Any]) -> list[str]:
    """The appearance states of a check box or radio widget other than ``Off`` (``Yes``, ``On``, ``CE2``…)."""
    ap = widget.get("/AP")
    normal = ap.get_object().get("/N") if ap is not None else None
    normal = normal.get_object() if normal is not None else None
    if not isinstance(normal, Mapping):
        return []
    return [str(k)[1:] for k in normal if str(k) not in OFF_STATES]


def _ticked_by_value(value: Any, on_states: Sequence[str]) -> bool:
    """Whether a button's ``/V`` selects this widget: its name is one of the widget's on-states, or, for a widget
    without appearances, any name but ``Off``."""
    name = str(value)[1:] if isinstance(value, NameObject) else str(value)
    if on_states:
        return name in on_states
    return str(value) not in OFF_STATES and name not in OFF_STATES


def xfa_datasets(acroform: Mapping[str, Any] | None) -> dict[str, str]:
    """Leaf values of the XFA ``datasets`` packet of an AcroForm (``/XFA``), by dotted path below ``xfa:data``.

    ``/XFA`` is one XDP stream or an array of packet names and streams (ISO 32000-1, 12.7.8). XML is parsed by
    the standard library (expat 2.4 or later refuses entity expansion attacks; no external entity is fetched).

    Returns:
        ``"form1.pupil_surname"`` → text, for every element without children; ``{}`` without XFA or when it
        cannot be parsed (the AcroForm values are then read alone).
    """
    xfa = acroform.get("/XFA") if acroform is not None else None
    xfa = xfa.get_object() if xfa is not None else None
    if xfa is None:
        return {}
    try:
        if isinstance(xfa, ArrayObject):
            packets = [xfa[i + 1].get_object() for i in range(0, len(xfa) - 1, 2) if str(xfa[i]) == "datasets"]
            data = b"".join(p.get_data() for p in packets if isinstance(p, StreamObject))
        elif isinstance(xfa, StreamObject):
            data = xfa.get_data()  # the whole XDP document
        else:
            return {}
        if not data.strip():
            return {}
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, PdfReadError, NotImplementedError, ValueError, zlib.error) as exc:
        logger.warning("XFA packet cannot be parsed (%s): AcroForm values read alone", type(exc).__name__)
        return {}
    values: dict[str, str] = {}
    for top in root.iter():
        if _local(top.tag) == "data":
            for child in top:
                _xfa_leaves(child, [], values)
    return values


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xfa_leaves(node: ElementTree.Element, path: list[str], out: dict[str, str]) -> None:
    path = [*path, _local(node.tag)]
    children = list(node)
    if not children:
        out[".".join(path)] = (node.text or "").strip()
    for child in children:
        _xfa_leaves(child, path, out)


def _xfa_lookup(xfa: Mapping[str, str], name: str) -> str | None:
    """The XFA value of the AcroForm field ``name``: the one leaf whose dotted path ends with the name's, or whose
    path the name ends with (XFA forms name AcroForm fields ``form1[0].page1[0].x[0]``); ``None`` when no or
    several leaves match."""
    parts = re.sub(r"\[\d+\]", "", name).split(".")
    found = [v for path, v in xfa.items()
             if (p := path.split("."))[-min(len(p), len(parts)):] == parts[-min(len(p), len(parts)):]]
    return found[0] if len(found) == 1 else None


def _same_text(a: str, b: str) -> bool:
    return (normalise_text(a) or "") == (normalise_text(b) or "")


def _button_values(widget: Mapping[str, Any], name: str, raw: Any, xfa: Mapping[str, str] | None
                   ) -> list[tuple[str, WidgetValue]]:
    """A check box or radio widget's readings: under its field's name, and under ``name.state`` for its on-state.

    Ticked is what the widget shows (``/AS``), else what its value (``/V``) selects; the two disagreeing hold it
    (``CHECKBOX_CONFLICT``), as does an XFA value saying otherwise (``XFA_CONFLICT``).
    """
    on_states = _on_states(widget)
    state = widget.get("/AS")
    ticked = (str(state) not in OFF_STATES) if state is not None else \
        (raw is not None and _ticked_by_value(raw, on_states))
    doubt = None
    if state is not None and raw is not None and _ticked_by_value(raw, on_states) != ticked:
        doubt = Doubt.CHECKBOX_CONFLICT
    out = []
    for key in [name] + [f"{name}.{s}" for s in on_states[:1] if not name.endswith(f".{s}")]:
        xfa_text = _xfa_lookup(xfa, key) if xfa else None
        key_doubt = doubt
        if key_doubt is None and xfa_text is not None and \
                (xfa_text.lower() in _XFA_TRUE or (bool(on_states) and xfa_text == on_states[0])) != ticked:
            key_doubt = Doubt.XFA_CONFLICT
        out.append((key, WidgetValue(ticked, key_doubt)))
    return out


def acroform_widget_values(annotations: Sequence[Mapping[str, Any]],
                           xfa: Mapping[str, str] | None = None) -> dict[str, WidgetValue]:
    """Values of a page's AcroForm widgets, read through the whole field tree.

    A widget's field is named by its fully qualified name (:func:`field_name`); its type, flags and value are
    inherited from its ancestors (``/FT``, ``/Ff``, ``/V``), and a ``/V`` stored as a text stream is decoded
    (:func:`value_text`). A check box or radio widget is ticked when its appearance state (``/AS``, what a
    viewer shows and prints) is any state but ``Off`` (export values differ between tools: ``/Yes``, ``/On``,
    ``/1``); it is also given under ``name.state`` (a radio group ``class_level`` whose widget's on-state is
    ``CE2`` gives ``class_level.CE2``).

    Held for a person (``WidgetValue.doubt``): a button whose ``/V`` and ``/AS`` disagree (``CHECKBOX_CONFLICT``),
    a value the XFA datasets give otherwise (``XFA_CONFLICT``), a value that cannot be decoded
    (``UNREADABLE_VALUE``, value ``""``).

    Args:
        annotations: The page's annotation dictionaries as pypdf gives them.
        xfa: The document's XFA data leaves (:func:`xfa_datasets`), if any.

    Returns:
        Field name → value. On the project's own fillable PDFs and the devset's digital one, every widget is a
        terminal field named on its own (no ``/Kids``) whose ``/V`` and ``/AS`` agree, without XFA: read as
        before, nothing held.
    """
    values: dict[str, WidgetValue] = {}
    for annot in annotations:
        if not isinstance(annot, Mapping) or annot.get("/Subtype") != "/Widget":
            continue
        name = field_name(annot)
        field_type = _inherited(annot, "/FT")
        if name is None or field_type is None:
            continue
        flags = _inherited(annot, "/Ff")
        flags = flags if isinstance(flags, int) else 0  # a damaged /Ff reads as no flag
        raw = _inherited(annot, "/V")
        if field_type == "/Btn":
            if flags & _PUSHBUTTON_FLAG:
                continue
            for key, reading in _button_values(annot, name, raw, xfa):
                earlier = values.get(key)
                if earlier is not None and isinstance(earlier.value, bool):  # one field, several widgets
                    reading = WidgetValue(earlier.value or bool(reading.value), earlier.doubt or reading.doubt)
                values[key] = reading
        elif field_type in ("/Tx", "/Ch"):
            try:
                text, doubt = value_text(raw), None
            except UndecodableValueError:
                text, doubt = "", Doubt.UNREADABLE_VALUE
            xfa_text = _xfa_lookup(xfa, name) if xfa else None
            if doubt is None and xfa_text is not None and not _same_text(xfa_text, text):
                doubt = Doubt.XFA_CONFLICT
            values[name] = WidgetValue(text, doubt)
    return values


def names_form_fields(widgets: Mapping[str, WidgetValue], definition: FormDefinition) -> bool:
    """Whether the widgets are the form's own fields (``pupil_surname``, ``class_level.CE2``…): another fillable
    PDF's values must not stand for ours, as empty fields."""
    names = {f.name for f in definition.fields}
    return any(key.split(".", 1)[0] in names for key in widgets)


def comb_value(field: Field, runs: Sequence[str]) -> tuple[str | None, Doubt | None]:
    """A comb's value from what each run of its cells holds (``JJ``, ``MM``, ``AAAA`` for a date), or from one
    string for the whole comb.

    A date typed without leading zeros (``5/6/2018`` in the whole comb, or ``5``, ``6``, ``2018`` in its runs)
    is normalised to ``05/06/2018`` when its day, month and year are plain (1-2, 1-2 and 4 digits, day 1-31,
    month 1-12); any other comb whose digits do not fill its cells is held (``Doubt.COMB_SHAPE``), never read as
    ``562018``. On the project's samples and the devset's two PDFs every comb is typed whole: no change.

    Returns:
        ``(canonical value or None, doubt or None)``.
    """
    text = "".join(runs)
    digits = "".join(ch for ch in text if ch.isdigit())
    if not digits:
        return None, None
    cell_runs = comb_runs(field)
    if len(runs) > 1 and len(runs) == len(cell_runs):
        groups = [re.sub(r"\D", "", r) for r in runs]
        if all(len(g) == len(c) for g, c in zip(groups, cell_runs, strict=True)):
            return format_comb(field.kind, digits), None
    else:
        groups = re.findall(r"\d+", text)
        if len(digits) == len(field.cells) and (field.kind is not FieldKind.DATE or len(groups) != 3):
            return format_comb(field.kind, digits), None
    if field.kind is FieldKind.DATE and len(groups) == 3 and all(1 <= len(g) <= 2 for g in groups[:2]) \
            and len(groups[2]) == 4 and 1 <= int(groups[0]) <= 31 and 1 <= int(groups[1]) <= 12:
        return f"{int(groups[0]):02d}/{int(groups[1]):02d}/{groups[2]}", None
    return format_comb(field.kind, digits), Doubt.COMB_SHAPE


def _held(field: ExtractedField, doubt: Doubt | None, text_layer: TextLayerSettings) -> ExtractedField:
    """The field held for a person because of ``doubt`` (confidence ``text_layer.held_confidence``), or as it is."""
    if doubt is None:
        return field
    return field.model_copy(update={"confidence": min(field.confidence, text_layer.held_confidence),
                                    "doubt": doubt})


def read_acroform_page(widgets: Mapping[str, WidgetValue], fields: Sequence[Field],
                       text_layer: TextLayerSettings | None = None) -> dict[str, ExtractedField]:
    """Extract the page's fields from its AcroForm widget values (see :func:`acroform_widget_values`).

    A field whose widget is held (its ``doubt``) or whose comb is not a value of its kind (:func:`comb_value`)
    gets ``text_layer.held_confidence`` and that doubt, so that a person decides.

    Signature zones are not form fields (a signature is ink, on paper or from a PDF
    reader's "fill and sign"): they are left out here and read from the page's
    drawing by :func:`read_text_layer_page`.
    """
    text_layer = text_layer or TextLayerSettings()
    out: dict[str, ExtractedField] = {}

    def doubt_of(*names: str) -> Doubt | None:
        return next((w.doubt for n in names if (w := widgets.get(n)) is not None and w.doubt), None)

    def value_of(name: str) -> str | bool | None:
        w = widgets.get(name)
        return w.value if w is not None else None

    for field in fields:
        if field.is_tick:
            names = [field.name] if field.kind is FieldKind.FLAG else [f"{field.name}.{b.option}" for b in field.boxes]
            ticked = {b.option for b, n in zip(field.boxes, names, strict=True) if value_of(n) is True}
            states = {b.option: TickState.TICKED if b.option in ticked else TickState.EMPTY for b in field.boxes}
            made = make_field(field, tick_value(field, ticked), 1.0, Source.ACROFORM, ticks=states)
            out[field.name] = _held(made, doubt_of(*names), text_layer)
        elif field.kind is FieldKind.SIGNATURE:
            continue  # not a form field: read from the page's drawing (see read_text_layer_page)
        elif field.is_comb:
            # One widget per run of cells (``name.0``, ``name.1``…), or one for the whole comb.
            run_names = [f"{field.name}.{i}" for i in range(len(comb_runs(field)))]
            whole = str(value_of(field.name) or "")
            runs = [whole] if whole else [str(value_of(n) or "") for n in run_names]
            value, shape = comb_value(field, runs)
            made = make_field(field, value, 1.0, Source.ACROFORM)
            out[field.name] = _held(made, doubt_of(field.name, *run_names) or shape, text_layer)
        else:
            made = make_field(field, clean_text_value(field.kind, str(value_of(field.name) or ""), typed=True),
                              1.0, Source.ACROFORM)
            out[field.name] = _held(made, doubt_of(field.name), text_layer)
    return out


# --- Text layer --------------------------------------------------------------------


def letter_comb_text(field: Field, chars: Sequence[Mapping[str, Any]]) -> str:
    """What a capital-letter comb (form version 2) holds in the text layer: each cell's characters, an empty cell
    between two written ones a space (``JEAN PIERRE``), e-mails lower-cased. pdfplumber's words cannot be used: one
    letter per cell leaves gaps wider than its word spacing."""
    cells = ["".join(str(c["text"]) for c in sorted((c for c in chars if _inside(c, cell)),
                                                    key=lambda c: float(c["x0"]))).strip() for cell in field.cells]
    out: list[str] = []
    gap = False
    for text in cells:
        if text:
            if gap and out:
                out.append(" ")
            out.append(text)
            gap = False
        else:
            gap = True
    value = "".join(out)
    return value.lower() if field.kind is FieldKind.EMAIL else value


def _inside(obj: Mapping[str, Any], rect: Rect) -> bool:
    x = (float(obj["x0"]) + float(obj["x1"])) / 2
    y = (float(obj["top"]) + float(obj["bottom"])) / 2
    return rect.contains(x, y)


def _within(obj: Mapping[str, Any], rect: Rect) -> bool:
    return (float(obj["x0"]) >= rect.x0 and float(obj["x1"]) <= rect.x1
            and float(obj["top"]) >= rect.top and float(obj["bottom"]) <= rect.bottom)


def crosses_core(graphic: Mapping[str, Any], box: Rect, cut: float) -> bool:
    """Whether a drawn path (a pdfplumber curve or line, points ``pts`` in PDF points, y down) passes through a
    tick box's core: ``box`` without ``cut`` of its width and height on each side.

    Every tick, cross or check mark crosses the centre of its box (as the scan reader's
    :func:`~pipeline.reading.scan.omr.core_share` has it); the box's own outline never does. A fillable form
    flattened by a PDF tool merges each check box's unticked appearance into the page: a square outline drawn
    half a point inside the box, inside the inset interior where a drawing counted as a tick. Every box of such a
    page read ticked at confidence 1.0 (a second attack, 2026-12-07: 11 tick questions of the devset's
    fillable referral flattened by pikepdf, wrong and accepted). On both corpora as they are (the devset's two
    born-digital referrals; the project's fillable and text-PDF kinds, benchmark seed 2026, and its tests' six page
    geometries) every tick reads as before; the devset's born-digital referrals in 34 vector variants (rotated,
    cropped, fitted to Letter, encrypted, flattened) all route with every field right. A path without points is
    judged by its box.

    Args:
        graphic: The drawing (``x0, top, x1, bottom``, and ``pts`` when pdfplumber gives them).
        box: The tick box (PDF points, y down).
        cut: Share (0-0.5) of the box's width and height left out of the core on each side.
    """
    core = Rect(box.x0 + cut * box.width, box.top + cut * box.height,
                box.x1 - cut * box.width, box.bottom - cut * box.height)
    points = [(float(x), float(y)) for x, y in graphic.get("pts") or ()]
    if len(points) < 2:
        return not (float(graphic["x1"]) < core.x0 or float(graphic["x0"]) > core.x1
                    or float(graphic["bottom"]) < core.top or float(graphic["top"]) > core.bottom)
    return any(_segment_meets(a, b, core) for a, b in zip(points, points[1:], strict=False))


def _outlines(graphic: Mapping[str, Any], interior: Rect, cut: float) -> bool:
    """Whether a drawing that misses a box's core spans the box interior (past ``cut`` of its width and height on
    each side, on both axes): the box's own outline, not a mark. A drawing that neither crosses the core nor
    spans the box is a mark off the box's centre (a review, 2026-12-07: a small check in a corner), which the
    reader holds rather than reads empty."""
    return (float(graphic["x0"]) <= interior.x0 + cut * interior.width
            and float(graphic["x1"]) >= interior.x1 - cut * interior.width
            and float(graphic["top"]) <= interior.top + cut * interior.height
            and float(graphic["bottom"]) >= interior.bottom - cut * interior.height)


def _segment_meets(a: tuple[float, float], b: tuple[float, float], rect: Rect) -> bool:
    """Whether the segment ``a``-``b`` meets ``rect`` (Liang-Barsky clipping)."""
    (x0, y0), (dx, dy) = a, (b[0] - a[0], b[1] - a[1])
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - rect.x0), (dx, rect.x1 - x0), (-dy, y0 - rect.top), (dy, rect.bottom - y0)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            low = max(low, q / p)
        else:
            high = min(high, q / p)
        if low > high:
            return False
    return True


def _join_lines(words: Sequence[Mapping[str, Any]], line_pt: float) -> str:
    """Join words in reading order: by line (tops rounding to the same multiple of ``line_pt``), then left to
    right."""
    ordered = sorted(words, key=lambda w: (_line_of(w, line_pt), float(w["x0"])))
    return " ".join(str(w["text"]) for w in ordered)


def _line_of(obj: Mapping[str, Any], line_pt: float) -> int:
    """The line a pdfplumber word or char is on: its top rounded to a multiple of ``line_pt`` (PDF points)."""
    return round(float(obj["top"]) / line_pt)


def _typed_line(words: Sequence[Mapping[str, Any]], chars: Sequence[Mapping[str, Any]], line_pt: float) -> str:
    """A zone's ``words`` (pdfplumber's, PDF points) joined as they are drawn: with a space only where the page
    draws a space character between two of them, with none for a mere gap (or a line break).

    An e-mail typed « capucine schmitt@… » in the fillable PDF, then flattened or printed to PDF (PDFium, poppler),
    keeps its space character, which pdfplumber's words only tell as a gap among others; the extractor's gaps are
    guesses, the drawn space is what was typed (an attack and its review, 2026-12-07). The words are the zone's
    (each taken whole by its centre, :func:`_inside`): a long address running past the zone keeps its last
    letters, which a first version choosing characters one by one lost (``…services.co``, a review).

    Measured 2026-12-07: the devset's two born-digital forms (r0010, r0017) and the project's fillable and
    text-PDF samples of ``tests/pipeline/reading/test_pdf.py`` read the same e-mails as before; scans never come
    here.
    """
    ordered = sorted(words, key=lambda w: (_line_of(w, line_pt), float(w["x0"])))
    spaces = [c for c in chars if str(c["text"]) == " "]

    def drawn_space(before: Mapping[str, Any], word: Mapping[str, Any]) -> bool:
        return _line_of(before, line_pt) == _line_of(word, line_pt) and any(
            float(before["x1"]) - 0.5 <= (float(c["x0"]) + float(c["x1"])) / 2 <= float(word["x0"]) + 0.5
            and float(c["top"]) < float(word["bottom"]) and float(c["bottom"]) > float(word["top"]) for c in spaces)

    text = str(ordered[0]["text"]) if ordered else ""
    for before, word in zip(ordered, ordered[1:], strict=False):
        text += (" " if drawn_space(before, word) else "") + str(word["text"])
    return text


def read_text_layer_page(
    words: Sequence[Mapping[str, Any]],
    chars: Sequence[Mapping[str, Any]],
    graphics: Sequence[Mapping[str, Any]],
    fields: Sequence[Field],
    text_layer: TextLayerSettings | None = None,
    labels: Sequence[LabelWord] = (),
) -> dict[str, ExtractedField]:
    """Extract the page's fields from its text layer and vector graphics.

    The objects must be in the form's frame: registered first (:mod:`pipeline.reading.text_register`) when
    the page's own coordinates may differ.

    Args:
        words: pdfplumber words (``text``, ``x0``, ``top``, ``x1``, ``bottom``; points).
        chars: pdfplumber chars, same keys.
        graphics: pdfplumber curves and lines (a drawn cross or signature).
        fields: The fields printed on this page.
        text_layer: Insets and tolerances (PDF points) that place a character or a drawing in a box or zone.
        labels: The page's printed label words (:func:`pipeline.reading.text_register.label_words`); a text
            zone holding one is held (``Doubt.LABEL_TEXT``, :func:`~pipeline.reading.text_register.label_in_zone`).

    Returns:
        Field name → extracted field, confidence 1.0 (held ones ``text_layer.held_confidence``), source
        ``text_layer``. A comb is read cell by cell, separators included, through :func:`comb_value`.
    """
    text_layer = text_layer or TextLayerSettings()
    out: dict[str, ExtractedField] = {}
    for field in fields:
        if field.is_tick:
            states: dict[str, TickState] = {}
            for box in field.boxes:
                interior = box.rect.inset(text_layer.tick_inset_pt)
                drawn = [g for g in graphics if _within(g, interior.inset(-text_layer.tick_drawing_slack_pt))]
                if any(_inside(c, interior) and str(c["text"]).strip() for c in chars) or any(
                        crosses_core(g, box.rect, text_layer.tick_core_cut) for g in drawn):
                    states[box.option] = TickState.TICKED
                elif any(not _outlines(g, interior, text_layer.tick_core_cut) for g in drawn):
                    states[box.option] = TickState.UNSURE  # a mark off the box's centre: a person looks
                else:
                    states[box.option] = TickState.EMPTY
            ticked = {option for option, state in states.items() if state is TickState.TICKED}
            made = make_field(field, tick_value(field, ticked), 1.0, Source.TEXT_LAYER, ticks=states)
            if TickState.UNSURE in states.values():
                made = made.model_copy(update={"confidence": text_layer.held_confidence,
                                               "rules": ("tick_mark_off_centre",)})
            out[field.name] = made
        elif field.kind is FieldKind.SIGNATURE:
            inner = field.rect.inset(text_layer.signature_inset_pt)
            signed = any(_within(g, inner) for g in graphics) or any(_inside(c, inner) for c in chars)
            out[field.name] = make_field(field, signed, 1.0, Source.TEXT_LAYER)
        elif field.is_comb:
            runs = ["".join(str(c["text"]) for cell in run
                            for c in sorted((c for c in chars if _inside(c, cell)), key=lambda c: float(c["x0"]))
                            if str(c["text"]).isdigit() or str(c["text"]) in _COMB_SEPARATORS)
                    for run in comb_runs(field)]
            value, shape = comb_value(field, runs)
            out[field.name] = _held(make_field(field, value, 1.0, Source.TEXT_LAYER), shape, text_layer)
        elif field.is_letter_comb:
            out[field.name] = make_field(field, clean_text_value(field.kind, letter_comb_text(field, chars)) or
                                         empty_value(field), 1.0, Source.TEXT_LAYER)
        else:
            zone_words = [w for w in words if _inside(w, field.rect)]
            if not zone_words:
                text = empty_value(field)
            elif field.kind is FieldKind.EMAIL:  # its spaces as drawn: the validator sends one to a person
                text = clean_text_value(field.kind, _typed_line(zone_words, chars, text_layer.line_pt), typed=True)
            else:
                text = clean_text_value(field.kind, _join_lines(zone_words, text_layer.line_pt))
            made = make_field(field, text, 1.0, Source.TEXT_LAYER)
            label = label_in_zone(zone_words, words, labels, text_layer.label_match_pt)
            out[field.name] = _held(made, Doubt.LABEL_TEXT if label else None, text_layer)
    return out
