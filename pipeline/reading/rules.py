"""The reading rules, in one table: what each does, to which fields, and what staff are told.

Every rule that changes, holds or vouches for a field's value records its name in
``ExtractedField.rules`` (:class:`schemas.extraction.ExtractedField`), beside what each reader read
(``ExtractedField.readings``). This table is where a name leads: the rule's effect, the field kinds it
acts on, the function that implements it (its docstring gives its figures), and the French sentence the
review desk shows. :func:`cause_fr` picks the sentence that explains a doubtful field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Effect(StrEnum):
    """What a rule does to a field."""

    REPAIR = "repair"  # rewrites the value as read into the shape the field holds
    EVIDENCE = "evidence"  # raises the confidence: another reading or a lexicon agrees
    CAP = "cap"  # holds the value under the review threshold: its shape says it was misread
    HOLD = "hold"  # holds the value under the review threshold: the evidence is missing or conflicting
    PREPARE = "prepare"  # the image was prepared for the readers before they read the value


@dataclass(frozen=True)
class FieldRule:
    """One reading rule.

    Attributes:
        effect: What it does.
        kinds: Field kinds (``FieldKind`` values) or field names it acts on.
        where: The function implementing it (its docstring states what it fixes, what it costs, and the figures).
        fr: What staff are told when it is why a field is shown to them (French, no value quoted).
    """

    effect: Effect
    kinds: tuple[str, ...]
    where: str
    fr: str


FIELD_RULES: dict[str, FieldRule] = {
    "descreened": FieldRule(
        Effect.PREPARE, ("text", "email", "date", "phone", "postcode"), "pipeline.reading.scan.page.reader_image",
        "page reçue en points tramés (fax en mode photo) : l'image a été lissée avant lecture."),
    "drop_speck_words": FieldRule(
        Effect.REPAIR, ("text",), "pipeline.reading.scan.text_rules.drop_speck_words",
        "un signe isolé au bord de la zone a été ignoré (poussière)."),
    "repair_reading": FieldRule(
        Effect.REPAIR, ("class_name", "pupil_address"), "pipeline.reading.scan.text_rules.READING_REPAIRS",
        "la lecture a été remise dans la forme du champ (classe, numéro de rue)."),
    "name_edge_marks_dropped": FieldRule(
        Effect.REPAIR, ("person names",), "pipeline.reading.scan.choices.name_without_edge_marks",
        "un signe lu par les deux lecteurs au bout du nom a été ignoré (un nom n'en porte pas : poussière)."),
    "fix_email": FieldRule(
        Effect.REPAIR, ("email",), "pipeline.deciding.crosscheck.fix_email",
        "adresse e-mail corrigée (« l » lu « | », point lu « · », domaine connu mal lu : point, tiret ou "
        "lettre)."),
    "readers_agree": FieldRule(
        Effect.EVIDENCE, ("text", "email"), "pipeline.reading.scan.page.readers_verdict",
        "les deux lecteurs (Tesseract et PP-OCRv6) lisent la même chose."),
    "readers_differ": FieldRule(
        Effect.HOLD, ("text", "email", "date", "phone", "postcode"), "pipeline.reading.scan.page.readers_verdict",
        "les lecteurs (Tesseract et PP-OCRv6, et le modèle de chiffres pour des chiffres) ne lisent pas la même "
        "chose : comparer avec l'image."),
    "digits_differ": FieldRule(
        Effect.HOLD, ("date", "phone", "postcode"), "pipeline.reading.scan.combs.cell_rules",
        "les chiffres lus par Tesseract et par le modèle de chiffres diffèrent dans au moins une case (ou Tesseract "
        "n'en lit pas un par case) : comparer avec l'image."),
    "digits_unsure": FieldRule(
        Effect.HOLD, ("date", "phone", "postcode"), "pipeline.reading.scan.combs.cell_rules",
        "les chiffres sont lus pareil par Tesseract et le modèle de chiffres, mais sans assurance dans au moins "
        "une case (chiffre peu net) : comparer avec l'image."),
    "digit_on_cell_edge": FieldRule(
        Effect.HOLD, ("date", "phone", "postcode"), "pipeline.reading.scan.combs.comb_field",
        "un chiffre longe le bord de sa case : le côté qui le longe a pu être effacé avec le cadre imprimé (un 8 "
        "lu 3, un 6 lu 1) ; comparer avec l'image."),
    "edge_reread_agrees": FieldRule(
        Effect.EVIDENCE, ("date", "phone", "postcode"), "pipeline.reading.scan.combs.comb_field",
        "un chiffre longe le bord de sa case ; relue avec ce bord remis, la ligne est lue de même par PP-OCRv6."),
    "phone_not_mobile": FieldRule(
        Effect.CAP, ("phone",), "pipeline.reading.scan.combs.comb_field",
        "le numéro lu n'est pas un numéro de portable (06, ou 07 à partir de 073), alors que la case en demande un : "
        "vérifier les chiffres sur l'image."),
    "comb_part_filled": FieldRule(
        Effect.HOLD, ("date", "phone", "postcode"), "pipeline.reading.scan.combs.comb_field",
        "des cases du peigne sont vides : un chiffre manque, ou il est trop pâle pour être lu ; vérifier sur "
        "l'image."),
    "low_resolution_readers_agree": FieldRule(
        Effect.EVIDENCE, ("text", "email"), "pipeline.reading.extract.doubt_text_zones",
        "fiche reçue en basse résolution (fax), mais les deux lecteurs lisent la même chose."),
    "low_resolution_hold": FieldRule(
        Effect.HOLD, ("text", "email"), "pipeline.reading.extract.doubt_text_zones",
        "fiche reçue en trop basse résolution (fax) : les deux lecteurs ne lisent pas la même chose, ou l'adresse "
        "n'est pas sur un domaine connu ; à lire sur l'image."),
    "streak_reread_agrees": FieldRule(
        Effect.EVIDENCE, ("text", "email", "date", "phone", "postcode"),
        "pipeline.reading.scan.page.reread_past_streaks",
        "une trace de photocopieuse traverse l'écriture, mais un lecteur lit la même chose avec et sans elle."),
    "streak_unseen_in_zone": FieldRule(
        Effect.EVIDENCE, ("text", "email"), "pipeline.reading.scan.streaks.streak_unseen_in_zones",
        "une trace de photocopieuse passe sur la zone, mais trop pâle pour compter comme encre : les lecteurs ne "
        "la voient pas."),
    "tick_box_unsure": FieldRule(
        Effect.HOLD, ("choice", "flag"), "pipeline.reading.scan.omr.read_ticks",
        "une case n'est ni franchement vide ni franchement cochée (remplissage ou noirceur entre les deux seuils) : "
        "regarder les cases sur l'image."),
    "tick_mark_off_centre": FieldRule(
        Effect.HOLD, ("choice", "flag"), "pipeline.reading.pdf.read_text_layer_page",
        "un trait est dessiné dans une case sans passer par son milieu (PDF) : coche ou trait parasite, regarder "
        "les cases sur l'image."),
    "tick_page_unsure": FieldRule(
        Effect.HOLD, ("choice", "flag", "signature"), "pipeline.reading.scan.omr.read_ticks",
        "sur cette page (photo, fax), même une case vide paraît encrée jusqu'en son milieu : aucune case ni "
        "signature n'y est lue avec certitude, regarder l'image."),
    "tick_rule_broken": FieldRule(
        Effect.HOLD, ("choice", "flag"), "pipeline.reading.scan.omr.read_ticks",
        "les cases lues cochées ne respectent pas la règle du champ (une seule case, ou au moins une) : regarder "
        "les cases sur l'image."),
    "tick_margin_hold": FieldRule(
        Effect.HOLD, ("choice", "flag"), "pipeline.reading.scan.omr.name_weak_ticks",
        "une case est à peine cochée ou à peine vide (son remplissage est proche de la limite), ou la page est mal "
        "recalée : regarder les cases sur l'image."),
    "third_reading_agrees": FieldRule(
        Effect.EVIDENCE, ("text", "email"), "pipeline.reading.scan.third_reading.settle_by_third_reading",
        "les lecteurs différaient ; Tesseract, relisant la zone seule à une autre échelle, lit ce que lit PP-OCRv6 : "
        "cette lecture est retenue."),
    "grey_reading_agrees": FieldRule(
        Effect.EVIDENCE, ("text", "email"), "pipeline.reading.scan.photo_witness.settle_by_grey_reading",
        "photo : les lecteurs différaient ; PP-OCRv6, relisant la zone sur la photo telle quelle, lit ce que lit "
        "Tesseract : cette lecture est retenue."),
    "photo_grey_reading_differs": FieldRule(
        Effect.HOLD, ("text", "email"), "pipeline.reading.scan.photo_witness.hold_unstable_agreements",
        "photo : les deux lecteurs lisent la même chose sur l'image préparée, mais PP-OCRv6, relisant la zone sur la "
        "photo telle quelle, y lit d'autres lettres (le flou peut coller deux lettres en une) : à vérifier sur "
        "l'image."),
    "field_syntax_chooses": FieldRule(
        Effect.EVIDENCE, ("text",), "pipeline.reading.scan.choices.choose_reading",
        "les lecteurs ne diffèrent que par la ponctuation, et une seule lecture a la forme du champ : elle est "
        "retenue."),
    "readers_agree_edges": FieldRule(
        Effect.EVIDENCE, ("text", "email"), "pipeline.reading.scan.choices.choose_reading",
        "les deux lecteurs lisent la même chose, à un signe parasite près au début ou à la fin (tache, trait), "
        "qui est retiré."),
    "first_name_lexicon": FieldRule(
        Effect.EVIDENCE, ("text",), "pipeline.reading.scan.choices.choose_reading",
        "les lecteurs diffèrent ; une seule des deux lectures est un prénom du lexique français : c'est elle qui "
        "est retenue."),
    "language_lexicon": FieldRule(
        Effect.EVIDENCE, ("home_languages",), "pipeline.reading.scan.choices.choose_reading",
        "les lecteurs diffèrent ; une seule des deux lectures est une liste de noms de langues : c'est elle qui est "
        "retenue."),
    "french_words_choose": FieldRule(
        Effect.EVIDENCE, ("text",), "pipeline.reading.scan.choices.choose_reading",
        "les lecteurs diffèrent sur un ou des mots ; pour chacun, une seule des deux lectures s'écrit avec "
        "l'alphabet français ou est un mot du dictionnaire français : c'est elle qui est retenue."),
    "class_level_chooses": FieldRule(
        Effect.EVIDENCE, ("text",), "pipeline.reading.scan.choices.choose_reading",
        "les lecteurs diffèrent sur le niveau de la classe ; la lecture retenue commence par le niveau coché."),
    "email_domain_lexicon": FieldRule(
        Effect.EVIDENCE, ("email",), "pipeline.reading.scan.choices.choose_reading",
        "les lecteurs diffèrent sur le domaine de l'adresse ; une seule des deux lectures est sur un domaine "
        "connu : c'est elle qui est retenue."),
    "surname_family_chooses": FieldRule(
        Effect.EVIDENCE, ("text",), "pipeline.deciding.crosscheck.choose_surname_by_family",
        "les lecteurs diffèrent ; une seule des deux lectures est le nom de famille lu sans désaccord dans un "
        "autre champ de la fiche : c'est elle qui est retenue."),
    "second_reading_shown": FieldRule(
        Effect.REPAIR, ("text", "email", "date", "phone", "postcode"), "pipeline.reading.scan.page.text_fields_read",
        "les lecteurs diffèrent : la lecture proposée est celle qui a la forme du champ, ou, pour des chiffres, "
        "celle sur laquelle les deux autres lecteurs s'accordent."),
    "hand_second_reading_shown": FieldRule(
        Effect.REPAIR, ("text", "email"), "pipeline.reading.scan.page.text_fields_read",
        "écrit à la main ; les lecteurs diffèrent : la lecture proposée est celle du lecteur qui se trompe le moins "
        "sur l'écriture à la main, à vérifier sur l'image."),
    "validator_cap": FieldRule(
        Effect.CAP, ("date", "phone", "postcode", "email", "text"), "pipeline.reading.scan.text_rules.validator_cap",
        "la valeur lue n'a pas la forme attendue (date, téléphone, code postal, e-mail, caractère parasite)."),
    "class_line_cap": FieldRule(
        Effect.CAP, ("class_name",), "pipeline.reading.scan.text_rules.class_line_cap",
        "la ligne de classe ne commence pas par un niveau ou sa division se confond (8 et B, 0 et O)."),
    "person_name_cap": FieldRule(
        Effect.CAP, ("person names",), "pipeline.reading.scan.text_rules.person_name_cap",
        "le nom lu contient un signe qu'un nom ne contient pas."),
    "inclusive_ending_cap": FieldRule(
        Effect.CAP, ("referrer_name",), "pipeline.reading.scan.text_rules.inclusive_ending_cap",
        "la terminaison lue entre parenthèses n'est pas une terminaison féminine du français (e, trice…) : "
        "vérifier la fonction sur l'image."),
    "sentence_case_cap": FieldRule(
        Effect.CAP, ("observations", "criteria_other_text", "referrer_name", "class_name"),
        "pipeline.reading.scan.text_rules.sentence_case_cap",
        "un point lu est suivi d'un mot sans majuscule : sans doute une virgule ou une tache lue comme un point."),
    "stray_accent_cap": FieldRule(
        Effect.CAP, ("observations", "criteria_other_text", "pupil_address", "school_name", "referrer_name",
                     "class_name"),
        "pipeline.reading.scan.text_rules.stray_accent_cap",
        "un mot lu avec un accent que le français ne lui connaît pas, et qui s'écrit sans accent : sans doute une "
        "tache lue comme un accent."),
    "stray_punctuation_cap": FieldRule(
        Effect.CAP, ("pupil_address", "referrer_name", "class_name", "home_languages", "pupil_town"),
        "pipeline.reading.scan.text_rules.stray_punctuation_cap",
        "un signe de ponctuation est lu là où ce champ n'en a jamais (poussière ?), ou une parenthèse sans sa "
        "paire."),
    "accent_lost_hold": FieldRule(
        Effect.HOLD, ("first names",), "pipeline.reading.scan.choices.accent_lost",
        "prénom lu sans accent par les deux lecteurs, alors que le lexique ne le connaît qu'accentué : l'accent a pu "
        "se perdre à la numérisation ; à vérifier sur l'image."),
    "email_dot_lost_hold": FieldRule(
        Effect.HOLD, ("email",), "pipeline.deciding.crosscheck.dot_may_be_lost",
        "adresse lue d'un seul tenant, alors qu'un lecteur a perdu un point ou un tiret de son domaine : le point "
        "de l'adresse a pu se perdre aussi (« moniquerichard » pour « monique.richard ») ; à vérifier sur l'image."),
    "handwriting_hold": FieldRule(
        Effect.HOLD, ("text", "email", "date", "phone", "postcode"), "pipeline.reading.scan.hand.looks_handwritten",
        "écrit à la main, à lire sur l'image et à saisir."),
    "constrained_first_name": FieldRule(
        Effect.EVIDENCE, ("first names",), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme un prénom du lexique français, nettement mieux que tout autre, et "
        "proche de la lecture libre : c'est lui qui est retenu."),
    "constrained_town": FieldRule(
        Effect.EVIDENCE, ("pupil_town",), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme une commune de la liste des communes, nettement mieux que toute "
        "autre, et proche de la lecture libre : c'est elle qui est retenue."),
    "constrained_school": FieldRule(
        Effect.EVIDENCE, ("school_name",), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme un nom d'école de l'annuaire, nettement mieux que tout autre, et "
        "proche de la lecture libre : c'est lui qui est retenu."),
    "constrained_class_line": FieldRule(
        Effect.EVIDENCE, ("class_name",), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme le niveau coché suivi d'une division (et du nom de l'enseignant "
        "lu dans les champs de la personne qui oriente), proche de la lecture libre : c'est elle qui est retenue."),
    "constrained_languages": FieldRule(
        Effect.EVIDENCE, ("home_languages",), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme des noms de langues (liste CLDR), nettement mieux que tout autre, "
        "et proche de la lecture libre : ce sont eux qui sont retenus."),
    "constrained_school_year": FieldRule(
        Effect.EVIDENCE, ("school_year",), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme l'année scolaire en cours (ou celle d'avant ou d'après), nettement "
        "mieux que toute autre, et proche de la lecture libre : c'est elle qui est retenue."),
    "constrained_email": FieldRule(
        Effect.EVIDENCE, ("guardian1_email", "guardian2_email"), "pipeline.reading.scan.constrained.decode_zone",
        "écrit à la main ; l'image se lit comme une adresse faite des nom et prénom du responsable lus sur la même "
        "page, chez un fournisseur de messagerie courant, nettement mieux que toute autre, et proche de la lecture "
        "libre : c'est elle qui est retenue."),
    "letter_comb_readers_agree": FieldRule(
        Effect.EVIDENCE, ("letter combs",), "pipeline.reading.scan.letter_combs.letter_comb_fields",
        "écrit en capitales dans des cases (fiche version 2) ; les deux lecteurs lisent les mêmes lettres, autant "
        "que de cases écrites : c'est cette lecture qui est retenue."),
    "letter_comb_count_differs": FieldRule(
        Effect.CAP, ("letter combs",), "pipeline.reading.scan.letter_combs.letter_comb_fields",
        "écrit en capitales dans des cases (fiche version 2) ; la lecture n'a pas autant de lettres que de cases "
        "écrites : une lettre manque ou est en trop, comparer avec l'image."),
    "home_languages_ticked": FieldRule(
        Effect.REPAIR, ("home_languages",), "pipeline.deciding.assemble.as_v1_fields",
        "langues cochées (fiche version 2) et langue écrite dans « autre », réunies en une seule liste."),
    "constrained_digits": FieldRule(
        Effect.EVIDENCE, ("date", "phone"), "pipeline.reading.scan.constrained.decode_digits",
        "écrit à la main ; lus comme des chiffres seulement, ils remplissent toutes les cases, ont la forme "
        "attendue et chacun est lu pareil, dans sa case, par un autre lecteur : ils sont retenus."),
    "constrained_digits_shown": FieldRule(
        Effect.REPAIR, ("date", "phone", "postcode"), "pipeline.reading.scan.constrained.show_valid_digits",
        "écrit à la main ; la valeur proposée est celle des chiffres lus seuls, qui a la forme attendue, mais aucun "
        "autre lecteur ne la confirme : à vérifier sur l'image."),
    "constrained_postcode": FieldRule(
        Effect.EVIDENCE, ("pupil_postcode",), "pipeline.reading.scan.constrained.decode_digits",
        "écrit à la main ; lus comme des chiffres seulement, chacun lu pareil, dans sa case, par un autre lecteur, "
        "et c'est le code postal d'une commune de la liste : il est retenu."),
    "repeat_agrees": FieldRule(
        Effect.EVIDENCE, ("pupil names",), "pipeline.deciding.crosscheck.cross_check",
        "le nom est lu pareil en page 1 et en page 2."),
    "repeat_clears_foreign_ink": FieldRule(
        Effect.EVIDENCE, ("pupil names",), "pipeline.deciding.crosscheck.clear_foreign_ink_by_repeat",
        "une tache ou un trait touche la zone, mais le nom y est lu exactement comme dans sa répétition, "
        "sur l'autre page, que rien ne touche."),
    "repeat_conflict": FieldRule(
        Effect.HOLD, ("pupil names",), "pipeline.deciding.crosscheck.cross_check",
        "le nom n'est pas lu pareil en page 1 et en page 2."),
    "email_owner": FieldRule(
        Effect.EVIDENCE, ("email",), "pipeline.deciding.crosscheck.local_part_spelled_by",
        "l'adresse e-mail s'écrit avec le nom de sa ou son titulaire, lu avec confiance."),
    "name_conflict": FieldRule(
        Effect.HOLD, ("person names", "email"), "pipeline.deciding.crosscheck.doubt_name_near_misses",
        "un autre champ écrit ce nom un peu autrement."),
    "email_spells_surname": FieldRule(
        Effect.EVIDENCE, ("surnames",), "pipeline.deciding.crosscheck.vouch_surname_by_email",
        "écrit à la main ; les deux lecteurs lisent ce nom pareil, et l'adresse e-mail d'un responsable, écrite en "
        "minuscules, contient les mêmes lettres : il est retenu (les accents, qu'une adresse n'a pas, restent à "
        "vérifier s'il en manque)."),
    "surname_accent_hold": FieldRule(
        Effect.HOLD, ("surnames",), "pipeline.deciding.crosscheck.vouch_surname_by_email",
        "nom écrit à la main, lu sans accent par les deux lecteurs, alors que le dictionnaire ou le lexique des "
        "prénoms ne connaît ce mot qu'accentué ; l'adresse e-mail, qui n'a jamais d'accent, ne peut pas le "
        "confirmer : vérifier l'accent sur l'image."),
    "vouch_school": FieldRule(
        Effect.EVIDENCE, ("school_name",), "pipeline.deciding.crosscheck.vouch_school",
        "l'école a été reconnue dans l'annuaire et son nom officiel remplace la lecture."),
    "vouch_town": FieldRule(
        Effect.EVIDENCE, ("pupil_town", "pupil_postcode"), "pipeline.deciding.crosscheck.vouch_town",
        "la commune et son code postal se confirment l'un l'autre (liste des communes)."),
    "impossible_date": FieldRule(
        Effect.HOLD, ("date", "phone", "postcode"), "pipeline.deciding.crosscheck.doubt_combs_of_impossible_dates",
        "une date lue sur la fiche est impossible : vérifier toutes les cases de chiffres."),
}
"""Rule name → the rule. Names are those recorded in ``ExtractedField.rules``."""


def cause_rule(rules: Sequence[str]) -> str | None:
    """The name of the rule that explains a doubtful field: its last cap or hold, else ``None``.

    Args:
        rules: The field's ``ExtractedField.rules``, in the order they acted.
    """
    for name in reversed(rules):
        rule = FIELD_RULES.get(name)
        if rule is not None and rule.effect in (Effect.CAP, Effect.HOLD):
            return name
    return None


def cause_fr(rules: Sequence[str]) -> str | None:
    """The French sentence that explains a doubtful field (:func:`cause_rule`'s), else ``None``.

    Args:
        rules: The field's ``ExtractedField.rules``, in the order they acted.
    """
    name = cause_rule(rules)
    return FIELD_RULES[name].fr if name is not None else None


def rules_fr(rules: Sequence[str]) -> list[str]:
    """Each recorded rule's French sentence, in order (unknown names are shown as they are)."""
    return [FIELD_RULES[n].fr if n in FIELD_RULES else n for n in rules]
