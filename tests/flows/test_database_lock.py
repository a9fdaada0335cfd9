"""Issue 17: a SQLite lock held by another program (a backup at 02:00) is waited for, within a configured bound.

Another connection holds a read transaction on the database file, as a backup copying it does: the run's
first write must wait for it. Held for less than ``CLAS_DATABASE__BUSY_TIMEOUT_S``, the run waits and
completes; held for longer, the run stops cleanly at the bound (nothing written, no retry past the bound)
with a French message for the user.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select

import pipeline.intake.mail_store  # noqa: F401 - every table exists before the lock is taken
import web.models  # noqa: F401
from flows.cli import main
from pipeline.settings import Settings
from pipeline.store import ReceiptRow, RunRow, Store
from tests.conftest import SAMPLES_INBOX


@contextmanager
def held_lock(db_file: Path, release_after_s: float | None = None) -> Iterator[None]:
    """Another connection holds a shared lock on ``db_file`` (a reading transaction) until the block ends,
    or for ``release_after_s`` seconds."""
    conn = sqlite3.connect(db_file, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM runs").fetchone()  # the shared lock is taken here
    timer = threading.Timer(release_after_s, conn.rollback) if release_after_s is not None else None
    if timer is not None:
        timer.start()
    try:
        yield
    finally:
        if timer is not None:
            timer.join()
        conn.rollback()
        conn.close()


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES_INBOX / "not_the_form-0000.pdf", inbox / "autre.pdf")
    return inbox


def _counts(settings: Settings) -> tuple[int, int]:
    store = Store(settings.database_url)
    with store.session() as s:
        counts = (s.scalar(select(func.count()).select_from(RunRow)) or 0,
                  s.scalar(select(func.count()).select_from(ReceiptRow)) or 0)
    store.close()
    return counts


def test_a_lock_held_past_the_bound_stops_the_run_cleanly_with_a_french_message(
        harness: None, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CLAS_DATABASE__BUSY_TIMEOUT_S", "1.5")
    monkeypatch.setattr(logging.getLogger("prefect"), "propagate", True)  # the run's log, in English
    caplog.set_level(logging.INFO)
    Store(settings.database_url).close()  # the tables exist, as on any night
    inbox = _inbox(tmp_path)
    with held_lock(tmp_path / "clas.sqlite3"):
        started = time.monotonic()
        code = main(["run", "--inbox", str(inbox), "--json"])
        elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 5
    # The user reads French; the run's log says what failed, in English.
    assert err.strip().splitlines()[-1].startswith("La base de données est restée verrouillée plus de 1.5 s")
    english = "the database stayed locked by another connection for more than 1.5 s"
    assert english in caplog.text or english in err  # Prefect logs to its console handler or through logging
    assert elapsed < 30  # the bound, not the I/O retries' 35 s of backoff on top of it
    assert _counts(settings) == (0, 0)  # nothing half-written: not even the run's row


def test_a_lock_released_within_the_bound_is_waited_for(harness: None, settings: Settings, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAS_DATABASE__BUSY_TIMEOUT_S", "20")
    Store(settings.database_url).close()
    inbox = _inbox(tmp_path)
    with held_lock(tmp_path / "clas.sqlite3", release_after_s=2.0):
        from flows.nightly import nightly

        summary = nightly(str(inbox))
    assert summary["received"] == 1 and summary["quarantined"] == 1
    assert _counts(settings) == (1, 1)
