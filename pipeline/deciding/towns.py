"""Towns and postcodes near the city: the lexicon a handwritten town and postcode are checked against.

A hand's town is read badly by tesseract ("Aroenteul"), and its postcode's digits by the digit model;
each alone stays doubtful (issue 3). The two are independent readings (a text zone and a comb) of one
fact, so when the town read is close to exactly one town of the lexicon, and the postcode read is that
town's code, each vouches for the other (:func:`pipeline.deciding.crosscheck.vouch_town`).

The lexicon is ``pipeline/config/towns.toml`` (its header says where the names and codes come from).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz

from pipeline.deciding.directory import fold
from pipeline.settings import PACKAGE_DIR, StructureSettings

TOWNS_FILE = PACKAGE_DIR / "config" / "towns.toml"
"""The lexicon shipped with the product (Argenteuil and its neighbours)."""
_STRUCTURE = StructureSettings()


@dataclass(frozen=True)
class Town:
    """A town of the lexicon.

    Attributes:
        name: Official name, with accents and hyphens (``"Montigny-lès-Cormeilles"``).
        postcode: Its five-digit postcode.
    """

    name: str
    postcode: str


@dataclass(frozen=True)
class TownMatch:
    """The lexicon town a written name is closest to.

    Attributes:
        town: The closest town, or ``None`` for an empty name.
        score: Its similarity 0-100 (rapidfuzz ratio of the folded names, spaces and hyphens dropped).
        runner_up: The similarity of the next closest town of another name (0 when there is none).
    """

    town: Town | None
    score: float
    runner_up: float


@cache
def load_towns(path: Path = TOWNS_FILE) -> tuple[Town, ...]:
    """Read a towns lexicon (TOML: ``towns = [{ name = "…", postcode = "95100" }, …]``).

    Raises:
        OSError: The file cannot be read.
        tomllib.TOMLDecodeError: It is not TOML.
        ValueError: A postcode is not five digits or a name is empty.
    """
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    towns = tuple(Town(str(t["name"]), str(t["postcode"])) for t in data["towns"])
    bad = [t.name for t in towns if not t.name or len(t.postcode) != 5 or not t.postcode.isdigit()]
    if bad:
        raise ValueError(f"towns lexicon {path}: bad entries {bad}")
    return towns


def squeeze(text: str) -> str:
    """Folded letters only: ``"Saint-Leu-la-Forêt"`` → ``"saintleulaforet"`` (a hand's spaces and hyphens
    are not read reliably)."""
    return fold(text).replace(" ", "")


def closest_town(written: str, towns: tuple[Town, ...]) -> TownMatch:
    """The lexicon town closest to a written name, and how close the next one of another name is.

    Args:
        written: The town as read.
        towns: The lexicon (:func:`load_towns`).

    Returns:
        The best town with its similarity (0-100) and the runner-up's similarity.
    """
    key = squeeze(written)
    if not key:
        return TownMatch(None, 0.0, 0.0)
    scored = sorted(((fuzz.ratio(key, squeeze(t.name)), t) for t in towns), key=lambda st: -st[0])
    best_score, best = scored[0]
    runner = next((s for s, t in scored[1:] if squeeze(t.name) != squeeze(best.name)), 0.0)
    return TownMatch(best, float(best_score), float(runner))


def names_another_town(written: str, city: str, towns: tuple[Town, ...], min_score: float,
                       max_words: int = _STRUCTURE.town_words_max, min_letters: int = _STRUCTURE.town_letters_min
                       ) -> bool:
    """Whether a written text (a school's name) holds a word, or up to ``max_words`` words joined, that is
    close to a lexicon town other than ``city`` (``"Jules Ferry de Bezons"``).

    Args:
        written: The text as read.
        city: The directory's city, which a school name may name.
        towns: The lexicon.
        min_score: Similarity (0-100) from which a word is taken for the town.
        max_words: Most consecutive words joined (``StructureSettings.town_words_max``).
        min_letters: Fewest letters a word or run of words must have to be compared
            (``StructureSettings.town_letters_min``).
    """
    words = fold(written).split()
    others = {squeeze(t.name) for t in towns} - {squeeze(city)}
    for i in range(len(words)):
        for j in range(i + 1, min(len(words), i + max_words) + 1):
            chunk = "".join(words[i:j])
            if len(chunk) >= min_letters and any(fuzz.ratio(chunk, o) >= min_score for o in others):
                return True
    return False
