"""Poor copies, stamped pages and oddly assembled documents (issue 3), for the seeded generator.

Kinds made here (see ``samples/README.md``, "Hard inputs"):

* ``scan_photocopy``: a photocopy of a photocopy: each generation loses contrast, blurs, adds toner
  speckle and the copier's streaks (vertical drum lines, a horizontal line from the glass), turns
  the sheet slightly; sent as a grey JPEG per page or a black-and-white two-page TIFF.
* ``fax_200x100``: a black-and-white fax at 200 × 100 dpi (half the vertical resolution, the
  "standard" fax mode), with the sending machine's header line; a two-page Group 3/4 TIFF that
  states its resolution, or (one time in three) a PNG per page that states none.
* ``fax_halftone``: the same fax sent in the machine's photo (halftone) mode: grey is error-diffused
  (Floyd-Steinberg) into scattered dots instead of thresholded, so letters arrive as dot patterns.
* ``scan_stamped``: a school stamp (round or rectangular, blue or red, the school's name) and/or a
  signature overlapping a zone or a tick box; colour or grey JPEG per page.
* ``scan_two_up``: both pages side by side in one image: an A3 landscape flatbed scan (image-only
  PDF or JPEG) or a phone photo of the two sheets on a desk.
* ``pdf_wrong_order``: a scanned image-only PDF whose page 2 comes before page 1.

Each function returns ``(files, conditions)`` as ``samples.generator._hard_documents`` does:
``files`` holds ``(suffix, bytes)`` pairs (an extension for one file, ``p1.jpg`` style for a
file per page) and ``conditions`` says what was done to each page, for the ground truth.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pipeline.form.definition import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, Field, FieldKind, Rect, form_v1
from samples.kinds import SampleKind
from schemas.extraction import FormValues

Files = list[tuple[str, bytes]]
Conditions = dict[str, object]

PAPER = 240.0
"""Grey of a copier's paper (0-255)."""
STAMP_INKS = {"blue": (38, 64, 168), "red": (186, 36, 48)}
"""RGB of the two stamp pad inks schools use (measured on scans of real French school stamps: a
saturated ultramarine and a carmine; both come out near grey 70-90 once converted to grey)."""
SIGNATURE_INKS = {"blue": (30, 45, 120), "black": (25, 25, 30)}
"""RGB of ballpoint ink: blue and black."""
FAX_DPI = (200, 100)
"""Horizontal and vertical resolution of a "standard" Group 3 fax (ITU-T T.4: 8 dots/mm by 3.85 lines/mm)."""
STAMP_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
"""A bold sans font for stamp lettering (Debian fonts-dejavu-core); Pillow's default font otherwise."""


def copy_documents(kind: SampleKind, values: FormValues, form_id: str, rng: random.Random,
                   pages: Sequence[int] = (1, 2)) -> tuple[Files, Conditions]:
    """Files of one form of a copy kind, and what was done to each page.

    Args:
        kind: A kind of ``samples.kinds.COPY_KINDS``.
        values: Field name → raw value written on the form.
        form_id: Serial printed in the QR codes.
        rng: Seeded random source; drives every choice.
        pages: Pages of the form to produce (1-based).

    Returns:
        ``(files, conditions)``; see the module docstring.

    Raises:
        ValueError: ``kind`` is not one of the copy kinds.
    """
    from samples.scanner import render_filled_pdf

    pdf = render_filled_pdf(values, form_id, signature_seed=rng.randint(0, 10_000))
    if kind is SampleKind.SCAN_PHOTOCOPY:
        return _photocopy_documents(pdf, rng, pages)
    if kind in (SampleKind.FAX_200X100, SampleKind.FAX_HALFTONE):
        return _fax_documents(pdf, rng, pages, halftone=kind is SampleKind.FAX_HALFTONE)
    if kind is SampleKind.SCAN_STAMPED:
        return _stamped_documents(pdf, values, rng, pages)
    if kind is SampleKind.SCAN_TWO_UP:
        return _two_up_documents(pdf, rng, pages)
    if kind is SampleKind.PDF_WRONG_ORDER:
        return _wrong_order_documents(pdf, rng, pages)
    raise ValueError(f"not a copy kind: {kind!r}")


def _encode(images: Sequence[Image.Image], fmt: str, dpi: tuple[float, float], quality: int = 85,
            compression: str | None = None) -> bytes:
    """Save images (several only for PDF and TIFF) in ``fmt`` with a resolution of ``dpi`` (x, y)."""
    buf = io.BytesIO()
    if fmt == "PDF":
        images[0].save(buf, format="PDF", resolution=float(dpi[0]), save_all=True, append_images=list(images[1:]))
    elif fmt == "TIFF":
        images[0].save(buf, format="TIFF", dpi=dpi, save_all=True, append_images=list(images[1:]),
                       compression=compression or ("group4" if images[0].mode == "1" else "tiff_lzw"))
    elif fmt == "JPEG":
        images[0].save(buf, format="JPEG", dpi=dpi, quality=quality)
    else:
        images[0].save(buf, format=fmt, optimize=True)  # no dpi: the file says nothing of its resolution
    return buf.getvalue()


# --- Photocopy of a photocopy -------------------------------------------------------------------


def photocopy(grey: np.ndarray, dpi: int, rng: random.Random, generations: int = 2) -> tuple[np.ndarray, dict]:
    """Copy a page ``generations`` times on a tired office copier.

    Each generation: the sheet turns a little on the glass (±1°), the optics blur, contrast is lost
    (black toner comes out grey and the paper greyer, as on copies of copies), loose toner leaves
    specks, and the copier adds its streaks: a thin vertical line where the drum is scratched
    (every copy of that machine has it at the same place), sometimes a faint horizontal line.

    Args:
        grey: ``uint8`` page, paper white (255) and ink black, rasterised at ``dpi``.
        dpi: Resolution of ``grey`` in px per inch.
        rng: Drives every random choice.
        generations: Copies of copies (2 for a photocopy of a photocopy).

    Returns:
        The copied page (``uint8``, same shape) and what was done: per generation the skew in
        degrees, the contrast kept, the streaks (axis, position and width in pt, darkness 0-1)
        and the speck count.
    """
    page: np.ndarray = grey.astype(np.float32)
    h, w = page.shape
    s = dpi / 72.0
    np_rng = np.random.default_rng(rng.getrandbits(64))
    done: list[dict[str, object]] = []
    for _ in range(generations):
        skew = rng.uniform(-1.0, 1.0)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
        matrix[:, 2] += np.array([rng.uniform(-2, 2) * s, rng.uniform(-2, 2) * s])
        page = cv2.warpAffine(page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                              borderValue=255.0)
        page = cv2.GaussianBlur(page, (0, 0), rng.uniform(0.4, 0.8) * dpi / 300)
        # Contrast loss: toner does not reach full black and the paper background greys.
        black, white = rng.uniform(25, 60), rng.uniform(225, 245)
        page = black + page / 255.0 * (white - black)
        kept = (white - black) / 255.0
        streaks: list[dict[str, object]] = []
        for axis in ["vertical"] * rng.randint(0, 2) + ["horizontal"] * (rng.random() < 0.35):
            width_pt = rng.uniform(0.3, 0.9)
            darkness = rng.uniform(0.25, 0.7)
            width_px = max(1, int(round(width_pt * s)))
            pos_pt = rng.uniform(40, (PAGE_WIDTH_PT if axis == "vertical" else PAGE_HEIGHT_PT) - 40)
            p = int(pos_pt * s)
            # The line wavers a pixel or two along its length, and its darkness varies.
            along = h if axis == "vertical" else w
            waver = np.cumsum(np_rng.normal(0, 0.05, along)).clip(-2, 2).astype(int)
            shade = np.asarray(darkness * (0.7 + 0.3 * np_rng.random(along)))
            for i in range(along):
                a = p + waver[i]
                if axis == "vertical":
                    page[i, a:a + width_px] *= 1.0 - shade[i]
                else:
                    page[a:a + width_px, i] *= 1.0 - shade[i]
            streaks.append({"axis": axis, "at_pt": round(pos_pt, 1), "width_pt": round(width_pt, 2),
                            "darkness": round(darkness, 2)})
        specks = int(rng.uniform(2, 8) * w * h / (s * 72) ** 2)  # 2-8 specks per square inch
        ys, xs = np_rng.integers(0, h, specks), np_rng.integers(0, w, specks)
        radii = np_rng.choice([1, 1, 1, 2], specks)
        for y, x, r in zip(ys, xs, radii, strict=True):
            cv2.circle(page, (int(x), int(y)), int(r), float(rng.uniform(40, 120)), -1)  # type: ignore[arg-type]
        done.append({"skew_deg": round(skew, 2), "contrast_kept": round(kept, 2), "streaks": streaks,
                     "specks": specks})
    page += np_rng.normal(0, 4.0, page.shape).astype(np.float32)
    return np.clip(page, 0, 255).astype(np.uint8), {"generations": done}


def _photocopy_documents(pdf: bytes, rng: random.Random, pages: Sequence[int]) -> tuple[Files, Conditions]:
    """Photocopies of photocopies, scanned grey (JPEG per page) or black and white (two-page TIFF)."""
    from samples.scanner import BW_THRESHOLD, rasterise_pdf_page

    mode = rng.choice(("grey", "grey", "bw"))
    dpi = 300 if mode == "grey" else rng.choice((200, 300))
    conditions: Conditions = {}
    images = []
    for p in pages:
        grey = np.asarray(rasterise_pdf_page(pdf, p, dpi))
        copied, done = photocopy(grey, dpi, rng)
        if mode == "bw":
            images.append(Image.fromarray(np.where(copied < BW_THRESHOLD, 0, 255).astype(np.uint8)).convert("1"))
        else:
            images.append(Image.fromarray(copied))
        conditions[f"p{p}"] = {**done, "mode": mode, "dpi": dpi}
    if mode == "bw":
        return [("tif", _encode(images, "TIFF", (dpi, dpi)))], conditions
    return [(f"p{p}.jpg", _encode([im], "JPEG", (dpi, dpi), rng.randint(60, 80)))
            for p, im in zip(pages, images, strict=True)], conditions


# --- Fax ----------------------------------------------------------------------------------------


def fax_page(grey: np.ndarray, rng: random.Random, header: str, halftone: bool = False) -> Image.Image:
    """A 1-bit fax page at 200 × 100 dpi from a page rasterised at 200 dpi.

    The sending machine scans at 200 dpi across and 100 lines per inch down (half the rows), at
    a fixed threshold, and prints its header line across the top of the page. In photo (halftone)
    mode it keeps grey as a density of dots instead: the page, its paper taken to white, is
    error-diffused (Pillow's Floyd-Steinberg), and the letters' greyed edges arrive as scattered dots.

    Args:
        grey: ``uint8`` page at 200 × 200 dpi.
        rng: Skew (±1.5°) and threshold jitter.
        header: Text of the header line (sender, date, page).
        halftone: Error-diffuse instead of thresholding.

    Returns:
        A PIL image in mode ``"1"`` of the same width and half the height.
    """
    from samples.scanner import simulate_scan

    scan = np.asarray(simulate_scan(Image.fromarray(grey), 200, skew_deg=rng.uniform(-1.5, 1.5),
                                    offset_pt=(rng.uniform(-3, 3), rng.uniform(-3, 3)), noise=0.02,
                                    blur_px=0.5, jpeg_quality=None, rng=rng))
    h, w = scan.shape
    half = cv2.resize(scan, (w, h // 2), interpolation=cv2.INTER_AREA)
    level = rng.uniform(135, 165)  # drawn in both modes: the thresholded kind's draws stay as they were
    if halftone:  # the paper's grey and its noise to white, as the machine's background suppression does
        paper = 0.92 * float(np.percentile(half, 75))
        half = np.clip(half.astype(np.float32) * 255.0 / max(paper, 1.0), 0, 255).astype(np.uint8)
        out = Image.fromarray(half).convert("1").convert("L")  # Floyd-Steinberg, Pillow's default
    else:
        out = Image.fromarray(np.where(half < level, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(out)
    draw.text((int(0.3 * 200), 1), header, fill=0, font=ImageFont.load_default())
    return out.convert("1")


def _fax_documents(pdf: bytes, rng: random.Random, pages: Sequence[int], halftone: bool = False
                   ) -> tuple[Files, Conditions]:
    """A two-page fax TIFF stating 200 × 100 dpi, or (one time in three) a PNG per page stating none; in photo
    (``halftone``) mode when asked (:func:`fax_page`)."""
    from samples.scanner import rasterise_pdf_page

    stated = rng.random() < 0.67
    compression = rng.choice(("group3", "group4"))
    sent = f"{rng.randint(1, 28):02d}/{rng.randint(9, 11):02d}/2026 {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}"
    images = [fax_page(np.asarray(rasterise_pdf_page(pdf, p, 200)), rng,
                       f"{sent}  DE: ECOLE  01 39 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
                       f"   P.{i + 1:03d}/{len(pages):03d}", halftone)
              for i, p in enumerate(pages)]
    conditions: Conditions = {f"p{p}": {"dpi": list(FAX_DPI) if stated else None, "halftone": halftone,
                                        "compression": compression if stated else "png"} for p in pages}
    if stated:
        return [("tif", _encode(images, "TIFF", FAX_DPI, compression=compression))], conditions
    return [(f"p{p}.png", _encode([im], "PNG", FAX_DPI)) for p, im in zip(pages, images, strict=True)], conditions


# --- Stamps and signatures ----------------------------------------------------------------------


def _font(size_px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(STAMP_FONT, size_px)
    except OSError:
        return ImageFont.load_default()


def stamp_image(school: str, shape: str, px_per_pt: float, rng: random.Random) -> Image.Image:
    """Draw a school stamp as an ink-coverage mask (0 none, 255 full ink), unturned.

    A round stamp is two rings with the school's name around them and the town in the middle,
    about 40 mm across; a rectangular one is a double frame about 55 × 25 mm with the name on
    two lines and the town. Real stamps print unevenly: the coverage is broken by a random texture.

    Args:
        school: The school's name as the stamp spells it (upper case).
        shape: ``"round"`` or ``"rect"``.
        px_per_pt: Resolution of the page the stamp goes on.
        rng: Texture and size jitter.

    Returns:
        A PIL image in mode ``"L"``.
    """
    s = px_per_pt
    font_px = max(8, int(7.5 * s))
    if shape == "round":
        radius = rng.uniform(52, 60) * s
        side = int(2 * radius + 4 * s)
        im = Image.new("L", (side, side), 0)
        draw = ImageDraw.Draw(im)
        c = side / 2
        for r in (radius, radius - 2.2 * s, radius * 0.62):
            draw.ellipse((c - r, c - r, c + r, c + r), outline=255, width=max(1, int(1.2 * s)))
        text = f"{school} * ARGENTEUIL * "
        font = _font(font_px)
        ring = radius * 0.81
        for i, ch in enumerate(text):
            angle = -math.pi / 2 + 2 * math.pi * i / len(text)
            glyph = Image.new("L", (font_px * 2, font_px * 2), 0)
            ImageDraw.Draw(glyph).text((font_px // 2, font_px // 4), ch, fill=255, font=font)
            glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BILINEAR)
            x, y = c + ring * math.cos(angle) - font_px, c + ring * math.sin(angle) - font_px
            im.paste(255, (int(x), int(y)), glyph)
        inner = _font(max(8, int(8 * s)))
        draw.text((c, c - 5 * s), "95100", fill=255, font=inner, anchor="mm")
        draw.text((c, c + 6 * s), "ARGENTEUIL", fill=255, font=_font(max(8, int(6 * s))), anchor="mm")
    else:
        w, h = int(rng.uniform(150, 165) * s), int(rng.uniform(64, 74) * s)
        im = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(im)
        draw.rectangle((0, 0, w - 1, h - 1), outline=255, width=max(1, int(1.5 * s)))
        draw.rectangle((3 * s, 3 * s, w - 3 * s, h - 3 * s), outline=255, width=max(1, int(0.6 * s)))
        words = school.split()
        cut = max(1, len(words) // 2)
        lines = [" ".join(words[:cut]), " ".join(words[cut:]), "95100 ARGENTEUIL", "Tél. 01 39 00 00 00"]
        font = _font(max(8, int(min(8.5 * s, (w - 12 * s) / max(len(x) for x in lines) * 1.7))))
        for i, line in enumerate(lines):
            draw.text((w / 2, h * (0.2 + 0.2 * i)), line, fill=255, font=font, anchor="mm")
    ink = np.asarray(im, np.float32) / 255.0
    np_rng = np.random.default_rng(rng.getrandbits(64))
    texture = cv2.GaussianBlur(np_rng.random(ink.shape).astype(np.float32), (0, 0), 1.5 * s)
    texture = (texture - texture.min()) / max(1e-6, float(np.ptp(texture)))
    ink = ink * np.clip(0.45 + 0.9 * texture, 0.0, 1.0)
    return Image.fromarray((ink * 255).astype(np.uint8))


def signature_image(px_per_pt: float, rng: random.Random) -> Image.Image:
    """A handwritten signature as an ink-coverage mask: a few looping strokes about 110 × 40 pt.

    Args:
        px_per_pt: Resolution of the page the signature goes on.
        rng: Shape of the strokes.

    Returns:
        A PIL image in mode ``"L"`` (0 none, 255 ink).
    """
    s = px_per_pt
    w, h = int(115 * s), int(45 * s)
    im = np.zeros((h, w), np.uint8)
    t = np.linspace(0, 1, 400)
    x = 6 * s + t * (w - 12 * s)
    loops = rng.randint(3, 6)
    y = h / 2 + (h * 0.3) * np.sin(2 * np.pi * loops * t + rng.uniform(0, 6)) * (1 - 0.5 * t)
    x = x + 8 * s * np.sin(2 * np.pi * loops * t * 2)
    pts = np.stack([x, y], axis=1).astype(np.int32)
    cv2.polylines(im, [pts], False, 255, max(1, int(0.9 * s)), lineType=cv2.LINE_AA)
    # The final flourish, under the name.
    cv2.line(im, (int(10 * s), int(h * 0.8)), (int(w - 8 * s), int(h * 0.7)), 255, max(1, int(0.8 * s)),
             lineType=cv2.LINE_AA)
    return Image.fromarray(im)


def _ink_on(rgb: np.ndarray, coverage: Image.Image, centre_px: tuple[float, float], angle_deg: float,
            colour: tuple[int, int, int]) -> tuple[float, float, float, float]:
    """Print ``coverage`` (turned by ``angle_deg``) in ``colour`` onto ``rgb`` centred at ``centre_px``.

    The ink multiplies the page (it darkens what is under it, as ink on paper does).

    Returns:
        Bounding box of the printed mask ``(x0, y0, x1, y1)`` in page pixels.
    """
    turned = np.asarray(coverage.rotate(angle_deg, resample=Image.Resampling.BILINEAR, expand=True), np.float32) / 255.0
    th, tw = turned.shape
    x0, y0 = int(centre_px[0] - tw / 2), int(centre_px[1] - th / 2)
    h, w = rgb.shape[:2]
    ax0, ay0, ax1, ay1 = max(0, x0), max(0, y0), min(w, x0 + tw), min(h, y0 + th)
    cov = turned[ay0 - y0:ay1 - y0, ax0 - x0:ax1 - x0, None]
    tint = np.array(colour, np.float32) / 255.0
    region = rgb[ay0:ay1, ax0:ax1].astype(np.float32)
    rgb[ay0:ay1, ax0:ax1] = np.clip(region * (1 - cov + cov * tint), 0, 255).astype(np.uint8)
    ys, xs = np.nonzero(cov[..., 0] > 0.1)
    if not len(xs):
        return (0.0, 0.0, 0.0, 0.0)
    return (float(ax0 + xs.min()), float(ay0 + ys.min()), float(ax0 + xs.max()), float(ay0 + ys.max()))


def covered_fields(mask_box_pt: Rect, ink_pt: np.ndarray, px_per_pt: float, page: int) -> list[str]:
    """Names of the fields of ``page`` whose zone (tick boxes for choices) holds some of the printed ink.

    Args:
        mask_box_pt: Where the ink lies, in pt (its bounding box).
        ink_pt: Boolean ink mask of the whole page at ``px_per_pt``.
        px_per_pt: Scale of ``ink_pt``.
        page: 1-based page.
    """
    out = []
    for f in form_v1().page_fields(page):
        rects = [b.rect for b in f.boxes] if f.is_tick else [f.rect]
        for r in rects:
            if (r.x1 < mask_box_pt.x0 or r.x0 > mask_box_pt.x1 or r.bottom < mask_box_pt.top
                    or r.top > mask_box_pt.bottom):
                continue
            y0, y1 = int(r.top * px_per_pt), int(math.ceil(r.bottom * px_per_pt))
            x0, x1 = int(r.x0 * px_per_pt), int(math.ceil(r.x1 * px_per_pt))
            if ink_pt[y0:y1, x0:x1].any():
                out.append(f.name)
                break
    return out


def _target_field(page: int, rng: random.Random) -> Field:
    """A zone or tick-box field of ``page`` for a stamp or signature to land on."""
    fields = [f for f in form_v1().page_fields(page) if f.kind is not FieldKind.SIGNATURE]
    return rng.choice(fields)


def _stamped_documents(pdf: bytes, values: FormValues, rng: random.Random,
                       pages: Sequence[int]) -> tuple[Files, Conditions]:
    """A stamp on one page over a zone or box, and on the other a stamp or a signature over another zone.

    300 dpi, colour JPEG (grey one time in four: the school's scanner was set to grey).
    """
    from samples.scanner import rasterise_pdf_page, simulate_scan

    dpi = 300
    s = dpi / 72.0
    school = str(values.get("school_name") or "ECOLE").upper()
    colour_scan = rng.random() < 0.75
    files: Files = []
    conditions: Conditions = {}
    for i, p in enumerate(pages):
        grey = np.asarray(rasterise_pdf_page(pdf, p, dpi))
        rgb = np.repeat(grey[..., None], 3, axis=2).copy()
        marks: list[dict[str, object]] = []
        what = "stamp" if i == 0 else rng.choice(("stamp", "signature", "both"))
        for mark in (("stamp", "signature") if what == "both" else (what,)):
            target = _target_field(p, rng)
            tx, ty = target.rect.center
            if target.rect.width > 120:  # a long line: land somewhere along it
                tx = rng.uniform(target.rect.x0 + 40, target.rect.x1 - 40)
            centre = ((tx + rng.uniform(-15, 15)) * s, (ty + rng.uniform(-10, 10)) * s)
            if mark == "stamp":
                shape, ink_name = rng.choice(("round", "rect")), rng.choice(tuple(STAMP_INKS))
                coverage = stamp_image(school, shape, s, rng)
                colour = STAMP_INKS[ink_name]
            else:
                shape, ink_name = "signature", rng.choice(tuple(SIGNATURE_INKS))
                coverage = signature_image(s, rng)
                colour = SIGNATURE_INKS[ink_name]
            angle = rng.uniform(-25, 25)
            before = rgb.min(axis=2).copy()
            x0, y0, x1, y1 = _ink_on(rgb, coverage, centre, angle, colour)
            printed = (before.astype(np.int16) - rgb.min(axis=2)) > 25
            covers = covered_fields(Rect(x0 / s, y0 / s, x1 / s, y1 / s), printed, s, p)
            marks.append({"mark": mark, "shape": shape, "ink": ink_name, "target": target.name,
                          "centre_pt": [round(centre[0] / s, 1), round(centre[1] / s, 1)],
                          "angle_deg": round(angle, 1), "covers": covers})
        channel_seed = rng.randrange(2**32)
        skew, offset = rng.uniform(-2, 2), (rng.uniform(-4, 4), rng.uniform(-4, 4))
        channels = [np.asarray(simulate_scan(Image.fromarray(rgb[..., c]), dpi, skew_deg=skew, offset_pt=offset,
                                             noise=0.015, blur_px=0.5, jpeg_quality=None,
                                             rng=random.Random(channel_seed)))
                    for c in range(3)]
        image = Image.fromarray(np.stack(channels, axis=2), mode="RGB")
        if not colour_scan:
            image = image.convert("L")
        files.append((f"p{p}.jpg", _encode([image], "JPEG", (dpi, dpi), rng.randint(75, 90))))
        conditions[f"p{p}"] = {"colour": colour_scan, "marks": marks}
    return files, conditions


# --- Two pages in one image ---------------------------------------------------------------------


def _two_up_documents(pdf: bytes, rng: random.Random, pages: Sequence[int]) -> tuple[Files, Conditions]:
    """Both pages side by side: an A3 landscape scan (PDF or JPEG) or a phone photo of the two sheets."""
    from samples.scanner import rasterise_pdf_page, simulate_photo, simulate_scan

    order = list(pages) if rng.random() < 0.7 else list(reversed(pages))
    layout = rng.choice(("a3_scan", "a3_scan", "photo"))
    dpi = 200
    s = dpi / 72.0
    sheets = [np.asarray(rasterise_pdf_page(pdf, p, dpi)) for p in order]
    h, w = sheets[0].shape
    gap = int(rng.uniform(0, 6) * s) if layout == "a3_scan" else int(rng.uniform(20, 40) * s)
    canvas = np.full((h, 2 * w + gap), 255 if layout == "a3_scan" else 70, np.uint8)
    placed = []
    for i, sheet in enumerate(sheets):
        skew = rng.uniform(-2, 2)
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
        turned = cv2.warpAffine(sheet, matrix, (w, h), borderMode=cv2.BORDER_CONSTANT,
                                borderValue=255 if layout == "a3_scan" else 70)
        canvas[:, i * (w + gap):i * (w + gap) + w] = turned
        placed.append(round(skew, 2))
    conditions: Conditions = {"layout": layout, "left_page": order[0], "sheet_skew_deg": placed}
    if layout == "a3_scan":
        image = simulate_scan(Image.fromarray(canvas), dpi, skew_deg=rng.uniform(-1, 1),
                              offset_pt=(rng.uniform(-4, 4), rng.uniform(-4, 4)), noise=rng.uniform(0.01, 0.03),
                              blur_px=0.5, jpeg_quality=None, rng=rng)
        if rng.random() < 0.5:
            conditions["file"] = "pdf"
            return [("pdf", _encode([image], "PDF", (dpi, dpi)))], conditions
        conditions["file"] = "jpg"
        return [("jpg", _encode([image], "JPEG", (dpi, dpi), rng.randint(75, 90)))], conditions
    photo = simulate_photo(Image.fromarray(canvas), dpi=dpi, tilt_deg=10.0, roll_deg=rng.uniform(-4, 4),
                           fill=rng.uniform(0.72, 0.8),
                           shadow=rng.random() < 0.5, blur_px=rng.uniform(0.5, 1.0), jpeg_quality=rng.randint(85, 93),
                           frame_px=(4032, 3024), rng=rng)
    conditions["file"] = "jpg"
    return [("jpg", _encode([photo], "JPEG", (72, 72), 90))], conditions


# --- Pages in the wrong order -------------------------------------------------------------------


def _wrong_order_documents(pdf: bytes, rng: random.Random, pages: Sequence[int]) -> tuple[Files, Conditions]:
    """An image-only PDF of the scanned pages, last page first (a stack fed the wrong way round)."""
    from samples.scanner import random_scan

    dpi = rng.choice((200, 300))
    order = list(reversed(pages))
    images = [random_scan({}, "", p, rng, dpi=dpi, pdf=pdf) for p in order]
    return [("pdf", _encode(images, "PDF", (dpi, dpi)))], {"page_order": order, "dpi": dpi}
