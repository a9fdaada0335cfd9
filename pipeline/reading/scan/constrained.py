"""Constrained decoding of handwritten zones: each field read against the values it may hold (issue 18).

A handwritten zone is held for a person (``pipeline.reading.scan.hand``): no reader's own confidence is safe on a
hand (PP-OCRv6: 16 % of readings at 0.98 or more were wrong on handwriting fonts). Many fields, though, hold one of
a known list: a given name, a town, a school of the directory, a class line, home languages, a postcode. For
those, every allowed value is scored against PP-OCRv6's per-frame probabilities (CTC forward log-likelihood per
character, :mod:`pipeline.reading.scan.ctc`), and combs are decoded over digits only. A value is accepted only
when it is *read, not forced* (:func:`accepts`): probable, clearly ahead of the next allowed value, and within a
few edits of what the recogniser read unconstrained. Open text (street, observations, surnames, the referrer's
e-mail) is never accepted this way.

Each decoder is one entry of :data:`FIELD_DECODERS` (field name → rule name and the function that lists its
allowed values), so a new field list is a new entry, not a new branch.

Measured at the commit that set ``ConstrainedSettings``, every handwritten zone with a decoder ("zones"), how
many were accepted and lifted out of the hold, and how many of those were wrong against the truth (the benchmark's
comparison: case and accents count; a school by the school it designates):

==========================  ======================================  =====================================
decoder                     devset, 23 handwritten forms            own hand kinds, 8 forms (seed 2026)
==========================  ======================================  =====================================
given names                 45 of 77 accepted, 0 wrong              23 of 28, 0 wrong
town                        14 of 21, 0 wrong                       4 of 8, 0 wrong
school                      12 of 22, 0 wrong                       5 of 8, 0 wrong
class line                  13 of 21, 0 wrong                       0 of 8 (the teacher is on page 2)
home languages              0 of 22 (capital or not: ambiguous)     4 of 8, 0 wrong
combs, digits only          48 of 92, 0 wrong                       18 of 47, 0 wrong
==========================  ======================================  =====================================

Three decoders added in the fifth session, measured the same way (devset: ``/tmp`` copies of its 23 handwritten
referrals read through ``bench.corpus.read_corpus``; own: ``bench --kinds scan_handwritten photo_handwritten
--per-kind 4 --workers 2``, seed 2026), every other field unchanged:

* the school year (three values: the year in progress on the day of the run and its neighbours): devset 17 of 23
  accepted, 0 wrong (5 held: 4 zones the recogniser read too far from any year, one fax page held for its
  resolution); own, with the languages below, 10 more fields accepted, 0 wrong; fields to check (median) on the
  own hand scans 14 → 12.5, photos 16 → 15;
* home languages scored case aside (:data:`CASELESS_RULES`): devset 0 → 4 of 22 accepted, 0 wrong;
* a guardian's e-mail address against addresses built from the names the same page reads (:func:`email_values`,
  its lead measured over the whole address, :data:`WHOLE_MARGIN_RULES`): devset 5 of 37 accepted, 0 wrong (two
  more decoded right but held by foreign ink); own, 1 more field accepted, 0 wrong.

Two rules came from wrong values accepted while measuring, and are general: a class line's teacher is taken only
from a referrer field read with confidence (a misread e-mail gave ``Langlcis``), and a value's case variants are
rivals (``Français`` accepted for *français*: the ink did not tell the capital).

A comb's digits-only decoding that is not accepted still gives the person its value when that value is valid
(:func:`show_valid_digits`): on held handwritten combs it was right about twice as often as the cell-by-cell vote
(``ConstrainedSettings.digits_shown``).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract

from pipeline.form.definition import CLASS_LEVELS, Field, FieldKind
from pipeline.reading.field_lexicons import (
    LANGUAGE_SPLIT,
    language_names,
    school_names,
    town_names,
    town_postcodes,
)
from pipeline.reading.lexicon import first_names, without_accents
from pipeline.reading.scan import ctc
from pipeline.reading.scan.choices import FIRST_NAME_FIELDS
from pipeline.reading.scan.combs import CombStrip
from pipeline.reading.scan.hand import looks_handwritten
from pipeline.reading.scan.second_reader import LineReading
from pipeline.reading.scan.text_rules import phone_digits_ok
from pipeline.settings import OcrSettings
from pipeline.settings.reading import ConstrainedSettings
from schemas.extraction import ExtractedField, Reader, ReaderReading

log = logging.getLogger(__name__)

DIGITS = "0123456789"


@dataclass(frozen=True)
class Context:
    """What the rest of the page says that a field's allowed values depend on.

    Attributes:
        class_level: The class level OMR read (its printed form, ``CM2``), when one box was ticked confidently.
        teachers: Teacher surnames the page's referrer fields name (``Roux`` from ``j.roux@…``).
        ocr: The reading settings (lexicon files).
        today: The day of the run (the school years a form may name).
        names: Name field (``guardian1_surname``…) → its spellings as read on the page (each reader's, and a value
            decoded against the first-name lexicon), from which e-mail addresses are built (:func:`email_values`).
    """

    class_level: str | None
    teachers: tuple[str, ...]
    ocr: OcrSettings
    today: date = dataclass_field(default_factory=date.today)
    names: dict[str, tuple[str, ...]] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class ConstrainedReading:
    """The best allowed value of a zone and why it was accepted or not.

    Attributes:
        value: The best-scoring allowed value (as the field holds it: a comb's canonical form).
        probability: Its per-character CTC likelihood, ``exp(log-likelihood / characters)``, 0-1 (for a comb's
            digits-only decoding, its least sure digit's probability).
        margin: Lead in per-character log-likelihood over the next different allowed value, case included (``inf``
            if none).
        edits: Character edits between ``value`` and the unconstrained reading (case folded).
        unconstrained: What the recogniser read with no constraint.
        accepted: Whether the value is taken (:func:`accepts`).
        rule: Rule name (a key of ``pipeline.reading.rules.FIELD_RULES``).
        eligible: Whether it passes every test but the probability threshold (margin and edits; a comb's digits
            whole, valid and witnessed): the readings that threshold decides, and so the ones that calibrate it.
    """

    value: str
    probability: float
    margin: float
    edits: int
    unconstrained: str
    accepted: bool
    rule: str
    eligible: bool = True


Candidates = Callable[[Field, LineReading, Context], list[str]]


def with_capitals(values: Sequence[str]) -> list[str]:
    """Each value as listed and in capitals (``Jean Jaurès``, ``JEAN JAURÈS``): a hand may write a whole field in
    capitals, and the value taken is the one the ink spells."""
    return [v for value in values for v in dict.fromkeys((value, value.upper()))]


def first_name_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """Given names of the lexicon (``pipeline.reading.lexicon``), as the dictionary writes them and in capitals."""
    words = first_names(context.ocr.first_names_file).words
    return with_capitals(shortlist(line.text, words, context.ocr.constrained))


def town_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """Towns of the lexicon (``pipeline/config/towns.toml``), as written there and in capitals."""
    return with_capitals(town_names(context.ocr.constrained.towns_file))


def school_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """Names and aliases of the directory's schools (``pipeline/config/directory.toml``)."""
    return with_capitals(school_names(context.ocr.constrained.directory_file))


def class_line_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """Level × division × teacher: ``CM2 B``, and ``CM2 B - Mme Roux`` / ``M. Roux`` for each teacher the page's
    referrer fields name. Only the ticked level when one was ticked confidently: the line and the box must agree."""
    levels = [context.class_level] if context.class_level else [printed for _, printed in CLASS_LEVELS]
    heads = [f"{level} {division}" for level in levels for division in context.ocr.constrained.class_divisions]
    tails = ["", *(f" - {title} {name}" for name in context.teachers for title in ("Mme", "M."))]
    return with_capitals([head + tail for head in heads for tail in tails])


def language_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """Home languages: one to three French language names (CLDR through Babel) joined by ``, ``, each part taken
    among the names nearest its part of the unconstrained reading; each combination in lower case first (the value
    kept, :data:`CASELESS_RULES`), then capitalised and in capitals (how a hand may write it)."""
    parts = [p for p in LANGUAGE_SPLIT.split(line.text.strip()) if p][:3]
    names = language_names()
    options = [shortlist(p, names, context.ocr.constrained, 4) for p in parts]
    combos: list[list[str]] = [[]]
    for choices in options:
        combos = [[*c, n] for c in combos for n in choices]
    out = [", ".join(c) for c in combos if c]
    return [v for value in out for v in dict.fromkeys((value, value[:1].upper() + value[1:], value.upper()))]


def school_year_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """The school year in progress on the day of the run, the one before and the one after (``2026-2027``): a form
    names the year its referral is for, and the validator compares it with the configured one."""
    return [f"{y}-{y + 1}" for y in _school_year_starts(context.today)]


def _school_year_starts(today: date) -> tuple[int, int, int]:
    """Start years of the school year in progress on ``today`` (from August on, the year that starts) and its
    neighbours."""
    start = today.year if today.month >= 8 else today.year - 1
    return (start - 1, start, start + 1)


EMAIL_OWNERS = {"guardian1_email": "guardian1", "guardian2_email": "guardian2"}
"""E-mail fields whose owner's names are written on the same page (the referrer's e-mail is on page 1, the
referrer's name on page 2)."""

_LOCAL_DIGITS = re.compile(r"(\d{1,4})(?=@|$)")


def _mail_word(name: str) -> str:
    """A name as an address writes it: lower case, accents and apostrophes dropped, spaces as hyphens."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return re.sub(r"\s+", "-", re.sub(r"['’]", "", plain.strip().casefold()))


def email_values(field: Field, line: LineReading, context: Context) -> list[str]:
    """Addresses built from the owner's names as read on the page: ``prénom.nom``, ``prénomnom``, ``p.nom``,
    ``pnom``, ``nom.prénom``, ``prénom-nom``, ``prénom_nom`` (with the digits the unconstrained reading ends its
    local part with, if any), at the mail domains of ``ConstrainedSettings.mail_domains`` nearest the domain read.
    No address is listed when a name is missing: an address is never built from half its owner."""
    owner = EMAIL_OWNERS.get(field.name)
    firsts = {_mail_word(n) for n in context.names.get(f"{owner}_first_name", ()) if n}
    lasts = {_mail_word(n) for n in context.names.get(f"{owner}_surname", ()) if n}
    if not firsts or not lasts:
        return []
    read = line.text.strip().casefold()
    local_read, _, domain_read = read.partition("@")
    digits = ["", *_LOCAL_DIGITS.findall(local_read)[-1:]]
    domains = shortlist(domain_read or read, context.ocr.constrained.mail_domains, context.ocr.constrained, 3)
    locals_: list[str] = []
    for first in sorted(firsts):
        for last in sorted(lasts):
            locals_ += [f"{first}.{last}", f"{first}{last}", f"{first[:1]}.{last}", f"{first[:1]}{last}",
                        f"{last}.{first}", f"{first}-{last}", f"{first}_{last}"]
    return [f"{local}{d}@{domain}" for local in dict.fromkeys(locals_) for d in digits for domain in domains]


FIELD_DECODERS: dict[str, tuple[str, Candidates]] = {
    **{name: ("constrained_first_name", first_name_values) for name in FIRST_NAME_FIELDS},
    "pupil_town": ("constrained_town", town_values),
    "school_name": ("constrained_school", school_values),
    "class_name": ("constrained_class_line", class_line_values),
    "home_languages": ("constrained_languages", language_values),
    "school_year": ("constrained_school_year", school_year_values),
    **{name: ("constrained_email", email_values) for name in EMAIL_OWNERS},
    "home_languages_other": ("constrained_languages", language_values),  # form version 2's « autre : … »
}
"""Field name → (rule name, its allowed values). Fields not listed (street, observations, surnames, the referrer's
e-mail) are never accepted by constrained decoding."""

CASELESS_RULES = frozenset({"constrained_languages", "constrained_school_year", "constrained_email"})
"""Decoders whose values mean the same in any case: the case variants a decoder lists for one value (listed first
as it is kept, ``français``, then as a hand may write it, ``Français``, ``FRANÇAIS``) are one value, scored by its
best variant, and never rivals of each other. French writes language names in lower case; a capital the ink does
not tell from a small letter (breip's hand) then no longer leaves the field to a person. Given names and places
keep their case rivals: there the case written is the value."""

WHOLE_MARGIN_RULES = frozenset({"constrained_email"})
"""Decoders whose lead over the next allowed value is measured over the whole value (natural log), against
``ConstrainedSettings.min_whole_margin``: the allowed addresses of one owner differ by a dot or a letter in 25
characters, whose per-character share (0.2-0.3) says nothing of how clearly the ink chose."""

DOT_TWIN_RULES = frozenset({"constrained_email"})
"""Decoders for which a value is not ahead of its dotted twin, whatever the scores (:func:`has_dotted_twin`)."""


def has_dotted_twin(value: str, values: Sequence[str]) -> bool:
    """Whether another allowed value is ``value`` with one ``.`` more in its local part (``martheroussel@…`` and
    ``marthe.roussel@…``, ``pnom@…`` and ``p.nom@…``).

    A handwritten full stop is the smallest mark on the form, and a reader drops it: both readers and the
    constrained decoder read ``martheroussel@outlook.fr`` for ``marthe.roussel@outlook.fr`` on a devset photocopy,
    accepted at 0.87 once nothing else held it. The ink then cannot choose between the two, and a person does.
    Measured at 99ba2be: of the guardians' addresses constrained decoding accepted, the two without a separator in
    their local part were ``patrickcollin@laposte.net``, right, and that one, wrong (devset; the project's own hands
    write every address with a separator). Both now go to a person, the value shown pre-filled.
    """
    local, at, domain = value.partition("@")
    listed = set(values)
    return bool(at) and any(f"{local[:i]}.{local[i:]}@{domain}" in listed for i in range(1, len(local)))


LOCAL_AS_READ_RULES = frozenset({"constrained_email"})
"""Decoders whose value is accepted only when its local part has the letters and digits of the unconstrained
reading's (:func:`local_as_read`): separators (``.``, ``-``, ``_``) and the domain may differ, not the letters.

An address is listed from the names the page reads, and those may be misread themselves: on the project's
``scan_handwritten`` (seed 31, form 2) the surname was read ``SULIEN`` for *JULIEN*, the address listed
``lucie.sulien@gmail.com``, and constrained decoding took it at 0.88 over PP-OCRv6's own ``lucie.julien@grail.com``
(one letter of the local part, one of the domain, within ``max_edits``): the one wrong value at or above the review
threshold on that seed. Measured at its commit, the guardians' addresses constrained decoding accepted on both
corpora (devset's 23 handwritten referrals; the project's hand kinds ``scan_handwritten``, ``photo_handwritten``,
``scan_handwritten_v2``, 6 forms each, seed 31): 10, of which 7 had the local part as read (all right) and 3 not:
the wrong one, now held; ``roland.fouquet`` read ``rdand.fauquet`` (own photo), right, now held; ``luce.allain``
read ``luce.alluin`` (devset), right, already held by a name conflict. The domain, listed from
``ConstrainedSettings.mail_domains``, is still decoded against the ink."""


def local_as_read(value: str, reading: str) -> bool:
    """Whether an address's local part has the letters and digits of a reading's, case, accents and separators
    aside (``marthe.roussel@…`` and ``martheroussel@outlook.fr.``)."""
    def letters(address: str) -> str:
        plain = unicodedata.normalize("NFKD", address.partition("@")[0].casefold())
        return "".join(c for c in plain if c.isalnum() and not unicodedata.combining(c))
    return letters(value) == letters(reading)


LETTERS_KEPT_RULES = frozenset({"constrained_first_name"})
"""Decoders whose value may not drop a letter the recogniser read (:func:`drops_a_letter_read`).

French given names have variants made by adding letters (Alexandre, Alexandrie; Arnaud, Arnaude; Louis, Louise), and
a list never holds them all: a rarer variant decodes to its listed neighbour. A helper's attack (2026-12-07,
handwriting in four fonts the product was never tuned on, fonts-kristi, fonts-kaushanscript, fonts-klee and
fonts-linex's Abecedario, seeds 4242, 4343 and 4444 of the project's generator, 72 forms) had PP-OCRv6 read
``Alexandrie`` at 0.997 and the decoder accept ``Alexandre`` at 0.90 (its per-character likelihood 0.40, over the
shipped 0.325): a wrong value with no person. The recogniser misses letters of a hand (``Mrine`` for *Marine*) but
on the corpora below never read one that was not there: an extra letter read is the variant's mark. Measured on
every given-name decoding of that attack, the devset and the project's own hands of seed 13 (scan, photo and version
2, 8 forms each), 398 in all, 293 right values accepted: the best listed value dropped a letter read in 21, 20 wrong
(one accepted, ``Alexandre``; the others held anyway: ``Philippe`` for *Philippine*, ``Célia`` for *Célina*,
``ARNAUD`` for *ARNAUDE*, ``Francis`` for *François*…) and 1 right (``Michelle`` from ``Micliell``, held anyway);
none of the 293. Such a value leads by nothing (not eligible, so it does not calibrate the threshold either): the
field stays with a person, its decoding in its evidence."""


def drops_a_letter_read(value: str, reading: str) -> bool:
    """Whether turning ``reading`` into ``value`` deletes a letter the reading holds more of than the value.

    Both are compared as their letters alone, accents folded and case folded (a reader spaces capitals written one
    per box, reads an accent as a mark beside its letter, ``Chlo'e``, or a speck as a mark: none is a letter). A
    deletion in the Levenshtein edit operations counts only for a letter the reading holds more of than the value:
    two letters read in each other's place (``Maire`` for *Marie*) are a transposition, which the edit operations
    write as a deletion and an insertion (a review, 2026-12-07)."""
    def letters(text: str) -> str:
        return "".join(c for c in without_accents(text.casefold()) if c.isalpha())

    read, kept = letters(reading), letters(value)
    extra = Counter(read) - Counter(kept)
    return any(op.tag == "delete" and read[op.src_pos] in extra for op in Levenshtein.editops(read, kept))


LISTED_COMBS = ("pupil_postcode",)
"""Combs whose digits must also be a value of a list: the postcode, one of the towns lexicon's."""


def in_comb_list(comb_name: str, value: str | None, settings: ConstrainedSettings) -> bool:
    """Whether ``value`` is one of the list its comb's values must belong to (a postcode of the towns lexicon,
    ``settings.towns_file``); true for a comb of :data:`LISTED_COMBS`' complement, which has no list."""
    return comb_name not in LISTED_COMBS or value in town_postcodes(settings.towns_file)


def shortlist(reading: str, values: Sequence[str] | frozenset[str], settings: ConstrainedSettings,
              limit: int | None = None) -> list[str]:
    """The ``limit`` (default ``settings.shortlist``) values nearest ``reading`` by edit distance, case folded.

    Scoring is then done on those only: a value farther than ``settings.max_edits`` is never accepted, so the
    shortlist bounds time, not what may be accepted."""
    # Sorted: the values come from sets, and values tied at the cut-off must not depend on the process's hash seed
    # (a given name's evidence changed between runs of the same page: ``Lina``, ``Livia``).
    folded = {v.casefold(): v for v in sorted(values)}
    found = extract(reading.casefold(), sorted(folded), scorer=Levenshtein.distance, limit=limit or settings.shortlist)
    return [folded[v] for v, _, _ in found]


def decode_zone(field: Field, line: LineReading, context: Context) -> ConstrainedReading | None:
    """Score the zone's allowed values against its frames and say whether the best is accepted.

    Args:
        field: The form field (its name chooses the decoder of :data:`FIELD_DECODERS`).
        line: PP-OCRv6's reading of the zone, with its frames.
        context: The page's class level, teachers and settings.

    Returns:
        The best value and the acceptance verdict; ``None`` when the field has no decoder or the zone no frames.
    """
    decoder = FIELD_DECODERS.get(field.name)
    if decoder is None or line.frames is None or not line.text:
        return None
    rule, candidates = decoder
    values = list(dict.fromkeys(candidates(field, line, context)))
    if not values:
        return None
    scores = ctc.per_character_scores(line.frames, values)
    if rule in CASELESS_RULES:
        values, scores = _caseless(values, scores)
    order = np.argsort(-scores)
    best = values[int(order[0])]
    # Case variants are rivals too: a capital the ink does not tell from a small letter (« Français » / « français »,
    # devset r0006, breip hand) leaves the field to a person.
    rival = next((float(scores[int(k)]) for k in order[1:] if values[int(k)] != best), -np.inf)
    # No value the frames can spell (each needs more frames than the zone has: -inf) leads by nothing, not by NaN.
    margin = float(scores[int(order[0])] - rival) if np.isfinite(scores[int(order[0])]) else 0.0
    if rule in WHOLE_MARGIN_RULES:
        margin *= len(best)  # the lead of the whole value: one character of a long address is a small share
    if rule in DOT_TWIN_RULES and has_dotted_twin(best, values):
        margin = 0.0
    if rule in LOCAL_AS_READ_RULES and not local_as_read(best, line.text):
        margin = 0.0
    if rule in LETTERS_KEPT_RULES and drops_a_letter_read(best, line.text):
        margin = 0.0
    edits = Levenshtein.distance(best.casefold(), line.text.casefold())
    reading = ConstrainedReading(best, float(np.exp(scores[int(order[0])])), margin, edits, line.text, False, rule)
    return _verdict(reading, context.ocr.constrained)


def _caseless(values: Sequence[str], scores: np.ndarray) -> tuple[list[str], np.ndarray]:
    """One entry per value whatever its case: the first variant listed, scored by its best-scoring variant."""
    best: dict[str, tuple[str, float]] = {}
    for value, score in zip(values, scores, strict=True):
        key = value.casefold()
        kept, top = best.get(key, (value, -np.inf))
        best[key] = (kept, max(top, float(score)))
    return [v for v, _ in best.values()], np.array([s for _, s in best.values()])


def decode_digits(field: Field, line: LineReading, cells: int, witnesses: Sequence[str | None],
                  settings: ConstrainedSettings, mobile_only: bool = True) -> ConstrainedReading | None:
    """Digits-only decoding of a comb row: accepted when it fills every cell of the comb, passes the field's
    validator, its least sure digit is at ``settings.digits_min_probability`` or more, and every digit is read the
    same, in its cell, by another reader (``witnesses``: the digit model's, tesseract's digits;
    :func:`digits_witnessed`).

    Args:
        field: The comb field (its kind and cell count).
        line: PP-OCRv6's reading of the comb row, with its frames.
        cells: Inked cells of the comb.
        witnesses: The other readers' digits.
        settings: Thresholds.
        mobile_only: A phone must be a French mobile number (``OcrSettings.phone_combs_mobile``).
    """
    if line.frames is None:
        return None
    digits, worst = _digits_with_worst(line.frames)
    value = _comb_value(field.kind, digits, mobile_only)
    threshold = dict(settings.fitted).get("constrained_digits", settings.digits_min_probability)
    eligible = value is not None and len(digits) == cells == len(field.cells) and digits_witnessed(
        digits, witnesses, settings.witness_max_differing_cells)
    return ConstrainedReading(value or digits, worst, float("inf"), 0, digits, eligible and worst >= threshold,
                              "constrained_digits", eligible)


def digits_witnessed(digits: str, witnesses: Sequence[str | None], max_differing: int = 1) -> bool:
    """Whether each of ``digits`` is read the same in its cell by at least one of ``witnesses`` that reads as many
    digits and differs from ``digits`` in at most ``max_differing`` cells (``"0766937335"`` is witnessed by
    ``"0766937385"`` and ``"0786937335"`` together).

    Tesseract's digits are not placed in cells: a reading of the comb's length that lost one digit and took a cell's
    bar for another is shifted, and agrees with ``digits`` at random places (a review's ``0666373351`` witnessed
    PP-OCRv6's ``0666637335`` for *0766637335*). A witness that differs in more than ``max_differing`` cells
    (``ConstrainedSettings.witness_max_differing_cells``) is such a reading, or reads another value: it witnesses
    nothing. A reading of another length has lost or gained a cell: the same.

    Until 2026-12-07 the whole value had to be one witness's reading. The two witnesses are weak on hands (the digit
    model read one comb in 57 right where the readers differed on the devset), and each misreads other digits than
    PP-OCRv6 does, so a value both confirm digit by digit was left to a person. Measured on every handwritten comb
    of four corpora (the devset's 23 handwritten referrals; the project's hand kinds of seeds 67, 53 and 31, 18
    forms each), with PP-OCRv6's frames of each comb, at the same probability threshold
    (``ConstrainedSettings.digits_min_probability``), combs whose decoding is accepted: devset 52 → 55 of 90; seeds
    67, 53 and 31: 38 → 38 of 108, 39 → 42 of 109, 43 → 44 of 113; the 7 added all right (any number of differing
    cells: 14 added, all right, but open to the shifted reading above). The whole-value rule's one wrong value on
    each of seeds 67 and 31 (a hand's 6 read 1 by PP-OCRv6 and a witness alike: ``02/10/2021`` for *02/10/2026*,
    ``0761937335`` for *0766937335*; both held by later checks) is the same under either rule. Without the
    probability threshold the per-digit rule took 40 more, 6 of them wrong, so the threshold stays. Through the
    whole reader (every field through ``bench.corpus``'s reading, against 42c6c23): fields newly accepted with no
    person, devset 2, seeds 67, 53 and 31: 0, 3 and 1, all right; no value wrong accepted on any.
    """
    readings = [w for w in witnesses if w and len(w) == len(digits)
                and sum(a != b for a, b in zip(w, digits, strict=True)) <= max_differing]
    return bool(digits) and all(any(w[i] == d for w in readings) for i, d in enumerate(digits))


def _digits_with_worst(frames: np.ndarray) -> tuple[str, float]:
    """Digits-only greedy decoding and the probability of its least sure digit (0 when none)."""
    return ctc.greedy_with_least_sure(frames[:, [ctc.BLANK, *(ctc.column(d) for d in DIGITS)]], DIGITS)


def _comb_value(kind: FieldKind, digits: str, mobile_only: bool = True) -> str | None:
    """The comb's canonical value when its digits pass the kind's validator, else ``None``."""
    if kind is FieldKind.DATE and len(digits) == 8:
        value = f"{digits[:2]}/{digits[2:4]}/{digits[4:]}"
        try:
            datetime.strptime(value, "%d/%m/%Y")
        except ValueError:
            return None
        return value
    if kind is FieldKind.PHONE:
        return digits if phone_digits_ok(digits, mobile_only) else None
    if kind is FieldKind.POSTCODE and len(digits) == 5:
        return digits
    return None


def _verdict(reading: ConstrainedReading, settings: ConstrainedSettings) -> ConstrainedReading:
    """``reading`` with ``accepted`` set by :func:`accepts`, at its kind's fitted threshold, else the one the product
    ships for it (``ConstrainedSettings.fitted``, ``.shipped``)."""
    fitted = dict(settings.fitted).get(reading.rule, dict(settings.shipped).get(reading.rule))
    return ConstrainedReading(reading.value, reading.probability, reading.margin, reading.edits,
                              reading.unconstrained, accepts(reading, settings, fitted), reading.rule,
                              eligible(reading, settings))


def accepts(reading: ConstrainedReading, settings: ConstrainedSettings,
            min_probability: float | None = None) -> bool:
    """Read, not forced: the value is probable, ahead of its rival, and close to the unconstrained reading.

    Args:
        reading: A decoded zone.
        settings: ``min_char_probability``, ``min_margin``, ``max_edits``, ``max_edit_share``.
        min_probability: A fitted or shipped threshold for this field kind (``clas-referrals calibrate``) in
            place of ``settings.min_char_probability``.
    """
    threshold = settings.min_char_probability if min_probability is None else min_probability
    return reading.probability >= threshold and eligible(reading, settings)


def eligible(reading: ConstrainedReading, settings: ConstrainedSettings) -> bool:
    """The tests of :func:`accepts` but the probability: ahead of its rival by ``settings.min_margin`` and within
    ``settings.max_edits`` (and ``max_edit_share`` of its length) of the unconstrained reading."""
    bound = min(settings.max_edits, int(settings.max_edit_share * len(reading.value)))
    least = settings.min_whole_margin if reading.rule in WHOLE_MARGIN_RULES else settings.min_margin
    return reading.margin >= least and reading.edits <= bound


def page_context(fields: dict[str, ExtractedField], ocr: OcrSettings) -> Context:
    """The class level ticked confidently and the teachers the page's referrer fields name.

    Teachers come from the referrer's e-mail local part after its initial (``j.roux`` → ``Roux``) and from the
    referrer's name (``Mme Roux, enseignante`` → ``Roux``) when on the same page, and only from a value read at
    ``ocr.text_confidence_min`` or more: a teacher's name misread in a held e-mail (``Langlcis``) made a wrong
    class line that decoding then accepted (own handwritten scans, seed 2026).
    """
    level = fields.get("class_level")
    ticked = level.value if level is not None and isinstance(level.value, list) else []
    printed = dict(CLASS_LEVELS).get(ticked[0]) if len(ticked) == 1 and level is not None and (
        level.confidence >= ocr.text_confidence_min) else None
    teachers: set[str] = set()
    for name in ("referrer_email", "referrer_name"):
        f = fields.get(name)
        if f is not None and f.confidence >= ocr.text_confidence_min:
            teachers.update(_teacher_names(name, f.value))
    return Context(printed, tuple(sorted(teachers)), ocr)


def page_names(fields: dict[str, ExtractedField]) -> dict[str, tuple[str, ...]]:
    """Each name field of the page → its spellings: every reader's reading and the value, when it is a name (letters,
    spaces, hyphens, apostrophes), in that order without repeats."""
    out: dict[str, tuple[str, ...]] = {}
    for name, f in fields.items():
        if not name.endswith(("_surname", "_first_name")):
            continue
        spellings = [r.value for r in f.readings if isinstance(r.value, str)]
        spellings += [f.value] if isinstance(f.value, str) else []
        out[name] = tuple(dict.fromkeys(v.strip() for v in spellings if _NAME_SHAPE.fullmatch(v.strip())))
    return out


_NAME_SHAPE = re.compile(r"[^\W\d_]+(?:[ '’-][^\W\d_]+)*")


def _teacher_names(field_name: str, value: object) -> list[str]:
    """Surnames a referrer field's value names (capitalised)."""
    if not isinstance(value, str) or not value:
        return []
    if field_name == "referrer_email":
        local = value.split("@")[0]
        parts = [p for p in re.split(r"[.\-_]", local) if len(p) > 1 and p.isalpha()]
        return [p.capitalize() for p in parts[-1:]]
    head = value.split(",")[0].split()
    return [w for w in head if w not in ("M.", "Mme", "M", "Mlle") and w[:1].isupper() and w.isalpha()][-1:]


def accept(extracted: ExtractedField, reading: ConstrainedReading, settings: ConstrainedSettings,
           quality: float = 1.0) -> ExtractedField:
    """The field with the constrained reading recorded in its evidence (its score only when :attr:`eligible
    <ConstrainedReading.eligible>`) and, when accepted, as its value at
    ``settings.accept_confidence`` times ``quality`` (the page's registration) with no doubt (the handwriting
    hold lifted)."""
    # The score is the quantity the threshold decides on, kept only where it decides (calibration's points).
    score = round(reading.probability, 4) if reading.eligible else None
    evidence = ReaderReading(reader=Reader.PPOCR_CONSTRAINED, value=reading.value, score=score)
    update: dict[str, object] = {"readings": (*extracted.readings, evidence)}
    if reading.accepted:
        update |= {"value": reading.value, "confidence": settings.accept_confidence * quality, "doubt": None,
                   "rules": (*extracted.rules, reading.rule)}
    return extracted.model_copy(update=update)


def decode_handwritten(fields: dict[str, ExtractedField], text_fields: Sequence[Field],
                       text_lines: Sequence[LineReading], combs: CombStrip, comb_lines: Sequence[LineReading],
                       page_agreement: float | None, quality: float, ocr: OcrSettings) -> dict[str, ExtractedField]:
    """Decode the page's handwritten zones against their allowed values (the page reader's one call).

    Args:
        fields: The page's fields as read so far (text zones held by ``handwriting_hold``).
        text_fields: Inked text and e-mail fields, in the order of ``text_lines``.
        text_lines: PP-OCRv6's reading of each, with frames.
        combs: The page's inked combs (fields, cells, baseline agreements).
        comb_lines: PP-OCRv6's reading of each comb row, in the same order.
        page_agreement: The page's median baseline agreement (``pipeline.reading.scan.page.judge_hands``).
        quality: What the page's registration leaves of a confidence, 0-1
            (``pipeline.reading.scan.zones.with_quality`` of 1.0).
        ocr: Settings (``ocr.constrained``).

    Returns:
        Field name → the field with its constrained reading recorded (and its value accepted when it was), for
        every handwritten field that has a decoder.
    """
    settings = ocr.constrained
    if not settings.enabled:
        return {}
    context = page_context(fields, ocr)
    out: dict[str, ExtractedField] = {}
    pairs = list(zip(text_fields, text_lines, strict=True))
    # E-mails last: their addresses are built from the names the page reads, given names decoded included.
    for f, line in sorted(pairs, key=lambda pair: pair[0].name in EMAIL_OWNERS):
        current = fields.get(f.name)
        if current is None or "handwriting_hold" not in current.rules:
            continue
        if f.name in EMAIL_OWNERS:
            context = replace(context, names=page_names({**fields, **out}))
        reading = decode_zone(f, line, context)
        if reading is not None:
            out[f.name] = accept(current, reading, settings, quality)
    for f, line, cells, agreement in zip(combs.fields, comb_lines, combs.cells, combs.agreements, strict=True):
        current = fields.get(f.name)
        if current is None or not looks_handwritten(agreement, page_agreement, ocr.icr) or (
                current.confidence >= ocr.text_confidence_min):
            continue
        # A digit along a cell's edge lost its side with the outline, for every reader alike: none witnesses.
        witnesses = [] if "digit_on_cell_edge" in current.rules else [
            r.value for r in current.readings if r.reader is not Reader.PPOCR]
        reading = decode_digits(f, line, len(cells), witnesses, settings, ocr.phone_combs_mobile)
        if reading is not None and f.name in LISTED_COMBS:
            reading = _postcode_listed(reading, f.name, settings)
        if reading is not None:
            out[f.name] = show_valid_digits(accept(current, reading, settings, quality), f, reading, settings,
                                            ocr.phone_combs_mobile)
    return out


def show_valid_digits(extracted: ExtractedField, comb: Field, reading: ConstrainedReading,
                      settings: ConstrainedSettings, mobile_only: bool = True) -> ExtractedField:
    """A held handwritten comb shown with its digits-only decoding when that decoding is a valid value.

    The cell-by-cell vote of tesseract and the digit model gives a held comb its value; when PP-OCRv6's digits-only
    decoding of the row (``reading``) fills a value that passes the field's validator (a real date, a French phone
    number, a postcode of the towns lexicon), the person is shown that one instead, with the rule
    ``constrained_digits_shown``. The confidence and the doubt do not change: the field stays with a person, who
    is given the likelier value to check (figures: ``ConstrainedSettings.digits_shown``). No cross-check takes the
    value shown for a reader's reading: :func:`pipeline.deciding.crosscheck.vouch_town` counts only what the comb's
    readers read.

    Args:
        extracted: The comb as read, after :func:`accept`.
        comb: Its field (kind).
        reading: Its digits-only decoding (:func:`decode_digits`, or :func:`_postcode_listed` for a postcode).
        settings: ``digits_shown``; ``towns_file`` for a postcode.
        mobile_only: A phone must be a French mobile number (``OcrSettings.phone_combs_mobile``).

    Returns:
        ``extracted``, or a copy with the decoded value and the rule; unchanged when the decoding was accepted.
    """
    if not settings.digits_shown or reading.accepted:
        return extracted
    value = _comb_value(comb.kind, reading.unconstrained, mobile_only)
    if not in_comb_list(comb.name, value, settings):
        return extracted
    if value is None or value == extracted.value:
        return extracted
    return extracted.model_copy(update={"value": value, "rules": (*extracted.rules, "constrained_digits_shown")})


def _postcode_listed(reading: ConstrainedReading, comb_name: str, settings: ConstrainedSettings) -> ConstrainedReading:
    """A postcode's digits (comb ``comb_name`` of :data:`LISTED_COMBS`) are accepted only when they are a postcode of
    the towns lexicon."""
    listed = reading.eligible and in_comb_list(comb_name, reading.value, settings)
    threshold = dict(settings.fitted).get("constrained_postcode", settings.digits_min_probability)
    return ConstrainedReading(reading.value, reading.probability, reading.margin, reading.edits,
                              reading.unconstrained, listed and reading.probability >= threshold,
                              "constrained_postcode", listed)
