"""Tests of pipeline.deciding.route: carrier choice, fall-back when full, waiting list."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.deciding.route import route_referral
from pipeline.settings import PACKAGE_DIR
from schemas.directory import ClassLevel, Directory
from schemas.referral import Referral, RouteDecision, RouteOutcome


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(PACKAGE_DIR / "config" / "directory.toml")


def make_referral(school_id: str, level: str) -> Referral:
    """A minimal valid referral: routing only reads school_id and class_level."""
    return Referral.model_validate({
        "school_year": "2026-2027",
        "referral_date": date(2026, 10, 2),
        "referrer": {"role": "enseignant", "name": "Mme Martin", "email": "prof@ac-versailles.example",
                     "class_name": "CM1 B", "signed_on": date(2026, 10, 2), "signed": True},
        "pupil": {"surname": "Benali", "first_name": "Inès", "birth_date": date(2017, 3, 14),
                  "address": "12 rue de l'Exemple", "postcode": "95100", "town": "Argenteuil"},
        "school_id": school_id,
        "school_name_written": school_id,
        "school_match_score": 100,
        "class_level": level,
        "criteria": ["methode"],
        "guardians": [{"surname": "Benali", "relationship": "mere", "phone": "0612345678"}],
        "agreements": {"orientation": True, "data_sharing": True, "signed": True,
                       "signed_on": date(2026, 10, 5)},
    })


def test_referral_model_normalises_phone() -> None:
    assert make_referral("ee-jules-ferry", "CM1").guardians[0].phone == "+33612345678"


def test_explicit_school_carrier_first(directory: Directory) -> None:
    decision = route_referral(make_referral("ee-jules-ferry", "CM1"), directory, {})
    assert decision.outcome is RouteOutcome.ROUTED
    assert decision.carrier_id == "asso-plume-cartable"
    assert "Association Plume et Cartable" in decision.reason_fr
    # Lire et Grandir serves the neighbourhood but not CM1; the city-wide service comes last.
    assert decision.candidates == ("asso-plume-cartable", "ville-reussite-educative")


def test_falls_to_next_carrier_when_places_used_up(directory: Directory) -> None:
    decision = route_referral(make_referral("ee-jules-ferry", "CM1"), directory, {"asso-plume-cartable": 15})
    assert decision.outcome is RouteOutcome.ROUTED
    assert decision.carrier_id == "ville-reussite-educative"
    assert "complet : Association Plume et Cartable" in decision.reason_fr


def test_waiting_list_when_every_candidate_is_full(directory: Directory) -> None:
    decision = route_referral(make_referral("ee-jules-ferry", "CM1"), directory,
                              {"asso-plume-cartable": 15, "ville-reussite-educative": 41})
    assert decision.outcome is RouteOutcome.WAITING_LIST
    assert decision.carrier_id is None
    assert decision.reason_fr.startswith("Plus de place disponible chez Association Plume et Cartable")


def test_waiting_list_when_no_carrier_takes_the_level(directory: Directory) -> None:
    # Centre-ville: the Espace Jeunes takes 6e-4e only; no one takes 3e.
    decision = route_referral(make_referral("clg-claude-monet", "3E"), directory, {})
    assert decision.outcome is RouteOutcome.WAITING_LIST
    assert decision.candidates == ()
    assert decision.reason_fr.startswith("Aucune structure ne prend ce niveau dans ce quartier")
    assert "3e" in decision.reason_fr and "Centre-ville" in decision.reason_fr


def test_level_restricts_candidates(directory: Directory) -> None:
    # Devoirs Partagés serves Langevin explicitly but not CP: the neighbourhood's Maison de quartier
    # (priority 2) comes before the city-wide service (priority 3).
    cp = route_referral(make_referral("ee-paul-langevin", "CP"), directory, {})
    assert cp.carrier_id == "ville-mq-val-argent"
    ce1 = route_referral(make_referral("ee-paul-langevin", "CE1"), directory, {})
    assert ce1.carrier_id == "asso-devoirs-partages"


def test_neighbourhood_carrier_for_school_without_explicit_one(directory: Directory) -> None:
    decision = route_referral(make_referral("ee-romain-rolland", "CE2"), directory, {})
    assert decision.carrier_id == "ville-mq-val-argent"
    assert "quartier Val-d'Argent Sud" in decision.reason_fr


def test_explicit_beats_lower_priority_neighbourhood_carrier(directory: Directory) -> None:
    # Clé des Savoirs (explicit, priority 2) before Entraide (neighbourhood, priority 1).
    decision = route_referral(make_referral("ee-jules-verne", "CM2"), directory, {})
    assert decision.carrier_id == "asso-cle-des-savoirs"
    full = route_referral(make_referral("ee-jules-verne", "CM2"), directory, {"asso-cle-des-savoirs": 12})
    assert full.carrier_id == "asso-entraide-val-notre-dame"


def _tiny_directory(places: dict[str, int], priorities: dict[str, int]) -> Directory:
    carrier: dict[str, Any] = {"kind": "association", "neighbourhoods": ["q"], "levels": ["CE1"],
                               "contact": {"name": "X", "email": "x@asso.example"}}
    return Directory.model_validate({
        "city": "X", "school_year": "2026-2027",
        "neighbourhoods": [{"id": "q", "name": "Quartier"}],
        "schools": [{"id": "ee-jules-ferry", "name": "École élémentaire Jules Ferry", "kind": "elementaire",
                     "neighbourhood": "q"}],
        "carriers": [{**carrier, "id": cid, "name": cid.upper(), "places": places[cid], "priority": priorities[cid]}
                     for cid in places],
    })


def test_most_places_left_breaks_priority_ties() -> None:
    d = _tiny_directory({"asso-a": 10, "asso-b": 20}, {"asso-a": 1, "asso-b": 1})
    assert route_referral(make_referral("ee-jules-ferry", "CE1"), d, {}).carrier_id == "asso-b"
    assert route_referral(make_referral("ee-jules-ferry", "CE1"), d, {"asso-b": 15}).carrier_id == "asso-a"


def test_priority_beats_places() -> None:
    d = _tiny_directory({"asso-a": 10, "asso-b": 20}, {"asso-a": 1, "asso-b": 2})
    assert route_referral(make_referral("ee-jules-ferry", "CE1"), d, {}).carrier_id == "asso-a"


def test_unknown_school_goes_to_waiting_list_with_reason(directory: Directory) -> None:
    decision = route_referral(make_referral("ee-closed-school", "CM1"), directory, {})
    assert decision.outcome is RouteOutcome.WAITING_LIST
    assert "annuaire" in decision.reason_fr


def test_route_decision_invariant() -> None:
    with pytest.raises(ValueError):
        RouteDecision(outcome=RouteOutcome.ROUTED, reason_fr="x")
    with pytest.raises(ValueError):
        RouteDecision(outcome=RouteOutcome.WAITING_LIST, carrier_id="asso-a", reason_fr="x")


def test_every_demo_school_and_level_gets_a_decision(directory: Directory) -> None:
    for school in directory.schools:
        for level in school.levels:
            decision = route_referral(make_referral(school.id, level.value), directory, {})
            assert decision.reason_fr
            if not (school.id == "clg-claude-monet" and level is ClassLevel.TROISIEME):
                assert decision.outcome is RouteOutcome.ROUTED, (school.id, level)
