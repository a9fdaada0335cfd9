"""The scale benchmark's parts (issue 19): the mix of kinds, the process tree's memory, the night's estimate."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.scale import MIB, ScaleFigures, ScaleRun, TreeMemory, estimate_night, mixed_kinds, prefect_server_used
from samples.kinds import SampleKind


def test_the_forms_cycle_through_every_kind() -> None:
    kinds = list(SampleKind)
    pairs = mixed_kinds(2 * len(kinds) + 1)
    assert pairs[: len(kinds)] == [(k, 0) for k in kinds]
    assert pairs[len(kinds)] == (kinds[0], 1) and pairs[-1] == (kinds[0], 2)
    assert {k for k, _ in pairs} == set(kinds)


def test_the_memory_of_a_child_process_counts_in_the_tree() -> None:
    # A child holding 200 MiB of its own (written, so resident) must show in the tree's peak.
    code = "import sys, time; b = bytearray(200 * 1024 * 1024); sys.stdout.write('ok\\n'); sys.stdout.flush(); " \
           "time.sleep(3)"
    with TreeMemory(interval_s=0.1) as memory:
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stdout.readline() == "ok\n"
        memory.sample()
        child.wait(timeout=30)
    alone = TreeMemory()
    alone.sample()
    assert memory.peak_processes >= 2
    assert memory.peak_pss - alone.peak_pss > 180 * MIB
    assert memory.peak_rss >= memory.peak_pss


def test_the_estimate_is_the_measured_rate_applied_to_the_night() -> None:
    run = ScaleRun(workers=2, forms=100, files=120, wall_s=600.0, forms_per_minute=10.0, peak_pss_mib=800.0,
                   peak_rss_mib=1200.0, peak_processes=9, outcomes={})
    figures = ScaleFigures(forms=100, kinds=24, generation_s=60.0, runs=(run,), speedup=None)
    assert estimate_night(figures, 5000) == {2: 5000 / 10.0 / 60}


def test_the_figures_say_whether_the_prefect_server_was_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    assert prefect_server_used() == "temporary"  # started by the command: a process of the measured tree
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert prefect_server_used() == "http://127.0.0.1:4200/api"  # long-lived: outside the tree


def test_a_kept_inbox_is_reused_only_for_the_same_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.scale as scale
    from pipeline.settings import Settings

    made: list[tuple[int, int]] = []

    def fake_generate(folder: Path, forms: int, seed: int, _settings: Settings, _progress: object) -> int:
        folder.mkdir(parents=True)
        for i in range(forms):
            (folder / f"f{i}.pdf").write_bytes(b"%PDF-")
        made.append((forms, seed))
        return forms

    @contextmanager
    def show(_label: str, _total: int) -> Iterator[Callable[[], None]]:
        yield lambda: None

    monkeypatch.setattr(scale, "generate_inbox", fake_generate)
    settings = Settings()

    inbox, files, _ = scale._generated_inbox(tmp_path, 3, 7, settings, show, reuse=True)
    again = scale._generated_inbox(tmp_path, 3, 7, settings, show, reuse=True)
    other_seed = scale._generated_inbox(tmp_path, 3, 8, settings, show, reuse=True)

    assert (inbox, files) == (tmp_path / "inbox", 3) and again[:2] == (inbox, 3)
    assert made == [(3, 7), (3, 8)]  # the second call reused the first's forms; another seed made new ones
    assert sorted(p.name for p in inbox.iterdir()) == ["f0.pdf", "f1.pdf", "f2.pdf"] and other_seed[1] == 3
    assert json.loads((tmp_path / scale.GENERATED_MANIFEST).read_text())["seed"] == 8
