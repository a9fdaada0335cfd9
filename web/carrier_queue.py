"""A carrier's queue: the referrals routed to it, with only what it needs to contact the family.

A carrier sees the pupil's name and class, the school, the guardians' names and phones,
the languages spoken at home and the referral criteria. It never sees the pupil's
address, birth date, observations or the form images. Its follow-up (acknowledged,
enrolled, declined) is kept in ``carrier_followups``. An enrolled pupil's referral stays
``routed``, so :meth:`pipeline.store.Store.places_used` keeps counting the place; a declined
one becomes ``declined`` (:meth:`pipeline.store.Store.decline_referral`) in the same
transaction: the place is freed, the referral stays in the carrier's queue (marked, no
more actions) and staff see it to re-orient (:func:`to_reorient`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.form.definition import CRITERIA_GROUPS, RELATIONSHIPS
from pipeline.store import REFERRAL_DECLINED, ReferralRow, Store, utcnow
from schemas.directory import ClassLevel, Directory
from schemas.document import Outcome
from web.audit import audit_form
from web.models import FOLLOW_UP_LABELS_FR, CarrierFollowUpRow, FollowUpOutcome

CRITERIA_LABELS_FR: dict[str, str] = {code: label for _, options in CRITERIA_GROUPS for code, label in options}
RELATIONSHIP_LABELS_FR: dict[str, str] = dict(RELATIONSHIPS)


def national_phone(e164: str | None) -> str:
    """``+33612345678`` → ``06 12 34 56 78`` (how a carrier dials it); empty when none."""
    if not e164:
        return ""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, "FR"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return e164


@dataclass(frozen=True)
class GuardianContact:
    """How to reach one guardian."""

    name: str
    relationship: str
    phone: str
    email: str


@dataclass(frozen=True)
class QueueRow:
    """One referral in a carrier's queue.

    Attributes:
        referral_id: Row id (used in URLs, always checked against the carrier).
        form_id: Form serial.
        routed_at: When it was recorded.
        pupil: Pupil's first name and surname.
        class_level: Level in French (``CM1``, ``6e``).
        school: School name from the directory.
        guardians: Contacts.
        home_languages: As written.
        interpreter: ``oui`` / ``non`` / empty.
        criteria: Criteria labels in French.
        state: Follow-up state in French.
        acknowledged: Whether the carrier acknowledged it.
        outcome: Enrolled / declined, when decided.
    """

    referral_id: int
    form_id: str
    routed_at: datetime
    pupil: str
    class_level: str
    school: str
    guardians: tuple[GuardianContact, ...]
    home_languages: str
    interpreter: str
    criteria: tuple[str, ...]
    state: str
    acknowledged: bool
    outcome: str | None


def _state(follow: CarrierFollowUpRow | None) -> str:
    if follow is None or follow.acknowledged_at is None and follow.outcome is None:
        return "Nouvelle"
    if follow.outcome:
        return FOLLOW_UP_LABELS_FR[FollowUpOutcome(follow.outcome)]
    return "Prise en compte"


def _row(r: ReferralRow, follow: CarrierFollowUpRow | None, directory: Directory) -> QueueRow:
    data = r.data
    pupil = data.get("pupil", {})
    guardians = tuple(GuardianContact(" ".join(x for x in (g.get("first_name"), g.get("surname")) if x),
                                      RELATIONSHIP_LABELS_FR.get(g.get("relationship") or "", ""),
                                      national_phone(g.get("phone")), g.get("email") or "")
                      for g in data.get("guardians", []))
    interpreter = data.get("interpreter_needed")
    criteria = [CRITERIA_LABELS_FR.get(c, c) for c in data.get("criteria", [])]
    if data.get("criteria_other_text"):
        criteria.append(f"Autre : {data['criteria_other_text']}")
    try:
        school = directory.school(r.school_id).name
    except KeyError:
        school = r.school_id
    return QueueRow(r.id, r.form_id, r.created_at, f"{pupil.get('first_name', '')} {pupil.get('surname', '')}".strip(),
                    ClassLevel(r.class_level).label_fr, school, guardians, data.get("home_languages") or "",
                    "" if interpreter is None else ("oui" if interpreter else "non"), tuple(criteria),
                    _state(follow), bool(follow and follow.acknowledged_at), follow.outcome if follow else None)


IN_QUEUE = (Outcome.ROUTED.value, REFERRAL_DECLINED)
"""Referral statuses a carrier sees in its queue: routed to it, or declined by it and not yet re-oriented."""


def carrier_queue(s: Session, carrier_id: str, directory: Directory) -> list[QueueRow]:
    """Referrals routed to ``carrier_id`` (declined ones included, marked), oldest first."""
    rows = s.execute(select(ReferralRow, CarrierFollowUpRow)
                     .outerjoin(CarrierFollowUpRow, CarrierFollowUpRow.referral_id == ReferralRow.id)
                     .where(ReferralRow.carrier_id == carrier_id, ReferralRow.status.in_(IN_QUEUE))
                     .order_by(ReferralRow.created_at, ReferralRow.id)).all()
    return [_row(r, f, directory) for r, f in rows]


def carrier_referral(s: Session, carrier_id: str, referral_id: int, directory: Directory) -> QueueRow | None:
    """One referral of the carrier's queue; ``None`` when it is not in that carrier's queue."""
    found = s.execute(select(ReferralRow, CarrierFollowUpRow)
                      .outerjoin(CarrierFollowUpRow, CarrierFollowUpRow.referral_id == ReferralRow.id)
                      .where(ReferralRow.id == referral_id, ReferralRow.carrier_id == carrier_id,
                             ReferralRow.status.in_(IN_QUEUE))).first()
    return _row(found[0], found[1], directory) if found else None


def _follow_up(s: Session, carrier_id: str, referral_id: int) -> tuple[ReferralRow, CarrierFollowUpRow] | None:
    r = s.scalar(select(ReferralRow).where(ReferralRow.id == referral_id, ReferralRow.carrier_id == carrier_id,
                                           ReferralRow.status == Outcome.ROUTED.value))
    if r is None:
        return None
    follow = s.scalar(select(CarrierFollowUpRow).where(CarrierFollowUpRow.referral_id == r.id))
    if follow is None:
        follow = CarrierFollowUpRow(referral_id=r.id)
        s.add(follow)
    return r, follow


def acknowledge(store: Store, carrier_id: str, referral_id: int, actor: str) -> bool:
    """Mark a referral as received by its carrier; ``False`` when it is not in that carrier's queue."""
    with store.session() as s:
        found = _follow_up(s, carrier_id, referral_id)
        if found is None:
            return False
        r, follow = found
        if follow.acknowledged_at is None:
            follow.acknowledged_at, follow.acknowledged_by = utcnow(), actor
        audit_form(s, actor, "carrier_acknowledged", r.form_id, f"carrier {carrier_id}")
    return True


def set_outcome(store: Store, carrier_id: str, referral_id: int, outcome: FollowUpOutcome, actor: str) -> bool:
    """Record that the pupil enrolled or declined (acknowledges too); ``False`` when not in the queue.

    Declined frees the place in the same transaction (:meth:`pipeline.store.Store.decline_referral`);
    a declined referral takes no further follow-up.
    """
    with store.session() as s:
        found = _follow_up(s, carrier_id, referral_id)
        if found is None:
            return False
        r, follow = found
        now = utcnow()
        if follow.acknowledged_at is None:
            follow.acknowledged_at, follow.acknowledged_by = now, actor
        follow.outcome, follow.outcome_at, follow.outcome_by = outcome.value, now, actor
        if outcome is FollowUpOutcome.DECLINED and not store.decline_referral(s, r.id, carrier_id):
            raise RuntimeError(f"referral {r.id} left {carrier_id}'s queue during the follow-up")
        audit_form(s, actor, f"carrier_{outcome.value}", r.form_id, f"carrier {carrier_id}")
    return True


@dataclass(frozen=True)
class Declined:
    """A referral its carrier declined, waiting for staff to re-orient it (no personal data).

    Attributes:
        form_id: The form serial.
        carrier_id: The carrier that declined it.
        declined_at: When (the follow-up's time), if recorded.
    """

    form_id: str
    carrier_id: str | None
    declined_at: datetime | None


def to_reorient(s: Session, school_year: str | None = None) -> list[Declined]:
    """Declined referrals, oldest decline first, for staff to re-orient (of ``school_year`` when given)."""
    query = (select(ReferralRow.form_id, ReferralRow.carrier_id, CarrierFollowUpRow.outcome_at)
             .outerjoin(CarrierFollowUpRow, CarrierFollowUpRow.referral_id == ReferralRow.id)
             .where(ReferralRow.status == REFERRAL_DECLINED)
             .order_by(CarrierFollowUpRow.outcome_at, ReferralRow.id))
    if school_year is not None:
        query = query.where(ReferralRow.school_year == school_year)
    return [Declined(f, c, at) for f, c, at in s.execute(query)]


@dataclass(frozen=True)
class Places:
    """Places of one carrier for the school year."""

    carrier_id: str
    name: str
    places: int
    used: int

    @property
    def left(self) -> int:
        """Places not yet given (never below 0)."""
        return max(0, self.places - self.used)


def places_by_carrier(directory: Directory, used: Mapping[str, int]) -> list[Places]:
    """Every carrier's places, used (from ``Store.places_used``) and left, by name."""
    return sorted((Places(c.id, c.name, c.places, used.get(c.id, 0)) for c in directory.carriers),
                  key=lambda p: p.name)


_CSV_HEADER = ("Fiche", "Reçue le", "Élève", "Niveau", "Établissement", "Responsable 1", "Lien 1", "Téléphone 1",
               "Courriel 1", "Responsable 2", "Lien 2", "Téléphone 2", "Courriel 2", "Langues à la maison",
               "Interprète", "Critères", "Suivi")


FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
"""Characters that make a spreadsheet read a cell as a formula (OWASP CSV Injection: = + - @, tab, carriage
return), with the line feed and the full-width forms some spreadsheets fold to ASCII."""


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (OWASP CSV injection): a cell whose first non-blank character starts a
    formula begins with ``'``, which spreadsheets show as text."""
    return f"'{value}" if value.lstrip(" ")[:1] in FORMULA_STARTS or value[:1] in FORMULA_STARTS else value


def queue_csv(rows: Sequence[QueueRow]) -> str:
    """The queue as CSV for a French spreadsheet: ``;`` separated, UTF-8 with BOM.

    Every data cell is quoted, so a comma or a tab inside a value never starts a new cell in a spreadsheet
    set to another separator (where a value such as ``Dupont,=1+1`` would otherwise put ``=1+1`` in a cell
    of its own); the header is constant text.
    """
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerow(_CSV_HEADER)
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_ALL)
    for r in rows:
        g = list(r.guardians) + [GuardianContact("", "", "", "")] * (2 - len(r.guardians))
        cells = [r.form_id, r.routed_at.strftime("%d/%m/%Y"), r.pupil, r.class_level, r.school,
                 g[0].name, g[0].relationship, g[0].phone, g[0].email, g[1].name, g[1].relationship, g[1].phone,
                 g[1].email, r.home_languages, r.interpreter, " | ".join(r.criteria), r.state]
        writer.writerow([_cell(c) for c in cells])
    return "\ufeff" + buf.getvalue()
