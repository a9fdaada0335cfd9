"""Pages whose QR codes cannot be read are found by their anchors and printed footer (issue 3), or, when the
footer cannot be read either, by their printed layout, and sent to a person (issue 16)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import NoFormCodeError, PageNotIdentifiedError
from pipeline.form.definition import FOOTER_BASELINE_PT, PageIdentity, form_v1
from pipeline.reading.anchors import find_page, identify_by_anchors, match_layout
from pipeline.reading.identify import UNREAD_SERIAL, IdentifiedPage
from pipeline.reading.scan.page import read_scan_page
from samples.scanner import render_filled_pdf, rotate_quarter_turns, simulate_scan

FORM_ID = "FO-2026-000733"
VALUES = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "class_level": ["CM1"],
          "guardian1_phone": "0612345678", "agreement_orientation": True}


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_filled_pdf(VALUES, FORM_ID)


def _without_qr(pdf: bytes, page: int, turns: int) -> np.ndarray:
    """A 200 dpi scan whose two QR codes were smudged past reading, turned ``turns`` quarter turns."""
    scan = np.asarray(simulate_scan(pdf, 200, page=page, skew_deg=0.0, offset_pt=(0.0, 0.0),
                                    rng=random.Random(page))).copy()
    s = 200 / 72
    for qr in form_v1().pages[page - 1].qr_codes:
        scan[int(qr.top * s) - 2 : int(qr.bottom * s) + 2, int(qr.x0 * s) - 2 : int(qr.x1 * s) + 2] = 235
    return np.asarray(rotate_quarter_turns(Image.fromarray(scan), turns))


@pytest.mark.parametrize(("page", "turns"), [(1, 0), (1, 1), (2, 2), (2, 3)])
def test_page_without_readable_qr_is_identified_and_turned_upright(pdf: bytes, page: int, turns: int) -> None:
    image = _without_qr(pdf, page, turns)
    with pytest.raises(NoFormCodeError):
        from pipeline.reading.identify import identify_page

        identify_page(image)

    found = identify_by_anchors(image)

    assert found.identity == PageIdentity(FORM_ID, 1, page, 2)
    assert (found.quarter_turns + turns) % 4 == 0
    assert found.image.shape[0] > found.image.shape[1]  # portrait again
    assert found.dpi_estimate == pytest.approx(200, rel=0.03)


def test_fields_of_a_page_without_qr_are_read(pdf: bytes) -> None:
    result = read_scan_page(_without_qr(pdf, 1, 2))
    assert result.identity.form_id == FORM_ID and result.anchors_found == 5
    assert result.fields["pupil_surname"].value == "LEFÈVRE"
    assert result.fields["pupil_birth_date"].value == "14/03/2016"
    assert result.fields["class_level"].value == ["CM1"]


def test_a_page_with_neither_codes_nor_anchors_keeps_the_qr_error() -> None:
    newsletter = np.full((2339, 1654), 245, np.uint8)
    newsletter[300:330, 200:1400] = 30
    with pytest.raises(PageNotIdentifiedError) as info:
        find_page(newsletter)
    assert isinstance(info.value, NoFormCodeError) and info.value.code == "page_not_identified"


def _without_qr_or_footer(pdf: bytes, page: int, turns: int) -> np.ndarray:
    """As :func:`_without_qr`, the printed footer (the payload in plain text) blotted out too."""
    upright = _without_qr(pdf, page, 0).copy()
    s = 200 / 72
    # Between the bottom anchors, which stay.
    upright[int((FOOTER_BASELINE_PT - 12) * s):int((FOOTER_BASELINE_PT + 5) * s), int(150 * s):int(445 * s)] = 235
    return np.asarray(rotate_quarter_turns(Image.fromarray(upright), turns))


@pytest.mark.parametrize(("page", "turns"), [(1, 0), (2, 1), (1, 2)])
def test_a_page_whose_codes_and_footer_are_unreadable_is_found_by_its_printed_layout(pdf: bytes, page: int,
                                                                                      turns: int) -> None:
    # Issue 16: such a page showed the form's anchors and layout, yet was quarantined as not the form.
    image = _without_qr_or_footer(pdf, page, turns)

    found = find_page(image)

    assert found.identity == PageIdentity(UNREAD_SERIAL, 1, page, 2)
    assert (found.quarter_turns + turns) % 4 == 0
    scores = match_layout(found.image, _upright_homography(found), form_v1())
    assert scores[page] > 0.7 and scores[3 - page] < 0.35


def _upright_homography(found: IdentifiedPage) -> np.ndarray:
    import cv2

    template = np.array([c for s in found.qr_codes for c in s.template_corners_pt], np.float64)
    image = np.array([c for s in found.qr_codes for c in s.corners_px], np.float64)
    return cv2.findHomography(template, image, 0)[0]


def test_a_sheet_with_only_the_anchors_is_not_taken_for_the_form() -> None:
    s = 200 / 72
    sheet = np.full((2339, 1654), 245, np.uint8)
    for a in form_v1().pages[0].anchors:
        sheet[int(a.top * s):int(a.bottom * s), int(a.x0 * s):int(a.x1 * s)] = 20
    for y in range(300, 1500, 60):
        sheet[y:y + 12, 200:1400] = 40

    with pytest.raises(NoFormCodeError):
        find_page(sheet)


def test_a_form_page_without_readable_codes_goes_to_a_person_whole(pdf: bytes, tmp_path, settings,  # noqa: ANN001
                                                                   directory) -> None:  # noqa: ANN001
    from pipeline.deciding.decide import decide_form
    from pipeline.reading.extract import PageReading, read_document
    from schemas.document import MediaType, Outcome
    from schemas.extraction import Doubt

    path = tmp_path / "page1.png"
    Image.fromarray(_without_qr_or_footer(pdf, 1, 0)).save(path, dpi=(200, 200))

    [page] = read_document(path, MediaType.PNG, settings)
    assert isinstance(page, PageReading) and page.identity.form_id == UNREAD_SERIAL
    assert page.fields["pupil_surname"].value == "LEFÈVRE"  # read, for the person to check
    assert all(f.doubt is Doubt.FORM_CODE_UNREAD and f.confidence < settings.ocr.text_confidence_min
               for f in page.fields.values())
    decision = decide_form([page], settings, directory, {}, lambda _key, _year: None)

    assert decision.outcome is Outcome.REVIEW
    surname = next(r for r in decision.reasons if r.field == "pupil_surname")
    assert "ni son code QR ni son numéro imprimé" in surname.message_fr
