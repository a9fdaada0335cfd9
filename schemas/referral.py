"""The referral as validated and as routed, and the outcomes of those two stages.

Raw form values (``schemas.extraction.FormValues``) become a ``Referral`` only
through ``pipeline.deciding.validate.validate_referral``, which either builds one or
lists ``ValidationIssue``s in French for staff. A ``Referral`` is fully typed:
dates are ``date``, phones are E.164 (``+33612345678``), the school is a
directory id and the level a ``ClassLevel``. The models repeat the invariants
that validation checks (agreements ticked, signatures present, at least one
criterion) so that no other code path can build an unconsented referral.

Routing (``pipeline.deciding.route.route_referral``) adds a ``RouteDecision``; the pair
is a ``RoutedReferral``.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

import phonenumbers
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from schemas.directory import ClassLevel

EMAIL_PATTERN = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                           r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
"""A plausible address: one ``@``, no spaces, a dotted domain ending in 2+ letters.

Deliberately looser than RFC 5322 (no quoted local parts, no IP literals): a form
address is checked for typos a reader or a hand made, not for deliverability.
"""


def normalise_french_phone(raw: str) -> str | None:
    """Return a French phone number in E.164 form, or ``None`` if it is not one.

    Args:
        raw: The number as read, e.g. ``"0612345678"``, ``"06 12 34 56 78"`` or
            ``"+33 6 12 34 56 78"``.

    Returns:
        ``"+33612345678"``; ``None`` when the text does not parse or is not a
        valid number of metropolitan France (country code 33) per libphonenumber.
    """
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 33 or not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_french_mobile(raw: str) -> bool:
    """Whether ``raw`` (``"0612345678"``) is a French mobile number: ``06`` or ``07`` as the national numbering
    plan assigns them (ARCEP; ``07`` from 073 on), per libphonenumber's number type."""
    try:
        number = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        return False
    return number.country_code == 33 and phonenumbers.number_type(number) is phonenumbers.PhoneNumberType.MOBILE


def is_plausible_email(text: str) -> bool:
    """Whether ``text`` looks like an e-mail address (see ``EMAIL_PATTERN``)."""
    return EMAIL_PATTERN.match(text) is not None


def _e164(value: str) -> str:
    normalised = normalise_french_phone(value)
    if normalised is None:
        raise ValueError("not a valid French phone number")
    return normalised


def _email(value: str) -> str:
    if not is_plausible_email(value):
        raise ValueError("not a plausible e-mail address")
    return value


FrenchPhone = Annotated[str, AfterValidator(_e164)]
"""A French phone number, stored as E.164 (``+33612345678``)."""
Email = Annotated[str, AfterValidator(_email)]
"""A plausible e-mail address."""


class ReferrerRole(StrEnum):
    """Who referred the pupil (option codes of ``referrer_role``)."""

    TEACHER = "enseignant"
    OTHER_PROFESSIONAL = "autre_pro"
    FAMILY = "famille"


class Sex(StrEnum):
    """Optional sex of the pupil (option codes of ``pupil_sex``)."""

    F = "F"
    M = "M"


class Relationship(StrEnum):
    """Guardian's relationship to the pupil (option codes of ``guardianN_relationship``)."""

    MOTHER = "mere"
    FATHER = "pere"
    GUARDIAN = "tuteur"


class ExistingSupport(StrEnum):
    """Support already in place (option codes of ``existing_support``)."""

    APC = "APC"
    RASED = "RASED"
    PPRE = "PPRE"
    PRE = "PRE"
    NONE = "aucun"


class Criterion(StrEnum):
    """Referral criteria: the option codes of the four ``criteria_*`` groups."""

    # Méthodologie et organisation
    METHOD = "methode"
    ORGANISATION = "organisation"
    INSTRUCTIONS = "consignes"
    MEMORISATION = "memorisation"
    HOMEWORK = "devoirs"
    # Attitude
    AUTONOMY = "autonomie"
    CONFIDENCE = "confiance"
    MOTIVATION = "motivation"
    ATTENTION = "attention"
    # Langage
    READING_WRITING = "lecture_ecriture"
    ORAL = "oral"
    NEWLY_ARRIVED = "allophone"
    # Environnement familial
    NO_HELP_AT_HOME = "aide_maison"
    PARENTS_FRENCH = "parents_francais"
    PARENTS_DISTANT = "parents_eloignes"
    HOME_CONDITIONS = "conditions"


_Text = Annotated[str, Field(min_length=1)]


class Pupil(BaseModel):
    """The pupil, from page 1.

    Attributes:
        surname: Family name as written (whitespace normalised).
        first_name: First name as written.
        birth_date: Date of birth.
        sex: ``F``, ``M`` or not given.
        address: Street address.
        postcode: Five digits.
        town: Town.
    """

    model_config = ConfigDict(frozen=True)

    surname: _Text
    first_name: _Text
    birth_date: date
    sex: Sex | None = None
    address: _Text
    postcode: str = Field(pattern=r"^\d{5}$")
    town: _Text


class Guardian(BaseModel):
    """A legal guardian (responsable légal), from page 2.

    Attributes:
        surname: Family name.
        first_name: First name; may be missing for guardian 2.
        relationship: Mother, father or guardian; required for guardian 1.
        phone: E.164 French number, e.g. ``"+33612345678"``.
        email: Optional e-mail address.
    """

    model_config = ConfigDict(frozen=True)

    surname: _Text
    first_name: str | None = None
    relationship: Relationship | None = None
    phone: FrenchPhone
    email: Email | None = None


class Referrer(BaseModel):
    """The person who refers the pupil.

    Attributes:
        role: Teacher, other professional or family.
        name: Name and position as written ("Nom et fonction").
        email: Contact address (``referrer_email``).
        class_name: Class or teacher as written (``class_name``).
        signed_on: Date beside the referrer's signature.
        signed: Signature or school stamp present (always ``True``).
    """

    model_config = ConfigDict(frozen=True)

    role: ReferrerRole
    name: _Text
    email: Email
    class_name: _Text
    signed_on: date
    signed: Literal[True]


class FamilyAgreements(BaseModel):
    """The family's consent block; a referral cannot exist without it.

    Attributes:
        orientation: "J'accepte l'orientation…" ticked (always ``True``).
        data_sharing: "J'accepte que ces informations soient transmises…" ticked (always ``True``).
        signed: Guardian signature present (always ``True``).
        signed_on: Date beside the family's signature.
    """

    model_config = ConfigDict(frozen=True)

    orientation: Literal[True]
    data_sharing: Literal[True]
    signed: Literal[True]
    signed_on: date


class Referral(BaseModel):
    """A referral as validated: every value typed, checked and normalised.

    Attributes:
        school_year: Configured school year, ``"2026-2027"``.
        referral_date: Date of the referral, inside the school year.
        referrer: Who refers, with signature.
        pupil: The pupil.
        school_id: Directory id of the school, e.g. ``"ee-jules-ferry"``.
        school_name_written: School name as written on the form (for review).
        school_match_score: rapidfuzz score (0-100) of the school match.
        class_level: The single class level ticked.
        existing_support: Support already in place.
        criteria: Ticked criteria codes, in form order.
        criteria_other_text: The "Autre" criterion's text, if any.
        observations: Free observations.
        guardians: Guardian 1, then guardian 2 if given.
        home_languages: Languages spoken at home, as written (in lower case when decoded from a hand against the
            CLDR names: ``pipeline.reading.scan.constrained.CASELESS_RULES``).
        interpreter_needed: ``True``/``False`` if ticked, else ``None``.
        agreements: The family's consent block.
    """

    model_config = ConfigDict(frozen=True)

    school_year: str = Field(pattern=r"^\d{4}-\d{4}$")
    referral_date: date
    referrer: Referrer
    pupil: Pupil
    school_id: str
    school_name_written: str
    school_match_score: float = Field(ge=0, le=100)
    class_level: ClassLevel
    existing_support: tuple[ExistingSupport, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    criteria_other_text: str | None = None
    observations: str | None = None
    guardians: tuple[Guardian, ...] = Field(min_length=1, max_length=2)
    home_languages: str | None = None
    interpreter_needed: bool | None = None
    agreements: FamilyAgreements

    @model_validator(mode="after")
    def _has_criterion(self) -> Referral:
        if not self.criteria and not self.criteria_other_text:
            raise ValueError("a referral needs at least one criterion")
        if self.guardians[0].relationship is None:
            raise ValueError("guardian 1 needs a relationship")
        return self


class IssueCode(StrEnum):
    """Why a field failed validation (stable codes for tests, statistics and the review desk)."""

    REQUIRED = "required"
    INVALID_VALUE = "invalid_value"  # wrong shape or unknown option code
    TOO_MANY_CHOICES = "too_many_choices"
    INVALID_DATE = "invalid_date"
    DATE_IN_FUTURE = "date_in_future"
    DATE_OUTSIDE_SCHOOL_YEAR = "date_outside_school_year"
    INVALID_PHONE = "invalid_phone"
    INVALID_EMAIL = "invalid_email"
    INVALID_POSTCODE = "invalid_postcode"
    NO_CRITERION = "no_criterion"
    OTHER_CRITERION_TEXT_MISSING = "other_criterion_text_missing"
    AGREEMENT_MISSING = "agreement_missing"
    SIGNATURE_MISSING = "signature_missing"
    AGE_IMPLAUSIBLE = "age_implausible"
    SCHOOL_UNKNOWN = "school_unknown"
    SCHOOL_AMBIGUOUS = "school_ambiguous"
    LEVEL_NOT_OFFERED = "level_not_offered"
    SCHOOL_YEAR_MISMATCH = "school_year_mismatch"
    NAME_MISMATCH = "name_mismatch"
    GUARDIAN_INCOMPLETE = "guardian_incomplete"


class ValidationIssue(BaseModel):
    """One reason a form is not a valid referral.

    Attributes:
        field: Form field name (``form_v1()`` names), e.g. ``"guardian1_phone"``.
        code: Stable machine code.
        message_fr: What is wrong and what to do, in French for staff. Never
            contains the pupil's or guardians' names, address or phone.
    """

    model_config = ConfigDict(frozen=True)

    field: str
    code: IssueCode
    message_fr: str


class ValidationOutcome(BaseModel):
    """Result of validation: a referral, or the issues that prevent one.

    Exactly one of the two is set: ``referral`` with no issues, or ``referral``
    ``None`` with at least one issue.

    Attributes:
        referral: The validated referral when every rule passed.
        issues: Field-level reasons, in form order.
    """

    model_config = ConfigDict(frozen=True)

    referral: Referral | None = None
    issues: tuple[ValidationIssue, ...] = ()

    @model_validator(mode="after")
    def _either(self) -> ValidationOutcome:
        if (self.referral is None) == (not self.issues):
            raise ValueError("a validation outcome holds either a referral or issues, not both or neither")
        return self

    @property
    def is_valid(self) -> bool:
        """Whether a referral was built."""
        return self.referral is not None

    def issues_for(self, field: str) -> tuple[ValidationIssue, ...]:
        """Issues reported on ``field``."""
        return tuple(i for i in self.issues if i.field == field)


class RouteOutcome(StrEnum):
    """Where routing sent a referral."""

    ROUTED = "routed"
    WAITING_LIST = "waiting_list"


class RouteDecision(BaseModel):
    """Routing's decision for one referral.

    Attributes:
        outcome: Routed to a carrier, or waiting list.
        carrier_id: The chosen carrier's id when routed, else ``None``.
        reason_fr: Why, in French for staff (carrier name, or why none fits).
        candidates: Ids of carriers that serve the school and take the level, in
            preference order, including those with no place left.
    """

    model_config = ConfigDict(frozen=True)

    outcome: RouteOutcome
    carrier_id: str | None = None
    reason_fr: str
    candidates: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _carrier_iff_routed(self) -> RouteDecision:
        if (self.outcome is RouteOutcome.ROUTED) != (self.carrier_id is not None):
            raise ValueError("a routed decision names a carrier; a waiting-list decision does not")
        return self


class RoutedReferral(BaseModel):
    """A referral with its routing decision (as routed).

    Attributes:
        referral: The validated referral.
        decision: Where it was sent.
    """

    model_config = ConfigDict(frozen=True)

    referral: Referral
    decision: RouteDecision
