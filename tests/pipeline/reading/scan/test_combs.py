"""Comb fields (``pipeline.reading.scan.combs``): tesseract and the digit model, and when both must agree."""

from __future__ import annotations

import numpy as np

from pipeline.form.definition import form_v1


def test_typed_comb_is_read_by_tesseract_and_handwriting_needs_both_readers() -> None:
    """Measured on photo_jpeg-0007 p1: the model read a blurred typed 3 as 9 and 6 as 8 at 0.98."""

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

    typed = comb_field(field, words, cells, model, 1.0, ocr, typed=True, second="13062018")  # PP-OCRv6 agrees
    assert typed.value == "13/06/2018" and typed.confidence >= ocr.text_confidence_min
    assert typed.rules == ("readers_agree",)
    alone = comb_field(field, words, cells, model, 1.0, ocr, typed=True)  # no second reader vouches
    assert alone.value == "13/06/2018" and alone.confidence < ocr.text_confidence_min

    written = comb_field(field, words, cells, model, 1.0, ocr, typed=False)
    assert written.confidence < ocr.text_confidence_min  # handwriting: the two readers must agree
    assert written.value == "13/06/2018" and written.model_digits == "19082018"  # the model's own reading kept

    doubtful = comb_field(field, [Word("13062018", 0.5, 0, 0)], cells, model, 1.0, ocr, typed=True)
    assert doubtful.confidence < ocr.text_confidence_min


def test_a_typed_digit_both_other_readers_read_otherwise_goes_to_a_person_with_their_reading() -> None:
    """make test at 85e3626: scan_300_bw_tiff-0000's typed phone 0772842905 read ...908 by tesseract at 0.80,
    ...905 by the digit model and by PP-OCRv6; it was routed with the wrong number."""
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings
    from schemas.extraction import Reader

    ocr = OcrSettings()
    field = form_v1().field("guardian1_phone")
    model = np.full((10, 10), 0.002)
    for cell, digit in enumerate("0772842905"):
        model[cell, int(digit)] = 0.98

    phone = comb_field(field, [Word("0772842908", 0.80, 0, 0)], list(range(10)), model, 1.0, ocr, typed=True,
                       second="0772842905")

    assert phone.confidence < ocr.text_confidence_min
    assert phone.value == "0772842905" and phone.rules == ("readers_differ", "second_reading_shown")
    assert {r.reader: r.value for r in phone.readings} == {
        Reader.TESSERACT: "0772842908", Reader.DIGIT_MODEL: "0772842905", Reader.PPOCR: "0772842905"}


def test_three_readers_reading_the_same_typed_digits_settle_the_comb_whatever_tesseracts_score() -> None:
    """Devset photocopy: a typed date read 25092026 by tesseract (its score 0.0), the digit model and PP-OCRv6."""
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings

    ocr = OcrSettings()
    field = form_v1().field("family_date")
    model = np.full((8, 10), 0.002)
    for cell, digit in enumerate("25092026"):
        model[cell, int(digit)] = 0.98
    words, cells = [Word("25092026", 0.0, 0, 0)], list(range(8))

    unanimous = comb_field(field, words, cells, model, 1.0, ocr, typed=True, second="25092026")
    assert unanimous.value == "25/09/2026" and unanimous.confidence == ocr.readers_agree_confidence
    assert unanimous.rules == ("readers_agree",)
    # Two of three are no unanimity at a score of 0.0; nor is a hand's comb, the digit model's domain.
    assert comb_field(field, words, cells, model, 1.0, ocr, typed=True, second="25092028").confidence < \
        ocr.text_confidence_min
    assert comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="25092026").confidence < \
        ocr.text_confidence_min


def test_a_handwritten_comb_pp_ocrv6_reads_whole_and_otherwise_goes_to_a_person() -> None:
    """Seed 53's scan_handwritten-0004: tesseract and the digit model read a hand's phone 0666129880 for 0666122880
    and it was accepted at 0.89; PP-OCRv6 read 0666127880 on the comb's row."""
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings
    from schemas.extraction import Reader

    ocr = OcrSettings()
    field = form_v1().field("guardian1_phone")
    model = np.full((10, 10), 0.002)
    for cell, digit in enumerate("0666129880"):
        model[cell, int(digit)] = 0.98
    words, cells = [Word("0666129880", 0.91, 0, 0)], list(range(10))

    agreed = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="0666129880")
    assert agreed.value == "0666129880" and agreed.confidence >= ocr.text_confidence_min and agreed.rules == ()
    other = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="0666127880")
    assert other.value == "0666129880" and other.confidence == ocr.icr.disagree_confidence
    assert other.rules == ("readers_differ",)
    assert {r.reader: r.value for r in other.readings}[Reader.PPOCR] == "0666127880"
    # A digit PP-OCRv6 merged or dropped says nothing of which cell: tesseract and the model still decide.
    shorter = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="066612980")
    assert shorter.confidence == agreed.confidence and shorter.rules == ()


def test_a_digits_light_stroke_is_grown_back_and_the_printed_outline_never_is() -> None:
    from pipeline.reading.scan.combs import own_strokes

    raw = np.full((60, 50), 240, np.uint8)
    raw[10:50, 30:34] = 40     # the digit's dark stem (Otsu's ink)
    raw[10:14, 12:30] = 150    # its light top stroke, under Otsu's threshold
    raw[:, 2:5] = 40           # the cell's printed side
    raw[10:14, 5:12] = 150     # the light stroke runs on to touch it
    ink = raw <= 100
    own = np.zeros_like(ink)
    own[10:50, 30:34] = True

    grown = own_strokes(own, own.copy(), raw, 180.0, ink)

    assert grown[10:14, 14:30].all()          # the light stroke is the digit's
    assert not grown[:, 2:5].any()            # the outline is not
    assert not grown[10:14, 5:7].any()        # nor the rim beside it (2 px)
    assert not own_strokes(own, own.copy(), raw, 120.0, ink)[10:14, 14:30].any()  # lighter than the level: left out


def test_the_two_ocr_engines_reading_the_same_typed_digits_settle_the_comb_against_the_digit_model() -> None:
    """Devset r0021 (a dithered fax): the typed birth date 15/10/2020 read alike by tesseract, unsure, and by
    PP-OCRv6; the digit model, trained for hands, read 15302070, and the comb went to a person."""
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings

    ocr = OcrSettings()
    field = form_v1().field("pupil_birth_date")
    model = np.full((8, 10), 0.002)
    for cell, digit in enumerate("15302070"):
        model[cell, int(digit)] = 0.98
    words, cells = [Word("15102020", 0.35, 0, 0)], list(range(8))

    engines = comb_field(field, words, cells, model, 1.0, ocr, typed=True, second="15102020")
    assert engines.value == "15/10/2020" and engines.confidence == ocr.readers_chosen_confidence
    assert engines.rules == ("readers_agree",)
    # PP-OCRv6 one digit short witnesses nothing; a hand's comb stays with tesseract and the model, cell by cell.
    assert comb_field(field, words, cells, model, 1.0, ocr, typed=True, second="1510202").confidence < \
        ocr.text_confidence_min
    assert comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="15102020").confidence < \
        ocr.text_confidence_min


def test_a_handwritten_comb_held_cell_by_cell_says_why() -> None:
    """Until 2026-12-07 a comb held by its cells carried no rule, and staff read « lecture incertaine (20 %) »: 117
    of the 1,164 fields held in the field dumps of the devset and of the project's seeds 31, 53, 67 and 2026."""
    from pipeline.reading.rules import cause_fr
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings

    ocr = OcrSettings()
    field = form_v1().field("pupil_birth_date")
    cells = list(range(8))

    def model_reading(digits: str, probability: float) -> np.ndarray:
        model = np.full((8, 10), (1 - probability) / 9)
        for cell, digit in enumerate(digits):
            model[cell, int(digit)] = probability
        return model

    sure = comb_field(field, [Word("13062018", 0.91, 0, 0)], cells, model_reading("13062018", 0.95), 1.0, ocr)
    assert sure.confidence >= ocr.text_confidence_min and sure.rules == ()

    differ = comb_field(field, [Word("13062018", 0.91, 0, 0)], cells, model_reading("19062018", 0.95), 1.0, ocr)
    assert differ.value == "13/06/2018" and differ.confidence == ocr.icr.disagree_confidence
    assert differ.rules == ("digits_differ",) and cause_fr(differ.rules) is not None

    lost = comb_field(field, [Word("1306218", 0.91, 0, 0)], cells, model_reading("13062018", 0.95), 1.0, ocr)
    assert lost.value == "13/06/2018" and lost.rules == ("digits_differ",)  # the model's digits stand in

    unsure = comb_field(field, [Word("13062018", 0.91, 0, 0)], cells, model_reading("13062018", 0.40), 1.0, ocr)
    assert unsure.value == "13/06/2018" and unsure.confidence == ocr.icr.disagree_confidence
    assert unsure.rules == ("digits_unsure",)

    part = comb_field(field, [Word("1306218", 0.91, 0, 0)], cells[:7], model_reading("1306218", 0.95)[:7], 1.0, ocr)
    assert part.confidence == ocr.unread_confidence and part.rules[-1] == "comb_part_filled"
    assert "cases du peigne sont vides" in (cause_fr(part.rules) or "")

    # A date that is no date is the validator's to tell (« date impossible ou mal écrite… »): no reader rule.
    impossible = comb_field(field, [Word("31022018", 0.91, 0, 0)], cells, model_reading("31022018", 0.95), 1.0, ocr)
    assert impossible.value == "31/02/2018" and impossible.confidence == ocr.unread_confidence
    assert impossible.rules == ()
    # A landline on the mobile comb the validator accepts: the reader says why it holds it.
    phone = form_v1().field("guardian1_phone")
    landline = comb_field(phone, [Word("0134567890", 0.91, 0, 0)], list(range(10)),
                          np.vstack([model_reading("01345678", 0.95), model_reading("90", 0.95)[:2]]), 1.0, ocr)
    assert ocr.phone_combs_mobile and landline.value == "0134567890"
    assert landline.confidence == ocr.unread_confidence and landline.rules == ("phone_not_mobile",)


def test_a_handwritten_digit_along_a_cell_edge_holds_its_comb_whatever_the_readers_say() -> None:
    """Attack 1 of 2026-12-07: a hand's 8 whose left side lay on its cell's edge lost it with the outline, and
    Tesseract, PP-OCRv6 and the digit model read the 3 that was left (``0629833321`` for *0629883321*, 0.88)."""
    from pipeline.reading.rules import cause_fr
    from pipeline.reading.scan.combs import comb_field
    from pipeline.reading.scan.strips import Word
    from pipeline.settings import OcrSettings

    ocr = OcrSettings()
    field = form_v1().field("guardian1_phone")
    model = np.full((10, 10), 0.002)
    for cell, digit in enumerate("0629833321"):
        model[cell, int(digit)] = 0.98
    words, cells = [Word("0629833321", 0.91, 0, 0)], list(range(10))
    limit = ocr.icr.edge_touch_share_max

    inside = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="0629833321", edge_share=limit - 0.1)
    assert inside.confidence >= ocr.text_confidence_min and inside.rules == ()
    along = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="0629833321", edge_share=limit)
    assert along.value == "0629833321" and along.confidence == ocr.icr.disagree_confidence
    assert along.rules == ("digit_on_cell_edge",) and "bord de sa case" in (cause_fr(along.rules) or "")
    # Read again with the outline along its digits given back, PP-OCRv6 reads the same line: the erasure took
    # nothing the digits needed.
    same = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="0629833321", edge_share=limit,
                      edge_reread_same=True)
    assert same.confidence == inside.confidence and same.rules == ("edge_reread_agrees",)
    # The same reading twice, but not the comb's value (PP-OCRv6 lost a digit both times): the comb stays held.
    lost = comb_field(field, words, cells, model, 1.0, ocr, typed=False, second="062983321", edge_share=limit,
                      edge_reread_same=True)
    assert lost.confidence == ocr.icr.disagree_confidence and "digit_on_cell_edge" in lost.rules
    # Typed digits sit in the middle of their cells; the engines decide them as before.
    typed = comb_field(field, words, cells, model, 1.0, ocr, typed=True, second="0629833321", edge_share=1.0)
    assert typed.confidence >= ocr.text_confidence_min and "digit_on_cell_edge" not in typed.rules


def test_each_combs_second_look_is_its_own() -> None:
    """PP-OCRv6 reads only the combs laid out again; each comb gets the reading of its own row, or none."""
    from pipeline.reading.scan.combs import CombStrip
    from pipeline.reading.scan.second_reader import LineReading
    from pipeline.reading.scan.strips import stack_zones

    rows = [np.full((10, 30), 255, np.uint8) for _ in range(4)]
    combs = CombStrip(stack_zones(rows, 2, 2), [form_v1().field(n) for n in (
        "pupil_birth_date", "pupil_postcode", "guardian1_phone", "family_date")], {}, [[], [], [], []], [],
        restored=stack_zones(rows[:2], 2, 2), restored_slots=[None, 0, None, 1])
    assert len(combs.restored_crops()) == 2
    readings = combs.restored_readings([LineReading("95 1 00", 0.9), LineReading("01/10/2026", 0.9)])
    assert readings == [None, "95100", None, "01/10/2026"]


def test_a_restored_row_differs_from_the_first_only_by_the_outline_given_back() -> None:
    """A review of 11e9181: the restored row was drawn from the grey page everywhere, so on a photo it differed
    from the first row round every digit (paper grey), and PP-OCRv6's second look compared two different rows."""
    from pipeline.reading.scan.comb_cells import CellInk
    from pipeline.reading.scan.combs import _digit_row

    mask = np.zeros((30, 20), np.uint8)
    mask[5:25, 8:11] = 1
    restored = mask.copy()
    restored[5:25, 4:6] = 1  # the edge's segment along the digit
    ocr_image = np.full((60, 60), 255, np.uint8)
    ocr_image[10:40, 10:30][mask > 0] = 40
    page = np.full((60, 60), 170, np.uint8)  # a photo's grey paper, the outline darker
    page[10:40, 10:30][restored > 0] = 60
    first = _digit_row([CellInk(0, mask, 60.0, (10, 10))], ocr_image, 4)
    second = _digit_row([CellInk(0, mask, 60.0, (10, 10), 1.0, restored)], ocr_image, 4, None, page)
    assert first.shape[0] == second.shape[0] and second.shape[1] > first.shape[1]
    # The digit and the paper round it as in the first row; the segment in its own grey, left of the digit.
    assert (second[:, -first.shape[1] + 4:] == first[:, 4:]).all()
    assert (second[5:25, 4:6] == 60).all() and (second[second != 255] <= 60).all()
