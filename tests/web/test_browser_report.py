"""The yearly report in the browser: staff see its charts drawn, a carrier neither sees the menu entry nor the page.

The store holds known referrals (``tests.support.report_data``). With ``CLAS_UPDATE_SCREENSHOTS=1`` the desk's page,
the report file's HTML page (rendered by chromium) and its PDF (by ``pdftoppm``) are written as PNG into
``docs/report/``.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.reporting.figures import yearly_report
from pipeline.reporting.render import write_report
from pipeline.settings import Settings
from pipeline.store import Store
from tests.support.browser import VIEWPORT, chromium, served_desk
from tests.support.report_data import YEAR, fill_report_store
from tests.web.conftest import PASSWORD
from web.accounts import create_user
from web.models import Role

DOCS = Path(__file__).resolve().parents[2] / "docs" / "report"


def _folder() -> Path:
    folder = DOCS if os.environ.get("CLAS_UPDATE_SCREENSHOTS") == "1" else Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def report_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("report-desk")
    settings = Settings(database_url=f"sqlite:///{root / 'clas.sqlite3'}", data_dir=root / "data")
    directory = load_directory(settings.directory_file)
    import web.main  # noqa: F401 - registers the desk tables before the store creates them

    store = Store(settings.database_url)
    fill_report_store(store, directory)
    with store.session() as s:
        create_user(s, directory, "agent", PASSWORD, Role.STAFF, actor="test")
        create_user(s, directory, "structure", PASSWORD, Role.CARRIER, directory.carriers[0].id, actor="test")
    store.close()
    return settings


@pytest.fixture(scope="module")
def base_url(report_settings: Settings) -> Iterator[str]:
    with served_desk(report_settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _login(page, base_url: str, username: str) -> None:  # noqa: ANN001 - playwright Page
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_staff_see_the_charts_and_carriers_do_not(browser, base_url: str) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    _login(page, base_url, "agent")
    page.wait_for_url("**/overview")
    page.click("text=Bilan annuel")
    page.wait_for_url("**/report")
    assert page.inner_text("#report-total") == "160"
    charts = page.locator("img.chart")
    assert charts.count() == 8
    widths = charts.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 600 for w in widths), widths  # every chart decoded and drawn
    small = page.locator("td.num", has_text="< 5")
    assert small.count() > 0
    texts = page.locator("section.report-table td.num").all_inner_texts()
    assert not [t for t in texts if t.strip().isdigit() and 0 < int(t) < 5]
    page.screenshot(path=str(_folder() / "desk-report.png"), full_page=False)
    context.close()

    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    _login(page, base_url, "structure")
    page.wait_for_url("**/carriers/**")
    assert page.locator("a", has_text="Bilan annuel").count() == 0
    response = page.goto(f"{base_url}/report")
    assert response is not None and response.status == 403
    assert "Accès refusé" in page.content()
    context.close()


def test_report_file_pages_rendered_to_png(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """The HTML page by chromium and the PDF by pdftoppm, as PNG (into docs/report/ when asked)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    store = Store(settings.database_url)
    directory = load_directory(settings.directory_file)
    fill_report_store(store, directory)
    with store.session() as s:
        report = yearly_report(s, directory, YEAR, settings.report, datetime(2027, 7, 1, 10, tzinfo=UTC))
    store.close()
    files = write_report(report, tmp_path / "out", settings.report)
    folder = _folder()
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(files.html.as_uri())
    assert page.locator("img.chart").count() == 8
    page.screenshot(path=str(folder / "report-html.png"), full_page=True)
    page.close()
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(files.pdf), str(folder / "report-pdf")], check=True)
    pages = sorted(folder.glob("report-pdf-*.png"))
    assert len(pages) >= 3 and all(p.stat().st_size > 10_000 for p in pages)
