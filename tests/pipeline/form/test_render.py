"""The rendered forms (``pipeline.form.render``): what a viewer prints of the fillable PDF's widgets."""

from __future__ import annotations

import io

from pypdf import PdfReader

from pipeline.form.render import Rendering, render_form


def test_the_fillable_forms_widgets_carry_no_border_colour() -> None:
    # Issue 16: a viewer printed each check box's /MK /BC inside the printed box, and empty boxes read as ticked.
    buf = io.BytesIO()
    render_form(buf, "FO-2026-N00001", Rendering.FILLABLE, {})

    widgets = [a.get_object() for page in PdfReader(buf).pages for a in page.get("/Annots", [])]

    assert len(widgets) > 60  # every tick box, comb run and text zone of both pages
    assert not [w.get("/T") for w in widgets if "/BC" in w.get("/MK", {})]
