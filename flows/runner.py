"""Where a run's reading tasks run: one at a time beside the run, or on a Dask cluster (prefect-dask).

The nightly flow submits one reading task per document to its task runner (``flows.nightly``). By default the
runner is Prefect's thread pool with one thread: documents are read one at a time, each in its reading worker
process (``pipeline.reading.limits``), as before issue 19. ``CLAS_SCALE__DASK_ADDRESS`` sends them to an existing
Dask cluster, one machine or several (``docs/deployment.md``); ``CLAS_SCALE__DASK_WORKERS=N`` starts a local
cluster of N worker processes for the run. Deciding and recording stay in the flow's own process, in inbox order,
so a run's outcomes do not depend on where or in what order the documents were read.

Dask and prefect-dask are imported only when a cluster is asked for: they cost a second of imports that a run
on one machine need not pay.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from prefect.task_runners import ThreadPoolTaskRunner

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.task_runners import TaskRunner

    from pipeline.settings import ScaleSettings

F = TypeVar("F", bound="Flow[Any, Any]")

SERIAL_READERS = 1
"""Documents read at once without Dask: one, as before issue 19 (each already in its own worker process, under
``CLAS_LIMITS__DOCUMENT_MEMORY_MIB``; several at once on one machine is what a local Dask cluster is for)."""
DASK_PRELOAD = "flows.dask_preload"
"""Module each worker of a local cluster loads at start (its readers warm before the first document)."""


def serial_task_runner() -> TaskRunner[Any]:
    """Prefect's thread pool of :data:`SERIAL_READERS` thread: the reading tasks one at a time, beside the run."""
    return ThreadPoolTaskRunner(max_workers=SERIAL_READERS)


def reading_task_runner(scale: ScaleSettings) -> TaskRunner[Any]:
    """The task runner for the reading tasks these settings ask for.

    Args:
        scale: ``dask_address`` (an existing scheduler, ``tcp://host:8786``) wins over ``dask_workers`` (a local
            cluster of that many worker processes, one thread each); neither gives Prefect's thread pool of
            :data:`SERIAL_READERS` thread.

    Returns:
        A task runner, not started (the flow run starts it, and stops a local cluster at its end).
    """
    if not scale.dask_address and scale.dask_workers <= 0:
        return serial_task_runner()
    import dask

    # A Dask worker is a daemon process by default, and a daemon process may not start children; the reading
    # limits start reading worker processes (pipeline.reading.limits), so the workers must not be daemons.
    # Dask's own INFO lines (workers joining and leaving) would bury the run's progress on stderr.
    # A worker samples its threads' stacks every 10 ms for the dashboard's profile and keeps them: on 200 forms (288
    # files) of the 1,000-form benchmark's inbox, one worker's PSS grew from 209 to 242 MiB; without the profiler
    # it stayed at 183-185 MiB, and the run took 325 s instead of 350 s (issue 19, measured at 032df8d). A cluster
    # started apart (docs/deployment.md) is told the same by DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False.
    dask.config.set({"distributed.worker.daemon": False, "logging.distributed": "warning",
                     "distributed.worker.profile.enabled": False})
    from prefect_dask import DaskTaskRunner

    if scale.dask_address:
        return DaskTaskRunner(address=scale.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": scale.dask_workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": ":0",
                                          "preload": [DASK_PRELOAD]})


def worker_cores(index: int, per_worker: int, cpus: Sequence[int]) -> set[int]:
    """The cores worker ``index`` of a local cluster is bound to: ``per_worker`` of ``cpus`` (the cores this process
    may use, in order), starting at ``index × per_worker`` and wrapping round them (``ScaleSettings.worker_cores``).

    Raises:
        ValueError: ``per_worker`` is under 1, ``index`` negative or ``cpus`` empty.
    """
    if per_worker < 1 or index < 0 or not cpus:
        raise ValueError(f"no cores for worker {index} ({per_worker} a worker, of {len(cpus)} cores)")
    ordered = sorted(cpus)
    return {ordered[(index * per_worker + k) % len(ordered)] for k in range(per_worker)}


def bind_worker(name: object, per_worker: int) -> set[int] | None:
    """Bind this process (a Dask worker of a local cluster, named by its index) and the processes it will start to
    :func:`worker_cores`; the cores bound, or ``None`` when ``per_worker`` is 0, the name is not an index (a worker
    started apart: bind it with ``taskset``), or the system has no CPU affinity (not Linux)."""
    if per_worker <= 0 or not isinstance(name, int) or not hasattr(os, "sched_setaffinity"):
        return None
    cores = worker_cores(name, per_worker, list(os.sched_getaffinity(0)))
    os.sched_setaffinity(0, cores)
    return cores


def with_reading_runner(flow: F, scale: ScaleSettings) -> F:
    """``flow`` with the task runner of :func:`reading_task_runner` (a copy; ``flow`` itself is left as it is)."""
    if not scale.dask_address and scale.dask_workers <= 0:
        return flow
    return cast(F, flow.with_options(task_runner=reading_task_runner(scale)))
