"""Field crops for the review desk: where they are stored, and a contact sheet of the doubtful ones.

``pipeline.reading.scan.page.read_scan_page`` cuts a small PNG of every field zone out of the
registered page (``ScanPageResult.crops``). They are kept under the data folder, one folder
per form serial and page, one file per field::

    {data_dir}/crops/{form_id}/p{page}/{field_name}.png

so the review desk finds the crop of any field from what it already shows (the form serial,
the field's page and name) with :func:`crop_path`, without a database column.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

_SAFE = re.compile(r"^[A-Za-z0-9_.-]+$")

SHEET_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
"""Caption font of the contact sheet (Debian ``fonts-dejavu-core``): Pillow's built-in font has no accented
letters, and captions hold French values (``Français``)."""


def crop_path(data_dir: Path, form_id: str, page: int, field_name: str) -> Path:
    """Where the crop of ``field_name`` on ``page`` of form ``form_id`` is stored.

    Raises:
        ValueError: A serial or field name with characters outside ``[A-Za-z0-9_.-]`` (they
            come from a QR code: a forged code must not write outside the crops folder).
    """
    if not (_SAFE.match(form_id) and _SAFE.match(field_name)) or ".." in form_id:
        raise ValueError("unsafe form serial or field name for a crop path")
    return data_dir / "crops" / form_id / f"p{int(page)}" / f"{field_name}.png"


def store_crops(crops: Mapping[str, bytes], data_dir: Path, form_id: str, page: int) -> list[Path]:
    """Write a page's field crops (``ScanPageResult.crops``) under ``data_dir``; returns the paths.

    The folder is created owner-only (crops show personal data).
    """
    written = []
    for name, png in crops.items():
        path = crop_path(data_dir, form_id, page, name)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_bytes(png)
        path.chmod(0o600)
        written.append(path)
    return written


@dataclass(frozen=True)
class SheetItem:
    """One crop on a contact sheet.

    Attributes:
        png: The crop (PNG bytes).
        caption: What is printed under it (kind, field, value read, confidence).
    """

    png: bytes
    caption: str


def contact_sheet(items: Sequence[SheetItem], width_px: int = 1400, caption_px: int = 16) -> Image.Image:
    """Stack crops with their captions into one image, for a person to look at.

    Args:
        items: Crops and captions, in the order to show (e.g. least confident first).
        width_px: Width of the sheet; wider crops are shrunk to it.
        caption_px: Height of each caption line.

    Returns:
        A grey PIL image (white background).
    """
    font = sheet_font(caption_px - 4)
    rows: list[tuple[Image.Image, str]] = []
    for item in items:
        im = Image.open(io.BytesIO(item.png)).convert("L")
        if im.width > width_px:
            im = im.resize((width_px, max(1, im.height * width_px // im.width)))
        rows.append((im, item.caption))
    height = sum(im.height + caption_px + 6 for im, _ in rows) or 1
    sheet = Image.new("L", (width_px, height), 255)
    draw = ImageDraw.Draw(sheet)
    y = 0
    for im, caption in rows:
        draw.text((4, y), caption, fill=0, font=font)
        y += caption_px
        sheet.paste(im, (0, y))
        y += im.height + 6
    return sheet


def sheet_font(size_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The contact sheet's caption font at ``size_px`` pixels: :data:`SHEET_FONT`, or Pillow's built-in font
    (accents shown as boxes) when the Debian package is missing."""
    if SHEET_FONT.exists():
        return ImageFont.truetype(str(SHEET_FONT), size_px)
    return ImageFont.load_default()
