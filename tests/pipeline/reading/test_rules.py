"""The reading rules' table: every recorded rule is in it, and the desk is told the rule that held a field."""

from __future__ import annotations

import importlib

from pipeline.deciding.decide import confidence_reasons
from pipeline.reading.rules import FIELD_RULES, Effect, cause_fr, rules_fr
from schemas.extraction import ExtractedField, ExtractedForm, Source, ZoneBox


def test_every_rule_points_at_the_code_that_implements_it() -> None:
    for name, rule in FIELD_RULES.items():
        module_name, _, attribute = rule.where.rpartition(".")
        module = importlib.import_module(module_name)
        assert hasattr(module, attribute), f"{name}: {rule.where} does not exist"
        assert rule.fr.endswith(".") and rule.fr[0].islower(), name  # read after « Label » :


def test_the_cause_told_is_the_last_cap_or_hold() -> None:
    assert cause_fr(["readers_agree", "person_name_cap"]) == FIELD_RULES["person_name_cap"].fr
    assert cause_fr(["readers_differ", "repair_reading"]) == FIELD_RULES["readers_differ"].fr
    assert cause_fr(["repair_reading", "readers_agree"]) is None  # nothing held it
    assert rules_fr(["fix_email", "unknown_rule"]) == [FIELD_RULES["fix_email"].fr, "unknown_rule"]
    assert {r.effect for r in FIELD_RULES.values()} == set(Effect)


def _form(**fields: ExtractedField) -> ExtractedForm:
    return ExtractedForm(form_id="FO-2026-000001", version=1, pages_found=[1], fields=fields,
                         page_sources={1: Source.OCR})


def test_staff_are_told_why_a_field_is_held_not_only_its_score() -> None:
    zone = ZoneBox(x0=0, top=0, x1=10, bottom=10)
    held = ExtractedField(name="pupil_first_name", value="LUCas", confidence=0.45, source=Source.OCR, page=1,
                          zone=zone, rules=("readers_differ",))
    bare = ExtractedField(name="pupil_surname", value="X", confidence=0.3, source=Source.OCR, page=1, zone=zone)

    reasons = {r.field: r.message_fr for r in confidence_reasons(_form(pupil_first_name=held, pupil_surname=bare), 0.6)}

    assert reasons["pupil_first_name"] == f"« Prénom de l'élève » : {FIELD_RULES['readers_differ'].fr}"
    assert reasons["pupil_surname"] == "« Nom de l'élève » : lecture incertaine (30%), à vérifier."
    assert "LUCas" not in reasons["pupil_first_name"]


def test_a_box_group_with_no_printed_label_is_named_in_french_not_by_its_id() -> None:
    zone = ZoneBox(x0=0, top=0, x1=10, bottom=10)
    held = ExtractedField(name="criteria_method", value=["methode"], confidence=0.3, source=Source.OMR, page=1,
                          zone=zone)

    (reason,) = confidence_reasons(_form(criteria_method=held), 0.6)

    assert reason.message_fr.startswith("« Critères – Méthodologie et organisation » :")
    assert "criteria_method" not in reason.message_fr


def test_a_caps_fields_in_the_table_are_the_fields_its_code_acts_on() -> None:
    # The table lists each cap's fields for staff and the next engineer; the code keeps its own tuple.
    from pipeline.reading.scan.text_rules import FRENCH_WORD_FIELDS, STOP_CASE_FIELDS

    assert set(FIELD_RULES["stray_accent_cap"].kinds) == set(FRENCH_WORD_FIELDS)
    assert set(FIELD_RULES["sentence_case_cap"].kinds) == set(STOP_CASE_FIELDS)
