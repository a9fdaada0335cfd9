"""Assemble identified pages into one form, by their QR identity, never by scan order.

Pages of a shared serial (the fillable PDF's, ``FO-AAAA-N…``) are assembled within their own file, and a
page 1 and a page 2 sent in two files are paired by their content (:func:`pair_by_pupil`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

from pipeline.deciding.fields import empty_value, fold_person_name, make_field
from pipeline.errors import MultipleFormsError, NotTheFormError
from pipeline.form.definition import PAGE_COUNT, FormDefinition, form_v1, home_languages_text, is_shared_serial
from pipeline.reading.pages import PageReading, PageResult
from schemas.extraction import ExtractedField, ExtractedForm, Source, ZoneBox


def assemble_form(pages: Sequence[PageResult], definition: FormDefinition | None = None) -> ExtractedForm:
    """Put the identified pages of one form (from one or more documents) together.

    Pages are matched by the form serial and page number their QR codes (or footer)
    carry. A page received twice keeps its first reading (:func:`repeated_page_copies` has set apart,
    before this, a file whose copies of a shared-serial page are not one page sent twice). Fields of a page that was
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
    page_fields = {p: as_v1_fields(r.fields) for p, r in by_page.items()}
    for field in definition.fields:
        page_reading = page_fields.get(field.page)
        if page_reading is not None and field.name in page_reading:
            fields[field.name] = page_reading[field.name]
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


def as_v1_fields(fields: Mapping[str, ExtractedField]) -> dict[str, ExtractedField]:
    """A page's fields in version 1's vocabulary, the one the schema, the validator and the desk speak.

    Version 2 (``pipeline.form.definition.form_v2``) has the same fields but home languages: ticked boxes
    (``home_languages``, option codes) and « autre » (``home_languages_other``). They become version 1's one text
    value (:func:`pipeline.form.definition.home_languages_text`: ``Français, arabe, wolof``), held as much as the
    least sure of the two, with both fields' readings and rules kept as evidence (rule ``home_languages_ticked``).
    Version 1's fields come back unchanged.

    Args:
        fields: Field name → extracted field of one page.

    Returns:
        A new mapping, without ``home_languages_other``.
    """
    out = dict(fields)
    other = out.pop("home_languages_other", None)
    ticked = out.get("home_languages")
    if other is None or ticked is None or not isinstance(ticked.value, list):
        return out
    text = home_languages_text([str(v) for v in ticked.value], other.value if isinstance(other.value, str) else None)
    zone = ZoneBox(x0=min(ticked.zone.x0, other.zone.x0), top=min(ticked.zone.top, other.zone.top),
                   x1=max(ticked.zone.x1, other.zone.x1), bottom=max(ticked.zone.bottom, other.zone.bottom))
    held = min((ticked, other), key=lambda f: f.confidence)
    out["home_languages"] = ExtractedField(
        name="home_languages", value=text, confidence=held.confidence, source=ticked.source, page=ticked.page,
        zone=zone, doubt=held.doubt or ticked.doubt or other.doubt,
        readings=(*ticked.readings, *other.readings),
        rules=(*ticked.rules, *other.rules, "home_languages_ticked"))
    return out


K = TypeVar("K", bound=Hashable)

PAIRING_FIELDS = {1: ("pupil_surname", "pupil_first_name"), 2: ("p2_pupil_surname", "p2_pupil_first_name")}
"""The pupil's name as each page writes it: page 2 repeats it at its top, so that its pages can be paired."""


def repeated_page_copies(pages: Sequence[PageResult]) -> int:
    """How many copies of one page of the fillable PDF's shared serial a file holds when they are not one page
    sent twice; 0 otherwise.

    Two filled fillable PDFs joined into one file (a school gathering its referrals) carry the shared serial on all
    four pages: assembled by serial and page number, the second form's pages were dropped as a page received
    twice, and its pupil vanished without a trace while the first was routed (an attack, 2026-12-06). Copies of
    a page are one page sent twice when they hold the same values, read from the PDF's fields or text (two forms
    typed for one pupil differ somewhere: their school, a phone), or, scanned, when they name the same pupil
    (:func:`pupil_on_page`). A printed serial is one sheet of paper: copies of its page are that sheet scanned twice,
    whatever their readings (the first is read, as before).

    Args:
        pages: One file's pages.

    Returns:
        The number of copies of the most repeated such page (2 for two forms joined), or 0.
    """
    copies: dict[tuple[str, int], list[PageReading]] = defaultdict(list)
    for page in pages:
        if isinstance(page, PageReading) and is_shared_serial(page.identity.form_id):
            copies[(page.identity.form_id, page.identity.page)].append(page)
    return max((len(same) for same in copies.values() if len(same) > 1 and not _one_page(same)), default=0)


def _one_page(copies: Sequence[PageReading]) -> bool:
    """Whether copies of a page are one page sent twice (see :func:`repeated_page_copies`)."""
    if all(c.source is not Source.OCR for c in copies):  # the PDF's own fields or text: typed values, exactly
        values = [{name: f.value for name, f in c.fields.items()} for c in copies]
        return all(v == values[0] for v in values[1:])
    pupils = {pupil_on_page(c) for c in copies}
    return None not in pupils and len(pupils) == 1


def pupil_on_page(reading: PageReading) -> tuple[str, str] | None:
    """The pupil's surname and first name a page carries, folded for comparison; ``None`` when one is blank.

    Folded as the pupil key folds a name (ASCII, case-folded, hyphens as spaces): ``Le Gall`` and
    ``LE GALL`` are one name; a name misread on one page is another name, and the pages stay apart.
    """
    names = [reading.fields[n].value if n in reading.fields else None
             for n in PAIRING_FIELDS.get(reading.identity.page, ())]
    folded = [fold_person_name(v) for v in names if isinstance(v, str)]
    if len(folded) != 2 or not all(folded):
        return None
    return folded[0], folded[1]


def pair_by_pupil(singles: Mapping[K, Sequence[PageResult]]) -> list[tuple[K, K]]:
    """Pair files holding only page 1 with files holding only page 2 of the same shared-serial form.

    A teacher who fills the fillable PDF, prints it and scans each page to its own file sends two files whose
    serial every school shares (issue 16: 12 of the 21 typed scans of the independent corpus came so). A
    page 1 and a page 2 are paired when they name the same pupil (:func:`pupil_on_page`) and neither names a
    pupil another single page of the same side also names: one page pairs with one page only, and an
    ambiguous pairing is left apart, each page to a person with its page missing.

    Measured with ``clas-referrals bench --corpus ../shared/devset``: typed referrals decided with no person
    2/17 → 3/17 (the first scanned one), median fields a person checks on a typed form 22.5 → 6, no
    misroute, no wrong value accepted (129 fields accepted). The project's own benchmark is unchanged: none of
    its kinds sends a shared serial's pages in two files.

    Args:
        singles: Group key → the pages of a file of a shared serial that holds exactly one page of the form.

    Returns:
        ``(page-1 key, page-2 key)`` pairs, in the order of ``singles``.
    """
    sides: dict[int, dict[tuple[str, str], list[K]]] = {1: defaultdict(list), 2: defaultdict(list)}
    for key, pages in singles.items():
        readings = [p for p in pages if isinstance(p, PageReading)]
        numbers = {r.identity.page for r in readings}
        if len(numbers) != 1 or (number := next(iter(numbers))) not in sides:
            continue
        pupil = pupil_on_page(readings[0])
        if pupil is not None:
            sides[number][pupil].append(key)
    pairs = []
    for pupil, firsts in sides[1].items():
        seconds = sides[2].get(pupil, [])
        if len(firsts) == 1 and len(seconds) == 1:
            pairs.append((firsts[0], seconds[0]))
    return pairs
