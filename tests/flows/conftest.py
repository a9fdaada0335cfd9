"""Fixtures of the flow tests: this process pointed at the session's Prefect server (``prefect_api``,
tests/conftest.py) for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.prefect_server import PrefectServer, reporting_to


@pytest.fixture
def on_prefect_server(prefect_api: PrefectServer) -> Iterator[PrefectServer]:
    """Flows called in this process report to the real server for the test's duration (:func:`reporting_to`)."""
    with reporting_to(prefect_api):
        yield prefect_api
