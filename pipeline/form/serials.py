"""Serials of printed forms: ``FO-<series>-<number>``, each given once, for ever, from the database.

Every printed copy carries its own serial in its QR codes and footer; the pages of a form are assembled by
it and a serial seen twice is a duplicate form. The numbers are therefore allocated by the store
(:meth:`pipeline.store.Store.allocate_form_serials`), never counted from 1 by the print command (issue 17:
a second print batch took the first batch's serials). The fillable PDF's shared serial (``FO-2026-N00001``,
:func:`pipeline.form.definition.is_shared_serial`) is not allocated here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.store import Store

SERIES_PATTERN = re.compile(r"^[0-9]{4}$")
"""A series is the school year's first calendar year, e.g. ``2026``."""
NUMBER_DIGITS = 6
"""Digits of the number (``FO-2026-000123``); a millionth copy widens it, the QR code reads any length."""


def printed_serial(series: str, number: int) -> str:
    """The serial of printed copy ``number`` of ``series``, e.g. ``FO-2026-000123``."""
    return f"FO-{series}-{number:0{NUMBER_DIGITS}d}"


def serial_number(form_id: str, series: str) -> int | None:
    """The number of a printed serial of ``series`` (``None`` for another series or the fillable's shared serial).

    A recorded form id may carry a per-file suffix (``FO-2026-N00001@<sha>``); it is ignored.
    """
    m = re.fullmatch(rf"FO-{re.escape(series)}-([0-9]+)", form_id.partition("@")[0])
    return int(m.group(1)) if m else None


def allocate_print_serials(store: Store, series: str, count: int) -> list[str]:
    """``count`` new serials of ``series`` for a print batch, never given before.

    Args:
        store: The product's database.
        series: Four digits, e.g. ``"2026"``.
        count: Copies to print (at least 1).

    Raises:
        ValueError: The series is not four digits, or ``count`` is below 1.
        pipeline.store.DatabaseLockedError: The database stayed locked past its bound.
    """
    if not SERIES_PATTERN.match(series):
        raise ValueError(f"series must be four digits, got {series!r}")

    def highest_used(form_ids: Sequence[str]) -> int:
        return max((n for i in form_ids if (n := serial_number(i, series)) is not None), default=0)

    return [printed_serial(series, n) for n in store.allocate_form_serials(series, count, highest_used)]
