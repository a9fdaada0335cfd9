"""The nightly Prefect flow: read the inbox, decide every form, account for every file.

This module only wraps ``pipeline`` stages as Prefect tasks and orders them; it
reads top to bottom like the run it describes. Tasks pass paths, ids and small
records, never open clients, PDFs or images (PrefectHQ/prefect#16042). Retries,
with exponential backoff, are on the I/O tasks only (the database connection, ingest).
A run that fails e-mails staff once (:func:`alert_staff`, ``pipeline.runs.alerts``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from sqlalchemy import text

from pipeline.intake.ingest import list_inbox
from pipeline.privacy.retention import purge
from pipeline.reading.document import DocumentReading
from pipeline.runs.alerts import AlertStatus, describe_failure, send_alert
from pipeline.settings import Settings
from pipeline.stages import (
    FileResult,
    FormGroup,
    RunContext,
    RunSummary,
    close_run_contexts,
    decide_and_record,
    group_forms,
    is_duplicate,
    read_file,
    receive_file,
    record_duplicate,
    record_failure,
    run_context,
    summarise,
)
from schemas.document import ReceivedDocument

FLOW_NAME = "clas-nightly"
NIGHTLY_CRON = "0 2 * * *"
NIGHTLY_TIMEZONE = "Europe/Paris"

ProgressCallback = Callable[[str], None]

IO_RETRIES = 3
IO_BACKOFF = exponential_backoff(backoff_factor=5)
"""Waits before the 1st, 2nd and 3rd retry of an I/O task: 5, 10 and 20 s (35 s in all), long enough
for a database, IMAP or SMTP server restarting at night, short enough to end the run within minutes."""
IO_JITTER = 0.2
"""Each wait varies by up to ±20 % so that tasks failing together do not retry together."""


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER, cache_policy=NO_CACHE)
def connect_task(settings: Settings) -> None:
    """Open the database and check it answers (I/O: retried with backoff).

    A context whose opening failed is not kept (:func:`pipeline.stages.run_context`), so a
    retry opens it afresh; an open one checks out a live connection from its pool.
    """
    with run_context(settings).store.session() as session:
        session.execute(text("SELECT 1"))


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER, cache_policy=NO_CACHE)
def receive_task(settings: Settings, path: Path, source: str) -> ReceivedDocument | FileResult:
    """Ingest one file (I/O: retried with backoff)."""
    return receive_file(run_context(settings), path, source)


@task(cache_policy=NO_CACHE)
def read_task(settings: Settings, doc: ReceivedDocument) -> DocumentReading:
    """Read one document's pages."""
    return read_file(run_context(settings), doc)


@task(cache_policy=NO_CACHE)
def decide_task(settings: Settings, run_id: int, group: FormGroup) -> list[FileResult]:
    """Decide one form and record it."""
    return decide_and_record(run_context(settings), run_id, group)


@task(cache_policy=NO_CACHE)
def purge_task(settings: Settings) -> dict[str, int]:
    """Apply the retention rules after the run (counts only come back)."""
    report = purge(run_context(settings).store, settings.retention, data_dir=settings.data_dir)
    return {"originals": report.originals, "forms": report.forms, "documents": report.documents}


def alert_staff(flow: Any, flow_run: Any, state: Any) -> None:  # noqa: ANN401 - Prefect's hook signature
    """Failure hook of the nightly flows: e-mail staff once (``CLAS_ALERTS__*``), without personal data.

    Prefect calls it once, when the run enters its final Failed state. It never raises:
    a failing alert must not hide the run's own error.

    Args:
        flow: The flow that failed.
        flow_run: Its run (name and id are put in the alert).
        state: The Failed state (its exception's code or type is put in the alert, never its message).
    """
    try:
        settings = Settings()
        error = state.result(raise_on_failure=False)
        failure = describe_failure(flow.name, str(flow_run.name), str(flow_run.id), datetime.now(UTC),
                                   error if isinstance(error, BaseException) else None)
        status = send_alert(settings.alerts, settings.mail.smtp, failure)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        get_run_logger().warning("staff alert not sent: %s", type(exc).__name__)
        return
    if status is not AlertStatus.DISABLED:
        get_run_logger().info("staff alert: %s", status.value)


@flow(name=FLOW_NAME, log_prints=False, validate_parameters=False, on_failure=[alert_staff])
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
    settings = Settings()
    folder = Path(inbox) if inbox else settings.inbox_dir
    source = f"folder:{folder.resolve()}"
    try:
        paths = list_inbox(folder)
        connect_task(settings)
        ctx = run_context(settings)
        with ctx.store.exclusive_run():  # a second run at once stops here (RunAlreadyActiveError)
            return _process_inbox(settings, ctx, paths, source, progress)
    finally:
        close_run_contexts()


def _process_inbox(settings: Settings, ctx: RunContext, paths: list[Path], source: str,
                   progress: ProgressCallback | None) -> dict[str, object]:
    """The body of :func:`nightly`, under the run lock: one run's stages in order."""
    logger = get_run_logger()
    run_id = ctx.store.start_run(source)
    logger.info("run %s: %d file(s) in the inbox", run_id, len(paths))

    results: list[FileResult] = []
    readings = []
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
            readings.append(read_task(settings, received))
        if progress:
            progress("lecture")

    results += settle_forms(ctx, run_id, readings, duplicates, lambda group: decide_task(settings, run_id, group))

    summary: RunSummary = summarise(results)
    ctx.store.finish_run(run_id, summary.as_dict())
    logger.info("run %s: %s", run_id, summary.as_dict())
    purged = purge_task(settings)
    logger.info("run %s: retention purge: %s", run_id, purged)
    create_markdown_artifact(key="clas-run-summary", markdown=summary.markdown(),
                             description="Compte de l'exécution CLAS")
    return summary.as_dict()


def settle_forms(ctx: RunContext, run_id: int, readings: list[DocumentReading], duplicates: list[ReceivedDocument],
                 decide: Callable[[FormGroup], list[FileResult]]) -> list[FileResult]:
    """The second half of every run: quarantine what failed, decide each form, then record duplicates.

    Duplicates are recorded last, once the first copy of their content is. ``decide``
    is the run's decision task for one form (the mailbox run adds its sender check).
    """
    groups, failures = group_forms(readings)
    results = [record_failure(ctx, run_id, failed) for failed in failures]
    for group in groups:
        results.extend(decide(group))
    results.extend(record_duplicate(ctx, run_id, doc) for doc in duplicates)
    return results


def nightly_deployment():  # noqa: ANN201 - Prefect's RunnerDeployment type is internal
    """The deployment serving :func:`nightly` (the inbox folder) every night at 02:00 Europe/Paris.

    Serve it with ``clas-referrals serve`` (a Prefect server or Prefect Cloud URL in
    ``PREFECT_API_URL``); the schedule follows Paris local time across DST changes.
    """
    from prefect.schedules import Cron

    return nightly.to_deployment(name="nightly", schedules=[Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE)],
                                 description="Lecture nocturne du dossier des fiches d'orientation CLAS")


def nightly_deployments(settings: Settings):  # noqa: ANN201 - Prefect's RunnerDeployment type is internal
    """What ``clas-referrals serve`` serves: the shared mailbox when one is configured, else the folder.

    With ``CLAS_MAIL__HOST`` set, the nightly run reads the IMAP mailbox
    (``flows.mail_intake``) at 02:00 Europe/Paris; without it, the inbox folder.
    """
    if not settings.mail.host:
        return [nightly_deployment()]
    from prefect.schedules import Cron

    from flows.mail_intake import mail_intake

    return [mail_intake.to_deployment(name="nightly-mail",
                                      schedules=[Cron(NIGHTLY_CRON, timezone=NIGHTLY_TIMEZONE)],
                                      description="Lecture nocturne de la boîte aux lettres des fiches CLAS")]


