"""The nightly flow with its reading tasks on a local Dask cluster of two workers (prefect-dask, issue 19).

The same forms, read once in the run's own process and once on the cluster, end in the same places with the same
carriers and the same referral data: where a document is read changes nothing of what is decided.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.nightly import nightly
from flows.runner import DASK_PRELOAD, reading_task_runner, with_reading_runner, worker_cores
from pipeline.settings import ScaleSettings, Settings
from pipeline.store import DocumentRow, ReferralRow, Store
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from tests.support.prefect_server import PrefectServer

FORMS = ((SampleKind.TEXT_PDF, 0), (SampleKind.TEXT_PDF, 1), (SampleKind.FILLABLE, 0),
         (SampleKind.SCAN_200_BW_PNG, 0), (SampleKind.NOT_THE_FORM, 0))
"""Typed, fillable and scanned forms (the scan in two files, one per page) and a file that is not the form."""


def _write_inbox(folder: Path, directory: Directory, school_year: str) -> dict[str, dict[str, object]]:
    folder.mkdir()
    truth = {}
    for kind, index in FORMS:
        for doc in generate_documents(kind, index, 19, directory, school_year):
            (folder / doc.name).write_bytes(doc.data)
            truth[doc.name] = doc.truth
    return truth


def _where_each_ended(database_url: str) -> tuple[dict[str, tuple[str, str | None]], dict[str, dict[str, object]]]:
    """File name → (status, form serial); form serial → (carrier, referral data) of the routed referrals."""
    store = Store(database_url)
    try:
        with store.session() as s:
            ends = {d.original_name: (d.status, d.form_id) for d in s.scalars(select(DocumentRow))}
            referrals = {r.form_id: {"carrier": r.carrier_id, "status": r.status, "data": r.data}
                         for r in s.scalars(select(ReferralRow))}
    finally:
        store.close()
    return ends, referrals


def test_the_reading_tasks_on_a_two_worker_dask_cluster_decide_as_a_run_in_one_process(
        on_prefect_server: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        directory: Directory) -> None:
    truth = _write_inbox(tmp_path / "inbox", directory, Settings().school_year)
    results = {}
    for name, scale in (("serial", ScaleSettings()), ("dask", ScaleSettings(dask_workers=2))):
        monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / f'{name}.sqlite3'}")
        monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / f"data-{name}"))
        run = with_reading_runner(nightly, scale)
        summary = run(str(tmp_path / "inbox"))
        assert summary["balanced"] is True and summary["received"] == len(truth), name
        results[name] = (summary, *_where_each_ended(Settings().database_url))

    serial, dask = results["serial"], results["dask"]
    assert dask == serial
    ends, referrals = serial[1], serial[2]
    # And the routes are the right ones: every file where its ground truth says, the typed forms routed with the
    # pupil written on them.
    for file_name, t in truth.items():
        status, _form = ends[file_name]
        if t["kind"].startswith("scan_") and status == "review":
            continue  # a scan may go to a person for a doubtful reading (tests/flows/test_nightly.py)
        assert status == t["expected_outcome"], file_name
    routed = {form: r for form, r in referrals.items() if r["status"] == "routed"}
    assert len(routed) >= 3
    for file_name in ("text_pdf-0000.pdf", "text_pdf-0001.pdf"):
        written = truth[file_name]["values"]
        form = ends[file_name][1]
        assert form is not None and routed[form]["carrier"]
        assert routed[form]["data"]["pupil"]["surname"] == written["pupil_surname"]  # type: ignore[index]


def test_the_runner_is_chosen_by_the_settings() -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    serial = reading_task_runner(ScaleSettings())
    assert isinstance(serial, ThreadPoolTaskRunner) and serial._max_workers == 1
    assert with_reading_runner(nightly, ScaleSettings()) is nightly
    local = reading_task_runner(ScaleSettings(dask_workers=3))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 3
    # The workers' statistical profiler, whose kept samples grew a worker's memory all night, is off.
    import dask

    assert dask.config.get("distributed.worker.profile.enabled") is False
    remote = reading_task_runner(ScaleSettings(dask_address="tcp://10.0.0.5:8786", dask_workers=3))
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    assert isinstance(with_reading_runner(nightly, ScaleSettings(dask_workers=2)).task_runner, DaskTaskRunner)


def test_worker_cores_share_the_machines_cores_out_in_turn() -> None:
    assert worker_cores(0, 1, [0, 1]) == {0}
    assert worker_cores(1, 1, [0, 1]) == {1}
    assert worker_cores(2, 1, [0, 1]) == {0}  # more workers than cores: round again
    assert worker_cores(1, 2, [0, 1, 2, 3]) == {2, 3}
    assert worker_cores(1, 2, [4, 6, 5]) == {4, 6}  # the cores this process may use, in order, wrapping
    with pytest.raises(ValueError, match="no cores"):
        worker_cores(0, 0, [0, 1])


def test_a_local_clusters_workers_and_their_reading_processes_are_bound_to_their_cores(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from distributed import Client, LocalCluster

    from pipeline.reading.limits import run_limited
    from pipeline.settings import LimitSettings

    def cores_of_a_reading_process() -> list[int]:
        return run_limited(_own_cores, (), LimitSettings(document_timeout_s=60.0))

    monkeypatch.setenv("CLAS_SCALE__WORKER_CORES", "1")
    cpus = sorted(os.sched_getaffinity(0))
    runner = reading_task_runner(ScaleSettings(dask_workers=2, worker_cores=1))  # the run's cluster, as it starts it
    assert runner.cluster_kwargs["preload"] == [DASK_PRELOAD]
    with LocalCluster(**runner.cluster_kwargs) as cluster, Client(cluster) as client:
        names = {w.worker_address: name for name, w in cluster.workers.items()}
        bound = client.run(_own_cores)
        read = client.run(cores_of_a_reading_process)
    assert {names[a]: set(c) for a, c in bound.items()} == {i: worker_cores(i, 1, cpus) for i in (0, 1)}
    assert read == bound  # the forkserver and the worker it forks inherit the binding


def _own_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))
