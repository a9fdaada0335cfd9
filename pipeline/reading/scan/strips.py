"""Tesseract on strips: many zones stacked into one image, one ``image_to_data`` call, words mapped back.

Every inked zone of a kind is stacked into one tall strip with white gaps between
(:func:`stack_zones`), read once (:func:`ocr_strip`) and its words returned to their zone by
their vertical position (:func:`words_by_slot`). Pixels throughout, at the registered page's DPI.
"""


from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytesseract

from pipeline.errors import OcrError
from pipeline.settings import OcrSettings

log = logging.getLogger(__name__)


DIGITS_CONFIG = "-c tessedit_char_whitelist=0123456789"


"""Comb strips hold digits only. (No whitelist for text or e-mail: with one, the LSTM's word
confidences collapse to 0-20 even on right answers, measured on this form's renderings.)"""


@dataclass(frozen=True)
class Word:
    """One word tesseract read in a strip.

    Attributes:
        text: The word as read.
        confidence: Tesseract's confidence, 0-1.
        x_px: Left edge in strip pixels (orders words within a zone).
        y_px: Vertical centre in strip pixels (finds the zone).
    """

    text: str
    confidence: float
    x_px: int
    y_px: float


@dataclass(frozen=True)
class Strip:
    """Zone crops stacked vertically for one tesseract call.

    Attributes:
        image: ``uint8`` grey strip, white background.
        slots: For each stacked crop, its ``(top_px, bottom_px)`` span in the strip, in input order.
    """

    image: np.ndarray
    slots: tuple[tuple[int, int], ...]


def limit_tesseract_threads(threads: int) -> None:
    """Let each tesseract this process starts use at most ``threads`` OpenMP threads.

    ``threads`` is ``OcrSettings.tesseract_threads``.

    pytesseract starts tesseract with this process's environment, so the limit is ``OMP_THREAD_LIMIT`` here. Call it
    before any reader thread starts: the environment is shared by the whole process, and it is written only when the
    value differs.
    """
    if os.environ.get("OMP_THREAD_LIMIT") != str(threads):
        os.environ["OMP_THREAD_LIMIT"] = str(threads)


def stack_zones(crops: Sequence[np.ndarray], gap_px: int, pad_px: int) -> Strip:
    """Stack crops vertically, left-aligned, on white, with ``gap_px`` of white between them.

    Args:
        crops: ``uint8`` grey crops, any widths and heights.
        gap_px: White rows between two crops (and above the first / below the last).
        pad_px: White columns left and right.

    Returns:
        The strip and each crop's vertical span in it.
    """
    width = max((c.shape[1] for c in crops), default=1) + 2 * pad_px
    height = sum(c.shape[0] for c in crops) + gap_px * (len(crops) + 1)
    strip = np.full((max(height, 1), width), 255, dtype=np.uint8)
    slots: list[tuple[int, int]] = []
    y = gap_px
    for c in crops:
        strip[y : y + c.shape[0], pad_px : pad_px + c.shape[1]] = c
        slots.append((y, y + c.shape[0]))
        y += c.shape[0] + gap_px
    return Strip(strip, tuple(slots))


def strip_crops(strip: Strip) -> list[np.ndarray]:
    """The crops a strip was stacked from, in slot order (full strip width, white padding included)."""
    return [strip.image[top:bottom] for top, bottom in strip.slots]


def ocr_strip(strip: Strip, ocr: OcrSettings, language: str, config: str = "") -> list[Word]:
    """Run one tesseract ``image_to_data`` call on a strip.

    Args:
        strip: Stacked crops.
        ocr: Page segmentation mode and timeout.
        language: Tesseract language(s), e.g. ``"fra"``.
        config: Extra tesseract options (e.g. a character whitelist).

    Returns:
        Non-empty words with confidence 0-1 and position.

    Raises:
        OcrError: Tesseract is missing, failed, or ran over ``ocr.timeout_s``.
    """
    if not strip.slots:
        return []
    try:
        with tempfile.TemporaryDirectory(prefix="clas-strip-") as tmp:
            # Handed over as an uncompressed PGM: pytesseract would write a PNG, and compressing then decoding a
            # page's strips cost 0.05-0.1 s of CPU a page for the same pixels (no resolution is stated either way).
            path = Path(tmp) / "strip.pgm"
            write_pgm(path, strip.image)
            data = pytesseract.image_to_data(
                str(path), lang=language, config=f"--psm {ocr.psm} {config}".strip(),
                output_type=pytesseract.Output.DICT, timeout=ocr.timeout_s,
            )
    except (pytesseract.TesseractError, pytesseract.TesseractNotFoundError, RuntimeError, OSError) as exc:
        # RuntimeError is pytesseract's timeout.
        raise OcrError(f"tesseract failed on a strip of {len(strip.slots)} zone(s): {type(exc).__name__}") from exc
    words: list[Word] = []
    for text, conf, left, top, height in zip(
        data["text"], data["conf"], data["left"], data["top"], data["height"], strict=True
    ):
        if text and text.strip() and float(conf) >= 0:
            words.append(Word(text.strip(), float(conf) / 100.0, int(left), top + height / 2.0))
    return words


def write_pgm(path: Path, image: np.ndarray) -> None:
    """Write a ``uint8`` grey array ``(height_px, width_px)`` as a binary PGM (P5, maxval 255), no resolution stated.

    Raises:
        ValueError: ``image`` is not a 2-D ``uint8`` array.
    """
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"a PGM holds a 2-D uint8 array, not {image.dtype} of shape {image.shape}")
    height, width = image.shape
    with path.open("wb") as out:
        out.write(f"P5\n{width} {height}\n255\n".encode("ascii"))
        out.write(np.ascontiguousarray(image).tobytes())


def words_by_slot(words: Sequence[Word], slots: Sequence[tuple[int, int]]) -> list[list[Word]]:
    """Assign each word to the slot its vertical centre falls in (nearest slot if in a gap), left to right."""
    out: list[list[Word]] = [[] for _ in slots]
    if not slots:
        return out
    centres = [(a + b) / 2 for a, b in slots]
    for w in words:
        i = min(range(len(slots)), key=lambda k: abs(centres[k] - w.y_px))
        out[i].append(w)
    for ws in out:
        ws.sort(key=lambda w: w.x_px)
    return out
