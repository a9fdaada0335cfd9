"""Every reason code staff can meet has a French label for summaries."""

from __future__ import annotations

import inspect

import pipeline.errors as errors
from schemas.document import REASON_LABELS_FR
from schemas.referral import IssueCode


def test_every_validation_and_error_code_has_a_french_label() -> None:
    codes = {code.value for code in IssueCode}
    codes |= {cls.code for _, cls in inspect.getmembers(errors, inspect.isclass)
              if issubclass(cls, errors.ClasError) and cls.code not in ("clas_error", "document_error")}
    missing = codes - set(REASON_LABELS_FR)
    assert not missing
