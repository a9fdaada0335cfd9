"""Forms filled by hand (samples.handwriting): what is read right may pass, everything else goes to a person.

A scenario file, by kind of input rather than by module; the hand fonts and the generator's handwritten
forms themselves are tested in ``tests/samples/test_handwriting.py``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.benchmark import comparable
from pipeline.deciding.decide import Decision, decide_form
from pipeline.deciding.directory import load_directory, match_school
from pipeline.form.definition import FieldKind, form_v1
from pipeline.reading.extract import read_document
from pipeline.reading.scan.constrained import FIELD_DECODERS
from pipeline.reading.scan.page import read_scan_page
from pipeline.settings import Settings
from samples.generator import GeneratedDocument, generate_documents
from samples.handwriting import require_hand_fonts
from samples.kinds import SampleKind
from schemas.document import MediaType, Outcome

SEED = 2026
CONSTRAINED_RULES = {*(rule for rule, _ in FIELD_DECODERS.values()), "constrained_digits", "constrained_postcode"}


def _documents(kind: SampleKind, index: int) -> list[GeneratedDocument]:
    require_hand_fonts()
    return generate_documents(kind, index, SEED, load_directory(Settings().directory_file))


def _decide(docs: list[GeneratedDocument], settings: Settings, tmp_path: Path) -> Decision:
    """Read the pages of one generated form from files and decide it as the nightly run does."""
    pages = []
    for doc in docs:
        path = tmp_path / doc.name
        path.write_bytes(doc.data)
        pages += read_document(path, MediaType.JPEG, settings)
    return decide_form(pages, settings, load_directory(settings.directory_file), {}, lambda _key, _year: None)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("kind", "index"), [(SampleKind.SCAN_HANDWRITTEN, 1), (SampleKind.PHOTO_HANDWRITTEN, 0)])
def test_every_handwritten_value_is_right_or_below_the_review_threshold(kind: SampleKind, index: int) -> None:
    threshold = Settings().ocr.text_confidence_min
    definition = form_v1()
    confident_right = 0
    for doc in _documents(kind, index):
        grey = np.asarray(Image.open(io.BytesIO(doc.data)).convert("L"))
        result = read_scan_page(grey)
        assert result.handwritten
        truth = doc.truth["values"]
        for name, got in result.fields.items():
            field = definition.field(name)
            if field.is_tick or field.kind is FieldKind.SIGNATURE:
                continue
            want = comparable(field, truth[name])  # type: ignore[index]
            if got.confidence >= threshold:
                assert comparable(field, got.value) == want, f"{name} accepted wrong"
                decoded = bool(got.rules) and got.rules[-1] in CONSTRAINED_RULES
                confident_right += want is not None and not decoded
                if want is not None and field.kind in (FieldKind.TEXT, FieldKind.EMAIL):
                    # only a value of the field's list that the ink reads (pipeline.reading.scan.constrained)
                    assert decoded and name in FIELD_DECODERS, f"handwritten {name} accepted without a person"
    assert confident_right <= 6  # otherwise only comb digits both readers agreed on may pass


@pytest.mark.timeout(120)
def test_handwritten_form_goes_to_review_with_its_doubtful_fields_and_crops(
        settings: Settings, tmp_path: Path) -> None:
    docs = _documents(SampleKind.SCAN_HANDWRITTEN, 2)
    decision = _decide(docs, settings, tmp_path)
    assert decision.outcome is Outcome.REVIEW
    assert decision.form is not None and decision.form.handwritten_pages == [1, 2]
    doubtful = {r.field for r in decision.reasons if r.code == "low_confidence"}
    written = {name for name, value in docs[0].truth["values"].items()  # type: ignore[union-attr]
               if value and form_v1().field(name).kind in (FieldKind.TEXT, FieldKind.EMAIL)}
    # The form's structure vouches for the town and postcode (pipeline.deciding.crosscheck.vouch_town): read
    # "Argenteuil" in the text zone and "95100" in the comb, they agree with the towns lexicon. It vouches for the
    # school too (vouch_school): tesseract's "Écde dérentaire Paul Langevin" designates no school, PP-OCRv6's
    # "Ecote élémentaire Paul Lansevin" designates one école élémentaire, of the ticked level.
    truth = docs[0].truth["values"]
    assert decision.form is not None
    # Given names and home languages the ink reads as values of their lists are accepted, right
    # (pipeline.reading.scan.constrained); the other written fields stay with a person.
    decoded = {n for n, f in decision.form.fields.items() if f.rules and f.rules[-1] in CONSTRAINED_RULES}
    assert {"pupil_first_name", "home_languages"} <= decoded
    for name in decoded:
        field = decision.form.fields[name]
        assert name not in doubtful and comparable(form_v1().field(name), field.value) == comparable(
            form_v1().field(name), truth[name])  # type: ignore[index]
    assert written - {"pupil_town", "school_name"} - decoded <= doubtful
    for name in ("pupil_town", "pupil_postcode", "school_name"):
        assert name not in doubtful and decision.form is not None
        assert decision.form.fields[name].value == truth[name]  # type: ignore[index]
    assert decision.form.fields["school_name"].rules[-1] in ("vouch_school", "constrained_school")
    assert {"pupil_surname", "guardian1_surname", "pupil_address"} <= doubtful
    form_id = docs[0].truth["form_id"]
    kept = {p.stem for p in (settings.data_dir / "crops" / str(form_id)).glob("p*/*.png")}
    assert doubtful <= kept


@pytest.mark.timeout(120)
def test_a_handwritten_school_is_vouched_by_the_directory_and_the_ticked_level(
        settings: Settings, tmp_path: Path) -> None:
    """Seed 7, scan 5 (breip hand): "Collège Vaillant-Couturier" read "Calège Vailant-Cuturier" at 0.35,
    6e ticked: the directory's collège, at the level's confidence (pipeline.deciding.crosscheck.vouch_school)."""
    directory = load_directory(settings.directory_file)
    docs = generate_documents(SampleKind.SCAN_HANDWRITTEN, 5, 7, directory)
    decision = _decide(docs, settings, tmp_path)
    assert decision.form is not None
    school = decision.form.fields["school_name"]
    # Decoded against the directory's names as the hand wrote it (« Collège Vaillant-Couturier », an alias), or
    # vouched for and given its official name: either way the directory's collège.
    assert match_school(str(school.value), directory).school_id == "clg-paul-vaillant-couturier"
    assert school.rules[-1] in ("vouch_school", "constrained_school")
    assert school.confidence >= settings.ocr.text_confidence_min
    written = docs[0].truth["values"]["school_name"]  # type: ignore[index]
    assert match_school(str(written), directory).school_id == "clg-paul-vaillant-couturier"
    assert "school_name" not in {r.field for r in decision.reasons}
