"""A carrier's queue: the referrals routed to it, with only what it needs to contact the family.

A carrier sees the pupil's name and class, the school, the guardians' names and phones,
the languages spoken at home and the referral criteria. It never sees the pupil's
address, birth date, observations or the form images. Its follow-up (acknowledged,
enrolled, declined) is kept in ``carrier_followups``, each outcome with its reason and
undo in ``carrier_outcome_events`` (issue 17). Each outcome queues the referring teacher's notice
(:mod:`pipeline.notices`), due once the undo window has passed; undoing cancels it (issue 20).

Outcomes are confirmed, a refusal needs a reason (:data:`REFUSAL_REASONS_FR`, plus free
text), and either can be undone by the carrier or staff within ``CLAS_WEB_FOLLOWUP_UNDO_S``
(a day). **The place is freed only when a refusal stands**: while it can still be undone
the referral stays ``routed``, so :meth:`pipeline.store.Store.places_used` keeps counting
the place and an undo never finds it given to someone else. Once the window has passed,
:func:`settle_refusals` marks the referral ``declined``
(:meth:`pipeline.store.Store.decline_referral`): the place is freed, the referral stays in
the carrier's queue (marked, no more actions) and staff see it to re-orient
(:func:`to_reorient`). The desk settles refusals whenever it reads places (queue,
overview, approval); the nightly run, which does not, counts a refusal not yet settled as
a place taken: it may leave a place unused a little longer, never give it twice.
An enrolled pupil's referral stays ``routed``: its place stays counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.form.definition import CRITERIA_GROUPS, RELATIONSHIPS
from pipeline.notices import NoticeOutcome, cancel_notice, enqueue_notice
from pipeline.store import REFERRAL_DECLINED, REFERRAL_WITHDRAWN, ReferralRow, Store, utcnow
from schemas.directory import ClassLevel, Directory
from schemas.document import Outcome
from web.audit import audit_form
from web.desk_models import CarrierOutcomeEventRow
from web.models import FOLLOW_UP_LABELS_FR, CarrierFollowUpRow, FollowUpOutcome

REFUSAL_REASONS_FR: dict[str, str] = {
    "family_declined": "La famille ne souhaite pas l'accompagnement",
    "family_unreachable": "Famille injoignable",
    "schedule": "Horaires ou lieu incompatibles pour la famille",
    "already_supported": "Élève déjà accompagné(e) ailleurs",
    "not_our_public": "Élève hors du public de la structure (niveau, secteur)",
    "other": "Autre motif (à préciser)",
}
"""Why a carrier refuses a referral: a short list, each refusal's code audited; ``other`` needs a text."""
MAX_REASON_TEXT = 500
"""Characters kept of a refusal's free text (a sentence or two for staff)."""

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
        undo_until: Until when the outcome can be undone (``None`` when there is nothing to undo).
        reason: The refusal's reason in French (list label, then the free text).
        place_freed: Whether the place was given back (a refusal that stands).
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
    undo_until: datetime | None = None
    reason: str = ""
    place_freed: bool = False


def notice_key(event_id: int) -> str:
    """The outbox key of the teacher's notice of one carrier outcome (:mod:`pipeline.notices`)."""
    return f"event:{event_id}"


WITHDRAWN_FR = "Parti(e) en cours d'année (place libérée)"


def _state(follow: CarrierFollowUpRow | None, status: str) -> str:
    if status == REFERRAL_WITHDRAWN:
        return WITHDRAWN_FR
    if follow is None or follow.acknowledged_at is None and follow.outcome is None:
        return "Nouvelle"
    if follow.outcome == FollowUpOutcome.DECLINED.value and status == Outcome.ROUTED.value:
        return "Refus en attente (annulable)"
    if follow.outcome:
        return FOLLOW_UP_LABELS_FR[FollowUpOutcome(follow.outcome)]
    return "Prise en compte"


def _aware(at: datetime) -> datetime:
    """SQLite returns naive datetimes: they were written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def _current_event(s: Session, referral_id: int) -> CarrierOutcomeEventRow | None:
    """The referral's latest outcome not undone, if any."""
    return s.scalar(select(CarrierOutcomeEventRow).where(
        CarrierOutcomeEventRow.referral_id == referral_id, CarrierOutcomeEventRow.undone_at.is_(None))
        .order_by(CarrierOutcomeEventRow.id.desc()).limit(1))


def _reason_fr(event: CarrierOutcomeEventRow | None) -> str:
    if event is None or event.reason_code is None:
        return ""
    label = REFUSAL_REASONS_FR.get(event.reason_code, event.reason_code)
    return f"{label} : {event.reason_text}" if event.reason_text else label


def _row(r: ReferralRow, follow: CarrierFollowUpRow | None, directory: Directory,
         event: CarrierOutcomeEventRow | None = None, undo_window: timedelta | None = None,
         now: datetime | None = None) -> QueueRow:
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
    undo_until = None
    if event is not None and undo_window is not None and r.status == Outcome.ROUTED.value:
        until = _aware(event.at) + undo_window
        undo_until = until if until > (now or utcnow()) else None
    return QueueRow(r.id, r.form_id, r.created_at, f"{pupil.get('first_name', '')} {pupil.get('surname', '')}".strip(),
                    ClassLevel(r.class_level).label_fr, school, guardians, data.get("home_languages") or "",
                    "" if interpreter is None else ("oui" if interpreter else "non"), tuple(criteria),
                    _state(follow, r.status), bool(follow and follow.acknowledged_at),
                    follow.outcome if follow else None, undo_until, _reason_fr(event),
                    r.status in (REFERRAL_DECLINED, REFERRAL_WITHDRAWN))


IN_QUEUE = (Outcome.ROUTED.value, REFERRAL_DECLINED, REFERRAL_WITHDRAWN)
"""Referral statuses a carrier sees in its queue: routed to it, declined by it and not yet re-oriented, or
enrolled and gone since (marked)."""


def carrier_queue(s: Session, carrier_id: str, directory: Directory,
                  undo_window: timedelta | None = None) -> list[QueueRow]:
    """Referrals routed to ``carrier_id`` (declined ones included, marked), oldest first.

    ``undo_window``: how long an outcome can be undone (``CLAS_WEB_FOLLOWUP_UNDO_S``); rows say until when.
    """
    rows = s.execute(select(ReferralRow, CarrierFollowUpRow)
                     .outerjoin(CarrierFollowUpRow, CarrierFollowUpRow.referral_id == ReferralRow.id)
                     .where(ReferralRow.carrier_id == carrier_id, ReferralRow.status.in_(IN_QUEUE))
                     .order_by(ReferralRow.created_at, ReferralRow.id)).all()
    now = utcnow()
    return [_row(r, f, directory, _current_event(s, r.id), undo_window, now) for r, f in rows]


def carrier_referral(s: Session, carrier_id: str, referral_id: int, directory: Directory,
                     undo_window: timedelta | None = None) -> QueueRow | None:
    """One referral of the carrier's queue; ``None`` when it is not in that carrier's queue."""
    found = s.execute(select(ReferralRow, CarrierFollowUpRow)
                      .outerjoin(CarrierFollowUpRow, CarrierFollowUpRow.referral_id == ReferralRow.id)
                      .where(ReferralRow.id == referral_id, ReferralRow.carrier_id == carrier_id,
                             ReferralRow.status.in_(IN_QUEUE))).first()
    if not found:
        return None
    return _row(found[0], found[1], directory, _current_event(s, found[0].id), undo_window)


def _follow_up(s: Session, carrier_id: str, referral_id: int) -> tuple[ReferralRow, CarrierFollowUpRow] | None:
    """The carrier's routed referral and its follow-up (made when missing), read under the decisions' lock
    (:meth:`pipeline.store.Store.lock_places`): two outcomes posted at once are recorded one after the other, and
    the second finds the first."""
    Store.lock_places(s)
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


class OutcomeError(ValueError):
    """An outcome that cannot be recorded as asked; ``message_fr`` says why, for the page."""

    def __init__(self, message_fr: str) -> None:
        """Create the error with its French message."""
        super().__init__(message_fr)
        self.message_fr = message_fr


@dataclass(frozen=True)
class OutcomeRecorded:
    """A recorded outcome and until when it can be undone.

    Attributes:
        form_id: The form serial (for the message).
        outcome: Enrolled or declined.
        undo_until: End of the undo window (UTC); for a refusal, when the place will be freed.
    """

    form_id: str
    outcome: FollowUpOutcome
    undo_until: datetime


def set_outcome(store: Store, carrier_id: str, referral_id: int, outcome: FollowUpOutcome, actor: str, *,
                undo_window: timedelta, reason_code: str | None = None, reason_text: str = "",
                now: datetime | None = None) -> OutcomeRecorded | None:
    """Record that the pupil enrolled or was refused (acknowledges too); ``None`` when not in the queue.

    A refusal does not free the place yet: :func:`settle_refusals` does once ``undo_window`` has
    passed without an undo. A referral that already has an outcome takes no other one until
    that one is undone.

    Args:
        store: The store.
        carrier_id: The carrier (every query is filtered by it).
        referral_id: The referral's row id.
        outcome: Enrolled or declined.
        actor: Username, for the follow-up and the audit trail.
        undo_window: How long the outcome can be undone (``CLAS_WEB_FOLLOWUP_UNDO_S``).
        reason_code: For a refusal, a key of :data:`REFUSAL_REASONS_FR` (required).
        reason_text: Free text; required when ``reason_code`` is ``other``; cut to :data:`MAX_REASON_TEXT`.
        now: The current time (tests); UTC now when omitted.

    Raises:
        OutcomeError: A refusal without a known reason, or a referral that already has an outcome.
    """
    text_ = " ".join(reason_text.split())[:MAX_REASON_TEXT]
    if outcome is FollowUpOutcome.DECLINED:
        if reason_code not in REFUSAL_REASONS_FR:
            raise OutcomeError("Indiquer le motif du refus (choisir dans la liste).")
        if reason_code == "other" and not text_:
            raise OutcomeError("Motif « Autre » : préciser le motif du refus.")
    else:
        reason_code, text_ = None, ""
    now = now or utcnow()
    with store.session() as s:
        found = _follow_up(s, carrier_id, referral_id)
        if found is None:
            return None
        r, follow = found
        if follow.outcome is not None:
            raise OutcomeError("Un suivi est déjà enregistré pour cette orientation : l'annuler d'abord.")
        if follow.acknowledged_at is None:
            follow.acknowledged_at, follow.acknowledged_by = now, actor
        follow.outcome, follow.outcome_at, follow.outcome_by = outcome.value, now, actor
        event = CarrierOutcomeEventRow(referral_id=r.id, outcome=outcome.value, reason_code=reason_code,
                                       reason_text=text_ or None, at=now, actor=actor)
        s.add(event)
        s.flush()
        # The referring teacher's notice (issue 20), due once the outcome stands; undoing cancels it.
        enqueue_notice(s, r, NoticeOutcome(outcome.value), notice_key(event.id), now + undo_window, actor)
        audit_form(s, actor, f"carrier_{outcome.value}", r.form_id,
                   f"carrier {carrier_id}" + (f"; reason {reason_code}" if reason_code else ""))
        form_id = r.form_id
    return OutcomeRecorded(form_id, outcome, now + undo_window)


def undo_outcome(store: Store, carrier_id: str, referral_id: int, actor: str, *, undo_window: timedelta,
                 now: datetime | None = None) -> str | None:
    """Undo the referral's outcome while its window is open; the form serial, or ``None`` when nothing to undo.

    A refusal is undone before its place was ever freed (the referral is still ``routed``),
    so undoing never takes a place back from someone else.
    """
    now = now or utcnow()
    with store.session() as s:
        store.lock_places(s)
        r = s.scalar(select(ReferralRow).where(ReferralRow.id == referral_id, ReferralRow.carrier_id == carrier_id,
                                               ReferralRow.status == Outcome.ROUTED.value))
        event = _current_event(s, referral_id) if r is not None else None
        if r is None or event is None or event.settled_at is not None or _aware(event.at) + undo_window <= now:
            return None
        event.undone_at, event.undone_by = now, actor
        cancel_notice(s, notice_key(event.id), actor)
        follow = s.scalar(select(CarrierFollowUpRow).where(CarrierFollowUpRow.referral_id == r.id))
        if follow is not None:
            follow.outcome, follow.outcome_at, follow.outcome_by = None, None, None
        audit_form(s, actor, f"carrier_{event.outcome}_undone", r.form_id, f"carrier {carrier_id}")
        return r.form_id


def withdraw_enrolled(store: Store, carrier_id: str, referral_id: int, actor: str, *, undo_window: timedelta,
                      now: datetime | None = None) -> str | None:
    """Record that an enrolled pupil left the support during the year: the place is freed (issue 20).

    Only for a referral routed to ``carrier_id`` whose enrolment stands (its undo window has passed). The
    referral becomes ``withdrawn`` (:data:`pipeline.store.REFERRAL_WITHDRAWN`), so
    :meth:`pipeline.store.Store.places_used` stops counting it and staff are offered the longest-waiting
    referral for the place (:mod:`web.places`). The follow-up keeps ``enrolled``. Recorded as an outcome event
    ``withdrawn`` and audited, in one transaction. Not undoable: the freed place may be given at once.

    Returns:
        The form serial, or ``None`` when the referral is not an enrolment of that carrier that stands.
    """
    now = now or utcnow()
    with store.session() as s:
        store.lock_places(s)  # the place it frees is counted by the decisions that hold the lock
        r = s.scalar(select(ReferralRow).where(ReferralRow.id == referral_id, ReferralRow.carrier_id == carrier_id,
                                               ReferralRow.status == Outcome.ROUTED.value))
        follow = s.scalar(select(CarrierFollowUpRow).where(CarrierFollowUpRow.referral_id == referral_id))
        event = _current_event(s, referral_id) if r is not None else None
        if (r is None or follow is None or follow.outcome != FollowUpOutcome.ENROLLED.value
                or (event is not None and _aware(event.at) + undo_window > now)):
            return None
        r.status = REFERRAL_WITHDRAWN
        s.add(CarrierOutcomeEventRow(referral_id=r.id, outcome=REFERRAL_WITHDRAWN, at=now, actor=actor,
                                     settled_at=now))
        audit_form(s, actor, "carrier_withdrawn", r.form_id, f"carrier {carrier_id}")
        return r.form_id


def settle_refusals(store: Store, undo_window: timedelta, now: datetime | None = None) -> int:
    """Free the places of refusals whose undo window has passed; returns how many were settled.

    Each settled refusal marks its referral ``declined`` (:meth:`pipeline.store.Store.decline_referral`)
    in one transaction with its event and an audit entry. Idempotent: run it before reading places.
    """
    now = now or utcnow()
    settled = 0
    due = (select(CarrierOutcomeEventRow).where(
        CarrierOutcomeEventRow.outcome == FollowUpOutcome.DECLINED.value,
        CarrierOutcomeEventRow.undone_at.is_(None), CarrierOutcomeEventRow.settled_at.is_(None),
        CarrierOutcomeEventRow.at <= now - undo_window))
    with store.session() as s:
        if s.scalars(due.limit(1)).first() is None:
            return 0  # the usual case, before every page that reads places: no write lock taken
        store.lock_places(s)  # then read again: an undo may have come first
        events = s.scalars(due).all()
        for event in events:
            r = s.get(ReferralRow, event.referral_id)
            if r is None or r.carrier_id is None:
                continue
            event.settled_at = now
            if store.decline_referral(s, r.id, r.carrier_id):
                settled += 1
                audit_form(s, "desk", "carrier_declined_settled", r.form_id, f"carrier {r.carrier_id}")
    return settled


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
