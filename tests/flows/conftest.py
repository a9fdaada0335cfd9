"""Fixtures of the flow tests: one real Prefect server for the folder, and this process pointed at it."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest

from tests.support.prefect_server import PrefectServer, prefect_server


@pytest.fixture(scope="package")
def prefect_api() -> Iterator[PrefectServer]:
    """A real Prefect server on loopback, started once for ``tests/flows``."""
    with prefect_server() as server:
        yield server


@pytest.fixture
def on_prefect_server(prefect_api: PrefectServer) -> Iterator[PrefectServer]:
    """Flows called in this process report to the real server (its API URL for the test's duration).

    On the way out, the logs and events still queued are sent while the server is up
    (as ``prefect_test_harness`` does); otherwise Prefect's workers keep retrying a
    stopped server for a minute at exit.
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

    with temporary_settings(updates={PREFECT_API_URL: prefect_api.api_url}):
        yield prefect_api
        run_coro_as_sync(drain())
