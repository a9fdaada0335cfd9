"""A carrier's decline frees the place and puts the referral in front of staff to re-orient."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.store import ReferralRow, Store
from tests.web.conftest import DemoData, login
from web.main import create_app

_PLACES_LEFT = re.compile(r'id="places-left">(\d+)<')


def _places_left(client: TestClient, carrier_id: str) -> int:
    m = _PLACES_LEFT.search(client.get(f"/carriers/{carrier_id}").text)
    assert m, "queue page without places left"
    return int(m.group(1))


def test_declined_referral_frees_its_place_and_staff_see_it_to_reorient(fresh_demo: DemoData) -> None:
    carrier_id, referral_id = fresh_demo.carrier_id, fresh_demo.referral_id
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        form_id = s.scalars(select(ReferralRow.form_id).where(ReferralRow.id == referral_id)).one()
    used_before = store.places_used(fresh_demo.settings.school_year)[carrier_id]
    with TestClient(create_app(fresh_demo.settings)) as client:
        token = login(client, "structure")
        left_before = _places_left(client, carrier_id)
        r = client.post(f"/carriers/{carrier_id}/referrals/{referral_id}/outcome",
                        data={"csrf_token": token, "outcome": "declined"}, follow_redirects=False)
        assert r.status_code == 303
        assert _places_left(client, carrier_id) == left_before + 1
        queue = html.unescape(client.get(f"/carriers/{carrier_id}").text)
        assert form_id in queue and "Refusé(e) par la famille ou la structure" in queue  # still shown, marked
        again = client.post(f"/carriers/{carrier_id}/referrals/{referral_id}/outcome",
                            data={"csrf_token": token, "outcome": "enrolled"})
        assert again.status_code == 404  # no follow-up on a declined referral
        client.post("/logout", data={"csrf_token": token})

        login(client, "agent")
        overview = html.unescape(client.get("/overview").text)
        assert 'id="reorient-count">1<' in overview
        assert "À réorienter" in overview and form_id in overview
        assert form_id in html.unescape(client.get("/referrals?status=declined").text)
        assert "refusée par la structure, à réorienter" in html.unescape(client.get("/referrals").text)

    assert store.places_used(fresh_demo.settings.school_year).get(carrier_id, 0) == used_before - 1
    with store.session() as s:
        assert s.scalars(select(ReferralRow.status).where(ReferralRow.id == referral_id)).one() == "declined"
    store.close()


def test_decline_leaves_a_referral_of_another_carrier_alone(fresh_demo: DemoData) -> None:
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        assert not store.decline_referral(s, fresh_demo.referral_id, fresh_demo.other_carrier_id)
    with store.session() as s:
        assert s.scalars(select(ReferralRow.status).where(ReferralRow.id == fresh_demo.referral_id)).one() == "routed"
    store.close()
