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
    "expected %s argument": "%s valeur attendue",
    "expected %s arguments": "%s valeurs attendues",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut être %(matches)s",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s attendu) : %(value)r",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choisir parmi %(choices)s)",
    "ignored explicit argument %r": "argument explicite ignoré : %r",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "commande inconnue %(parser_name)r (choisir parmi "
                                                              "%(choices)s)",
    "unexpected option string: %s": "option inattendue : %s",
    "argument \"-\" with mode %r": "argument « - » avec le mode %r",
    # Mistakes in building a parser, not in using it: a user never sees them, yet none stays English.
    "%r is not callable": "%r n'est pas appelable",
    "'required' is an invalid argument for positionals": "« required » n'est pas admis pour un argument positionnel",
    ".__call__() not defined": ".__call__() non défini",
    "cannot have multiple subparser arguments": "un seul groupe de commandes est possible",
    "cannot merge actions - two groups are named %r": "fusion impossible : deux groupes s'appellent %r",
    "conflicting option string: %s": "option en conflit : %s",
    "conflicting option strings: %s": "options en conflit : %s",
    "conflicting subparser alias: %s": "alias de commande en conflit : %s",
    "conflicting subparser: %s": "commande en conflit : %s",
    "dest= is required for options like %r": "dest= est obligatoire pour une option comme %r",
    "invalid conflict_resolution value: %r": "valeur de conflict_resolution invalide : %r",
    "invalid option string %(option)r: must start with a character %(prefix_chars)r":
        "option %(option)r invalide : elle doit commencer par un caractère parmi %(prefix_chars)r",
    "mutually exclusive arguments must be optional": "des arguments exclusifs l'un de l'autre doivent être "
                                                     "facultatifs",
}
"""argparse's English message → what a French user reads (Python 3.11's wording, ``Lib/argparse.py``)."""


def _french(message: str) -> str:
    """The French of one argparse message, or the message itself when the table has none."""
    return ARGPARSE_FR.get(message, message)


def _french_plural(singular: str, plural: str, n: int) -> str:
    """The French of an argparse message with a plural form (``ngettext``)."""
    return _french(singular if n == 1 else plural)


def use_french() -> None:
    """Make argparse print its own words in French, for every parser of this process (idempotent)."""
    argparse._ = _french  # type: ignore[attr-defined]  # argparse's gettext hook, looked up at print time
    argparse.ngettext = _french_plural  # type: ignore[attr-defined]  # and its plural one


def entier(text: str) -> int:
    """A whole number (argparse type): named in French, since argparse names the type in its error
    (« valeur invalide (entier attendu) : 'x' »).

    Raises:
        ValueError: ``text`` is not a whole number.
    """
    return int(text)
