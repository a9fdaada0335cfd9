"""The comb-cell digit model (pipeline.reading.scan): cell isolation, typed and handwritten digits, agreement."""

from __future__ import annotations

import io
from functools import cache

import numpy as np
import pytest
from PIL import Image, ImageOps

from pipeline.form.definition import form_v1
from pipeline.reading.identify import identify_page
from pipeline.reading.register import register_page
from pipeline.reading.scan.comb_cells import comb_cells_ink
from pipeline.reading.scan.digit_model import (
    ICR_FONT_DIR,
    ICR_TRAINING_FONTS,
    agree,
    digit_features,
    digit_probabilities,
    font_digits,
)
from pipeline.reading.scan.hand import baseline_agreement, looks_handwritten, typed_rendering_match
from pipeline.reading.scan.pixels import grow_ink, ink_mask
from pipeline.reading.scan.zones import COMB_KINDS
from pipeline.settings import IcrSettings
from samples.generator import SampleKind, generate_documents
from samples.handwriting import HAND_FONTS, require_hand_fonts
from schemas.directory import Directory

ICR = IcrSettings()
PX_PER_PT = 300 / 72


def _blank_comb(kind_name: str = "pupil_birth_date") -> tuple[np.ndarray, object]:
    """The page mask (0/1) at 300 dpi with one comb's printed outline drawn, 0.6 pt wide."""
    field = form_v1().field(kind_name)
    mask = np.zeros((int(842 * PX_PER_PT), int(596 * PX_PER_PT)), np.uint8)
    w = max(1, round(0.6 * PX_PER_PT))
    for c in field.cells:
        x0, y0, x1, y1 = (round(v * PX_PER_PT) for v in (c.x0, c.top, c.x1, c.bottom))
        mask[y0:y0 + w, x0:x1 + w] = mask[y1:y1 + w, x0:x1 + w] = 1
        mask[y0:y1 + w, x0:x0 + w] = mask[y0:y1 + w, x1:x1 + w] = 1
    return mask, field


def _blob(mask: np.ndarray, x_pt: float, y_pt: float, w_pt: float, h_pt: float) -> None:
    """A solid 'digit' (a ring) centred at (x_pt, y_pt)."""
    x0, y0 = round((x_pt - w_pt / 2) * PX_PER_PT), round((y_pt - h_pt / 2) * PX_PER_PT)
    x1, y1 = round((x_pt + w_pt / 2) * PX_PER_PT), round((y_pt + h_pt / 2) * PX_PER_PT)
    mask[y0:y1, x0:x1] = 1
    t = round(1.0 * PX_PER_PT)
    mask[y0 + t:y1 - t, x0 + t:x1 - t] = 0


def test_outline_is_not_ink_and_a_digit_across_an_edge_stays_whole() -> None:
    mask, field = _blank_comb()
    cells = field.cells  # type: ignore[attr-defined]
    assert all(c.area_pt2 == 0 for c in comb_cells_ink(mask, field, PX_PER_PT, ICR))  # type: ignore[arg-type]
    # Cell 0 holds a digit written across its right edge; cell 3 one inside.
    _blob(mask, cells[0].x1 - 1.0, cells[0].center[1], 6.0, 10.0)
    _blob(mask, cells[3].center[0], cells[3].center[1], 6.0, 10.0)
    ink = comb_cells_ink(mask, field, PX_PER_PT, ICR)  # type: ignore[arg-type]
    areas = [round(c.area_pt2) for c in ink]
    # The crossing digit stays in its cell, losing only the pixels on the printed line.
    assert areas[3] > 20 and areas[0] >= 0.7 * areas[3]
    assert [i for i, a in enumerate(areas) if a] == [0, 3]


def test_handwritten_pages_look_handwritten_and_typed_ones_do_not() -> None:
    typed = np.zeros((80, 400), np.uint8)
    hand = np.zeros((80, 400), np.uint8)
    for i in range(8):
        typed[20:50, 10 + 45 * i:35 + 45 * i] = 1
        hand[20 + 4 * (i % 3):50 + 4 * (i % 3) + (i % 2) * 3, 10 + 45 * i:35 + 45 * i] = 1
    assert baseline_agreement(typed, PX_PER_PT, ICR) == 1.0
    assert baseline_agreement(hand, PX_PER_PT, ICR) < ICR.typed_zone_agreement_min
    assert baseline_agreement(np.zeros((10, 10), np.uint8), PX_PER_PT, ICR) is None
    assert looks_handwritten(1.0, 0.5, ICR) and looks_handwritten(0.5, 1.0, ICR)
    assert not looks_handwritten(1.0, 1.0, ICR) and not looks_handwritten(None, None, ICR)


def test_agreement_rule() -> None:
    sure_three = np.eye(10)[3] * 0.9 + 0.01
    assert agree("3", 0.95, sure_three, ICR).confidence >= 0.9
    for tesseract_digit, tesseract_conf in (("8", 0.95), (None, 0.95), ("3", 0.3)):
        vote = agree(tesseract_digit, tesseract_conf, sure_three, ICR)
        assert vote.confidence == ICR.disagree_confidence


@cache
def _comb_cells(kind: SampleKind, forms: int, seed: int) -> tuple[list[np.ndarray], list[int]]:
    """Features of every inked comb cell of ``forms`` generated forms, with the digit written there."""
    require_hand_fonts()  # fails with the apt-get line when the fonts are missing, never skips
    from pipeline.deciding.directory import load_directory
    from pipeline.settings import Settings

    directory: Directory = load_directory(Settings().directory_file)
    definition = form_v1()
    features, digits = [], []
    for index in range(forms):
        for doc in generate_documents(kind, index, seed, directory):
            grey = np.asarray(Image.open(io.BytesIO(doc.data)).convert("L"))
            identified = identify_page(grey, definition)
            page = register_page(identified, None, definition)
            mask = ink_mask(page.image)
            for field in definition.page_fields(identified.identity.page):
                written = doc.truth["values"][field.name]  # type: ignore[index]
                if field.kind not in COMB_KINDS or not written:
                    continue
                for cell, digit in zip(comb_cells_ink(mask, field, page.px_per_pt, ICR),
                                       [ch for ch in written if ch.isdigit()], strict=False):
                    vector = digit_features(cell.mask, ICR)
                    if vector is not None:
                        features.append(vector)
                        digits.append(int(digit))
    return features, digits


def test_typed_comb_digits_are_all_read_right() -> None:
    features, digits = _comb_cells(SampleKind.SCAN_200_BW_PNG, 1, 7)
    best = digit_probabilities(features, ICR).argmax(axis=1)
    assert len(digits) >= 30
    assert list(best) == digits


@pytest.mark.timeout(120)
def test_handwritten_comb_digits_measured() -> None:
    """Seeded: two handwritten scans (four pages). The figure is the model alone, before the agreement rule."""
    features, digits = _comb_cells(SampleKind.SCAN_HANDWRITTEN, 2, 2026)
    probabilities = digit_probabilities(features, ICR)
    right = int(np.sum(probabilities.argmax(axis=1) == np.asarray(digits)))
    assert len(digits) == 111
    # Measured 105 of 111 (95 %; 91 before the model learnt the digits of hand-like fonts); two photographed
    # forms of the same seed on Otsu's mask: 93 of 103 (91 before).
    assert right >= 102


def test_typed_comb_is_read_by_tesseract_and_handwriting_needs_both_readers() -> None:
    """Measured on photo_jpeg-0007 p1: the model read a blurred typed 3 as 9 and 6 as 8 at 0.98."""
    import numpy as np

    from pipeline.form.definition import form_v1
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings

    ocr = OcrSettings()
    field = form_v1().field("pupil_birth_date")
    words = [Word("13062018", 0.96, 0, 0)]
    model = np.full((8, 10), 0.002)
    for cell, digit in enumerate("19082018"):  # two cells where the model disagrees
        model[cell, int(digit)] = 0.98
    cells = list(range(8))

    typed = comb_field(field, words, cells, model, 1.0, ocr, typed=True)
    assert typed.value == "13/06/2018" and typed.confidence >= ocr.text_confidence_min

    written = comb_field(field, words, cells, model, 1.0, ocr, typed=False)
    assert written.confidence < ocr.text_confidence_min  # handwriting: the two readers must agree
    assert written.value == "13/06/2018" and written.model_digits == "19082018"  # the model's own reading kept

    doubtful = comb_field(field, [Word("13062018", 0.5, 0, 0)], cells, model, 1.0, ocr, typed=True)
    assert doubtful.confidence < ocr.text_confidence_min


@pytest.mark.timeout(120)
def test_a_dates_slash_blurred_onto_a_cell_is_not_read_as_ink() -> None:
    """photo_jpeg 2 of seed 2026: the printed "/" of two dates reached the next cell on the photo, was laid
    beside the digits for tesseract, and the right dates were read at confidence 0 (sent to a person)."""
    from pipeline.deciding.directory import load_directory
    from pipeline.reading.scan.page import read_scan_page
    from pipeline.settings import Settings

    settings = Settings()
    doc = generate_documents(SampleKind.PHOTO_JPEG, 2, 2026, load_directory(settings.directory_file))[0]
    grey = np.asarray(Image.open(io.BytesIO(doc.data)).convert("L"))
    fields = read_scan_page(grey, None, settings.ocr, settings.omr).fields
    for name in ("referral_date", "pupil_birth_date"):
        assert fields[name].value == doc.truth["values"][name]  # type: ignore[index]
        assert fields[name].confidence >= settings.ocr.text_confidence_min


def _text_zones(kind: SampleKind, index: int) -> list[tuple[str, np.ndarray, float, str]]:
    """Every inked text and e-mail zone of one generated form: field name, ink mask, px per pt, true value."""
    from pipeline.deciding.directory import load_directory
    from pipeline.form.definition import FieldKind
    from pipeline.reading.anchors import find_page
    from pipeline.reading.scan.streaks import zone_ink
    from pipeline.settings import Settings

    require_hand_fonts()
    settings = Settings()
    definition = form_v1()
    zones = []
    for doc in generate_documents(kind, index, 2026, load_directory(settings.directory_file), settings.school_year):
        with Image.open(io.BytesIO(doc.data)) as im:
            grey = np.asarray(ImageOps.exif_transpose(im).convert("L"))
        identified = find_page(grey, definition)
        page = register_page(identified, None, definition)
        mask = ink_mask(page.image)
        for field in definition.page_fields(identified.identity.page):
            written = doc.truth["values"][field.name]  # type: ignore[index]
            if field.kind in (FieldKind.TEXT, FieldKind.EMAIL) and written:
                zones.append((field.name, zone_ink(mask, field, definition, page.px_per_pt), page.px_per_pt,
                              str(written)))
    return zones


def test_typed_zones_match_their_value_typed_again_and_handwritten_ones_do_not() -> None:
    """Verification by synthesis (issue 3). The hand is given its true value, its most favourable case."""
    typed = _text_zones(SampleKind.PHOTO_JPEG, 11)  # blurred phone photo; three zones fail the baseline test
    hand = _text_zones(SampleKind.SCAN_HANDWRITTEN, 2)
    typed_matches = {name: typed_rendering_match(m, value, s, ICR) for name, m, s, value in typed}
    hand_matches = {name: typed_rendering_match(m, value, s, ICR) for name, m, s, value in hand}

    assert len(typed_matches) >= 15 and len(hand_matches) >= 15
    assert [n for n, m in typed_matches.items() if m is None or not m.typed(ICR)] == []
    assert [n for n, m in hand_matches.items() if m is not None and m.typed(ICR)] == []
    # The zones that blur pulls off one baseline are the ones this settles.
    lowered = [n for n, m, s, _ in typed if (baseline_agreement(m, s, ICR) or 1.0) < ICR.typed_zone_agreement_min]
    assert {"referrer_name", "home_languages"} <= set(lowered)
    # A reading that is not what the zone holds does not match either.
    name, mask, s, value = next(z for z in typed if z[0] == "referrer_name")
    wrong = typed_rendering_match(mask, value.replace("Becker", "Bekker Lopez"), s, ICR)
    assert wrong is not None and not wrong.typed(ICR)


def test_icr_training_fonts_are_installed_and_none_writes_the_sample_forms() -> None:
    """The benchmark's handwritten forms must stay unseen hands for the digit model."""
    sample_packages = {font.package for font in HAND_FONTS}
    sample_files = {font.path.name for font in HAND_FONTS}
    for package, name in ICR_TRAINING_FONTS:
        assert (ICR_FONT_DIR / name).is_file(), f"missing {name}: apt-get install {package}"
        assert package not in sample_packages and name.rsplit("/", 1)[-1] not in sample_files


def test_font_digits_are_seeded_labelled_and_distorted() -> None:
    bitmaps, labels = font_digits(copies=3)
    again, labels_again = font_digits(copies=3)
    assert labels == labels_again == [d for _ in ICR_TRAINING_FONTS for d in range(10) for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(bitmaps, again, strict=True))
    drawn, first_copy = bitmaps[0], bitmaps[1]  # the first font's 0, as drawn and distorted
    assert drawn.shape != first_copy.shape or not np.array_equal(drawn, first_copy)
    assert all(b.any() and b[0].any() and b[:, 0].any() for b in bitmaps)  # cropped to their ink


def test_grow_ink_completes_a_light_stroke_and_leaves_a_shadow_alone() -> None:
    """A photographed ballpoint "0" whose right half is lighter than Otsu's level, beside a grey shadow."""
    image = np.full((60, 120), 230, np.uint8)
    image[10:50, 10:14] = 40    # left stroke: dark ink
    image[10:14, 10:40] = 40    # top stroke: dark ink
    image[10:50, 36:40] = 150   # right stroke: light ink touching the top one
    image[10:50, 80:100] = 160  # a shadow on the paper, touching no ink
    mask = (image <= 60).astype(np.uint8)  # the dark strokes only, as Otsu's level keeps on a photo
    grown = grow_ink(image, mask, paper=230.0, growth=0.5)
    assert grown[30, 37] == 1  # the light stroke is made whole
    assert grown[30, 90] == 0  # the shadow stays paper
    assert np.all(grown >= mask)
