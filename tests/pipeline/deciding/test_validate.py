"""Tests of pipeline.deciding.validate: a valid referral passes; each rule has a failing case."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.deciding.directory import load_directory
from pipeline.deciding.validate import DEFAULT_RULES, expected_birth_years, parse_school_year, validate_referral
from pipeline.form.definition import CLASS_LEVELS, CRITERIA_GROUPS, RELATIONSHIPS, form_v1
from pipeline.settings import PACKAGE_DIR
from schemas.directory import ClassLevel, Directory
from schemas.extraction import FormValues
from schemas.referral import Criterion, Relationship, ValidationOutcome

SCHOOL_YEAR = "2026-2027"
TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def directory() -> Directory:
    return load_directory(PACKAGE_DIR / "config" / "directory.toml")


def valid_values(**overrides: object) -> FormValues:
    """A complete, valid fiche for a CM1 pupil at EE Jules Ferry (every field of form_v1())."""
    values: FormValues = {
        "school_year": "2026-2027",
        "referral_date": "02/10/2026",
        "referrer_role": ["enseignant"],
        "pupil_surname": "Benali",
        "pupil_first_name": "Inès",
        "pupil_birth_date": "14/03/2017",
        "pupil_sex": ["F"],
        "pupil_address": "12 rue de l'Exemple",
        "pupil_postcode": "95100",
        "pupil_town": "Argenteuil",
        "school_name": "EE Jules Ferry",
        "class_level": ["CM1"],
        "class_name": "CM1 B – Mme Martin",
        "referrer_email": "enseignant.cm1b@ac-versailles.example",
        "existing_support": ["APC"],
        "criteria_method": ["methode", "devoirs"],
        "criteria_attitude": [],
        "criteria_language": ["lecture_ecriture"],
        "criteria_family": [],
        "criteria_other": False,
        "criteria_other_text": None,
        "observations": "Élève volontaire, besoin d'un cadre pour les devoirs.",
        "p2_pupil_surname": "BENALI",
        "p2_pupil_first_name": "Ines",
        "guardian1_surname": "Benali",
        "guardian1_first_name": "Samira",
        "guardian1_relationship": ["mere"],
        "guardian1_phone": "0612345678",
        "guardian1_email": "s.benali@mail.example",
        "guardian2_surname": None,
        "guardian2_first_name": None,
        "guardian2_relationship": [],
        "guardian2_phone": None,
        "guardian2_email": None,
        "home_languages": "Français, arabe",
        "interpreter_needed": ["non"],
        "agreement_orientation": True,
        "agreement_data_sharing": True,
        "family_date": "05/10/2026",
        "family_signature": True,
        "referrer_name": "Mme Martin, professeure des écoles",
        "referrer_date": "02/10/2026",
        "referrer_signature": True,
    }
    values.update(overrides)  # type: ignore[arg-type]
    return values


def validate(directory: Directory, **overrides: object) -> ValidationOutcome:
    return validate_referral(valid_values(**overrides), directory, SCHOOL_YEAR, today=TODAY)


def codes(outcome: ValidationOutcome) -> set[tuple[str, str]]:
    return {(i.field, i.code.value) for i in outcome.issues}


def test_helper_covers_every_form_field() -> None:
    assert set(valid_values()) == {f.name for f in form_v1().fields}


def test_enums_match_form_option_codes() -> None:
    assert [lv.value for lv in ClassLevel] == [code for code, _ in CLASS_LEVELS]
    assert [c.value for c in Criterion] == [code for _, opts in CRITERIA_GROUPS for code, _ in opts]
    assert [r.value for r in Relationship] == [code for code, _ in RELATIONSHIPS]


def test_valid_referral_passes_with_normalised_values(directory: Directory) -> None:
    outcome = validate(directory)
    assert outcome.issues == ()
    assert outcome.is_valid
    referral = outcome.referral
    assert referral is not None
    assert referral.school_id == "ee-jules-ferry"
    assert referral.class_level is ClassLevel.CM1
    assert referral.guardians[0].phone == "+33612345678"
    assert referral.guardians[0].relationship is Relationship.MOTHER
    assert len(referral.guardians) == 1
    assert referral.pupil.birth_date == date(2017, 3, 14)
    assert referral.referral_date == date(2026, 10, 2)
    assert referral.criteria == (Criterion.METHOD, Criterion.HOMEWORK, Criterion.READING_WRITING)
    assert referral.interpreter_needed is False
    assert referral.school_year == "2026-2027"
    assert referral.agreements.signed_on == date(2026, 10, 5)


def test_guardian2_complete_is_kept_and_normalised(directory: Directory) -> None:
    outcome = validate(directory, guardian2_surname="Benali", guardian2_first_name="Karim",
                       guardian2_relationship=["pere"], guardian2_phone="0798765432")
    assert outcome.referral is not None
    assert outcome.referral.guardians[1].phone == "+33798765432"


@pytest.mark.parametrize("name", ["pupil_surname", "pupil_birth_date", "school_name", "guardian1_phone",
                                  "referrer_name", "pupil_postcode", "referrer_email"])
def test_required_field_missing(directory: Directory, name: str) -> None:
    outcome = validate(directory, **{name: None})
    assert not outcome.is_valid
    assert (name, "required") in codes(outcome)
    assert "obligatoire" in outcome.issues_for(name)[0].message_fr


def test_blank_text_counts_as_missing(directory: Directory) -> None:
    assert ("pupil_town", "required") in codes(validate(directory, pupil_town="   "))


def test_missing_key_counts_as_missing(directory: Directory) -> None:
    values = valid_values()
    del values["class_name"]
    outcome = validate_referral(values, directory, SCHOOL_YEAR, today=TODAY)
    assert ("class_name", "required") in codes(outcome)


@pytest.mark.parametrize("raw", ["31/02/2017", "2017-03-14", "14/3/2017", "99/99/9999"])
def test_impossible_or_malformed_date(directory: Directory, raw: str) -> None:
    outcome = validate(directory, pupil_birth_date=raw)
    assert codes(outcome) == {("pupil_birth_date", "invalid_date")}
    assert "JJ/MM/AAAA" in outcome.issues[0].message_fr


def test_date_in_future(directory: Directory) -> None:
    assert ("family_date", "date_in_future") in codes(validate(directory, family_date="05/12/2026"))


@pytest.mark.parametrize("raw", ["061234567", "0012345678", "06123456789", "abcdefghij"])
def test_invalid_phone(directory: Directory, raw: str) -> None:
    outcome = validate(directory, guardian1_phone=raw)
    assert codes(outcome) == {("guardian1_phone", "invalid_phone")}
    assert raw not in outcome.issues[0].message_fr  # never echo personal data


@pytest.mark.parametrize("raw", ["enseignant.ac-versailles.fr", "prof@", "prof@ecole", "a b@c.fr@d"])
def test_invalid_email(directory: Directory, raw: str) -> None:
    assert codes(validate(directory, referrer_email=raw)) == {("referrer_email", "invalid_email")}


def test_an_email_typed_with_a_space_goes_to_a_person_not_routed_without_it(directory: Directory) -> None:
    """An attack of 2026-12-07: « capucine schmitt@gmail.com », typed in the fillable PDF, was routed as
    capucineschmitt@gmail.com; the space may have stood for a dot."""
    outcome = validate(directory, guardian1_email="capucine schmitt@gmail.com")
    assert codes(outcome) == {("guardian1_email", "invalid_email")}
    assert "espace" in outcome.issues[0].message_fr and "capucine" not in outcome.issues[0].message_fr
    assert codes(validate(directory, guardian1_email="capucine.schmitt@gmail.com")) == set()


def test_optional_guardian_email_checked_when_present(directory: Directory) -> None:
    assert codes(validate(directory, guardian1_email="s.benali@mail")) == {("guardian1_email", "invalid_email")}


def test_invalid_postcode(directory: Directory) -> None:
    assert codes(validate(directory, pupil_postcode="9510")) == {("pupil_postcode", "invalid_postcode")}


def test_no_class_level(directory: Directory) -> None:
    assert ("class_level", "required") in codes(validate(directory, class_level=[]))


def test_two_class_levels(directory: Directory) -> None:
    outcome = validate(directory, class_level=["CM1", "CM2"])
    assert codes(outcome) == {("class_level", "too_many_choices")}
    assert "une seule" in outcome.issues[0].message_fr


def test_unknown_option_code(directory: Directory) -> None:
    assert codes(validate(directory, class_level=["CM3"])) == {("class_level", "invalid_value")}


def test_wrong_shape(directory: Directory) -> None:
    assert codes(validate(directory, pupil_surname=["Benali"])) == {("pupil_surname", "invalid_value")}


def test_no_criterion(directory: Directory) -> None:
    outcome = validate(directory, criteria_method=[], criteria_language=[])
    assert codes(outcome) == {("criteria_method", "no_criterion")}
    assert "au moins un critère" in outcome.issues[0].message_fr


def test_other_criterion_with_text_is_enough(directory: Directory) -> None:
    outcome = validate(directory, criteria_method=[], criteria_language=[], criteria_other=True,
                       criteria_other_text="Absences répétées le lundi")
    assert outcome.referral is not None
    assert outcome.referral.criteria == ()
    assert outcome.referral.criteria_other_text == "Absences répétées le lundi"


def test_other_criterion_without_text(directory: Directory) -> None:
    outcome = validate(directory, criteria_method=[], criteria_language=[], criteria_other=True)
    assert codes(outcome) == {("criteria_other_text", "other_criterion_text_missing"),
                              ("criteria_method", "no_criterion")}


@pytest.mark.parametrize("name", ["agreement_orientation", "agreement_data_sharing"])
def test_family_agreement_missing(directory: Directory, name: str) -> None:
    outcome = validate(directory, **{name: False})
    assert codes(outcome) == {(name, "agreement_missing")}
    assert "famille" in outcome.issues[0].message_fr


@pytest.mark.parametrize("name", ["family_signature", "referrer_signature"])
def test_signature_missing(directory: Directory, name: str) -> None:
    outcome = validate(directory, **{name: False})
    assert codes(outcome) == {(name, "signature_missing")}
    assert "signer" in outcome.issues[0].message_fr


@pytest.mark.parametrize(("level", "birth", "ok"), [
    ("CM1", "14/03/2017", True),   # cohort 2026-6-3 = 2017
    ("CM1", "01/01/2016", True),   # one year older: repeated a year
    ("CM1", "31/12/2018", True),   # one year younger
    ("CM1", "31/12/2015", False),  # two years older
    ("CM1", "01/01/2019", False),  # two years younger
    ("CP", "20/11/2020", True),    # turns 6 by 31 Dec 2026
    ("CP", "15/05/2022", False),
    ("3E", "10/10/2012", True),    # 2026-6-8
    ("6E", "10/10/2017", False),
])
def test_age_for_level(directory: Directory, level: str, birth: str, ok: bool) -> None:
    school = "Collège Claude Monet" if level in ("6E", "5E", "4E", "3E") else "EE Jules Ferry"
    outcome = validate(directory, class_level=[level], pupil_birth_date=birth, school_name=school)
    if ok:
        assert outcome.is_valid, outcome.issues
    else:
        assert codes(outcome) == {("pupil_birth_date", "age_implausible")}
        assert "né entre" in outcome.issues[0].message_fr


def test_expected_birth_years_rule() -> None:
    assert list(expected_birth_years(ClassLevel.CP, 2026, DEFAULT_RULES)) == [2019, 2020, 2021]
    assert list(expected_birth_years(ClassLevel.TROISIEME, 2026, DEFAULT_RULES)) == [2011, 2012, 2013]


def test_unknown_school(directory: Directory) -> None:
    outcome = validate(directory, school_name="École Louis Pasteur")
    assert codes(outcome) == {("school_name", "school_unknown")}
    assert "annuaire" in outcome.issues[0].message_fr


def test_level_not_offered_by_school(directory: Directory) -> None:
    outcome = validate(directory, school_name="Clg Claude Monet")
    assert codes(outcome) == {("class_level", "level_not_offered")}
    assert "Collège Claude Monet" in outcome.issues[0].message_fr


def test_school_variant_with_typo_is_matched(directory: Directory) -> None:
    outcome = validate(directory, school_name="ecole elem. jule fery")
    assert outcome.referral is not None
    assert outcome.referral.school_id == "ee-jules-ferry"
    assert outcome.referral.school_name_written == "ecole elem. jule fery"


@pytest.mark.parametrize("raw", ["01/09/2026", "31/08/2027"])
def test_referral_date_on_school_year_bounds(directory: Directory, raw: str) -> None:
    outcome = validate_referral(valid_values(referral_date=raw, family_date=raw, referrer_date=raw),
                                directory, SCHOOL_YEAR, today=date(2027, 8, 31))
    assert outcome.is_valid, outcome.issues


def test_referral_date_outside_school_year(directory: Directory) -> None:
    outcome = validate(directory, referral_date="28/08/2026")
    assert codes(outcome) == {("referral_date", "date_outside_school_year")}
    assert "01/09/2026 au 31/08/2027" in outcome.issues[0].message_fr


@pytest.mark.parametrize("name", ["family_date", "referrer_date"])
def test_a_signature_date_outside_the_school_year_goes_to_a_person(directory: Directory, name: str) -> None:
    """An attack of 2026-12-07 approved a form whose family signed on 15/05/2019."""
    outcome = validate(directory, **{name: "15/05/2019"})
    assert codes(outcome) == {(name, "date_outside_school_year")}
    assert outcome.issues[0].message_fr.startswith(("Date de signature de la famille hors",
                                                    "Date de signature de la personne qui oriente hors"))


@pytest.mark.parametrize("written", ["2026/2027", "2026 - 2027", "2026-27", " 2026–2027 "])
def test_school_year_variants_tolerated(directory: Directory, written: str) -> None:
    outcome = validate(directory, school_year=written)
    assert outcome.referral is not None
    assert outcome.referral.school_year == "2026-2027"


def test_school_year_mismatch(directory: Directory) -> None:
    outcome = validate(directory, school_year="2025-2026")
    assert codes(outcome) == {("school_year", "school_year_mismatch")}
    assert "2025-2026" in outcome.issues[0].message_fr


def test_school_year_unreadable(directory: Directory) -> None:
    assert codes(validate(directory, school_year="2026-2028")) == {("school_year", "invalid_value")}


def test_configured_school_year_malformed_raises(directory: Directory) -> None:
    with pytest.raises(ValueError, match="CLAS_SCHOOL_YEAR"):
        validate_referral(valid_values(), directory, "2026", today=TODAY)


def test_parse_school_year() -> None:
    assert parse_school_year("2026/2027") == (2026, 2027)
    assert parse_school_year("2099-00") == (2099, 2100)
    assert parse_school_year("2026") is None


def test_page2_name_accent_and_case_insensitive(directory: Directory) -> None:
    assert validate(directory, p2_pupil_surname="bénali", p2_pupil_first_name="INÈS").is_valid


def test_page2_names_may_be_blank(directory: Directory) -> None:
    assert validate(directory, p2_pupil_surname=None, p2_pupil_first_name=None).is_valid


def test_page2_name_mismatch(directory: Directory) -> None:
    outcome = validate(directory, p2_pupil_surname="Durand")
    assert codes(outcome) == {("p2_pupil_surname", "name_mismatch")}
    assert "Durand" not in outcome.issues[0].message_fr
    assert "Benali" not in outcome.issues[0].message_fr


@pytest.mark.parametrize("name", ["pupil_surname", "pupil_first_name", "guardian1_surname", "guardian1_first_name",
                                  "p2_pupil_surname"])
@pytest.mark.parametrize("written", ["<svg/onload=alert(4)>", "=HYPERLINK(\"http://x\")", "Benali2", "Benali;",
                                     "@Benali"])
def test_person_name_holds_letters_only_whatever_the_source(directory: Directory, name: str, written: str) -> None:
    # Issue 17: a fillable PDF's value skipped the check the scan reader makes; validation now makes it for all.
    outcome = validate(directory, **{name: written})
    assert not outcome.is_valid
    assert (name, "invalid_value") in codes(outcome)
    assert all(written not in i.message_fr for i in outcome.issues)  # never quoted


@pytest.mark.parametrize("written", ["N'Diaye", "Da Silva-Lopes", "Lê", "O’Connor", "Ñúñez", "Nguyễn Thị"])
def test_real_names_pass_the_name_check(directory: Directory, written: str) -> None:
    assert validate(directory, guardian1_surname=written).is_valid


def test_guardian2_partly_filled_needs_phone(directory: Directory) -> None:
    outcome = validate(directory, guardian2_surname="Benali", guardian2_relationship=["pere"])
    assert codes(outcome) == {("guardian2_phone", "guardian_incomplete")}


def test_guardian2_invalid_phone(directory: Directory) -> None:
    outcome = validate(directory, guardian2_surname="Benali", guardian2_phone="06123")
    assert codes(outcome) == {("guardian2_phone", "invalid_phone")}


def test_guardian2_phone_without_name(directory: Directory) -> None:
    assert codes(validate(directory, guardian2_phone="0798765432")) == {("guardian2_surname", "guardian_incomplete")}


def test_guardian1_relationship_exactly_one(directory: Directory) -> None:
    assert codes(validate(directory, guardian1_relationship=["mere", "tuteur"])) == {
        ("guardian1_relationship", "too_many_choices")}
    assert codes(validate(directory, guardian1_relationship=[])) == {("guardian1_relationship", "required")}


def test_several_issues_in_form_order(directory: Directory) -> None:
    outcome = validate(directory, referrer_signature=False, school_year="2025-2026", guardian1_phone="12")
    assert [i.field for i in outcome.issues] == ["school_year", "guardian1_phone", "referrer_signature"]


def test_messages_are_french_and_never_quote_personal_data(directory: Directory) -> None:
    outcome = validate(directory, pupil_birth_date="31/12/2010", guardian1_phone="0112", pupil_address=None,
                       p2_pupil_first_name="Sarah")
    assert len(outcome.issues) == 4
    for issue in outcome.issues:
        for secret in ("Benali", "Inès", "Sarah", "0112", "Samira", "31/12/2010"):
            assert secret not in issue.message_fr


@pytest.mark.parametrize("name", ["pupil_address", "home_languages", "observations", "referrer_name",
                                  "pupil_surname"])
@pytest.mark.parametrize("written", ["3 rue\x00 des Lilas", "ok\x1b[2J\x1b[31m fin\x07", "12 rue \u202eeisnellaV\u202c",
                                     "Arabe\u2067\u202e", "rue\u200bdes Lilas", "\ufeffrue des Lilas",
                                     "rue des\u2060Lilas", "rue des Li\u00adlas", "rue des Lilas\U000e0041"])
def test_a_value_with_control_or_bidirectional_characters_goes_to_a_person(directory: Directory, name: str,
                                                                           written: str) -> None:
    # An attack (2026-12-06): a fillable PDF's values with NUL, terminal escapes and a right-to-left override
    # were routed to a carrier as they were.
    outcome = validate(directory, **{name: written})
    assert not outcome.is_valid
    assert (name, "invalid_value") in codes(outcome)
    assert all(written not in i.message_fr for i in outcome.issues)


@pytest.mark.parametrize(("name", "length", "valid"), [
    ("pupil_surname", 10_000, False),
    ("pupil_surname", 401, False),  # a 200 pt zone: 400 characters at most
    ("pupil_surname", 400, True),
    ("observations", 890, True),  # 445 pt
    ("observations", 891, False),
])
def test_a_text_longer_than_its_printed_zone_could_show_goes_to_a_person(directory: Directory, name: str,
                                                                         length: int, valid: bool) -> None:
    outcome = validate(directory, **{name: "A" * length})
    assert ((name, "invalid_value") not in codes(outcome)) is valid
    if not valid:
        assert "caractères au plus" in next(i.message_fr for i in outcome.issues if i.field == name)


def test_a_long_real_observation_is_valid(directory: Directory) -> None:
    # A review (2026-12-06): four sentences typed in the fillable PDF, 380 characters, were refused at 1.5 pt each.
    written = ("Lecture hésitante, compréhension correcte à l'oral. Élève discret qui n'ose pas demander de l'aide. "
               "Les devoirs sont rarement faits à la maison faute d'un adulte disponible le soir. La famille, "
               "arrivée en France l'an dernier, souhaite un accompagnement régulier ; le frère aîné est déjà suivi "
               "par l'association du quartier et l'élève le rejoindrait volontiers le mardi et le jeudi soir.")
    assert len(written) > 370
    assert validate(directory, observations=written).is_valid
