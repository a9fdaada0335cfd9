"""Browser tests of the desk's sign-in and errors (issue 17), with Debian's chromium against uvicorn on loopback.

A user changes their password in the page and signs out; a copy of the old cookie opens nothing; the
old password is refused, the new one accepted; repeated wrong passwords meet the French throttling
message; an unknown page and a 23-digit id show French error pages with the menu.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import VIEWPORT, chromium, served_desk
from tests.web.conftest import PASSWORD, DemoData, build_demo
from web.main import SESSION_COOKIE

NEW_PASSWORD = "Hibou-Cartable-Menthe-64"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> DemoData:
    """A database of its own: these tests change passwords and fill the throttling counters."""
    return build_demo(tmp_path_factory.mktemp("browser-security"))


@pytest.fixture(scope="module")
def base_url(demo_db: DemoData) -> Iterator[str]:
    """The desk served on a free loopback port."""
    with served_desk(demo_db.settings) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless."""
    with chromium() as b:
        yield b


def _sign_in(page, base_url: str, username: str, password: str) -> None:  # noqa: ANN001 - playwright Page
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_user_changes_password_signs_out_and_the_old_cookie_is_dead(browser, base_url: str) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    _sign_in(page, base_url, "agent", PASSWORD)
    page.wait_for_url("**/overview")

    page.click("a.who")  # the username in the menu leads to the password page
    page.wait_for_url("**/account/password")
    page.fill("#current", PASSWORD)
    page.fill("#new", "aaaaaaaaaaaa")
    page.fill("#confirm", "aaaaaaaaaaaa")
    page.click("button.primary")
    assert "facile à deviner" in page.inner_text("[role=alert]")
    page.fill("#current", PASSWORD)
    page.fill("#new", NEW_PASSWORD)
    page.fill("#confirm", NEW_PASSWORD)
    page.click("button.primary")
    assert "Mot de passe changé" in page.inner_text("[role=status]")

    copied = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
    page.click("text=Se déconnecter")
    page.wait_for_url("**/login")
    context.add_cookies([copied])  # the cookie as it was before logout
    page.goto(f"{base_url}/overview")
    assert "/login" in page.url and "Connexion" in page.content()

    _sign_in(page, base_url, "agent", PASSWORD)
    assert "incorrect" in page.inner_text("[role=alert]")
    _sign_in(page, base_url, "agent", NEW_PASSWORD)
    page.wait_for_url("**/overview")
    context.close()


def test_repeated_wrong_passwords_meet_the_french_throttle(browser, base_url: str) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    messages = []
    for _ in range(6):
        _sign_in(page, base_url, "structure", "not-the-password-at-all")
        messages.append(page.inner_text("[role=alert]"))
    assert messages[0] == "Identifiant ou mot de passe incorrect."
    assert any(m.startswith("Trop de tentatives de connexion : réessayer dans") for m in messages[3:])
    context.close()


def test_unknown_page_and_oversized_id_show_french_pages(browser, base_url: str, demo_db: DemoData) -> None:  # noqa: ANN001
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    _sign_in(page, base_url, "admin", PASSWORD)
    page.wait_for_url("**/overview")
    response = page.goto(f"{base_url}/nulle-part")
    assert response is not None and response.status == 404
    assert page.inner_text("h1") == "Page introuvable"
    assert page.locator("nav").count() == 1  # the menu stays: the user is not lost
    response = page.goto(f"{base_url}/carriers/{demo_db.carrier_id}/referrals/{'1' * 23}")
    assert response is not None and response.status == 404
    assert page.inner_text("h1") == "Page introuvable"
    assert "Content-Security-Policy".lower() in response.headers
    context.close()
