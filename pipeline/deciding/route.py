"""Route stage: choose the carrier for a validated referral, or put it on the waiting list.

Pure: the caller counts the places already used (from the store) and passes
them in; nothing is read or written here.

Rule, in order:

1. Candidates are the carriers that list the pupil's school in ``schools``
   (explicit service), then those that list the school's neighbourhood in
   ``neighbourhoods``, keeping only carriers that take the pupil's class level.
2. Candidates are ranked by: explicit school service first, then the lowest
   ``priority`` number, then the most places left, then id (for a stable order).
3. The first candidate with a place left gets the referral (``ROUTED``).
4. Otherwise ``WAITING_LIST``: "Aucune structure ne prend ce niveau dans ce
   quartier" when there is no candidate at all, "Plus de place disponible
   chez …" when every candidate is full.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from schemas.directory import Carrier, ClassLevel, Directory
from schemas.referral import Referral, RouteDecision, RouteOutcome

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A carrier able to take the referral, with what ranks it.

    Attributes:
        carrier: The carrier.
        explicit: Whether it lists the school itself (not only its neighbourhood).
        places_left: Places for the year minus places used, never below 0.
    """

    carrier: Carrier
    explicit: bool
    places_left: int

    @property
    def rank(self) -> tuple[int, int, int, str]:
        """Sort key: explicit first, lowest priority, most places left, id."""
        return (0 if self.explicit else 1, self.carrier.priority, -self.places_left, self.carrier.id)


def rank_candidates(school_id: str, neighbourhood_id: str, level: ClassLevel, directory: Directory,
                    places_used: Mapping[str, int]) -> list[Candidate]:
    """Carriers serving the school or its neighbourhood and taking the level, best first.

    Args:
        school_id: Directory id of the pupil's school.
        neighbourhood_id: Id of that school's neighbourhood.
        level: The pupil's class level.
        directory: Carriers to choose from.
        places_used: Carrier id → places already used this year; absent means 0.

    Returns:
        Candidates in preference order, full ones included (``places_left == 0``).
    """
    candidates: list[Candidate] = []
    for carrier in directory.carriers:
        explicit = school_id in carrier.schools
        if not (explicit or neighbourhood_id in carrier.neighbourhoods):
            continue
        if not carrier.takes(level):
            continue
        left = max(0, carrier.places - max(0, places_used.get(carrier.id, 0)))
        candidates.append(Candidate(carrier, explicit, left))
    return sorted(candidates, key=lambda c: c.rank)


def route_referral(referral: Referral, directory: Directory, places_used: Mapping[str, int]) -> RouteDecision:
    """Choose a carrier for a validated referral (rule in the module docstring).

    Args:
        referral: A validated referral; its ``school_id`` and ``class_level`` are used.
        directory: The directory the referral was validated against.
        places_used: Carrier id → referrals already routed to it this school year
            (counted by the caller from the store); missing ids count as 0.

    Returns:
        ``ROUTED`` with ``carrier_id`` and a French reason naming the carrier, or
        ``WAITING_LIST`` with ``carrier_id`` ``None`` and a French reason. A school
        that is no longer in the directory also gives ``WAITING_LIST``, with a
        reason saying so. Never raises on data.
    """
    level = referral.class_level
    try:
        school = directory.school(referral.school_id)
    except KeyError:
        logger.warning("routing: school %s not in directory", referral.school_id)
        return RouteDecision(outcome=RouteOutcome.WAITING_LIST,
                             reason_fr="L'établissement de l'élève n'est plus dans l'annuaire : mettre à jour "
                                       "l'annuaire puis relancer l'orientation.")
    quartier = directory.neighbourhood(school.neighbourhood)
    ranked = rank_candidates(school.id, school.neighbourhood, level, directory, places_used)
    ids = tuple(c.carrier.id for c in ranked)

    if not ranked:
        logger.info("routing: waiting list, no carrier for %s in %s", level.value, quartier.id)
        return RouteDecision(outcome=RouteOutcome.WAITING_LIST, candidates=ids,
                             reason_fr=f"Aucune structure ne prend ce niveau dans ce quartier "
                                       f"({level.label_fr}, {quartier.name}) : liste d'attente.")
    chosen = next((c for c in ranked if c.places_left > 0), None)
    if chosen is None:
        names = ", ".join(c.carrier.name for c in ranked)
        logger.info("routing: waiting list, carriers full: %s", ",".join(ids))
        return RouteDecision(outcome=RouteOutcome.WAITING_LIST, candidates=ids,
                             reason_fr=f"Plus de place disponible chez {names} : liste d'attente.")

    why = ("structure partenaire de l'établissement" if chosen.explicit
           else f"structure du quartier {quartier.name}")
    skipped = [c.carrier.name for c in ranked[:ranked.index(chosen)]]
    full_note = f" ; complet : {', '.join(skipped)}" if skipped else ""
    logger.info("routing: routed to %s (%d place(s) left before)", chosen.carrier.id, chosen.places_left)
    return RouteDecision(outcome=RouteOutcome.ROUTED, carrier_id=chosen.carrier.id, candidates=ids,
                         reason_fr=f"Orienté vers {chosen.carrier.name} ({why}, {chosen.places_left} place(s) "
                                   f"disponible(s) avant cette orientation{full_note}).")
