"""Forms filled by hand: handwriting-like fonts drawn onto the scanned or photographed blank form.

The form is rendered with its text and comb fields left blank (``samples.scanner.render_filled_pdf``)
and rasterised; each value is then written onto the raster, character by character, in one
writer's hand: a handwriting font from a Debian package, blue or black ink, a baseline that
wobbles and letters whose size varies, digits one per comb cell with some crossing a cell edge.
Tick boxes are either typed or marked by hand (``samples.scanner.draw_hand_mark``). The page is
then scanned (``simulate_scan``) or photographed (``simulate_photo``).

Ink is first drawn as coverage on a white layer (0 = full ink), then laid over the page in the
ink's colour, so that pen strokes and hand marks blend the same way.
"""

from __future__ import annotations

import io
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.form.definition import (
    Field,
    FieldKind,
    FormDefinition,
    Rect,
    form_v1,
    form_v2,
    home_languages_choices,
    home_languages_text,
)
from samples.kinds import V2_KINDS, SampleKind
from schemas.extraction import FormValues


@dataclass(frozen=True)
class HandFont:
    """A handwriting-like font shipped by a Debian package.

    Attributes:
        name: Short name recorded in the ground truth's ``conditions``.
        package: Debian package that ships it (``apt-get install`` it).
        path: The font file the package installs.
        capitals: Whether its lower-case glyphs are capitals (Humor Sans): a writer with this
            font writes text in block capitals, and the ground truth holds the capitals.
        cursive: Whether it is joined-up school cursive.
        digits_from: Name of the hand whose digits this hand's writers use, when the font's own
            digits are not pen strokes (femkeklaver's are hollow outlines, which no pen writes).
    """

    name: str
    package: str
    path: Path
    capitals: bool = False
    cursive: bool = False
    digits_from: str | None = None


HAND_FONTS: tuple[HandFont, ...] = (
    HandFont("ecolier_court", "fonts-ecolier-court",
             Path("/usr/share/fonts/truetype/ecolier-court/Ecolier-court.ttf"), cursive=True),
    HandFont("breip", "fonts-breip", Path("/usr/share/fonts/truetype/breip/Breip.ttf")),
    HandFont("dkg", "fonts-dkg-handwriting", Path("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf")),
    HandFont("femkeklaver", "fonts-femkeklaver", Path("/usr/share/fonts/truetype/femkeklaver/femkeklaver.ttf"),
             digits_from="breip"),
    HandFont("humor_sans", "fonts-humor-sans", Path("/usr/share/fonts/truetype/humor-sans/Humor-Sans.ttf"),
             capitals=True),
)
"""The hands of issue 3: French school cursive, three print hands and one block-capital hand."""

INKS: dict[str, tuple[int, int, int]] = {"blue": (28, 48, 150), "black": (28, 28, 34)}
"""RGB of a ballpoint's ink on paper: the common blue and black."""

CAP_HEIGHT_PT = (7.5, 10.0)
"""Range of a writer's capital height in pt: 2.6-3.5 mm, as adults write in a 6 mm (17 pt) line."""
SIZE_JITTER = 0.08
"""Relative spread of one letter's size about the writer's size."""
WOBBLE_PT = 0.7
"""Standard deviation of the baseline's random walk, in pt per letter (kept within ±2 pt)."""
CROSSING_SHARE = 0.12
"""Share of comb digits written across a cell edge (shifted by 30-50 % of the cell, or too tall)."""
PEN_PT = (0.6, 0.9)
"""Range of a ballpoint's line width in pt (0.2-0.3 mm): every stroke is at least this wide, where the
fonts draw hairlines that no ballpoint makes."""
HAND_TICK_SHARE = 0.5
"""Share of forms whose boxes are ticked by hand rather than typed."""


class HandFontsMissingError(RuntimeError):
    """A handwriting font package is not installed.

    Attributes:
        packages: Debian packages to install (``apt-get install -y …``).
    """

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = tuple(packages)
        super().__init__(f"handwriting fonts missing: run `apt-get install -y {' '.join(self.packages)}` "
                         "(the Makefile's TEST_APT_PACKAGES lists them)")

    def __reduce__(self) -> tuple[type[HandFontsMissingError], tuple[tuple[str, ...]]]:
        """Pickle from the packages, not the message: the benchmark's worker processes send it back whole."""
        return (type(self), (self.packages,))


def missing_font_packages() -> list[str]:
    """Debian packages of :data:`HAND_FONTS` whose font file is not installed."""
    return [f.package for f in HAND_FONTS if not f.path.is_file()]


def require_hand_fonts() -> None:
    """Raise :class:`HandFontsMissingError` unless every font of :data:`HAND_FONTS` is installed."""
    missing = missing_font_packages()
    if missing:
        raise HandFontsMissingError(missing)


@cache
def _font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size_px)


X_TO_CAP = 0.62
"""Usual x-height over capital height of a hand (print hands measure 0.55-0.7)."""


@cache
def _cap_ratio(path: Path) -> float:
    """Effective capital height over font size, so that every font writes at a similar size.

    Fonts differ by a factor of two, and school cursive has tall capitals over a tiny x-height:
    the geometric mean of the size that gives the capital height and the size that gives the
    usual x-height (:data:`X_TO_CAP`) keeps cursive lower case legible without capitals that
    leave the line.
    """
    _, top, _, bottom = _font(path, 200).getbbox("H", anchor="ls")
    _, x_top, _, x_bottom = _font(path, 200).getbbox("x", anchor="ls")
    cap, x_height = (bottom - top) / 200.0, (x_bottom - x_top) / 200.0
    return float(np.sqrt(cap * x_height / X_TO_CAP))


@cache
def _digit_ratio(path: Path) -> float:
    """Height of the digit ``0`` over the font size."""
    _, top, _, bottom = _font(path, 200).getbbox("0", anchor="ls")
    return (bottom - top) / 200.0


@cache
def _has_glyph(path: Path, ch: str) -> bool:
    font = _font(path, 40)
    return bytes(font.getmask(ch)) != bytes(font.getmask("\uffff"))


@dataclass(frozen=True)
class Writer:
    """One person's hand: font, ink and size.

    Attributes:
        font: The handwriting font.
        ink: Key of :data:`INKS`.
        cap_height_pt: Height of a capital letter, in pt.
        pen_pt: Line width of the pen, in pt.
        slope_pt: How far the baseline rises (negative) or falls over a 100-pt line, in pt.
    """

    font: HandFont
    ink: str
    cap_height_pt: float
    pen_pt: float
    slope_pt: float

    def text(self, kind: FieldKind, value: str) -> str:
        """What this writer puts on paper for ``value``: block capitals for text, e-mails as they are."""
        return value.upper() if self.font.capitals and kind is FieldKind.TEXT else value


def random_writer(rng: random.Random) -> Writer:
    """A writer drawn at random: any installed hand, blue ink two times in three."""
    require_hand_fonts()
    return Writer(rng.choice(HAND_FONTS), rng.choices(("blue", "black"), (2, 1))[0],
                  rng.uniform(*CAP_HEIGHT_PT), rng.uniform(*PEN_PT), rng.uniform(-2.0, 2.0))


# --- Drawing on the ink layer (uint8, 255 = paper, 0 = full ink) --------------------------------

_ACCENTS = {"\u0301": "acute", "\u0300": "grave", "\u0302": "circumflex", "\u0308": "diaeresis",
            "\u0327": "cedilla"}


def _draw_accent(draw: ImageDraw.ImageDraw, accent: str, box: tuple[float, float, float, float],
                 pen_px: int) -> None:
    """Draw an accent by hand over (or, for a cedilla, under) a letter's ink box ``(x0, top, x1, bottom)`` px."""
    x0, top, x1, bottom = box
    cx, w = (x0 + x1) / 2, max(4.0, (x1 - x0) * 0.6)
    y = top - 0.35 * w
    if accent == "acute":
        draw.line([(cx - w * 0.2, y), (cx + w * 0.3, y - w * 0.45)], fill=0, width=pen_px)
    elif accent == "grave":
        draw.line([(cx - w * 0.3, y - w * 0.45), (cx + w * 0.2, y)], fill=0, width=pen_px)
    elif accent == "circumflex":
        draw.line([(cx - w * 0.35, y), (cx, y - w * 0.4), (cx + w * 0.35, y)], fill=0, width=pen_px)
    elif accent == "diaeresis":
        for dx in (-0.25 * w, 0.25 * w):
            draw.ellipse([cx + dx - pen_px, y - w * 0.2 - pen_px, cx + dx + pen_px, y - w * 0.2 + pen_px], fill=0)
    elif accent == "cedilla":
        draw.line([(cx, bottom), (cx + w * 0.2, bottom + w * 0.3), (cx - w * 0.2, bottom + w * 0.5)],
                  fill=0, width=pen_px)


def _glyphs(font: HandFont, text: str) -> list[tuple[str, str | None]]:
    """Letters to draw with the accent to add by hand when the font lacks the accented glyph."""
    out: list[tuple[str, str | None]] = []
    for ch in text:
        if _has_glyph(font.path, ch) or ch == " ":
            out.append((ch, None))
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        base, marks = decomposed[0], decomposed[1:]
        accent = next((_ACCENTS[m] for m in marks if m in _ACCENTS), None)
        out.append((base if _has_glyph(font.path, base) else "?", accent))
    return out


def write_line(layer: Image.Image, text: str, rect_pt: Rect, px_per_pt: float, writer: Writer,
               rng: random.Random) -> None:
    """Write ``text`` by hand on the dotted line of a text zone, in place.

    Args:
        layer: Ink layer (mode ``"L"``, 255 paper) of the page at ``px_per_pt``.
        text: What the writer writes (already in capitals for a block-capital hand).
        rect_pt: The zone (PDF points, top-left origin); the baseline sits 3-4.5 pt above its bottom.
        px_per_pt: Scale of ``layer`` (``dpi / 72``).
        writer: Font, size and slope of the hand.
        rng: Wobble, size jitter and spacing.
    """
    glyphs = _glyphs(writer.font, text)
    size_px = writer.cap_height_pt / _cap_ratio(writer.font.path) * px_per_pt
    natural = sum(_font(writer.font.path, int(round(size_px))).getlength(ch) for ch, _ in glyphs)
    room = (rect_pt.width - 8) * px_per_pt
    if natural > room:  # people write smaller at the end of a short line
        size_px *= room / natural
    draw = ImageDraw.Draw(layer)
    x = (rect_pt.x0 + rng.uniform(2, 6)) * px_per_pt
    base_y = (rect_pt.bottom - rng.uniform(3.0, 4.5)) * px_per_pt
    wobble = 0.0
    pen_px = max(1, int(round(0.5 * px_per_pt)))
    for ch, accent in glyphs:
        wobble = float(np.clip(wobble + rng.gauss(0, WOBBLE_PT), -2.0, 2.0))
        font = _font(writer.font.path, max(6, int(round(size_px * (1 + rng.uniform(-SIZE_JITTER, SIZE_JITTER))))))
        y = base_y + (wobble + writer.slope_pt * (x / px_per_pt - rect_pt.x0) / 100.0) * px_per_pt
        if ch != " ":
            draw.text((x, y), ch, font=font, fill=0, anchor="ls")
            if accent:
                _draw_accent(draw, accent, draw.textbbox((x, y), ch, font=font, anchor="ls"), pen_px)
        x += font.getlength(ch) * rng.uniform(0.97, 1.08)


def write_comb(layer: Image.Image, field: Field, digits: str, px_per_pt: float, writer: Writer,
               rng: random.Random) -> list[int]:
    """Write digits one per comb cell, in place; a few cross a cell edge.

    Args:
        layer: Ink layer (mode ``"L"``, 255 paper) at ``px_per_pt``.
        field: A comb field (``field.cells`` in pt).
        digits: The digits, one per cell from the left.
        px_per_pt: Scale of ``layer``.
        writer: The hand.
        rng: Placement, size and which digits cross an edge (:data:`CROSSING_SHARE`).

    Returns:
        Indexes of the cells whose digit crosses the cell's outline.
    """
    draw = ImageDraw.Draw(layer)
    hand = next((f for f in HAND_FONTS if f.name == writer.font.digits_from), writer.font)
    ratio = _digit_ratio(hand.path)
    crossing: list[int] = []
    for i, (cell, digit) in enumerate(zip(field.cells, digits, strict=False)):
        cap_pt = min(cell.height - 4.0, writer.cap_height_pt * rng.uniform(1.0, 1.25))
        dx, dy = rng.uniform(-1.2, 1.2), rng.uniform(-1.0, 1.0)
        if rng.random() < CROSSING_SHARE:
            crossing.append(i)
            if rng.random() < 0.6:
                dx = rng.choice((-1, 1)) * rng.uniform(0.30, 0.50) * cell.width
            else:
                cap_pt = cell.height * rng.uniform(0.95, 1.1)
                dy = rng.choice((-1, 1)) * rng.uniform(1.5, 3.0)
        font = _font(hand.path, max(6, int(round(cap_pt / ratio * px_per_pt))))
        cx, cy = cell.center
        draw.text(((cx + dx) * px_per_pt, (cy + dy) * px_per_pt), digit, font=font, fill=0, anchor="mm")
    return crossing


def write_letters(layer: Image.Image, field: Field, text: str, px_per_pt: float, writer: Writer,
                  rng: random.Random) -> None:
    """Write ``text`` in capitals one letter per cell of a letter comb (form version 2), in place; a space leaves
    its cell empty.

    Letters are the writer's own font at about the cell's height less 5 pt, each placed with a small random shift
    (±1 pt), as people print in boxes; accents the font lacks are drawn by hand.

    Args:
        layer: Ink layer (mode ``"L"``, 255 paper) at ``px_per_pt``.
        field: A letter comb (``field.cells`` in pt).
        text: What the writer writes, one character per cell (already in capitals).
        px_per_pt: Scale of ``layer``.
        writer: The hand.
        rng: Placement and size.
    """
    draw = ImageDraw.Draw(layer)
    pen_px = max(1, int(round(0.5 * px_per_pt)))
    for cell, (ch, accent) in zip(field.cells, _glyphs(writer.font, text), strict=False):
        if ch == " ":
            continue
        cap_pt = min(cell.height - 5.0, writer.cap_height_pt) * rng.uniform(0.9, 1.05)
        font = _font(writer.font.path, max(6, int(round(cap_pt / _cap_ratio(writer.font.path) * px_per_pt))))
        cx, _ = cell.center
        x = (cx + rng.uniform(-1.0, 1.0)) * px_per_pt
        y = (cell.bottom - rng.uniform(3.0, 4.5)) * px_per_pt
        draw.text((x, y), ch, font=font, fill=0, anchor="ms")
        if accent:
            _draw_accent(draw, accent, draw.textbbox((x, y), ch, font=font, anchor="ms"), pen_px)


# --- Pages and documents -------------------------------------------------------------------------


def v2_values(values: FormValues) -> FormValues:
    """Version-1 values as version 2 holds them: home languages as ticked codes and « autre »
    (:func:`pipeline.form.definition.home_languages_choices`), the rest unchanged."""
    out = dict(values)
    text = values.get("home_languages")
    out["home_languages"], out["home_languages_other"] = home_languages_choices(text if isinstance(text, str) else None)
    return out


def fits_v2(values: FormValues) -> bool:
    """Whether every letter comb value of version 2 fits its cells (the generator never cuts a value)."""
    definition = form_v2()
    return all(len(str(values.get(f.name) or "")) <= len(f.cells) for f in definition.fields if f.is_letter_comb
               and f.name in values)


def _blank_values(values: FormValues, hand_ticks: bool, definition: FormDefinition | None = None) -> FormValues:
    """The values to type: none in text and comb zones, and no tick either when ticks are by hand."""
    out = dict(values)
    for f in (definition or form_v1()).fields:
        if f.kind in (FieldKind.TEXT, FieldKind.EMAIL) or f.is_comb:
            out[f.name] = None
        elif hand_ticks and f.is_tick:
            out[f.name] = [] if f.kind is FieldKind.CHOICE else False
    return out


def _chosen(value: object) -> set[str]:
    return {"yes"} if value is True else {str(v) for v in value} if isinstance(value, list) else set()


def handwrite_page(page: Image.Image, values: FormValues, page_number: int, px_per_pt: float, writer: Writer,
                   rng: random.Random, hand_ticks: bool, definition: FormDefinition | None = None
                   ) -> tuple[Image.Image, dict[str, object]]:
    """Fill one rasterised blank page by hand.

    Args:
        page: The page rendered with its text and comb zones blank, at ``px_per_pt`` (any mode).
        values: Field name → value to write (text as the writer writes it).
        page_number: 1 or 2.
        px_per_pt: Scale of ``page`` (``dpi / 72``).
        writer: The hand.
        rng: Every random choice.
        hand_ticks: Whether tick boxes are marked by hand (they are typed on ``page`` otherwise).
        definition: The form's version (default version 1); a letter comb is written one capital per cell.

    Returns:
        The filled page in RGB, and what was done (cells crossing an edge, hand marks).
    """
    from samples.scanner import TICK_STYLES, draw_hand_mark

    layer = Image.new("L", page.size, 255)
    crossing: dict[str, list[int]] = {}
    marks: dict[str, str] = {}
    definition = definition or form_v1()
    for f in definition.page_fields(page_number):
        value = values.get(f.name)
        if f.is_letter_comb and value:
            write_letters(layer, f, str(value).upper(), px_per_pt, writer, rng)
        elif f.is_comb and value:
            crossed = write_comb(layer, f, "".join(ch for ch in str(value) if ch.isdigit()), px_per_pt, writer, rng)
            if crossed:
                crossing[f.name] = crossed
        elif f.kind in (FieldKind.TEXT, FieldKind.EMAIL) and value:
            write_line(layer, writer.text(f.kind, str(value)), f.rect, px_per_pt, writer, rng)
    pen_px = int(round(writer.pen_pt * px_per_pt)) | 1  # MinFilter sizes are odd
    if pen_px > 1:
        layer = layer.filter(ImageFilter.MinFilter(pen_px))  # ink is 0: a min filter widens every stroke
    if hand_ticks:
        grey = np.asarray(layer).copy()
        for f in definition.page_fields(page_number):
            if f.is_tick:
                for box in f.boxes:
                    if box.option in _chosen(values.get(f.name)):
                        style = rng.choice(TICK_STYLES)
                        draw_hand_mark(grey, box.rect, style, px_per_pt, rng, ink=0)
                        marks[f"{f.name}.{box.option}"] = style
        layer = Image.fromarray(grey)
    coverage = 1.0 - np.asarray(layer, np.float32)[..., None] / 255.0
    paper = np.asarray(page.convert("RGB"), np.float32)
    ink = np.array(INKS[writer.ink], np.float32)
    rgb = paper * (1.0 - coverage) + ink * coverage
    done: dict[str, object] = {"crossing_cells": crossing}
    if hand_ticks:
        done["marks"] = marks
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB"), done


def written_values(values: FormValues, writer: Writer, definition: FormDefinition | None = None) -> dict[str, str]:
    """Text values as ``writer`` writes them, for the ones that differ (block capitals; on version 2, every letter
    comb but an e-mail, which is read back in lower case)."""
    out: dict[str, str] = {}
    for f in (definition or form_v1()).fields:
        value = values.get(f.name)
        if f.is_letter_comb and f.kind is FieldKind.TEXT and isinstance(value, str):
            written = value.upper()
            if written != value:
                out[f.name] = written
        elif f.kind in (FieldKind.TEXT, FieldKind.EMAIL) and isinstance(value, str):
            written = writer.text(f.kind, value)
            if written != value:
                out[f.name] = written
    return out


def handwritten_documents(kind: SampleKind, values: FormValues, form_id: str, rng: random.Random,
                          pages: Sequence[int] = (1, 2)) -> tuple[list[tuple[str, bytes]], dict[str, object]]:
    """Files of one form filled by hand, scanned or photographed, and what was done per page.

    One writer fills the whole form. A block-capital writer writes text in capitals: those values
    are replaced **in place** in ``values`` (the mapping the generator's ground truth holds), so the
    truth is what is on the page. On version 2 every letter comb is written in capitals, and home languages are
    ticked (in the form's order: the truth's ``home_languages`` is rewritten in that order).

    Args:
        kind: ``SCAN_HANDWRITTEN`` (300 dpi grey scan, skew ≤ 3°, JPEG 70-90), ``PHOTO_HANDWRITTEN``
            (phone photo of the page rasterised at 200 dpi, JPEG 80-93, no EXIF turn), or ``SCAN_HANDWRITTEN_V2``
            (form version 2, scanned as ``SCAN_HANDWRITTEN``).
        values: Field name → value; updated in place for a block-capital writer (see above).
        form_id: Serial in the QR codes.
        rng: Every random choice.
        pages: Pages to produce.

    Returns:
        ``[(f"p{page}.jpg", jpeg_bytes), …]`` and ``{"p1": {"font", "ink", "cap_height_pt", "ticks",
        "crossing_cells"[, "marks"]}, …}``.

    Raises:
        HandFontsMissingError: A font package of :data:`HAND_FONTS` is not installed.
    """
    from samples.scanner import image_bytes, rasterise_pdf_page, render_filled_pdf, simulate_photo, simulate_scan

    writer = random_writer(rng)
    definition = form_v2() if kind in V2_KINDS else form_v1()
    values.update(written_values(values, writer, definition))
    on_paper = values
    if definition.version == 2:
        on_paper = v2_values(values)
        codes, other = on_paper["home_languages"], on_paper["home_languages_other"]
        values["home_languages"] = home_languages_text(codes if isinstance(codes, list) else [],  # type: ignore[arg-type]
                                                       other if isinstance(other, str) else None)
    hand_ticks = rng.random() < HAND_TICK_SHARE
    pdf = render_filled_pdf(_blank_values(on_paper, hand_ticks, definition), form_id,
                            signature_seed=rng.randint(0, 10_000), definition=definition)
    photo = kind is SampleKind.PHOTO_HANDWRITTEN
    dpi = 200 if photo else 300
    files: list[tuple[str, bytes]] = []
    conditions: dict[str, object] = {}
    for p in pages:
        blank = rasterise_pdf_page(pdf, p, dpi)
        filled, done = handwrite_page(blank, on_paper, p, dpi / 72, writer, rng, hand_ticks, definition)
        if photo:
            image = simulate_photo(filled, dpi=dpi, roll_deg=rng.uniform(-8, 8), fill=rng.uniform(0.65, 0.88),
                                   shadow=rng.random() < 0.67, blur_px=rng.uniform(0.6, 1.6), jpeg_quality=None,
                                   rng=rng)
            buf = io.BytesIO()
            image.save(buf, format="JPEG", quality=rng.randint(80, 93))
            files.append((f"p{p}.jpg", buf.getvalue()))
        else:
            image = simulate_scan(filled, dpi, skew_deg=rng.uniform(-3, 3),
                                  offset_pt=(rng.uniform(-4, 4), rng.uniform(-4, 4)), noise=rng.uniform(0.01, 0.04),
                                  blur_px=rng.uniform(0.3, 0.8), jpeg_quality=None, rng=rng)
            files.append((f"p{p}.jpg", image_bytes([image], "JPEG", dpi, rng.randint(70, 90))))
        conditions[f"p{p}"] = {"font": writer.font.name, "ink": writer.ink,
                               "cap_height_pt": round(writer.cap_height_pt, 2),
                               "pen_pt": round(writer.pen_pt, 2),
                               "ticks": "hand" if hand_ticks else "typed", **done}
    return files, conditions
