"""Places over the year, and the longest-waiting referral proposed when a place frees up (staff confirm)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select

import web.desk_models  # noqa: F401
from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from pipeline.store import DocumentRow, ReferralRow, Store
from schemas.directory import Directory
from tests.web.conftest import PASSWORD, csrf_of, login
from web.accounts import create_user
from web.carrier_queue import set_outcome, settle_refusals
from web.main import create_app
from web.models import FollowUpOutcome, Role
from web.places import ConfirmResult, carrier_year, confirm_proposal, proposals

YEAR = "2026-2027"
CARRIER = "asso-lire-grandir"  # 10 places, centre-ville, CP to CE2
T0 = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
UNDO = timedelta(hours=24)


def _referral(s, n: int, school: str, level: str, status: str, carrier: str | None, at: datetime) -> int:  # noqa: ANN001
    row = ReferralRow(form_id=f"FO-2026-{n:05d}", school_year=YEAR, pupil_key=f"k{n}", school_id=school,
                      class_level=level, status=status, carrier_id=carrier, data={}, created_at=at)
    s.add(row)
    s.add(DocumentRow(sha256=f"{n:064d}", source="test", original_name=f"{n}.pdf", media_type="application/pdf",
                      size_bytes=1, stored_path="/dev/null", received_at=at, status=status, form_id=row.form_id,
                      reasons=[]))
    s.flush()
    return row.id


def _build(root: Path) -> tuple[Settings, Store, Directory, dict[str, int]]:
    settings = Settings(database_url=f"sqlite:///{root / 'clas.sqlite3'}", data_dir=root / "data")
    directory = load_directory(settings.directory_file)
    import web.main  # noqa: F401 - the desk tables

    store = Store(settings.database_url)
    ids: dict[str, int] = {}
    with store.session() as s:
        for i in range(10):  # the carrier is full
            ids[f"routed{i}"] = _referral(s, i + 1, "ee-jules-ferry", "CP", "routed", CARRIER, T0)
        ids["w_late"] = _referral(s, 20, "ee-anatole-france", "CE1", "waiting_list", None, T0 + timedelta(days=2))
        ids["w_first"] = _referral(s, 21, "ee-jules-ferry", "CE2", "waiting_list", None, T0 + timedelta(days=1))
        ids["w_college"] = _referral(s, 22, "clg-claude-monet", "6E", "waiting_list", None, T0)  # not its level
        ids["w_other_year"] = _referral(s, 23, "ee-jules-ferry", "CP", "waiting_list", None, T0 - timedelta(days=30))
        s.get_one(ReferralRow, ids["w_other_year"]).school_year = "2025-2026"
        create_user(s, directory, "agent", PASSWORD, Role.STAFF, actor="test")
        create_user(s, directory, "structure", PASSWORD, Role.CARRIER, CARRIER, actor="test")
    return settings, store, directory, ids


def _mine(store: Store, directory: Directory):  # noqa: ANN202
    with store.session() as s:
        year = carrier_year(s, directory, YEAR)
        props = proposals(s, directory, YEAR, year, now=T0 + timedelta(days=10))
    return next(p for p in year if p.carrier_id == CARRIER), next((p for p in props if p.carrier_id == CARRIER), None)


def test_a_freed_place_proposes_the_longest_waiting_referral_and_staff_confirm(tmp_path: Path) -> None:
    settings, store, directory, ids = _build(tmp_path)
    places, proposal = _mine(store, directory)
    assert (places.capacity, places.oriented, places.used, places.left) == (10, 10, 10, 0)
    assert proposal is None  # full: nothing proposed

    # A refusal frees the place only once it stands.
    set_outcome(store, CARRIER, ids["routed0"], FollowUpOutcome.DECLINED, "structure", undo_window=UNDO,
                reason_code="schedule", now=T0 + timedelta(days=3))
    set_outcome(store, CARRIER, ids["routed1"], FollowUpOutcome.ENROLLED, "structure", undo_window=UNDO,
                now=T0 + timedelta(days=3))
    assert _mine(store, directory)[1] is None
    settle_refusals(store, UNDO, now=T0 + timedelta(days=5))
    places, proposal = _mine(store, directory)
    assert (places.oriented, places.enrolled, places.in_progress, places.freed, places.used, places.left) == \
        (10, 1, 8, 1, 9, 1)
    assert proposal is not None
    assert (proposal.referral_id, proposal.form_id, proposal.class_level, proposal.waiting_days) == \
        (ids["w_first"], "FO-2026-00021", "CE2", 9)
    assert proposal.others_waiting == 1  # w_late; the collège pupil and last year's are not this carrier's

    # Nothing moved until staff confirm; confirming routes it (referral and documents) and fills the place.
    with store.session() as s:
        assert s.get_one(ReferralRow, ids["w_first"]).status == "waiting_list"
    assert confirm_proposal(store, directory, YEAR, ids["w_first"], CARRIER, "agent") == \
        (ConfirmResult.ROUTED, "FO-2026-00021")
    with store.session() as s:
        r = s.get_one(ReferralRow, ids["w_first"])
        assert (r.status, r.carrier_id) == ("routed", CARRIER)
        assert s.scalar(select(DocumentRow.status).where(DocumentRow.form_id == "FO-2026-00021")) == "routed"
    assert confirm_proposal(store, directory, YEAR, ids["w_first"], CARRIER, "agent")[0] is ConfirmResult.NOT_WAITING
    assert confirm_proposal(store, directory, YEAR, ids["w_late"], CARRIER, "agent")[0] is ConfirmResult.FULL
    assert confirm_proposal(store, directory, YEAR, ids["w_college"], CARRIER, "agent")[0] is \
        ConfirmResult.NOT_SERVED
    assert _mine(store, directory)[1] is None

    # A capacity raised in the directory frees a place too: the next longest-waiting one is proposed.
    bigger = directory.model_copy(update={"carriers": tuple(
        c.model_copy(update={"places": 11}) if c.id == CARRIER else c for c in directory.carriers)})
    places, proposal = _mine(store, bigger)
    assert places.left == 1 and proposal is not None and proposal.referral_id == ids["w_late"]
    store.close()


def test_the_overview_proposes_and_staff_confirm_carriers_cannot(tmp_path: Path) -> None:
    settings, store, directory, ids = _build(tmp_path)
    with store.session() as s:  # a place is free: one of the ten goes back to the list
        s.get_one(ReferralRow, ids["routed9"]).status = "waiting_list"
        s.get_one(ReferralRow, ids["routed9"]).carrier_id = None
    store.close()
    with TestClient(create_app(settings)) as client:
        login(client, "structure")
        token = csrf_of(client.get(f"/carriers/{CARRIER}").text)
        denied = client.post("/places/confirm", data={"csrf_token": token, "referral_id": str(ids["w_first"]),
                                                       "carrier_id": CARRIER})
        assert denied.status_code == 403
        client.post("/logout", data={"csrf_token": token})
        login(client, "agent")
        page = client.get("/overview")
        row = page.text[page.text.index(f'id="proposal-{CARRIER}"'):]
        row = row[:row.index("</tr>")]
        assert "FO-2026-00010" in row  # routed9, received first (T0), now the longest waiting
        assert 'id="places-asso-lire-grandir"' in page.text
        done = client.post("/places/confirm", data={"csrf_token": csrf_of(page.text),
                                                     "referral_id": str(ids["routed9"]), "carrier_id": CARRIER})
        assert done.status_code == 200
        assert "Fiche FO-2026-00010 orientée vers Association Lire et Grandir" in done.text
        assert f'id="proposal-{CARRIER}"' not in done.text


def test_an_enrolled_pupil_who_leaves_frees_the_place_and_the_next_one_is_proposed(tmp_path: Path) -> None:
    from web.carrier_queue import withdraw_enrolled

    settings, store, directory, ids = _build(tmp_path)
    enrolled_at = T0 + timedelta(days=3)
    set_outcome(store, CARRIER, ids["routed2"], FollowUpOutcome.ENROLLED, "structure", undo_window=UNDO,
                now=enrolled_at)
    # Not while the enrolment can still be undone, not for a pupil not enrolled, not for another carrier.
    assert withdraw_enrolled(store, CARRIER, ids["routed2"], "structure", undo_window=UNDO,
                             now=enrolled_at + timedelta(hours=1)) is None
    assert withdraw_enrolled(store, CARRIER, ids["routed3"], "structure", undo_window=UNDO,
                             now=enrolled_at + 2 * UNDO) is None
    assert withdraw_enrolled(store, "asso-plume-cartable", ids["routed2"], "structure", undo_window=UNDO,
                             now=enrolled_at + 2 * UNDO) is None
    assert _mine(store, directory)[1] is None
    assert withdraw_enrolled(store, CARRIER, ids["routed2"], "structure", undo_window=UNDO,
                             now=enrolled_at + 2 * UNDO) == "FO-2026-00003"
    places, proposal = _mine(store, directory)
    assert (places.enrolled, places.withdrawn, places.used, places.left) == (0, 1, 9, 1)
    assert proposal is not None and proposal.referral_id == ids["w_first"]
    assert withdraw_enrolled(store, CARRIER, ids["routed2"], "structure", undo_window=UNDO,
                             now=enrolled_at + 3 * UNDO) is None  # once
    store.close()
    with TestClient(create_app(settings)) as client:
        login(client, "structure")
        page = client.get(f"/carriers/{CARRIER}")
        assert "Parti(e) en cours d&#39;année (place libérée)" in page.text
        token = csrf_of(page.text)
        no_tick = client.post(f"/carriers/{CARRIER}/referrals/{ids['routed4']}/withdraw", data={"csrf_token": token})
        assert no_tick.status_code == 422
        not_enrolled = client.post(f"/carriers/{CARRIER}/referrals/{ids['routed4']}/withdraw",
                                   data={"csrf_token": token, "confirmed": "1"})
        assert not_enrolled.status_code == 409
