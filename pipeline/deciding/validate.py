"""Validate stage: raw form values → a typed ``Referral`` or French field-level issues.

``validate_referral`` runs three small passes over the values, each adding
``ValidationIssue``s rather than raising:

1. *read*: every field of ``form_v1()`` is read by its kind (required check,
   shape, JJ/MM/AAAA dates, French phones → E.164, e-mails, postcode, tick-box
   rules and option codes, people's names as letters only);
2. *cross-field rules*: criteria, family agreements and signatures, school in
   the directory and level taught there, pupil's age for the level, dates in
   the school year, page 2 names agreeing with page 1, guardian 2 complete;
3. *build*: when nothing failed, the pydantic ``Referral`` is built.

Issues never quote the pupil's or guardians' names, address or phone: they go
to the review desk and may end up in logs. This module logs issue codes only.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError

from pipeline.deciding.directory import DEFAULT_MATCH_SETTINGS, MatchStatus, SchoolMatchSettings, fold, match_school
from pipeline.deciding.fields import PERSON_NAME_FIELDS, PERSON_NAME_RE
from pipeline.form.definition import CRITERIA_FIELDS, ChoiceRule, Field, FieldKind, form_v1
from schemas.directory import ClassLevel, Directory
from schemas.extraction import FormValues, RawValue, normalise_text
from schemas.referral import (
    IssueCode,
    Referral,
    ValidationIssue,
    ValidationOutcome,
    is_plausible_email,
    normalise_french_phone,
)

logger = logging.getLogger(__name__)


class ValidationRules(BaseModel):
    """Tunable values of the validation rules.

    Attributes:
        cp_age: Age a child turns, during the calendar year the school year
            starts in, when entering CP. French rule: a child enters CP in
            September of the year of their sixth birthday (Code de l'éducation,
            art. L131-1 sets compulsory schooling by age; the CP cohort is the
            civil year of birth).
        age_tolerance_years: Years a pupil may be older (repeated a year) or
            younger (skipped one) than the cohort of their level. 1, per the
            product brief; newly arrived pupils placed two years below their
            age will be flagged for review, which is intended.
        school_match: Thresholds for matching the written school name.
    """

    model_config = ConfigDict(frozen=True)

    cp_age: int = 6
    age_tolerance_years: int = 1
    school_match: SchoolMatchSettings = DEFAULT_MATCH_SETTINGS
    text_min_char_pt: float = 0.5
    """Least width, in PDF points of its zone, a text value may give each of its characters: twice as many
    characters as the zone's width in points, ten times what it shows at the form's 10 pt (a sans-serif's mean
    advance is about half its size). The fillable PDF's text fields set no MaxLen, and a viewer scrolls a long value,
    so a teacher's long observation is kept (a review, 2026-12-06: 378 characters on the 445 pt zone were refused at
    1.5 pt a character); what it stops is a value no one wrote by hand or typed for this form (an attack sent a
    10,000-letter surname, routed, 2026-12-06)."""


DEFAULT_RULES = ValidationRules()

_DATE_RE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_POSTCODE_RE = re.compile(r"^\d{5}$")
_SCHOOL_YEAR_RE = re.compile(r"^\s*(\d{4})\s*[-/–—_ ]\s*(\d{4}|\d{2})\s*$")

# How staff name each field in messages (Field.label alone is ambiguous: "Nom", "Date").
FIELD_LABELS_FR: dict[str, str] = {
    "school_year": "Année scolaire",
    "referral_date": "Date de l'orientation",
    "referrer_role": "Orienté(e) par",
    "pupil_surname": "Nom de l'élève",
    "pupil_first_name": "Prénom de l'élève",
    "pupil_birth_date": "Date de naissance de l'élève",
    "pupil_sex": "Sexe de l'élève",
    "pupil_address": "Adresse de l'élève",
    "pupil_postcode": "Code postal de l'élève",
    "pupil_town": "Commune de l'élève",
    "school_name": "École ou collège",
    "class_level": "Niveau de classe",
    "class_name": "Classe / enseignant(e)",
    "referrer_email": "Courriel de la personne qui oriente",
    "existing_support": "Aides déjà en place",
    "criteria_method": "Critères – Méthodologie et organisation",
    "criteria_attitude": "Critères – Attitude",
    "criteria_language": "Critères – Langage",
    "criteria_family": "Critères – Environnement familial",
    "criteria_other": "Critère « Autre »",
    "criteria_other_text": "Précision du critère « Autre »",
    "observations": "Observations",
    "p2_pupil_surname": "Nom de l'élève (page 2)",
    "p2_pupil_first_name": "Prénom de l'élève (page 2)",
    "guardian1_surname": "Nom du responsable légal 1",
    "guardian1_first_name": "Prénom du responsable légal 1",
    "guardian1_relationship": "Lien avec l'élève du responsable légal 1",
    "guardian1_phone": "Téléphone du responsable légal 1",
    "guardian1_email": "Courriel du responsable légal 1",
    "guardian2_surname": "Nom du responsable légal 2",
    "guardian2_first_name": "Prénom du responsable légal 2",
    "guardian2_relationship": "Lien avec l'élève du responsable légal 2",
    "guardian2_phone": "Téléphone du responsable légal 2",
    "guardian2_email": "Courriel du responsable légal 2",
    "home_languages": "Langues parlées à la maison",
    "interpreter_needed": "Besoin d'un interprète",
    "agreement_orientation": "Accord de la famille pour l'orientation",
    "agreement_data_sharing": "Accord de la famille pour la transmission des informations",
    "family_date": "Date de signature de la famille",
    "family_signature": "Signature des responsables légaux",
    "referrer_name": "Nom et fonction de la personne qui oriente",
    "referrer_date": "Date de signature de la personne qui oriente",
    "referrer_signature": "Signature ou cachet de l'école",
}


def label_fr(field_name: str) -> str:
    """French name of a form field for staff messages (falls back to the printed label)."""
    if field_name in FIELD_LABELS_FR:
        return FIELD_LABELS_FR[field_name]
    try:
        return form_v1().field(field_name).label or field_name
    except KeyError:
        return field_name


def parse_school_year(text: str) -> tuple[int, int] | None:
    """Parse a school year written ``2026-2027``, ``2026/2027`` or ``2026 - 27``.

    Returns:
        ``(2026, 2027)``, or ``None`` when the text is not two consecutive years.
    """
    m = _SCHOOL_YEAR_RE.match(text)
    if not m:
        return None
    first = int(m[1])
    if len(m[2]) == 2:  # "2026-27": the short form names the following year
        return (first, first + 1) if (first + 1) % 100 == int(m[2]) else None
    return (first, first + 1) if int(m[2]) == first + 1 else None


def parse_form_date(text: str) -> date | None:
    """Parse a ``JJ/MM/AAAA`` date; ``None`` if malformed or not a real day (31/02)."""
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        return datetime.strptime(text.strip(), "%d/%m/%Y").date()
    except ValueError:
        return None


def _fmt(d: date) -> str:
    return d.strftime("%d/%m/%Y")


HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn"})
"""Unicode categories no value of the form holds: controls (NUL, escape, bell…), format characters (the
bidirectional marks, embeddings, overrides and isolates of UAX #9, zero-width spaces and joiners, the soft hyphen,
the word joiner, tag characters, the byte-order mark), private-use and unassigned code points. Each shows a value
other than it is, or not at all."""


def hidden_characters(text: str) -> bool:
    """Whether ``text`` holds a character of :data:`HIDDEN_CATEGORIES`."""
    return any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in text)


@dataclass
class _Reader:
    """Reads raw values field by field, collecting issues instead of raising."""

    values: FormValues
    today: date
    min_char_pt: float = DEFAULT_RULES.text_min_char_pt
    issues: list[ValidationIssue] = field(default_factory=list)

    def add(self, field_name: str, code: IssueCode, message_fr: str) -> None:
        self.issues.append(ValidationIssue(field=field_name, code=code, message_fr=message_fr))

    def _raw(self, name: str) -> RawValue:
        return self.values.get(name)

    def _bad_shape(self, name: str) -> None:
        self.add(name, IssueCode.INVALID_VALUE,
                 f"{label_fr(name)} : valeur illisible ou de forme inattendue ; vérifier la fiche.")

    def _missing(self, f: Field) -> None:
        if f.kind is FieldKind.SIGNATURE:
            self.add(f.name, IssueCode.SIGNATURE_MISSING,
                     f"{label_fr(f.name)} : aucune signature sur la fiche ; la faire signer puis la renvoyer.")
        elif f.kind is FieldKind.FLAG:
            self.add(f.name, IssueCode.AGREEMENT_MISSING,
                     f"{label_fr(f.name)} : case non cochée ; la famille doit cocher « {f.label.rstrip('.')} ».")
        elif f.kind is FieldKind.CHOICE:
            self.add(f.name, IssueCode.REQUIRED, f"{label_fr(f.name)} : cocher une case.")
        else:
            self.add(f.name, IssueCode.REQUIRED, f"{label_fr(f.name)} : champ obligatoire non rempli.")

    def text(self, f: Field) -> str | None:
        raw = self._raw(f.name)
        if raw is not None and not isinstance(raw, str):
            self._bad_shape(f.name)
            return None
        value = normalise_text(raw)
        if value is None and f.required:
            self._missing(f)
        if value is not None and hidden_characters(value):
            # What a fillable PDF or a text layer holds is what someone typed: terminal escapes, NUL (which
            # PostgreSQL's JSON text cannot hold) and bidirectional overrides (which show a street reversed) were
            # routed as values (issue 16's attack, 2026-12-06).
            self.add(f.name, IssueCode.INVALID_VALUE,
                     f"{label_fr(f.name)} : la valeur contient des caractères de commande ou d'inversion du sens "
                     "d'écriture, invisibles à l'écran ; vérifier la fiche.")
            return None
        longest = int((f.rect.x1 - f.rect.x0) / self.min_char_pt)
        if value is not None and len(value) > longest:
            self.add(f.name, IssueCode.INVALID_VALUE,
                     f"{label_fr(f.name)} : texte plus long que ce que la zone de la fiche peut contenir ({longest} "
                     "caractères au plus) ; vérifier la fiche.")
            return None
        if value is not None and f.name in PERSON_NAME_FIELDS and not PERSON_NAME_RE.fullmatch(value):
            # The check the scan reader makes (pipeline.reading.scan.text_rules.person_name_cap), here for every
            # source: a fillable PDF's or a text layer's value is what someone typed, markup included (issue 17).
            self.add(f.name, IssueCode.INVALID_VALUE,
                     f"{label_fr(f.name)} : caractères inattendus pour un nom (seuls les lettres, espaces, traits "
                     "d'union et apostrophes sont permis) ; vérifier la fiche.")
            return None
        return value

    def date(self, f: Field) -> date | None:
        text = self.text(f)
        if text is None:
            return None
        parsed = parse_form_date(text)
        if parsed is None:
            self.add(f.name, IssueCode.INVALID_DATE,
                     f"{label_fr(f.name)} : date impossible ou mal écrite (format attendu JJ/MM/AAAA).")
        elif parsed > self.today:
            self.add(f.name, IssueCode.DATE_IN_FUTURE,
                     f"{label_fr(f.name)} : date postérieure à aujourd'hui ({_fmt(self.today)}) ; vérifier la date.")
            return None
        return parsed

    def phone(self, f: Field) -> str | None:
        text = self.text(f)
        if text is None:
            return None
        e164 = normalise_french_phone(text)
        if e164 is None:
            self.add(f.name, IssueCode.INVALID_PHONE,
                     f"{label_fr(f.name)} : numéro français invalide (10 chiffres attendus, ex. 06 12 34 56 78).")
        return e164

    def email(self, f: Field) -> str | None:
        text = self.text(f)
        if text is None:
            return None
        if " " in text:
            # Only a fillable PDF's value (fields.clean_text_value, typed) or a staff correction keeps a space
            # here; the readers drop theirs. « capucine schmitt@gmail.com » was routed as capucineschmitt@…
            # (an attack, 2026-12-07): the space may have been a dot, a hyphen or nothing, which a person tells.
            self.add(f.name, IssueCode.INVALID_EMAIL,
                     f"{label_fr(f.name)} : l'adresse contient un espace ; vérifier s'il fallait un point, un tiret "
                     "ou rien à cet endroit.")
            return None
        if not is_plausible_email(text):
            self.add(f.name, IssueCode.INVALID_EMAIL,
                     f"{label_fr(f.name)} : adresse incomplète ou mal écrite (forme attendue nom@domaine.fr).")
            return None
        return text

    def postcode(self, f: Field) -> str | None:
        text = self.text(f)
        if text is None:
            return None
        if not _POSTCODE_RE.match(text):
            self.add(f.name, IssueCode.INVALID_POSTCODE, f"{label_fr(f.name)} : 5 chiffres attendus (ex. 95100).")
            return None
        return text

    def choice(self, f: Field) -> list[str]:
        raw = self._raw(f.name)
        if raw is None:
            raw = []
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self._bad_shape(f.name)
            return []
        options = [b.option for b in f.boxes]
        unknown = [x for x in raw if x not in options]
        if unknown:
            self._bad_shape(f.name)
            return []
        ticked = [o for o in options if o in raw]  # form order, duplicates dropped
        if not ticked and f.required:
            self._missing(f)
        elif len(ticked) > 1 and f.rule in (ChoiceRule.EXACTLY_ONE, ChoiceRule.AT_MOST_ONE):
            self.add(f.name, IssueCode.TOO_MANY_CHOICES,
                     f"{label_fr(f.name)} : plusieurs cases cochées alors qu'une seule est permise ; "
                     "faire préciser la bonne case.")
            return []
        return ticked

    def flag(self, f: Field) -> bool:
        raw = self._raw(f.name)
        if raw is None:
            raw = False
        if not isinstance(raw, bool):
            self._bad_shape(f.name)
            return False
        if not raw and f.required:
            self._missing(f)
        return raw


@dataclass(frozen=True)
class FieldValues:
    """Every field's value after pass 1, by kind (``None``/empty where missing or invalid).

    Attributes:
        texts: Text and postcode fields → whitespace-normalised text.
        dates: Date fields → ``date``.
        phones: Phone fields → E.164 string.
        emails: E-mail fields → address without spaces.
        choices: Choice fields → ticked option codes in form order.
        flags: Flags and signatures → ``bool``.
    """

    texts: dict[str, str | None]
    dates: dict[str, date | None]
    phones: dict[str, str | None]
    emails: dict[str, str | None]
    choices: dict[str, list[str]]
    flags: dict[str, bool]


def read_fields(values: FormValues, today: date, rules: ValidationRules = DEFAULT_RULES
                ) -> tuple[FieldValues, list[ValidationIssue]]:
    """Pass 1: read every field of ``form_v1()`` by its kind (``rules.text_min_char_pt`` bounds a text's length).

    Returns:
        The read values and the issues found (required, shape, format).
    """
    reader = _Reader(values, today, rules.text_min_char_pt)
    texts: dict[str, str | None] = {}
    dates: dict[str, date | None] = {}
    phones: dict[str, str | None] = {}
    emails: dict[str, str | None] = {}
    choices: dict[str, list[str]] = {}
    flags: dict[str, bool] = {}
    for f in form_v1().fields:
        if f.kind is FieldKind.TEXT:
            texts[f.name] = reader.text(f)
        elif f.kind is FieldKind.POSTCODE:
            texts[f.name] = reader.postcode(f)
        elif f.kind is FieldKind.DATE:
            dates[f.name] = reader.date(f)
        elif f.kind is FieldKind.PHONE:
            phones[f.name] = reader.phone(f)
        elif f.kind is FieldKind.EMAIL:
            emails[f.name] = reader.email(f)
        elif f.kind is FieldKind.CHOICE:
            choices[f.name] = reader.choice(f)
        else:  # FLAG, SIGNATURE
            flags[f.name] = reader.flag(f)
    return FieldValues(texts, dates, phones, emails, choices, flags), reader.issues


def _issue(field_name: str, code: IssueCode, message_fr: str) -> ValidationIssue:
    return ValidationIssue(field=field_name, code=code, message_fr=message_fr)


def check_criteria(r: FieldValues) -> list[ValidationIssue]:
    """At least one criterion ticked, or "Autre" with its text.

    Text written beside "Autre" without the box ticked counts as the "Autre"
    criterion (the intent is plain). The box ticked without text does not.
    """
    issues: list[ValidationIssue] = []
    other_text = r.texts["criteria_other_text"]
    if r.flags["criteria_other"] and not other_text:
        issues.append(_issue("criteria_other_text", IssueCode.OTHER_CRITERION_TEXT_MISSING,
                             "Critère « Autre » coché sans précision : faire préciser le critère."))
    if not any(r.choices[name] for name in CRITERIA_FIELDS) and not other_text:
        # Reported on the first criteria group, the zone a reviewer looks at first.
        issues.append(_issue("criteria_method", IssueCode.NO_CRITERION,
                             "Aucun critère d'orientation coché : au moins un critère est obligatoire."))
    return issues


def check_school_year(r: FieldValues, configured: tuple[int, int]) -> list[ValidationIssue]:
    """The written school year equals the configured one (``2026/2027`` tolerated)."""
    written = r.texts["school_year"]
    if written is None:
        return []  # already reported as required
    parsed = parse_school_year(written)
    expected = f"{configured[0]}-{configured[1]}"
    if parsed is None:
        return [_issue("school_year", IssueCode.INVALID_VALUE,
                       f"Année scolaire illisible : écrire l'année sous la forme {expected}.")]
    if parsed != configured:
        return [_issue("school_year", IssueCode.SCHOOL_YEAR_MISMATCH,
                       f"Fiche pour l'année scolaire {parsed[0]}-{parsed[1]} alors que les orientations en cours "
                       f"sont pour {expected} : vérifier l'année ou utiliser une fiche de l'année en cours.")]
    return []


SCHOOL_YEAR_DATES = ("referral_date", "referrer_date", "family_date")
"""The dates the form is referred and signed on: inside the school year it is for, and not after it is decided
(:func:`check_referral_date`; ``pipeline.deciding.crosscheck.impossible_dates`` holds combs read so)."""


def check_referral_date(r: FieldValues, configured: tuple[int, int]) -> list[ValidationIssue]:
    """The referral date and both signature dates lie between 1 September and 31 August of the school year.

    The signature dates were not checked: an attack (2026-12-07) approved a form whose family signed on
    15/05/2019, a consent given years before the referral it authorises. The devset's 40 referrals sign inside
    the school year (their truth, checked).
    """
    start, end = date(configured[0], 9, 1), date(configured[1], 8, 31)
    issues = []
    for name in SCHOOL_YEAR_DATES:
        day = r.dates[name]
        if day is not None and not start <= day <= end:
            issues.append(_issue(name, IssueCode.DATE_OUTSIDE_SCHOOL_YEAR,
                                 f"{FIELD_LABELS_FR[name]} hors de l'année scolaire {configured[0]}-{configured[1]} "
                                 f"(du {_fmt(start)} au {_fmt(end)}) : vérifier la date."))
    return issues


def expected_birth_years(level: ClassLevel, first_year: int, rules: ValidationRules) -> range:
    """Birth years accepted for a pupil of ``level`` in the school year starting in ``first_year``.

    A CP pupil turns ``rules.cp_age`` (6) during ``first_year``; each later level
    is one year older; ``rules.age_tolerance_years`` either side.

    Example:
        CM1 in 2026-2027: cohort born in 2026 - 6 - 3 = 2017, accepted 2016-2018.
    """
    cohort = first_year - rules.cp_age - level.years_after_cp
    return range(cohort - rules.age_tolerance_years, cohort + rules.age_tolerance_years + 1)


def check_age(r: FieldValues, level: ClassLevel | None, configured: tuple[int, int],
              rules: ValidationRules) -> list[ValidationIssue]:
    """The pupil's birth year fits the class level (see ``expected_birth_years``)."""
    birth = r.dates["pupil_birth_date"]
    if birth is None or level is None:
        return []
    accepted = expected_birth_years(level, configured[0], rules)
    if birth.year in accepted:
        return []
    return [_issue("pupil_birth_date", IssueCode.AGE_IMPLAUSIBLE,
                   f"Âge incohérent avec le niveau {level.label_fr} : en {configured[0]}-{configured[1]}, un élève "
                   f"de {level.label_fr} est né entre {accepted[0]} et {accepted[-1]}. "
                   "Vérifier la date de naissance ou le niveau coché.")]


@dataclass(frozen=True)
class _SchoolCheck:
    school_id: str | None
    score: float
    issues: list[ValidationIssue]


def check_school(r: FieldValues, level: ClassLevel | None, directory: Directory,
                 rules: ValidationRules) -> _SchoolCheck:
    """The written school matches one directory school that teaches the level."""
    written = r.texts["school_name"]
    if written is None:
        return _SchoolCheck(None, 0.0, [])
    match = match_school(written, directory, rules.school_match)
    if match.school_id is None:
        code = IssueCode.SCHOOL_AMBIGUOUS if match.status is MatchStatus.AMBIGUOUS else IssueCode.SCHOOL_UNKNOWN
        # The school's name is not personal data: quoting it helps the reviewer.
        message = f"« {written} » : {match.reason_fr or 'établissement non reconnu.'}"
        return _SchoolCheck(None, match.score, [_issue("school_name", code, message)])
    school = directory.school(match.school_id)
    if level is not None and not school.offers(level):
        return _SchoolCheck(match.school_id, match.score, [_issue(
            "class_level", IssueCode.LEVEL_NOT_OFFERED,
            f"Le niveau {level.label_fr} n'existe pas à l'établissement « {school.name} » : "
            "vérifier le niveau coché ou le nom de l'établissement.")])
    return _SchoolCheck(match.school_id, match.score, [])


def check_page2_names(r: FieldValues) -> list[ValidationIssue]:
    """Pupil names repeated on page 2, when present, agree with page 1 (accents and case ignored)."""
    issues: list[ValidationIssue] = []
    for p2, p1, what in (("p2_pupil_surname", "pupil_surname", "Le nom"),
                         ("p2_pupil_first_name", "pupil_first_name", "Le prénom")):
        second, first = r.texts[p2], r.texts[p1]
        if second and first and fold(second) != fold(first):
            issues.append(_issue(p2, IssueCode.NAME_MISMATCH,
                                 f"{what} de l'élève en page 2 ne correspond pas à la page 1 : vérifier que les "
                                 "deux pages appartiennent à la même fiche."))
    return issues


_GUARDIAN2_FIELDS = ("guardian2_surname", "guardian2_first_name", "guardian2_relationship",
                     "guardian2_phone", "guardian2_email")


def guardian2_present(values: FormValues) -> bool:
    """Whether any guardian 2 field holds something (read from raw values)."""
    for name in _GUARDIAN2_FIELDS:
        raw = values.get(name)
        if (isinstance(raw, str) and raw.strip()) or (isinstance(raw, list) and raw):
            return True
    return False


def check_guardian2(values: FormValues, already_failed: set[str]) -> list[ValidationIssue]:
    """Guardian 2 is optional, but once started it needs a surname and a valid phone."""
    if not guardian2_present(values):
        return []
    issues: list[ValidationIssue] = []
    for name, what in (("guardian2_surname", "son nom"), ("guardian2_phone", "son téléphone")):
        if name in already_failed:
            continue
        raw = values.get(name)
        if not (isinstance(raw, str) and raw.strip()):
            issues.append(_issue(name, IssueCode.GUARDIAN_INCOMPLETE,
                                 f"Responsable légal 2 partiellement rempli : indiquer {what} "
                                 "ou laisser tout le bloc vide."))
    return issues


def _sort_in_form_order(issues: Iterable[ValidationIssue]) -> tuple[ValidationIssue, ...]:
    order = {f.name: i for i, f in enumerate(form_v1().fields)}
    return tuple(sorted(issues, key=lambda i: order.get(i.field, len(order))))


def _first(choices: list[str]) -> str | None:
    return choices[0] if choices else None


def build_referral(r: FieldValues, configured: tuple[int, int], school_id: str, score: float) -> Referral:
    """Pass 3: build the typed referral from values that passed every check.

    The model re-checks every value (types, E.164 phones, agreements), so a
    value that slipped past the checks is caught rather than stored.

    Raises:
        pydantic.ValidationError: A value slipped through the checks (a bug).
    """
    t, d, c, fl = r.texts, r.dates, r.choices, r.flags
    guardians: list[dict[str, object]] = []
    for n in (1, 2):
        if r.phones[f"guardian{n}_phone"] is None:
            continue  # guardian 2 left blank (guardian 1's phone is required)
        guardians.append({
            "surname": t[f"guardian{n}_surname"], "first_name": t[f"guardian{n}_first_name"],
            "relationship": _first(c[f"guardian{n}_relationship"]), "phone": r.phones[f"guardian{n}_phone"],
            "email": r.emails[f"guardian{n}_email"],
        })
    interpreter = _first(c["interpreter_needed"])
    return Referral.model_validate({
        "school_year": f"{configured[0]}-{configured[1]}",
        "referral_date": d["referral_date"],
        "referrer": {"role": _first(c["referrer_role"]), "name": t["referrer_name"],
                     "email": r.emails["referrer_email"], "class_name": t["class_name"],
                     "signed_on": d["referrer_date"], "signed": fl["referrer_signature"]},
        "pupil": {"surname": t["pupil_surname"], "first_name": t["pupil_first_name"],
                  "birth_date": d["pupil_birth_date"], "sex": _first(c["pupil_sex"]),
                  "address": t["pupil_address"], "postcode": t["pupil_postcode"], "town": t["pupil_town"]},
        "school_id": school_id,
        "school_name_written": t["school_name"],
        "school_match_score": score,
        "class_level": _first(c["class_level"]),
        "existing_support": c["existing_support"],
        "criteria": [x for name in CRITERIA_FIELDS for x in c[name]],
        "criteria_other_text": t["criteria_other_text"],
        "observations": t["observations"],
        "guardians": guardians,
        "home_languages": t["home_languages"],
        "interpreter_needed": None if interpreter is None else interpreter == "oui",
        "agreements": {"orientation": fl["agreement_orientation"], "data_sharing": fl["agreement_data_sharing"],
                       "signed": fl["family_signature"], "signed_on": d["family_date"]},
    })


def validate_referral(values: FormValues, directory: Directory, school_year: str, *,
                      today: date | None = None, rules: ValidationRules = DEFAULT_RULES) -> ValidationOutcome:
    """Turn raw form values into a validated referral, or say field by field why not.

    Args:
        values: Field name → raw value, shaped as ``schemas.extraction`` describes
            (missing keys count as empty; unknown keys are ignored).
        directory: Schools matched against ``school_name``.
        school_year: The configured year, ``"2026-2027"`` (``Settings.school_year``).
        today: Reference day for "date in the future"; defaults to ``date.today()``.
        rules: Age and school-matching thresholds (see ``ValidationRules``).

    Returns:
        ``ValidationOutcome`` with ``referral`` set and no issues, or with
        ``referral`` ``None`` and every issue found, in form order. Bad data
        never raises.

    Raises:
        ValueError: ``school_year`` itself is not ``AAAA-AAAA`` with consecutive
            years (a configuration error, not bad data).
    """
    configured = parse_school_year(school_year)
    if configured is None:
        raise ValueError(f"configured school year {school_year!r} is not like 2026-2027; fix CLAS_SCHOOL_YEAR")
    today = today or date.today()

    read, issues = read_fields(values, today, rules)
    failed = {i.field for i in issues}
    level_codes = read.choices["class_level"]
    level = ClassLevel(level_codes[0]) if len(level_codes) == 1 else None

    school = check_school(read, level, directory, rules)
    issues += check_criteria(read)
    issues += check_school_year(read, configured)
    issues += check_referral_date(read, configured)
    issues += check_age(read, level, configured, rules)
    issues += school.issues
    issues += check_page2_names(read)
    issues += check_guardian2(values, failed)

    if issues:
        logger.info("referral invalid: %d issue(s): %s", len(issues),
                    ", ".join(sorted({f"{i.field}:{i.code.value}" for i in issues})))
        return ValidationOutcome(issues=_sort_in_form_order(issues))
    if school.school_id is None:  # unreachable: a missing school is an issue above
        raise RuntimeError("school check passed without a school id")
    try:
        referral = build_referral(read, configured, school.school_id, school.score)
    except ValidationError as exc:
        # A value passed the checks but not the model: a bug here, reported without input values.
        locations = ["/".join(str(p) for p in err["loc"]) for err in exc.errors()]
        logger.error("referral model rejected checked values at %s", locations)
        return ValidationOutcome(issues=(_issue("school_year", IssueCode.INVALID_VALUE,
                                                "Fiche incohérente après contrôle : la transmettre à l'équipe "
                                                "technique pour vérification."),))
    logger.info("referral valid: school=%s level=%s", referral.school_id, referral.class_level.value)
    return ValidationOutcome(referral=referral)
