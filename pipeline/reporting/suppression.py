"""Which counts of the yearly report are shown: the small-count rule (issue 20).

The rule, as the report states it to its readers:

1. **Primary.** A count from 1 to ``min_cell - 1`` (1 to 4 with the default ``CLAS_REPORT__MIN_CELL=5``) is
   never shown: it reads « < 5 ». A zero is shown (it names nobody).
2. **Secondary.** A hidden count must not be recoverable from the counts that are shown. Every total the
   report prints is an equation between cells (the rows of a table add up to its total; the schools of a
   neighbourhood add up to the neighbourhood; the places used by a carrier plus its places left make its
   capacity...). While some equation would give back a small count, another cell of that equation is hidden
   too (the smallest shown count of at least ``min_cell``, or failing one a zero), and reads « s » (« secret »,
   as INSEE marks it).
   A hidden « s » must not be recoverable either (a mask one can undo masks nothing). A hidden count is taken
   as recoverable when

   * it is the exact solution of the shown counts (a linear-algebra test over all the equations together:
     the cell's unit vector lies in the row space of the equations restricted to the hidden cells), or
   * an equation's hidden cells are all small counts (then their known sum bounds each below 5 anyway,
     e.g. two hidden cells adding up to 2 are both 1).

The figures themselves come from :mod:`pipeline.reporting.figures`; this module only decides what is shown.
Cells that a table never prints (e.g. refusals per carrier, the difference of two printed columns) take
part as unknowns, so a difference of two printed counts cannot give back a small one either.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np


class Shown(StrEnum):
    """How one count appears in the report."""

    VALUE = "value"
    """The number itself."""
    SMALL = "small"
    """A count from 1 to ``min_cell - 1``: « < 5 »."""
    SECRET = "secret"
    """A larger count hidden so that a small one cannot be recomputed: « s »."""
    NOT_PRINTED = "not_printed"
    """A cell the report never prints (it only takes part in equations)."""


@dataclass(frozen=True)
class Equation:
    """A relation readers know between cells: ``sum(coefficient * value) == 0``.

    Attributes:
        terms: ``(cell key, coefficient)`` pairs, e.g. ``(("level:CM1", 1), ("level:CM2", 1), ("total", -1))``.
    """

    terms: tuple[tuple[str, int], ...]

    @classmethod
    def total(cls, parts: Iterable[str], whole: str) -> Equation:
        """``sum(parts) == whole``."""
        return cls(tuple((p, 1) for p in parts) + ((whole, -1),))

    @property
    def cells(self) -> tuple[str, ...]:
        """The cells the equation names."""
        return tuple(k for k, _ in self.terms)


def label(shown: Shown, value: int, min_cell: int) -> str:
    """The text of a cell: its number, « < 5 » or « s » (French; « < 5 » names ``min_cell``)."""
    if shown is Shown.VALUE:
        return f"{value:n}" if value < 1000 else f"{value:,}".replace(",", "\u202f")
    if shown is Shown.SMALL:
        return f"< {min_cell}"
    return "s"


def _is_small(value: int, min_cell: int) -> bool:
    return 0 < value < min_cell


def _determined(cell: str, unknown: Sequence[str], equations: Sequence[Equation]) -> bool:
    """Whether ``cell`` is fixed by the equations once every cell outside ``unknown`` is known."""
    index = {k: i for i, k in enumerate(unknown)}
    rows = []
    for eq in equations:
        row = np.zeros(len(unknown))
        for k, c in eq.terms:
            if k in index:
                row[index[k]] += c
        if row.any():
            rows.append(row)
    if not rows:
        return False
    a = np.array(rows)
    unit = np.zeros(len(unknown))
    unit[index[cell]] = 1.0
    return bool(np.linalg.matrix_rank(np.vstack([a, unit])) == np.linalg.matrix_rank(a))


def suppress(values: Mapping[str, int], equations: Sequence[Equation], *, printed: Iterable[str],
             fixed: Iterable[str] = (), min_cell: int) -> dict[str, Shown]:
    """Decide how each cell is shown (rule in the module docstring).

    Args:
        values: Every cell's count (printed or not), by key.
        equations: Relations readers know between cells.
        printed: Keys of the cells the report prints; the others are :attr:`Shown.NOT_PRINTED`.
        fixed: Printed cells that are public anyway and never hidden (a carrier's capacity).
        min_cell: Smallest count shown (``ReportSettings.min_cell``).

    Returns:
        Key → how it is shown, for every key of ``values``.

    Raises:
        KeyError: An equation names a cell missing from ``values``.
        ValueError: A count is negative.
    """
    if any(v < 0 for v in values.values()):
        raise ValueError("counts cannot be negative")
    for eq in equations:
        for k in eq.cells:
            if k not in values:
                raise KeyError(k)
    printed_set, fixed_set = set(printed), set(fixed)
    shown: dict[str, Shown] = {}
    for k, v in values.items():
        if k not in printed_set:
            shown[k] = Shown.NOT_PRINTED
        elif _is_small(v, min_cell) and k not in fixed_set:
            shown[k] = Shown.SMALL
        else:
            shown[k] = Shown.VALUE

    def unknown(k: str) -> bool:
        return shown[k] is not Shown.VALUE

    def sensitive(k: str) -> bool:
        return unknown(k) and _is_small(values[k], min_cell)

    def hide_one_more(eq: Equation) -> bool:
        # The smallest shown count of at least min_cell; failing one, a shown zero (« s » hides it as well).
        candidates = [k for k in eq.cells if shown[k] is Shown.VALUE and k not in fixed_set
                      and (values[k] >= min_cell or values[k] == 0)]
        if not candidates:
            return False
        shown[min(candidates, key=lambda k: (values[k] == 0, values[k], k))] = Shown.SECRET
        return True

    changed = True
    while changed:
        changed = False
        for eq in equations:
            hidden = [k for k in eq.cells if unknown(k)]
            if hidden and all(sensitive(k) for k in hidden) and hide_one_more(eq):
                changed = True
        if changed:
            continue
        unknowns = [k for k in values if unknown(k)]
        for k in unknowns:
            # A small count must stay unknown; so must a hidden « s » (a mask that can be undone masks nothing).
            if (sensitive(k) or shown[k] is Shown.SECRET) and _determined(k, unknowns, equations):
                if any(hide_one_more(eq) for eq in equations if k in eq.cells):
                    changed = True
                    break
    return shown


def recoverable_small_cells(values: Mapping[str, int], shown: Mapping[str, Shown], equations: Sequence[Equation],
                            min_cell: int) -> list[str]:
    """Hidden cells a reader could compute back from what is shown: small ones, and printed « s » ones (empty
    when the rule held); for tests."""
    unknowns = [k for k in values if shown[k] is not Shown.VALUE]
    return [k for k in unknowns if (_is_small(values[k], min_cell) or shown[k] is Shown.SECRET)
            and _determined(k, unknowns, equations)]
