"""The supervisor queue: staff set a form aside; only a supervisor (an admin account) sees that queue and decides it."""

from __future__ import annotations

import html
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.store import ReviewItemRow, Store
from tests.web.conftest import DemoData, login
from tests.web.test_review import _school_with_places
from web.main import create_app


def _status(demo: DemoData, form_id: str) -> str | None:
    store = Store(demo.settings.database_url)
    try:
        with store.session() as s:
            return s.scalar(select(ReviewItemRow.status).where(ReviewItemRow.form_id == form_id))
    finally:
        store.close()


def test_only_a_supervisor_sees_and_decides_set_aside_forms(fresh_demo: DemoData) -> None:
    # A school to correct, not a consent: agreements are never ticked by hand (issue 17, tests/web/test_consent.py).
    form_id = fresh_demo.forms["invalid_unknown_school-2"]
    url = f"/review/{quote(form_id, safe='')}"
    level = fresh_demo.truths[form_id]["values"]["class_level"][0]  # type: ignore[index]
    school = _school_with_places(fresh_demo, level)
    app = create_app(fresh_demo.settings)
    with TestClient(app) as staff, TestClient(app) as supervisor:
        token = login(staff, "agent")
        assert staff.post(f"{url}/set-aside", data={"csrf_token": token}, follow_redirects=False).status_code == 303
        assert staff.get("/review/supervisor").status_code == 403
        page = html.unescape(staff.get(url).text)
        assert 'id="supervisor-only"' in page and 'id="approve"' not in page  # seen, not decidable
        refused = [
            staff.post(f"{url}/approve", data={"csrf_token": token, "p.school_name": "1", "f.school_name": school}),
            staff.post(f"{url}/reject", data={"csrf_token": token, "reason": "Signature manquante."}),
            staff.post(f"{url}/duplicate", data={"csrf_token": token, "duplicate_of": fresh_demo.forms["text_pdf-0"]}),
        ]
        assert [r.status_code for r in refused] == [403, 403, 403]
        assert _status(fresh_demo, form_id) == "set_aside"
        assert 'href="/review/supervisor"' not in staff.get("/overview").text

        admin_token = login(supervisor, "admin")
        assert 'href="/review/supervisor"' in supervisor.get("/overview").text
        queue = supervisor.get("/review/supervisor")
        assert queue.status_code == 200 and form_id in queue.text
        form_page = supervisor.get(url).text
        assert 'id="approve"' in form_page and 'action="' + url + '/reject"' in form_page
        r = supervisor.post(f"{url}/approve", data={"csrf_token": admin_token, "p.school_name": "1",
                                                    "f.school_name": school}, follow_redirects=False)
        assert r.status_code == 303, html.unescape(r.text)
        assert "validée et orientée" in html.unescape(supervisor.get(r.headers["location"]).text)
        assert _status(fresh_demo, form_id) == "approved"
        assert form_id not in supervisor.get("/review/supervisor").text


def test_a_carrier_cannot_see_the_supervisor_queue(client: TestClient) -> None:
    login(client, "structure")
    assert client.get("/review/supervisor").status_code == 403
