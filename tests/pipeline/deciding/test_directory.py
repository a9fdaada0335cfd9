"""Tests of pipeline.deciding.directory: loading the demo directory and matching written school names."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from pipeline.deciding.directory import MatchStatus, fold, load_directory, match_school, split_kind
from pipeline.settings import Settings
from schemas.directory import ClassLevel, Directory, SchoolKind
from tests.conftest import PROJECT

TOML = PROJECT / "pipeline" / "config" / "directory.toml"


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(TOML)


def test_settings_point_at_the_demo_directory() -> None:
    assert Settings().directory_file.resolve() == TOML


def test_demo_directory_shape(directory: Directory) -> None:
    assert directory.city == "Argenteuil"
    assert len(directory.neighbourhoods) == 6
    assert 14 <= len(directory.schools) <= 18
    assert len(directory.carriers) == 12
    assert sum(c.kind == "municipal" for c in directory.carriers) == 4
    assert sum(c.kind == "association" for c in directory.carriers) == 8
    assert directory.school("ee-jules-ferry").levels == (
        ClassLevel.CP, ClassLevel.CE1, ClassLevel.CE2, ClassLevel.CM1, ClassLevel.CM2)
    assert directory.school("clg-claude-monet").offers(ClassLevel.TROISIEME)
    assert not directory.school("clg-claude-monet").offers(ClassLevel.CM2)


def test_every_school_is_served_for_some_level(directory: Directory) -> None:
    for school in directory.schools:
        served = [c for c in directory.carriers
                  if school.id in c.schools or school.neighbourhood in c.neighbourhoods]
        assert served, school.id


def test_every_school_matches_its_own_name_and_aliases(directory: Directory) -> None:
    for school in directory.schools:
        for name in (school.name, *school.aliases):
            m = match_school(name, directory)
            assert m.school_id == school.id, (name, m)


def test_directory_rejects_dangling_references(tmp_path: Path) -> None:
    bad = TOML.read_text(encoding="utf-8").replace('schools = ["ee-jules-ferry", "ee-anatole-france"]',
                                                   'schools = ["ee-jules-ferry", "ee-nowhere"]')
    path = tmp_path / "directory.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(ValidationError, match="ee-nowhere"):
        load_directory(path)


def test_school_levels_must_fit_its_kind() -> None:
    with pytest.raises(ValidationError, match="not taught"):
        Directory.model_validate({
            "city": "X", "school_year": "2026-2027",
            "neighbourhoods": [{"id": "q", "name": "Q"}],
            "schools": [{"id": "clg-a", "name": "Collège A", "kind": "college", "neighbourhood": "q",
                         "levels": ["CM2"]}],
            "carriers": [],
        })


def test_fold() -> None:
    assert fold("École élém. Jean-Jaurès") == "ecole elem jean jaures"
    assert fold("  CŒUR  d’Argent ") == "coeur d argent"


@pytest.mark.parametrize(("written", "kind", "core"), [
    ("École élémentaire Jules Ferry", SchoolKind.ELEMENTARY, "jules ferry"),
    ("E.E. Jules Ferry", SchoolKind.ELEMENTARY, "jules ferry"),
    ("Ecole elem. Jules Ferry", SchoolKind.ELEMENTARY, "jules ferry"),
    ("Clg Claude Monet", SchoolKind.COLLEGE, "claude monet"),
    ("Collège de la Paix", SchoolKind.COLLEGE, "paix"),
    ("Jules Ferry", None, "jules ferry"),
])
def test_split_kind(written: str, kind: SchoolKind | None, core: str) -> None:
    assert split_kind(written) == (kind, core)


# Written variants → school id. Typical ways teachers and readers write names.
VARIANTS = [
    ("EE Jules Ferry", "ee-jules-ferry"),
    ("ecole jules ferry", "ee-jules-ferry"),
    ("Ecole elem. Jules Ferry", "ee-jules-ferry"),
    ("E.E. Jules Ferry", "ee-jules-ferry"),
    ("ÉCOLE ÉLÉMENTAIRE JULES FERRY", "ee-jules-ferry"),
    ("école jule fery", "ee-jules-ferry"),           # two typos
    ("ecloe jules ferry", "ee-jules-ferry"),         # typo in the kind word
    ("Ferry Jules", "ee-jules-ferry"),               # swapped words
    ("Jules Ferry Argenteuil", "ee-jules-ferry"),    # the city added
    ("Groupe scolaire J. Ferry", "ee-jules-ferry"),
    ("Clg Claude Monet", "clg-claude-monet"),
    ("college claude monnet", "clg-claude-monet"),
    ("Collège Monet", "clg-claude-monet"),
    ("clg pvc", "clg-paul-vaillant-couturier"),
    ("colege vaillant couturier", "clg-paul-vaillant-couturier"),
    ("EE J. Jaures", "ee-jean-jaures"),
    ("jean jaure", "ee-jean-jaures"),
    ("college jean jacques rousseau", "clg-jean-jacques-rousseau"),
    ("ecole joliot-curie", "ee-joliot-curie"),
    ("E.E. Henri Barbuse", "ee-henri-barbusse"),
    ("Ecole Louise Michelle", "ee-louise-michel"),
    ("EE Anatole Frans", "ee-anatole-france"),
    ("ecole victor hugot", "ee-victor-hugo"),
    ("Ecole Romain Roland", "ee-romain-rolland"),
    ("ecole marcel cachain", "ee-marcel-cachin"),
    ("college e cotton", "clg-eugenie-cotton"),
]


@pytest.mark.parametrize(("written", "school_id"), VARIANTS)
def test_variants_match(directory: Directory, written: str, school_id: str) -> None:
    m = match_school(written, directory)
    assert m.status is MatchStatus.MATCHED
    assert m.school_id == school_id
    assert m.score >= 85
    assert m.reason_fr is None


# Schools that are not in the directory, some close to ones that are.
UNKNOWN = [
    "Ecole Louis Pasteur", "Collège Jean Moulin", "EE Paul Eluard", "Ecole Jules Guesde", "Ecole Jean Macé",
    "Ecole Victor Basch", "Lycée Georges Braque", "EE Marcel Pagnol", "Ecole Jules", "ecole anatole",
    "Collège Jules Ferry",      # an elementary school's name with the wrong kind
    "College Romain Rolland",
]


@pytest.mark.parametrize("written", UNKNOWN)
def test_unknown_schools_do_not_match(directory: Directory, written: str) -> None:
    m = match_school(written, directory)
    assert m.status is MatchStatus.NO_MATCH
    assert m.school_id is None
    assert m.reason_fr is not None and "annuaire" in m.reason_fr


@pytest.mark.parametrize("written", ["", "   ", "École élémentaire", "Clg"])
def test_empty_name_does_not_match(directory: Directory, written: str) -> None:
    m = match_school(written, directory)
    assert m.status is MatchStatus.NO_MATCH
    assert m.reason_fr is not None and "nom" in m.reason_fr


def test_two_close_schools_are_ambiguous() -> None:
    d = Directory.model_validate({
        "city": "X", "school_year": "2026-2027",
        "neighbourhoods": [{"id": "q", "name": "Q"}],
        "schools": [
            {"id": "ee-jules-ferry-1", "name": "École élémentaire Jules Ferry 1", "kind": "elementaire",
             "neighbourhood": "q"},
            {"id": "ee-jules-ferry-2", "name": "École élémentaire Jules Ferry 2", "kind": "elementaire",
             "neighbourhood": "q"},
        ],
        "carriers": [],
    })
    m = match_school("EE Jules Ferry", d)
    assert m.status is MatchStatus.AMBIGUOUS
    assert m.school_id is None
    assert set(m.candidates) == {"ee-jules-ferry-1", "ee-jules-ferry-2"}
    assert m.reason_fr is not None and "ambigu" in m.reason_fr
    assert match_school("EE Jules Ferry 2", d).school_id == "ee-jules-ferry-2"
