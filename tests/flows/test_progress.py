"""Progress of the long commands on stderr, never on stdout (issue 19)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from flows import progress as progress_module
from flows.progress import progress_line


def test_a_plain_stream_gets_french_lines_with_counts_and_the_last_one_always(
        monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()  # not a terminal: plain lines
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_S", 3600.0)  # only the first and last lines
    with progress_line("Lecture des fiches", 3, out) as advance:
        for _ in range(3):
            advance()
    assert out.getvalue().splitlines() == ["Lecture des fiches : 0/3 (0 %), 0 s",
                                           "Lecture des fiches : 3/3 (100 %), 0 s"]


def test_items_counted_only_as_they_come_are_counted_without_a_total(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_S", 3600.0)
    with progress_line("Lecture des messages", None, out) as advance:
        for _ in range(4):
            advance()
    assert out.getvalue().splitlines() == ["Lecture des messages : 0, 0 s", "Lecture des messages : 4, 0 s"]


def test_a_run_stopped_early_says_where_it_stopped() -> None:
    out = io.StringIO()
    with pytest.raises(RuntimeError), progress_line("Lecture des fiches", 5, out) as advance:
        advance()
        raise RuntimeError("stopped")
    assert out.getvalue().splitlines() == ["Lecture des fiches : 0/5 (0 %), 0 s",
                                           "Lecture des fiches : 1/5 (20 %), 0 s"]


def test_samples_reports_its_progress_on_stderr_and_its_result_on_stdout(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    code = main(["samples", "--out", str(tmp_path / "inbox"), "--per-kind", "2", "--kinds", "text_pdf", "fillable",
                 "--seed", "3"])
    captured = capsys.readouterr()
    assert code == 0
    assert "Génération des fiches : 4/4 (100 %)" in captured.err
    assert "Génération" not in captured.out and captured.out.startswith("4 fichier(s) écrit(s)")
    truth = sorted(p.name for p in (tmp_path / "inbox_truth").iterdir())
    assert len(truth) == 4 and all(json.loads((tmp_path / "inbox_truth" / n).read_text())["values"] for n in truth)


def test_calibrate_reports_its_progress_over_a_simulated_corpus_on_stderr(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    assert main(["samples", "--out", str(tmp_path / "corpus"), "--per-kind", "2", "--kinds", "text_pdf",
                 "--seed", "3"]) == 0
    capsys.readouterr()
    code = main(["calibrate", "--simulate", str(tmp_path / "corpus"), "--dry-run"])
    captured = capsys.readouterr()
    assert code == 0  # typed PDFs: no constrained reading to verify, the thresholds in force are kept
    assert "Lecture du corpus à vérifier : 2/2 (100 %)" in captured.err
    assert "Lecture du corpus" not in captured.out
