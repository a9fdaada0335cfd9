"""Decisions on one form or one carrier's places never interleave (SQLite's default store has no row lock).

An attack (2026-12-07) raced desk requests: a place given beside an approval took a carrier past its places, a
set aside sent 0-45 ms after an approval overwrote it (the form routed and awaiting review at once), and a carrier
recorded both « inscrit » and « refus » for one referral. Each test here holds the decisions' lock
(``Store.lock_places``) in another thread while it makes the first decision, and makes the second one meanwhile:
the second must wait for the first to commit, then see it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store import FieldResultRow, ReferralRow, ReviewItemRow, Store
from tests.web.test_places import CARRIER, T0, UNDO, YEAR, _build, _referral
from web.carrier_queue import OutcomeError, set_outcome
from web.consent import ClaimError, claim_misread
from web.models import CarrierFollowUpRow, FollowUpOutcome
from web.places import ConfirmResult, confirm_proposal
from web.review import decidable_by, mark_duplicate, set_aside

T = TypeVar("T")
HOLD_S = 0.25
"""How long the first decision holds the lock before it commits: the second is made meanwhile."""


def _while_another_decides(store: Store, first: Callable[[Session], None], second: Callable[[], T]) -> tuple[T, float]:
    """Run ``first`` in another thread, inside a transaction holding the decisions' lock for :data:`HOLD_S`
    seconds, and ``second`` here once that lock is held; ``second``'s result and how long it took."""
    held, done = threading.Event(), threading.Event()

    def decide_first() -> None:
        with store.session() as s:
            store.lock_places(s)
            first(s)
            held.set()
            time.sleep(HOLD_S)
        done.set()

    thread = threading.Thread(target=decide_first)
    thread.start()
    assert held.wait(10)
    start = time.monotonic()
    try:
        result = second()
    finally:
        thread.join(10)
    assert done.is_set()
    return result, time.monotonic() - start


def _held_forms(store: Store) -> list[str]:
    """Two forms held for a person, their consent read as ticked (so a misread can be claimed on it)."""
    forms = ["FO-2026-00041", "FO-2026-00042"]
    with store.session() as s:
        for form_id in forms:
            s.add(ReviewItemRow(form_id=form_id, reasons=[], min_confidence=0.3, status=decidable_by(False)[0]))
            s.add(FieldResultRow(form_id=form_id, name="agreement_orientation", value=True, confidence=0.9,
                                 source="omr", page=2, zone={}))
    return forms


def _approve_in(form_id: str) -> Callable[[Session], None]:
    def approve(s: Session) -> None:
        item = s.scalars(select(ReviewItemRow).where(ReviewItemRow.form_id == form_id)).one()
        item.status = "approved"  # what web.review.approve commits, as far as the item goes
    return approve


@pytest.mark.parametrize("decision", ["set_aside", "duplicate", "consent_claim"])
def test_a_decision_sent_while_an_approval_commits_sees_it_and_changes_nothing(decision: str, tmp_path: Path) -> None:
    _settings, store, _directory, _ids = _build(tmp_path)
    control, raced = _held_forms(store)
    other = "FO-2026-00001"  # a routed referral (tests.web.test_places._build)

    def decide(form_id: str) -> object:
        try:
            if decision == "set_aside":
                return set_aside(store, form_id, "agent2")
            if decision == "duplicate":
                return mark_duplicate(store, form_id, other, "agent2")
            claim_misread(store, form_id, "agreement_orientation", "coché sur l'image", "agent2", decidable_by(False))
        except ClaimError as exc:
            return exc
        return True

    assert decide(control) is True  # alone, the decision is taken

    result, waited = _while_another_decides(store, _approve_in(raced), lambda: decide(raced))

    assert waited >= HOLD_S / 2  # it waited for the approval to commit
    assert result is False or isinstance(result, ClaimError)
    with store.session() as s:
        assert s.scalars(select(ReviewItemRow.status).where(ReviewItemRow.form_id == raced)).one() == "approved"
    store.close()


def test_a_place_given_while_another_decision_takes_the_last_one_finds_the_carrier_full(tmp_path: Path) -> None:
    settings, store, directory, ids = _build(tmp_path)
    with store.session() as s:  # one place left
        s.get_one(ReferralRow, ids["routed0"]).status = "declined"

    def take_the_last_place(s: Session) -> None:
        _referral(s, 30, "ee-jules-ferry", "CP", "routed", CARRIER, T0)

    result, _ = _while_another_decides(
        store, take_the_last_place,
        lambda: confirm_proposal(store, directory, YEAR, ids["w_first"], CARRIER, "agent2")[0])

    assert result is ConfirmResult.FULL
    with store.session() as s:
        routed = s.scalars(select(ReferralRow).where(ReferralRow.carrier_id == CARRIER,
                                                     ReferralRow.status == "routed")).all()
    assert len(routed) == 10
    store.close()


def test_a_second_outcome_posted_while_the_first_commits_is_refused(tmp_path: Path) -> None:
    _settings, store, _directory, ids = _build(tmp_path)
    referral = ids["routed2"]

    def enrol(s: Session) -> None:
        s.add(CarrierFollowUpRow(referral_id=referral, outcome=FollowUpOutcome.ENROLLED.value,
                                 outcome_at=T0, outcome_by="structure", acknowledged_at=T0,
                                 acknowledged_by="structure"))

    def decline() -> object:
        try:
            return set_outcome(store, CARRIER, referral, FollowUpOutcome.DECLINED, "structure2",
                               undo_window=UNDO, reason_code="schedule", now=T0 + timedelta(minutes=1))
        except OutcomeError as exc:
            return exc

    result, _ = _while_another_decides(store, enrol, decline)

    assert isinstance(result, OutcomeError)
    with store.session() as s:
        assert s.scalars(select(CarrierFollowUpRow.outcome).where(
            CarrierFollowUpRow.referral_id == referral)).all() == ["enrolled"]
    store.close()
