"""A carrier's places over the school year, and the waiting referral proposed when a place is free (issue 20).

Places are derived, never stored (:meth:`pipeline.store.Store.places_used`): a carrier's capacity comes from
the directory (``places``), a place is used by each referral routed to it (followed up or enrolled), and it
is freed when a refusal stands (:func:`web.carrier_queue.settle_refusals`) or an enrolled pupil leaves
(:func:`web.carrier_queue.withdraw_enrolled`). So a place frees up when a refusal settles, a pupil leaves or the
directory raises the capacity, and nothing else has to happen for the desk to see it.

When a carrier has a place left and referrals that it serves (its schools or neighbourhoods, its levels) wait
on the list, the **longest-waiting** of them (received first, then lowest id) is proposed to staff on the
overview. Nothing is routed automatically: staff confirm, and :func:`confirm_proposal` checks again, in
one transaction, that the referral still waits, that the carrier serves it and still has a place, then routes
it (referral and documents ``routed``) and audits it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.deciding.route import rank_candidates
from pipeline.store import REFERRAL_DECLINED, REFERRAL_WITHDRAWN, DocumentRow, ReferralRow, Store, utcnow
from schemas.directory import ClassLevel, Directory
from schemas.document import Outcome
from web.audit import audit_form
from web.models import CarrierFollowUpRow, FollowUpOutcome


@dataclass(frozen=True)
class CarrierYear:
    """One carrier's places over the school year (counts; staff see them, a carrier sees its own).

    Attributes:
        carrier_id: Directory id.
        name: Carrier's name.
        capacity: Places for the year (directory).
        oriented: Referrals routed to it this year, whatever became of them.
        enrolled: Of which the pupil is enrolled (place used).
        in_progress: Of which no outcome yet, or a refusal still undoable (place used).
        freed: Of which refused for good (place freed).
        withdrawn: Of which enrolled, then gone during the year (place freed).
        used: Places used now (``enrolled + in_progress``).
    """

    carrier_id: str
    name: str
    capacity: int
    oriented: int
    enrolled: int
    in_progress: int
    freed: int
    withdrawn: int
    used: int

    @property
    def left(self) -> int:
        """Places left now (never below 0)."""
        return max(0, self.capacity - self.used)


def carrier_year(s: Session, directory: Directory, school_year: str) -> list[CarrierYear]:
    """Every carrier's places over ``school_year``, by name (run :func:`settle_refusals` first)."""
    rows = s.execute(select(ReferralRow.carrier_id, ReferralRow.status, CarrierFollowUpRow.outcome, func.count())
                     .outerjoin(CarrierFollowUpRow, CarrierFollowUpRow.referral_id == ReferralRow.id)
                     .where(ReferralRow.school_year == school_year, ReferralRow.carrier_id.is_not(None),
                            ReferralRow.status.in_((Outcome.ROUTED.value, REFERRAL_DECLINED, REFERRAL_WITHDRAWN)))
                     .group_by(ReferralRow.carrier_id, ReferralRow.status, CarrierFollowUpRow.outcome)).all()
    counts: dict[str, dict[str, int]] = {}
    for cid, status, outcome, n in rows:
        c = counts.setdefault(str(cid), {"enrolled": 0, "in_progress": 0, "freed": 0, "withdrawn": 0})
        if status == REFERRAL_DECLINED:
            c["freed"] += n
        elif status == REFERRAL_WITHDRAWN:
            c["withdrawn"] += n
        elif outcome == FollowUpOutcome.ENROLLED.value:
            c["enrolled"] += n
        else:
            c["in_progress"] += n
    out = []
    for carrier in sorted(directory.carriers, key=lambda c: c.name):
        c = counts.get(carrier.id, {"enrolled": 0, "in_progress": 0, "freed": 0, "withdrawn": 0})
        used = c["enrolled"] + c["in_progress"]
        out.append(CarrierYear(carrier.id, carrier.name, carrier.places, used + c["freed"] + c["withdrawn"],
                               c["enrolled"], c["in_progress"], c["freed"], c["withdrawn"], used))
    return out


@dataclass(frozen=True)
class Proposal:
    """The waiting referral proposed for a carrier's free place (no personal data: serial, class, school).

    Attributes:
        carrier_id: The carrier with a place left.
        carrier: Its name.
        left: Its places left.
        referral_id: The referral proposed.
        form_id: Its form serial.
        class_level: Level in French (``CM1``, ``6e``).
        school: School name.
        waiting_since: When it was received.
        waiting_days: Whole days it has waited.
        others_waiting: Other referrals waiting that this carrier serves.
    """

    carrier_id: str
    carrier: str
    left: int
    referral_id: int
    form_id: str
    class_level: str
    school: str
    waiting_since: datetime
    waiting_days: int
    others_waiting: int


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def serves(directory: Directory, carrier_id: str, school_id: str, level: str) -> bool:
    """Whether the carrier takes pupils of ``level`` from that school (routing's own rule, places aside)."""
    try:
        school = directory.school(school_id)
        ranked = rank_candidates(school.id, school.neighbourhood, ClassLevel(level), directory, {})
    except (KeyError, ValueError):
        return False
    return any(c.carrier.id == carrier_id for c in ranked)


def proposals(s: Session, directory: Directory, school_year: str, places: Sequence[CarrierYear],
              now: datetime | None = None) -> list[Proposal]:
    """For each carrier with a place left, the longest-waiting referral it serves, if any (by carrier name)."""
    now = now or utcnow()
    waiting = s.execute(select(ReferralRow.id, ReferralRow.form_id, ReferralRow.school_id, ReferralRow.class_level,
                               ReferralRow.created_at)
                        .where(ReferralRow.school_year == school_year,
                               ReferralRow.status == Outcome.WAITING_LIST.value)
                        .order_by(ReferralRow.created_at, ReferralRow.id)).all()
    out = []
    for p in places:
        if p.left <= 0:
            continue
        served = [w for w in waiting if serves(directory, p.carrier_id, w.school_id, w.class_level)]
        if not served:
            continue
        first = served[0]
        try:
            school = directory.school(first.school_id).name
        except KeyError:
            school = first.school_id
        since = _aware(first.created_at)
        out.append(Proposal(p.carrier_id, p.name, p.left, first.id, first.form_id,
                            ClassLevel(first.class_level).label_fr, school, since, max(0, (now - since).days),
                            len(served) - 1))
    return out


class ConfirmResult(StrEnum):
    """What confirming a proposal did."""

    ROUTED = "routed"
    NOT_WAITING = "not_waiting"
    NOT_SERVED = "not_served"
    FULL = "full"


CONFIRM_MESSAGES_FR: dict[ConfirmResult, str] = {
    ConfirmResult.ROUTED: "Fiche {form_id} orientée vers {carrier} : la structure la voit dans sa file.",
    ConfirmResult.NOT_WAITING: "Fiche {form_id} : elle n'est plus en liste d'attente (déjà traitée) ; rien changé.",
    ConfirmResult.NOT_SERVED: "Fiche {form_id} : {carrier} ne prend pas ce niveau dans cet établissement ; "
                              "rien changé.",
    ConfirmResult.FULL: "{carrier} n'a plus de place libre ; rien changé.",
}


def confirm_proposal(store: Store, directory: Directory, school_year: str, referral_id: int, carrier_id: str,
                     actor: str) -> tuple[ConfirmResult, str]:
    """Route a waiting referral to a carrier with a place, as staff confirmed (one transaction).

    Everything is checked again at this moment (another person may have acted since the page was shown).

    Returns:
        The result and the form serial (empty when the referral does not exist).

    Raises:
        KeyError: The carrier is not in the directory.
    """
    carrier = directory.carrier(carrier_id)
    with store.session() as s:
        store.lock_places(s)  # places are counted, then taken: no other decision in between
        r = s.scalar(select(ReferralRow).where(ReferralRow.id == referral_id).with_for_update())
        if r is None or r.status != Outcome.WAITING_LIST.value or r.school_year != school_year:
            return ConfirmResult.NOT_WAITING, r.form_id if r else ""
        if not serves(directory, carrier.id, r.school_id, r.class_level):
            return ConfirmResult.NOT_SERVED, r.form_id
        used = s.scalar(select(func.count()).select_from(ReferralRow).where(
            ReferralRow.carrier_id == carrier.id, ReferralRow.status == Outcome.ROUTED.value,
            ReferralRow.school_year == school_year)) or 0
        if used >= carrier.places:
            return ConfirmResult.FULL, r.form_id
        r.status, r.carrier_id = Outcome.ROUTED.value, carrier.id
        for doc in s.scalars(select(DocumentRow).where(DocumentRow.form_id == r.form_id)):
            doc.status, doc.reasons = Outcome.ROUTED.value, []
        audit_form(s, actor, "waiting_list_place_given", r.form_id,
                   f"carrier {carrier.id}; places used before {used}/{carrier.places}")
        return ConfirmResult.ROUTED, r.form_id
