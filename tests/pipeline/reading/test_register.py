"""Registration of scans on the template: anchors, homography, residual, warp; a photo's shadow flattened."""

from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.errors import RegistrationError
from pipeline.form.definition import form_v1
from pipeline.reading.identify import identify_page
from pipeline.reading.register import fit_homography, flatten_illumination, ink_threshold, register_page
from pipeline.reading.scan.pixels import ink_mask
from samples.scanner import render_filled_pdf, simulate_scan


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_filled_pdf({"pupil_surname": "LEFÈVRE", "pupil_postcode": "95100"}, "FO-2026-000512")


def _anchor_centroid_pt(
    image: np.ndarray, px_per_pt: float, center_pt: tuple[float, float]
) -> tuple[float, float] | None:
    """Centroid (pt) of the ink within 12 pt of ``center_pt`` on a registered image; ``None`` if the
    square is not whole there (ink area off the nominal 14 × 14 pt by more than 20 %)."""
    cx, cy = (int(round(c * px_per_pt)) for c in center_pt)
    r = int(12 * px_per_pt)
    window = image[cy - r : cy + r, cx - r : cx + r] <= ink_threshold(image)
    ys, xs = np.nonzero(window)
    if not 0.8 < len(xs) / (14 * 14 * px_per_pt**2) < 1.2:
        return None
    return ((xs.mean() + cx - r) / px_per_pt, (ys.mean() + cy - r) / px_per_pt)


@pytest.mark.parametrize("tone", [0.95, 0.84])
def test_a_dithered_faxs_anchors_are_found_through_its_dots(pdf: bytes, tone: float) -> None:
    # A fax in photo mode keeping the paper's tone: its dots break the anchors' squares and pepper the paper
    # around them; looked for as received, 0-2 of 5 were found and the page registered on features (1.0 pt).
    import cv2
    from PIL import Image

    from pipeline.reading.normalise import square_pixels
    from pipeline.settings import OcrSettings
    from samples.scanner import rasterise_pdf_page

    grey = np.asarray(rasterise_pdf_page(pdf, 1, 200)).astype(np.float32) * tone
    scan = np.asarray(simulate_scan(Image.fromarray(grey.astype(np.uint8)), 200, skew_deg=0.8, jpeg_quality=None,
                                    rng=random.Random(3)))
    lines = cv2.resize(scan, (scan.shape[1], scan.shape[0] // 2), interpolation=cv2.INTER_AREA)
    received = square_pixels(np.asarray(Image.fromarray(lines).convert("1").convert("L")), 200.0, 100.0)

    page = register_page(identify_page(received), descreen_sigma_pt=OcrSettings().descreen_sigma_pt)

    assert (page.anchors_found, page.method) == (5, "anchors")
    assert page.residual_pt < 0.5


@pytest.mark.parametrize(("dpi", "mode", "skew"), [(300, "grey", 0.8), (200, "bw", -3.0)])
def test_anchors_land_on_the_template_after_warp(pdf: bytes, dpi: int, mode: str, skew: float) -> None:
    scan = simulate_scan(pdf, dpi, page=1, mode=mode, skew_deg=skew, offset_pt=(-3.0, 2.0),  # type: ignore[arg-type]
                         jpeg_quality=None, rng=random.Random(dpi))

    page = register_page(identify_page(np.asarray(scan)))

    assert page.dpi == dpi
    assert page.image.shape == (round(841.89 * dpi / 72), round(595.28 * dpi / 72))
    assert page.anchors_found >= 3  # at 3° a corner anchor may leave the scanned area
    assert page.residual_pt < 0.5 and 0.8 < page.quality <= 1.0
    checked = 0
    for anchor in form_v1().pages[0].anchors:
        found = _anchor_centroid_pt(page.image, page.px_per_pt, anchor.center)
        if found is None:
            continue  # the corner was outside the scanned area
        assert abs(found[0] - anchor.center[0]) < 0.5 and abs(found[1] - anchor.center[1]) < 0.5
        checked += 1
    assert checked >= 3


def _mask_anchors(scan: np.ndarray, dpi: float, count: int) -> np.ndarray:
    s = dpi / 72
    for a in form_v1().pages[0].anchors[:count]:
        scan[int(a.top * s) - 3 : int(a.bottom * s) + 3, int(a.x0 * s) - 3 : int(a.x1 * s) + 3] = 240
    return scan


def test_page_with_anchors_masked_is_registered_on_form_features(pdf: bytes) -> None:
    clean = simulate_scan(pdf, 200, page=1, skew_deg=0.0, offset_pt=(0.0, 0.0), rng=random.Random(2))
    scan = _mask_anchors(np.asarray(clean).copy(), 200, 3)

    page = register_page(identify_page(scan))

    assert page.method == "features" and page.anchors_found == 2
    assert page.residual_pt < 1.5
    # The two anchors left land on their template place within a point after the feature warp.
    for anchor in form_v1().pages[0].anchors[3:]:
        found = _anchor_centroid_pt(page.image, page.px_per_pt, anchor.center)
        assert found is not None
        assert abs(found[0] - anchor.center[0]) < 1.0 and abs(found[1] - anchor.center[1]) < 1.0


def test_our_qr_codes_on_another_document_are_not_registered(pdf: bytes) -> None:
    """A sheet that carries our QR codes but not the form (a newsletter with a pasted code) is refused."""
    scan = np.asarray(simulate_scan(pdf, 200, page=1, rng=random.Random(2))).copy()
    s = 200 / 72
    keep = np.zeros(scan.shape, bool)
    for qr in form_v1().pages[0].qr_codes:
        keep[int(qr.top * s) : int(qr.bottom * s) + 1, int(qr.x0 * s) : int(qr.x1 * s) + 1] = True
    other = np.where(keep, scan, 240).astype(np.uint8)
    rng = np.random.default_rng(5)
    for _ in range(60):  # lines of some other text
        y, x = int(rng.integers(200, 2000)), int(rng.integers(100, 900))
        other[y : y + 6, x : x + int(rng.integers(80, 500))] = 40

    with pytest.raises(RegistrationError) as info:
        register_page(identify_page(other))

    assert info.value.anchors_found < 3 and info.value.code == "registration_failed"


def test_fit_homography_reports_residual_in_points() -> None:
    template = [(0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0), (50.0, 30.0)]
    exact = [(2 * x + 10, 2 * y + 5) for x, y in template]

    _, residual = fit_homography(template, exact)
    assert residual == pytest.approx(0.0, abs=1e-6)

    moved = exact[:4] + [(exact[4][0] + 4.0, exact[4][1])]  # one mark 4 px = 2 pt off
    _, residual = fit_homography(template, moved)
    assert 0.1 < residual < 2.0

    with pytest.raises(RegistrationError):
        fit_homography(template[:3], exact[:3])


def test_photo_with_three_anchors_under_sticky_notes_is_read_on_form_features() -> None:
    from pipeline.reading.register import _apply, initial_homography
    from pipeline.reading.scan.page import read_scan_page
    from samples.scanner import simulate_photo

    values = {"pupil_surname": "LEFÈVRE", "pupil_birth_date": "14/03/2016", "class_level": ["CM1"],
              "existing_support": ["APC"]}
    photo = simulate_photo(render_filled_pdf(values, "FO-2026-000733"), page=1, tilt_deg=15.0, roll_deg=4.0,
                           fill=0.75, shadow=True, blur_px=1.0, jpeg_quality=85, rng=random.Random(4))
    grey = np.asarray(photo.convert("L")).copy()
    identified = identify_page(grey)
    h0 = initial_homography(identified)
    r = int(9 * identified.dpi_estimate / 72)
    for anchor in form_v1().pages[0].anchors[:3]:
        (cx, cy), = _apply(h0, [anchor.center])
        grey[max(0, int(cy) - r) : int(cy) + r, max(0, int(cx) - r) : int(cx) + r] = 235  # a sticky note

    assert register_page(identify_page(grey)).method == "features"
    fields = read_scan_page(grey).fields
    assert fields["pupil_surname"].value == "LEFÈVRE" and fields["pupil_birth_date"].value == "14/03/2016"
    assert fields["class_level"].value == ["CM1"] and fields["existing_support"].value == ["APC"]


def test_even_scan_is_left_alone_and_a_shadow_is_flattened() -> None:
    page = np.full((800, 600), 240, np.uint8)
    page[300:310, 100:400] = 30  # a line of text
    same, evenness = flatten_illumination(page, 200 / 72)
    assert same is page and evenness > 0.95

    shadowed = page.copy()
    shadowed[:, 300:] = (shadowed[:, 300:] * 0.55).astype(np.uint8)
    flat, evenness = flatten_illumination(shadowed, 200 / 72)
    assert evenness < 0.7
    assert flat[100, 500] > 200 and flat[305, 350] < 80  # shadowed paper white again, ink still ink


def test_a_sharp_shadow_edge_leaves_no_grey_band_that_reads_as_ink() -> None:
    s = 220 / 72  # a phone photo registered at 220 dpi
    page = np.full((900, 700), 235, np.uint8)
    box = (slice(400, 431), slice(330, 361))  # a 10-pt tick box, empty, just inside the shadow
    page[box[0].start, box[1]] = page[box[0].stop - 1, box[1]] = 40
    page[box[0], box[1].start] = page[box[0], box[1].stop - 1] = 40
    page[:, 320:] = (page[:, 320:] * 0.5).astype(np.uint8)  # the shadow of a hand, edge 3 pt off the box

    flat, _ = flatten_illumination(page, s)

    interior = ink_mask(flat)[403:428, 333:358]
    assert interior.mean() < 0.02  # bare paper, not a filled (cancelled) box
    assert flat[box[0].start, 345] < 120  # the box outline is still ink
