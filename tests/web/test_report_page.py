"""The yearly report on the desk: staff and admins see the figures and charts, carriers are refused."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import DemoData, login


@pytest.mark.parametrize("username", ["agent", "admin"])
def test_staff_and_admins_see_the_report(client: TestClient, demo: DemoData, username: str) -> None:
    login(client, username)
    page = client.get("/report")
    assert page.status_code == 200
    assert "Bilan annuel CLAS" in page.text and "Secret statistique" in page.text
    assert len(re.findall(r'<img class="chart" src="data:image/png;base64,', page.text)) == 8
    pdf = client.get("/report/pdf?year=2026-2027")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_carriers_do_not_see_the_report(client: TestClient) -> None:
    login(client, "structure")
    assert client.get("/report").status_code == 403
    assert client.get("/report/pdf").status_code == 403


def test_a_malformed_year_is_refused(client: TestClient) -> None:
    login(client, "agent")
    assert client.get("/report?year=2026-2028").status_code == 404
