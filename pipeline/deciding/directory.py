"""Load the city directory and match a handwritten school name to a school id.

Teachers write the school as they say it: "EE Jules Ferry", "Ecole elem. J. Ferry",
"école jule fery", "Clg Monet". ``match_school`` folds accents and case, drops the
kind words ("École élémentaire", "EE", "E.E.", "Collège", "Clg"…) while noting
which kind they name, and compares what remains with each school's name and
aliases using rapidfuzz. A match must clear a minimum score and beat the next
school by a margin; otherwise the result says why there is no match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz

from schemas.directory import Directory, SchoolKind


def load_directory(path: Path) -> Directory:
    """Read the directory TOML (``Settings.directory_file``).

    Args:
        path: Path of a file shaped like ``pipeline/config/directory.toml``.

    Returns:
        The checked, frozen directory.

    Raises:
        OSError: The file cannot be read.
        tomllib.TOMLDecodeError: The file is not valid TOML.
        pydantic.ValidationError: A record is malformed or a reference dangles.
    """
    return Directory.from_toml(path)


class SchoolMatchSettings(BaseModel):
    """Thresholds of ``match_school`` (scores are rapidfuzz 0-100).

    Values calibrated on the variant tables of ``tests/pipeline/deciding/test_directory.py``
    against the demo directory: written variants with one typo per word score
    88.9 or more ("EE Anatole Frans"), names of schools not in the directory
    score 73 or less ("Ecole Jules" 72.7, "Ecole Jules Guesde" 69.6). 85 sits
    between, on the cautious side: a wrong match sends a child to the wrong
    carrier, a missed one only goes to review ("EE Jule Feri", two typos, 80).
    The kind penalty keeps "Collège Jules Ferry" (80) off the elementary school.
    """

    model_config = ConfigDict(frozen=True)

    min_score: float = 85.0
    """Below this best score the name matches no school."""
    ambiguity_margin: float = 6.0
    """If the runner-up school scores within this many points of the best, the match is ambiguous."""
    kind_mismatch_penalty: float = 20.0
    """Subtracted when the written kind ("Collège", "EE") contradicts the school's kind."""


DEFAULT_MATCH_SETTINGS = SchoolMatchSettings()


class MatchStatus(StrEnum):
    """Outcome of matching a written school name."""

    MATCHED = "matched"
    NO_MATCH = "no_match"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True)
class SchoolMatch:
    """Result of ``match_school``.

    Attributes:
        status: Matched, no match, or ambiguous.
        school_id: The matched school's id, ``None`` unless ``status`` is ``MATCHED``.
        score: Best score found (0-100), whatever the status.
        candidates: Ids of the best-scoring schools, best first (at most three),
            for a reviewer to choose from.
        reason_fr: Why there is no match, in French for staff; ``None`` when matched.
    """

    status: MatchStatus
    school_id: str | None
    score: float
    candidates: tuple[str, ...] = ()
    reason_fr: str | None = None

    @property
    def matched(self) -> bool:
        """Whether a single school was found."""
        return self.status is MatchStatus.MATCHED


# Words that say what kind of establishment it is, not which one (accents folded).
_ELEMENTARY_WORDS = frozenset({
    "ecole", "ecol", "elementaire", "elementaires", "elem", "elemt", "elt", "ee", "primaire", "prim",
    "groupe", "scolaire", "gs", "publique", "ep",
})
_COLLEGE_WORDS = frozenset({"college", "colege", "clg", "coll", "col"})
# Long kind words recognised despite a typo ("ecloe", "elementiare", "colllege").
_FUZZY_KIND_WORDS = {"ecole": SchoolKind.ELEMENTARY, "elementaire": SchoolKind.ELEMENTARY,
                     "primaire": SchoolKind.ELEMENTARY, "college": SchoolKind.COLLEGE}
_FUZZY_KIND_MIN = 80.0  # rapidfuzz ratio; "ecloe"/"ecole" = 80, "jules"/"ecole" = 40
# Words that name the place, not the school.
_NOISE_WORDS = frozenset({"argenteuil", "95100", "de", "d", "du", "la", "le", "l"})


def fold(text: str) -> str:
    """Lowercase, strip accents and punctuation, collapse spaces.

    ``"École élém. Jean-Jaurès"`` → ``"ecole elem jean jaures"``.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    no_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    no_accents = no_accents.lower().replace("œ", "oe").replace("æ", "ae")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", no_accents).split())


def _kind_of_word(word: str) -> SchoolKind | None:
    if word in _ELEMENTARY_WORDS:
        return SchoolKind.ELEMENTARY
    if word in _COLLEGE_WORDS:
        return SchoolKind.COLLEGE
    if len(word) >= 5:
        for kind_word, kind in _FUZZY_KIND_WORDS.items():
            if fuzz.ratio(word, kind_word) >= _FUZZY_KIND_MIN:
                return kind
    return None


def split_kind(written_name: str) -> tuple[SchoolKind | None, str]:
    """Separate the kind words from the distinctive part of a school name.

    Args:
        written_name: Name as written, e.g. ``"E.E. Jules Ferry"``.

    Returns:
        ``(kind, core)``: the kind the words name (``None`` if none or both), and
        the folded distinctive part, e.g. ``(SchoolKind.ELEMENTARY, "jules ferry")``.
    """
    words = fold(written_name).split()
    kinds: set[SchoolKind] = set()
    # "E.E." folds to "e e": a leading pair of single "e" means école élémentaire.
    if words[:2] == ["e", "e"]:
        words = words[2:]
        kinds.add(SchoolKind.ELEMENTARY)
    core: list[str] = []
    for word in words:
        kind = _kind_of_word(word)
        if kind is not None:
            kinds.add(kind)
        elif word not in _NOISE_WORDS:
            core.append(word)
    written_kind = kinds.pop() if len(kinds) == 1 else None
    return written_kind, " ".join(core)


def _similarity(a: str, b: str) -> float:
    # ratio catches typos; token_sort_ratio catches swapped words ("Ferry Jules").
    # Neither rewards a lone fragment ("Ferry" vs "Jules Ferry" = 62), so short
    # forms are only matched when listed as aliases.
    return max(fuzz.ratio(a, b), fuzz.token_sort_ratio(a, b))


def match_school(written_name: str, directory: Directory,
                 settings: SchoolMatchSettings = DEFAULT_MATCH_SETTINGS) -> SchoolMatch:
    """Find the school a written name designates.

    Each school is scored by the best similarity between the written name's
    distinctive part and that of its official name or any alias (see
    ``split_kind``); a kind word that contradicts the school's kind costs
    ``settings.kind_mismatch_penalty``.

    Args:
        written_name: The school as written on the form.
        directory: Schools to choose from.
        settings: Thresholds; defaults documented in ``SchoolMatchSettings``.

    Returns:
        ``MATCHED`` with the school id when the best score is at least
        ``settings.min_score`` and the runner-up school is more than
        ``settings.ambiguity_margin`` below; ``AMBIGUOUS`` when two schools are
        that close; ``NO_MATCH`` otherwise (also for an empty name). Never raises
        on unknown names.
    """
    written_kind, core = split_kind(written_name)
    if not core:
        return SchoolMatch(MatchStatus.NO_MATCH, None, 0.0,
                           reason_fr="Nom d'établissement absent ou incomplet : préciser le nom de l'école "
                                     "ou du collège.")
    scored: list[tuple[float, str]] = []
    for school in directory.schools:
        best = 0.0
        for name in (school.name, *school.aliases):
            _, school_core = split_kind(name)
            if school_core:
                best = max(best, _similarity(core, school_core))
        if written_kind is not None and written_kind is not school.kind:
            best -= settings.kind_mismatch_penalty
        scored.append((best, school.id))
    scored.sort(key=lambda item: (-item[0], item[1]))
    top_score, top_id = scored[0]
    runner_score = scored[1][0] if len(scored) > 1 else 0.0
    candidates = tuple(sid for score, sid in scored[:3] if score >= settings.min_score - 2 * settings.ambiguity_margin)
    if top_score < settings.min_score:
        return SchoolMatch(MatchStatus.NO_MATCH, None, top_score, candidates,
                           reason_fr="Établissement introuvable dans l'annuaire de la ville : vérifier le nom "
                                     "écrit ou ajouter l'établissement à l'annuaire.")
    if top_score - runner_score <= settings.ambiguity_margin:
        names = " ou ".join(directory.school(sid).name for _, sid in scored[:2])
        return SchoolMatch(MatchStatus.AMBIGUOUS, None, top_score, candidates,
                           reason_fr=f"Nom d'établissement ambigu : peut désigner {names}. Préciser l'établissement.")
    return SchoolMatch(MatchStatus.MATCHED, top_id, top_score, candidates)
