"""Cross-field verification: a field's confidence rises when another reading on the form confirms it, and falls
when another reading contradicts it.

A form states some things twice, and each reading is an independent witness of the other: page 2
repeats the pupil's name, and an e-mail address usually spells its owner's name next to a known
mail domain. When two readings of different zones, in different glyphs (names are written in
capitals, addresses in lower case), agree exactly, the weaker one is as sure as the stronger.
This is the "contextual verification" step of a capture pipeline (issue 3: "combine, for each field,
OCR character confidences, the field's own validator ... into one confidence"). Witnesses that agree raise a
confidence; witnesses that disagree (a name spelled a letter apart in two fields) send both to a person. Only the
structural checks (directory, towns lexicon) put a spelling in place of what was read.

Runs on the assembled form, before validation (:func:`pipeline.deciding.decide.decide_form`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from rapidfuzz.distance import Hamming, Indel, Levenshtein

from pipeline.deciding.directory import SchoolMatchSettings, match_school, split_kind
from pipeline.deciding.fields import EMAIL_RE, PERSON_NAME_RE
from pipeline.deciding.towns import Town, closest_town, names_another_town
from pipeline.deciding.validate import DEFAULT_RULES, SCHOOL_YEAR_DATES, expected_birth_years
from pipeline.form.definition import FieldKind, FormDefinition, form_v1
from pipeline.settings import StructureSettings
from schemas.directory import ClassLevel, Directory
from schemas.extraction import Doubt, ExtractedField, ExtractedForm, Reader, Source

DEFAULT_STRUCTURE = StructureSettings()
"""The cross-checks' thresholds when none are given (``Settings.structure`` at its defaults)."""


KNOWN_EMAIL_DOMAINS = frozenset({
    # The largest French consumer mailbox providers (ARCEP and Médiamétrie audiences list these).
    "gmail.com", "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "neuf.fr", "laposte.net", "bbox.fr",
    "hotmail.fr", "hotmail.com", "live.fr", "outlook.fr", "outlook.com", "yahoo.fr", "yahoo.com", "icloud.com",
    # Staff of the Éducation nationale write from their académie; the demo city is in Versailles'.
    "ac-versailles.fr",
})
"""Mail domains an address may be confirmed on. An address on any other domain keeps its OCR confidence:
a misread domain (``tree.fr`` for ``free.fr``) is exactly what this check must not let through."""

def on_known_mail_domain(address: str) -> bool:
    """Whether ``address`` (one ``@``) is on a domain of :data:`KNOWN_EMAIL_DOMAINS`, in any case."""
    return address.rsplit("@", 1)[-1].lower() in KNOWN_EMAIL_DOMAINS


def repair_domain(address: str, structure: StructureSettings = DEFAULT_STRUCTURE) -> str:
    """Put a misread known mail domain back: its dots and hyphens lost or doubled, and a letter or two of a long one
    misread.

    ``g.brunel@ac-versaillesfr``, ``c.marechal@ac-versailles..fr`` and ``a.remy@acversailles.fr.`` (a dot is a few
    pixels and vanishes or doubles in blur; a hyphen is lost on a fax) become ``@ac-versailles.fr``, because exactly
    one domain of :data:`KNOWN_EMAIL_DOMAINS` has the same letters in the same order. A domain whose letters are
    those of exactly one known domain of ``structure.email_domain_repair_letters_min`` letters or more, but for at
    most one substituted letter per ``structure.email_domain_letters_per_edit`` (same length, a letter misread, none
    lost or added), is that domain too (``ac-versailiesfr``, ``gc-versaillesfr``, ``laposte.nel``). Real domains lie
    one letter from the short known ones (``ymail.com``, ``email.com`` beside ``gmail.com``; ``mail.com``), and a
    letter lost or added turns a real domain into a listed one (``versailles.fr``, the city's own, into
    ``ac-versailles.fr``): neither is repaired. The local part is never touched, and the readers must still agree
    on it (or a witness choose): the repair makes two readers' domains agree when each misread the same domain its
    own way.

    Measured 2026-12-07 on every e-mail reading of Tesseract, its third reading and PP-OCRv6 recorded in the field
    dumps of the devset, five variants of its typed referrals (phone, photocopy, fax, 200 dpi, 150 dpi JPEG), the
    project's typed kinds of seed 88 and hand kinds of seeds 77, 4242, 4343 and 4444: 64 readings had a known
    domain's letters with their dots or hyphens misread, 37 more a long known domain's letters with one or two
    substituted, every one the domain written. Any edit (Levenshtein) on any known domain would have repaired 81,
    also right, but those corpora write on known domains only, and a review found the real neighbours above.

    Args:
        address: An e-mail address as read.
        structure: ``email_domain_letters_per_edit``, ``email_domain_repair_letters_min``.
    """
    if address.count("@") != 1:
        return address
    local, domain = address.split("@")
    if domain.lower() in KNOWN_EMAIL_DOMAINS:
        return address
    letters = _domain_letters(domain)
    same = [d for d in KNOWN_EMAIL_DOMAINS if _domain_letters(d) == letters]
    if not same and letters:
        same = [d for d in KNOWN_EMAIL_DOMAINS
                if len(known := _domain_letters(d)) == len(letters)
                and len(known) >= structure.email_domain_repair_letters_min
                and Hamming.distance(letters, known) <= len(known) // structure.email_domain_letters_per_edit]
    return f"{local}@{same[0]}" if len(same) == 1 else address


_SEPARATED_LOCAL = re.compile(r"[^._-][._-][^._-]")
"""A separator (``.``, ``-``, ``_``) between two characters of a local part (``h.richard``, ``jean-luc_m``)."""


def separated_local(address: str) -> bool:
    """Whether an address's local part holds a separator between two of its characters (:data:`_SEPARATED_LOCAL`);
    one that does not is one run of letters (``moniquerichard``), whose dot both readers may have lost."""
    return _SEPARATED_LOCAL.search(address.split("@")[0]) is not None


def dot_may_be_lost(value: str | None, readings: Iterable[str | None]) -> bool:
    """Whether an address's local part is one run of letters (not :func:`separated_local`) while every reading it
    was agreed from had its domain repaired (:func:`repair_domain`: a dot, a hyphen or a letter of the domain
    misread): readers that each lost the domain's dot may have lost the local part's too, both alike
    (``moniquerichard@acversailles.fr`` and ``moniquerichard@ac-versaillesfr`` for *monique.richard@ac-versailles.fr*,
    two variants of a devset photo). A reader that read the domain's dots right and no dot in the local part is
    evidence there is none (``josephineboyer@ac-versailles.fr`` beside Tesseract's ``…@ac-versaillesfr``, devset
    r0002, right). Rule ``email_dot_lost_hold``.

    Measured 2026-12-07 through the whole reader (``bench.corpus``'s reading) on the devset, five variants of its
    typed referrals (phone, photocopy, fax, 200 dpi, 150 dpi JPEG) and the project's typed kinds of seed 88: it held
    3 addresses, the variants' two ``moniquerichard@…`` (wrong, accepted at 0.78 before by the domain's witness,
    which no longer chooses such an address: ``pipeline.reading.scan.choices._by_mail_domain``) and the devset's
    handwritten ``thibaultbarbier@…`` (right, held by its hand anyway); with one reading enough instead of every
    one, it also held the devset's ``josephineboyer@…`` (right), whose form was routed.

    Args:
        value: The agreed address.
        readings: The readings, as read, it was agreed from.
    """
    if not value or value.count("@") != 1 or separated_local(value):
        return False
    read = [_fixed_marks(r) for r in readings if r is not None and r.count("@") == 1]
    return bool(read) and all(repair_domain(r) != r for r in read)


def _fixed_marks(address: str) -> str:
    """``address`` with :func:`fix_email`'s marks put right (a bar as ``l``, a middle dot as ``.``), its domain as
    read."""
    return address.replace("|", "l").translate(EMAIL_DOT_LOOKALIKES)


def _domain_letters(domain: str) -> str:
    """A domain in lower case without its dots and hyphens: ``ac-versailles.fr`` → ``acversaillesfr``."""
    return "".join(c for c in domain.lower() if c not in ".-")


EMAIL_OWNERS: dict[str, tuple[str, ...]] = {
    "guardian1_email": ("guardian1_surname", "guardian1_first_name"),
    "guardian2_email": ("guardian2_surname", "guardian2_first_name"),
    "referrer_email": ("referrer_name", "class_name"),
}
"""E-mail field → fields that hold its owner's name (the teacher is named in the class line too)."""

REPEATED_FIELDS = (("pupil_surname", "p2_pupil_surname"), ("pupil_first_name", "p2_pupil_first_name"))
"""Fields the form asks for twice (page 2 repeats the pupil's name so a lone page 2 can be matched)."""

_LOCAL_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_NAME_SEPARATORS = re.compile(r"[\s,()'’-]+")
"""What separates the words of a written name or role: spaces, hyphens, apostrophes, commas, parentheses."""


EMAIL_DOT_LOOKALIKES = str.maketrans(dict.fromkeys("\u00b7\u2022\u2219\u22c5\u30fb", "."))
"""Middle dots, bullets, dot operators and the katakana middle dot, none valid in an address: PP-OCRv6 reads a
handwritten full stop written mid-height as ``·``. Measured 2026-12-07 on every reading of an e-mail zone: the
project's handwritten version-2 forms (seed 2026, 6 forms) 4 readings held one, each where the truth has a full stop
(``j·boulanger@…``, ``…@ac-versailles·fr``); the devset, none."""


def fix_email(value: str | None) -> str | None:
    """Undo the confusions measured on e-mails: an ``l`` read as ``|`` and a full stop read as a middle dot
    (:data:`EMAIL_DOT_LOOKALIKES`), never valid in an address, and a known domain misread (:func:`repair_domain`)."""
    return repair_domain(_fixed_marks(value)) if value else value


def fold(text: str) -> str:
    """Lower case ASCII letters and digits only: ``"Da Silva-Lefèvre"`` → ``"dasilvalefevre"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def _name_tokens(values: Iterable[str]) -> set[str]:
    """Folded words of the name fields: each word, and each run of consecutive words joined up
    (``dasilva``, ``jeanluc``), words being split at spaces, hyphens and apostrophes."""
    tokens: set[str] = set()
    for value in values:
        words = [fold(w) for w in _NAME_SEPARATORS.split(value) if fold(w)]
        for i in range(len(words)):
            for j in range(i + 1, len(words) + 1):
                tokens.add("".join(words[i:j]))
    return tokens


def local_part_spelled_by(local: str, names: Iterable[str], structure: StructureSettings = DEFAULT_STRUCTURE) -> bool:
    """Whether an address's local part is made of its owner's name, as ``prenom.nom`` addresses are.

    Every alphabetic token of two letters or more must be a name word (or joined name words, for
    ``dasilva``), at least one of them must be, and at most one single-letter initial and a number
    (homonyms: ``marie.martin2``) may stand beside them; a first name may be shortened (``nath``).

    Args:
        local: The part before ``@``, as read.
        names: The owner's name fields as read (surname, first name, "Mme Martin, enseignante").
        structure: ``short_form_min`` and ``short_form_cut``.
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
    return all(w in known or _is_short_form(w, known, structure) for w in words)


def _is_short_form(word: str, known: set[str], structure: StructureSettings) -> bool:
    """``nath`` for Nathalie: ``structure.short_form_min`` letters or more (four) that begin a name word at least
    ``structure.short_form_cut`` letters (three) longer."""
    return len(word) >= structure.short_form_min and any(
        k.startswith(word) and len(k) - len(word) >= structure.short_form_cut for k in known)


def _same_name(a: str, b: str, read: bool = True) -> bool:
    """Whether two readings spell one name: equal once spacing is ignored, accents kept (``Anaïs`` and ``Anais``
    are two spellings; a registry holds one). Case is ignored between two values typed in a PDF (``read``
    false: the text layer or AcroForm carries what was typed, ``martin`` on page 1 and ``MARTIN`` on page 2);
    between readings of ink, only when one of them is in capitals and neither in small letters only
    (``LEFÈVRE`` / ``Lefèvre``), since a reader may miss a capital's height: ``jules`` read alike by both readers of
    a dithered fax was vouched for at 0.92 by page 2's ``Jules`` (variants of devset pages faxed, 2026-12-07), and
    ``jules`` by a ``JULES`` (a review). On both corpora's 237 pairs of repeated names (devset; the project's seeds
    31, 53, 67 and the photocopies of 2026) none differs in case, so no other reading changes.

    Args:
        a: One reading.
        b: The other.
        read: Whether either was read from ink (OCR) rather than taken from a PDF's text.
    """
    x, y = " ".join(a.split()), " ".join(b.split())
    if not read:
        return x.casefold() == y.casefold()
    return x == y or (x.upper() == y.upper() and (x.isupper() or y.isupper()) and not (x.islower() or y.islower()))


NAME_WITNESS_PAIRS: tuple[tuple[str, str], ...] = (
    ("referrer_name", "referrer_email"), ("referrer_name", "class_name"), ("referrer_email", "class_name"),
    ("guardian1_surname", "guardian1_email"), ("guardian1_first_name", "guardian1_email"),
    ("guardian2_surname", "guardian2_email"), ("guardian2_first_name", "guardian2_email"),
    ("pupil_surname", "guardian1_surname"), ("pupil_surname", "guardian2_surname"),
    ("guardian1_surname", "guardian2_surname"),
)
"""Fields that write the same names: a person's name and e-mail (the teacher is named in the class line too),
and a family's surnames. A name spelled a letter apart in two of them was misread in one. A person's first name
and surname are not paired: ``Jacques JACQUET`` and ``Martine MARTIN`` are one letter apart by nature (6 of
3,000 invented forms fired on such pairs)."""


def _near_miss_edits(word: str, structure: StructureSettings) -> int:
    """Letters two spellings of a ``word``-long name may differ by and still be one name misread: one up to
    ``structure.near_miss_one_edit_max_letters`` letters (eight: ``leclerca`` for ``leclercq``, issue 3), two
    beyond. Two different family names two letters apart (``PELTIER``, ``POTIER``) met on one invented form in
    3,000."""
    return 1 if len(word) <= structure.near_miss_one_edit_max_letters else 2


@dataclass(frozen=True)
class NameWords:
    """The folded name words of one value, for :func:`near_miss`.

    Attributes:
        single: Each word of at least ``StructureSettings.near_miss_min_letters`` letters, as written.
        known: The same, plus runs of consecutive words joined up (``dasilva`` for ``Da Silva``): what another
            field's word may equal without being a near miss.
    """

    single: frozenset[str]
    known: frozenset[str]


def name_words(field_name: str, value: str, structure: StructureSettings = DEFAULT_STRUCTURE) -> NameWords:
    """Folded name words of a value: an e-mail's local part split at dots, dashes, underscores and digits
    (``a.leclercq`` → ``leclercq``); any other field's words split at spaces, hyphens, apostrophes, commas and
    parentheses (``Mme Leclercq, directeur(trice)`` → ``leclercq``, ``directeur``, ``trice``)."""
    if field_name.endswith("_email"):
        single = set(_LOCAL_TOKEN.findall(value.split("@")[0].lower()))
        known = set(single)
    else:
        single = {fold(w) for w in _NAME_SEPARATORS.split(value)}
        known = _name_tokens([value])
    keep = {w for w in single if w.isalpha() and len(w) >= structure.near_miss_min_letters}
    return NameWords(frozenset(keep), frozenset(known | keep))


def near_miss(a: NameWords, b: NameWords, structure: StructureSettings = DEFAULT_STRUCTURE) -> tuple[str, str] | None:
    """A word of ``a`` and a word of ``b`` that are one name misread: neither known as such on the other side,
    and within :func:`_near_miss_edits` letters of each other (Levenshtein). ``None`` if there is none.

    ``martine.martin`` against ``Martin`` has none (``martin`` is on both sides); ``Leclerca`` against
    ``a.leclercq`` is one.
    """
    for x in sorted(a.single - b.known):
        for y in sorted(b.single - a.known):
            limit = _near_miss_edits(max(x, y, key=len), structure)
            if Levenshtein.distance(x, y, score_cutoff=limit) <= limit:
                return x, y
    return None


def doubt_name_near_misses(fields: dict[str, ExtractedField], threshold: float,
                           structure: StructureSettings = DEFAULT_STRUCTURE) -> None:
    """Hold, in place, both fields of a :data:`NAME_WITNESS_PAIRS` pair that spell one name a letter or two apart.

    ``Mme Leclerca, directeur(trice)`` was accepted at 0.89 on a scan while the e-mail beside it read
    ``a.leclercq@ac-versailles.fr`` (scan_hand_marks 20 of seed 2026, issue 3): one of the two is wrong, and
    only a person can say which. Both fields, when read by OCR, go under ``threshold`` (at
    ``structure.repeat_conflict_share`` of it) with :attr:`Doubt.NAME_CONFLICT` unless a cause of doubt was already
    found, whatever their confidences; values are never changed.

    Args:
        fields: Field name → extracted field of the assembled form; updated in place.
        threshold: The review threshold (0-1).
        structure: ``repeat_conflict_share`` and the near miss's letter counts.
    """
    doubt = threshold * structure.repeat_conflict_share
    for first, second in NAME_WITNESS_PAIRS:
        a, b = fields.get(first), fields.get(second)
        if a is None or b is None or Source.OCR not in (a.source, b.source):
            continue
        if not isinstance(a.value, str) or not isinstance(b.value, str):
            continue
        if near_miss(name_words(first, a.value, structure), name_words(second, b.value, structure), structure) is None:
            continue
        for name, f in ((first, a), (second, b)):
            if f.source is Source.OCR:  # a typed AcroForm value is what the teacher wrote, misread or not
                # an earlier cause stays the one told
                fields[name] = _lowered(f, doubt, Doubt.NAME_CONFLICT, "name_conflict")


OCR_VALUE_KINDS = (FieldKind.TEXT, FieldKind.EMAIL, FieldKind.DATE, FieldKind.PHONE, FieldKind.POSTCODE)
"""Kinds whose values OCR reads (text zones and combs), as opposed to tick boxes and signatures."""


def hold_handwritten_form(form: ExtractedForm, cap: float, definition: FormDefinition | None = None) -> ExtractedForm:
    """A form one of whose pages was judged filled by hand is held as handwritten on every page.

    The reader judges each page on its own (``pipeline.reading.scan.hand.looks_handwritten``: the median baseline
    agreement
    of its zones), and block capitals in a handwriting font can stand as straight as type: on phone photos of
    seed 99 (issue 3) page 2 of a form measured 0.63 (by hand) and its page 1 0.90 (typed), so page 1's
    words were taken at tesseract's word confidence and four were accepted wrong at 0.67-0.87
    (``ARGENTEUL``, ``CLG LUCE AUBRAC``). One person fills a form in one way, so the whole form follows
    its most handwritten page: every OCR value on the other pages is held at ``cap``, with
    :attr:`Doubt.HANDWRITTEN_FORM`, and combs too, since a typed-looking page accepts tesseract's digits alone.

    Args:
        form: The assembled form (``handwritten_pages`` set by :func:`pipeline.deciding.assemble.assemble_form`).
        cap: The handwritten confidence ceiling (``IcrSettings.handwritten_text_confidence``, 0-1).
        definition: The form's geometry, which gives each field's kind; version 1 by default.

    Returns:
        The form, unchanged when no page was judged handwritten.
    """
    by_hand = set(form.handwritten_pages)
    if not by_hand:
        return form
    kinds = {f.name: f.kind for f in (definition or form_v1()).fields}
    fields = {name: (f.model_copy(update={"confidence": min(f.confidence, cap), "doubt": Doubt.HANDWRITTEN_FORM,
                                          "rules": (*f.rules, "handwriting_hold")})
                     if f.page not in by_hand and f.source is Source.OCR and f.value is not None
                     and kinds.get(name) in OCR_VALUE_KINDS else f)
              for name, f in form.fields.items()}
    return form.model_copy(update={"fields": fields})


def _lowered(field: ExtractedField, confidence: float, doubt: Doubt | None = None, rule: str = "") -> ExtractedField:
    """The field at ``confidence`` at most, with ``doubt`` as its cause unless it already had one."""
    return field.model_copy(update={"confidence": min(field.confidence, confidence), "doubt": field.doubt or doubt,
                                    "rules": (*field.rules, rule) if rule else field.rules})


def _raised(field: ExtractedField, confidence: float, rule: str) -> ExtractedField:
    """The field at ``confidence`` at least, ``rule`` recorded when it raised it. A field a reader held with a cause
    (:class:`schemas.extraction.Doubt`: an AcroForm value its XFA contradicts, a stamp over the zone…) is never
    raised: a witness vouches for a reading, not for a conflict only a person can settle."""
    if confidence <= field.confidence or field.doubt is not None:
        return field  # nothing to raise, or not ours to raise
    return field.model_copy(update={"confidence": confidence, "rules": (*field.rules, rule)})


def _repeat_raised(field: ExtractedField, confidence: float) -> ExtractedField:
    """A repeated name vouched for by its repeat, unless its own two readers differ: on the devset at c6e6490
    tesseract's ``jules`` (PP-OCRv6 read ``Jules``) was raised to 0.92 by page 2's ``Jules``, when the repeat
    ignored case (it no longer does: :func:`_same_name`)."""
    return field if "readers_differ" in field.rules else _raised(field, confidence, "repeat_agrees")


def clear_foreign_ink_by_repeat(fields: dict[str, ExtractedField], threshold: float) -> None:
    """Lift, in place, the foreign-ink hold of a repeated name that its untouched repeat reads letter for letter.

    A stamp, a blot or a streak reaching a zone may hide a letter or add one; the zone is held
    (:class:`~schemas.extraction.Doubt` ``FOREIGN_INK``) even when both its readers agree. Page 2 repeats the
    pupil's name (:data:`REPEATED_FIELDS`): when the repeat has no doubt of its own, is read at ``threshold`` or
    more with its two readers agreeing, and the held zone's two readers read exactly the same name, nothing was
    hidden or added (a hidden letter would make the held reading shorter, an added one longer). The held field takes
    the repeat's confidence, rule ``repeat_clears_foreign_ink``. Any other doubt, a reading that differs by a letter
    or an accent, or a repeat itself held, keeps the hold.

    Measured at 3728699 (``bench --corpus`` reliability table): on the devset, 3 fields move from the 0.2-0.3 band to
    0.9-1.0, each right (the typed photocopies' names: a toner blot on page 2's surname, a copier streak beside the
    first letter of page 1's names); on the project's own bench (``--kinds base hard v2 --per-kind 2``, seed 2026)
    no field changes. No form changes outcome: their other held fields still send them to a person.
    """
    for first, second in REPEATED_FIELDS:
        for held_name, witness_name in ((first, second), (second, first)):
            held, witness = fields.get(held_name), fields.get(witness_name)
            if held is None or witness is None or held.doubt is not Doubt.FOREIGN_INK or witness.doubt is not None:
                continue
            if not isinstance(held.value, str) or not PERSON_NAME_RE.fullmatch(held.value):
                continue
            agreed = "readers_agree" in held.rules and "readers_agree" in witness.rules
            if agreed and held.value == witness.value and witness.confidence >= threshold:
                fields[held_name] = held.model_copy(update={
                    "confidence": witness.confidence, "doubt": None,
                    "rules": (*held.rules, "repeat_clears_foreign_ink")})


SURNAME_FIELDS = ("pupil_surname", "p2_pupil_surname", "guardian1_surname", "guardian2_surname")
"""Fields that hold a surname of the pupil's family: a guardian often bears the pupil's."""


def choose_surname_by_family(fields: dict[str, ExtractedField], structure: StructureSettings = DEFAULT_STRUCTURE
                             ) -> None:
    """Choose, in place, between the two readings of a surname whose readers differ, by the form's other surnames.

    When exactly one of the zone's two readings is, letter for letter, a surname both readers agreed on in
    another field of :data:`SURNAME_FIELDS` (``LÉVÉQUE`` / ``LÉVÊQUE`` beside the pupil's agreed ``LÉVÊQUE``), that
    reading is the value at ``structure.surname_chosen_confidence``, rule ``surname_family_chooses``. A field
    held with a cause (handwriting, foreign ink) keeps its hold. Measured at 815c8ce: on the devset, typed zones
    3 of 3 right (two already settled by their edge marks); handwritten 12 of 14 on both corpora, where the
    agreed surname was itself misread (``BOUVER``).
    """
    agreed = {name: f.value for name in SURNAME_FIELDS if (f := fields.get(name)) is not None
              and "readers_agree" in f.rules and isinstance(f.value, str)}
    for name in SURNAME_FIELDS:
        field = fields.get(name)
        if field is None or field.doubt is not None or "readers_differ" not in field.rules:
            continue
        others = {v for n, v in agreed.items() if n != name}
        readings = {r.value for r in field.readings if r.value}
        hits = readings & others
        if len(readings) == 2 and len(hits) == 1:
            fields[name] = field.model_copy(update={
                "value": hits.pop(), "confidence": max(field.confidence, structure.surname_chosen_confidence),
                "rules": (*field.rules, "surname_family_chooses")})


FAMILY_EMAILS = ("guardian1_email", "guardian2_email")
"""The family's e-mail fields: their addresses often spell a family surname (``ines.munoz@laposte.net``)."""

HAND_DOUBTS = frozenset({Doubt.HANDWRITTEN, Doubt.HANDWRITTEN_FORM})
"""Doubts that say only that a field was written by hand: a witness may lift them, never any other."""

EMAIL_READERS = frozenset({Reader.TESSERACT, Reader.PPOCR, Reader.TESSERACT_RESCALED})
"""Readers whose reading of an e-mail zone is ink read freely; the constrained decoder's address is built from the
names the page reads (:func:`pipeline.reading.scan.constrained.email_values`) and witnesses nothing."""


def vouch_surname_by_email(fields: dict[str, ExtractedField], structure: StructureSettings = DEFAULT_STRUCTURE,
                           accent_lost: Callable[[str], bool] | None = None) -> None:
    """Lift, in place, the handwriting hold of a surname that a family e-mail address spells, letter for letter.

    A handwritten surname is held for a person whatever its readers say: no lexicon lists every family name, and
    two readers of one hand agree on a wrong reading one time in ten (devset at a164556: 3 of 34 handwritten
    held surnames both readers agreed on were wrong, all ``DISOUX`` for *DIJOUX*, a Breip ``J`` read ``S`` in capitals
    in three zones). A guardian's address is written by the same person in lower case, other glyphs for the same
    letters (``dijoux``), and both readers read it on their own. A surname field of :data:`SURNAME_FIELDS` is
    lifted when:

    * its only doubt is the hand's (:data:`HAND_DOUBTS`: no foreign ink, no fax resolution, no conflict);
    * its two readers agree (``readers_agree``) on a name (:data:`~pipeline.deciding.fields.PERSON_NAME_RE`) of
      ``structure.surname_email_letters_min`` letters or more once folded (:func:`fold`: ``DE OLIVEIRA`` →
      ``deoliveira``; shorter names are met inside unrelated addresses);
    * a free reading (:data:`EMAIL_READERS`) of the local part of a family e-mail (:data:`FAMILY_EMAILS`) holds
      those letters in a row (``agnesde-oliveira``, ``ines.munoz``): the same letters read twice, once in capitals
      and once in lower case.

    It then takes ``structure.surname_email_confidence``, rule ``email_spells_surname``; a near miss with another
    name field (:func:`doubt_name_near_misses`, run after) still holds it. Accents are not witnessed (an address has
    none): a surname both readers read without its accent would be lifted as read. So a surname ``accent_lost``
    says may have lost one stays held, rule ``surname_accent_hold``: the decision passes a word the French dictionary
    spells only accented (``RIVIERE``, ``CLEMENT``) or a given name the lexicon knows only accented (``ANDRE``,
    ``NOEL``) — both readers read the devset's ``Émile`` as ``Emile``, and its address ``emile.bonnet11``. No
    surname lifted on either corpus is so held; ``LEVEQUE`` would still be lifted (no list holds ``Lévêque``).

    Measured at its commit against a164556, every handwritten surname field of both corpora (``bench.corpus``'s
    readings): devset, 23 handwritten referrals, 84 surname fields written, 81 held → 57: 25 fields lifted, every
    one right (both readers had agreed on 34 held surnames; the 3 wrong, ``DISOUX``, stay held: their address reads
    ``dijcx``); the project's hand kinds ``scan_handwritten``, ``photo_handwritten``, ``scan_handwritten_v2``, 6
    forms each, seed 31 (a seed no rule was set on), 63 written, 56 held → 49: 7 lifted, every one right (the one
    wrong agreed surname, ``SULIEN`` for *JULIEN*, stays held: its address reads ``julien``). No value wrong at or
    above the review threshold on either corpus; fields for a person, median of the handwritten forms: devset 14
    (unchanged: the forms' other held fields), the project's 15 → 14 with the same commit's
    ``constrained.LOCAL_AS_READ_RULES`` (:mod:`pipeline.reading.scan.constrained`).
    """
    locals_: list[str] = []
    for name in FAMILY_EMAILS:
        email = fields.get(name)
        if email is None:
            continue
        for reading in email.readings:
            if reading.reader in EMAIL_READERS and reading.value and (local := fold(reading.value.partition("@")[0])):
                locals_.append(local)
    if not locals_:
        return
    for name in SURNAME_FIELDS:
        field = fields.get(name)
        if (field is None or field.doubt not in HAND_DOUBTS or "readers_agree" not in field.rules
                or not isinstance(field.value, str) or not PERSON_NAME_RE.fullmatch(field.value)):
            continue
        letters = fold(field.value)
        if len(letters) < structure.surname_email_letters_min or not any(letters in local for local in locals_):
            continue
        if accent_lost is not None and accent_lost(field.value):
            fields[name] = field.model_copy(update={"rules": (*field.rules, "surname_accent_hold")})
        else:
            fields[name] = field.model_copy(update={
                "confidence": max(field.confidence, structure.surname_email_confidence), "doubt": None,
                "rules": (*field.rules, "email_spells_surname")})


def alternative_readings(field: ExtractedField) -> list[str]:
    """The field's value, then each reader's own reading of its zone that differs from it (e-mails with
    :func:`pipeline.reading.scan.text_rules.fix_email`), in order, each once: the spellings a witness may choose from
    when the two readers differ."""
    out = [field.value] if isinstance(field.value, str) else []
    for reading in field.readings:
        value = fix_email(reading.value) if reading.value and "@" in reading.value else reading.value
        if value and value not in out:
            out.append(value)
    return out


def vouch_email(fields: dict[str, ExtractedField], email_name: str, owner_names: Sequence[str], threshold: float,
                structure: StructureSettings = DEFAULT_STRUCTURE) -> None:
    """Vouch, in place, for a doubtful e-mail address on a known domain spelled by its owner's confident names.

    The address's reading and, when its readers differ, the others' (:func:`alternative_readings`) are tried; when
    exactly one of them is on a domain of :data:`KNOWN_EMAIL_DOMAINS` with a local part its owner's name fields
    spell (:func:`local_part_spelled_by`, each field read at ``threshold`` or more), it is kept, at the lowest
    confidence of those fields. Devset at c385a7c: tesseract's ``adele.poulains9@free.fr`` beside PP-OCRv6's
    ``adele.poulain59@free.fr`` and a confident ``Poulain``; the other reader's spelling is taken only when
    the owner's own name spells it. A field held with a cause (its hand) keeps its confidence but takes that
    spelling, for the person to see first; rule ``email_owner`` records the change either way.

    A candidate must be what a reader read (Tesseract, PP-OCRv6, after :func:`fix_email`), never only the
    constrained decoder's address built from the owner's names (``Reader.PPOCR_CONSTRAINED``), which that
    name spells by construction: on the project's ``scan_handwritten_v2`` kind (seed 2026, form 4), an empty
    guardian 2 e-mail with a speck read « . » was vouched for as ``t.mathieu@sfr.fr`` at 0.88. On the devset and
    the own kinds measured then, every address vouched for was read by a reader (5 devset, all right). It must also
    have an address's shape (``fields.EMAIL_RE``): own ``scan_photocopy`` (seed 7, form 0), a speck read as a
    leading dot, ``.aime.muller@gmail.com``, was vouched for at 0.94 because the names spell its letters.

    The names choose only when they spell exactly one of the readings. A referrer's name gives no first name, and
    an address's initial is spelled by no name (:func:`local_part_spelled_by` lets one stand): on the project's
    ``scan_photocopy`` of seed 53 (made after the rule was written), Tesseract read ``b.maillot@ac-versailles.fr``
    and PP-OCRv6 ``a.maillot@…``, ``Mme Maillot`` spelled both, and the first, wrong, was accepted at 0.93. Such a
    field is kept for a person: the referrer's address is where the product writes about a pupil
    (``clas-referrals notify``), and an initial no reading settles may be a colleague's address. Measured at its
    commit, every field through ``bench.corpus``'s reading: the devset (40 referrals, whose addresses spell a full
    first name no field gives) unchanged; the project's typed scans and photos of seeds 41, 43 and 53 (96 forms),
    the wrong address above held, and 4 right addresses held that were accepted (Tesseract's ``|.`` repaired to
    ``l.``, PP-OCRv6's ``i.``: the names spell both), their 4 forms now go to a person, and a halftone fax's
    referrer's name and class line held once its address is no longer vouched for and conflicts with them.
    """
    email = fields.get(email_name)
    if email is None or email.source is not Source.OCR or email.confidence >= threshold:
        return
    owners = [fields[n] for n in owner_names if n in fields and isinstance(fields[n].value, str)]
    witnesses = [o for o in owners if o.confidence >= threshold]
    if not witnesses:
        return
    read = {fix_email(r.value) for r in email.readings if r.reader is not Reader.PPOCR_CONSTRAINED and r.value}
    spelled = [candidate for candidate in alternative_readings(email)
               if candidate.count("@") == 1 and EMAIL_RE.match(candidate.lower())
               and (not email.readings or candidate in read) and on_known_mail_domain(candidate)
               and local_part_spelled_by(candidate.split("@")[0], [str(o.value) for o in witnesses], structure)]
    if len({c.casefold() for c in spelled}) != 1:
        return  # the names spell none of the readings, or several: they do not choose (see the docstring)
    candidate = spelled[0]
    raised = _raised(email, min(o.confidence for o in witnesses), "email_owner")
    if candidate != email.value:  # the spelling changes even when a hold keeps the field for a person
        rules = raised.rules if "email_owner" in raised.rules else (*raised.rules, "email_owner")
        raised = raised.model_copy(update={"value": candidate, "rules": rules})
    fields[email_name] = raised


def cross_check(form: ExtractedForm, threshold: float, directory: Directory | None = None,
                towns: tuple[Town, ...] = (), structure: StructureSettings | None = None,
                school_year: tuple[int, int] | None = None, today: date | None = None,
                definition: FormDefinition | None = None,
                accent_lost: Callable[[str], bool] | None = None) -> ExtractedForm:
    """Raise the confidence of OCR fields another confident reading on the form agrees with.

    * A repeated name held for foreign ink that its untouched repeat reads letter for letter is no longer held
      (:func:`clear_foreign_ink_by_repeat`).
    * A repeated field (page 2's pupil name) and its original: when both are read, are made of
      letters only and spell the same name (accents included), both take the higher confidence,
      provided it reaches ``threshold``, except a reading whose own two readers differ (:func:`_repeat_raised`);
      when both were read confidently but differ (an accent is
      enough), both fall under ``threshold``.
    * An e-mail on a domain of :data:`KNOWN_EMAIL_DOMAINS` whose local part is spelled by its owner's
      name fields (:data:`EMAIL_OWNERS`), each of them read at ``threshold`` or more: it takes the
      lowest confidence of those name fields.
    * Two fields that write the same names (:data:`NAME_WITNESS_PAIRS`) and spell one of them a letter or two
      apart both fall under ``threshold`` (:func:`doubt_name_near_misses`).
    * A surname whose two readers differ takes the reading another surname field of the form agreed on
      (:func:`choose_surname_by_family`).
    * A handwritten surname both readers agree on, spelled by a family e-mail's reading, is no longer held
      (:func:`vouch_surname_by_email`).

    Args:
        form: The assembled form; confidences are 0-1.
        threshold: The review threshold (``OcrSettings.text_confidence_min``): only a confident
            witness may vouch for a doubtful field.
        directory: The school directory; with it, the form's structure vouches too (:func:`vouch_school`).
        towns: The towns lexicon (:mod:`pipeline.deciding.towns`); with it, :func:`vouch_town`.
        structure: Thresholds of the checks (``Settings.structure``; defaults: :data:`DEFAULT_STRUCTURE`).
        school_year: The configured school year ``(2026, 2027)``; with it, a form whose comb dates are
            impossible has all its combs doubted (:func:`doubt_combs_of_impossible_dates`).
        today: The day the form is decided on (default: today), after which no form is dated.
        definition: The form's geometry, which tells combs from other fields; version 1 by default.
        accent_lost: Whether a name read without accents may have lost one (:func:`vouch_surname_by_email`);
            ``None``: no such check.

    Returns:
        A new form. The repeated-field checks never change a value, only raise confidences; an e-mail check may
        show another reader's spelling (:func:`vouch_email`, the rule recorded); the structural ones put the
        directory's or lexicon's spelling in place of the doubtful reading they vouch for.
    """
    structure = structure or DEFAULT_STRUCTURE
    fields = dict(form.fields)
    clear_foreign_ink_by_repeat(fields, threshold)
    for first, second in REPEATED_FIELDS:
        a, b = fields.get(first), fields.get(second)
        if a is None or b is None or not isinstance(a.value, str) or not isinstance(b.value, str):
            continue
        best = max(a.confidence, b.confidence)
        spelled = all(PERSON_NAME_RE.fullmatch(v) for v in (a.value, b.value))  # "MICHEL |" folds to "michel"
        read = Source.OCR in (a.source, b.source)
        if spelled and _same_name(a.value, b.value, read) and fold(a.value) and best >= threshold:
            fields[first], fields[second] = _repeat_raised(a, best), _repeat_raised(b, best)
        elif min(a.confidence, b.confidence) >= threshold and not _same_name(a.value, b.value, read):
            # Two confident readings of one name that differ (often by an accent: "Anais" at 0.90 against
            # "Anaïs", phone photo, issue 3): at least one is wrong, and only a person can tell which.
            doubt = min(a.confidence, b.confidence, threshold * structure.repeat_conflict_share)
            fields[first] = _lowered(a, doubt, Doubt.REPEAT_CONFLICT, "repeat_conflict")
            fields[second] = _lowered(b, doubt, Doubt.REPEAT_CONFLICT, "repeat_conflict")
    choose_surname_by_family(fields, structure)
    vouch_surname_by_email(fields, structure, accent_lost)
    for email_name, owner_names in EMAIL_OWNERS.items():
        vouch_email(fields, email_name, owner_names, threshold, structure)
    doubt_name_near_misses(fields, threshold, structure)
    if school_year is not None:
        doubt_combs_of_impossible_dates(fields, threshold, school_year, today or date.today(), structure,
                                        definition)
    if directory is not None:
        vouch_school(fields, directory, threshold, structure, towns)
    if towns:
        vouch_town(fields, towns, structure)
    return form.model_copy(update={"fields": fields})



# --- The form's structure: the school directory, the class level, the school year --------------------


def read_coverage(written: str, names: Iterable[str]) -> float:
    """Share (0-1) of a written school name's letters, kind words aside, that align with the closest of
    ``names`` (rapidfuzz Indel alignment of the folded distinctive parts,
    :func:`pipeline.deciding.directory.split_kind`).

    ``"romain rolland sayois"`` against ``"Romain Rolland"`` is 0.67: a third of what was read is not the
    school's name.
    """
    _, core = split_kind(written)
    if not core:
        return 0.0
    best = 0.0
    for name in names:
        _, other = split_kind(name)
        if other:
            matched = (len(core) + len(other) - Indel.distance(core, other)) / 2
            best = max(best, matched / len(core))
    return best


def vouch_school(fields: dict[str, ExtractedField], directory: Directory, threshold: float,
                 structure: StructureSettings = DEFAULT_STRUCTURE, towns: tuple[Town, ...] = ()) -> None:
    """Vouch, in place, for a doubtful school name that designates one directory school beyond doubt.

    The name is matched by ``pipeline.deciding.directory.match_school`` with :class:`StructureSettings`'s stricter
    score and margin; the ticked class level, read confidently by OMR (an independent witness), must be
    one the school teaches (CP-CM2 an école élémentaire, 6e-3e a collège), and the name must not name
    another town of the lexicon (``"Jules Ferry de Bezons"``). The field then holds the directory's
    official name, at the lower of the level's confidence and ``structure.vouched_confidence``. The name as read
    is tried first, then the other reader's reading when the two differ (:func:`alternative_readings`; devset at
    c385a7c: tesseract's ``CE Héenr Barbusse`` beside PP-OCRv6's ``EE Henri Barbusse``). Two spellings that
    designate two schools vouch for none (a review, 2026-12-06: ``EE Jules Ferry`` beside ``EE Jules Verne`` had the
    first vouched, and the second once a handwritten zone was shown with PP-OCRv6's reading). Measured against the
    commit before, every field through ``bench.corpus``'s reading: no school changed on the devset (6 vouched) nor on
    the project's seeds 67, 53 and 31 handwritten and 67 typed (16 vouched); the guard is for readings like the
    review's, which neither corpus holds.

    Args:
        fields: Field name → extracted field of the assembled form; updated in place.
        directory: Schools.
        threshold: The review threshold: a school read at or above it is left alone, the level must reach it.
        structure: Thresholds.
        towns: Lexicon of :mod:`pipeline.deciding.towns` (other towns a school name may name).
    """
    school, level_field = fields.get("school_name"), fields.get("class_level")
    if school is None or school.source is not Source.OCR or not isinstance(school.value, str):
        return
    if school.confidence >= threshold or level_field is None or level_field.confidence < threshold:
        return
    if not isinstance(level_field.value, list) or len(level_field.value) != 1:
        return
    level = ClassLevel(level_field.value[0])
    strict = SchoolMatchSettings(min_score=structure.school_min_score, ambiguity_margin=structure.school_margin)
    designated = []
    for candidate in alternative_readings(school):  # the value, then each reader's spelling
        match = match_school(candidate, directory, strict)
        if match.school_id is None:
            continue
        found = directory.school(match.school_id)
        if not found.offers(level) or names_another_town(candidate, directory.city, towns, structure.town_min_score,
                                                         structure.town_words_max, structure.town_letters_min):
            continue
        if read_coverage(candidate, (found.name, *found.aliases)) < structure.school_read_coverage_min:
            continue  # words read beyond the school's name: another school that shares its name ("… de Sannois")
        designated.append(found)
    if not designated or len({f.id for f in designated}) > 1:
        return  # no spelling designates a school, or two readers' spellings designate two schools
    found = designated[0]
    confidence = min(structure.vouched_confidence, level_field.confidence)
    fields["school_name"] = school.model_copy(update={"value": found.name,
                                                      "confidence": max(school.confidence, confidence),
                                                      "rules": (*school.rules, "vouch_school")})


def vouch_town(fields: dict[str, ExtractedField], towns: tuple[Town, ...],
               structure: StructureSettings = DEFAULT_STRUCTURE) -> None:
    """Vouch, in place, for the pupil's town and postcode when their two independent readings agree.

    The town as read (a text zone) must be close to exactly one lexicon town (similarity at least
    ``structure.town_min_score``, every town of another name ``structure.town_margin`` lower), and the
    postcode as read (a comb, whatever its confidence: its value, or the digit model's own reading of its
    cells, ``ExtractedField.model_digits``, when tesseract took a hand's 9 for a 4, or PP-OCRv6's reading of
    the comb's row) must be that town's code. Both then take ``structure.vouched_confidence`` (or keep a higher
    one); the town takes the lexicon's spelling, in capitals when it was written in capitals, and the postcode the
    town's code. Confident readings are spelled by the lexicon too: a photocopy's ``Argehteuil`` was read at 0.88
    (issue 3).

    PP-OCRv6's reading counts as the other two readers' do: a halftone fax's typed ``95100`` read ``96100`` by
    tesseract and ``95200`` by the digit model (the project's seed 53), a devset fax's ``85100`` and ``95600``
    (r0036). Measured at 5c8e12c against 460c39d, every field through ``bench.corpus``'s reading: the devset, that
    postcode and its town vouched for (2 fields, right); the project's forms of seeds 31, 41, 43 and 53 (132 forms),
    5 postcodes (seed 53's fax and 3 of its handwritten forms, a photocopy of seed 41), all right; no field wrong.

    The town is read as shown and as each reader read it, and two spellings that name two towns vouch for none:
    a handwritten zone is shown with PP-OCRv6's reading (``IcrSettings.hand_second_reading_shown``), which must not
    hide the town tesseract's reading names (seed 31's photo_handwritten-0003: shown ``t rqe nleuil``, tesseract
    ``À age nleuil``, vouched with its postcode as before that change). A comb's value shown from its digits-only
    decoding (``ConstrainedSettings.digits_shown``) does not count: only what a reader of the comb read does.

    Args:
        fields: Field name → extracted field of the assembled form; updated in place.
        towns: The lexicon (:func:`pipeline.deciding.towns.load_towns`).
        structure: Thresholds.
    """
    town, postcode = fields.get("pupil_town"), fields.get("pupil_postcode")
    if town is None or postcode is None or town.source is not Source.OCR or postcode.source is not Source.OCR:
        return
    if not isinstance(town.value, str) or not isinstance(postcode.value, str):
        return
    # The town as shown and as each reader read it: a handwritten zone is shown with PP-OCRv6's reading
    # (``IcrSettings.hand_second_reading_shown``), which must not hide a town tesseract's reading names.
    spellings = [w for w in dict.fromkeys((town.value, town.read_by(Reader.TESSERACT), town.read_by(Reader.PPOCR)))
                 if isinstance(w, str) and w]
    found = [(written, match.town) for written in spellings if (match := closest_town(written, towns)).town is not None
             and match.score >= structure.town_min_score and match.score - match.runner_up >= structure.town_margin]
    if not found or len({named.name for _, named in found}) > 1:
        return  # no spelling names one town beyond doubt, or two spellings name two towns
    written, named = found[0]
    # A value shown from the comb's digits-only decoding (``constrained_digits_shown``) is no reader's confirmed
    # reading: a review (2026-12-06) had it vouched alone against every reader, the town's listed code beside the
    # written one (93200 for 93210).
    shown = "constrained_digits_shown" in postcode.rules
    combs = (None if shown else postcode.value, postcode.model_digits, postcode.read_by(Reader.PPOCR))
    if named.postcode not in combs:
        return  # no reader of the comb (tesseract, the digit model, PP-OCRv6) read the town's code
    letters = [ch for ch in written if ch.isalpha()]
    capitals = bool(letters) and all(ch.isupper() for ch in letters)
    name = named.name.upper() if capitals else named.name
    fields["pupil_town"] = town.model_copy(update={"value": name,
                                                   "confidence": max(town.confidence, structure.vouched_confidence),
                                                   "rules": (*town.rules, "vouch_town")})
    fields["pupil_postcode"] = postcode.model_copy(
        update={"value": named.postcode, "confidence": max(postcode.confidence, structure.vouched_confidence),
                "rules": (*postcode.rules, "vouch_town")})




def impossible_dates(fields: dict[str, ExtractedField], threshold: float, school_year: tuple[int, int],
                     today: date, structure: StructureSettings = DEFAULT_STRUCTURE) -> list[str]:
    """Comb dates read at ``threshold`` or more that cannot be what was written on this form.

    A referral, referrer or family date must be a calendar day inside the school year (1 September to
    31 August) and not after ``today``; a birth date, with one class level ticked confidently, must lie
    within the level's cohort (``pipeline.deciding.validate.expected_birth_years``) widened by
    ``structure.birth_year_slack`` years.

    Returns:
        Names of the impossible dates, in form order.
    """
    start, end = date(school_year[0], 9, 1), min(date(school_year[1], 8, 31), today)
    out: list[str] = []
    for name in SCHOOL_YEAR_DATES:
        day = _confident_date(fields.get(name), threshold)
        if day is not None and not start <= day <= end:
            out.append(name)
    level_field, birth = fields.get("class_level"), _confident_date(fields.get("pupil_birth_date"), threshold)
    if birth is not None and level_field is not None and level_field.confidence >= threshold \
            and isinstance(level_field.value, list) and len(level_field.value) == 1:
        years = expected_birth_years(ClassLevel(level_field.value[0]), school_year[0], DEFAULT_RULES)
        if not years[0] - structure.birth_year_slack <= birth.year <= years[-1] + structure.birth_year_slack:
            out.append("pupil_birth_date")
    return out


def _confident_date(field: ExtractedField | None, threshold: float) -> date | None:
    """The date of a comb read by OCR at ``threshold`` or more; ``date.min`` when it is no calendar day."""
    if field is None or field.source is not Source.OCR or field.confidence < threshold:
        return None
    if not isinstance(field.value, str):
        return None
    try:
        return datetime.strptime(field.value, "%d/%m/%Y").date()
    except ValueError:
        return date.min


def doubt_combs_of_impossible_dates(fields: dict[str, ExtractedField], threshold: float,
                                    school_year: tuple[int, int], today: date,
                                    structure: StructureSettings = DEFAULT_STRUCTURE,
                                    definition: FormDefinition | None = None) -> None:
    """Hold every OCR comb of the form under the review threshold, in place, when one of its dates was read
    confidently but is impossible (:func:`impossible_dates`).

    Comb digits are accepted when tesseract and the digit model agree; on a hand whose digits both misread
    alike (measured: a school cursive's 9 read 3 by both, seed 7 form 12 of ``scan_handwritten``: referral
    date 19/09 read 13/09, a phone's 5 read 9, and the referrer's date 19/09/2026 read 19/03/2026, all at
    0.82-0.88), a date outside the school year is the one visible sign, and the other combs of that hand
    cannot be trusted either.

    Args:
        fields: Field name → extracted field of the assembled form; updated in place.
        threshold: The review threshold.
        school_year: The configured school year, ``(2026, 2027)``.
        today: No date of the form lies after it.
        structure: ``impossible_date_confidence`` and ``birth_year_slack``.
        definition: The form's geometry, which tells combs from other fields; version 1 by default.
    """
    if not impossible_dates(fields, threshold, school_year, today, structure):
        return
    definition = definition or form_v1()
    for name, f in fields.items():
        if f.source is Source.OCR and definition.field(name).is_comb and f.confidence >= threshold:
            fields[name] = f.model_copy(update={"confidence": structure.impossible_date_confidence,
                                                "doubt": Doubt.IMPOSSIBLE_DATE,
                                                "rules": (*f.rules, "impossible_date")})
