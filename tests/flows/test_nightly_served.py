"""The nightly deployment on a real Prefect server: registered with its Paris schedule, run, summarised.

``clas-referrals serve`` runs in a subprocess, as in production: it registers the
deployment on the server and polls it for runs. The test triggers a run through
the server (``run_deployment``), waits for it to end, and reads the run's summary
artifact back through the server's API.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from flows.nightly import FLOW_NAME, NIGHTLY_CRON, NIGHTLY_TIMEZONE
from tests.conftest import PROJECT, SAMPLES_INBOX
from tests.support.prefect_server import PrefectServer, clean_env, stop_group

SMALL_INBOX = ("text_pdf-0000.pdf", "text_pdf-0000_renvoi.pdf", "not_the_form-0000.pdf")
"""Text PDFs only (read in well under a second each): one form, its copy, one document that is not the form."""
DEPLOYMENT = f"{FLOW_NAME}/nightly"
REGISTER_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 120.0


def _wait_for_deployment(client, serve: subprocess.Popen[bytes], log: Path):  # noqa: ANN001, ANN202
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + REGISTER_TIMEOUT_S
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise RuntimeError("clas-referrals serve stopped:\n" + log.read_text(errors="replace")[-3000:])
        try:
            return client.read_deployment_by_name(DEPLOYMENT)
        except ObjectNotFound:
            time.sleep(0.5)
    raise TimeoutError(f"{DEPLOYMENT} not registered after {REGISTER_TIMEOUT_S} s")


def _scheduled_runs(client, deployment_id, minimum: int):  # noqa: ANN001, ANN202
    """The deployment's scheduled runs once the server's scheduler has made at least ``minimum``."""
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + 30
    runs = []
    while time.monotonic() < deadline:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.SCHEDULED]))))
        if len(runs) >= minimum:
            return runs
        time.sleep(1)
    return runs


def test_served_nightly_deployment_runs_through_the_server(prefect_api: PrefectServer, tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey
    from prefect.client.schemas.objects import FlowRun
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in SMALL_INBOX:
        shutil.copy(SAMPLES_INBOX / name, inbox / name)
    env = clean_env(PREFECT_API_URL=prefect_api.api_url, PREFECT_HOME=str(tmp_path / "serve-home"),
                    PREFECT_RUNNER_POLL_FREQUENCY="1",
                    CLAS_DATABASE_URL=f"sqlite:///{tmp_path / 'clas.sqlite3'}",
                    CLAS_DATA_DIR=str(tmp_path / "data"), CLAS_INBOX_DIR=str(inbox))
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve"], cwd=PROJECT, env=env,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_api.api_url}), \
                get_client(sync_client=True) as client:
            deployment = _wait_for_deployment(client, serve, log)

            # Registered with its cron schedule in Paris time, active.
            [schedule] = deployment.schedules
            assert (schedule.schedule.cron, schedule.schedule.timezone) == (NIGHTLY_CRON, NIGHTLY_TIMEZONE)
            assert schedule.active
            # The server's scheduler plans the next nights at 02:00 Paris time, one run a night.
            planned = _scheduled_runs(client, deployment.id, minimum=3)
            assert len(planned) >= 3
            local = sorted(r.expected_start_time.astimezone(ZoneInfo(NIGHTLY_TIMEZONE)) for r in planned)
            assert {(t.hour, t.minute) for t in local} == {(2, 0)}
            assert len({t.date() for t in local}) == len(local)
            assert all(b - a >= timedelta(hours=23) for a, b in pairwise(local))

            # A run triggered through the server is picked up by the served process and completes.
            flow_run = run_deployment(DEPLOYMENT, timeout=RUN_TIMEOUT_S, poll_interval=1)
            assert isinstance(flow_run, FlowRun) and flow_run.state is not None
            assert flow_run.state.is_completed(), (flow_run.state, log.read_text(errors="replace")[-3000:])

            # Its summary artifact is on the server, with the counts of the small inbox.
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["clas-run-summary"]),
                flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id])))
            assert len(artifacts) == 1
            markdown = str(artifacts[0].data)
            assert f"| **reçues** | **{len(SMALL_INBOX)}** |" in markdown
    finally:
        stop_group(serve)
