"""No personal data outside the database: logs, Prefect logs and artifacts, the summary, file modes.

Runs the whole nightly flow on forms carrying distinctive invented names, phone
numbers and addresses (``tests/support/distinctive_forms.py``), with every logger at DEBUG, then
searches every captured line, every log the Prefect server received and every
artifact for them.
"""

from __future__ import annotations

import logging
import stat
import time
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select

from flows.nightly import nightly
from pipeline.settings import Settings
from pipeline.store import DocumentRow, ReferralRow, Store
from schemas.directory import Directory
from tests.support.distinctive_forms import PUPIL_SURNAME, find_secrets, write_distinctive_inbox


def test_personal_data_never_reaches_logs_artifacts_or_summary(
        harness: None, tmp_path: Path, settings: Settings, directory: Directory,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    files = write_distinctive_inbox(tmp_path / "inbox", directory)
    caplog.set_level(logging.DEBUG)
    for name in ("prefect", "pipeline", "flows"):
        caplog.set_level(logging.DEBUG, logger=name)

    state = nightly(str(tmp_path / "inbox"), return_state=True)
    summary = state.result()

    # The run did handle the personal data (else the search proves nothing).
    assert summary["received"] == len(files) and summary["balanced"]
    store = Store(settings.database_url)
    with store.session() as s:
        surnames = [r.data["pupil"]["surname"] for r in s.scalars(select(ReferralRow))]
        names = [d.original_name for d in s.scalars(select(DocumentRow))]
    store.close()
    assert PUPIL_SURNAME in surnames and any(PUPIL_SURNAME in n for n in names)
    assert summary["routed"] == 1 and summary["review"] == 2 and summary["duplicate"] == 1

    lines = [r.getMessage() for r in caplog.records]
    lines += [r.exc_text or "" for r in caplog.records]
    # The capture sees the pipeline's own debug-level loggers and the flow's logger.
    assert any(line.startswith("routing: routed to") for line in lines), lines
    assert any(line.startswith("run ") for line in lines), lines
    out, err = capfd.readouterr()
    prefect_logs, artifacts = prefect_server_logs_and_artifacts(state.state_details.flow_run_id)
    assert prefect_logs and artifacts
    from pipeline.stages import RunSummary

    run = RunSummary(int(summary["received"]), {k: int(v) for k, v in summary.items()  # type: ignore[call-overload]
                                                if k in ("routed", "waiting_list", "review", "quarantined",
                                                         "duplicate")},
                     int(summary["already_processed"]), dict(summary["reasons"]))  # type: ignore[call-overload]
    places = {"caplog": "\n".join(lines), "stdout": out, "stderr": err, "prefect logs": "\n".join(prefect_logs),
              "artifacts": "\n".join(artifacts), "summary": repr(summary) + run.line() + run.markdown()}
    leaks = {where: find_secrets(text) for where, text in places.items() if find_secrets(text)}
    assert not leaks, leaks


def prefect_server_logs_and_artifacts(flow_run_id: UUID, timeout_s: float = 30.0) -> tuple[list[str], list[str]]:
    """Every log message and artifact the Prefect server holds for one flow run (its task runs' included), once
    the run's logs have reached it.

    Prefect sends logs to its server in batches from a background worker, so a read made
    right after the flow returns can come before the last batch (it did once in CI, on a busy
    machine: no log at all). The worker is drained first, then the server is read until it
    holds logs of the run or ``timeout_s`` seconds have passed. The server is the test session's, shared with
    other tests' runs: only this run's are read.
    """
    from prefect import get_client
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    page = 200  # the server's default and largest page
    only_run = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))

    def run_logs(client: SyncPrefectClient) -> list[str]:
        messages: list[str] = []
        while True:
            batch = client.read_logs(log_filter=only_run, limit=page, offset=len(messages))
            messages += [log.message for log in batch]
            if len(batch) < page:
                return messages

    APILogWorker.drain_all(timeout=timeout_s)
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            logs = run_logs(client)
            if logs or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        artifacts = [str(a.data) + str(a.description) for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))]
    return logs, artifacts


def test_stored_files_and_database_are_owner_only(harness: None, tmp_path: Path, settings: Settings,
                                                  directory: Directory) -> None:
    write_distinctive_inbox(tmp_path / "inbox", directory)
    nightly(str(tmp_path / "inbox"))

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    db = Path(settings.database_url.removeprefix("sqlite:///"))
    assert mode(db) == 0o600
    assert mode(settings.data_dir) == 0o700
    originals = settings.data_dir / "originals"
    assert mode(originals) == 0o700
    kept = list(originals.iterdir())
    assert len(kept) == 3  # three distinct contents
    assert {mode(p) for p in kept} == {0o600}
