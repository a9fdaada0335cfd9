"""The yearly report's figures, counted from the store, with the small-count rule applied.

Every number comes from the database (``referrals``, and the carriers' follow-ups ``carrier_followups``, a
review-desk table read here by SQL as :mod:`pipeline.privacy.retention` does) and from the directory
(capacities, neighbourhoods). Nothing personal leaves this module: only counts, school, neighbourhood and
carrier names, class levels and criterion groups.

What the outcomes mean (one per referral of the school year, by its current state):

* ``enrolled`` « Inscrit(e) »: routed, and the carrier recorded the enrolment;
* ``in_progress`` « Orientée, suivi en cours »: routed, no enrolment recorded (yet, or a refusal still undoable);
* ``waiting_list`` « Liste d'attente (structures complètes) »: on the waiting list while some carrier serves
  the school and the level, all full;
* ``no_place`` « Sans place (aucune structure pour ce niveau et ce quartier) »: on the waiting list, no
  carrier of the directory serves the school and the level at all;
* ``withdrawn`` « Inscrit(e) puis parti(e) en cours d'année »: enrolled, then left; the place was freed;
* ``declined`` « Refusée (famille ou structure) »: the carrier's refusal stands, the place was freed;
* ``review`` « En vérification par l'équipe »: read and valid but held for a person (a possible duplicate...).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from pipeline.deciding.route import rank_candidates
from pipeline.form.definition import CRITERIA_GROUPS
from pipeline.reporting.suppression import Equation, Shown, label, suppress
from pipeline.settings import ReportSettings
from pipeline.store import REFERRAL_DECLINED, REFERRAL_WITHDRAWN, ReferralRow
from schemas.directory import ClassLevel, Directory
from schemas.document import Outcome

OUTCOME_LABELS_FR: dict[str, str] = {
    "enrolled": "Inscrit(e)",
    "withdrawn": "Inscrit(e) puis parti(e) en cours d'année",
    "in_progress": "Orientée, suivi en cours",
    "waiting_list": "Liste d'attente (structures complètes)",
    "no_place": "Sans place (aucune structure pour ce niveau et ce quartier)",
    "declined": "Refusée (famille ou structure)",
    "review": "En vérification par l'équipe",
}
"""Outcome key → its French label, in the report's order."""
OTHER_CRITERIA_FR = "Autre critère (précisé sur la fiche)"
NO_CARRIER_FR = "Sans structure (attente, sans place, vérification)"
ENROLLED = "enrolled"


@dataclass(frozen=True)
class Row:
    """One printed line of a table.

    Attributes:
        key: The cell's key (stable, for tests), e.g. ``"level:CM1"``.
        label: What the line is, in French.
        value: The count (used for the chart's bar only when ``shown`` is a value).
        shown: How the count is shown.
        text: The count as printed: a number, « < 5 » or « s ».
        group: For schools, the neighbourhood's name; else empty.
    """

    key: str
    label: str
    value: int
    shown: Shown
    text: str
    group: str = ""

    @property
    def visible(self) -> bool:
        """Whether the number itself is printed."""
        return self.shown is Shown.VALUE


@dataclass(frozen=True)
class Table:
    """A printed table (and its chart).

    Attributes:
        key: Stable name (``level``, ``criteria``, ``neighbourhood``, ``school``, ``carrier``, ``outcome``,
            ``delay``).
        title: French title.
        rows: Its lines, in order.
        total: The line of its total, if it has one (criterion groups do not add up).
        note: A French sentence under it, if any.
    """

    key: str
    title: str
    rows: tuple[Row, ...]
    total: Row | None
    note: str = ""


@dataclass(frozen=True)
class PlacesRow:
    """One carrier's places over the year.

    Attributes:
        carrier_id: Directory id.
        name: Carrier's name.
        capacity: Places for the year (directory; public, always shown).
        used: Places taken now (referrals routed to it, enrolled or being followed up).
        left: ``capacity - used`` (negative when over capacity).
    """

    carrier_id: str
    name: str
    capacity: int
    used: Row
    left: Row


@dataclass(frozen=True)
class YearlyReport:
    """The whole report for one school year: counts only, small counts hidden.

    Attributes:
        school_year: ``AAAA-AAAA``.
        city: The city of the directory.
        generated_at: When the figures were read (UTC).
        min_cell: Smallest count shown.
        total: Referrals of the year.
        tables: The tables in report order.
        places: Places per carrier.
        median_delay_days: Median days from reception to enrolment, printed only over at least ``min_cell``
            enrolments (else ``None``).
        values: Every cell's count, printed or not, by key (for tests; never rendered as such).
        shown: How every cell is shown, by key.
        equations: The relations between cells readers know (for tests: nothing small is recoverable).
    """

    school_year: str
    city: str
    generated_at: datetime
    min_cell: int
    total: Row
    tables: tuple[Table, ...]
    places: tuple[PlacesRow, ...]
    median_delay_days: float | None
    values: Mapping[str, int]
    shown: Mapping[str, Shown]
    equations: tuple[Equation, ...] = ()

    def table(self, key: str) -> Table:
        """The table named ``key``.

        Raises:
            KeyError: No such table.
        """
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)


@dataclass(frozen=True)
class _Referral:
    level: str
    school_id: str
    status: str
    carrier_id: str | None
    criteria: tuple[str, ...]
    other_criterion: bool
    created_at: datetime
    enrolled_at: datetime | None


def _enrolments(s: Session) -> dict[int, datetime | None]:
    """Referral id → when its carrier recorded the enrolment (the desk's ``carrier_followups``)."""
    if not inspect(s.connection()).has_table("carrier_followups"):
        return {}
    rows = s.execute(text("SELECT referral_id, outcome_at FROM carrier_followups WHERE outcome = :o"),
                     {"o": ENROLLED}).all()
    return {int(r): (at if isinstance(at, datetime) or at is None else datetime.fromisoformat(str(at)))
            for r, at in rows}


def _load(s: Session, school_year: str) -> list[_Referral]:
    enrolled = _enrolments(s)
    rows = s.execute(select(ReferralRow.id, ReferralRow.class_level, ReferralRow.school_id, ReferralRow.status,
                            ReferralRow.carrier_id, ReferralRow.data, ReferralRow.created_at)
                     .where(ReferralRow.school_year == school_year).order_by(ReferralRow.id)).all()
    return [_Referral(level, school, status, carrier, tuple(data.get("criteria") or ()),
                      bool(data.get("criteria_other_text")), created, enrolled.get(rid))
            for rid, level, school, status, carrier, data, created in rows]


def outcome_of(r: _Referral, directory: Directory) -> str:
    """The outcome key of one referral (meanings in the module docstring)."""
    if r.status == Outcome.ROUTED.value:
        return "enrolled" if r.enrolled_at is not None else "in_progress"
    if r.status == REFERRAL_DECLINED:
        return "declined"
    if r.status == REFERRAL_WITHDRAWN:
        return "withdrawn"
    if r.status == Outcome.WAITING_LIST.value:
        try:
            school = directory.school(r.school_id)
            served = rank_candidates(school.id, school.neighbourhood, ClassLevel(r.level), directory, {})
        except (KeyError, ValueError):
            served = []
        return "waiting_list" if served else "no_place"
    return "review"


def _days(start: datetime, end: datetime) -> float:
    start = start if start.tzinfo else start.replace(tzinfo=end.tzinfo)
    end = end if end.tzinfo else end.replace(tzinfo=start.tzinfo)
    return (end - start).total_seconds() / 86400


def delay_classes(bounds: Sequence[int]) -> list[tuple[str, str]]:
    """``(key, French label)`` of each class of time to enrolment, from ``ReportSettings.delay_bounds_days``."""
    out, low = [], 0
    for b in bounds:
        out.append((f"delay:{b}", f"{low} à {b} jours"))
        low = b + 1
    out.append(("delay:more", f"plus de {bounds[-1]} jours" if bounds else "tous"))
    return out


def _delay_key(days: float, bounds: Sequence[int]) -> str:
    for b in bounds:
        if days <= b:
            return f"delay:{b}"
    return "delay:more"


def levels_taught_equations(directory: Directory, school_ids: Sequence[str]) -> list[Equation]:
    """What readers know from the directory between the level table and the school table: a referral's school
    teaches its level (validation refuses any other, ``LEVEL_NOT_OFFERED``), so within each group of levels and
    schools linked by « teaches », the levels' counts add up to the schools' (the collège levels to the collèges,
    the elementary ones to the écoles).

    An attack (2026-12-07) recovered a hidden 6e count (« < 5 ») as the only collège's printed count less the other
    collège levels, and a « s » the same way; the suppression was not given these sums.

    Args:
        directory: The schools and the levels each teaches.
        school_ids: The schools with referrals; one missing from the directory (« hors annuaire ») is taken to
            teach every level.

    Returns:
        One equation per connected group that holds both a level and a school (cells ``level:*`` and
        ``school:*``).
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    known = {sc.id: sc for sc in directory.schools}
    for school_id in {*known, *school_ids}:
        school = known.get(school_id)
        for level in ClassLevel:
            if school is None or school.offers(level):
                parent[find(f"school:{school_id}")] = find(f"level:{level.value}")
    groups: dict[str, list[str]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    equations = []
    for nodes in groups.values():
        levels = sorted(n for n in nodes if n.startswith("level:"))
        schools = sorted(n for n in nodes if n.startswith("school:"))
        if levels and schools:
            equations.append(Equation(tuple((k, 1) for k in levels) + tuple((k, -1) for k in schools)))
    return equations


def yearly_report(s: Session, directory: Directory, school_year: str, settings: ReportSettings,
                  now: datetime) -> YearlyReport:
    """Count the referrals of ``school_year`` and decide what is shown.

    Args:
        s: A session on the store.
        directory: The directory (names, neighbourhoods, capacities).
        school_year: ``AAAA-AAAA``.
        settings: ``min_cell`` and the delay classes.
        now: When the figures are read (printed on the report).

    Returns:
        The report, every printed count obeying :mod:`pipeline.reporting.suppression`.
    """
    refs = _load(s, school_year)
    values: dict[str, int] = {"total": len(refs)}
    equations: list[Equation] = []
    labels: dict[str, str] = {}

    def table(prefix: str, keys_labels: Sequence[tuple[str, str]], counts: Counter[str], *, adds_up: bool
              ) -> list[str]:
        keys = []
        for k, lab in keys_labels:
            key = f"{prefix}:{k}"
            values[key], labels[key] = counts.get(k, 0), lab
            keys.append(key)
        if adds_up:
            equations.append(Equation.total(keys, "total"))
        return keys

    level_keys = table("level", [(lv.value, lv.label_fr) for lv in ClassLevel], Counter(r.level for r in refs),
                       adds_up=True)
    groups = Counter[str]()
    for r in refs:
        for name, options in CRITERIA_GROUPS:
            if any(code in r.criteria for code, _ in options):
                groups[name] += 1
        if r.other_criterion:
            groups[OTHER_CRITERIA_FR] += 1
    criteria_keys = table("criteria", [(n, n) for n, _ in CRITERIA_GROUPS] + [(OTHER_CRITERIA_FR,) * 2],
                          groups, adds_up=False)

    nb_of_school = {sc.id: sc.neighbourhood for sc in directory.schools}
    unknown_nb = "inconnu"
    nb_counts = Counter(nb_of_school.get(r.school_id, unknown_nb) for r in refs)
    nb_list = [(n.id, n.name) for n in directory.neighbourhoods]
    if nb_counts.get(unknown_nb):
        nb_list.append((unknown_nb, "Établissement hors annuaire"))
    nb_keys = table("neighbourhood", nb_list, nb_counts, adds_up=True)

    school_counts = Counter(r.school_id for r in refs)
    school_keys: list[str] = []
    school_group: dict[str, str] = {}
    for nb_id, nb_name in nb_list:
        members = [(sc.id, sc.name) for sc in directory.schools if sc.neighbourhood == nb_id]
        if nb_id == unknown_nb:
            members = [(sid, sid) for sid in sorted(school_counts) if sid not in nb_of_school]
        keys = table("school", members, school_counts, adds_up=False)
        equations.append(Equation.total(keys, f"neighbourhood:{nb_id}"))
        school_keys += keys
        school_group.update({k: nb_name for k in keys})
    equations.append(Equation.total(school_keys, "total"))
    equations += [eq for eq in levels_taught_equations(directory, sorted(school_counts))
                  if all(k in values for k in eq.cells)]

    carriers = sorted(directory.carriers, key=lambda c: c.name)
    carrier_counts = Counter(r.carrier_id or "" for r in refs)
    carrier_keys = table("carrier", [(c.id, c.name) for c in carriers] + [("", NO_CARRIER_FR)], carrier_counts,
                         adds_up=True)

    outcomes = Counter(outcome_of(r, directory) for r in refs)
    outcome_keys = table("outcome", list(OUTCOME_LABELS_FR.items()), outcomes, adds_up=True)
    # Readers know that the referrals without a carrier are those waiting, without place or in review.
    equations.append(Equation((("carrier:", 1), ("outcome:waiting_list", -1), ("outcome:no_place", -1),
                               ("outcome:review", -1))))

    bounds = settings.delay_bounds_days
    delays = [_days(r.created_at, r.enrolled_at) for r in refs
              if r.enrolled_at is not None and r.status == Outcome.ROUTED.value]
    delay_keys = table("delay", [(k.split(":", 1)[1], lab) for k, lab in delay_classes(bounds)],
                       Counter(_delay_key(d, bounds).split(":", 1)[1] for d in delays), adds_up=False)
    equations.append(Equation.total(delay_keys, "outcome:enrolled"))

    # Places: used (routed now) + left = capacity (public); used + freed (refused or gone) = referrals to the
    # carrier.
    place_keys: list[tuple[str, str, str, str]] = []
    fixed: list[str] = []
    for c in carriers:
        used = sum(1 for r in refs if r.carrier_id == c.id and r.status == Outcome.ROUTED.value)
        declined = sum(1 for r in refs if r.carrier_id == c.id and r.status in (REFERRAL_DECLINED,
                                                                                 REFERRAL_WITHDRAWN))
        kc, ku, kl, kd = f"capacity:{c.id}", f"used:{c.id}", f"left:{c.id}", f"declined:{c.id}"
        values.update({kc: c.places, ku: used, kl: c.places - used, kd: declined})
        fixed.append(kc)
        equations.append(Equation(((ku, 1), (kl, 1), (kc, -1))))
        equations.append(Equation(((ku, 1), (kd, 1), (f"carrier:{c.id}", -1))))
        place_keys.append((c.id, ku, kl, kc))
    equations.append(Equation(tuple((k[1], 1) for k in place_keys)
                              + (("outcome:enrolled", -1), ("outcome:in_progress", -1))))
    equations.append(Equation(tuple((f"declined:{c.id}", 1) for c in carriers)
                              + (("outcome:declined", -1), ("outcome:withdrawn", -1))))

    printed = (["total"] + level_keys + criteria_keys + nb_keys + school_keys + carrier_keys + outcome_keys
               + delay_keys + [k for _, ku, kl, kc in place_keys for k in (ku, kl, kc)])
    # A capacity can be negative-free but "left" can go below zero when over capacity: never small-hidden alone.
    shown = suppress({k: max(v, 0) for k, v in values.items()}, equations, printed=printed, fixed=fixed,
                     min_cell=settings.min_cell)

    def row(key: str, group: str = "") -> Row:
        return Row(key, labels.get(key, ""), values[key], shown[key], label(shown[key], values[key],
                                                                             settings.min_cell), group)

    def rows(keys: Sequence[str], drop_zero: bool = False) -> tuple[Row, ...]:
        return tuple(row(k, school_group.get(k, "")) for k in keys if not (drop_zero and values[k] == 0))

    total = row("total")
    n_enrolled = values["outcome:enrolled"]
    tables = (
        Table("outcome", "Devenir des orientations", rows(outcome_keys), total,
              "Situation actuelle de chaque fiche valide de l'année, une seule par fiche."),
        Table("level", "Orientations par niveau de classe", rows(level_keys), total),
        Table("criteria", "Orientations par groupe de critères", rows(criteria_keys), None,
              "Une fiche peut relever de plusieurs groupes : ces nombres ne s'additionnent pas."),
        Table("neighbourhood", "Orientations par quartier", rows(nb_keys), total),
        Table("school", "Orientations par établissement", rows(school_keys, drop_zero=True), total,
              "Établissements sans aucune orientation omis ; regroupés par quartier."),
        Table("carrier", "Orientations par structure", rows(carrier_keys), total,
              "Structure à laquelle la fiche a été orientée, même si la famille ou la structure a refusé ensuite."),
        Table("delay", "Délai entre la réception de la fiche et l'inscription", rows(delay_keys),
              row("outcome:enrolled"), "En jours calendaires, pour les élèves inscrits."),
    )
    places = tuple(PlacesRow(cid, directory.carrier(cid).name, values[kc], row(ku), row(kl))
                   for cid, ku, kl, kc in place_keys)
    median = statistics.median(delays) if n_enrolled >= settings.min_cell and delays else None
    return YearlyReport(school_year, directory.city, now, settings.min_cell, total, tables, places,
                        None if median is None else round(median, 1), values, shown, tuple(equations))
