"""Every reason code staff can meet has a French label for summaries."""

from __future__ import annotations

import importlib
import pkgutil

import pipeline
from pipeline.errors import ClasError
from schemas.document import REASON_LABELS_FR
from schemas.referral import IssueCode


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_validation_and_error_code_has_a_french_label() -> None:
    for module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):  # error classes live beside their stage
        importlib.import_module(module.name)
    codes = {code.value for code in IssueCode}
    codes |= {cls.code for cls in _all_subclasses(ClasError) if cls.code not in ("clas_error", "document_error")}
    missing = codes - set(REASON_LABELS_FR)
    assert not missing
