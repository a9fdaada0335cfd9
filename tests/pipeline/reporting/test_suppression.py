"""The small-count rule: primary « < 5 », secondary « s », nothing small recoverable from shown totals."""

from __future__ import annotations

import pytest

from pipeline.reporting.suppression import Equation, Shown, recoverable_small_cells, suppress


def test_a_lone_small_cell_takes_the_smallest_other_cell_of_its_total_with_it() -> None:
    values = {"a": 3, "b": 7, "c": 20, "zero": 0, "total": 30}
    eqs = [Equation.total(["a", "b", "c", "zero"], "total")]
    shown = suppress(values, eqs, printed=values, min_cell=5)
    assert shown == {"a": Shown.SMALL, "b": Shown.SECRET, "c": Shown.VALUE, "zero": Shown.VALUE,
                     "total": Shown.VALUE}
    assert recoverable_small_cells(values, shown, eqs, 5) == []


def test_without_secondary_suppression_the_small_cell_would_be_recomputed() -> None:
    values = {"a": 3, "b": 7, "total": 10}
    eqs = [Equation.total(["a", "b"], "total")]
    naive = {"a": Shown.SMALL, "b": Shown.VALUE, "total": Shown.VALUE}
    assert recoverable_small_cells(values, naive, eqs, 5) == ["a"]


def test_two_small_cells_of_one_total_are_not_enough() -> None:
    # 1 + 1 hidden with a known sum of 2: each is 1. A larger cell must be hidden too.
    values = {"a": 1, "b": 1, "c": 9, "d": 30, "total": 41}
    shown = suppress(values, [Equation.total(["a", "b", "c", "d"], "total")], printed=values, min_cell=5)
    assert shown["c"] is Shown.SECRET and shown["d"] is Shown.VALUE


def test_a_school_hidden_in_its_neighbourhood_is_not_recomputed_from_the_neighbourhood() -> None:
    values = {"s1": 2, "s2": 12, "s3": 40, "n1": 14, "n2": 40, "total": 54}
    eqs = [Equation.total(["s1", "s2"], "n1"), Equation.total(["s3"], "n2"), Equation.total(["n1", "n2"], "total"),
           Equation.total(["s1", "s2", "s3"], "total")]
    shown = suppress(values, eqs, printed=values, min_cell=5)
    assert shown["s1"] is Shown.SMALL and shown["s2"] is Shown.SECRET
    assert recoverable_small_cells(values, shown, eqs, 5) == []


def test_a_difference_of_printed_columns_does_not_give_back_a_small_unprinted_count() -> None:
    # used + declined = oriented; declined (3) is never printed, but oriented - used would give it.
    values = {"oriented": 20, "used": 17, "declined": 3, "left": 3, "capacity": 20}
    eqs = [Equation((("used", 1), ("declined", 1), ("oriented", -1))),
           Equation((("used", 1), ("left", 1), ("capacity", -1)))]
    shown = suppress(values, eqs, printed=["oriented", "used", "left", "capacity"], fixed=["capacity"], min_cell=5)
    assert shown["declined"] is Shown.NOT_PRINTED and shown["capacity"] is Shown.VALUE
    assert recoverable_small_cells(values, shown, eqs, 5) == []


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        suppress({"a": -1}, [], printed=["a"], min_cell=5)
