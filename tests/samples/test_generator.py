"""The sample generator's shortcuts give the same files as the whole generation (issue 19: test time)."""

from __future__ import annotations

import pytest

from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.directory import Directory


def test_a_photo_forms_first_page_alone_is_the_same_file_as_in_the_whole_form(directory: Directory) -> None:
    whole = generate_documents(SampleKind.PHOTO_JPEG, 2, 2026, directory)
    (first,) = generate_documents(SampleKind.PHOTO_JPEG, 2, 2026, directory, first_page_only=True)
    assert len(whole) == 2
    assert (first.name, first.data) == (whole[0].name, whole[0].data)
    conditions, whole_conditions = first.truth.pop("conditions"), dict(whole[0].truth.pop("conditions"))  # type: ignore[call-overload]
    assert first.truth == whole[0].truth  # the whole form's values and pages
    assert conditions == {"p1": whole_conditions["p1"]}  # what was done to the page written
    with pytest.raises(ValueError, match="first_page_only"):
        generate_documents(SampleKind.SCAN_300_GREY_JPEG, 0, 2026, directory, first_page_only=True)
