"""French words, which choose between two readers' readings of a word in a sentence, an address or a role.

The words are those of the French Hunspell dictionary of the Dicollecte project (Grammalecte, MPL-2.0; Debian package
``hunspell-fr-comprehensive``, the file the given-name lexicon comes from, :mod:`pipeline.reading.lexicon`), checked
by Hunspell itself so that the dictionary's affix rules apply (``élèves``, ``l'équipe``, ``rendez-vous``): the
``chunspell`` wheel (PyPI, MIT for the binding; the libhunspell 1.7 it bundles is MPL-1.1/GPL-2.0/LGPL-2.1). The
dictionary is read from the installation, never downloaded.

Like the given-name lexicon, it never rejects a reading (a teacher's observation may hold any word): it only chooses,
when the two readers of a zone differ on a word and exactly one of their readings of it is French
(:func:`pipeline.reading.scan.choices.choose_reading`).
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from itertools import product
from math import prod
from pathlib import Path
from typing import Any

from pipeline.reading.lexicon import LexiconMissingError, without_accents

log = logging.getLogger(__name__)

PROBE_WORDS = ("élève", "l'équipe", "rendez-vous", "coordonnatrice")
"""Words every French dictionary of the measured kind spells, through its affix and elision rules: a dictionary that
misses one is another one (a bare word list, another language), and choosing with it would not be the measured
mechanism."""


class FrenchWordsMissingError(LexiconMissingError):
    """The French dictionary, or Hunspell's binding, is not installed, or the dictionary is not the measured kind."""

    part_fr = "dictionnaire français (Hunspell) absent ou incomplet"
    part_en = "French Hunspell dictionary missing or incomplete"


class FrenchWords:
    """A French spelling dictionary: which words it spells.

    Hunspell's checker is not documented as safe to call from several threads at once; calls are serialised
    (a call takes about 30 µs).

    Attributes:
        source: The ``.dic`` file the words come from (its ``.aff`` beside it).
    """

    def __init__(self, checker: Any, source: Path) -> None:  # noqa: ANN401 - hunspell.Hunspell, untyped
        self._checker = checker
        self._lock = threading.Lock()
        self.source = source

    def spells(self, word: str) -> bool:
        """Whether the dictionary spells ``word`` as written (case as Hunspell allows: ``Élève`` and ``ÉLÈVE`` for
        ``élève``, not ``Elève``)."""
        if not word:
            return False
        with self._lock:
            return bool(self._checker.spell(word))


    def spells_only_accented(self, word: str) -> bool:
        """Whether ``word``, written without any accent, is no entry in lower case but one of its accented spellings
        is (``riviere`` → ``rivière``; ``ANDRE`` → ``andré``): a word whose accent may have been lost in reading.
        ``False`` for a word with an accent, one the dictionary spells as written, or one with more than
        :data:`ACCENT_VARIANTS_MAX` accented spellings to try."""
        lower = word.lower()
        if not lower.isalpha() or lower != without_accents(lower) or self.spells(lower):
            return False
        options = [_ACCENTED.get(c, c) for c in lower]
        if prod(len(o) for o in options) > ACCENT_VARIANTS_MAX:
            return False
        return any(self.spells(v) for v in map("".join, product(*options)) if v != lower)


    def spells_only_unaccented(self, word: str) -> bool:
        """Whether ``word`` has an accent, the dictionary does not spell it, and spells it written without any
        (``sés`` → ``ses``; ``chémin`` → ``chemin``): an accent that may be a speck read as one. ``False`` for a word
        without accents, one the dictionary spells as written (in its case or in lower case), or one it spells in
        neither form (``Lévy``: neither it nor ``levy`` is an entry)."""
        plain = without_accents(word)
        if plain == word or self.spells(word) or self.spells(word.lower()):
            return False
        return self.spells(plain) or self.spells(plain.lower())


ACCENT_VARIANTS_MAX = 512
"""Most spellings :meth:`FrenchWords.spells_only_accented` tries for one word (``leveque``: 125; a 30 µs call each)."""

_ACCENTED = {"a": "aàâ", "e": "eéèêë", "i": "iîï", "o": "oô", "u": "uùûü", "c": "cç", "y": "yÿ"}
"""French's accented letters, by the letter they are written on."""


@cache
def french_words(path: Path) -> FrenchWords:
    """The French dictionary at ``path`` (``OcrSettings.french_words_file``, a Hunspell ``.dic`` with its ``.aff``
    beside it), loaded once per process (about 0.35 s and 13 MiB on the 2-core machine).

    Raises:
        FrenchWordsMissingError: Hunspell's binding is not installed, either file is missing or unreadable, or the
            dictionary does not spell :data:`PROBE_WORDS`.
    """
    try:
        import hunspell

        checker = hunspell.Hunspell(path.stem, hunspell_data_dir=str(path.parent))
    except Exception as exc:  # noqa: BLE001 - the binding raises its own errors for a missing or bad file
        raise FrenchWordsMissingError(path) from exc
    words = FrenchWords(checker, path)
    if not all(words.spells(w) for w in PROBE_WORDS):
        raise FrenchWordsMissingError(path)
    log.info("French dictionary loaded from %s", path)
    return words
