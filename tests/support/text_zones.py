"""Text zones of generated forms, with their true values: the ink that verification by synthesis compares readings
with (``pipeline.reading.scan.hand``, ``pipeline.reading.scan.synthesis``)."""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps

from pipeline.deciding.directory import load_directory
from pipeline.form.definition import FieldKind, form_v1
from pipeline.reading.anchors import find_page
from pipeline.reading.register import register_page
from pipeline.reading.scan.pixels import ink_mask
from pipeline.reading.scan.streaks import zone_ink
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.handwriting import require_hand_fonts
from samples.kinds import SampleKind


class TextZone(NamedTuple):
    """One inked text or e-mail zone of a generated form.

    Attributes:
        name: The field's name.
        mask: ``uint8`` 0/1 ink mask of its writing area (:func:`pipeline.reading.scan.streaks.zone_ink`).
        px_per_pt: The mask's scale.
        value: What is written there (the generator's truth).
    """

    name: str
    mask: np.ndarray
    px_per_pt: float
    value: str


def text_zones(kind: SampleKind, index: int, seed: int = 2026) -> list[TextZone]:
    """Every inked text and e-mail zone of generated form ``index`` of ``kind``, on each of its image pages."""
    require_hand_fonts()
    settings = Settings()
    definition = form_v1()
    zones = []
    for doc in generate_documents(kind, index, seed, load_directory(settings.directory_file), settings.school_year):
        with Image.open(io.BytesIO(doc.data)) as im:
            grey = np.asarray(ImageOps.exif_transpose(im).convert("L"))
        identified = find_page(grey, definition)
        page = register_page(identified, None, definition)
        mask = ink_mask(page.image)
        for field in definition.page_fields(identified.identity.page):
            written = doc.truth["values"][field.name]  # type: ignore[index]
            if field.kind in (FieldKind.TEXT, FieldKind.EMAIL) and written:
                zones.append(TextZone(field.name, zone_ink(mask, field, definition, page.px_per_pt), page.px_per_pt,
                                      str(written)))
    return zones
