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

    typed = comb_field(field, words, cells, model, 1.0, ocr, typed=True)
    assert typed.value == "13/06/2018" and typed.confidence >= ocr.text_confidence_min

    written = comb_field(field, words, cells, model, 1.0, ocr, typed=False)
    assert written.confidence < ocr.text_confidence_min  # handwriting: the two readers must agree
    assert written.value == "13/06/2018" and written.model_digits == "19082018"  # the model's own reading kept

    doubtful = comb_field(field, [Word("13062018", 0.5, 0, 0)], cells, model, 1.0, ocr, typed=True)
    assert doubtful.confidence < ocr.text_confidence_min
