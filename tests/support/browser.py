"""The desk served on loopback and Debian's chromium, for the Playwright tests (``tests/web/test_browser*.py``).

Chromium comes from Debian (``apt-get install chromium``), launched by its path: Playwright's own browser
download cannot reach its host from these machines.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from pipeline.settings import Settings
from web.main import create_app

CHROMIUM = os.environ.get("CLAS_CHROMIUM", "/usr/bin/chromium")
"""Debian's chromium; ``CLAS_CHROMIUM`` names another."""
VIEWPORT = {"width": 1280, "height": 800}
"""The browser window, in CSS pixels."""


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_desk(settings: Settings, start_timeout_s: float = 20.0) -> Iterator[str]:
    """The desk for ``settings`` served by uvicorn in a thread on a free loopback port; yields its base URL.

    Raises:
        RuntimeError: uvicorn did not start within ``start_timeout_s``.
    """
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's chromium, headless, launched by path (never downloaded); yields Playwright's ``Browser``."""
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True,
                                    args=["--no-sandbox", "--disable-dev-shm-usage"])  # root in CI containers
        try:
            yield browser
        finally:
            browser.close()
