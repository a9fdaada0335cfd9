"""What staff read on the desk for a form the machine holds: one reason per cause, in French."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.deciding.decide import decide_form
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import read_received
from pipeline.reading.pages import PageReading
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import Source


def _pages_read_as(tmp_path: Path, settings: Settings, directory: Directory, name: str, value: str,
                   rules: tuple[str, ...]) -> list[PageReading]:
    """A born-digital form's pages, with ``name`` as a scan reader that read ``value`` and held it would give it."""
    doc = generate_documents(SampleKind.TEXT_PDF, 0, 21, directory)[0]
    path = tmp_path / "fiche.pdf"
    path.write_bytes(doc.data)
    pages = list(read_received(ingest_file(path, "test", tmp_path / "originals"), settings).pages)
    out = []
    for page in pages:
        assert isinstance(page, PageReading)
        fields = dict(page.fields)
        if name in fields:
            fields[name] = fields[name].model_copy(update={"value": value, "confidence": 0.2, "source": Source.OCR,
                                                           "rules": rules})
        out.append(replace(page, fields=fields))
    return out


@pytest.mark.parametrize(("name", "value", "cap", "validator_code"), [
    ("guardian1_first_name", "Virginie.", "person_name_cap", "invalid_value"),
    ("guardian1_email", "virginie.roussel@gmail", "validator_cap", "invalid_email"),
])
def test_a_value_the_reader_holds_for_its_shape_is_listed_once(
        tmp_path: Path, settings: Settings, directory: Directory, name: str, value: str, cap: str,
        validator_code: str) -> None:
    # A devset photocopy's speck read as a full stop after a given name by both readers: the desk listed the name
    # twice, once with the reader's reason and once with the validator's, for the same stray mark.
    pages = _pages_read_as(tmp_path, settings, directory, name, value, ("readers_agree", cap))

    decision = decide_form(pages, settings, directory, {}, lambda _k, _y: None)

    assert decision.outcome is Outcome.REVIEW
    about = [r for r in decision.reasons if r.field == name]
    assert [r.code for r in about] == ["low_confidence"]


def test_a_held_value_the_validator_finds_wrong_for_another_cause_keeps_both_reasons(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    # The pupil's birth date read with doubt and, as read, in the future: two things for staff to know.
    pages = _pages_read_as(tmp_path, settings, directory, "pupil_birth_date", "14/03/2099", ("readers_differ",))

    decision = decide_form(pages, settings, directory, {}, lambda _k, _y: None)

    codes = sorted(r.code for r in decision.reasons if r.field == "pupil_birth_date")
    assert "low_confidence" in codes
    assert len(codes) == 2, codes


def test_two_ticked_levels_are_told_once_by_the_validator_and_a_tick_boxs_doubt_by_the_reader(
        tmp_path: Path, settings: Settings, directory: Directory) -> None:
    # A phone photo of the devset: two levels read ticked on a page whose every box looked inked. The desk said
    # « plusieurs cases cochées » twice, the reader's and the validator's way.
    broken = _pages_read_as(tmp_path, settings, directory, "class_level", ["CM1", "CM2"],  # type: ignore[arg-type]
                            ("tick_rule_broken",))
    reasons = [r for r in decide_form(broken, settings, directory, {}, lambda _k, _y: None).reasons
               if r.field == "class_level"]
    assert [r.code for r in reasons] == ["too_many_choices"]
    assert "plusieurs cases cochées" in reasons[0].message_fr

    unsure = _pages_read_as(tmp_path, settings, directory, "class_level", ["CM1", "CM2"],  # type: ignore[arg-type]
                            ("tick_rule_broken", "tick_page_unsure"))
    reasons = [r for r in decide_form(unsure, settings, directory, {}, lambda _k, _y: None).reasons
               if r.field == "class_level"]
    assert sorted(r.code for r in reasons) == ["low_confidence", "too_many_choices"]
    assert any("même une case vide paraît encrée" in r.message_fr for r in reasons)


@pytest.mark.parametrize("kept_as", ["flattened", "printed_by_cairo"])
def test_a_long_email_running_past_its_zone_in_a_printed_form_is_read_whole(kept_as: str, tmp_path: Path) -> None:
    """A review of 2026-12-07: an address wider than its zone, printed to PDF, lost its last letter when the zone's
    characters were taken one by one (``…services.co``, accepted as valid)."""
    from pypdf import PdfReader, PdfWriter

    from pipeline.reading.extract import read_document
    from schemas.document import MediaType
    from tests.pipeline.reading import pdf_variants

    email = "jean-baptiste.alexandre.dupont-delacroix-martin-de-saint-exupery@orange-business-services.com"
    writer = PdfWriter(clone_from=PdfReader(Path(__file__).parents[3] / "samples" / "inbox" / "fillable-0000.pdf"))
    for page in writer.pages:
        writer.update_page_form_field_values(page, {"guardian1_email": email}, auto_regenerate=False)
    path = tmp_path / "fiche.pdf"
    writer.write(path)
    path.write_bytes(getattr(pdf_variants, kept_as)(path.read_bytes()))

    pages = [p for p in read_document(path, MediaType.PDF, Settings()) if isinstance(p, PageReading)]

    assert [(p.source, p.fields["guardian1_email"].value) for p in pages if "guardian1_email" in p.fields] == [
        (Source.TEXT_LAYER, email)]


@pytest.mark.parametrize("kept_as", ["fillable", "flattened", "printed_by_cairo"])
def test_an_email_typed_with_a_space_in_the_fillable_pdf_goes_to_a_person(kept_as: str, tmp_path: Path,
                                                                           directory: Directory) -> None:
    """An attack of 2026-12-07: « capucine schmitt@gmail.com » typed in the fillable PDF was routed as
    capucineschmitt@gmail.com, its space dropped; the space may have stood for a dot. The form kept as it was
    filled (AcroForm), flattened, or printed to PDF (its text layer, which draws the space)."""
    from pypdf import PdfReader, PdfWriter

    from schemas.document import MediaType
    from tests.pipeline.reading import pdf_variants

    reader = PdfReader(Path(__file__).parents[3] / "samples" / "inbox" / "fillable-0000.pdf")
    writer = PdfWriter(clone_from=reader)
    for page in writer.pages:
        writer.update_page_form_field_values(page, {"guardian1_email": "Capucine Schmitt@gmail.com"},
                                             auto_regenerate=False)
    path = tmp_path / "fiche.pdf"
    writer.write(path)
    if kept_as != "fillable":
        path.write_bytes(getattr(pdf_variants, kept_as)(path.read_bytes()))
    from pipeline.reading.extract import read_document

    settings = Settings()
    pages = [p for p in read_document(path, MediaType.PDF, settings) if isinstance(p, PageReading)]
    assert {p.source for p in pages} == {Source.ACROFORM if kept_as == "fillable" else Source.TEXT_LAYER}
    assert [p.fields["guardian1_email"].value for p in pages if "guardian1_email" in p.fields] == [
        "capucine schmitt@gmail.com"]  # as typed, lowercased

    decision = decide_form(pages, settings, directory, {}, lambda _key, _year: None)

    assert decision.outcome is Outcome.REVIEW
    assert [r.code for r in decision.reasons if r.field == "guardian1_email"] == ["invalid_email"]
