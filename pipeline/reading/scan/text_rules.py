"""Rules applied to a text zone's reading: repairs, caps on confidence, and the class line.

Each rule is a small named function: a repair (:data:`READING_REPAIRS`, field → repair) rewrites
a reading; a cap (:data:`TEXT_CAPS`) lowers a reading's confidence when its syntax says a person
should look. Every rule's docstring says what it fixes and what it was measured on.
"""


from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime

from pipeline.deciding.fields import EMAIL_RE, PERSON_NAME_FIELDS, PERSON_NAME_RE, clean_text_value
from pipeline.form.definition import (
    CLASS_LEVELS,
    Field,
    FieldKind,
)
from pipeline.reading.french_words import french_words
from pipeline.reading.scan.strips import Word
from pipeline.settings import OcrSettings
from schemas.extraction import ExtractedField
from schemas.referral import is_french_mobile

log = logging.getLogger(__name__)


def text_value(kind: FieldKind, words: Sequence[Word]) -> str | None:
    """Join a zone's words into its value: normalised text; e-mails lowercased without spaces."""
    return clean_text_value(kind, " ".join(w.text for w in words))


def drop_speck_words(words: Sequence[Word]) -> list[Word]:
    """A text zone's words without the lone punctuation marks at either end, which are toner specks.

    Tesseract reads a speck beside a value as a word of its own, ``.`` or ``:`` (``72, boulevard de
    Carpentier .`` at 0.78, ``CP B - Mme Joubert .``, photocopies of issue 3), and no value of this form
    begins or ends with a punctuation mark standing alone. Marks that could be a misread letter (``|`` for
    ``I``) are not dropped: :data:`NOISE_CHARACTERS` sends those to a person.

    Returns:
        The words in order, without those of :data:`SPECK_PUNCTUATION` alone at the ends.
    """
    kept = list(words)
    while kept and set(kept[-1].text) <= SPECK_PUNCTUATION:
        kept.pop()
    while kept and set(kept[0].text) <= SPECK_PUNCTUATION:
        kept.pop(0)
    return kept


def drop_speck_tokens(text: str | None) -> str | None:
    """The second reader's line without lone punctuation marks at either end: :func:`drop_speck_words` on its
    white-space separated tokens, so both readers are weighed after the same repair."""
    if text is None:
        return None
    tokens = text.split()
    while tokens and set(tokens[-1]) <= SPECK_PUNCTUATION:
        tokens.pop()
    while tokens and set(tokens[0]) <= SPECK_PUNCTUATION:
        tokens.pop(0)
    return " ".join(tokens) or None


SPECK_PUNCTUATION = frozenset(".,:;'’°·•*")


"""Punctuation a speck is read as; alone at either end of a text zone, such a word is dropped. A speck above the
line is read as a raised mark (``M. David, cpe °``, ``Argenteuil ·``, ``français *``): the three lone raised marks at
the end of a reading in both corpora at 032df8d (devset, the project's scans, copies, faxes and hands) were specks."""


CLASS_LETTER_FIELDS = ("class_name",)


"""Fields that hold a class letter (``5e A``): ``fra`` reads a lone ``A`` as ``À`` with confidence 0.9
(measured on photos and scans, issue 3), and a class is never called ``À``."""


def repair_class_line(value: str) -> str:
    """Turn a lone ``À`` back into the class letter ``A``, put back the space OCR lost between a class
    level and its one-letter division (``CM1B`` → ``CM1 B``, measured on phone photos at confidence 0.82:
    the level words are a closed list, so the cut is sure), and the spaces it lost around the dash before
    the teacher (``CP B-M. Morvan`` → ``CP B - M. Morvan``, accepted at 0.72 on a scan, pdf_wrong_order 17
    of seed 2026, issue 3)."""
    value = " ".join("A" if word == "À" else word for word in value.split(" "))
    value = GLUED_DIVISION_RE.sub(r"\1 \2", value)
    return TEACHER_DASH_RE.sub(r"\1 - ", value)


LEVEL_WORDS = r"CP|CE1|CE2|CM1|CM2|[3-6](?:e|è|ème|eme)"


"""How the class levels of ``form_definition.CLASS_LEVELS`` are written at the head of a class line."""


GLUED_DIVISION_RE = re.compile(rf"^({LEVEL_WORDS})([A-Z])(?=\s|$)")


TEACHER_DASH_RE = re.compile(rf"^((?:{LEVEL_WORDS})(?: [A-Z0-9]{{1,2}})?) ?- ?(?=[A-Z][a-zà-ÿ.])")


"""The dash between a class (level, perhaps a division) and its teacher's title or name, however spaced."""


CLASS_LINE_RE = re.compile(rf"^(?:{LEVEL_WORDS})(?:\s*[-/]?\s*(?P<division>[A-Z0-9]{{1,2}}))?(?:\s|$)")


"""A class line as the form asks for it: a level, then perhaps a division (``CM1 B - M. Lamy``, ``5e3``)."""


CONFUSABLE_DIVISIONS = frozenset({"8", "0"})


"""Divisions OCR makes of the letters ``B`` and ``O`` (``CM1 8`` for ``CM1 B`` at 0.81 on a phone photo,
issue 3). Schools name divisions with letters or digits alike, so such a digit is a person's call."""


def class_line_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a class line may keep (1.0 for any other field).

    The level leads the class line and repeats the ticked level that routes the pupil, so a line that does
    not start with a level word (``Se B`` read for ``5e B`` at 0.69 on a photo) or whose division is one
    of :data:`CONFUSABLE_DIVISIONS` goes to a person (``ocr.unread_confidence``).
    """
    if value is None or name not in CLASS_LETTER_FIELDS:
        return 1.0
    line = CLASS_LINE_RE.match(value)
    if line is None or line.group("division") in CONFUSABLE_DIVISIONS:
        return ocr.unread_confidence
    return 1.0


def person_name_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a person's name may keep (1.0 for any other field).

    A name is letters, spaces, hyphens and apostrophes (:data:`PERSON_NAME_RE`); a reading holding anything
    else was misread, or took in a speck (``Corinne:`` at 0.91 on a photocopy, issue 3): ``ocr.unread_confidence``.
    """
    if value is None or name not in PERSON_NAME_FIELDS or PERSON_NAME_RE.fullmatch(value):
        return 1.0
    return ocr.unread_confidence


ADDRESS_FIELDS = ("pupil_address",)


"""Fields that hold a postal address (``2, rue Boulay``)."""


STRAY_PUNCTUATION_FIELDS = (*ADDRESS_FIELDS, "referrer_name", "class_name", "home_languages", "pupil_town")


"""Fields whose values never begin with a punctuation mark, never end with ``.``, ``,``, ``:`` or ``;``, never
hold a ``;``, two marks glued together (``B.-``, ``,.``), a civility followed by a comma or a bracket without its pair
(an address,
``M. Humbert, directeur(trice)``, ``CP B - Mme Lamy``, ``Tamoul, français``)."""


STRAY_PUNCTUATION_RE = re.compile(r"^[.,:;'’]|[.,:;]$|;|^(?:M|Mme|Mlle)\s*[,:]|[.,:][-–.,:]|[-–][.,:]")


def stray_punctuation_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a reading of :data:`STRAY_PUNCTUATION_FIELDS` may keep (1.0 for other fields).

    A toner speck glued to a word is read as its punctuation, and the word's confidence stays high: on
    photocopies of seed 2026 (issue 3), ``29, chemin Anaïs Marin.`` at 0.92, ``.M. Humbert, directeur(trice)``
    at 0.77, and a comma read ``;`` in ``Mme Dumont; directeur(trice)`` at 0.90. A civility's period read as a
    comma by both readers (``M, Dufour, enseignant(e)``, 0.91 on a photocopy of seed 11), and a bracket without
    its pair (``enseignant(e``), are the same misreading. Measured on both corpora's readings of these fields at
    99ba2be (devset 199; the project's scans, copies, stamps, faxes and hands 534): the 23 with a civility and a
    comma or a lone bracket were all wrong. Two marks glued together (a speck beside a dash, ``CE2 B.- Mme Pottier``
    accepted at 0.93 on a photocopy of the project's held-out seed 23): in both corpora's readings of these fields
    (devset; the project's seeds 2026, 7, 11 and 23) the 3 with one were all wrong, and no true value has one.
    A reading with a mark where these fields never have one is kept as read, at ``ocr.unread_confidence``, for a
    person to correct.
    """
    if value is None or name not in STRAY_PUNCTUATION_FIELDS:
        return 1.0
    if not STRAY_PUNCTUATION_RE.search(value) and value.count("(") == value.count(")"):
        return 1.0
    return ocr.unread_confidence


SENTENCE_FIELDS = ("observations", "criteria_other_text")


"""Fields written in sentences (free text)."""

STOP_CASE_FIELDS = (*SENTENCE_FIELDS, "referrer_name", "class_name")
"""Fields where a full stop is never followed by a word in lower case: sentences, and the lines that join a name to a
role or a class with a comma or a dash (``M. Langlois, enseignant(e)``, ``CM1 B - M. Martin``)."""


FRENCH_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzàâäçéèêëîïôöùûüÿœæ")
"""The letters of French, accented ones included, in lower case."""

_CIVILITY = "(?:" + "|".join(f"(?<=\\b{c})" for c in ("M", "MM", "Mme", "Mmes", "Mlle", "Mlles")) + ")"
"""Just after a civility's abbreviation (a lookbehind per spelling: Python's are of fixed width)."""

LOWER_AFTER_STOP_RE = re.compile(
    r"(?<!\betc)(?<!\bcf)(?<!\bex)(?!" + _CIVILITY + r"\.\s+(?:(?:le|la|les)\s|l['’]\w))[.!?]\s+["
    + "".join(sorted(FRENCH_LETTERS)) + "]")
"""A sentence's end (``.``, ``!``, ``?``) followed by a word in lower case, but after the abbreviations ``etc.``,
``cf.`` and ``ex.``, and a civility's full stop before an article (``M. le directeur``, ``Mme la directrice``,
``M. l'inspecteur``).

The civility's was added after a review of 2026-12-07: the cap held the right reading of « Vu avec M. le directeur »
and let :func:`pipeline.reading.scan.choices.choose_reading`'s field syntax take « M, le directeur », the misread
one, at 0.80. A civility before a name in lower case (``M. launay``, PP-OCRv6's reading of a devset hand) is still
capped: the only readings of that shape in the field dumps of both corpora are misreads of a surname. Measured on
those dumps (devset; the project's typed kinds of seeds 67, 53, 43 and 41, its photocopies of seeds 41 and 2026, its
hands of seeds 67, 53 and 31): of 2,678 readings and true values of the capped fields, the cap changes on none."""


def sentence_case_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a reading of :data:`STOP_CASE_FIELDS` may keep (1.0 for other fields).

    French starts a sentence with a capital: a full stop followed by a word in lower case is a comma or a speck
    read as a stop. On a fax at 200 × 100 dpi (the project's, seed 2026, 32 forms) both readers read
    ``cette année. comprend bien l'oral.`` for « cette année, comprend… », accepted at 0.93 once tesseract ran
    in-process (issue 19). Measured on both corpora's free texts at 1e7cd32 (devset, and the project's scans,
    copies, stamps, faxes and hands of seeds 2026 and 11): none of their 36 distinct true texts has such a stop, and
    the 4 readings that had one were all wrong (that fax, three handwritten ones already held). Kept as read, at
    ``ocr.unread_confidence``, for a person to correct.

    A referrer's name and role, and a class line, join their parts with a comma or a dash, never a stop before a
    lower-case word: on a typed phone photo of the project's seed 43, both engines read
    ``M. Langlois. enseignant(e)`` for « M. Langlois, enseignant(e) » and the form was routed with it (0.79). Measured
    2026-12-06 on every reading of these two fields (devset; the project's handwritten forms of seed 31, typed scans
    of seed 41, typed photos of seeds 41 and 43): none of their 396 distinct true values of these two fields, addresses,
    schools and relationships has such a stop; the 12 readings of the two fields that had one were all wrong.
    """
    if value is None or name not in STOP_CASE_FIELDS or not LOWER_AFTER_STOP_RE.search(value):
        return 1.0
    return ocr.unread_confidence


FRENCH_WORD_FIELDS = ("observations", "criteria_other_text", "pupil_address", "school_name", "referrer_name",
                      "class_name")
"""Text fields written in French words, proper nouns aside (:func:`stray_accent_cap`): not the names, nor the
e-mails, nor the home languages (a language's own name may be spelled otherwise)."""

_WORD_RE = re.compile(r"[^\W\d_]+")


def stray_accent_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a reading of :data:`FRENCH_WORD_FIELDS` may keep (1.0 for other fields).

    A toner speck above a letter reads as an accent, and both readers may read it: ``faire sés devoirs`` for « faire
    ses devoirs », both engines alike, accepted at 0.93 on the project's photocopy (seed 2026, form 2). French spells
    no such word, and spells it without the accent (:meth:`pipeline.reading.french_words.FrenchWords.
    spells_only_unaccented`, the French dictionary of ``ocr.french_words_file``). A proper noun is mostly no entry
    either way (``Lévy``, ``Lefèvre``) and is not held for it; a rare one whose plain form is a French word
    (``Roché``, ``Aubé``) is held, for a person to confirm. Measured at 1e1e507 on every reading of these fields
    accepted with no person, both corpora (devset; the project's typed scans and photos of seeds 41, 43 and 53, its
    hands of seeds 31 and 53, and photocopies of seeds 2026 and 59, 182 forms): one word so accented, that one,
    wrong. Kept as read, at ``ocr.unread_confidence``, for a person to correct.

    Raises:
        FrenchWordsMissingError: The French dictionary is not installed (``ocr.french_words_file``).
    """
    if value is None or name not in FRENCH_WORD_FIELDS:
        return 1.0
    words = french_words(ocr.french_words_file)
    if any(words.spells_only_unaccented(w) for w in _WORD_RE.findall(value)):
        return ocr.unread_confidence
    return 1.0


FEMININE_ENDINGS = frozenset({"e", "ne", "le", "se", "te", "ve", "ice", "rice", "trice", "euse", "esse", "ère",
                              "ière", "fe", "ienne", "enne", "eure"})
"""The endings French inclusive writing puts in brackets after a masculine noun (``enseignant(e)``,
``directeur(trice)``, ``conseiller(ère)``, ``animateur(rice)``): a closed list of the language's feminine endings."""

BRACKETED_ENDING_RE = re.compile(r"\w\(([^()\s]*)\)")
"""A bracket glued to a word and what it holds (``directeur(trice)`` → ``trice``)."""


def inclusive_ending_cap(name: str, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a referrer's name and role may keep (1.0 for other fields).

    The role is often written in inclusive form, ``directeur(trice)``; what the brackets hold is one of French's
    feminine endings (:data:`FEMININE_ENDINGS`). Both readers read ``directeur(tnce)`` on a phone JPEG of the
    project's held-out seed 23, accepted at 0.93. In both corpora's readings at 2b9fca3 (devset; the project's
    seeds 2026, 7, 11, 23): bracketed endings ``trice`` and ``e`` 433 times, ``é`` 9 times and ``tnce`` twice, these
    11 all wrong; the true values hold only ``e`` and ``trice``. Kept as read, at ``ocr.unread_confidence``.
    """
    if value is None or name != "referrer_name":
        return 1.0
    endings = BRACKETED_ENDING_RE.findall(value)
    return 1.0 if all(e in FEMININE_ENDINGS for e in endings) else ocr.unread_confidence


NUMBER_PERIOD_RE = re.compile(r"^(\d+(?: ?(?:bis|ter|[A-Da-d]))?)\. (?=\D)")


def repair_address(value: str) -> str:
    """Put back the comma OCR read as a period after a house number.

    A French address writes ``2, rue Boulay`` or ``2 rue Boulay``, never ``2. rue``: the comma's tail is a
    pixel or two, lost on phone photos (``2. rue Boulay`` accepted at 0.93 on a HEIC photo, issue 3).
    """
    return NUMBER_PERIOD_RE.sub(r"\1, ", value)


READING_REPAIRS: dict[str, Callable[[str], str]] = {
    **dict.fromkeys(CLASS_LETTER_FIELDS, repair_class_line),
    **dict.fromkeys(ADDRESS_FIELDS, repair_address),
}


"""Text field → the repair of what OCR predictably gets wrong in what that field holds."""


TEXT_CAPS: tuple[Callable[[str, str | None, OcrSettings], float], ...] = (
    class_line_cap, person_name_cap, stray_punctuation_cap, sentence_case_cap, inclusive_ending_cap, stray_accent_cap)


"""Caps on a text reading by what its field holds (each 1.0 for the fields it does not concern)."""


def caps_that_bite(field: Field, value: str | None, ocr: OcrSettings) -> list[tuple[str, float]]:
    """The caps under 1.0 on a reading, by rule name (the function's name, a key of
    :data:`pipeline.reading.rules.FIELD_RULES`), in :func:`validator_cap`, :data:`TEXT_CAPS` order."""
    caps = [(validator_cap.__name__, validator_cap(field.kind, value, ocr)),
            *((cap.__name__, cap(field.name, value, ocr)) for cap in TEXT_CAPS)]
    return [(name, cap) for name, cap in caps if cap < 1.0]


def repair_reading(name: str, value: str | None) -> str | None:
    """A text field's reading with its field's repair applied (:data:`READING_REPAIRS`; none for most)."""
    repair = READING_REPAIRS.get(name)
    return value if value is None or repair is None else repair(value)


def email_confidence(confidence: float, ocr: OcrSettings) -> float:
    """Rescale tesseract's confidence (0-1) in an e-mail address so that ``ocr.email_confidence_min`` lands
    on the review threshold ``ocr.text_confidence_min``: an address needs more than a name to be trusted
    (one lost dot makes it wrong). Confidences at or above the e-mail minimum are kept."""
    if confidence >= ocr.email_confidence_min:
        return confidence
    return confidence * ocr.text_confidence_min / ocr.email_confidence_min


def phone_digits_ok(digits: str, mobile_only: bool) -> bool:
    """Whether ``digits`` make a French phone number as the form's combs hold it: ten digits, ``0`` then not ``0``,
    and a mobile number (:func:`schemas.referral.is_french_mobile`) when ``mobile_only``
    (``OcrSettings.phone_combs_mobile``)."""
    ok = len(digits) == 10 and digits.isdigit() and digits[0] == "0" and digits[1] != "0"
    return ok and (not mobile_only or is_french_mobile(digits))


def validator_cap(kind: FieldKind, value: str | None, ocr: OcrSettings) -> float:
    """The highest confidence a value of ``kind`` may keep given its own syntax (issue 3's "validator").

    A date that is not a calendar date, a phone that is not ten digits starting with 0 (nor a mobile number, with
    ``ocr.phone_combs_mobile``), a postcode
    that is not five digits, an e-mail that is not an address or a text holding one of the
    ``NOISE_CHARACTERS`` was misread: whatever tesseract's confidence, the field goes to a person
    (``ocr.unread_confidence``). Anything else: 1.0.
    """
    if value is None:
        return 1.0
    ok = True
    if kind is FieldKind.DATE:
        try:
            datetime.strptime(value, "%d/%m/%Y")
        except ValueError:
            ok = False
    elif kind is FieldKind.PHONE:
        ok = phone_digits_ok(value, ocr.phone_combs_mobile)
    elif kind is FieldKind.POSTCODE:
        ok = len(value) == 5 and value.isdigit()
    elif kind is FieldKind.EMAIL:
        ok = EMAIL_RE.match(value) is not None
    elif kind is FieldKind.TEXT:
        ok = not any(ch in NOISE_CHARACTERS for ch in value)
    return 1.0 if ok else ocr.unread_confidence


NOISE_CHARACTERS = frozenset("|¦‘£¢©®§¬~^`")


"""Characters tesseract makes of specks, copier streaks and stamp ink, and that no value written on this
form holds (names, addresses, classes, languages, observations): measured on photocopies and faxes (issue 3),
``RAMOS ‘``, ``Corinne: |``, ``£E Jules Verne |`` at confidences 0.79-0.94. A text zone holding one was
misread, whatever tesseract says."""


def class_line_confidence(words: Sequence[Word], level: ExtractedField | None, threshold: float) -> float:
    """A class line's OCR confidence, its level word confirmed by the ticked level.

    The level box ticked on the same page is an independent reading of the level that leads the class line
    (``CM1 B - M. Marchand``): when one box is ticked at ``threshold`` or more and the line's first word is
    that level as printed beside the box, the word is as sure as the tick. Tesseract gives short level
    words 0.43-0.61 on phone photos where the rest of the line reads at 0.84-0.96 (issue 3, HEIC). The
    division after a confirmed level is settled too when tesseract's doubt was only where to break the words
    or which accent to put (:func:`division_settled`); other words keep their own confidence.

    Args:
        words: The line's words as read, in order.
        level: The page's ``class_level`` field, if read.
        threshold: The review threshold (0-1).
    """
    if not words:
        return 0.0
    ticked = level.value if level is not None and isinstance(level.value, list) else []
    if len(ticked) != 1 or level is None or level.confidence < threshold:
        return words_confidence(words)
    printed = dict(CLASS_LEVELS)[ticked[0]].casefold()
    head = GLUED_DIVISION_RE.match(words[0].text)
    if head is not None and head.group(1).casefold() == printed and head.group(2) in SETTLED_DIVISIONS:
        rest = list(words[1:])  # "CE2B": the level and its division, one word for want of a space
    elif words[0].text.casefold() == printed:
        rest = list(words[1:])
        if rest and division_settled(words[0], rest[0]):
            rest = rest[1:]
    else:
        return words_confidence(words)
    return min(level.confidence, words_confidence(rest)) if rest else level.confidence


SETTLED_DIVISIONS = frozenset("ABCDEFHJKLMNPQRTUVWXY") | {"À"}


"""Division letters whose reading the class line's syntax settles, and ``À``, which is ``A`` (no class is called
``À``, :func:`repair_class_line`). Capitals OCR trades with a digit are left out (``G``/``6``, ``I``/``1``,
``O``/``0``, ``S``/``5``, ``Z``/``2``), except ``B``: the confusion measured runs the other way (``B`` read ``8``,
sent to a person by :data:`CONFUSABLE_DIVISIONS`), a division 8 needs eight classes of one level, and ``B`` is
the most common division there is."""


def division_settled(level_word: Word, division: Word) -> bool:
    """Whether the division letter after a confirmed level word is sure whatever its word confidence.

    Tesseract scores a word by its least sure character, spaces included: the level word and a one-letter
    division that share one low confidence (``CM2`` and ``C`` both 0.34-0.45 where the teacher's name reads
    0.92-0.96) were doubted at the break between them, which the line's syntax settles (``CM2C`` and ``CM2 C``
    are one class). A lone ``À`` (0.59-0.74 on phone photos) was doubted for its accent, which
    :func:`repair_class_line` settles. Measured on the class lines of 30 JPEG phone photos and 30 photocopies
    of a seed the thresholds were not tuned on (2027, issue 3): every division letter so settled was right.

    Args:
        level_word: The line's first word, the level confirmed by the tick.
        division: The word after it.
    """
    if division.text not in SETTLED_DIVISIONS:
        return False
    return division.text == "À" or round(division.confidence, 2) == round(level_word.confidence, 2)


def words_confidence(words: Sequence[Word]) -> float:
    """A zone's OCR confidence: its weakest word (one wrong word makes the field wrong)."""
    return min(w.confidence for w in words) if words else 0.0
