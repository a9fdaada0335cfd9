"""Dask worker preload: start the reading workers' forkserver when a Dask worker starts.

Give it to each worker (``dask worker tcp://scheduler:8786 --preload flows.dask_preload``; a local cluster of
``CLAS_SCALE__DASK_WORKERS`` gets it by itself, ``flows.runner``). The forkserver loads the readers and their
models once (``pipeline.reading.worker_preload``: the comb digit model, the second reader, the given-name
lexicon, about 3-5 s on a 2-core machine), so a long-lived worker pays it at its start and never in a run.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)


def dask_setup(_worker: Any) -> None:  # noqa: ANN401 - distributed.Worker, imported by Dask itself
    """Called by Dask when the worker starts: bind it to its cores (``CLAS_SCALE__WORKER_CORES``, a local cluster's
    workers only: :func:`flows.runner.bind_worker`), then start the forkserver (one trivial call in a reading
    worker), which the binding reaches with every reading process it forks.

    A failure is logged, not raised: the worker still serves, unbound, and its first document starts the forkserver
    (and reports what is wrong with the installation) as it would without the preload.
    """
    from flows.runner import bind_worker
    from pipeline.reading.limits import run_limited
    from pipeline.settings import LimitSettings, Settings

    try:
        cores = bind_worker(getattr(_worker, "name", None), Settings().scale.worker_cores)
        if cores is not None:
            logger.info("Dask worker bound to cores %s", sorted(cores))
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning("Dask worker not bound to its cores: %s", type(exc).__name__)
    try:
        run_limited(os.getpid, (), LimitSettings(document_timeout_s=120.0))
    except Exception as exc:  # noqa: BLE001 - see the docstring
        logger.warning("reading workers not warmed at start: %s", type(exc).__name__)
