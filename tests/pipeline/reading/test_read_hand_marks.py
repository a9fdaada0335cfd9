"""Hand-drawn tick marks (issue 3): crosses, checks and overflowing crosses tick; filled boxes cancel. And the
forms of the benchmark's ``scan_hand_marks`` kind that once went wrong."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.benchmark import normalise_value
from pipeline.deciding.decide import decide_form
from pipeline.form.definition import form_v1
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.reading.scan.page import read_scan_page
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from samples.scanner import draw_hand_mark, rasterise_pdf_page, render_filled_pdf, simulate_scan
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import Doubt, Source, TickState

DPI = 300


@pytest.mark.parametrize(("level_marks", "value", "doubt"), [
    ({"CP": "check"}, ["CP"], False),
    ({"CE1": "overflow", "CM2": "cross_then_filled"}, ["CE1"], False),
    ({"6E": "cross", "5E": "filled"}, ["6E"], False),
    ({"CE2": "cross", "CM1": "check"}, ["CE2", "CM1"], True),  # two levels: a person decides
    ({"CE2": "filled"}, [], True),  # the only mark cancelled: no level, a person decides
])
def test_class_level_rule_with_hand_marks(level_marks: dict[str, str], value: list[str], doubt: bool) -> None:
    definition = form_v1()
    pdf = render_filled_pdf({"pupil_surname": "LEFÈVRE"}, "FO-2026-000901")
    grey = np.asarray(rasterise_pdf_page(pdf, 1, DPI)).copy()
    rng = random.Random(len(level_marks))
    boxes = {b.option: b for b in definition.field("class_level").boxes}
    for option, style in level_marks.items():
        draw_hand_mark(grey, boxes[option].rect, style, DPI / 72, rng)  # type: ignore[arg-type]
    scan = simulate_scan(Image.fromarray(grey), DPI, skew_deg=1.5, jpeg_quality=80, rng=rng)

    level = read_scan_page(np.asarray(scan)).fields["class_level"]

    assert level.value == value
    for option, style in level_marks.items():
        want = TickState.CANCELLED if "filled" in style else TickState.TICKED
        assert level.ticks[option] is want, (option, style, level.fill_ratios[option])
    assert (level.confidence < 0.6) is doubt


@pytest.mark.timeout(120)
def test_issue_3_scan_hand_marks_20_a_surname_misread_beside_its_email_goes_to_a_person(
        settings: Settings, directory: Directory, tmp_path: Path) -> None:
    """Seed 2026, scan_hand_marks 20: ``Mme Leclerca, directeur(trice)`` was accepted at 0.89 beside the e-mail
    ``a.leclercq@…`` and the class line ``… Mme Leclercq`` (pipeline.deciding.crosscheck.doubt_name_near_misses)."""
    docs = generate_documents(SampleKind.SCAN_HAND_MARKS, 20, 2026, directory, settings.school_year)
    pages = []
    for doc in docs:
        path = tmp_path / doc.name
        path.write_bytes(doc.data)
        pages += read_received(ingest_file(path, "test", tmp_path / "originals"), settings).pages
    decision = decide_form(pages, settings, directory, {}, lambda _k, _y: None)
    assert decision.outcome is Outcome.REVIEW and decision.form is not None
    truth = docs[0].truth["values"]
    threshold = settings.ocr.text_confidence_min
    for name, field in decision.form.fields.items():
        if field.confidence >= threshold and field.source is not Source.OMR:
            assert normalise_value(form_v1().field(name).kind, field.value) == normalise_value(
                form_v1().field(name).kind, truth[name]), f"{name} accepted wrong"  # type: ignore[index]
    referrer = decision.form.fields["referrer_name"]
    assert referrer.confidence < threshold and referrer.doubt is Doubt.NAME_CONFLICT
    assert {r.field for r in decision.reasons} >= {"referrer_name", "referrer_email"}
