"""When the two readers of a text zone differ, the field's own knowledge may choose between their readings.

Each witness below knows something about what its field holds that neither reader used: values never begin or end
with a lone mark, a given name is usually one of the lexicon's, a class line begins with the level ticked beside
it, and a school mail address is on a known domain. A witness chooses only when exactly one of the two readings
passes it and the readings agree everywhere else; otherwise the field stays held for a person
(``OcrSettings.readers_differ_confidence``).

Measured on both corpora at 10be5cb, from the readings each field records (``ExtractedField.readings``):
the independent devset (``bench --corpus ../shared/devset``) and the project's own scans (seed 2026, 3 forms per
image kind), every zone whose readers differ:

=====================  ===================================  ======================================
witness                devset: right / chosen               own scans: right / chosen
=====================  ===================================  ======================================
edge marks             typed 9/9, handwritten 5/5            typed 5/5, handwritten 1/1
given-name lexicon     typed 7/7, handwritten 21/22          typed 1/1, handwritten 13/13
class level            typed 2/2, handwritten 2/2            typed 1/1, handwritten 1/1
mail domain            typed 1/1, handwritten 1/2            none differed so
=====================  ===================================  ======================================

The field's syntax (added at 032df8d, measured then on the devset and the project's scans, copies, faxes and hands
of seeds 2026, 7 and 11, every text zone whose readings differ in punctuation only and exactly one of which passes
the field's caps): 16 right of 16. Counting the marks a misread letter may be (``|``) as punctuation made it 35 of
36, and chose ``BOULANGER`` over ``BOU|LANGER``, where the bar may be an ``I``: they count as letters.

The French dictionary (``french_words_choose``, added 2026-12-06), on every zone of :data:`WORDS_FIELDS` whose readers
differ: devset, typed 1 chosen, right (a fax's ``coordonhatrice`` / ``coordonnatrice``: accepted at 0.78 where it was
held at 0.44), handwritten 7 chosen, each word chosen right; the value of 5 is then the truth, the other 2 stay wrong
for a difference both readers made (a final full stop both lost, ``dons`` for *dans* read alike), under the
handwriting hold as every handwritten zone. The project's own readings recorded on 2026-12-05 (grey scans,
photocopies, stamps, hand marks, 6 forms each; faxes, photos, handwriting v1 and v2, 4 each), judged by the same rule:
typed 2 chosen, both right (two photocopied observations), handwritten none. Proper names, house numbers and
punctuation are left to the other witnesses or to a person (:func:`_by_french_words`).

The one handwritten given name chosen wrong (``Jude`` for *Jade*, PP-OCRv6 read ``Jale``) and the handwritten
address chosen wrong (both readers lost the same dot) stay under the handwriting hold, which caps every
handwritten zone whatever its witnesses (``pipeline.reading.scan.page.text_fields_read``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from pipeline.deciding.crosscheck import dot_may_be_lost, on_known_mail_domain, separated_local
from pipeline.deciding.fields import PERSON_NAME_FIELDS, PERSON_NAME_RE
from pipeline.form.definition import CLASS_LEVELS, Field, FieldKind
from pipeline.reading.field_lexicons import is_language_list
from pipeline.reading.french_words import FrenchWords, french_words
from pipeline.reading.lexicon import Lexicon, without_accents
from pipeline.reading.rules import FIELD_RULES, Effect
from pipeline.reading.scan.text_rules import CLASS_LETTER_FIELDS, FRENCH_LETTERS, NOISE_CHARACTERS, caps_that_bite
from pipeline.settings import OcrSettings
from schemas.extraction import ExtractedField, normalise_text

FREE_TEXT_FIELDS = ("observations", "criteria_other_text")
"""Fields of sentences, which may end with a full stop: no edge mark is dropped from them."""

LANGUAGE_FIELDS = ("home_languages",)
"""Fields holding home languages, which the language names choose between readings of."""

FIRST_NAME_FIELDS = ("pupil_first_name", "p2_pupil_first_name", "guardian1_first_name", "guardian2_first_name")
"""Fields that hold one given name (or a compound ``Jean-Luc``)."""

WORDS_FIELDS = ("observations", "criteria_other_text", "pupil_address", "school_name", "referrer_name")
"""Fields written mostly in common French words (sentences, a street's kind, a school's kind, a referrer's role),
which the French dictionary chooses between readings of (:func:`pipeline.reading.french_words.french_words`)."""

CHOOSING_RULES = frozenset(name for name, rule in FIELD_RULES.items()
                           if rule.where == "pipeline.reading.scan.choices.choose_reading")
"""The rule names of :func:`choose_reading`'s witnesses, from the rule table: a field holding one was chosen between
its readers."""


def chosen_by_a_rule(rules: Sequence[str]) -> bool:
    """Whether one of ``rules`` chose or repaired the value (``Effect.EVIDENCE`` or ``Effect.REPAIR`` in
    :data:`pipeline.reading.rules.FIELD_RULES`): a witness's choice is not overridden by a reader's habit
    (``IcrSettings.hand_second_reading_shown``). Wider than :data:`CHOOSING_RULES`, which holds
    :func:`choose_reading`'s witnesses only: repairs and later witnesses count too."""
    return any(FIELD_RULES[n].effect in (Effect.EVIDENCE, Effect.REPAIR) for n in rules if n in FIELD_RULES)


_SENTENCE_END = (".", "!", "?")
"""Marks after which a word begins a sentence, and may take a capital without being a proper name."""

_EDGE_MARKS = re.compile(r"^([\W_]*)(.*?)([\W_]*)$", re.DOTALL)
"""A value's marks before its first letter or digit, the rest, and its marks after its last."""


@dataclass(frozen=True)
class Choice:
    """A reading a witness chose between two differing readers.

    Attributes:
        value: The chosen reading, as it will be shown and routed.
        confidence: 0-1: ``ocr.readers_agree_confidence`` when the readings are the same once edge marks are
            dropped, else ``ocr.readers_chosen_confidence``.
        rule: The witness's rule name (a key of ``pipeline.reading.rules.FIELD_RULES``).
    """

    value: str
    confidence: float
    rule: str


def without_edge_marks(value: str | None) -> str | None:
    """``value`` without the non-alphanumeric characters at its two ends (``(CARRE`` → ``CARRE``, ``Lucas |`` →
    ``Lucas``, ``2026-2027.`` → ``2026-2027``), except a bracket that closes or opens one inside the value
    (``enseignant(e)`` keeps its ``)``: taking it made ``M, Dufour, enseignant(e`` from two readings that differed
    by a final ``.``, accepted at 0.91 on a photocopy of the project's own, seed 11); ``None`` when nothing is
    left."""
    if value is None:
        return None
    match = _EDGE_MARKS.fullmatch(value.strip())
    if match is None or not match.group(2):
        return None
    head, core, tail = match.groups()
    if tail.startswith(")") and core.count("(") > core.count(")"):
        core += ")"
    if head.endswith("(") and core.count(")") > core.count("("):
        core = "(" + core
    return core


def name_without_edge_marks(name: str, value: str | None) -> str | None:
    """A person's name that both readers read with marks at its ends, without them (``Virginie.`` → ``Virginie``);
    ``None`` when ``name`` is no person's name field, ``value`` has no mark at its ends, or what is left is not a
    name (:data:`pipeline.deciding.fields.PERSON_NAME_RE`: it then stays held by ``person_name_cap``).

    A name is letters, spaces, hyphens and apostrophes, so a mark at its end is a toner speck glued to it, whichever
    reader reads it: what ``readers_agree_edges`` concludes when one reader alone reads the mark, for the case where
    both do. Measured 2026-12-05 on every reading of a name field in both corpora (devset; the project's
    photocopies, stamps, faxes and hands of seeds 11, 23, 2026 and 31): 14 readings began or ended with a mark,
    none of the true names does; 9, once stripped, are the true name, and the 5 others took in a stamp's letters
    (``PEREIRA PR,``) or are handwriting misread, each by one reader only. One alone was read so by both readers
    (a devset photocopy's typed ``Virginie.``, held by ``person_name_cap`` until then), the others being settled
    by ``drop_speck_words`` or ``readers_agree_edges`` already, or held for their hand.
    """
    if name not in PERSON_NAME_FIELDS or value is None:
        return None
    bare = without_edge_marks(value)
    if bare is None or bare == value.strip() or not PERSON_NAME_RE.fullmatch(bare):
        return None
    return bare


def accent_lost(name: str, value: str | None, names: Lexicon) -> bool:
    """Whether ``value``, a given name both readers read alike, is one the lexicon writes only with an accent
    (``Anais``, ``Edith``, ``EMILE``): the accent, a few pixels, was lost by the scan (a fax, a page descreened, a
    blurred photo) for both readers at once. The field is held (rule ``accent_lost_hold``).

    Measured 2026-12-05 on every given name read alike in both corpora (devset; the project's scans, copies,
    stamps, faxes, halftone faxes and hands of seeds 11, 13, 23, 31, 37 and 2026): 2 were read without an accent
    the lexicon's only spelling has, both wrong (a halftone fax's ``Anais`` accepted at 0.89; a handwritten
    ``Emile``, held for its hand); no right reading was such a name. A family that writes ``Anais`` is asked
    about, not misread.

    Args:
        name: The field's name (only :data:`FIRST_NAME_FIELDS` are judged).
        value: The reading both readers agree on.
        names: The given-name lexicon (:func:`pipeline.reading.lexicon.first_names`).
    """
    return name in FIRST_NAME_FIELDS and names.lacks_an_accent(value)


def agreement_holds(field: Field, value: str | None, readings: Iterable[str | None], names: Lexicon,
                    accent: bool = True) -> list[str]:
    """The holds a value two engines agree on still gets, in order: ``accent_lost_hold`` (:func:`accent_lost`; only
    when ``accent``) and, for an e-mail, ``email_dot_lost_hold``
    (:func:`pipeline.deciding.crosscheck.dot_may_be_lost`, from ``readings``, the zone's readings as read). A field
    with one is held at ``OcrSettings.readers_differ_confidence`` by its caller: the two readers' verdict
    (``pipeline.reading.scan.page.text_fields_read``) and the settling by a third or grey reading
    (:func:`pipeline.reading.scan.engines_agree.settle_where_engines_agree`)."""
    holds = []
    if accent and accent_lost(field.name, value, names):
        holds.append("accent_lost_hold")
    if field.kind is FieldKind.EMAIL and dot_may_be_lost(value, readings):
        holds.append("email_dot_lost_hold")
    return holds


def choose_reading(field: Field, first: str | None, second: str | None, class_level: ExtractedField | None,
                   names: Lexicon, ocr: OcrSettings) -> Choice | None:
    """The reading a witness of ``field`` chooses when tesseract's (``first``) and the second reader's (``second``)
    differ, both after the field's repairs; ``None`` when no witness chooses (the field stays held).

    Witnesses, in order:

    * ``readers_agree_edges``: the readings are the same once the marks at their ends are dropped (a speck read as
      ``|``, ``°``, ``.`` by one reader only), for every field but sentences (:data:`FREE_TEXT_FIELDS`);
    * ``class_level_chooses``: a class line whose readings agree after the level word, when exactly one starts
      with the level ticked on the page at ``ocr.text_confidence_min`` or more (``CEI B`` / ``CE1 B``);
    * ``first_name_lexicon``: a given name, when exactly one reading is spelled by the lexicon (``Maëélys`` /
      ``Maëlys``, ``jules`` / ``Jules``);
    * ``language_lexicon``: home languages, when exactly one reading is a list of French language names (CLDR,
      :func:`pipeline.reading.field_lexicons.is_language_list`: ``chinois, français`` / ``chinois, fránçais``).
      Measured 2026-12-05 on the typed zones whose readers differed: devset 2 (a fax's ``soninke``, a photocopy's
      speck over an ``a``), own ``fax_200x100`` seed 2026 1 (``Françäis, lingalà``): each chose the right reading;
    * ``email_domain_lexicon``: an address whose local parts agree and hold a separator (:func:`_by_mail_domain`),
      when exactly one reading is on a domain of ``KNOWN_EMAIL_DOMAINS`` (``orahge.fr`` / ``orange.fr``; a long
      known domain misread, ``ac-versaitles.fr``, is repaired before:
      :func:`pipeline.deciding.crosscheck.repair_domain`);
    * ``french_words_choose``: a sentence, an address, a school's name or a referrer's role
      (:data:`WORDS_FIELDS`), when every word the readings differ on is a common word of which exactly one reading is
      French (:func:`_by_french_words`: ``coordonhatrice`` / ``coordonnatrice``);
    * ``field_syntax_chooses``: a text whose two readings are the same letters and digits, differing in punctuation
      only, when exactly one passes the field's caps (:func:`~pipeline.reading.scan.text_rules.caps_that_bite`: a
      speck read ``;`` in ``M. David; cpe``, a civility's period read ``,``).

    Args:
        field: The form field (``field.name``, ``field.kind``).
        first: Tesseract's reading, after the field's repairs.
        second: The second reader's, after the same repairs.
        class_level: The page's class level as OMR read it, if on this page.
        names: The given-name lexicon (:func:`pipeline.reading.lexicon.first_names`).
        ocr: ``readers_agree_confidence``, ``readers_chosen_confidence``, ``text_confidence_min``, the French
            dictionary (``french_words_file``, ``french_words_max_edits``).

    Raises:
        FrenchWordsMissingError: The French dictionary is needed and not installed
            (:func:`pipeline.reading.french_words.french_words`).
    """
    if not first or not second:
        return None
    if field.name not in FREE_TEXT_FIELDS:
        a, b = without_edge_marks(first), without_edge_marks(second)
        if a and normalise_text(a) == normalise_text(b):
            return Choice(a, ocr.readers_agree_confidence, "readers_agree_edges")
    picked: str | None = None
    rule = ""
    if field.name in CLASS_LETTER_FIELDS:
        picked, rule = _by_class_level(first, second, class_level, ocr), "class_level_chooses"
    elif field.name in FIRST_NAME_FIELDS:
        picked, rule = _one_of(first, second, names.spells), "first_name_lexicon"
    elif field.name in LANGUAGE_FIELDS:
        picked, rule = _one_of(first, second, is_language_list), "language_lexicon"
    elif field.kind is FieldKind.EMAIL:
        picked, rule = _by_mail_domain(first, second), "email_domain_lexicon"
    elif field.name in WORDS_FIELDS:
        words = french_words(ocr.french_words_file)
        picked, rule = _by_french_words(first, second, words, ocr.french_words_max_edits), "french_words_choose"
    if picked is None and field.kind is FieldKind.TEXT and _PUNCTUATION.sub("", first) == _PUNCTUATION.sub("", second):
        picked, rule = _one_of(first, second, lambda v: not caps_that_bite(field, v, ocr)), "field_syntax_chooses"
    return Choice(picked, ocr.readers_chosen_confidence, rule) if picked else None


_PUNCTUATION = re.compile(r"[^\w" + re.escape("".join(sorted(NOISE_CHARACTERS))) + r"]+|_+")
"""Punctuation: everything but letters, digits and the marks a misread letter may be
(:data:`~pipeline.reading.scan.text_rules.NOISE_CHARACTERS`, ``BOU|LANGER``); two readings equal once it is taken
out differ in punctuation only."""


def _one_of(first: str, second: str, passes: Callable[[str], bool]) -> str | None:
    """The one reading ``passes`` accepts, ``None`` when it accepts both or neither."""
    a, b = passes(first), passes(second)
    return (first if a else second) if a != b else None


def _by_class_level(first: str, second: str, class_level: ExtractedField | None, ocr: OcrSettings) -> str | None:
    """The class line starting with the confidently ticked level, when the two agree after their first word."""
    ticked = class_level.value if class_level is not None and isinstance(class_level.value, list) else []
    if len(ticked) != 1 or class_level is None or class_level.confidence < ocr.text_confidence_min:
        return None
    printed = dict(CLASS_LEVELS)[ticked[0]].casefold()
    if normalise_text(_split_level(first)[1]) != normalise_text(_split_level(second)[1]):
        return None
    return _one_of(first, second, lambda v: _split_level(v)[0].casefold() == printed)


_LEVEL_HEAD = re.compile(r"^\s*(\S+?)(?:(?<=\d)(?=[A-Z]\b)|\s+|$)(.*)$")


def _split_level(line: str) -> tuple[str, str]:
    """A class line's level word and the rest (``CM2 B - M. Roux`` → ``CM2``, ``B - M. Roux``)."""
    match = _LEVEL_HEAD.match(line)
    return (match.group(1), match.group(2)) if match else (line, "")


def _by_french_words(first: str, second: str, words: FrenchWords, max_edits: int) -> str | None:
    """The reading made of, for each word the two readings differ on, the one reading of it the French dictionary
    spells; ``None`` unless every differing word is so decided.

    The readings must have as many words (split at white space), and each pair of words that differ must: keep the
    same marks at their ends (``vous,`` / ``vouș,``; a difference in punctuation is not the dictionary's to settle),
    hold no digit (a house number is no word), be at most ``max_edits`` characters apart, begin in lower case unless
    they begin the value or a sentence (a proper name, which the dictionary spells only at times: ``Lévy`` /
    ``l.óvy`` is left to a person), and exactly one of the two must be spelled by the dictionary.

    Before the dictionary, and for proper names too: two readings of a word that differ only by a diacritic, of
    which exactly one has a letter outside French's alphabet
    (:data:`~pipeline.reading.scan.text_rules.FRENCH_LETTERS`), are decided for the other (``Henrì`` / ``Henri``,
    ``chemín`` / ``chemin``). PP-OCRv6's alphabet holds the accents of other languages and
    gives them for a speck over a letter. Measured 2026-12-06 on every reading of both corpora (devset; the
    project's seeds 31 and 2026): 14 readings held such a letter (``ó``, ``í``, ``ì``, ``ș``, ``á``, ``ñ``, ``ę``,
    ``ą``, ``ı``), every one wrong, and no true value has one. It applies only to :data:`WORDS_FIELDS`: a person's
    name may be written in another alphabet's letters (``Muñoz``). As built, on the devset: one zone newly chosen
    (a fax's school name, ``Henrì``), right, accepted; the project's seed 31 (4 forms of each scanned kind): none.
    """
    a, b = first.split(), second.split()
    if len(a) != len(b):
        return None
    chosen: list[str] = []
    for x, y in zip(a, b, strict=True):
        if normalise_text(x) == normalise_text(y):
            chosen.append(x)
            continue
        starts = not chosen or chosen[-1].endswith(_SENTENCE_END)
        word = _french_word(x, y, words, max_edits, starts)
        if word is None:
            return None
        chosen.append(word)
    return " ".join(chosen)


def _french_word(x: str, y: str, words: FrenchWords, max_edits: int, starts_sentence: bool) -> str | None:
    """Of two readings of one word, the one written in the French alphabet (:func:`_in_french_alphabet`) or else
    the one the dictionary spells, by :func:`_by_french_words`' conditions."""
    (hx, cx, tx), (hy, cy, ty) = (_EDGE_MARKS.fullmatch(v).groups() for v in (x, y))  # type: ignore[union-attr]
    if (hx, tx) != (hy, ty) or not cx or not cy or any(c.isdigit() for c in cx + cy):
        return None
    if without_accents(cx.lower()) == without_accents(cy.lower()) and (
            french := _one_of(x, y, _in_french_alphabet)) is not None:
        return french
    if not starts_sentence and (cx[0].isupper() or cy[0].isupper()):
        return None
    if Levenshtein.distance(cx, cy) > max_edits:
        return None
    spelled_x, spelled_y = words.spells(cx), words.spells(cy)
    return (x if spelled_x else y) if spelled_x != spelled_y else None


def _in_french_alphabet(word: str) -> bool:
    """Whether every letter of ``word`` is one of :data:`FRENCH_LETTERS` (in any case)."""
    return all(c in FRENCH_LETTERS for c in word.lower() if c.isalpha())


def _by_mail_domain(first: str, second: str) -> str | None:
    """The address on a known domain, when the two have the same local part (compared in lower case) and it holds
    a separator (:func:`pipeline.deciding.crosscheck.separated_local`).

    The domain is what this witness knows; a local part both readers read as one run of letters may be its dotted
    twin with the dot lost by both (``moniquerichard`` for *monique.richard*: a full stop is the smallest mark of an
    address, and a blurred or faxed one goes for both readers at once, as
    :func:`pipeline.reading.scan.constrained.has_dotted_twin` says of a hand's). Measured 2026-12-07 on every choice
    of this witness in the field dumps of the devset, five variants of its typed referrals, the project's typed
    kinds of seed 88 and hand kinds of seeds 4242, 4343 and 4444: 26 choices, 5 wrong, every wrong one a local part
    of letters only whose truth has a dot both readers lost (``moniquerichard`` three times, typed, accepted at
    0.76-0.78: the one value wrong at or above the review threshold on those corpora; ``martheroussel``,
    ``agathebourdon``, held by their hand); of the 21 right, 2 were letters only (``alexandriagaudin``,
    ``adriennetecher``) and go to a person now, with their forms.
    """
    parts = [v.lower().split("@") for v in (first, second)]
    if any(len(p) != 2 for p in parts) or parts[0][0] != parts[1][0] or not separated_local(first):
        return None
    return _one_of(first, second, on_known_mail_domain)
