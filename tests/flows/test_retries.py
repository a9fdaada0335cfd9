"""I/O steps retry with exponential backoff; other steps never retry.

The I/O tasks are the database connection, ingest, and the mailbox's listing,
fetching and filing (which sends the SMTP reply). Their waits are Prefect's
``exponential_backoff``: 5, 10 and 20 s with ±20 % jitter. The behaviour tests
run the real flow on the real Prefect server with the same tasks scaled down to
tenths of a second.
"""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import pytest
from prefect.tasks import exponential_backoff
from sqlalchemy.exc import OperationalError

import flows.mail_intake as mail_flow
import flows.nightly as nightly_flow
import flows.tasks as flow_tasks
from pipeline.settings import Settings
from pipeline.stages import run_context as real_run_context
from tests.support.mail_servers import free_port
from tests.support.prefect_server import PrefectServer

IO_TASKS = [nightly_flow.connect_task, nightly_flow.receive_task, mail_flow.list_task,
            mail_flow.receive_message_task, mail_flow.settle_task]
OTHER_TASKS = [nightly_flow.read_task, nightly_flow.decide_task, nightly_flow.purge_task, mail_flow.decide_checked_task]
SCALED = exponential_backoff(backoff_factor=0.2)
"""The production backoff divided by 25: 0.2, 0.4, 0.8 s."""


@pytest.mark.parametrize("io_task", IO_TASKS, ids=lambda t: t.name)
def test_io_tasks_retry_three_times_with_exponential_backoff(io_task) -> None:  # noqa: ANN001
    assert io_task.retries == 3
    assert io_task.retry_delay_seconds == [5, 10, 20]
    assert io_task.retry_jitter_factor == 0.2


@pytest.mark.parametrize("other_task", OTHER_TASKS, ids=lambda t: t.name)
def test_other_tasks_do_not_retry(other_task) -> None:  # noqa: ANN001
    assert other_task.retries == 0


def _timed_run_context(calls: list[float], failures: int):  # noqa: ANN202
    """``run_context`` that records when it is called and fails the first ``failures`` times."""

    def run_context(settings: Settings, check_readers: bool = False):  # noqa: ANN202
        calls.append(time.monotonic())
        if len(calls) <= failures:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
        return real_run_context(settings, check_readers)

    return run_context


def _assert_growing_waits(calls: list[float]) -> None:
    waits = [b - a for a, b in pairwise(calls)]
    for retry, wait in enumerate(waits):
        assert wait >= 0.8 * 0.2 * 2**retry, waits  # the scaled backoff, less the 20 % jitter


def test_a_database_back_after_two_failures_is_waited_for(on_prefect_server: PrefectServer, settings: Settings,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    monkeypatch.setattr(flow_tasks, "run_context", _timed_run_context(calls, failures=2))
    monkeypatch.setattr(nightly_flow, "connect_task",
                        nightly_flow.connect_task.with_options(retry_delay_seconds=SCALED))
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    summary = nightly_flow.nightly(str(inbox))

    assert summary["received"] == 0 and summary["balanced"] is True
    assert len(calls) >= 3  # two failures, then the connection (later calls are the run's own)
    _assert_growing_waits(calls[:3])


def test_an_unreachable_database_fails_the_run_after_four_tries(on_prefect_server: PrefectServer, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # A real PostgreSQL URL on a loopback port where nothing listens: connection refused at once.
    monkeypatch.setenv("CLAS_DATABASE_URL", f"postgresql+psycopg://clas:clas@127.0.0.1:{free_port()}/clas")
    monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / "data"))
    calls: list[float] = []
    monkeypatch.setattr(flow_tasks, "run_context", _timed_run_context(calls, failures=0))
    monkeypatch.setattr(nightly_flow, "connect_task",
                        nightly_flow.connect_task.with_options(retry_delay_seconds=SCALED))
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    with pytest.raises(OperationalError):
        nightly_flow.nightly(str(inbox))

    assert len(calls) == 4  # the first try and three retries
    _assert_growing_waits(calls)


@pytest.mark.parametrize("io_task", IO_TASKS, ids=lambda t: t.name)
def test_io_tasks_retry_io_faults_only(io_task) -> None:  # noqa: ANN001
    # Issue 17: a mail parse error was retried three times as if it were a network fault.
    from prefect.states import Failed

    from pipeline.intake.mailbox import MailSourceError

    condition = io_task.retry_condition_fn
    assert condition is flow_tasks.retry_on_io_only
    for fault in (ConnectionResetError("reset"), TimeoutError(), MailSourceError("down"),
                  OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))):
        assert condition(io_task, None, Failed(data=fault)) is True, fault
    for bug in (UnicodeDecodeError("utf-16-le", b"\x41", 0, 1, "truncated data"), IndexError(), KeyError("x")):
        assert condition(io_task, None, Failed(data=bug)) is False, bug


def test_a_parse_error_in_an_io_task_is_not_retried(on_prefect_server: PrefectServer, settings: Settings,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []

    def receive_file(ctx, path, source):  # noqa: ANN001, ANN202
        calls.append(time.monotonic())
        raise UnicodeDecodeError("utf-16-le", b"\x41", 0, 1, "truncated data")

    monkeypatch.setattr(flow_tasks, "receive_file", receive_file)
    task = nightly_flow.receive_task.with_options(retry_delay_seconds=SCALED)
    with pytest.raises(UnicodeDecodeError):
        task(Settings(), tmp_path / "fiche.pdf", "folder:test")
    assert len(calls) == 1

    def failing_disk(ctx, path, source):  # noqa: ANN001, ANN202
        calls.append(time.monotonic())
        raise OSError(5, "Input/output error")

    calls.clear()
    monkeypatch.setattr(flow_tasks, "receive_file", failing_disk)
    with pytest.raises(OSError):
        task(Settings(), tmp_path / "fiche.pdf", "folder:test")
    assert len(calls) == 4  # an I/O fault still gets its three retries
