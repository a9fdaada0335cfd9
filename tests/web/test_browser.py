"""Browser tests: Playwright drives Debian's chromium against uvicorn on a free loopback port.

Staff log in, open a form awaiting review, correct it with the keyboard, approve it and
see it routed; the carrier it went to logs in, sees it and exports its queue as CSV.
Screenshots of the main pages are written to ``docs/screenshots/``.

Chromium comes from Debian (``apt-get install chromium``), launched by its path:
Playwright's own browser download cannot reach its host from these machines.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from tests.web.conftest import PASSWORD, DemoData, build_demo
from web.main import create_app

CHROMIUM = os.environ.get("CLAS_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    """A database of its own (the browser test changes it), with an account per carrier."""
    return build_demo(tmp_path_factory.mktemp("browser"), every_carrier_account=True)


@pytest.fixture(scope="module")
def base_url(browser_demo: DemoData) -> Iterator[str]:
    """uvicorn serving the app in a thread on a free loopback port."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(browser_demo.settings), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, launched by path (never downloaded)."""
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])  # root in CI containers
        yield b
        b.close()


def _shot(page, name: str) -> None:  # noqa: ANN001 - playwright Page
    """Screenshot a page; into docs/screenshots only when CLAS_UPDATE_SCREENSHOTS=1 (keeps the tree clean)."""
    folder = SCREENSHOTS if os.environ.get("CLAS_UPDATE_SCREENSHOTS") == "1" else Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 1000


def _login(page, base_url: str, username: str) -> None:  # noqa: ANN001
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_staff_corrects_and_approves_then_carrier_sees_and_exports(
        browser, base_url: str, browser_demo: DemoData, tmp_path: Path) -> None:  # noqa: ANN001
    form_id = browser_demo.forms["invalid_no_agreement-3"]
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True, locale="fr-FR")
    page = context.new_page()

    page.goto(f"{base_url}/review")
    assert "/login" in page.url  # anonymous: the login page
    _shot(page, "login")
    _login(page, base_url, "agent")
    page.wait_for_url("**/overview")
    _shot(page, "overview")

    page.goto(f"{base_url}/review")
    assert form_id in page.content()
    _shot(page, "review-list")
    page.click(f"text={form_id}")
    page.wait_for_selector("#approve")
    page.wait_for_load_state("networkidle")  # wait_for_function would need 'unsafe-eval', which the CSP refuses
    assert page.evaluate("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    _shot(page, "form")

    # Keyboard only: focus starts on the first doubtful field (the unticked agreement);
    # "1" ticks its box, Enter accepts it and moves on; Enter on the approve button submits.
    first = page.locator(".field-block[data-doubtful='1']")
    assert "transmission des informations" in first.inner_text()
    assert page.evaluate("document.activeElement.name") == "f.agreement_data_sharing"
    page.keyboard.press("1")
    assert first.locator("input[type=checkbox]:not(.verify)").is_checked()
    assert first.locator("input.verify").is_checked()  # correcting a doubtful field verifies it
    doubtful = page.locator(".field-block[data-doubtful]")
    for i in range(doubtful.count()):
        page.keyboard.press("Enter")
        assert doubtful.nth(i).locator("input.verify").is_checked()  # Enter ticks « Vérifié »
    assert page.evaluate("document.activeElement.id") == "approve"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "validée et orientée vers" in page.inner_text(".flash")
    assert "orientée" in page.inner_text("#referral-status")
    carrier_id = page.get_attribute("#carrier-name", "data-carrier-id")
    _shot(page, "form-approved")
    page.click("text=Se déconnecter")
    page.wait_for_url("**/login")

    _login(page, base_url, str(carrier_id))
    page.wait_for_url(f"**/carriers/{carrier_id}")
    assert form_id in page.content()
    _shot(page, "carrier-queue")
    with page.expect_download() as download:
        page.click("#export")
    saved = tmp_path / "export.csv"
    download.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith("Fiche;") and form_id in text
    context.close()


def test_browser_is_refused_another_carriers_queue(browser, base_url: str, browser_demo: DemoData) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _login(page, base_url, "autre")
    response = page.goto(f"{base_url}/carriers/{browser_demo.carrier_id}")
    assert response is not None and response.status == 403
    assert "Accès refusé" in page.content()
    context.close()
