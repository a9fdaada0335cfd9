"""Decide one assembled form: routed, waiting list or review, with field-level reasons.

:func:`decide_form` assembles a form's pages (``pipeline.deciding.assemble``), cross-checks and
validates it against the orientation criteria (``pipeline.deciding.crosscheck``,
``pipeline.deciding.validate``) and routes it (``pipeline.deciding.route``). What is doubtful
or invalid goes to review with its reasons; only a valid, confidently read form is routed.
"""


from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.deciding.assemble import assemble_form
from pipeline.deciding.crosscheck import cross_check, hold_handwritten_form
from pipeline.deciding.fields import fold_person_name
from pipeline.deciding.route import route_referral
from pipeline.deciding.towns import load_towns
from pipeline.deciding.validate import label_fr, parse_school_year, validate_referral
from pipeline.form.definition import PAGE_COUNT, FormDefinition, form_v1
from pipeline.privacy.keys import pupil_hash_key
from pipeline.reading.document import Reason
from pipeline.reading.pages import PageResult
from pipeline.reading.rules import cause_fr, cause_rule
from pipeline.settings import OcrSettings, Settings
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import Doubt, ExtractedForm, Source
from schemas.referral import IssueCode, Referral

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """Where a document goes and why.

    Attributes:
        outcome: Routed, waiting list, review or quarantined (duplicates are decided before).
        reasons: Why, when not routed (the waiting list's reason included).
        form: The extracted form, when the document was identified.
        referral: The validated referral, when validation passed.
        carrier_id: The carrier chosen, when routed.
        pupil_key: Keyed hash of the pupil's identity (for the duplicate check; not reversible).
    """

    outcome: Outcome
    reasons: tuple[Reason, ...] = ()
    form: ExtractedForm | None = None
    referral: Referral | None = None
    carrier_id: str | None = None
    pupil_key: str | None = None

    @property
    def min_confidence(self) -> float:
        """Lowest field confidence of the form (1.0 when there is no form)."""
        if self.form is None or not self.form.fields:
            return 1.0
        return min(f.confidence for f in self.form.fields.values())


def pupil_key(surname: str, first_name: str, birth_date: date, secret: str) -> str:
    """Keyed hash (HMAC-SHA-256, hex) of a pupil's folded name and birth date.

    Used to find the same pupil referred twice in a school year without storing
    a searchable name index; the key is the product's secret.
    """
    message = f"{fold_person_name(surname)}|{fold_person_name(first_name)}|{birth_date.isoformat()}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


DOUBT_REASONS_FR: dict[Doubt, str] = {
    Doubt.HANDWRITTEN: "écrit à la main, à lire sur l'image et à saisir.",
    Doubt.HANDWRITTEN_FORM: "fiche remplie à la main, à lire sur l'image et à saisir.",
    Doubt.FOREIGN_INK: "un tampon, une signature ou un trait couvre la zone, à lire sur l'image.",
    Doubt.LOW_RESOLUTION: "fiche reçue en trop basse résolution (fax), à lire sur l'image.",
    Doubt.REPEAT_CONFLICT: "le nom n'est pas lu pareil en page 1 et en page 2, choisir la bonne orthographe.",
    Doubt.NAME_CONFLICT: "un autre champ (adresse e-mail, ligne de classe, nom d'un parent) écrit ce nom "
                         "un peu autrement, choisir la bonne orthographe.",
    Doubt.IMPOSSIBLE_DATE: "une date lue sur la fiche est impossible, vérifier toutes les cases de chiffres.",
    Doubt.CHECKBOX_CONFLICT: "dans le PDF, la case affichée et la valeur enregistrée ne concordent pas, "
                             "vérifier quelle case l'école a cochée.",
    Doubt.XFA_CONFLICT: "le PDF contient deux jeux de valeurs (AcroForm et XFA) qui ne concordent pas, "
                        "vérifier la valeur sur la fiche.",
    Doubt.LABEL_TEXT: "la zone contient un texte imprimé de la fiche (page décalée), à lire sur l'image.",
    Doubt.COMB_SHAPE: "valeur tapée dans un format inattendu pour ce champ (chiffre manquant ou en trop, lettre, "
                      "séparateur), vérifier les chiffres.",
    Doubt.UNREADABLE_VALUE: "valeur du formulaire PDF illisible, à lire sur la fiche.",
    Doubt.FORM_CODE_UNREAD: "page reconnue à sa mise en page, mais ni son code QR ni son numéro imprimé ne "
                            "sont lisibles : vérifier sur l'image de quelle fiche et de quelle page il s'agit, "
                            "puis la valeur.",
}


"""What staff are told to look for, per cause of doubt (see :class:`schemas.extraction.Doubt`)."""


VALIDATOR_TELLS = frozenset({"tick_rule_broken"})
"""Reader holds whose reason the validator gives more precisely (``plusieurs cases cochées alors qu'une seule est
permise``, ``champ obligatoire non rempli``): a field held by one of them alone is listed once, by the validator."""


def confidence_reasons(form: ExtractedForm, threshold: float) -> list[Reason]:
    """Fields read with a confidence under ``threshold`` (0-1), as review reasons saying why in French: the
    field's cause of doubt, else its last cap or hold (:func:`pipeline.reading.rules.cause_fr`), else its
    confidence; a field whose last hold the validator tells (:data:`VALIDATOR_TELLS`) is left to it. Each field
    is named by its full French name (:func:`label_fr`): the printed labels repeat (« Prénom », « Courriel »,
    « Téléphone portable » are the pupil's, a guardian's or the referrer's)."""
    reasons = []
    for name, f in form.fields.items():
        if f.source is not Source.NONE and f.confidence < threshold and (
                f.doubt is not None or cause_rule(f.rules) not in VALIDATOR_TELLS):
            label = label_fr(name)
            why = DOUBT_REASONS_FR.get(f.doubt) if f.doubt else None
            why = why or cause_fr(f.rules) or f"lecture incertaine ({f.confidence:.0%}), à vérifier."
            reasons.append(Reason("low_confidence", f"« {label} » : {why}", name))
    return reasons


SHAPE_ISSUES = frozenset({IssueCode.INVALID_VALUE, IssueCode.INVALID_DATE, IssueCode.INVALID_PHONE,
                          IssueCode.INVALID_EMAIL, IssueCode.INVALID_POSTCODE})
"""Validation issues that say a value has the wrong shape (characters a name does not hold, a date, phone, postcode
or address that does not parse)."""
READER_SHAPE_CAPS = frozenset({"person_name_cap", "validator_cap"})
"""The scan reader's caps that run the validator's own shape checks on what was read
(``pipeline.reading.scan.text_rules``): a field they hold already has its reason, and the validator's
complaint about the same value said it a second time on the desk."""


def said_by_the_reader(field: str | None, code: str, form: ExtractedForm, threshold: float) -> bool:
    """Whether a validation issue only repeats why the reader already holds the field.

    True when ``code`` is a shape issue (:data:`SHAPE_ISSUES`) and the field's confidence is under ``threshold``
    (0-1) for one of :data:`READER_SHAPE_CAPS`, with no other cause of doubt: the desk lists the field once, with
    the reader's reason (:func:`confidence_reasons`). Other issues (a date in the future, an unknown school) still
    come from the validator.
    """
    f = form.fields.get(field) if field is not None else None
    return (f is not None and code in SHAPE_ISSUES and f.confidence < threshold and f.doubt is None
            and cause_rule(f.rules) in READER_SHAPE_CAPS)


def missing_page_reasons(form: ExtractedForm) -> list[Reason]:
    """One reason per page of the form that was not received."""
    return [Reason("missing_page", f"Page {p} de la fiche manquante : demander à l'école de l'envoyer.")
            for p in range(1, PAGE_COUNT + 1) if p not in form.pages_found]


def unreceived_fields(form: ExtractedForm, definition: FormDefinition) -> frozenset[str]:
    """Names of the fields on pages of ``form`` that were not received: their emptiness is the missing page's
    reason (:func:`missing_page_reasons`), not one « champ obligatoire non rempli » per field for staff to read."""
    return frozenset(f.name for f in definition.fields if f.page not in form.pages_found)


def name_accent_lost(name: str, ocr: OcrSettings) -> bool:
    """Whether a name read without accents may have lost one: a word of it that the French dictionary spells only
    accented (``RIVIERE``: *rivière*), or a given name the lexicon knows only accented (``ANDRE``: *André*).

    The dictionary and the lexicon are loaded on first use (0.35 s and 0.1-0.2 s, once per process), so a run with
    no handwritten surname to vouch for does not pay for them (its only caller is
    :func:`~pipeline.deciding.crosscheck.vouch_surname_by_email`).

    Raises:
        pipeline.reading.lexicon.LexiconMissingError: Either is not installed (``make system`` installs both).
    """
    from pipeline.reading.french_words import french_words
    from pipeline.reading.lexicon import first_names

    words = french_words(ocr.french_words_file)
    return first_names(ocr.first_names_file).lacks_an_accent(name) or any(
        words.spells_only_accented(w) for w in re.split(r"[\s'’-]+", name) if w)


def decide_form(
    pages: Sequence[PageResult],
    settings: Settings,
    directory: Directory,
    places_used: Mapping[str, int],
    earlier_referral: Callable[[str, str], str | None],
    definition: FormDefinition | None = None,
) -> Decision:
    """Decide where one form goes, from its pages (possibly from several documents).

    Args:
        pages: The identified pages of one form serial, in any order.
        settings: Product settings.
        directory: Schools and carriers.
        places_used: Carrier id → referrals already routed to it.
        earlier_referral: ``(pupil_key, school_year)`` → form serial of an earlier
            referral of the same pupil this school year, or ``None``.
        definition: Form geometry; version 1 by default.

    Returns:
        Routed (valid and confidently read, carrier with places), waiting list
        (valid, no carrier or no place), or review (doubtful or invalid), with reasons.
    """
    form = hold_handwritten_form(assemble_form(pages, definition), settings.ocr.icr.handwritten_text_confidence,
                                 definition)
    form = cross_check(form, settings.ocr.text_confidence_min, directory, load_towns(), settings.structure,
                       school_year=parse_school_year(settings.school_year), definition=definition,
                       accent_lost=lambda name: name_accent_lost(name, settings.ocr))
    reasons = missing_page_reasons(form)
    reasons += confidence_reasons(form, settings.ocr.text_confidence_min)
    validation = validate_referral(form.values(), directory, settings.school_year)
    if validation.referral is None:
        unread = unreceived_fields(form, definition or form_v1())
        threshold = settings.ocr.text_confidence_min
        reasons += [Reason(str(i.code), i.message_fr, i.field) for i in validation.issues
                    if i.field not in unread and not said_by_the_reader(i.field, i.code, form, threshold)]
        return Decision(Outcome.REVIEW, tuple(reasons), form)
    referral = validation.referral
    key = pupil_key(referral.pupil.surname, referral.pupil.first_name, referral.pupil.birth_date,
                    pupil_hash_key(settings))
    earlier = earlier_referral(key, referral.school_year)
    if earlier is not None:
        reasons.append(Reason("pupil_already_referred",
                              f"Élève déjà orienté(e) cette année (fiche {earlier}) : vérifier s'il s'agit "
                              "d'un doublon avant de l'orienter à nouveau."))
    if reasons:
        return Decision(Outcome.REVIEW, tuple(reasons), form, referral, pupil_key=key)
    route = route_referral(referral, directory, places_used)
    if route.carrier_id is None:
        return Decision(Outcome.WAITING_LIST, (Reason("waiting_list", route.reason_fr),), form, referral,
                        pupil_key=key)
    return Decision(Outcome.ROUTED, (), form, referral, route.carrier_id, pupil_key=key)
