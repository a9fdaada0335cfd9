"""Browser tests: Playwright drives Debian's chromium against uvicorn on a free loopback port.

Staff log in, open a form awaiting review, correct it with the keyboard, approve it and
see it routed; the carrier it went to logs in, sees it and exports its queue as CSV.
Screenshots of the main pages are written to ``docs/screenshots/``.

Chromium comes from Debian (``apt-get install chromium``), launched by its path:
Playwright's own browser download cannot reach its host from these machines.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import VIEWPORT, chromium, served_desk
from tests.web.conftest import PASSWORD, DemoData, build_demo
from tests.web.test_review import _school_with_places

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="module")
def browser_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    """A database of its own (the browser test changes it), with an account per carrier."""
    return build_demo(tmp_path_factory.mktemp("browser"), every_carrier_account=True)


@pytest.fixture(scope="module")
def base_url(browser_demo: DemoData) -> Iterator[str]:
    """The desk served on a free loopback port."""
    with served_desk(browser_demo.settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless."""
    with chromium() as b:
        yield b


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


def test_staff_corrects_and_approves_then_carrier_sees_exports_refuses_and_undoes(
        browser, base_url: str, browser_demo: DemoData, tmp_path: Path) -> None:  # noqa: ANN001
    form_id = browser_demo.forms["invalid_unknown_school-2"]
    level = browser_demo.truths[form_id]["values"]["class_level"][0]  # type: ignore[index]
    school = _school_with_places(browser_demo, level)
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

    # Keyboard only: focus starts on the first doubtful field (the unknown school); typing corrects
    # and verifies it, Enter accepts each doubtful field in turn; Enter on the approve button submits.
    first = page.locator(".field-block[data-doubtful='1']")
    assert "École ou collège" in first.inner_text()
    assert page.evaluate("document.activeElement.name") == "f.school_name"
    page.keyboard.type(school)
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

    # « Refus » asks for confirmation and a reason, says what it did, and can be undone (issue 17).
    places = page.inner_text("#places-left")
    row = page.locator("tr", has_text=form_id)
    row.locator("text=Refus").click()
    page.wait_for_selector("#confirm-outcome")
    _shot(page, "carrier-refusal")
    page.click("#confirm-outcome")  # no reason chosen: the browser's own check keeps the page
    assert "/outcome/declined" in page.url
    page.check("input[name=reason_code][value=schedule]")
    with page.expect_navigation():
        page.click("#confirm-outcome")
    assert f"Refus enregistré pour la fiche {form_id}" in page.inner_text(".flash")
    assert page.inner_text("#places-left") == places  # the place is kept while the refusal can be undone
    with page.expect_navigation():
        page.locator("tr", has_text=form_id).locator("button.undo").click()
    assert f"Suivi annulé pour la fiche {form_id}" in page.inner_text(".flash")
    context.close()


def test_staff_cannot_tick_an_empty_consent_and_an_admin_confirms_a_misread(
        browser, base_url: str, browser_demo: DemoData) -> None:  # noqa: ANN001
    form_id = browser_demo.forms["invalid_no_agreement-3"]
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    _login(page, base_url, "agent")
    page.wait_for_url("**/overview")
    page.goto(f"{base_url}/review/{form_id}")
    page.wait_for_selector("#approve")
    # What used to route the form: key 1 ticks the empty agreement, Enter, Enter approves. Now 1 does nothing.
    first = page.locator(".field-block[data-doubtful='1']")
    assert "transmission des informations" in first.inner_text()
    page.keyboard.press("1")
    assert not first.locator("input[type=checkbox]:not(.verify)").is_checked()
    for _ in range(page.locator(".field-block[data-doubtful]").count()):
        page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "approve"
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "renvoyer la fiche à l'école" in page.inner_text(".error")
    assert page.locator("#referral-status").count() == 0  # not routed

    # The reviewer sees a cross the machine missed: a claim with why; an admin confirms, then routes.
    page.select_option("#claim-field", "agreement_data_sharing")
    page.fill("#claim-reason", "Croix fine dans la case, nette sur l'image.")
    with page.expect_navigation():
        page.click("#claim-submit")
    assert "attend la confirmation" in page.inner_text(".flash")
    _shot(page, "consent-claim")
    page.click("text=Se déconnecter")
    page.wait_for_url("**/login")
    _login(page, base_url, "admin")
    page.wait_for_url("**/overview")
    page.goto(f"{base_url}/review/supervisor")
    page.click(f"text={form_id}")
    with page.expect_navigation():
        page.click("button[id^=confirm-claim-]")
    assert "confirmée par admin" in page.inner_text(".flash")
    assert page.locator("input[name='v.agreement_data_sharing']").count() == 1
    page.check("input[name='v.agreement_data_sharing']")
    with page.expect_navigation():
        page.click("#approve")
    assert "validée et orientée vers" in page.inner_text(".flash")
    context.close()


def test_a_page_that_never_arrived_is_asked_of_the_school_not_typed(
        browser, base_url: str, browser_demo: DemoData) -> None:  # noqa: ANN001
    form_id = browser_demo.forms["invalid_page2_missing-5"]
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    _login(page, base_url, "agent")
    page.wait_for_url("**/overview")
    page.goto(f"{base_url}/review/{form_id}")
    assert "Page 2 non reçue" in page.inner_text("#missing-page")
    assert page.locator("input.verify").count() == 0  # nothing to « Vérifier » without an image
    assert page.locator("#approve").count() == 0
    assert page.locator("input[name='f.guardian1_surname']").count() == 0
    _shot(page, "page-missing")
    with page.expect_navigation():
        page.click("#ask-missing-page")
    flash = page.inner_text(".flash")
    assert "renvoyée à l'école" in flash and "Page 2 de la fiche non reçue" in flash
    context.close()


def test_browser_is_refused_another_carriers_queue(browser, base_url: str, browser_demo: DemoData) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    _login(page, base_url, "autre")
    response = page.goto(f"{base_url}/carriers/{browser_demo.carrier_id}")
    assert response is not None and response.status == 403
    assert "Accès refusé" in page.content()
    context.close()
