"""Who may see what: anonymous visitors, carriers, staff; CSRF on every form post; cookie flags."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.store import ReviewItemRow, Store
from tests.web.conftest import PASSWORD, DemoData, csrf_of, login


@pytest.mark.parametrize("path", ["/", "/overview", "/review", "/referrals", "/admin/users",
                                  "/carriers/ville-mq-val-argent", "/carriers/ville-mq-val-argent/export.csv"])
def test_anonymous_visitor_gets_the_login_page(client: TestClient, path: str) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    assert "Connexion" in client.get(r.headers["location"]).text


def test_anonymous_visitor_cannot_see_form_images(client: TestClient, demo: DemoData) -> None:
    form = quote(demo.forms["text_pdf-0"], safe="")
    for path in (f"/review/{form}", f"/review/{form}/page/1", f"/review/{form}/crop/pupil_surname"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_session_cookie_is_signed_httponly_samesite(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "agent", "password": PASSWORD, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    # A tampered cookie is ignored: back to the login page.
    value = client.cookies.get("clas_session")
    client.cookies.set("clas_session", value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB"))
    assert client.get("/overview", follow_redirects=False).status_code == 303


def test_wrong_password_is_refused(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "agent", "password": "not-the-password", "csrf_token": token})
    assert r.status_code == 401
    assert "incorrect" in r.text


def test_login_without_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "agent", "password": PASSWORD})
    assert r.status_code == 403


def test_form_post_without_valid_csrf_token_is_refused(client: TestClient, demo: DemoData) -> None:
    login(client, "agent")
    store = Store(demo.settings.database_url)
    with store.session() as s:  # a form still open, whichever the session's other tests decided
        form_id = s.scalar(select(ReviewItemRow.form_id).where(ReviewItemRow.status == "open")
                           .order_by(ReviewItemRow.form_id).limit(1))
    assert form_id is not None
    form = quote(form_id, safe="")
    for data in ({}, {"csrf_token": "forged"}):
        assert client.post(f"/review/{form}/set-aside", data=data).status_code == 403
        assert client.post(f"/review/{form}/reject", data={**data, "reason": "x"}).status_code == 403
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    with store.session() as s:
        status = s.scalar(select(ReviewItemRow.status).where(ReviewItemRow.form_id == form_id))
    store.close()
    assert status == "open"


def test_carrier_cannot_reach_another_carriers_queue_referral_or_export(client: TestClient, demo: DemoData) -> None:
    token = login(client, "autre")  # bound to demo.other_carrier_id
    a = demo.carrier_id
    assert client.get(f"/carriers/{a}").status_code == 403
    assert client.get(f"/carriers/{a}/export.csv").status_code == 403
    assert client.get(f"/carriers/{a}/referrals/{demo.referral_id}").status_code == 403
    # Its own URL with another carrier's referral id: not found, nothing leaks.
    b = demo.other_carrier_id
    assert client.get(f"/carriers/{b}/referrals/{demo.referral_id}").status_code == 404
    assert client.post(f"/carriers/{b}/referrals/{demo.referral_id}/acknowledge",
                       data={"csrf_token": token}).status_code == 404
    assert client.post(f"/carriers/{a}/referrals/{demo.referral_id}/acknowledge",
                       data={"csrf_token": token}).status_code == 403


def test_carrier_cannot_open_review_pages_images_or_crops(client: TestClient, demo: DemoData) -> None:
    token = login(client, "structure")
    form = quote(demo.forms["text_pdf-0"], safe="")
    for path in ("/overview", "/review", "/referrals", "/admin/users", f"/review/{form}",
                 f"/review/{form}/page/1", f"/review/{form}/crop/pupil_surname"):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/review/{form}/set-aside", data={"csrf_token": token}).status_code == 403


def test_carrier_sees_its_own_queue_without_addresses(client: TestClient, demo: DemoData) -> None:
    login(client, "structure")
    page = client.get(f"/carriers/{demo.carrier_id}")
    assert page.status_code == 200
    truth = next(t for t in demo.truths.values() if t["kind"] == "text_pdf")
    values = truth["values"]
    assert isinstance(values, dict)
    routed_names = page.text
    assert "place(s) restante(s)" in routed_names
    assert str(values["pupil_address"]) not in page.text
    r = client.get(f"/carriers/{demo.carrier_id}/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.lstrip("\ufeff").startswith("Fiche;")
    assert str(values["pupil_address"]) not in r.text


def test_staff_is_not_admin(client: TestClient) -> None:
    login(client, "agent")
    assert client.get("/admin/users").status_code == 403
    assert client.get("/overview").status_code == 200
