"""30 reviewers at once on loopback: no error, no lost decision, page time measured (issue 17).

The suite runs it for ``CLAS_LOAD_DURATION_S`` seconds (5 by default); the full measure is
``python -m bench.desk_load --duration 60`` (:mod:`bench.desk_load`).
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.desk_load import measure

REVIEWERS = 30
DURATION_S = float(os.environ.get("CLAS_LOAD_DURATION_S", "5"))


def test_thirty_reviewers_decide_concurrently_without_error_or_lost_decision(tmp_path: Path) -> None:
    report = measure(REVIEWERS, DURATION_S, tmp_path)
    print(report.line())
    assert report.errors == []
    assert report.decided, "no decision was made under load"
    assert report.lost == []
    assert report.requests >= REVIEWERS  # every reviewer got pages
    assert report.percentile(95) > 0
