"""Witnesses that choose between two differing readers of a text zone (``pipeline.reading.scan.choices``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.form.definition import Field, form_v1
from pipeline.reading.french_words import FrenchWordsMissingError, french_words
from pipeline.reading.lexicon import (
    FIRST_NAMES_MIN,
    Lexicon,
    LexiconMissingError,
    first_names,
    read_tagged_entries,
)
from pipeline.reading.scan.choices import accent_lost, choose_reading, name_without_edge_marks, without_edge_marks
from pipeline.settings import OcrSettings, Settings
from schemas.extraction import ExtractedField, Source, ZoneBox

OCR = OcrSettings()
FIELDS: dict[str, Field] = {f.name: f for f in form_v1().fields}


@pytest.fixture(scope="module")
def names() -> Lexicon:
    return first_names(Settings().ocr.first_names_file)


def level(code: str, confidence: float = 0.9) -> ExtractedField:
    return ExtractedField(name="class_level", value=[code], confidence=confidence, source=Source.OMR, page=1,
                          zone=ZoneBox(x0=0, top=0, x1=1, bottom=1))


def test_the_installed_dictionary_gives_the_measured_given_names(names: Lexicon) -> None:
    assert len(names.words) >= FIRST_NAMES_MIN
    for name in ("Maëlys", "Anaïs", "Jules", "Fatoumata", "Ibrahim", "Timéo"):
        assert names.spells(name), name
    assert names.spells("JULES") and names.spells("Jean-Luc")
    assert not names.spells("jules") and not names.spells("Maëélys") and not names.spells("")


def test_only_entries_tagged_as_given_names_are_read() -> None:
    text = "3\nJules/L'D'Q' po:prn is:mas is:inv\njules/L'D'Q' po:nom is:mas is:inv\nDupont/L'D'Q' po:patr is:epi\n"
    assert read_tagged_entries(text, "po:prn") == frozenset({"Jules"})


def test_a_missing_or_untagged_dictionary_stops_with_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(LexiconMissingError, match="hunspell-fr-comprehensive"):
        first_names(tmp_path / "absent.dic")
    plain = tmp_path / "plain.dic"
    plain.write_text("2\nJules\nLucas\n", encoding="utf-8")  # a spelling list without tags
    with pytest.raises(LexiconMissingError):
        first_names(plain)


@pytest.mark.parametrize(("field", "first", "second", "value", "rule"), [
    ("pupil_first_name", "Maëélys", "Maëlys", "Maëlys", "first_name_lexicon"),
    ("pupil_first_name", "jules", "Jules", "Jules", "first_name_lexicon"),
    ("guardian1_first_name", "Anaïs", "Anais", "Anaïs", "first_name_lexicon"),
    ("pupil_address", "49, avenue Breton |", "49, avenue Breton", "49, avenue Breton", "readers_agree_edges"),
    ("guardian1_surname", "(CARRE", "CARRE", "CARRE", "readers_agree_edges"),
    ("school_year", "2026-2027", "2026-2027.", "2026-2027", "readers_agree_edges"),
    ("referrer_email", "celina.renault@ac-versaitles.fr", "celina.renault@ac-versailles.fr",
     "celina.renault@ac-versailles.fr", "email_domain_lexicon"),
    # Devset photocopy (a speck over the « a ») and own 200 x 100 fax: CLDR's French language names choose.
    ("home_languages", "chinois, français", "chinois, fránçais", "chinois, français", "language_lexicon"),
    ("home_languages", "Françäis, lingalà", "Français, lingala", "Français, lingala", "language_lexicon"),
])
def test_a_witness_chooses_the_one_reading_it_knows(names: Lexicon, field: str, first: str, second: str, value: str,
                                                    rule: str) -> None:
    choice = choose_reading(FIELDS[field], first, second, None, names, OCR)
    assert choice is not None
    assert (choice.value, choice.rule) == (value, rule)
    expected = OCR.readers_agree_confidence if rule == "readers_agree_edges" else OCR.readers_chosen_confidence
    assert choice.confidence == expected >= OCR.text_confidence_min


@pytest.mark.parametrize(("first", "second", "ticked", "value"), [
    ("CEI B", "CE1 B", "CE1", "CE1 B"),
    ("CM28B", "CM2 B", "CM2", "CM2 B"),
    ("CM B - M. Morin", "CM1 B - M. Morin", "CM1", "CM1 B - M. Morin"),
])
def test_the_ticked_level_chooses_the_class_line_that_begins_with_it(names: Lexicon, first: str, second: str,
                                                                     ticked: str, value: str) -> None:
    choice = choose_reading(FIELDS["class_name"], first, second, level(ticked), names, OCR)
    assert choice is not None and (choice.value, choice.rule) == (value, "class_level_chooses")


@pytest.mark.parametrize(("field", "first", "second", "class_level"), [
    ("pupil_first_name", "Lara", "Léna", None),  # both are names: a person decides
    ("pupil_first_name", "Xqzt", "Qxzt", None),  # neither is
    ("pupil_first_name", "Lucas", None, None),  # one reader read nothing
    ("class_name", "CEI B", "CE1 C", "CE1"),  # they differ after the level too
    ("class_name", "CEI B", "CE1 B", None),  # no level ticked
    ("referrer_email", "a.remy@ac-versaitles.fr", "a.remi@ac-versailles.fr", None),  # local parts differ
    ("referrer_email", "a.remy@gmail.com", "a.remy@orange.fr", None),  # both domains known
    # Devset variants (150 dpi JPEG, 200 dpi scan): both readers lost the dot of « monique.richard », one misread
    # the domain; the domain's witness says nothing of the dot.
    ("referrer_email", "moniquerichard@ac-vorsaillestr", "moniquerichard@ac-versailles.fr", None),
    ("guardian1_email", "martheroussel@outookfr", "martheroussel@outlook.fr", None),
    ("observations", "Élève discret.", "Élève discret", None),  # a sentence may end with a full stop
])
def test_no_witness_chooses_when_it_cannot_tell(names: Lexicon, field: str, first: str, second: str | None,
                                                class_level: str | None) -> None:
    ticked = level(class_level) if class_level else None
    assert choose_reading(FIELDS[field], first, second, ticked, names, OCR) is None


def test_a_level_ticked_without_confidence_chooses_nothing(names: Lexicon) -> None:
    assert choose_reading(FIELDS["class_name"], "CEI B", "CE1 B", level("CE1", 0.4), names, OCR) is None


def test_edge_marks_go_from_both_ends_only() -> None:
    assert without_edge_marks("° M. David, cpe |") == "M. David, cpe"
    assert without_edge_marks(" | ") is None
    assert without_edge_marks("Jean-Luc") == "Jean-Luc"


def test_an_edge_bracket_that_closes_one_in_the_value_stays() -> None:
    # A photocopy of seed 11: "M, Dufour, enseignant(e)" and "... enseignant(e)." agreed once their edge marks went,
    # and the agreed value had lost its ")".
    assert without_edge_marks("M, Dufour, enseignant(e).") == "M, Dufour, enseignant(e)"
    assert without_edge_marks("(CARRE") == "CARRE"  # an opening bracket with no pair is a mark
    assert without_edge_marks("(CARRE)") == "CARRE"


@pytest.mark.parametrize(("first", "second"), [
    ("turc, kurde", "turc, arabe"),  # both are language lists: the lexicon cannot tell
    ("chinols, fránçais", "chinois, fránçais"),  # neither is
])
def test_the_language_names_choose_only_when_one_reading_alone_is_a_list_of_them(names: Lexicon, first: str,
                                                                                   second: str) -> None:
    assert choose_reading(FIELDS["home_languages"], first, second, None, names, OCR) is None


def test_readings_that_differ_in_punctuation_only_are_chosen_by_the_fields_syntax(names: Lexicon) -> None:
    # A devset photocopy: a speck beside the comma, read ";" by PP-OCRv6; a fax: a civility's period read ",".
    chosen = choose_reading(FIELDS["referrer_name"], "M. David, cpe", "M. David; cpe", None, names, OCR)
    assert chosen is not None
    assert (chosen.value, chosen.rule, chosen.confidence) == ("M. David, cpe", "field_syntax_chooses",
                                                              OCR.readers_chosen_confidence)
    chosen = choose_reading(FIELDS["referrer_name"], "M, Rivière, enseignant(e)", "M. Rivière, enseignant(e)", None,
                            names, OCR)
    assert chosen is not None and chosen.value == "M. Rivière, enseignant(e)"
    # A letter apart, or both readings of the field's shape: no witness, a person decides.
    assert choose_reading(FIELDS["referrer_name"], "M. David, cpe", "M. Bavid; cpe", None, names, OCR) is None
    assert choose_reading(FIELDS["referrer_name"], "M. David, cpe", "M. David cpe", None, names, OCR) is None


@pytest.mark.parametrize(("field", "value", "bare"), [
    ("guardian1_first_name", "Virginie.", "Virginie"),  # a speck both readers read glued to the name
    ("pupil_surname", ": BOYER", "BOYER"),
    ("p2_pupil_first_name", "Jean-Luc ,", "Jean-Luc"),
    ("pupil_first_name", "Virginie", None),  # nothing to drop
    ("pupil_surname", "BOYER, 12", None),  # what is left is no name: held by the name's cap
    ("pupil_address", "12, rue Boulay.", None),  # no person's name
    ("guardian2_surname", None, None),
])
def test_marks_at_a_names_ends_are_dropped_only_when_a_name_is_left(field: str, value: str | None,
                                                                      bare: str | None) -> None:
    assert name_without_edge_marks(field, value) == bare


@pytest.mark.parametrize(("field", "value", "lost"), [
    ("guardian1_first_name", "Anais", True),  # the lexicon writes only « Anaïs »
    ("pupil_first_name", "EMILE", True),
    ("p2_pupil_first_name", "Jean-Noel", True),  # one word of a compound is enough
    ("pupil_first_name", "Anaïs", False),
    ("pupil_first_name", "Lucas", False),  # no accent to lose
    ("pupil_first_name", "Fatoumata", False),  # written as the lexicon writes it
    ("pupil_surname", "MENDES", False),  # no lexicon of surnames
])
def test_a_given_name_the_lexicon_writes_only_with_an_accent_is_told(names: Lexicon, field: str, value: str,
                                                                       lost: bool) -> None:
    assert accent_lost(field, value, names) is lost


@pytest.mark.parametrize(("field", "first", "second", "value"), [
    # A devset fax, read right by PP-OCRv6 alone.
    ("referrer_name", "Mme Rocher, coordonhatrice rep", "Mme Rocher, coordonnatrice rep",
     "Mme Rocher, coordonnatrice rep"),
    # A speck under an « s » (devset photocopy), read « ș » by PP-OCRv6.
    ("observations", "Parents disponibles pour un rendez-vous avec", "Parents disponibles pour un rendez-vouș avec",
     "Parents disponibles pour un rendez-vous avec"),
    # A word that begins the value or a sentence may take its capital.
    ("observations", "Eléve discret. Travail souvent inachevé.", "Élève discret. Travail souvent inachcvé.",
     "Élève discret. Travail souvent inachevé."),
    ("criteria_other_text", "arrivée récente dans l'écolc", "arrivée récentc dans l'école",
     "arrivée récente dans l'école"),
    # A devset fax: a speck over the « i » of a proper name, read « ì » by PP-OCRv6, a letter French does not have.
    ("school_name", "EE Henrì Barbusse", "EE Henri Barbusse", "EE Henri Barbusse"),
    ("pupil_address", "83, chemín Perrin", "83, chemin Perrin", "83, chemin Perrin"),
])
def test_the_french_dictionary_chooses_each_word_the_readers_differ_on(names: Lexicon, field: str, first: str,
                                                                       second: str, value: str) -> None:
    choice = choose_reading(FIELDS[field], first, second, None, names, OCR)
    assert choice is not None
    assert (choice.value, choice.rule, choice.confidence) == (value, "french_words_choose",
                                                              OCR.readers_chosen_confidence)


@pytest.mark.parametrize(("field", "first", "second"), [
    ("pupil_address", "497, chemin de Lévy", "497, chemin de l.óvy"),  # a proper name: not the dictionary's to say
    ("pupil_address", "G2, chemin de Thomas", "62, chemin de Thomas"),  # a house number is no word
    ("criteria_other_text", "arrivée récente dons l'école", "arrivée récente dans l'école"),  # both are words
    ("observations", "compréhension à l'oral, Elève discret", "compréhension à l'oral. Élève discret"),  # a mark
    ("observations", "Lecture hésitante", "Lecture hxsxtxntx"),  # too far apart to be one word misread
    ("observations", "Lecture hésitante", "Lecture hési tante"),  # not as many words
    ("observations", "Lecture hésitante, Fléve", "Lecture hésitante, Eléva"),  # neither reading is a word
    ("guardian1_surname", "Roucher", "Rocher"),  # not a field of common words
    ("guardian1_surname", "MUÑOZ", "MUNOZ"),  # a name may hold another alphabet's letters
    ("school_name", "EE Henrì Barbusse", "EE Henrí Barbusse"),  # both outside French's alphabet
    ("school_name", "EE Henri Barbusse", "EE Hernì Barbusse"),  # more than a diacritic apart: a proper name
])
def test_the_french_dictionary_leaves_to_a_person_what_it_cannot_tell(names: Lexicon, field: str, first: str,
                                                                      second: str) -> None:
    assert choose_reading(FIELDS[field], first, second, None, names, OCR) is None


def test_a_missing_french_dictionary_stops_with_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(FrenchWordsMissingError, match="hunspell-fr-comprehensive"):
        french_words(tmp_path / "absent.dic")
    (tmp_path / "en.aff").write_text("SET UTF-8\n", encoding="utf-8")
    (tmp_path / "en.dic").write_text("2\nschool\nteacher\n", encoding="utf-8")  # a dictionary, not a French one
    with pytest.raises(FrenchWordsMissingError):
        french_words(tmp_path / "en.dic")


def test_a_civilitys_full_stop_read_as_a_comma_is_not_chosen_for_the_field_syntax(names: Lexicon) -> None:
    # A review: the sentence cap bit on « M. le directeur », so the field syntax chose the misread comma at 0.80.
    assert choose_reading(FIELDS["observations"], "Vu avec M. le directeur", "Vu avec M, le directeur", None, names,
                          OCR) is None
