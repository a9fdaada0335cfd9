"""The benchmark's own scoring (issue 3): schools by the school they designate, wrong values on accepted forms."""

from __future__ import annotations

from bench.benchmark import (
    _school_designated,
    _school_year_designated,
    _town_designated,
    bench_kind,
    reliability_table,
)
from pipeline.settings import Settings
from samples.kinds import SampleKind
from schemas.directory import Directory


def test_a_school_is_scored_by_the_directory_school_it_designates(directory: Directory) -> None:
    assert _school_designated("Cig Claude Monet", directory) == _school_designated("Clg Claude Monet", directory)
    assert _school_designated("Clg Claude Monet", directory) != _school_designated("Clg JJ Rousseau", directory)
    assert _school_designated("École des Trois Lunes", directory) == "École des Trois Lunes"  # matches none


def test_a_town_is_scored_by_the_lexicon_town_it_spells() -> None:
    # Photo of seed 2026 (issue 3): the form's "ARGENTEUIL", kept as the lexicon's "Argenteuil", was scored wrong.
    assert _town_designated("ARGENTEUIL") == _town_designated("Argenteuil") == "town:Argenteuil"
    assert _town_designated("MONTIGNY LES CORMEILLES") == _town_designated("Montigny-lès-Cormeilles")
    assert _town_designated("Argenteull") == "Argenteull"  # a misreading spells no town: it stays wrong
    assert _town_designated("Bezons") != _town_designated("Argenteuil")


def test_digital_forms_score_every_accepted_field_right(settings: Settings) -> None:
    figures = bench_kind(SampleKind.TEXT_PDF, 2, 7, settings)
    assert figures.forms == 2 and figures.routed == 2
    assert figures.fields == figures.fields_exact > 50
    assert figures.accepted_fields == figures.fields and figures.accepted_wrong == 0


def test_a_form_sent_to_review_accepts_no_field(settings: Settings) -> None:
    figures = bench_kind(SampleKind.INVALID_UNKNOWN_SCHOOL, 1, 7, settings)
    assert figures.auto_decided == 0 and figures.accepted_fields == 0
    assert figures.fields == figures.fields_exact  # the unknown school is scored as the text written


def test_forms_benchmarked_side_by_side_sum_to_the_same_figures(settings: Settings) -> None:
    alone = bench_kind(SampleKind.INVALID_TWO_LEVELS, 3, 5, settings, workers=1)
    side_by_side = bench_kind(SampleKind.INVALID_TWO_LEVELS, 3, 5, settings, workers=2)
    timing = {"seconds_reading", "reference_seconds", "reference_pages"}
    assert {k: v for k, v in alone.as_dict().items() if k not in timing | {"seconds_per_page"}} == \
        {k: v for k, v in side_by_side.as_dict().items() if k not in timing | {"seconds_per_page"}}
    assert alone.forms == 3 and alone.expected_outcome_met == 3


def test_a_tick_box_under_a_stamp_is_counted_for_a_person_not_as_read_wrong(settings: Settings) -> None:
    """scan_stamped 0 of seed 7: a stamp lands on a tick box; its question goes to a person with its crop."""
    figures = bench_kind(SampleKind.SCAN_STAMPED, 1, 7, settings)
    assert figures.ticks == 46 and figures.ticks_right == 45
    assert figures.ticks_to_person == 1 and figures.ticks_wrong_confident == 0


def test_a_school_year_is_scored_by_the_year_it_designates() -> None:
    assert _school_year_designated("2026 2027") == _school_year_designated("2026-2027") == "year:2026-2027"
    assert _school_year_designated("2026-27") == "year:2026-2027"
    assert _school_year_designated("2026-2028") == "2026-2028"  # not a school year: stays text, and wrong


def test_the_reliability_table_gives_the_share_right_per_confidence_band() -> None:
    scored = [(0.05, False), (0.15, False), (0.15, True), (0.95, True), (1.0, True), (0.97, False)]

    table = reliability_table(scored)

    assert len(table) == 10 and [b.fields for b in table] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 3]
    assert table[0].share_right == 0.0 and table[1].share_right == 0.5 and table[2].share_right is None
    assert table[9].share_right == round(2 / 3, 4) and table[9].mean_confidence == round((0.95 + 1.0 + 0.97) / 3, 4)
    assert reliability_table([(1.0, True)])[9].share_right == 1.0  # one class only
    assert all(b.fields == 0 for b in reliability_table([]))


def test_digital_forms_are_scored_into_the_top_band(settings: Settings) -> None:
    figures = bench_kind(SampleKind.TEXT_PDF, 1, 7, settings)
    bands = figures.as_dict()["reliability"]
    assert bands[-1]["fields"] == figures.fields and bands[-1]["share_right"] == 1.0  # type: ignore[index]
