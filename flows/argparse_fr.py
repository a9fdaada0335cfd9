"""French for the words argparse itself prints: usage, headings, ``--help``, and its error messages.

Python ships no French catalogue for argparse, and the command line's users read French (issue 17: the help
was half English). argparse looks each message up through its module-level ``_`` (``gettext``) when it
prints it, so :func:`use_french` points that lookup at :data:`ARGPARSE_FR`; a message missing from the table
stays as argparse wrote it.
"""

from __future__ import annotations

import argparse

ARGPARSE_FR: dict[str, str] = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un de ces arguments est obligatoire : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "au plus une valeur attendue",
    "expected at least one argument": "au moins une valeur attendue",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut être %(matches)s",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choisir parmi %(choices)s)",
    "ignored explicit argument %r": "argument explicite ignoré : %r",
}
"""argparse's English message → what a French user reads (Python 3.11's wording, ``Lib/argparse.py``)."""


def _french(message: str) -> str:
    """The French of one argparse message, or the message itself when the table has none."""
    return ARGPARSE_FR.get(message, message)


def use_french() -> None:
    """Make argparse print its own words in French, for every parser of this process (idempotent)."""
    argparse._ = _french  # type: ignore[attr-defined]  # argparse's gettext hook, looked up at print time
