"""Assemble identified pages into one form, by their QR identity, never by scan order."""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.deciding.fields import empty_value, make_field
from pipeline.errors import MultipleFormsError, NotTheFormError
from pipeline.form.definition import PAGE_COUNT, FormDefinition, form_v1
from pipeline.reading.extract import PageReading, PageResult
from schemas.extraction import ExtractedField, ExtractedForm, Source


def assemble_form(pages: Sequence[PageResult], definition: FormDefinition | None = None) -> ExtractedForm:
    """Put the identified pages of one form (from one or more documents) together.

    Pages are matched by the form serial and page number their QR codes (or footer)
    carry. A page received twice keeps its first reading. Fields of a page that was
    not received are present with an empty value, source ``none`` and confidence 0,
    so validation and review see exactly what is missing.

    Args:
        pages: Page results of :func:`pipeline.reading.extract.read_document`, in any order.
        definition: Form geometry; version 1 by default.

    Returns:
        The form, with ``pages_found`` listing the page numbers received.

    Raises:
        NotTheFormError: No page is a page of our form.
        MultipleFormsError: The pages belong to more than one form serial.
    """
    definition = definition or form_v1()
    readings = [p for p in pages if isinstance(p, PageReading)]
    if not readings:
        raise NotTheFormError(f"none of the {len(pages)} page(s) is a page of the form", page_count=len(pages))
    serials = sorted({r.identity.form_id for r in readings})
    if len(serials) > 1:
        raise MultipleFormsError(f"{len(serials)} form serials in one document", form_count=len(serials))
    by_page: dict[int, PageReading] = {}
    for reading in sorted(readings, key=lambda r: r.index):
        by_page.setdefault(reading.identity.page, reading)
    fields: dict[str, ExtractedField] = {}
    for field in definition.fields:
        page_reading = by_page.get(field.page)
        if page_reading is not None and field.name in page_reading.fields:
            fields[field.name] = page_reading.fields[field.name]
        else:
            fields[field.name] = make_field(field, empty_value(field), 0.0, Source.NONE)
    return ExtractedForm(
        form_id=serials[0],
        version=readings[0].identity.version,
        pages_found=sorted(p for p in by_page if 1 <= p <= PAGE_COUNT),
        fields=fields,
        page_sources={p: r.source for p, r in by_page.items()},
        handwritten_pages=sorted(p for p, r in by_page.items() if r.handwritten),
    )
