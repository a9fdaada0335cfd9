"""Small shared helpers that every reader uses to build :class:`ExtractedField` values."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping

from pipeline.form.definition import Field, FieldKind, Rect
from schemas.extraction import ExtractedField, RawValue, Source, TickState, ZoneBox, normalise_text

PERSON_NAME_FIELDS = ("pupil_surname", "pupil_first_name", "p2_pupil_surname", "p2_pupil_first_name",
                      "guardian1_surname", "guardian1_first_name", "guardian2_surname", "guardian2_first_name")
"""Fields that hold one person's name, and nothing else."""
EMAIL_RE = re.compile(r"^[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}$")
"""What a readable e-mail address looks like once lowercased and without spaces: what a read address is checked
against (``pipeline.reading.scan.text_rules.validator_cap``, ``pipeline.deciding.crosscheck.vouch_email``)."""

PERSON_NAME_RE = re.compile(r"[^\W\d_]+(?:[ '’-]+[^\W\d_]+)*")
"""A person's name as written: letters (any alphabet, accents) in words joined by spaces, hyphens or apostrophes."""


def zone_box(rect: Rect) -> ZoneBox:
    """The schema form of a zone rectangle (PDF points)."""
    return ZoneBox(x0=rect.x0, top=rect.top, x1=rect.x1, bottom=rect.bottom)


def tick_value(field: Field, ticked: Collection[str]) -> RawValue:
    """Raw value of a tick field from the set of ticked option codes.

    Returns a list of option codes in form order for a choice, a bool for a flag.
    """
    if field.kind is FieldKind.FLAG:
        return bool(ticked)
    return [box.option for box in field.boxes if box.option in ticked]


def make_field(
    field: Field,
    value: RawValue,
    confidence: float,
    source: Source,
    ticks: Mapping[str, TickState] | None = None,
    fill_ratios: Mapping[str, float] | None = None,
) -> ExtractedField:
    """Build the extracted field for ``field`` (confidence clamped to 0-1)."""
    return ExtractedField(
        name=field.name,
        value=value,
        confidence=min(1.0, max(0.0, confidence)),
        source=source,
        page=field.page,
        zone=zone_box(field.rect),
        ticks=dict(ticks or {}),
        fill_ratios=dict(fill_ratios or {}),
    )


def empty_value(field: Field) -> RawValue:
    """The raw value of an unfilled field: ``None``, ``[]`` or ``False`` by kind."""
    if field.kind is FieldKind.CHOICE:
        return []
    if field.kind in (FieldKind.FLAG, FieldKind.SIGNATURE):
        return False
    return None


def clean_text_value(kind: FieldKind, text: str | None, typed: bool = False) -> str | None:
    """The value of a text zone: white space and Unicode normalised, e-mails lowercased; ``None`` when blank.

    An e-mail loses the spaces inside it, which are a reader's artefacts (an engine's, or a text layer's extractor
    guessing them from the gaps between letters), unless ``typed``: a fillable PDF's value is what someone typed,
    and « capucine schmitt@… » must reach the validator, which sends it to a person, rather than be routed as
    ``capucineschmitt@…`` (the space may have been a dot: an attack, 2026-12-07).
    """
    value = normalise_text(text)
    if value and kind is FieldKind.EMAIL:
        value = (value if typed else value.replace(" ", "")).lower()
    return value or None


def fold_person_name(text: str) -> str:
    """A person's name as the pupil key and subject-access searches compare it: ASCII, case-folded, hyphens
    as spaces, spaces collapsed (``"Jean-Luc  DA SILVA"`` → ``"jean luc da silva"``).

    Not :func:`pipeline.deciding.crosscheck.fold` (letters and digits only, to compare readings) nor
    :func:`pipeline.deciding.directory.fold` (punctuation as spaces, to match school names).
    """
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(text.casefold().replace("-", " ").split())
