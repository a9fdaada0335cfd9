"""Agreements and signatures come from the image, a page that never arrived cannot be typed in, and a misread
consent is claimed with a reason and confirmed by an admin before routing (issue 17)."""

from __future__ import annotations

import html
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.form.definition import form_v1
from pipeline.store import AuditRow, ReferralRow, ReviewItemRow, Store
from tests.web.conftest import DemoData, login
from web.consent import ClaimError, claim_misread, decide_claim
from web.desk_models import ConsentClaimRow
from web.main import create_app
from web.models import CorrectionRow

AGREEMENT = "agreement_data_sharing"


def _url(form_id: str) -> str:
    return f"/review/{quote(form_id, safe='')}"


def _state(settings_url: str, form_id: str) -> tuple[str | None, str | None, list[dict[str, object]]]:
    store = Store(settings_url)
    with store.session() as s:
        item = s.scalar(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id))
        referral = s.scalar(select(ReferralRow.status).where(ReferralRow.form_id == form_id))
        state = (item.status if item else None, referral, list(item.reasons) if item else [])
    store.close()
    return state


def _audit(settings_url: str, form_id: str) -> list[tuple[str, str, str]]:
    store = Store(settings_url)
    with store.session() as s:
        rows = [(a.actor, a.action, a.detail) for a in s.scalars(
            select(AuditRow).where(AuditRow.detail.contains(form_id)).order_by(AuditRow.id))]
    store.close()
    return rows


def test_a_consent_the_image_shows_empty_cannot_be_ticked_at_the_desk(fresh_demo: DemoData) -> None:
    form_id = fresh_demo.forms["invalid_no_agreement-3"]
    url, db = _url(form_id), fresh_demo.settings.database_url
    with TestClient(create_app(fresh_demo.settings)) as client:
        token = login(client, "agent")
        page = html.unescape(client.get(url).text)
        assert f'name="f.{AGREEMENT}" value="yes" disabled' in page  # the box cannot be ticked
        assert f'name="p.{AGREEMENT}"' not in page  # nor sent as "unticked" by the page
        assert "Confirmé d'après l'image" in page and 'id="return-consent"' in page
        # What key 1, Enter, Enter did: tick the box, verify it, approve. Refused, nothing written.
        forged = {"csrf_token": token, f"p.{AGREEMENT}": "1", f"f.{AGREEMENT}": "yes", f"v.{AGREEMENT}": "1"}
        r = client.post(f"{url}/approve", data=forged)
        assert r.status_code == 422
        assert "se confirment d'après l'image" in html.unescape(r.text)
        assert _state(db, form_id)[:2] == ("open", None)
        # Confirming the empty box from the image leaves the form invalid: return it to the school.
        r = client.post(f"{url}/approve", data={"csrf_token": token, f"v.{AGREEMENT}": "1"})
        assert r.status_code == 422 and "renvoyer la fiche à l'école" in html.unescape(r.text)
        r = client.post(f"{url}/return", data={"csrf_token": token, "cause": "consent"}, follow_redirects=False)
        assert r.status_code == 303
        assert "renvoyée à l'école" in html.unescape(client.get(r.headers["location"]).text)
    status, referral, reasons = _state(db, form_id)
    assert (status, referral) == ("rejected", None)
    sent = next(str(x["message_fr"]) for x in reasons if x["code"] == "rejected_by_staff")
    assert "Accord ou signature absent de la fiche reçue" in sent and "transmission des informations" in sent
    assert [a for _, a, _ in _audit(db, form_id) if a.startswith("review_")] == ["review_rejected"]


def test_a_page_that_never_arrived_cannot_be_typed_in_and_is_asked_of_the_school(fresh_demo: DemoData) -> None:
    form_id = fresh_demo.forms["invalid_page2_missing-5"]
    url, db = _url(form_id), fresh_demo.settings.database_url
    page2 = [f for f in form_v1().fields if f.page == 2]
    with TestClient(create_app(fresh_demo.settings)) as client:
        token = login(client, "agent")
        page = html.unescape(client.get(url).text)
        assert f"Page 2 non reçue : ses {len(page2)} champs ne peuvent pas être saisis" in page
        assert "Champs douteux ou invalides (0)" in page  # not 11 fields to « Vérifier » without an image
        for f in page2:
            assert f'name="v.{f.name}"' not in page and f'name="f.{f.name}"' not in page
        assert 'id="approve"' not in page and 'id="ask-missing-page"' in page
        # Typing page 2 in anyway (a forged post) is refused; nothing is written.
        typed = {"csrf_token": token, "p.guardian1_surname": "1", "f.guardian1_surname": "DUPONT",
                 "p.guardian1_phone": "1", "f.guardian1_phone": "0612345678"}
        typed |= {f"v.{f.name}": "1" for f in page2}
        r = client.post(f"{url}/approve", data=typed)
        assert r.status_code == 422 and "Page 2 non reçue" in html.unescape(r.text)
        assert _state(db, form_id)[:2] == ("open", None)
        r = client.post(f"{url}/return", data={"csrf_token": token, "cause": "missing_page"}, follow_redirects=False)
        assert r.status_code == 303
    status, referral, reasons = _state(db, form_id)
    assert (status, referral) == ("rejected", None)
    assert any("Page 2 de la fiche non reçue" in str(x["message_fr"]) for x in reasons)


def test_a_misread_consent_is_claimed_with_a_reason_and_confirmed_by_an_admin_before_routing(
        fresh_demo: DemoData) -> None:
    form_id = fresh_demo.forms["invalid_no_agreement-3"]
    url, db = _url(form_id), fresh_demo.settings.database_url
    with TestClient(create_app(fresh_demo.settings)) as agent, TestClient(create_app(fresh_demo.settings)) as admin:
        token = login(agent, "agent")
        assert agent.post(f"{url}/consent-claim", data={"csrf_token": token, "field": AGREEMENT, "reason": " "}
                          ).status_code == 422  # a reason is required
        assert agent.post(f"{url}/consent-claim", data={"csrf_token": token, "field": "pupil_surname",
                                                        "reason": "x"}).status_code == 422  # consents only
        r = agent.post(f"{url}/consent-claim", data={"csrf_token": token, "field": AGREEMENT,
                                                     "reason": "Croix légère dans la case, visible sur l'image."},
                       follow_redirects=False)
        assert r.status_code == 303
        assert _state(db, form_id)[0] == "set_aside"  # in the supervisor queue now
        assert agent.post(f"{url}/approve", data={"csrf_token": token, f"v.{AGREEMENT}": "1"}).status_code == 403

        admin_token = login(admin, "admin")
        assert form_id in admin.get("/review/supervisor").text
        page = html.unescape(admin.get(url).text)
        assert "Croix légère dans la case" in page and "en attente de confirmation" in page
        r = admin.post(f"{url}/approve", data={"csrf_token": admin_token, f"v.{AGREEMENT}": "1"})
        assert r.status_code == 409 and "doit la confirmer" in html.unescape(r.text)  # not before confirmation
        claim_id = int(page.split('id="confirm-claim-')[1].split('"')[0])
        r = admin.post(f"{url}/consent-claim/{claim_id}", data={"csrf_token": admin_token, "decision": "confirm"},
                       follow_redirects=False)
        assert r.status_code == 303
        r = admin.post(f"{url}/approve", data={"csrf_token": admin_token, f"v.{AGREEMENT}": "1"},
                       follow_redirects=False)
        assert r.status_code == 303, html.unescape(r.text)[:2000]
    assert _state(db, form_id)[:2] == ("approved", "routed")
    audit = _audit(db, form_id)
    assert ("agent", "consent_misread_claimed") in [(a, b) for a, b, _ in audit]
    assert ("admin", "consent_misread_confirmed") in [(a, b) for a, b, _ in audit]
    approved = next(d for _, b, d in audit if b == "review_approved")
    assert f"consent misread confirmed: {AGREEMENT}" in approved
    assert "Croix" not in " ".join(d for _, _, d in audit)  # the reason's text never reaches the audit trail
    store = Store(db)
    with store.session() as s:
        fixed = s.scalars(select(CorrectionRow).where(CorrectionRow.form_id == form_id)).all()
    store.close()
    assert [(c.field, c.machine_value, c.corrected_value) for c in fixed] == [(AGREEMENT, False, True)]


def test_an_admin_cannot_confirm_their_own_claim(fresh_demo: DemoData) -> None:
    form_id = fresh_demo.forms["invalid_no_agreement-3"]
    store = Store(fresh_demo.settings.database_url)
    claim_misread(store, form_id, AGREEMENT, "Croix visible.", "admin", ("open", "set_aside"))
    with store.session() as s:
        claim_id = s.scalars(select(ConsentClaimRow.id)).one()
    with pytest.raises(ClaimError):
        decide_claim(store, form_id, claim_id, True, "admin")
    assert decide_claim(store, form_id, claim_id, False, "autre-admin").status == "refused"
    store.close()
