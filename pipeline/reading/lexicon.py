"""A lexicon of French given names, which chooses between two readers' readings of a first name.

The names are the entries that the French Hunspell dictionary of the Dicollecte project (Grammalecte, MPL-2.0)
tags ``po:prn`` (prénom): 2,832 in version 7.0 (Debian package ``hunspell-fr-comprehensive`` 1:7.0-1, installed by
``make system``). The dictionary is read from the installation, never downloaded.

A lexicon never rejects a reading (a pupil's name need not be in it); it only chooses, when the two readers of a
zone differ and exactly one of them spells a name of the lexicon (:func:`pipeline.reading.scan.choices.choose_reading`).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pipeline.installation import MissingInstallError

log = logging.getLogger(__name__)

FIRST_NAMES_PACKAGE = "hunspell-fr-comprehensive"
"""Debian package that installs :data:`FIRST_NAMES_DICTIONARY`."""

FIRST_NAME_TAG = "po:prn"
"""Grammalecte's tag of a given name (``Jules/L'D'Q' po:prn is:mas is:inv``)."""

FIRST_NAMES_MIN = 1000
"""Fewest given names a dictionary must hold to be the one measured (2,832 in version 7.0): a smaller file is another
dictionary (a spelling list without tags), and choosing with it would not be the measured mechanism."""

_WORD_SPLIT = re.compile(r"[\s\-]+")


class LexiconMissingError(MissingInstallError):
    """The given-name dictionary is not installed, or is not one that tags given names: the run stops with what
    to install rather than read names differently from the measured installation."""

    part_fr = "lexique des prénoms absent ou incomplet"
    part_en = "given-name lexicon missing or incomplete"
    default_package = FIRST_NAMES_PACKAGE


@dataclass(frozen=True)
class Lexicon:
    """A set of words, each as the dictionary writes it (``Maëlys``), and where it came from.

    Attributes:
        words: The entries, case and accents as written.
        source: The file they were read from.
    """

    words: frozenset[str]
    source: Path

    def spells(self, value: str | None) -> bool:
        """Whether every word of ``value`` (split at spaces and hyphens: ``Jean-Luc``) is an entry, written as the
        dictionary writes it or all in capitals (``JULES``). ``jules`` is not ``Jules``: a name typed in lower
        case is no name's spelling, and case is what the two readers disagree on (``jules``/``Jules``)."""
        if not value:
            return False
        words = [w for w in _WORD_SPLIT.split(value.strip()) if w]
        return bool(words) and all(w in self.words or (w.isupper() and w.capitalize() in self.words) for w in words)

    def lacks_an_accent(self, value: str | None) -> bool:
        """Whether a word of ``value`` is no entry but is one once accents are added: ``Anais`` where the
        dictionary writes only ``Anaïs``, ``EMILE`` where it writes ``Émile`` (see
        :func:`pipeline.reading.scan.choices.accent_lost`)."""
        if not value:
            return False
        folded = _folded_entries(self)
        for word in (w for w in _WORD_SPLIT.split(value.strip()) if w):
            as_written = word.capitalize() if word.isupper() else word
            if as_written not in self.words and folded.get(without_accents(as_written), as_written) != as_written:
                return True
        return False


def without_accents(word: str) -> str:
    """``word`` without its accents (``Anaïs`` → ``Anais``; Unicode canonical decomposition, marks dropped)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


@cache
def _folded_entries(lexicon: Lexicon) -> dict[str, str]:
    """Each entry without its accents → an entry that has some (built once per lexicon)."""
    return {without_accents(w): w for w in lexicon.words if without_accents(w) != w}


def read_tagged_entries(text: str, tag: str) -> frozenset[str]:
    """The entries of a Hunspell ``.dic`` text whose tags include ``tag`` (the first line, a count, is skipped).

    Args:
        text: The dictionary's text.
        tag: A morphological tag, ``po:prn``.

    Returns:
        The entries' words, without their ``/flags``.
    """
    out = set()
    for line in text.splitlines()[1:]:
        if tag in line.split()[1:]:
            out.add(line.split()[0].split("/")[0])
    return frozenset(out)


@cache
def first_names(path: Path) -> Lexicon:
    """The given-name lexicon of the Hunspell dictionary at ``path`` (``OcrSettings.first_names_file``), read once
    per process.

    Raises:
        LexiconMissingError: The file is missing, unreadable, or holds fewer than :data:`FIRST_NAMES_MIN` names.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LexiconMissingError(path) from exc
    words = read_tagged_entries(text, FIRST_NAME_TAG)
    if len(words) < FIRST_NAMES_MIN:
        raise LexiconMissingError(path)
    log.info("given-name lexicon: %d names from %s", len(words), path)
    return Lexicon(words, path)
