"""Reading scanned pages end to end against the values that were typed on them (ground truth).

Pages are rendered FILLED with invented values, scanned by ``samples.scanner.simulate_scan``
(300 dpi grey JPEG, 200 dpi black-and-white with skew, upside down), read by
``read_scan_page`` and compared field by field.

Known weak spot, measured over 20 random forms: short class names such as ``CM1 B`` are
sometimes read ``CM1B``/``CM B`` and a lone ``A`` as ``À`` by tesseract's ``fra`` model, mostly with a
low confidence that sends the form to review; the fixed values below avoid that case so that
the test pins the reader's behaviour, not tesseract's variance.
"""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from pipeline.form.definition import Field, FieldKind, form_v1
from pipeline.form.render import _text_fits
from pipeline.reading.scan.page import read_scan_page
from samples.scanner import render_filled_pdf, simulate_scan
from schemas.extraction import FormValues, RawValue, Source, TickState, format_comb, normalise_text

FORM_ID = "FO-2026-000417"

VALUES: FormValues = {
    "school_year": "2026-2027",
    "referral_date": "02/10/2026",
    "referrer_role": ["enseignant"],
    "pupil_surname": "LEFÈVRE",
    "pupil_first_name": "Noémie",
    "pupil_birth_date": "14/03/2016",
    "pupil_sex": ["F"],
    "pupil_address": "12 rue Paul Vaillant-Couturier",
    "pupil_postcode": "95100",
    "pupil_town": "Argenteuil",
    "school_name": "École élémentaire Jules Ferry",
    "class_level": ["CM1"],
    "class_name": "Mme Dupont (CM1)",  # "CM1 B" is a known weak spot (see the module docstring)
    "referrer_email": "m.dupont@ac-versailles.fr",
    "existing_support": ["APC", "RASED"],
    "criteria_method": ["methode", "devoirs"],
    "criteria_attitude": ["confiance"],
    "criteria_family": ["aide_maison", "parents_francais"],
    "observations": "Élève volontaire mais très dispersée en classe.",
    "p2_pupil_surname": "LEFÈVRE",
    "p2_pupil_first_name": "Noémie",
    "guardian1_surname": "LEFÈVRE",
    "guardian1_first_name": "Hélène",
    "guardian1_relationship": ["mere"],
    "guardian1_phone": "0612345678",
    "guardian1_email": "helene.lefevre@example.fr",
    "home_languages": "Français, arabe",
    "interpreter_needed": ["non"],
    "agreement_orientation": True,
    "agreement_data_sharing": True,
    "family_date": "05/10/2026",
    "family_signature": True,
    "referrer_name": "Marie Dupont, professeure des écoles",
    "referrer_date": "06/10/2026",
    "referrer_signature": True,
}
"""Page 1 leaves ``criteria_language``, ``criteria_other`` and its text empty; page 2 leaves guardian 2 empty."""


def expected_value(field: Field, values: FormValues) -> RawValue:
    """What a perfect reader returns for ``field`` given the typed ``values`` (schemas.extraction shapes)."""
    v = values.get(field.name)
    if field.kind is FieldKind.FLAG or field.kind is FieldKind.SIGNATURE:
        return bool(v)
    if field.kind is FieldKind.CHOICE:
        chosen = set(v or [])  # type: ignore[arg-type]
        return [b.option for b in field.boxes if b.option in chosen]
    if not v:
        return None
    if field.is_comb:
        return format_comb(field.kind, str(v))
    text = normalise_text(_text_fits(str(v), field.rect))
    return text.replace(" ", "").lower() if text and field.kind is FieldKind.EMAIL else text


@pytest.fixture(scope="module")
def filled_pdf() -> bytes:
    return render_filled_pdf(VALUES, FORM_ID, signature_seed=7)


def _scan(pdf: bytes, page: int, dpi: int, mode: str, skew: float, seed: int, **kw: object) -> np.ndarray:
    image = simulate_scan(pdf, dpi, page=page, mode=mode, skew_deg=skew, offset_pt=(2.0, -1.5),  # type: ignore[arg-type]
                          jpeg_quality=80 if mode == "grey" else None, rng=random.Random(seed), **kw)  # type: ignore[arg-type]
    return np.asarray(image)


def _assert_page_matches(result_fields: dict, page: int, values: FormValues) -> None:
    wrong = {}
    for field in form_v1().page_fields(page):
        got = result_fields[field.name].value
        want = expected_value(field, values)
        if got != want:
            wrong[field.name] = (want, got)
    assert not wrong, f"fields read wrong (expected, got): {wrong}"


@pytest.mark.parametrize(("dpi", "mode", "skew"), [(300, "grey", 1.2), (200, "bw", -2.8)])
@pytest.mark.parametrize("page", [1, 2])
def test_every_field_matches_ground_truth(filled_pdf: bytes, page: int, dpi: int, mode: str, skew: float,
                                          ) -> None:
    result = read_scan_page(_scan(filled_pdf, page, dpi, mode, skew, seed=page * 10 + dpi))

    assert result.identity.form_id == FORM_ID and result.identity.page == page
    assert result.dpi == pytest.approx(dpi, abs=10)
    assert not result.handwritten  # typed from the AcroForm
    _assert_page_matches(result.fields, page, VALUES)
    if (page, dpi, mode) == (1, 200, "bw"):
        # In the page's strip Tesseract reads "Vaillant" as "Vatlant" on this 1-bit 200 dpi page (issue 16, held for
        # a person until the third reading); alone on its zone at 300 dpi it reads PP-OCRv6's "Vaillant".
        address = result.fields["pupil_address"]
        assert "third_reading_agrees" in address.rules and address.readings[-1].value == VALUES["pupil_address"]
    for name, f in result.fields.items():
        field = form_v1().field(name)
        assert f.source is (Source.OMR if field.is_tick or field.kind is FieldKind.SIGNATURE else Source.OCR)
        if field.is_tick:
            assert set(f.ticks) == {b.option for b in field.boxes} == set(f.fill_ratios)
            assert f.confidence >= 0.8, f"{name} read right but with confidence {f.confidence:.2f}"
    ocr_confidences = [f.confidence for f in result.fields.values() if f.source is Source.OCR]
    # Word confidences are noisy (a lone "B" may score 0.5 though right): judge the page, not each zone.
    assert np.mean(ocr_confidences) >= 0.7


def test_stage_times_cover_every_stage_of_a_read_page(filled_pdf: bytes) -> None:
    image = _scan(filled_pdf, 1, 300, "grey", 0.8, seed=3)
    start = time.perf_counter()
    result = read_scan_page(image)
    wall = time.perf_counter() - start

    stages = result.stage_seconds
    threads = ("tesseract_text", "tesseract_mail", "tesseract_combs", "second_reader", "crops", "realign")
    main = ("identify_register", "ink", "zones", "waiting_for_realign", "combs", "tick_boxes", "waiting_for_ocr",
            "hands", "fields", "constrained")
    assert set(stages) == set(threads) | set(main)
    assert all(seconds > 0 for k, seconds in stages.items() if k != "waiting_for_realign"), stages
    # The main thread's stages run one after another within the call; the threads overlap them, and the page waits
    # at most for the longest of them (every one had started before the wait).
    assert sum(stages[k] for k in main) <= wall
    assert stages["waiting_for_ocr"] <= max(stages[k] for k in threads)


def test_page_upside_down_is_turned_and_read(filled_pdf: bytes) -> None:
    image = np.ascontiguousarray(np.rot90(_scan(filled_pdf, 2, 200, "grey", 1.5, seed=3), 2))

    result = read_scan_page(image, dpi_hint=200)

    assert result.quarter_turns == 2
    _assert_page_matches(result.fields, 2, VALUES)


def test_cancelled_box_is_not_a_tick_and_two_levels_lower_confidence() -> None:
    definition = form_v1()
    level = definition.field("class_level")
    ce2 = next(b for b in level.boxes if b.option == "CE2")
    values = dict(VALUES, class_level=["CE2", "CM1"], existing_support=["APC"])
    pdf = render_filled_pdf(values, FORM_ID)
    # CE2 was ticked, then blacked out: the printed rule says that cancels it.
    result = read_scan_page(_scan(pdf, 1, 300, "grey", -1.0, seed=5, cancelled_boxes_pt=[ce2.rect]))

    levels = result.fields["class_level"]
    assert levels.value == ["CM1"]
    assert levels.ticks["CE2"] is TickState.CANCELLED and levels.ticks["CM1"] is TickState.TICKED
    assert levels.ticks["CP"] is TickState.EMPTY
    assert levels.confidence >= 0.8

    two = read_scan_page(_scan(render_filled_pdf(dict(VALUES, class_level=["CE2", "CM1"]), FORM_ID), 1, 200, "bw",
                               2.0, seed=6))
    assert two.fields["class_level"].value == ["CE2", "CM1"]
    assert two.fields["class_level"].confidence < 0.5  # EXACTLY_ONE broken: review


def test_empty_zones_are_none_with_high_confidence(filled_pdf: bytes) -> None:
    result = read_scan_page(_scan(filled_pdf, 2, 300, "grey", 0.5, seed=8))

    for name in ("guardian2_surname", "guardian2_phone", "guardian2_email"):
        assert result.fields[name].value is None
        assert result.fields[name].confidence >= 0.9
    assert result.fields["guardian2_relationship"].value == []
