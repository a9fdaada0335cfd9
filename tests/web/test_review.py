"""Review on a database made by the real pipeline: correct → approve → routed, and the other decisions."""

from __future__ import annotations

import html
import re
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy import select

from pipeline.deciding.directory import load_directory
from pipeline.deciding.route import rank_candidates
from pipeline.store import (
    AuditRow,
    DocumentRow,
    FieldResultRow,
    FieldVerificationRow,
    ReferralRow,
    ReviewItemRow,
    Store,
)
from schemas.directory import ClassLevel
from tests.web.conftest import DemoData, csrf_of, login
from web.main import create_app
from web.models import CorrectionRow
from web.review import parse_corrections


def _school_with_places(demo: DemoData, level: str) -> str:
    """A directory school teaching ``level`` that some carrier with places serves."""
    directory = load_directory(demo.settings.directory_file)
    for school in directory.schools:
        if school.offers(ClassLevel(level)) and any(
                c.places_left > 0 for c in rank_candidates(school.id, school.neighbourhood, ClassLevel(level),
                                                           directory, {})):
            return school.name
    raise AssertionError("no school with places in the demo directory")


def _state(demo: DemoData, form_id: str) -> tuple[str | None, str | None, list[str], str | None]:
    store = Store(demo.settings.database_url)
    with store.session() as s:
        item = s.scalar(select(ReviewItemRow.status).where(ReviewItemRow.form_id == form_id))
        referral = s.scalar(select(ReferralRow).where(ReferralRow.form_id == form_id))
        docs = list(s.scalars(select(DocumentRow.status).where(DocumentRow.form_id == form_id)))
        state = (item, referral.status if referral else None, docs, referral.carrier_id if referral else None)
    store.close()
    return state


def test_review_list_shows_invalid_forms_with_french_reasons(client: TestClient, demo: DemoData) -> None:
    login(client, "agent")
    page = html.unescape(client.get("/review").text)
    assert demo.forms["invalid_unknown_school-2"] in page
    assert "introuvable dans l'annuaire" in page
    assert demo.forms["text_pdf-0"] not in page


def test_form_page_shows_doubtful_field_with_crop_and_page_image(client: TestClient, demo: DemoData) -> None:
    login(client, "agent")
    form_id = demo.forms["invalid_unknown_school-2"]
    url = f"/review/{quote(form_id, safe='')}"
    page = client.get(url).text
    assert "École ou collège" in page and "confiance" in page
    assert 'data-doubtful="1"' in page and "Entrée" in page  # keyboard help on the page
    crop = client.get(f"{url}/crop/school_name")
    image = client.get(f"{url}/page/1")
    assert crop.headers["content-type"] == image.headers["content-type"] == "image/png"
    assert crop.content[:8] == image.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"{url}/page/7").status_code == 404
    assert client.get(f"{url}/crop/not_a_field").status_code == 404


def test_correct_approve_routes_and_records_everything(client: TestClient, demo: DemoData) -> None:
    token = login(client, "agent")
    form_id = demo.forms["invalid_unknown_school-2"]
    url = f"/review/{quote(form_id, safe='')}"
    level = demo.truths[form_id]["values"]["class_level"][0]  # type: ignore[index]
    school = _school_with_places(demo, level)

    client.get(url)
    r = client.post(f"{url}/approve", data={"csrf_token": token, "p.school_name": "1", "f.school_name": school},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"]).text
    assert "validée et orientée vers" in page
    assert "Corrigé par agent" in page

    item, status, docs, carrier = _state(demo, form_id)
    assert (item, status, docs) == ("approved", "routed", ["routed"])
    assert carrier is not None
    store = Store(demo.settings.database_url)
    with store.session() as s:
        corrections = s.scalars(select(CorrectionRow).where(CorrectionRow.form_id == form_id)).all()
        actions = [a.action for a in s.scalars(select(AuditRow).where(AuditRow.detail.contains(form_id)))]
        audit_text = " ".join(a.detail for a in s.scalars(select(AuditRow)))
        machine = s.scalar(select(FieldResultRow).where(FieldResultRow.form_id == form_id,
                                                        FieldResultRow.name == "school_name"))
        kept = s.scalars(select(FieldVerificationRow).where(FieldVerificationRow.form_id == form_id)).all()
        assert machine is not None
        kept_school = [(v.name, v.machine_value, v.final_value, v.corrected, v.crop, v.readings)
                       for v in kept if v.name == "school_name"]
        expected_school = [("school_name", machine.value, school, True, f"crops/{form_id}/p1/school_name.png",
                            (machine.evidence or {}).get("readings", []))]
    store.close()
    assert [(c.field, c.corrected_value, c.actor) for c in corrections] == [("school_name", school, "agent")]
    # Issue 18: the corrected field is kept to calibrate the readers, with what each reader read.
    assert kept_school == expected_school
    assert "form_viewed" in actions and "review_approved" in actions
    assert school not in audit_text  # values never reach the audit trail

    # A second approval is refused: the form was decided.
    again = client.post(f"{url}/approve", data={"csrf_token": token, "p.school_name": "1", "f.school_name": school})
    assert again.status_code == 409

    # The carrier now sees it in its queue.
    client.post("/logout", data={"csrf_token": csrf_of(page)})


def test_approve_with_remaining_errors_changes_nothing(client: TestClient, demo: DemoData) -> None:
    token = login(client, "agent")
    form_id = demo.forms["invalid_no_agreement-3"]
    url = f"/review/{quote(form_id, safe='')}"
    r = client.post(f"{url}/approve", data={"csrf_token": token, "p.pupil_postcode": "1", "f.pupil_postcode": "951",
                                            "v.agreement_data_sharing": "1"})
    assert r.status_code == 422
    assert "toujours pas valide" in r.text and "5 chiffres attendus" in html.unescape(r.text)
    assert _state(demo, form_id)[:3] == ("open", None, ["review"])


def test_approval_waits_until_every_doubtful_field_is_verified_or_corrected(fresh_demo: DemoData) -> None:
    # Issue 3: a reading in doubt is never routed without a person having compared it with its image.
    form_id = fresh_demo.forms["invalid_unknown_school-2"]
    url = f"/review/{quote(form_id, safe='')}"
    level = fresh_demo.truths[form_id]["values"]["class_level"][0]  # type: ignore[index]
    school = _school_with_places(fresh_demo, level)
    with TestClient(create_app(fresh_demo.settings)) as client:
        token = login(client, "agent")
        page = html.unescape(client.get(url).text)
        assert 'name="v.school_name"' in page and "Vérifié d'après l'image" in page
        assert 'name="v.pupil_surname"' not in page  # fields read without doubt have no box

        machine = re.search(r'id="in-school_name" name="f.school_name" value="([^"]*)"', page)
        assert machine is not None
        untouched = {"csrf_token": token, "p.school_name": "1", "f.school_name": machine.group(1),
                     "p.pupil_surname": "1", "f.pupil_surname": "MARTINEZ-TEST"}
        r = client.post(f"{url}/approve", data=untouched)
        assert r.status_code == 422
        shown = html.unescape(r.text)
        assert "Champs douteux pas encore vérifiés : " in shown and "« École ou collège »" in shown
        assert 'value="MARTINEZ-TEST"' in shown  # what the reviewer typed is shown again, not lost
        assert _state(fresh_demo, form_id)[:3] == ("open", None, ["review"])

        # Ticking the box (as Enter does) verifies it; the school is still unknown, so validation speaks next.
        r = client.post(f"{url}/approve", data={**untouched, "v.school_name": "1"})
        assert r.status_code == 422 and "toujours pas valide" in r.text
        assert 'name="v.school_name" value="1" checked' in r.text  # the tick is kept
        assert _state(fresh_demo, form_id)[:3] == ("open", None, ["review"])

        # Correcting the field verifies it too.
        del untouched["p.pupil_surname"], untouched["f.pupil_surname"]
        r = client.post(f"{url}/approve", data={**untouched, "f.school_name": school}, follow_redirects=False)
        assert r.status_code == 303, html.unescape(r.text)[:3000]
        assert _state(fresh_demo, form_id)[0] == "approved"
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        detail = s.scalar(select(AuditRow.detail).where(AuditRow.action == "review_approved",
                                                        AuditRow.detail.contains(form_id)))
    store.close()
    assert "verified: school_name" in str(detail)  # who verified what stays in the audit trail


def test_set_aside_then_the_supervisor_rejects_with_reason(client: TestClient, demo: DemoData) -> None:
    token = login(client, "agent")
    form_id = demo.forms["invalid_no_criterion-4"]
    url = f"/review/{quote(form_id, safe='')}"
    assert client.post(f"{url}/set-aside", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert _state(demo, form_id)[0] == "set_aside"
    assert "mise de côté" in client.get("/review").text  # the flash message
    assert form_id not in client.get("/review").text  # the staff's list no longer holds it
    with TestClient(create_app(demo.settings)) as supervisor:
        admin_token = login(supervisor, "admin")
        assert form_id in supervisor.get("/review/supervisor").text
        assert supervisor.post(f"{url}/reject", data={"csrf_token": admin_token, "reason": "  "}).status_code == 422
        r = supervisor.post(f"{url}/reject", data={"csrf_token": admin_token,
                                                   "reason": "Aucun critère coché : merci de compléter."},
                            follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/review/supervisor"
        assert _state(demo, form_id)[0] == "rejected"
        assert f"{form_id} rejetée" in supervisor.get("/review/supervisor").text  # the flash message, once
        assert form_id not in supervisor.get("/review/supervisor").text


def test_mark_duplicate_needs_an_existing_referral(client: TestClient, demo: DemoData) -> None:
    token = login(client, "agent")
    form_id = demo.forms["invalid_no_agreement-3"]
    url = f"/review/{quote(form_id, safe='')}"
    assert client.post(f"{url}/duplicate", data={"csrf_token": token, "duplicate_of": "FO-0000-000000"}
                       ).status_code == 422
    assert client.post(f"{url}/duplicate", data={"csrf_token": token, "duplicate_of": demo.forms["text_pdf-0"]},
                       follow_redirects=False).status_code == 303
    assert _state(demo, form_id)[:3] == ("duplicate", None, ["duplicate"])


def test_carrier_acknowledges_and_enrols(client: TestClient, demo: DemoData) -> None:
    token = login(client, "structure")
    base = f"/carriers/{demo.carrier_id}/referrals/{demo.referral_id}"
    assert client.post(f"{base}/acknowledge", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert "Prise en compte" in client.get(base).text
    assert client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "nope"}).status_code == 422
    assert client.post(f"{base}/outcome", data={"csrf_token": token, "outcome": "enrolled", "confirmed": "1"},
                       follow_redirects=False).status_code == 303
    assert "Inscrit(e)" in client.get(base).text
    assert "Inscrit(e)" in client.get(f"/carriers/{demo.carrier_id}/export.csv").text


def test_admin_creates_a_carrier_account(client: TestClient, demo: DemoData) -> None:
    token = login(client, "admin")
    r = client.post("/admin/users", data={"csrf_token": token, "username": "court", "password": "short",
                                          "role": "carrier", "carrier_id": demo.carrier_id})
    assert r.status_code == 422 and "12 caractères" in r.text
    r = client.post("/admin/users", data={"csrf_token": token, "username": "nouvelle", "password": "x" * 14,
                                          "role": "carrier", "carrier_id": ""})
    assert r.status_code == 422
    r = client.post("/admin/users", data={"csrf_token": token, "username": "nouvelle", "password": "x" * 14,
                                          "role": "carrier", "carrier_id": demo.carrier_id})
    assert r.status_code == 422 and "facile à deviner" in r.text  # a repeat (issue 17)
    r = client.post("/admin/users", data={"csrf_token": token, "username": "nouvelle",
                                          "password": "Tortue-Lanterne-Ocre-58", "role": "carrier",
                                          "carrier_id": demo.carrier_id}, follow_redirects=False)
    assert r.status_code == 303
    assert "nouvelle" in client.get("/admin/users").text


def test_parse_corrections_reads_every_kind() -> None:
    values = parse_corrections({
        "p.pupil_surname": ["1"], "f.pupil_surname": ["  Da   Silva "],
        "p.class_level": ["1"], "f.class_level": ["CM1", "bogus"],
        "p.agreement_orientation": ["1"], "f.agreement_orientation": ["yes"],
        "p.agreement_data_sharing": ["1"],
        "p.observations": ["1"], "f.observations": [""],
        "f.pupil_town": ["ignored without its marker"], "p.unknown": ["1"],
    })
    assert values == {"pupil_surname": "Da Silva", "class_level": ["CM1"], "agreement_orientation": True,
                      "agreement_data_sharing": False, "observations": None}


def test_a_crop_kept_by_the_scan_reader_is_served_as_is(fresh_demo: DemoData) -> None:
    """A doubtful scan field's crop, stored at reading time, is served without re-registering the page."""
    from pipeline.reading.crops import crop_path
    from web.main import create_app

    form = fresh_demo.forms["text_pdf-0"]
    png = b"\x89PNG\r\n\x1a\n" + b"kept-crop" * 10
    path = crop_path(fresh_demo.settings.data_dir, form, 1, "pupil_surname")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    with TestClient(create_app(fresh_demo.settings)) as client:
        login(client, "agent")
        r = client.get(f"/review/{form}/crop/pupil_surname")
        assert r.status_code == 200 and r.content == png
        other = client.get(f"/review/{form}/crop/pupil_first_name")  # nothing kept: cut from the page
        assert other.status_code == 200 and other.content.startswith(b"\x89PNG") and other.content != png


def test_the_form_page_shows_what_each_reader_read_and_which_rule_held_the_field(fresh_demo: DemoData) -> None:
    from sqlalchemy import update

    from pipeline.reading.rules import FIELD_RULES
    from pipeline.store import FieldResultRow
    from web.main import create_app

    form = fresh_demo.forms["invalid_unknown_school-2"]
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:
        stored = s.scalar(select(FieldResultRow.evidence).where(FieldResultRow.form_id == form,
                                                                 FieldResultRow.name == "pupil_surname"))
        assert stored == {"readings": [], "rules": []}  # a born-digital form: its AcroForm value, no rule
        s.execute(update(FieldResultRow).where(FieldResultRow.form_id == form, FieldResultRow.name == "pupil_surname")
                  .values(evidence={"readings": [{"reader": "tesseract", "value": "MARTlN", "score": 0.41},
                                                 {"reader": "ppocr", "value": None, "score": None}],
                                    "rules": ["readers_differ"]}))
    store.close()
    with TestClient(create_app(fresh_demo.settings)) as client:
        login(client, "agent")
        page = html.unescape(client.get(f"/review/{quote(form, safe='')}").text)
    assert "Pourquoi cette confiance" in page
    assert "Tesseract a lu « MARTlN » (41%)." in page and "PP-OCRv6 n'a rien lu." in page
    assert f"Règle : {FIELD_RULES['readers_differ'].fr}" in page


def test_a_handwritten_field_read_against_its_lexicon_shows_the_constrained_reading_and_rule(
        fresh_demo: DemoData) -> None:
    from sqlalchemy import update

    from pipeline.reading.rules import FIELD_RULES
    from pipeline.store import FieldResultRow
    from web.main import create_app

    form = fresh_demo.forms["invalid_unknown_school-2"]
    store = Store(fresh_demo.settings.database_url)
    with store.session() as s:  # what the scan reader records for a handwritten first name it decoded
        s.execute(update(FieldResultRow).where(FieldResultRow.form_id == form,
                                               FieldResultRow.name == "pupil_first_name")
                  .values(evidence={"readings": [{"reader": "tesseract", "value": "Iuiie", "score": 0.31},
                                                 {"reader": "ppocr", "value": "Julie", "score": 0.88},
                                                 {"reader": "ppocr_constrained", "value": "Julie", "score": 0.93}],
                                    "rules": ["readers_differ", "constrained_first_name"]}))
    store.close()
    with TestClient(create_app(fresh_demo.settings)) as client:
        login(client, "agent")
        page = html.unescape(client.get(f"/review/{quote(form, safe='')}").text)
    assert "PP-OCRv6 contraint aux valeurs permises du champ a lu « Julie » (93%)." in page
    assert "Tesseract a lu « Iuiie » (31%)." in page
    assert f"Règle : {FIELD_RULES['constrained_first_name'].fr}" in page
