"""Scoring a corpus folder with truth (bench.corpus): the devset's layout, read through the run's stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.corpus import corpus_figures, load_corpus
from flows.cli import _stage_table
from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from samples.generator import SampleKind, generate_documents


def _write_corpus(root: Path, kinds: list[tuple[SampleKind, int, str]]) -> None:
    """A corpus in the devset's layout: the generated files in inbox/, one truth file per referral."""
    settings = Settings()
    directory = load_directory(settings.directory_file)
    (root / "inbox").mkdir(parents=True)
    (root / "truth").mkdir()
    for kind, index, profile in kinds:
        docs = generate_documents(kind, index, 2026, directory, settings.school_year)
        for doc in docs:
            (root / "inbox" / doc.name).write_bytes(doc.data)
        rid = f"r{index:04d}-{kind.value}"
        truth = {"id": rid, "profile": profile, "hand": "typed", "handwriting": False, "format": "pdf",
                 "files": [d.name for d in docs], "values": docs[0].truth["values"]}
        (root / "truth" / f"{rid}.json").write_text(json.dumps(truth), encoding="utf-8")


def test_a_corpus_is_scored_per_referral_and_outcome_against_the_validator(tmp_path: Path) -> None:
    _write_corpus(tmp_path, [(SampleKind.TEXT_PDF, 0, "printed"), (SampleKind.INVALID_NO_AGREEMENT, 1, "printed")])

    figures = {f.kind: f for f in corpus_figures(tmp_path, Settings(), keys=("all", "profile"))}

    everything = figures["all"]
    assert everything.forms == 2
    assert everything.fields == 2 * 43 and everything.fields_exact == everything.fields  # a text layer reads exact
    assert everything.ticks == 2 * 46 and everything.ticks_right == everything.ticks
    assert everything.auto_decided == 1 and everything.routed == 1  # the valid one, routed with no person
    assert everything.expected_outcome_met == 2  # the one without agreement went to review, as its truth says
    assert everything.misroutes == 0 and everything.accepted_wrong == 0 and everything.accepted_fields == 43
    assert figures["profile=printed"].forms == 2
    assert everything.timed_pages == 0 and everything.stage_seconds == {}  # text layers: no scan stage to time


def test_scanned_pages_bring_their_stage_times_to_the_per_stage_table(tmp_path: Path) -> None:
    _write_corpus(tmp_path, [(SampleKind.SCAN_200_BW_PNG, 0, "flatbed"), (SampleKind.TEXT_PDF, 1, "printed")])

    figures = corpus_figures(tmp_path, Settings(), keys=("all", "profile"))

    everything = next(f for f in figures if f.kind == "all")
    assert everything.timed_pages == 2  # the scan's two pages; the text PDF's are not scanned
    # The bare tesseract reference timed each scan page, right after its file was read; the text PDF has none.
    assert everything.reference_pages == 2 and everything.reference_seconds > 0
    per_page = everything.stage_seconds_per_page
    assert {"identify_register", "ink", "tesseract_text", "second_reader", "waiting_for_ocr"} <= set(per_page)
    assert all(seconds > 0 for seconds in per_page.values())
    main_thread = ("identify_register", "ink", "zones", "realign", "combs", "tick_boxes", "waiting_for_ocr", "hands",
                   "fields", "constrained")  # one after another inside each page's reading, which the run timed whole
    assert sum(everything.stage_seconds[k] for k in main_thread) <= everything.seconds_reading
    console = Console(record=True, width=150)
    console.print(_stage_table("Temps par étape", figures))
    text = console.export_text()
    assert "PP-OCRv6 : toutes les zones" in text and "identification et recalage" in text
    assert "pages scannées" in text and "│      2 │" in text


def test_a_truth_naming_a_missing_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "truth").mkdir()
    (tmp_path / "truth" / "r0000-x.json").write_text(json.dumps(
        {"id": "r0000-x", "profile": "clean", "hand": "typed", "handwriting": False, "format": "pdf",
         "files": ["r0000-x.pdf"], "values": {}}), encoding="utf-8")

    with pytest.raises(FileNotFoundError, match="r0000-x.pdf"):
        load_corpus(tmp_path)
