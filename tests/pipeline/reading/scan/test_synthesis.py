"""Verification by synthesis choosing, span by span, between two readings of a typed zone
(``pipeline.reading.scan.synthesis``, issue 16): on the ink of generated forms, against their truth."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.reading.scan.synthesis import choose_by_synthesis, differing_spans
from pipeline.reading.scan.text_zones import TYPED_VALUE_FONTS
from pipeline.settings import IcrSettings
from samples.kinds import SampleKind
from tests.support.text_zones import TextZone, text_zones

ICR = IcrSettings()

CONFUSIONS = {"l": "I", "1": "l", "e": "é", "o": "0", "a": "à", "i": "í", "n": "m", "c": "e", "S": "$", "t": "f",
              "r": "n", "u": "v"}
"""A letter and what a reader takes it for: the confusions the two readers made on the devset and the project's scans
(``CEI`` for CE1, ``Henrì``, ``LEUÈVRE``, ``CLA$``, ``coordonhatrice``…)."""


def _misread(value: str, at: int) -> str:
    return value[:at] + CONFUSIONS[value[at]] + value[at + 1:]


def _choose(zone: TextZone, first: str, second: str):  # noqa: ANN202
    return choose_by_synthesis(zone.mask, first, second, zone.px_per_pt, TYPED_VALUE_FONTS, ICR)


@pytest.mark.parametrize(("kind", "index"), [(SampleKind.SCAN_200_BW_PNG, 0), (SampleKind.SCAN_PHOTOCOPY, 0),
                                             (SampleKind.SCAN_HAND_MARKS, 0)])
def test_a_misread_letter_is_decided_for_the_reading_the_ink_shows(kind: SampleKind, index: int) -> None:
    """Each zone's first confusable letter misread by one reader, in either order: never decided for the misreading,
    and decided for the truth in at least half the zones (a speck-sized difference, an accent or ``L. Michel`` /
    ``L. Míchel`` on a 200 dpi 1-bit scan, leads by less than the margin and stays undecided)."""
    pairs = [(z, _misread(z.value, at)) for z in text_zones(kind, index)
             if (at := next((k for k, ch in enumerate(z.value) if ch in CONFUSIONS), None)) is not None]
    outcomes = []
    for zone, wrong in pairs:
        for first, second in ((zone.value, wrong), (wrong, zone.value)):
            choice = _choose(zone, first, second)
            assert choice is not None
            outcomes.append(choice.value if choice.decided else None)
            assert not choice.decided or choice.value == zone.value, (zone.name, first, second)
    assert len(pairs) >= 8
    assert sum(v is not None for v in outcomes) >= len(outcomes) // 2


def test_each_span_is_decided_on_its_own_and_the_value_takes_spans_from_both_readings() -> None:
    """Each reader misreads a different letter (a fax's « Ses … maison. » / « ses … maison, »): neither reading is the
    truth, and the value made of each span's winner is."""
    zones = [z for z in text_zones(SampleKind.SCAN_200_BW_PNG, 0) if len(z.value) >= 12]
    assert len(zones) >= 4
    for zone in zones:
        v = zone.value
        first = v[:2] + ("x" if v[2] != "x" else "y") + v[3:]
        second = v[:-3] + ("x" if v[-3] != "x" else "y") + v[-2:]
        choice = _choose(zone, first, second)
        assert choice is not None and choice.decided, zone.name
        assert choice.value == v
        assert [s.winner for s in choice.spans] == [v[2], v[-3]]


@pytest.mark.parametrize(("one", "other"), [("x", "z"), ("o", "u"), ("m", "w")])
def test_two_wrong_readings_of_a_letter_are_not_chosen_between(one: str, other: str) -> None:
    """The lesser of two misreadings does not fit the ink (phone photo r0005: « Fléve » / « E léva » for Élève)."""
    zones = [z for z in text_zones(SampleKind.SCAN_200_BW_PNG, 0) if len(z.value) >= 12]
    for zone in zones:
        v = zone.value
        if v[4] in (one, other):
            continue
        choice = _choose(zone, v[:4] + one + v[5:], v[:4] + other + v[5:])
        assert choice is not None and not choice.decided, zone.name


def test_a_handwritten_zone_is_not_chosen_for() -> None:
    """A hand is not the value font: the better reading's fit over the zone stays under the typed threshold."""
    zones = text_zones(SampleKind.SCAN_HANDWRITTEN, 2)
    tried = 0
    for zone in zones:
        at = next((k for k, ch in enumerate(zone.value) if ch in CONFUSIONS), None)
        if at is None:
            continue
        choice = _choose(zone, zone.value, _misread(zone.value, at))
        tried += 1
        assert choice is None or (not choice.decided and choice.f_measure < ICR.typed_rendering_match_min)
    assert tried >= 8


def test_equal_or_missing_readings_and_an_empty_zone_give_nothing_to_compare() -> None:
    zone = np.zeros((60, 400), np.uint8)
    zone[20:40, 10:300] = 1
    px_per_pt = 300 / 72
    assert choose_by_synthesis(zone, "CE1 B", "CE1 B", px_per_pt, TYPED_VALUE_FONTS, ICR) is None
    assert choose_by_synthesis(zone, "", "CE1 B", px_per_pt, TYPED_VALUE_FONTS, ICR) is None
    assert choose_by_synthesis(np.zeros_like(zone), "CE1 B", "CEI B", px_per_pt, TYPED_VALUE_FONTS, ICR) is None
    assert differing_spans("CEI B", "CE1 B") == [(2, 3, 2, 3)]
    assert differing_spans("rendez-vou", "rendez-vous") == [(10, 10, 10, 11)]


def test_an_address_is_chosen_only_on_a_known_mail_domain() -> None:
    """The zone's ink is the rendering of the address itself, so each span is decided; an address on an unknown
    domain is still left to a person (``clas-referrals notify`` writes to it)."""
    from pipeline.form.definition import form_v1
    from pipeline.form.fonts import VALUE_FONT
    from pipeline.reading.scan.choices import synthesis_choice
    from pipeline.reading.scan.synthesis import render_reading
    from pipeline.settings import OcrSettings

    ocr = OcrSettings()
    field = form_v1().field("referrer_email")
    px_per_pt = 300 / 72
    for address, known in (("c.roy@ac-versailles.fr", True), ("c.roy@acversailles.fr", False)):
        rendering = render_reading(address, px_per_pt, VALUE_FONT, ICR.rendering_ink_grey_max)
        assert rendering is not None
        zone = np.pad(rendering.glyphs, 12)
        misread = address.replace("roy", "r0y")
        made = choose_by_synthesis(zone, misread, address, px_per_pt, TYPED_VALUE_FONTS, ICR)
        assert made is not None and made.decided and made.value == address
        choice = synthesis_choice(field, zone, misread, address, px_per_pt, ocr)
        assert (choice is not None and choice.value == address and choice.rule == "synthesis_chooses") is known
        assert choice is None or choice.confidence == ocr.readers_chosen_confidence
