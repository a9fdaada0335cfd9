"""A copier's streak over a text zone (``pipeline.reading.scan.streaks``): does it leave ink the readers see?

Masks are drawn by hand at 300 dpi: a zone's letters are upright bars, the streak a column of the foreign-ink
footprint (found at ``WORK_DPI``) from the top of the page to the bottom.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.form.definition import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, form_v1
from pipeline.reading.scan.foreign_ink import WORK_DPI, ForeignInk
from pipeline.reading.scan.streaks import streak_unseen_in_zones
from pipeline.reading.scan.zones import text_rect
from pipeline.settings import OcrSettings, OmrSettings

S = 300 / 72
"""Pixels per point of the text mask."""
OMR, OCR = OmrSettings(), OcrSettings()
TOWN = form_v1().field("pupil_town")


def _page() -> tuple[np.ndarray, ForeignInk, int]:
    """A text mask whose town zone holds three letters, the footprint of a streak crossing the middle one, and the
    streak's column at 300 dpi."""
    layout = form_v1().pages[TOWN.page - 1]
    area = text_rect(TOWN, layout.qr_codes + layout.anchors, OCR)
    mask = np.zeros((round(PAGE_HEIGHT_PT * S), round(PAGE_WIDTH_PT * S)), np.uint8)
    top, bottom = int((area.top + 4) * S), int((area.top + 11) * S)  # a line of 10 pt type: 7 pt of letters
    for i in range(3):
        x = int((area.x0 + 6 + 8 * i) * S)
        mask[top:bottom, x:x + int(5 * S)] = 1
    streaks = np.zeros((round(PAGE_HEIGHT_PT * WORK_DPI / 72), round(PAGE_WIDTH_PT * WORK_DPI / 72)), bool)
    column = int((area.x0 + 6 + 8 + 2) * WORK_DPI / 72)  # through the second letter
    streaks[:, column:column + 2] = True
    return mask, ForeignInk(np.zeros_like(streaks), streaks), int(column * S * 72 / WORK_DPI)


def _unseen(mask: np.ndarray, foreign: ForeignInk) -> set[str]:
    return streak_unseen_in_zones(mask, foreign, [TOWN], form_v1(), S, OMR, OCR)


def test_a_streak_lighter_than_ink_over_a_zone_leaves_only_the_letters_it_crosses() -> None:
    mask, foreign, _ = _page()
    assert _unseen(mask, foreign) == {"pupil_town"}


def test_a_streak_inked_where_the_zone_is_blank_is_seen() -> None:
    mask, foreign, x = _page()
    mask[:, x:x + 3] = 1  # dark all along: above and below the letters too
    assert _unseen(mask, foreign) == set()


@pytest.mark.parametrize(("width_pt", "seen"), [(1.0, True), (0.25, False)])
def test_a_dash_of_the_streak_standing_alone_among_the_letters_is_seen_unless_smaller_than_a_full_stop(
        width_pt: float, seen: bool) -> None:
    mask, foreign, x = _page()
    layout = form_v1().pages[TOWN.page - 1]
    area = text_rect(TOWN, layout.qr_codes + layout.anchors, OCR)
    mask[int((area.top + 4) * S):int((area.top + 11) * S), int((area.x0 + 6 + 8) * S):int((area.x0 + 6 + 13) * S)] = 0
    side = max(1, round(width_pt * S))
    mask[int((area.top + 6) * S):int((area.top + 6) * S) + side, x:x + side] = 1  # where the letter was
    assert _unseen(mask, foreign) == (set() if seen else {"pupil_town"})


def test_a_zone_the_letters_fill_to_its_edges_cannot_be_told() -> None:
    mask, foreign, _ = _page()
    layout = form_v1().pages[TOWN.page - 1]
    area = text_rect(TOWN, layout.qr_codes + layout.anchors, OCR)
    mask[int(area.top * S):int(area.bottom * S) + 1, int((area.x0 + 40) * S):int((area.x0 + 42) * S)] = 1
    assert _unseen(mask, foreign) == set()


def test_a_streak_clear_of_the_writing_is_taken_out_even_when_another_crosses_the_letters() -> None:
    """Own scan_photocopy (seed 53, form 2): one streak through « Mme », one through the zone's blank part, read « | »
    after the value by Tesseract, before and after the second reading past the streaks."""
    from pipeline.reading.scan.pixels import crop_rect
    from pipeline.reading.scan.streaks import drop_clear_streaks

    mask, foreign, x = _page()
    layout = form_v1().pages[TOWN.page - 1]
    area = text_rect(TOWN, layout.qr_codes + layout.anchors, OCR)
    mask[:, x:x + 3] = 1  # the first streak, dark down the page through the middle letter
    clear_col = int((area.x0 + 120) * WORK_DPI / 72)  # the second, 90 pt right of the last letter
    foreign.streaks[:, clear_col:clear_col + 2] = True
    clear_x = int(clear_col * S * 72 / WORK_DPI)
    mask[:, clear_x:clear_x + 3] = 1
    expected = mask.copy()
    expected[:, clear_x - 4:clear_x + 7] = 0

    writing, dropped = drop_clear_streaks(mask, foreign, {"pupil_town"}, form_v1(), TOWN.page, S, OMR, OCR)

    assert dropped == set()  # the streak through the letters still holds the zone for a person
    zone, kept = crop_rect(writing, area, S), crop_rect(expected, area, S)
    assert np.array_equal(zone, kept)  # the clear streak gone; the letters and the first streak untouched
    assert crop_rect(mask, area, S)[:, :].sum() > zone.sum()  # the page's own mask unchanged
    assert np.array_equal(writing[:int(area.top * S) - 2], mask[:int(area.top * S) - 2])  # outside the zone too


def test_the_broken_pieces_of_one_streak_are_one_streak_and_two_streaks_are_two() -> None:
    """A streak lighter than the ink threshold in places reaches the mask in pieces down its column: a piece above a
    letter, tested alone, was clear of it sideways, and taking it out took the stroke of an accent (« LEFÈVRE » read
    « LEFÉVRE » by PP-OCRv6, make test at a5ff0dc)."""
    from pipeline.reading.scan.streaks import streak_columns

    streak = np.zeros((60, 200), np.uint8)
    streak[0:12, 40:43] = streak[20:35, 41:44] = streak[45:60, 40:42] = 1  # one streak, three pieces, wavering
    streak[:, 150:152] = 1                                                   # a second, whole
    columns = streak_columns(streak)
    assert len(columns) == 2
    assert columns[0].sum() == 36 + 45 + 30 and not columns[0][:, 100:].any()
    assert columns[1].sum() == 120 and not columns[1][:, :100].any()
    assert streak_columns(np.zeros((10, 10), np.uint8)) == []


def test_a_streak_is_judged_seen_on_its_own_footprint_whatever_another_streaks_footprint() -> None:
    """A clear streak taken out of the zone leaves its footprint and no ink: pooled with it, a faint streak through
    the letters, dotted every 5 rows, fell under the ink share that tells a streak the readers see (review of
    a5ff0dc)."""
    mask, foreign, x = _page()
    layout = form_v1().pages[TOWN.page - 1]
    area = text_rect(TOWN, layout.qr_codes + layout.anchors, OCR)
    mask[int(area.top * S):int(area.bottom * S):5, x:x + 1] = 1  # a pixel every 5 rows: 3 % of its footprint
    assert _unseen(mask, foreign) == set()
    column = int((area.x0 + 120) * WORK_DPI / 72)
    foreign.streaks[:, column:column + 2] = True  # the other streak's footprint, its ink already taken out
    assert _unseen(mask, foreign) == set()


def _chosen(value: str, tesseract: str, ppocr: str, confidence: float, rules: tuple[str, ...]):  # noqa: ANN202
    from schemas.extraction import ExtractedField, Reader, ReaderReading, Source, ZoneBox

    return ExtractedField(name="guardian2_first_name", value=value, confidence=confidence, source=Source.OCR, page=2,
                          zone=ZoneBox(x0=0, top=0, x1=1, bottom=1), rules=rules,
                          readings=(ReaderReading(reader=Reader.TESSERACT, value=tesseract),
                                    ReaderReading(reader=Reader.PPOCR, value=ppocr)))


def test_only_a_reader_that_read_the_chosen_value_clears_a_streaks_hold() -> None:
    """A review's case (2026-12-06): a streak read as the ``l`` of « Lilian » by Tesseract, the given-name lexicon
    choosing it, PP-OCRv6 reading « Lian » with and without the streak. PP-OCRv6's steadiness says nothing of the
    chosen reading: the streak keeps holding the field. Tesseract's own steadiness, or PP-OCRv6's when its reading was
    chosen, clears it; a field held anyway for its differing readers is cleared by either, as before."""
    from pipeline.reading.scan.page import _clear_where_a_reader_agrees
    from schemas.extraction import Reader

    accepted = OcrSettings().text_confidence_min
    chosen = ("readers_differ", "first_name_lexicon")
    cases = {
        "lexicon_chose_tesseract": (_chosen("Lilian", "Lilian", "Lian", 0.8, chosen), {Reader.PPOCR: "Lian"}, False),
        "tesseract_steady": (_chosen("Lilian", "Lilian", "Lian", 0.8, chosen),
                             {Reader.TESSERACT: "Lilian", Reader.PPOCR: "Lian"}, True),
        "lexicon_chose_ppocr": (_chosen("Lian", "Lilian", "Lian", 0.8, chosen), {Reader.PPOCR: "Lian"}, True),
        "held_anyway": (_chosen("Lilian", "Lilian", "Lian", 0.44, ("readers_differ",)), {Reader.PPOCR: "Lian"}, True),
        "a_reader_changed": (_chosen("Lian", "Lilian", "Lian", 0.8, chosen), {Reader.PPOCR: "Lan"}, False),
    }
    for case, (field, again, clears) in cases.items():
        fields = {field.name: field}
        cleared = _clear_where_a_reader_agrees(fields, {field.name: again}, accepted)
        assert (cleared == {field.name}) is clears, case
        assert ("streak_reread_agrees" in fields[field.name].rules) is clears, case


def test_a_combs_digits_are_its_value_whatever_its_separators() -> None:
    from pipeline.reading.scan.page import _reads_value

    assert _reads_value("14062018", "14/06/2018") and not _reads_value("14062013", "14/06/2018")
    assert _reads_value("Lian", "Lian") and not _reads_value("Lilian", "Lian")
    assert not _reads_value("20", "Rue 20") and not _reads_value("Lian", None)
