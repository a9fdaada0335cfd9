"""What the nightly flows share: the I/O retry policy, the common tasks, the forms' settling, the alert hook.

Both runs, the inbox folder's (``flows.nightly``) and the shared mailbox's
(``flows.mail_intake``), open the database, ingest and read documents the same way
and end the same way; they import these from here so that neither flow imports the
other (issue 15: the two modules used to import each other). Tasks pass paths, ids
and small records, never open clients, PDFs or images (PrefectHQ/prefect#16042).
Retries, with exponential backoff, are on the I/O tasks only.
"""

from __future__ import annotations

import imaplib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from sqlalchemy import text
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from pipeline.intake.mailbox import MailSourceError
from pipeline.notices import queue_waiting_list_notices, send_pending
from pipeline.runs.alerts import (
    INTERRUPTED_REASON_FR,
    AlertStatus,
    describe_crash,
    describe_failure,
    describe_interrupted,
    send_alert,
)
from pipeline.settings import Settings
from pipeline.stages import (
    FileResult,
    FormGroup,
    IngestIOError,
    RunContext,
    group_forms,
    read_file,
    receive_file,
    record_duplicate,
    record_failure,
    run_context,
)
from pipeline.store import DatabaseLockedError
from schemas.document import ReceivedDocument

if TYPE_CHECKING:  # the readers are imported by the tasks that read (issue 19: a run's fixed cost)
    from pipeline.reading.document import DocumentReading

ProgressCallback = Callable[[str], None]
"""Called with a short, anonymous label after each file or message (for a progress bar)."""

IO_RETRIES = 3
IO_BACKOFF = exponential_backoff(backoff_factor=5)
"""Waits before the 1st, 2nd and 3rd retry of an I/O task: 5, 10 and 20 s (35 s in all), long enough
for a database, IMAP or SMTP server restarting at night, short enough to end the run within minutes."""
IO_JITTER = 0.2
"""Each wait varies by up to ±20 % so that tasks failing together do not retry together."""
IO_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # file system, sockets, TLS, SMTP (smtplib.SMTPException is an OSError)
    IngestIOError, MailSourceError,  # the project's I/O errors
    imaplib.IMAP4.error,  # IMAP protocol errors and dropped connections (IMAP4.abort); imap-tools wraps these
    OperationalError, InterfaceError, DisconnectionError,  # the database server unreachable or gone
)
"""Errors an I/O task retries: faults of the outside world that may pass. Anything else (a parse error, a
programming error, a database lock held past its bound, ``pipeline.store.DatabaseLockedError``) fails at once:
retrying it would only repeat it (issue 17: a mail parse error was retried three times like a network fault)."""


def retry_on_io_only(_task: Any, _task_run: Any, state: Any) -> bool:  # noqa: ANN401 - Prefect's hook signature
    """``retry_condition_fn`` of the I/O tasks: retry only when the failure is one of :data:`IO_ERRORS`.

    Prefect calls it with the task, its run and the Failed state; the state's exception decides.
    """
    try:
        error = state.result(raise_on_failure=False)
    except Exception:  # noqa: BLE001 - an unreadable result is not an I/O fault
        return False
    return isinstance(error, IO_ERRORS)


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER,
      retry_condition_fn=retry_on_io_only, cache_policy=NO_CACHE)
def connect_task(settings: Settings, check_readers: bool = True) -> None:
    """Open the database and check it answers (I/O: retried with backoff).

    A context whose opening failed is not kept (:func:`pipeline.stages.run_context`), so a
    retry opens it afresh; an open one checks out a live connection from its pool. ``check_readers``: see
    :func:`pipeline.stages.run_context`.
    """
    with run_context(settings, check_readers).store.session() as session:
        session.execute(text("SELECT 1"))


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER,
      retry_condition_fn=retry_on_io_only, cache_policy=NO_CACHE)
def receive_task(settings: Settings, path: Path, source: str) -> ReceivedDocument | FileResult:
    """Ingest one file (I/O: retried with backoff)."""
    return receive_file(run_context(settings), path, source)


@task(cache_policy=NO_CACHE)
def read_task(settings: Settings, doc: ReceivedDocument) -> DocumentReading:
    """Read one document's pages."""
    return read_file(run_context(settings), doc)


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


def alert_staff(flow: Any, flow_run: Any, state: Any) -> None:  # noqa: ANN401 - Prefect's hook signature
    """Failure and crash hook of the nightly flows: e-mail staff once (``CLAS_ALERTS__*``), without personal data.

    Prefect calls it once, when the run enters its final Failed state (``on_failure``) or its Crashed state
    (``on_crashed``: a signal such as SIGTERM, an interpreter exit; issue 17: a crashed run sent nothing).
    A run killed outright (SIGKILL) runs no hook: the next run finds it (:func:`close_interrupted_runs`).
    It never raises: a failing alert must not hide the run's own error.

    Args:
        flow: The flow that failed.
        flow_run: Its run (name and id are put in the alert).
        state: The Failed or Crashed state (its exception's code or type is put in the alert, never its message).
    """
    try:
        settings = Settings()
        now = datetime.now(UTC)
        if state.is_crashed():
            failure = describe_crash(flow.name, str(flow_run.name), str(flow_run.id), now)
        else:
            error = state.result(raise_on_failure=False)
            failure = describe_failure(flow.name, str(flow_run.name), str(flow_run.id), now,
                                       error if isinstance(error, BaseException) else None)
        status = send_alert(settings.alerts, settings.mail.smtp, failure)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        get_run_logger().warning("staff alert not sent: %s", type(exc).__name__)
        return
    if status is not AlertStatus.DISABLED:
        get_run_logger().info("staff alert: %s", status.value)


def close_interrupted_runs(ctx: RunContext, flow_name: str) -> int:
    """What a killed run left in the database: mark its ``runs`` row crashed and alert staff for it.

    Call under the run lock (``Store.exclusive_run``), before the run's own start. Never raises for the
    alert (see :func:`pipeline.runs.alerts.send_alert`).

    Returns:
        How many interrupted runs were found.
    """
    interrupted = ctx.store.close_interrupted_runs(INTERRUPTED_REASON_FR)
    for run in interrupted:
        get_run_logger().warning("run %s: found unfinished (killed); marked crashed", run.run_id)
        send_alert(ctx.settings.alerts, ctx.settings.mail.smtp,
                   describe_interrupted(flow_name, run.run_id, run.started_at))
    return len(interrupted)


def record_run_failure(ctx: RunContext, run_id: int, error: BaseException) -> None:
    """Record that run ``run_id`` stopped on ``error`` (its French reason, never its message); best effort.

    A database lock past its bound is not recorded (the write would wait as long again): the next run marks
    the row instead.
    """
    if isinstance(error, DatabaseLockedError):
        return
    reason = describe_failure("", "", "", datetime.now(UTC), error).reason_fr
    try:
        ctx.store.fail_run(run_id, reason)
    except Exception as exc:  # noqa: BLE001 - the run's own error is the one to report
        get_run_logger().warning("run %s: failure not recorded (%s)", run_id, type(exc).__name__)


@task(cache_policy=NO_CACHE)
def notify_task(settings: Settings) -> dict[str, int]:
    """Queue the waiting list's notices and send the due ones to referring teachers (counts only come back).

    No task retries: a notice is claimed before its SMTP conversation, and one not accepted waits for the next run.
    """
    ctx = run_context(settings)
    queued = queue_waiting_list_notices(ctx.store, settings.school_year)
    sent = send_pending(ctx.store, settings.mail.smtp, settings.notices, ctx.directory)
    return {"queued": queued, "sent": sent.sent, "retry": sent.retry, "failed": sent.failed,
            "uncertain": sent.uncertain, "skipped": sent.skipped}
