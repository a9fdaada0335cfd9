"""Fixtures of the trust tests: one Prefect test harness for the whole folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="package")
def harness() -> Iterator[None]:
    """A temporary Prefect server for in-process flow runs (started once for tests/trust)."""
    with prefect_test_harness(server_startup_timeout=120):
        yield
