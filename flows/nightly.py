"""The nightly Prefect flow: read the inbox, decide every form, account for every file.

This module only wraps ``pipeline`` stages as Prefect tasks and orders them; it
reads top to bottom like the run it describes. Tasks pass paths, ids and small
records, never open clients, PDFs or images (PrefectHQ/prefect#16042). Retries,
with exponential backoff, are on the I/O tasks only (the database connection, ingest).
A run that fails e-mails staff once (:func:`flows.tasks.alert_staff`, ``pipeline.runs.alerts``).
The tasks and hook both nightly flows share live in ``flows.tasks``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture

from flows.runner import serial_task_runner, with_reading_runner
from flows.tasks import (
    ProgressCallback,
    alert_staff,
    close_interrupted_runs,
    connect_task,
    notify_task,
    read_task,
    receive_task,
    record_run_failure,
    settle_forms,
)
from pipeline.intake.ingest import list_inbox
from pipeline.privacy.retention import purge
from pipeline.reading.calibration import with_fitted_thresholds
from pipeline.settings import Settings
from pipeline.stages import (
    FileResult,
    FormGroup,
    RunContext,
    RunSummary,
    close_run_contexts,
    decide_and_record,
    is_duplicate,
    run_context,
    summarise,
)
from schemas.document import ReceivedDocument

if TYPE_CHECKING:  # the readers are imported by the reading task (issue 19: a run's fixed cost)
    from pipeline.reading.document import DocumentReading

FLOW_NAME = "clas-nightly"
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/Paris"


@task(cache_policy=NO_CACHE)
def decide_task(settings: Settings, run_id: int, group: FormGroup) -> list[FileResult]:
    """Decide one form and record it."""
    return decide_and_record(run_context(settings), run_id, group)


@task(cache_policy=NO_CACHE)
def purge_task(settings: Settings) -> dict[str, int]:
    """Apply the retention rules after the run (counts only come back)."""
    report = purge(run_context(settings).store, settings.retention, data_dir=settings.data_dir)
    return {"originals": report.originals, "forms": report.forms, "documents": report.documents}


@flow(name=FLOW_NAME, log_prints=False, validate_parameters=False, on_failure=[alert_staff],
      on_crashed=[alert_staff], task_runner=serial_task_runner())
def nightly(inbox: str | None = None, progress: ProgressCallback | None = None) -> dict[str, object]:
    """Process every file of the inbox folder and return the run's accounting.

    Args:
        inbox: Folder to read; ``CLAS_INBOX_DIR`` (default ``samples/inbox``) when omitted.
        progress: Called with a short, anonymous label after each file (for a progress bar).

    Returns:
        The run summary as a dict (see :meth:`pipeline.stages.RunSummary.as_dict`).

    Raises:
        FileNotFoundError: The inbox folder does not exist.
        sqlalchemy.exc.OperationalError: The database did not answer, retries included.
        pipeline.store.RunAlreadyActiveError: Another run is processing on this database.
    """
    settings = with_fitted_thresholds(Settings())  # thresholds fitted on verified fields (clas-referrals calibrate)
    folder = Path(inbox) if inbox else settings.inbox_dir
    source = f"folder:{folder.resolve()}"
    try:
        paths = list_inbox(folder)
        connect_task(settings, check_readers=bool(paths))  # an empty inbox reads nothing (issue 19)
        ctx = run_context(settings)
        with ctx.store.exclusive_run():  # a second run at once stops here (RunAlreadyActiveError)
            return _process_inbox(settings, ctx, paths, source, progress)
    finally:
        close_run_contexts()


def _process_inbox(settings: Settings, ctx: RunContext, paths: list[Path], source: str,
                   progress: ProgressCallback | None) -> dict[str, object]:
    """The body of :func:`nightly`, under the run lock: one run's stages in order."""
    logger = get_run_logger()
    close_interrupted_runs(ctx, FLOW_NAME)
    run_id = ctx.store.start_run(source)
    logger.info("run %s: %d file(s) in the inbox", run_id, len(paths))
    try:
        return _run_stages(settings, ctx, run_id, paths, source, progress)
    except Exception as exc:
        record_run_failure(ctx, run_id, exc)
        raise


def _run_stages(settings: Settings, ctx: RunContext, run_id: int, paths: list[Path], source: str,
                progress: ProgressCallback | None) -> dict[str, object]:
    """The stages of one folder run, in order, for the run ``run_id``."""
    logger = get_run_logger()

    results: list[FileResult] = []
    pending: list[PrefectFuture[DocumentReading]] = []
    duplicates: list[ReceivedDocument] = []
    seen: set[str] = set()
    for path in paths:
        received = receive_task(settings, path, source)
        if isinstance(received, FileResult):
            results.append(received)
        elif is_duplicate(ctx, received, seen):
            duplicates.append(received)
        else:
            seen.add(received.sha256)
            # Read by the flow's task runner: one at a time beside the run, or on a Dask cluster (flows.runner).
            pending.append(read_task.submit(settings, received))
            continue
        if progress:
            progress("réception")
    readings = _results_in_order(pending, progress)  # inbox order, wherever they were read

    results += settle_forms(ctx, run_id, readings, duplicates, lambda group: decide_task(settings, run_id, group))

    summary: RunSummary = summarise(results)
    ctx.store.finish_run(run_id, summary.as_dict())
    logger.info("run %s: %s", run_id, summary.as_dict())
    purged = purge_task(settings)
    logger.info("run %s: retention purge: %s", run_id, purged)
    logger.info("run %s: teacher notices: %s", run_id, notify_task(settings))
    create_markdown_artifact(key="clas-run-summary", markdown=summary.markdown(),
                             description="Compte de l'exécution CLAS")
    return summary.as_dict()


def _results_in_order(pending: list[PrefectFuture[DocumentReading]],
                      progress: ProgressCallback | None) -> list[DocumentReading]:
    """The readings of ``pending``, in its order, each future let go once its reading is here (``pending`` is
    emptied): a Dask worker keeps a task's result until the future that owns it is gone, so holding every future
    to the end kept every reading of the night in the workers' memory. Issue 19: on 1,000 forms (1,439 files) the
    one Dask worker peaked at 517 MiB, against 240 MiB on 100 forms; on the first 200 files of that inbox, letting
    each future go brought its peak from 148 to 138 MiB (a reading is 6-15 KB pickled, some 50 KB in memory), so
    the readings explain a part of that growth only."""
    readings: list[DocumentReading] = []
    pending.reverse()  # popped from the end: the inbox's first file first
    while pending:
        future = pending.pop()
        readings.append(future.result())
        if progress:
            progress("lecture")
    return readings


def nightly_deployment(settings: Settings | None = None):  # noqa: ANN201 - Prefect's RunnerDeployment is internal
    """The deployment serving :func:`nightly` (the inbox folder) every night at 02:00 Europe/Paris.

    Serve it with ``clas-referrals serve`` (a Prefect server or Prefect Cloud URL in
    ``PREFECT_API_URL``); the schedule follows Paris local time across DST changes. Its reading tasks run
    where ``CLAS_SCALE__*`` says (:mod:`flows.runner`).
    """
    from prefect.schedules import Cron

    flow_ = with_reading_runner(nightly, (settings or Settings()).scale)
    return flow_.to_deployment(name="nightly", schedules=[Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE)],
                                 description="Lecture nocturne du dossier des fiches d'orientation CLAS")


def nightly_deployments(settings: Settings):  # noqa: ANN201 - Prefect's RunnerDeployment type is internal
    """What ``clas-referrals serve`` serves: the shared mailbox when one is configured, else the folder.

    With ``CLAS_MAIL__HOST`` set, the nightly run reads the IMAP mailbox
    (``flows.mail_intake``) at 02:00 Europe/Paris; without it, the inbox folder.
    """
    if not settings.mail.host:
        return [nightly_deployment(settings)]
    from prefect.schedules import Cron

    from flows.mail_intake import mail_intake

    return [mail_intake.to_deployment(name="nightly-mail",
                                      schedules=[Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE)],
                                      description="Lecture nocturne de la boîte aux lettres des fiches CLAS")]


