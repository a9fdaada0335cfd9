"""Cross-field verification: raise a field's confidence when another reading on the form confirms it.

A form states some things twice, and each reading is an independent witness of the other: page 2
repeats the pupil's name, and an e-mail address usually spells its owner's name next to a known
mail domain. When two readings of different zones, in different glyphs (names are written in
capitals, addresses in lower case), agree exactly, the weaker one is as sure as the stronger.
This is the "contextual verification" step of a capture pipeline (issue 3: "combine, for each field,
OCR character confidences, the field's own validator ... into one confidence"); it only ever raises
a confidence on agreement and never changes a value.

Runs on the assembled form, before validation (:func:`pipeline.process.decide_form`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from schemas.extraction import ExtractedField, ExtractedForm, Source

KNOWN_EMAIL_DOMAINS = frozenset({
    # The largest French consumer mailbox providers (ARCEP and Médiamétrie audiences list these).
    "gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr",
    "hotmail.fr", "hotmail.com", "live.fr", "outlook.fr", "outlook.com", "yahoo.fr", "yahoo.com", "icloud.com",
    # Staff of the Éducation nationale write from their académie; the demo city is in Versailles'.
    "ac-versailles.fr",
})
"""Mail domains an address may be confirmed on. An address on any other domain keeps its OCR confidence:
a misread domain (``tree.fr`` for ``free.fr``) is exactly what this check must not let through."""

def repair_domain_dots(address: str) -> str:
    """Put back the dots OCR lost or doubled in a known mail domain; letters are never changed.

    ``g.brunel@ac-versaillesfr`` and ``c.marechal@ac-versailles..fr`` (measured on phone photos: a dot
    is a few pixels and vanishes or doubles in blur) become ``@ac-versailles.fr``, because exactly one
    domain of :data:`KNOWN_EMAIL_DOMAINS` has the same letters in the same order. Anything else is
    returned as it was.

    Args:
        address: An e-mail address as read.
    """
    if address.count("@") != 1:
        return address
    local, domain = address.split("@")
    if domain.lower() in KNOWN_EMAIL_DOMAINS:
        return address
    letters = domain.lower().replace(".", "")
    same = [d for d in KNOWN_EMAIL_DOMAINS if d.replace(".", "") == letters]
    return f"{local}@{same[0]}" if len(same) == 1 else address


EMAIL_OWNERS: dict[str, tuple[str, ...]] = {
    "guardian1_email": ("guardian1_surname", "guardian1_first_name"),
    "guardian2_email": ("guardian2_surname", "guardian2_first_name"),
    "referrer_email": ("referrer_name", "class_name"),
}
"""E-mail field → fields that hold its owner's name (the teacher is named in the class line too)."""

REPEATED_FIELDS = (("pupil_surname", "p2_pupil_surname"), ("pupil_first_name", "p2_pupil_first_name"))
"""Fields the form asks for twice (page 2 repeats the pupil's name so a lone page 2 can be matched)."""

SHORT_FORM_MIN = 4
"""Shortest first-name short form accepted in an address (``nath``, ``fred``); three letters would let
too many unrelated words pass as the start of some name."""
SHORT_FORM_CUT = 3
"""Letters a short form leaves out at least: a name missing its last letter or two (``gregoir``) is a
misreading to show a person, not a short form."""

_NAME_CHARS = re.compile(r"[^\W\d_]+(?:[ '’-]+[^\W\d_]+)*")
"""A name as written: letters (any alphabet, accents) in words joined by spaces, hyphens or apostrophes."""

_LOCAL_TOKEN = re.compile(r"[a-z]+|[0-9]+")


def fold(text: str) -> str:
    """Lower case ASCII letters and digits only: ``"Da Silva-Lefèvre"`` → ``"dasilvalefevre"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def _name_tokens(values: Iterable[str]) -> set[str]:
    """Folded words of the name fields: each word, and each run of consecutive words joined up
    (``dasilva``, ``jeanluc``), words being split at spaces, hyphens and apostrophes."""
    tokens: set[str] = set()
    for value in values:
        words = [fold(w) for w in re.split(r"[\s,()'’-]+", value) if fold(w)]
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                tokens.add("".join(words[i:j]))
    return tokens


def local_part_spelled_by(local: str, names: Iterable[str]) -> bool:
    """Whether an address's local part is made of its owner's name, as ``prenom.nom`` addresses are.

    Every alphabetic token of two letters or more must be a name word (or joined name words, for
    ``dasilva``), at least one of them must be, and at most one single-letter initial and a number
    (homonyms: ``marie.martin2``) may stand beside them; a first name may be shortened (``nath``).

    Args:
        local: The part before ``@``, as read.
        names: The owner's name fields as read (surname, first name, "Mme Martin, enseignante").
    """
    tokens = _LOCAL_TOKEN.findall(local.lower())
    if not tokens or re.fullmatch(r"[a-z0-9._-]+", local.lower()) is None:
        return False
    known = _name_tokens(names)
    words = [t for t in tokens if t.isalpha() and len(t) >= 2]
    initials = [t for t in tokens if t.isalpha() and len(t) == 1]
    numbers = [t for t in tokens if t.isdigit()]
    if not words or len(initials) > 1 or len(numbers) > 1:
        return False
    return all(w in known or _is_short_form(w, known) for w in words)


def _is_short_form(word: str, known: set[str]) -> bool:
    """``nath`` for Nathalie: four letters or more that begin a name word at least three letters longer."""
    return len(word) >= SHORT_FORM_MIN and any(k.startswith(word) and len(k) - len(word) >= SHORT_FORM_CUT
                                               for k in known)


def _raised(field: ExtractedField, confidence: float) -> ExtractedField:
    return field.model_copy(update={"confidence": max(field.confidence, confidence)})


def cross_check(form: ExtractedForm, threshold: float) -> ExtractedForm:
    """Raise the confidence of OCR fields another confident reading on the form agrees with.

    * A repeated field (page 2's pupil name) and its original: when both are read, are made of
      letters only and are equal once folded, both take the higher confidence, provided it reaches
      ``threshold``.
    * An e-mail on a domain of :data:`KNOWN_EMAIL_DOMAINS` whose local part is spelled by its owner's
      name fields (:data:`EMAIL_OWNERS`), each of them read at ``threshold`` or more: it takes the
      lowest confidence of those name fields.

    Args:
        form: The assembled form; confidences are 0-1.
        threshold: The review threshold (``OcrSettings.text_confidence_min``): only a confident
            witness may vouch for a doubtful field.

    Returns:
        A new form; values are never changed, only confidences raised.
    """
    fields = dict(form.fields)
    for first, second in REPEATED_FIELDS:
        a, b = fields.get(first), fields.get(second)
        if a is None or b is None or not isinstance(a.value, str) or not isinstance(b.value, str):
            continue
        best = max(a.confidence, b.confidence)
        spelled = all(_NAME_CHARS.fullmatch(v) for v in (a.value, b.value))  # "MICHEL |" folds to "michel"
        if spelled and fold(a.value) == fold(b.value) and fold(a.value) and best >= threshold:
            fields[first], fields[second] = _raised(a, best), _raised(b, best)
    for email_name, owner_names in EMAIL_OWNERS.items():
        email = fields.get(email_name)
        if email is None or email.source is not Source.OCR or not isinstance(email.value, str):
            continue
        if email.confidence >= threshold or email.value.count("@") != 1:
            continue
        local, domain = email.value.split("@")
        owners = [fields[n] for n in owner_names if n in fields and isinstance(fields[n].value, str)]
        witnesses = [o for o in owners if o.confidence >= threshold]
        if domain.lower() not in KNOWN_EMAIL_DOMAINS or not witnesses:
            continue
        if local_part_spelled_by(local, [str(o.value) for o in witnesses]):
            fields[email_name] = _raised(email, min(o.confidence for o in witnesses))
    return form.model_copy(update={"fields": fields})
