"""A carrier's « Inscrit(e) » and « Refus »: confirmed, a refusal's reason required, a French message, an undo
within the window, and the place freed only once the refusal stands (issue 17)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from pipeline.store import AuditRow, ReferralRow, Store, utcnow
from tests.web.conftest import DemoData, login
from web.carrier_queue import settle_refusals
from web.desk_models import CarrierOutcomeEventRow
from web.main import create_app

_PLACES_LEFT = re.compile(r'id="places-left">(\d+)<')
DAY = timedelta(days=1)


def _places_left(client: TestClient, carrier_id: str) -> int:
    m = _PLACES_LEFT.search(client.get(f"/carriers/{carrier_id}").text)
    assert m, "queue page without places left"
    return int(m.group(1))


def _age_events(store: Store, referral_id: int, by: timedelta) -> None:
    """Move a referral's outcome events back in time (as if ``by`` had passed)."""
    with store.session() as s:
        for event in s.scalars(select(CarrierOutcomeEventRow).where(CarrierOutcomeEventRow.referral_id == referral_id)):
            event.at = event.at - by


def test_refusal_is_confirmed_needs_a_reason_and_frees_the_place_only_when_it_stands(fresh_demo: DemoData) -> None:
    carrier_id, referral_id = fresh_demo.carrier_id, fresh_demo.referral_id
    base = f"/carriers/{carrier_id}/referrals/{referral_id}"
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        form_id = s.scalars(select(ReferralRow.form_id).where(ReferralRow.id == referral_id)).one()
    used_before = store.places_used(fresh_demo.settings.school_year)[carrier_id]
    with TestClient(create_app(fresh_demo.settings)) as client:
        token = login(client, "structure")
        left_before = _places_left(client, carrier_id)

        # One click no longer acts: the queue links to a confirmation page that asks the reason.
        queue = client.get(f"/carriers/{carrier_id}").text
        assert f'href="{base}/outcome/declined"' in queue
        confirm = html.unescape(client.get(f"{base}/outcome/declined").text)
        assert "Confirmer le refus" in confirm and "Famille injoignable" in confirm
        unconfirmed = client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "declined",
                                                            "reason_code": "family_unreachable"})
        assert unconfirmed.status_code == 422
        no_reason = client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "declined", "confirmed": "1"})
        assert no_reason.status_code == 422 and "motif du refus" in html.unescape(no_reason.text)
        other_blank = client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "declined",
                                                            "confirmed": "1", "reason_code": "other"})
        assert other_blank.status_code == 422 and "préciser" in html.unescape(other_blank.text)
        assert store.places_used(fresh_demo.settings.school_year)[carrier_id] == used_before

        r = client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "declined", "confirmed": "1",
                                                 "reason_code": "schedule", "reason_text": "Mercredi impossible"},
                        follow_redirects=False)
        assert r.status_code == 303
        queue = html.unescape(client.get(f"/carriers/{carrier_id}").text)
        assert f"Refus enregistré pour la fiche {form_id}. La place sera libérée le" in queue  # the message
        assert "Horaires ou lieu incompatibles pour la famille : Mercredi impossible" in queue
        assert "Refus en attente (annulable)" in queue and "Annuler" in queue
        # Within the window the place is still taken: an undo never finds it given to someone else.
        assert _places_left(client, carrier_id) == left_before
        assert store.places_used(fresh_demo.settings.school_year)[carrier_id] == used_before

        # Undo: the referral is back to be followed up, the place never moved.
        assert client.post(f"{base}/undo", data={"csrf_token": token}, follow_redirects=False).status_code == 303
        queue = html.unescape(client.get(f"/carriers/{carrier_id}").text)
        assert f"Suivi annulé pour la fiche {form_id}" in queue
        assert f'href="{base}/outcome/declined"' in queue
        assert client.post(f"{base}/undo", data={"csrf_token": token}).status_code == 409  # nothing left to undo

        # Refused again; a day later the refusal stands: the place is freed and can no longer be undone.
        assert client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "declined", "confirmed": "1",
                                                    "reason_code": "family_declined"},
                           follow_redirects=False).status_code == 303
        _age_events(store, referral_id, DAY + timedelta(minutes=1))
        assert _places_left(client, carrier_id) == left_before + 1
        assert client.post(f"{base}/undo", data={"csrf_token": token}).status_code == 409
        queue = html.unescape(client.get(f"/carriers/{carrier_id}").text)
        assert form_id in queue and "Refusé(e) par la famille ou la structure" in queue  # still shown, marked
        again = client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "enrolled", "confirmed": "1"})
        assert again.status_code == 404  # no follow-up on a declined referral
        client.post("/logout", data={"csrf_token": token})

        login(client, "agent")
        overview = html.unescape(client.get("/overview").text)
        assert 'id="reorient-count">1<' in overview
        assert "À réorienter" in overview and form_id in overview
        assert form_id in html.unescape(client.get("/referrals?status=declined").text)

    assert store.places_used(fresh_demo.settings.school_year).get(carrier_id, 0) == used_before - 1
    with store.session() as s:
        assert s.scalars(select(ReferralRow.status).where(ReferralRow.id == referral_id)).one() == "declined"
        actions = [a.action for a in s.scalars(select(AuditRow).where(AuditRow.detail.contains(form_id))
                                               .order_by(AuditRow.id))]
        details = " ".join(a.detail for a in s.scalars(select(AuditRow)))
    store.close()
    assert [a for a in actions if a.startswith("carrier_declined")] == [
        "carrier_declined", "carrier_declined_undone", "carrier_declined", "carrier_declined_settled"]
    assert "reason schedule" in details and "Mercredi" not in details  # the code is audited, never the text


def test_enrolment_is_confirmed_keeps_the_place_and_can_be_undone(fresh_demo: DemoData) -> None:
    carrier_id, referral_id = fresh_demo.carrier_id, fresh_demo.referral_id
    base = f"/carriers/{carrier_id}/referrals/{referral_id}"
    with TestClient(create_app(fresh_demo.settings)) as client:
        token = login(client, "structure")
        left = _places_left(client, carrier_id)
        assert "Confirmer l'inscription" in html.unescape(client.get(f"{base}/outcome/enrolled").text)
        assert client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "enrolled"}).status_code == 422
        assert client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "enrolled", "confirmed": "1"},
                           follow_redirects=False).status_code == 303
        queue = html.unescape(client.get(f"/carriers/{carrier_id}").text)
        assert "Inscription enregistrée pour la fiche" in queue and "annulable jusqu'au" in queue
        # A second outcome is refused until the first is undone.
        twice = client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "declined", "confirmed": "1",
                                                     "reason_code": "family_declined"})
        assert twice.status_code == 422 and "l'annuler d'abord" in html.unescape(twice.text)
        assert _places_left(client, carrier_id) == left
        assert client.post(f"{base}/undo", data={"csrf_token": token}, follow_redirects=False).status_code == 303
        assert "Nouvelle" in client.get(base).text or "Prise en compte" in client.get(base).text


def test_a_refusal_undone_in_time_is_never_settled(fresh_demo: DemoData) -> None:
    # settle_refusals frees only refusals not undone whose window has passed.
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        s.add(CarrierOutcomeEventRow(referral_id=fresh_demo.referral_id, outcome="declined", reason_code="schedule",
                                     at=utcnow() - 2 * DAY, actor="x", undone_at=utcnow() - DAY, undone_by="x"))
        s.add(CarrierOutcomeEventRow(referral_id=fresh_demo.referral_id, outcome="declined", reason_code="schedule",
                                     at=utcnow() - timedelta(hours=1), actor="x"))
    assert settle_refusals(store, DAY) == 0
    with store.session() as s:
        s.execute(update(CarrierOutcomeEventRow).where(CarrierOutcomeEventRow.undone_at.is_(None))
                  .values(at=utcnow() - DAY - timedelta(seconds=1)))
    assert settle_refusals(store, DAY) == 1
    assert settle_refusals(store, DAY) == 0  # idempotent
    with store.session() as s:
        assert s.scalars(select(ReferralRow.status).where(ReferralRow.id == fresh_demo.referral_id)).one() == "declined"
    store.close()


def test_decline_leaves_a_referral_of_another_carrier_alone(fresh_demo: DemoData) -> None:
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        assert not store.decline_referral(s, fresh_demo.referral_id, fresh_demo.other_carrier_id)
    with store.session() as s:
        assert s.scalars(select(ReferralRow.status).where(ReferralRow.id == fresh_demo.referral_id)).one() == "routed"
    store.close()
