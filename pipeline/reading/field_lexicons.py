"""The lists of values a handwritten field may hold, for constrained decoding (issue 18).

* Given names: :func:`pipeline.reading.lexicon.first_names`, the ``po:prn`` entries of the Dicollecte project's
  French Hunspell dictionary (Grammalecte; Debian ``hunspell-fr-comprehensive``; licence MPL-2.0). A city may
  point ``OcrSettings.first_names_file`` at another Hunspell-shaped list.
* Towns and their postcodes: ``pipeline/config/towns.toml`` (transcribed from La Poste's official postcode base,
  :func:`pipeline.deciding.towns.load_towns`).
* Schools: the names and aliases of the directory (``pipeline/config/directory.toml``).
* Home languages: the French names of languages in the Unicode CLDR (``babel.Locale("fr").languages``; CLDR is
  under the Unicode licence, Babel under BSD-3-Clause), lower case as a French sentence writes them.

Every list is read from the installation, once per process; nothing is downloaded.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from pipeline.deciding.towns import load_towns
from schemas.directory import Directory

LANGUAGE_NAME_MAX_WORDS = 2
"""CLDR names of more than two words (``anglais d'Amérique du Nord``) are regional variants no family writes as
its home language: left out, so they do not crowd the list a hand's reading is compared with."""


@cache
def language_names() -> tuple[str, ...]:
    """French names of languages (CLDR through Babel), lower case, without regional variants.

    Raises:
        ImportError: Babel is not installed (``make venv`` installs it).
    """
    from babel import Locale

    names = {n.lower() for n in Locale("fr").languages.values()
             if len(n.split()) <= LANGUAGE_NAME_MAX_WORDS and "(" not in n}
    return tuple(sorted(names))


LANGUAGE_SPLIT = re.compile(r"\s*(?:,|;|/|\bet\b)\s*")
"""What separates the languages of a home-languages value (``arabe, français``, ``turc et kurde``)."""


def is_language_list(text: str) -> bool:
    """Whether every part of ``text`` (split by :data:`LANGUAGE_SPLIT`) is a French language name of
    :func:`language_names`, in any case (``Turc, français``); ``False`` for an empty text."""
    parts = [p.casefold() for p in LANGUAGE_SPLIT.split(text.strip()) if p]
    return bool(parts) and all(p in _language_set() for p in parts)


@cache
def _language_set() -> frozenset[str]:
    return frozenset(language_names())


@cache
def town_names(path: Path) -> tuple[str, ...]:
    """Town names of the towns lexicon at ``path``, as written there (``Saint-Leu-la-Forêt``)."""
    return tuple(dict.fromkeys(t.name for t in load_towns(path)))


@cache
def town_postcodes(path: Path) -> frozenset[str]:
    """Postcodes of the towns lexicon at ``path``."""
    return frozenset(t.postcode for t in load_towns(path))


@cache
def school_names(path: Path) -> tuple[str, ...]:
    """Every name and alias of the directory's schools at ``path``, as the directory writes them."""
    directory = Directory.from_toml(path)
    return tuple(dict.fromkeys(n for s in directory.schools for n in (s.name, *s.aliases)))
