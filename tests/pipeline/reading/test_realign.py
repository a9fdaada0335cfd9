"""Local re-alignment of tick boxes and combs (issue 3) on a sheet that is not flat."""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

import pipeline.reading.scan.page as scan_page
from pipeline.form.definition import form_v1
from pipeline.form.template_image import blank_page_image
from pipeline.reading.identify import identify_page
from pipeline.reading.realign import fit_zone
from pipeline.reading.register import register_page
from pipeline.settings import RegistrationSettings
from samples.scanner import render_filled_pdf, simulate_scan

VALUES = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "pupil_postcode": "95100",
          "class_level": ["CM1"], "referrer_role": ["enseignant"], "existing_support": ["APC"],
          "criteria_method": ["organisation"], "criteria_attitude": ["confiance"]}


def _bulge(image: np.ndarray, amplitude_px: float) -> np.ndarray:
    """A sheet bulging in its middle (a page lifted off the glass): the centre moves by ``amplitude_px``
    down and right, the edges (anchors, QR codes) stay, so no homography can follow it."""
    h, w = image.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    d = (amplitude_px * np.sin(np.pi * ys / h) * np.sin(np.pi * xs / w)).astype(np.float32)
    return cv2.remap(image, xs - d, ys - d, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def bulged() -> np.ndarray:
    scan = simulate_scan(render_filled_pdf(VALUES, "FO-2026-000733"), 300, page=1, skew_deg=1.0,
                         rng=random.Random(1))
    return _bulge(np.asarray(scan.convert("L")), 3.0 * 300 / 72)  # 3 pt at the centre


def test_fit_zone_measures_the_local_shift(bulged: np.ndarray) -> None:
    page = register_page(identify_page(bulged))
    template = blank_page_image(1, page.dpi)
    box = next(b for b in form_v1().field("criteria_method").boxes if b.option == "methode")
    fit = fit_zone(page.image, template, box.rect, page.px_per_pt)
    cx, cy = box.rect.center
    # What the bulge did there, in pt, undone by the page-wide fit only at the edges.
    expected = 3.0 * np.sin(np.pi * cy / 842) * np.sin(np.pi * cx / 595)
    assert fit.clear
    assert abs(fit.dx_pt - expected) < 0.6 and abs(fit.dy_pt - expected) < 0.6
    registration = RegistrationSettings()
    expected = 1 - min(registration.local_fit_error_pt, page.residual_pt) / registration.max_residual_pt
    assert fit.quality(page.residual_pt) == pytest.approx(expected)


def test_realigned_boxes_read_right_where_the_page_wide_fit_misreads(bulged: np.ndarray,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ticks = [f for f in form_v1().page_fields(1) if f.is_tick]
    want = {f.name: VALUES.get(f.name, False if f.kind.value == "flag" else []) for f in ticks}

    fields = scan_page.read_scan_page(bulged).fields
    assert {f.name: fields[f.name].value for f in ticks} == want
    assert fields["pupil_birth_date"].value == "14/03/2016" and fields["pupil_postcode"].value == "95100"

    # The same page with the page-wide fit alone: box outlines enter the interiors and read as ticks.
    monkeypatch.setattr(scan_page, "realign_field", lambda f, image, template, s, residual, registration=None: (f, 1.0))
    global_only = scan_page.read_scan_page(bulged).fields
    assert {f.name: global_only[f.name].value for f in ticks} != want
