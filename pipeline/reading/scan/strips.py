"""Tesseract on strips: many zones stacked into one image, one recognition, words mapped back.

Every inked zone of a kind is stacked into one tall strip with white gaps between
(:func:`stack_zones`), read once (:func:`ocr_strip`) and its words returned to their zone by
their vertical position (:func:`words_by_slot`). Pixels throughout, at the registered page's DPI.

Tesseract runs in this process, through tesserocr's binding to the library (its wheel bundles libtesseract
5.5.4; ``constraints.txt`` pins it), on the ``*.traineddata`` files of the system's tesseract (Debian's
``tesseract-ocr-fra``). Each engine loads its language once and is reused (:class:`Engines`): the command line,
started once per strip, loaded the model three times a page (issue 19). Measured on the 2-core machine at 54c4039:
the 44 strips of 12 devset files read one after another took 5.15 s through the command and 1.47 s here; in the
devset benchmark (76 scanned pages) tesseract's three strips went from 54 s to 13 s of stage time, and a page from
0.755 to 0.69 s. The readings changed a little with the library's version (5.5.4, the command 5.3.0): devset fields
exact 1456 → 1452 of 1720, held 389 → 393, none wrong accepted, the same 12 forms routed; the project's faxes at
200 × 100 dpi (seed 2026, 32 forms) 5 → 7 routed, held 58 → 55, none wrong accepted once
``text_rules.sentence_case_cap`` held the one both readers now read alike and wrong; its stamped, photocopied,
hand-marked and grey scans (seed 11, 24 forms) exact 996 → 997.
"""


from __future__ import annotations

import logging
import os
import re
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytesseract

from pipeline.errors import OcrError
from pipeline.settings import OcrSettings

log = logging.getLogger(__name__)


DIGITS_VARIABLES: Mapping[str, str] = {"tessedit_char_whitelist": "0123456789"}


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


@cache
def tessdata_dir() -> str:
    """The folder holding tesseract's ``*.traineddata`` files, ending in ``/``.

    ``$TESSDATA_PREFIX`` when set, else the folder the system's ``tesseract --list-langs`` reports (Debian:
    ``/usr/share/tesseract-ocr/5/tessdata/``), so that the binding reads the same models as the command.

    Raises:
        OcrError: Tesseract is not installed, or does not say where its models are.
    """
    prefix = os.environ.get("TESSDATA_PREFIX")
    if prefix:
        return prefix.rstrip("/") + "/"
    command = str(pytesseract.pytesseract.tesseract_cmd)
    try:
        listed = subprocess.run([command, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrError(f"tesseract is not installed or does not start ({type(exc).__name__}): make system "
                       "installs it") from exc
    found = re.search(r'"([^"]+)"', listed.stdout + listed.stderr)
    if found is None:
        raise OcrError("tesseract --list-langs does not name its models' folder; set TESSDATA_PREFIX")
    return found.group(1).rstrip("/") + "/"


def _tesserocr() -> Any:
    """The tesserocr module.

    Raises:
        OcrError: It is not installed.
    """
    try:
        import tesserocr
    except ImportError as exc:
        raise OcrError("the tesserocr package is not installed (make venv installs it)") from exc
    return tesserocr


class Engines:
    """Tesseract engines of this process, one per language, variables and segmentation mode, each used by one thread
    at a time and kept for the next strip.

    An engine loads its language's model when created (about 0.05 s and 12 MiB for ``fra``); the page's reader
    threads read the text, e-mail and comb strips at once, so a kind of engine may have as many copies as threads
    that asked for it together. The reading workers' forkserver creates the default ones
    (:mod:`pipeline.reading.worker_preload`), so that a forked worker starts with them loaded.
    """

    def __init__(self) -> None:
        """An empty set of engines."""
        self._free: dict[tuple[str, tuple[tuple[str, str], ...], int], list[Any]] = {}
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self, language: str, psm: int, variables: Mapping[str, str] = {}) -> Iterator[Any]:  # noqa: B006
        """An engine for ``language`` (``"fra"``, ``"eng"``…) in segmentation mode ``psm`` with ``variables`` set,
        for this thread alone until the block ends.

        Raises:
            OcrError: The language's model is not installed, or tesseract cannot start.
        """
        tesserocr = _tesserocr()
        key = (language, tuple(sorted(variables.items())), psm)
        with self._lock:
            free = self._free.setdefault(key, [])
            engine = free.pop() if free else None
        if engine is None:
            try:
                engine = tesserocr.PyTessBaseAPI(path=tessdata_dir(), lang=language, psm=psm,
                                                 variables=dict(variables))
            except RuntimeError as exc:
                raise OcrError(f"tesseract cannot load the {language!r} model from {tessdata_dir()} (Debian: "
                               f"tesseract-ocr-{language})") from exc
        try:
            yield engine
        finally:
            engine.Clear()
            with self._lock:
                self._free[key].append(engine)


ENGINES = Engines()
"""This process's engines (:func:`ocr_strip`)."""


def warm_up(ocr: OcrSettings) -> None:
    """Load the engines the scan reader uses with ``ocr``'s languages, so that a forked worker starts with them.

    Raises:
        OcrError: A language's model is not installed.
    """
    for language, variables in ((ocr.language, {}), (ocr.email_language, {}), (ocr.language, DIGITS_VARIABLES)):
        with ENGINES.borrow(language, ocr.psm, variables):
            pass


def ocr_strip(strip: Strip, ocr: OcrSettings, language: str,
              variables: Mapping[str, str] = {}, psm: int | None = None) -> list[Word]:  # noqa: B006
    """Recognise a strip with tesseract, in this process.

    Args:
        strip: Stacked crops (``uint8`` grey, paper white).
        ocr: Page segmentation mode (``psm``) and time limit (``timeout_s``).
        language: Tesseract language(s), e.g. ``"fra"``.
        variables: Tesseract parameters for this strip (e.g. :data:`DIGITS_VARIABLES`' whitelist).
        psm: Page segmentation mode instead of ``ocr.psm`` (7: the strip is one line).

    Returns:
        Non-empty words with confidence 0-1 and position.

    Raises:
        OcrError: Tesseract is missing, failed, or ran over ``ocr.timeout_s``.
    """
    if not strip.slots:
        return []
    tesserocr = _tesserocr()
    image = np.ascontiguousarray(strip.image, dtype=np.uint8)
    height, width = image.shape
    level = tesserocr.RIL.WORD
    words: list[Word] = []
    with ENGINES.borrow(language, ocr.psm if psm is None else psm, variables) as engine:
        engine.SetImageBytes(image.tobytes(), width, height, 1, width)
        if not engine.Recognize(timeout=int(ocr.timeout_s * 1000)):
            raise OcrError(f"tesseract failed or ran over {ocr.timeout_s:.0f} s on a strip of {len(strip.slots)} "
                           "zone(s)")
        iterator = engine.GetIterator()
        for word in tesserocr.iterate_level(iterator, level) if iterator is not None else ():
            try:
                text = word.GetUTF8Text(level)
            except RuntimeError:  # tesserocr's "No text returned": a word box the recogniser left empty
                continue
            if text and text.strip():
                left, top, _, bottom = word.BoundingBox(level)
                words.append(Word(text.strip(), word.Confidence(level) / 100.0, int(left), (top + bottom) / 2.0))
    return words


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
