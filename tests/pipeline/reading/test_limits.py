"""Reading workers: a few documents each, one at a time; never reused after a timeout or running out of memory."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from pipeline.reading.limits import (
    _IDLE,
    DocumentMemoryError,
    DocumentTimeoutError,
    run_limited,
    stop_idle_workers,
)
from pipeline.settings import LimitSettings


def _pid() -> int:
    return os.getpid()


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _fail() -> None:
    raise ValueError("not a form")


def _allocate(mib: int) -> int:
    return len(bytearray(mib * 1024 * 1024))


@pytest.fixture(autouse=True)
def no_idle_workers() -> None:
    stop_idle_workers()


def test_a_worker_reads_its_share_of_documents_then_a_new_one_takes_over() -> None:
    limits = LimitSettings(document_timeout_s=60, documents_per_worker=3)
    pids = [run_limited(_pid, (), limits) for _ in range(7)]
    assert len(set(pids[:3])) == 1 and len(set(pids[3:6])) == 1 and pids[6] not in pids[:6]
    assert pids[3] != pids[0] and os.getpid() not in pids
    stop_idle_workers()
    assert _IDLE == []
    assert run_limited(_pid, (), limits) not in pids  # the idle one was ended


def test_a_document_that_fails_is_reported_and_its_worker_reads_the_next() -> None:
    limits = LimitSettings(document_timeout_s=60, documents_per_worker=5)
    first = run_limited(_pid, (), limits)
    with pytest.raises(ValueError, match="not a form"):
        run_limited(_fail, (), limits)
    assert run_limited(_pid, (), limits) == first


def test_a_worker_that_timed_out_or_ran_out_of_memory_is_never_reused() -> None:
    limits = LimitSettings(document_timeout_s=1, documents_per_worker=5, document_memory_mib=2048)
    before = run_limited(_pid, (), limits)
    with pytest.raises(DocumentTimeoutError):
        run_limited(_sleep, (5.0,), limits)
    after_timeout = run_limited(_pid, (), limits)
    assert after_timeout != before  # the killed worker was replaced, not handed the next document
    with pytest.raises(DocumentMemoryError):
        run_limited(_allocate, (4096,), limits)
    assert run_limited(_pid, (), limits) not in (before, after_timeout)


def test_an_idle_worker_past_its_idle_time_is_not_given_the_next_document() -> None:
    limits = LimitSettings(document_timeout_s=60, documents_per_worker=5, worker_idle_s=0.2)
    first = run_limited(_pid, (), limits)
    time.sleep(0.5)
    assert run_limited(_pid, (), limits) != first


_READ: list[int] = []


def _out_of_memory_after_a_first_document() -> int:
    """Runs out of memory in a worker that has read a document before: what an earlier document left behind."""
    if _READ:
        raise MemoryError
    _READ.append(1)
    return os.getpid()


def test_a_document_out_of_memory_after_others_is_read_again_in_a_new_worker() -> None:
    limits = LimitSettings(document_timeout_s=60, documents_per_worker=5)
    first = run_limited(_out_of_memory_after_a_first_document, (), limits)
    again = run_limited(_out_of_memory_after_a_first_document, (), limits)  # its worker fails it; a new one reads it
    assert again != first
    with pytest.raises(DocumentMemoryError):  # in a worker's first document, running out of memory is the document's
        run_limited(_allocate, (4096,), LimitSettings(document_timeout_s=60, document_memory_mib=2048))


def test_an_idle_worker_killed_from_outside_is_replaced_for_the_next_document() -> None:
    limits = LimitSettings(document_timeout_s=60, documents_per_worker=5)
    first = run_limited(_pid, (), limits)
    os.kill(first, 9)
    time.sleep(0.2)
    assert run_limited(_pid, (), limits) not in (first, os.getpid())


_HELD: list[bytes] = []


def _hold(mib: int) -> int:
    """Keep ``mib`` MiB of written memory in this worker (as a reader's caches would), and say which worker."""
    _HELD.append(b"\x01" * (mib * 1024 * 1024))
    return os.getpid()


def test_a_worker_that_holds_more_private_memory_than_the_bound_ends_after_its_document() -> None:
    limits = LimitSettings(document_timeout_s=60, documents_per_worker=20, worker_keep_uss_mib=150)
    small = [run_limited(_hold, (4,), limits) for _ in range(3)]
    assert len(set(small)) == 1  # 12 MiB held: under the bound, the worker reads on
    big = run_limited(_hold, (200,), limits)
    assert big == small[0]  # the document that passes the bound is read by the same worker...
    after = run_limited(_hold, (4,), limits)
    assert after != big  # ... which then ends: the next document has a new one
    unbounded = LimitSettings(document_timeout_s=60, documents_per_worker=20, worker_keep_uss_mib=0)
    first = run_limited(_hold, (200,), unbounded)
    assert run_limited(_pid, (), unbounded) == first  # 0: no bound


_KEPT: list[bytearray] = []


def _churn(mib: int) -> int:
    """Allocate ``mib`` MiB in 64 KiB blocks (under glibc's mmap threshold: from the heap), keep the last one, free
    the rest (a document's arrays freed, a cache entry kept on top of them), and say which worker."""
    blocks = [bytearray(64 * 1024) for _ in range(mib * 16)]
    _KEPT.append(blocks[-1])
    del blocks
    return os.getpid()


@pytest.mark.parametrize(("release", "most_mib", "least_mib"), [(True, 60, 0), (False, None, 150)])
def test_a_worker_hands_a_documents_freed_memory_back_before_its_memory_is_measured(
        release: bool, most_mib: int | None, least_mib: int) -> None:
    limits = LimitSettings(document_timeout_s=60, worker_keep_uss_mib=0, worker_release_memory=release)
    pid = run_limited(_churn, (200,), limits)
    kept_mib = psutil.Process(pid).memory_full_info().uss / (1024 * 1024)
    assert kept_mib >= least_mib and (most_mib is None or kept_mib <= most_mib), kept_mib
