"""Readers for born-digital PDFs: AcroForm values first, then the text layer.

Both readers take one page of an opened PDF and return every field of that page
as an :class:`ExtractedField` with confidence 1.0: nothing is guessed, the values
are the ones the PDF holds. Pages with neither (image-only pages) are left to the
scan reader (``pipeline.reading.scan``).

Coordinates: pdfplumber's ``x0, top, x1, bottom`` are PDF points from the top-left
corner, the convention of ``pipeline.form.definition``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.deciding.fields import clean_text_value, empty_value, make_field, tick_value
from pipeline.form.definition import Field, FieldKind, PageIdentity, Rect
from pipeline.settings import TextLayerSettings
from schemas.extraction import ExtractedField, Source, TickState, format_comb

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

def acroform_widget_values(annotations: Sequence[Mapping[str, Any]]) -> dict[str, str | bool]:
    """Values of AcroForm widgets: text → string, check box → ticked or not.

    Args:
        annotations: Widget dictionaries as pypdf gives them (``/T``, ``/FT``, ``/V``,
            ``/AS``, ``/Parent``).

    Returns:
        Field name → value. A check box is ticked when its appearance state is any
        state but ``/Off``: export values differ between tools (``/Yes``, ``/On``, ``/1``).
    """
    values: dict[str, str | bool] = {}
    for annot in annotations:
        if annot.get("/Subtype") != "/Widget":
            continue
        parent = annot.get("/Parent")
        parent = parent.get_object() if parent is not None else {}
        name = annot.get("/T", parent.get("/T"))
        field_type = annot.get("/FT", parent.get("/FT"))
        if name is None:
            continue
        if field_type == "/Btn":
            state = annot.get("/AS", annot.get("/V", parent.get("/V")))
            values[str(name)] = str(state) not in OFF_STATES
        elif field_type == "/Tx":
            value = annot.get("/V", parent.get("/V"))
            values[str(name)] = "" if value is None else str(value)
    return values


def read_acroform_page(widgets: Mapping[str, str | bool], fields: Sequence[Field]) -> dict[str, ExtractedField]:
    """Extract the page's fields from its AcroForm widget values (see :func:`acroform_widget_values`).

    Signature zones are not form fields (a signature is ink, on paper or from a PDF
    reader's "fill and sign"): they are left out here and read from the page's
    drawing by :func:`read_text_layer_page`.
    """
    out: dict[str, ExtractedField] = {}
    for field in fields:
        if field.is_tick:
            if field.kind is FieldKind.FLAG:
                ticked = {"yes"} if widgets.get(field.name) is True else set()
            else:
                ticked = {b.option for b in field.boxes if widgets.get(f"{field.name}.{b.option}") is True}
            states = {b.option: TickState.TICKED if b.option in ticked else TickState.EMPTY for b in field.boxes}
            out[field.name] = make_field(field, tick_value(field, ticked), 1.0, Source.ACROFORM, ticks=states)
        elif field.kind is FieldKind.SIGNATURE:
            continue  # not a form field: read from the page's drawing (see read_text_layer_page)
        elif field.is_comb:
            # One widget per run of cells (``name.0``, ``name.1``…), or one for the whole comb.
            parts = [str(widgets.get(f"{field.name}.{i}") or "") for i in range(len(field.cells))]
            raw = str(widgets.get(field.name) or "") or "".join(parts)
            out[field.name] = make_field(field, format_comb(field.kind, raw), 1.0, Source.ACROFORM)
        else:
            raw = str(widgets.get(field.name) or "")
            out[field.name] = make_field(field, clean_text_value(field.kind, raw), 1.0, Source.ACROFORM)
    return out


# --- Text layer --------------------------------------------------------------------


def _inside(obj: Mapping[str, Any], rect: Rect) -> bool:
    x = (float(obj["x0"]) + float(obj["x1"])) / 2
    y = (float(obj["top"]) + float(obj["bottom"])) / 2
    return rect.contains(x, y)


def _within(obj: Mapping[str, Any], rect: Rect) -> bool:
    return (float(obj["x0"]) >= rect.x0 and float(obj["x1"]) <= rect.x1
            and float(obj["top"]) >= rect.top and float(obj["bottom"]) <= rect.bottom)


def _join_lines(words: Sequence[Mapping[str, Any]], line_pt: float) -> str:
    """Join words in reading order: by line (tops rounding to the same multiple of ``line_pt``), then left to
    right."""
    ordered = sorted(words, key=lambda w: (round(float(w["top"]) / line_pt), float(w["x0"])))
    return " ".join(str(w["text"]) for w in ordered)


def read_text_layer_page(
    words: Sequence[Mapping[str, Any]],
    chars: Sequence[Mapping[str, Any]],
    graphics: Sequence[Mapping[str, Any]],
    fields: Sequence[Field],
    text_layer: TextLayerSettings | None = None,
) -> dict[str, ExtractedField]:
    """Extract the page's fields from its text layer and vector graphics.

    Args:
        words: pdfplumber words (``text``, ``x0``, ``top``, ``x1``, ``bottom``; points).
        chars: pdfplumber chars, same keys.
        graphics: pdfplumber curves and lines (a drawn cross or signature).
        fields: The fields printed on this page.
        text_layer: Insets and tolerances (PDF points) that place a character or a drawing in a box or zone.

    Returns:
        Field name → extracted field, confidence 1.0, source ``text_layer``.
    """
    text_layer = text_layer or TextLayerSettings()
    out: dict[str, ExtractedField] = {}
    for field in fields:
        if field.is_tick:
            ticked: set[str] = set()
            for box in field.boxes:
                interior = box.rect.inset(text_layer.tick_inset_pt)
                if any(_inside(c, interior) and str(c["text"]).strip() for c in chars) or any(
                        _within(g, interior.inset(-text_layer.tick_drawing_slack_pt)) for g in graphics):
                    ticked.add(box.option)
            states = {b.option: TickState.TICKED if b.option in ticked else TickState.EMPTY for b in field.boxes}
            out[field.name] = make_field(field, tick_value(field, ticked), 1.0, Source.TEXT_LAYER, ticks=states)
        elif field.kind is FieldKind.SIGNATURE:
            inner = field.rect.inset(text_layer.signature_inset_pt)
            signed = any(_within(g, inner) for g in graphics) or any(_inside(c, inner) for c in chars)
            out[field.name] = make_field(field, signed, 1.0, Source.TEXT_LAYER)
        elif field.is_comb:
            digits = "".join(str(c["text"]) for cell in field.cells for c in chars
                             if _inside(c, cell) and str(c["text"]).isdigit())
            out[field.name] = make_field(field, format_comb(field.kind, digits), 1.0, Source.TEXT_LAYER)
        else:
            zone_words = [w for w in words if _inside(w, field.rect)]
            value = (clean_text_value(field.kind, _join_lines(zone_words, text_layer.line_pt)) if zone_words
                     else empty_value(field))
            out[field.name] = make_field(field, value, 1.0, Source.TEXT_LAYER)
    return out

