"""A real Prefect server on loopback for the flow tests (``prefect server start`` in a subprocess).

The server runs in its own process group with its own ``PREFECT_HOME`` (its SQLite
database and settings) in a fresh folder, telemetry and the web UI off, on a free
port of 127.0.0.1. Its scheduler runs every two seconds instead of every minute, so
that a registered deployment's next runs appear within the test.
"""

from __future__ import annotations

import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.mail_servers import free_port

STARTUP_TIMEOUT_S = 120.0
"""The first start migrates the server's database: about 15 s on a 2-core machine, 120 s leaves room."""
QUIET_PREFECT = {
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
}


@dataclass(frozen=True)
class PrefectServer:
    """A running Prefect server.

    Attributes:
        api_url: Its API, ``http://127.0.0.1:<port>/api``.
        root: Its folder (``PREFECT_HOME`` and log).
    """

    api_url: str
    root: Path


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any ``PREFECT_`` or ``CLAS_`` variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAS_"))}
    return env | QUIET_PREFECT | extra


def stop_group(process: subprocess.Popen[bytes], timeout_s: float = 20.0) -> None:
    """Stop a process started with ``start_new_session=True`` and all its children (SIGTERM, then SIGKILL)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


@contextmanager
def prefect_server() -> Iterator[PrefectServer]:
    """Start ``prefect server start`` on a free loopback port; stop its process group and remove its folder."""
    root = Path(tempfile.mkdtemp(prefix="clas-prefect-"))
    port = free_port()
    env = clean_env(PREFECT_HOME=str(root / "home"), PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="2")
    log = (root / "server.log").open("wb")
    prefect = Path(sys.executable).with_name("prefect")
    process = subprocess.Popen([str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Prefect server did not start:\n"
                                   + (root / "server.log").read_text(errors="replace")[-3000:])
            try:
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        yield PrefectServer(api_url, root)
    finally:
        stop_group(process)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def reporting_to(server: PrefectServer) -> Iterator[PrefectServer]:
    """Flows called in this process report to ``server`` (its API URL in Prefect's settings) inside the block.

    On the way out, the logs and events still queued are sent while the server is up (as Prefect's
    ``prefect_test_harness`` does); otherwise Prefect's workers keep retrying a stopped server for a minute at exit.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        try:
            logs = APILogWorker.instance().drain()
            if inspect.isawaitable(logs):
                await logs
        except RuntimeError:  # the worker never started
            pass
        events = EventsWorker.drain_all()
        if inspect.isawaitable(events):
            await events

    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield server
        run_coro_as_sync(drain())
