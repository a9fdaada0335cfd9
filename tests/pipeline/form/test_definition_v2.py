"""Form version 2 (issue 18): one definition, its renderings and the QR that tells it from version 1."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from pypdf.constants import FieldDictionaryAttributes

from pipeline.form.definition import (
    HOME_LANGUAGES,
    LETTER_COMB_FIELDS_V2,
    PAGE_WIDTH_PT,
    FieldKind,
    PageIdentity,
    UnknownFormVersionError,
    form_definition,
    form_v1,
    form_v2,
    home_languages_choices,
    home_languages_text,
)
from pipeline.form.render import Rendering, render_form
from pipeline.reading.field_lexicons import language_names

COMB = int(FieldDictionaryAttributes.FfBits.Comb)


def test_version_2_has_version_1s_fields_and_only_home_languages_other_more() -> None:
    v1, v2 = form_v1(), form_v2()

    assert {f.name for f in v2.fields} - {f.name for f in v1.fields} == {"home_languages_other"}
    assert {f.name for f in v1.fields} - {f.name for f in v2.fields} == set()
    assert {f.name for f in v2.fields if f.is_letter_comb} == {*LETTER_COMB_FIELDS_V2, "home_languages_other"}
    assert v2.field("home_languages").kind is FieldKind.CHOICE
    assert [b.option for b in v2.field("home_languages").boxes] == [code for code, _ in HOME_LANGUAGES]
    # Every letter comb keeps its kind (text or e-mail): the validator reads it as version 1's value.
    assert all(v2.field(n).kind is v1.field(n).kind for n in LETTER_COMB_FIELDS_V2)


def test_version_2_fields_stay_on_the_page_and_clear_of_the_qr_codes() -> None:
    v2 = form_v2()
    for f in v2.fields:
        assert 0 < f.rect.x0 < f.rect.x1 <= PAGE_WIDTH_PT - 30, f.name
        for qr in v2.pages[f.page - 1].qr_codes:
            overlaps = f.rect.x0 < qr.x1 and f.rect.x1 > qr.x0 and f.rect.top < qr.bottom and f.rect.bottom > qr.top
            assert not overlaps, f.name


def test_home_languages_offered_are_known_to_the_languages_lexicon() -> None:
    assert {name for _, name in HOME_LANGUAGES} <= set(language_names())


def test_home_languages_text_and_choices_are_inverse() -> None:
    assert home_languages_text(["ar", "fr"], None) == "Français, arabe"
    assert home_languages_text(["fr"], "WOLOF") == "Français, wolof"
    assert home_languages_text([], None) is None
    assert home_languages_choices("Tamoul, français") == (["fr", "ta"], None)
    assert home_languages_choices("Français, lingala") == (["fr"], "lingala")


def test_form_definition_knows_versions_1_and_2_only() -> None:
    assert form_definition(1) is form_v1()
    assert form_definition(2) is form_v2()
    with pytest.raises(UnknownFormVersionError):
        form_definition(9)


def test_the_qr_payload_tells_the_versions_apart() -> None:
    payload = PageIdentity("FO-2026-000123", 2, 1, 2).payload()

    assert payload == "CLASFO|v2|FO-2026-000123|p1/2"
    assert PageIdentity.parse(payload) == PageIdentity("FO-2026-000123", 2, 1, 2)
    assert PageIdentity.parse("CLASFO|v1|FO-2026-000123|p1/2").version == 1  # type: ignore[union-attr]


def test_the_fillable_version_2_has_one_comb_widget_per_letter_comb_with_maxlen_its_cells() -> None:
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, {"pupil_surname": "Le Gall"}, definition=form_v2())

    reader = PdfReader(buf)
    widgets = {str(a.get_object()["/T"]): a.get_object() for page in reader.pages for a in page.get("/Annots", [])}
    for name in (*LETTER_COMB_FIELDS_V2, "home_languages_other"):
        widget = widgets[name]
        assert int(widget["/Ff"]) & COMB, name
        assert int(widget["/MaxLen"]) == len(form_v2().field(name).cells), name
    assert widgets["pupil_surname"]["/V"] == "LE GALL"  # capitals, one per cell
    assert {f"home_languages.{code}" for code, _ in HOME_LANGUAGES} <= set(widgets)
    # The footer (text layer) repeats the version the QR codes carry.
    assert "CLASFO|v2|FO-2026-N00001|p1/2" in (reader.pages[0].extract_text() or "")


def test_a_value_longer_than_its_comb_is_refused_not_cut() -> None:
    with pytest.raises(ValueError, match="pupil_surname"):
        render_form(io.BytesIO(), "FO-2026-000001", Rendering.FILLED, {"pupil_surname": "X" * 25},
                    definition=form_v2())
