"""The mail flow: read the shared inbox, decide every form it carries, file every message.

Like ``flows/nightly.py``, this module only wraps ``pipeline`` stages as Prefect
tasks and orders them; the documents go through the same ``pipeline.stages`` stages
(and the same ingest and read tasks, ``flows.tasks``) as the files of a folder. Tasks pass keys,
paths and small records; the open mailbox connection is looked up by settings
(``pipeline.intake.mailbox.mail_source``), never passed. Retries, with exponential
backoff, are on the I/O tasks only (the database connection, listing, fetching and
filing messages, the SMTP reply inside filing); a retry reconnects. A run that
fails e-mails staff once (``flows.tasks.alert_staff``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from flows.tasks import (
    IO_BACKOFF,
    IO_JITTER,
    IO_RETRIES,
    ProgressCallback,
    alert_staff,
    close_interrupted_runs,
    connect_task,
    notify_task,
    read_task,
    receive_task,
    record_run_failure,
    retry_on_io_only,
    settle_forms,
)
from pipeline.intake.mail import SenderMatch, sender_reasons
from pipeline.intake.mail_store import MailStore
from pipeline.intake.mailbox import MessageRef, close_mail_sources, mail_source, reset_mail_source
from pipeline.runs.mail import (
    IntakeAction,
    MessageIntake,
    MessageResult,
    receive_message,
    settle_message,
    summarise_messages,
)
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

if TYPE_CHECKING:  # the readers are imported by the tasks that read (issue 19: a run's fixed cost)
    from pipeline.deciding.decide import Decision
    from pipeline.reading.document import DocumentReading

FLOW_NAME = "clas-mail"


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER,
      retry_condition_fn=retry_on_io_only, cache_policy=NO_CACHE)
def list_task(settings: Settings) -> list[MessageRef]:
    """The messages present in the inbox now (I/O: retried with backoff)."""
    try:
        return mail_source(settings.mail).list_messages()
    except Exception:
        reset_mail_source(settings.mail)
        raise


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER,
      retry_condition_fn=retry_on_io_only, cache_policy=NO_CACHE)
def receive_message_task(settings: Settings, run_id: int, ref: MessageRef) -> MessageIntake:
    """Fetch, parse and record one message; spool its documents (I/O: retried with backoff)."""
    ctx = run_context(settings)
    try:
        return receive_message(ctx, MailStore(ctx.store), mail_source(settings.mail), run_id, ref)
    except Exception:
        reset_mail_source(settings.mail)
        raise


@task(cache_policy=NO_CACHE)
def decide_checked_task(settings: Settings, run_id: int, group: FormGroup,
                        senders: list[SenderMatch]) -> list[FileResult]:
    """Decide one form, sending it to review when its senders do not speak for its school."""
    from pipeline.reading.document import Reason

    def check(decision: Decision) -> list[Reason]:
        school_id = decision.referral.school_id if decision.referral is not None else None
        return [Reason(code, text) for code, text in sender_reasons(school_id, senders)]

    return decide_and_record(run_context(settings), run_id, group, check)


@task(retries=IO_RETRIES, retry_delay_seconds=IO_BACKOFF, retry_jitter_factor=IO_JITTER,
      retry_condition_fn=retry_on_io_only, cache_policy=NO_CACHE)
def settle_task(settings: Settings, intake: MessageIntake) -> MessageResult:
    """Settle one message, reply at most once, file it (I/O: retried with backoff; settling twice is harmless)."""
    ctx = run_context(settings)
    try:
        return settle_message(ctx, MailStore(ctx.store), mail_source(settings.mail), intake)
    except Exception:
        reset_mail_source(settings.mail)
        raise


@flow(name=FLOW_NAME, log_prints=False, validate_parameters=False, on_failure=[alert_staff],
      on_crashed=[alert_staff])
def mail_intake(progress: ProgressCallback | None = None) -> dict[str, object]:
    """Process every message of the shared inbox (``CLAS_MAIL__*``) and return the run's accounting.

    Args:
        progress: Called with a short, anonymous label after each message (for a progress bar).

    Returns:
        The files' accounting (see :meth:`pipeline.stages.RunSummary.as_dict`) with the
        messages' under ``"mail"`` (see :meth:`pipeline.runs.mail.MailRunSummary.as_dict`).

    Raises:
        pipeline.intake.mailbox.MailSourceError: The mailbox cannot be opened or read.
    """
    logger = get_run_logger()
    settings = Settings()
    connect_task(settings)
    ctx = run_context(settings)
    try:
        with ctx.store.exclusive_run():  # never beside a folder run or another mailbox run
            close_interrupted_runs(ctx, FLOW_NAME)
            refs = list_task(settings)
            run_id = ctx.store.start_run(mail_source(settings.mail).label)
            logger.info("run %s: %d message(s) in the mailbox", run_id, len(refs))
            try:
                return _run_messages(settings, ctx, run_id, refs, progress)
            except Exception as exc:
                record_run_failure(ctx, run_id, exc)
                raise
    finally:
        close_mail_sources()
        close_run_contexts()


def _run_messages(settings: Settings, ctx: RunContext, run_id: int, refs: list[MessageRef],
                  progress: ProgressCallback | None) -> dict[str, object]:
    """The stages of one mailbox run, in order, for the run ``run_id`` (under the run lock)."""
    logger = get_run_logger()
    intakes = [receive_message_task(settings, run_id, ref) for ref in refs]

    results: list[FileResult] = []
    readings: list[DocumentReading] = []
    duplicates: list[ReceivedDocument] = []
    seen: set[str] = set()
    senders: dict[str, list[SenderMatch]] = {}
    for intake in intakes:
        for path in intake.documents:
            received = receive_task(settings, path, intake.source)
            if isinstance(received, FileResult):
                results.append(received)
            elif is_duplicate(ctx, received, seen):
                duplicates.append(received)
            else:
                seen.add(received.sha256)
                senders.setdefault(received.sha256, []).append(intake.sender)
                readings.append(read_task(settings, received))
        if progress:
            progress("message")

    def decide(group: FormGroup) -> list[FileResult]:
        group_senders = [m for r in group.readings for m in senders.get(r.doc.sha256, [])]
        return decide_checked_task(settings, run_id, group, group_senders)

    results += settle_forms(ctx, run_id, readings, duplicates, decide)

    messages = [settle_task(settings, intake) for intake in intakes
                if intake.action is not IntakeAction.COPY]
    messages += [settle_task(settings, intake) for intake in intakes if intake.action is IntakeAction.COPY]

    summary: RunSummary = summarise(results)
    mail = summarise_messages(messages)
    report = {**summary.as_dict(), "mail": mail.as_dict()}
    ctx.store.finish_run(run_id, report)
    logger.info("run %s: %s", run_id, report)
    logger.info("run %s: teacher notices: %s", run_id, notify_task(settings))
    create_markdown_artifact(key="clas-mail-summary",
                             markdown=summary.markdown() + f"\n## Messages\n\n{mail.line()}\n",
                             description="Compte de la lecture de la boîte partagée CLAS")
    return report
