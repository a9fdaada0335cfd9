"""Shared fixtures (settings on a temporary database and data folder, the demo directory, Prefect's test
harness) and the markers of the tests that start a server.

A test that uses a fixture of ``SERVER_FIXTURES``, directly or through another fixture, gets that
fixture's marker; a test that starts a server by other means (a subprocess, a server opened in its
body) carries the marker itself. ``make test-fast`` deselects the four markers, which pyproject.toml
registers: ``browser``, ``postgres``, ``mail_server`` and ``prefect_server``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from schemas.directory import Directory

PROJECT = Path(__file__).resolve().parent.parent
SAMPLES_INBOX = PROJECT / "samples" / "inbox"
SAMPLES_TRUTH = PROJECT / "samples" / "truth"

SERVER_FIXTURES: dict[str, str] = {
    "harness": "prefect_server",  # Prefect's test harness runs a temporary Prefect server in a subprocess
    "prefect_api": "prefect_server",  # ``prefect server start`` (tests/flows/conftest.py)
    "imap": "mail_server",  # Dovecot (tests/support/mail_servers.py)
    "smtp": "mail_server",  # aiosmtpd on loopback (tests/support/mail_servers.py)
    "pg_server": "postgres",  # a throwaway PostgreSQL cluster (tests/support/postgres.py)
    "browser": "browser",  # Debian's chromium driven by Playwright (tests/web/test_browser.py)
    "base_url": "browser",  # uvicorn serving the review desk to that browser
}
"""Fixtures that start a server, and the marker each gives the tests that use it."""


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a server fixture, so that ``-m "not prefect_server"`` and the like leave it out."""
    for item in items:
        for name in sorted(set(item.fixturenames) & SERVER_FIXTURES.keys()):
            item.add_marker(SERVER_FIXTURES[name])


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings pointing at a fresh SQLite file and data folder under ``tmp_path``."""
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    monkeypatch.setenv("CLAS_DATA_DIR", str(tmp_path / "data"))
    return Settings()


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The demo city's directory shipped with the package."""
    return load_directory(Settings().directory_file)


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    """Prefect's test harness for in-process flow runs: a temporary server, fresh for each test module."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
