"""Capital-letter combs (form version 2): one letter per cell, read as a line once the printed grid is erased.

Version 2 of the form (``pipeline.form.definition.form_v2``) has surnames, first names, the town and e-mails in
combs of capital letters, one per cell, as French administrative forms have them. They are read in three steps:

1. :func:`erase_letter_grids`: the printed cell outlines are erased from the page's ink mask
   (:func:`pipeline.reading.scan.comb_cells.remove_outline`, the same as for digit combs), so the zone is a line of
   capitals on white paper;
2. both readers read that line as they read any text zone (tesseract on the text or e-mail strip, PP-OCRv6 with
   its per-frame probabilities), and fields that have a lexicon (first names, the town, « autre » home language)
   are decoded against it (``pipeline.reading.scan.constrained``);
3. :func:`letter_comb_fields`: each reading is laid back onto the cells. The cells that hold ink
   (:func:`inked_cells`) say how many letters the field has and where a blank cell separates two words; a reading
   with as many letters as inked cells gets its spaces from the empty cells (``JEAN PIERRE``), one with another
   count is not the ink's. When both readers give the same letters and that count matches, the field is accepted
   (rule ``letter_comb_readers_agree``): two independent readers agreeing letter for letter, checked by the
   number of letters written, is a reading, not a guess. Otherwise the field stays with a person.

Why this mechanism rather than a per-cell letter classifier like the digit model
(``pipeline.reading.scan.digit_model``): the line readers already know capitals in any hand, their frames feed the
lexicon decoding, and a classifier of 26 letters and their accents trained on a few fonts would be a third reader
to train and measure, with no real handwriting here to check it on. The cell count is the per-cell part: it says
how many letters are written and where the words break, and a reading that does not fit it is not accepted.

Measured on the project's own version-2 handwritten scans (``samples.handwriting``, kind ``scan_handwritten_v2``,
seed 2026; the five hands of ``HAND_FONTS``), letter combs of names, town and e-mails:

* forms 0-15 (used to set ``LetterCombSettings.min_letter_probability``), 158 inked letter combs: both readers
  read the ink's letter count alike on 66 (60 right); 48 of them pass the 0.97 threshold, one wrong (``REMY`` for
  *RÉMY*), which the list check added after that run now holds;
* forms 16-31 (kept apart to check), 149 inked letter combs: 32 read alike, 24 accepted at 0.97, none wrong;
* the cursive hand (``ecolier_court``) is almost never accepted: its capitals are school cursive, which the form
  asks not to use.

Given names and the town are also decoded against their lists (``pipeline.reading.scan.constrained``), on the
frames with the gaps between cells folded into the blank (:func:`gaps_as_blank`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from pipeline.deciding.crosscheck import EMAIL_DOT_LOOKALIKES
from pipeline.form.definition import Field, FieldKind
from pipeline.reading.scan import ctc
from pipeline.reading.scan.comb_cells import comb_cells_ink, remove_outline
from pipeline.reading.scan.second_reader import LineReading
from pipeline.reading.scan.text_rules import caps_that_bite
from pipeline.reading.scan.zones import cell_interior
from pipeline.settings import OcrSettings
from schemas.extraction import Doubt, ExtractedField, Reader

log = logging.getLogger(__name__)

AGREE_RULE = "letter_comb_readers_agree"
"""Rule name of a letter comb accepted because both readers read its letters and their count matches the ink."""
HANDWRITING_DOUBTS = (Doubt.HANDWRITTEN, Doubt.HANDWRITTEN_FORM)
"""Doubts the agreement of both readers on the cells settles: the handwriting hold, not a stamp, a streak or a
label in the zone."""
COUNT_RULE = "letter_comb_count_differs"
"""Rule name of a letter comb whose readings do not have as many letters as it has inked cells."""


def erase_letter_grids(mask: np.ndarray, fields: Sequence[Field], px_per_pt: float, ocr: OcrSettings) -> np.ndarray:
    """The page's ink mask with the printed outline of every letter comb of ``fields`` erased.

    Args:
        mask: ``uint8`` 0/1 ink mask of the registered page, ``px_per_pt`` pixels per PDF point.
        fields: The page's fields (only letter combs are touched).
        px_per_pt: Scale of ``mask``.
        ocr: ``icr.cell_margin_pt``, ``icr.outline_run_share`` and ``icr.outline_tolerance_pt``.

    Returns:
        A new mask (``mask`` itself when the page has no letter comb).
    """
    combs = [f for f in fields if f.is_letter_comb]
    if not combs:
        return mask
    out = mask.copy()
    m = ocr.icr.cell_margin_pt
    height, width = mask.shape[:2]
    for f in combs:
        x0 = max(0, int(round((f.rect.x0 - m) * px_per_pt)))
        y0 = max(0, int(round((f.rect.top - m) * px_per_pt)))
        x1 = min(width, int(round((f.rect.x1 + m) * px_per_pt)))
        y1 = min(height, int(round((f.rect.bottom + m) * px_per_pt)))
        if x1 <= x0 or y1 <= y0:
            continue
        out[y0:y1, x0:x1] = remove_outline(mask[y0:y1, x0:x1], f, (x0 / px_per_pt, y0 / px_per_pt), px_per_pt,
                                           ocr.icr)
    return out


def inked_cells(mask: np.ndarray, field: Field, px_per_pt: float, ocr: OcrSettings) -> list[bool]:
    """Which cells of a letter comb hold a letter: ink at ``ocr.cell_ink_min`` of the cell's interior or more.

    Args:
        mask: ``uint8`` 0/1 ink mask of the registered page (outline still printed or not: it is erased here).
        field: A letter comb.
        px_per_pt: Scale of ``mask``.
        ocr: ``cell_ink_min``, ``comb_inset_pt`` and the comb-cell settings of ``icr``.

    Returns:
        One flag per cell, left to right.
    """
    cells = comb_cells_ink(mask, field, px_per_pt, ocr.icr)
    out = []
    for cell, ink in zip(field.cells, cells, strict=True):
        interior = cell_interior(cell, ocr)
        out.append(ink.area_pt2 >= ocr.cell_ink_min * interior.width * interior.height)
    return out


ACCENTED_CAPITALS = frozenset("ÀÂÄÉÈÊËÎÏÔÖÙÛÜŸ")
"""Capitals whose accent rises over the letter (Ç's cedilla hangs under it)."""


def marks_above(mask: np.ndarray, field: Field, px_per_pt: float, ocr: OcrSettings) -> list[bool]:
    """Which cells of a letter comb have ink over their top line: an accent, or a letter taller than its cell.

    The band looked at runs from ``ocr.letter_comb.accent_room_pt`` over the cell's top edge down to the printed
    line's tolerance (``ocr.icr.outline_tolerance_pt``), within the cell's width; ink of
    ``ocr.zone_ink_min_pt2`` or more there is a mark.

    Args:
        mask: ``uint8`` 0/1 ink mask of the registered page, grid erased (:func:`erase_letter_grids`).
        field: A letter comb.
        px_per_pt: Scale of ``mask``.
        ocr: The band and the ink threshold.

    Returns:
        One flag per cell, left to right.
    """
    out = []
    room, line = ocr.letter_comb.accent_room_pt, ocr.icr.outline_tolerance_pt
    for cell in field.cells:
        y0, y1 = int(round((cell.top - room) * px_per_pt)), int(round((cell.top - line) * px_per_pt))
        x0, x1 = int(round(cell.x0 * px_per_pt)), int(round(cell.x1 * px_per_pt))
        area_pt2 = float(mask[max(0, y0):max(0, y1), max(0, x0):max(0, x1)].sum()) / (px_per_pt * px_per_pt)
        out.append(area_pt2 >= ocr.zone_ink_min_pt2)
    return out


def unread_marks(letters: str, inked: Sequence[bool], marked: Sequence[bool]) -> bool:
    """Whether a cell has a mark over it (:func:`marks_above`) that the letter read in it does not explain: an accent
    the readers did not see (``RÉMY`` read ``REMY`` by both) or a letter that left its cell.

    Args:
        letters: The letters read, one per inked cell (white space dropped).
        inked: :func:`inked_cells`.
        marked: :func:`marks_above`.
    """
    it = iter(letters)
    for cell_inked, cell_marked in zip(inked, marked, strict=True):
        letter = next(it, "") if cell_inked else ""
        if cell_marked and letter not in ACCENTED_CAPITALS:
            return True
    return False


def on_cells(kind: FieldKind, reading: str | None, inked: Sequence[bool]) -> tuple[str | None, bool]:
    """A reading laid onto a letter comb's inked cells.

    The reading's letters (white space dropped: a reader may space letters written one per cell) are matched to
    the inked cells left to right; a run of empty cells between two inked ones is one space (two words). An
    e-mail is lower-cased (addresses are case-insensitive; the form asks for capitals) and its middle dots read as
    the full stops they stand for (:data:`~pipeline.deciding.crosscheck.EMAIL_DOT_LOOKALIKES`, one character for one:
    the count of letters is kept; the other e-mail repairs change it, or read a capital's bar as an ``l``); an empty
    cell inside it is a character missed (a dot's ink is under a cell's threshold), never a space.

    Args:
        kind: ``TEXT`` or ``EMAIL``.
        reading: A reader's value, or ``None``.
        inked: :func:`inked_cells`.

    Returns:
        The value and whether its letter count is the count of inked cells (``(None, False)`` for no reading).
    """
    if not reading:
        return None, False
    letters = "".join(reading.split())
    if kind is FieldKind.EMAIL:
        letters = letters.lower().translate(EMAIL_DOT_LOOKALIKES)
    if kind is FieldKind.EMAIL and _has_inner_gap(inked):
        return letters, False  # an address has no space: an empty cell inside it is a character missed (a dot)
    if len(letters) != sum(inked):
        return (letters if kind is FieldKind.EMAIL else " ".join(reading.split())), False
    out: list[str] = []
    it = iter(letters)
    gap = False
    for cell_inked in inked:
        if cell_inked:
            if gap and out and kind is FieldKind.TEXT:
                out.append(" ")
            out.append(next(it))
            gap = False
        else:
            gap = True
    return "".join(out), True


def gaps_as_blank(frames: np.ndarray) -> np.ndarray:
    """A comb line's frames with the space folded into CTC's blank: between two cells is a gap, not a space.

    PP-OCRv6 reads letters one per cell as spaced words (``TH J B.A UL T``); scored on its frames as they are, a
    given name written that way is less likely than with its spaces, and the lexicon decoding leaves it unread.
    Folding the space's probability into the blank's makes every spacing an alignment of the letters alone. Words
    are told apart by the empty cells instead (:func:`on_cells`); a listed value holding a space cannot be scored on
    these frames (``-inf``), so it is never accepted on a letter comb: hyphenated names and towns are unaffected.

    Args:
        frames: ``float32 (T, C)`` log-probabilities (:attr:`LineReading.frames`).

    Returns:
        A new array of the same shape.
    """
    out = frames.copy()
    space = ctc.column(" ")
    out[:, ctc.BLANK] = np.logaddexp(frames[:, ctc.BLANK], frames[:, space])
    out[:, space] = -np.inf
    return out


ACCENT_VARIANTS: dict[str, str] = {"A": "ÀÂÄ", "E": "ÉÈÊË", "I": "ÎÏ", "O": "ÔÖ", "U": "ÙÛÜ", "C": "Ç", "Y": "Ÿ"}
"""Each capital and the accented capitals French writes on it: the rivals :func:`accent_rival_wins` scores."""


def accent_rival_wins(frames: np.ndarray | None, value: str) -> bool:
    """Whether a spelling of ``value`` with one accent more or less is likelier on the comb's frames than ``value``.

    Both readers may read an accented capital without its accent (``REMY`` for *RÉMY*, femkeklaver hand, seed 2026)
    while the recogniser's frames favour the accented one; as case variants are rivals in the lexicon decoding
    (``pipeline.reading.scan.constrained``), accent variants are rivals here, one letter at a time.

    Args:
        frames: :func:`gaps_as_blank` frames, or ``None`` (no rival can be scored: ``False``).
        value: The letters both readers read (capitals, no white space).
    """
    if frames is None or not value:
        return False
    bare = {accented: plain for plain, accents in ACCENT_VARIANTS.items() for accented in accents}
    rivals = []
    for i, ch in enumerate(value):
        for other in (*ACCENT_VARIANTS.get(ch, ""), *bare.get(ch, "")):
            rivals.append(value[:i] + other + value[i + 1:])
    if not rivals:
        return False
    scores = ctc.per_character_scores(frames, [value, *rivals])
    return bool(np.max(scores[1:]) > scores[0])


def _has_inner_gap(inked: Sequence[bool]) -> bool:
    """Whether an empty cell lies between two inked ones."""
    first = next((i for i, x in enumerate(inked) if x), None)
    last = max((i for i, x in enumerate(inked) if x), default=None)
    return first is not None and last is not None and not all(inked[first:last + 1])


def line_on_cells(field: Field, line: LineReading, inked: Sequence[bool]) -> LineReading:
    """PP-OCRv6's reading of a letter comb for the lexicon decoding: its frames with gaps as blank
    (:func:`gaps_as_blank`) and its text their greedy reading laid onto the cells (:func:`on_cells`)."""
    if line.frames is None:
        return line
    frames = gaps_as_blank(line.frames)
    text, _ = on_cells(field.kind, ctc.greedy_reading(frames)[0], inked)
    return replace(line, text=text or "", frames=frames)


def least_sure_letter(frames: np.ndarray | None) -> tuple[str, float]:
    """The greedy reading of a comb line's frames (gaps as blank) and the probability of its least sure letter.

    Args:
        frames: :func:`gaps_as_blank` frames, or ``None``.

    Returns:
        The letters read and the least probability (0-1) of the frames that emit one; ``("", 0.0)`` for none.
    """
    if frames is None or frames.shape[0] == 0:
        return "", 0.0
    return ctc.greedy_with_least_sure(frames)


def letter_comb_fields(fields: dict[str, ExtractedField], combs: Sequence[Field],
                       inked: dict[str, list[bool]], marked: dict[str, list[bool]], lines: dict[str, LineReading],
                       ocr: OcrSettings, quality: float = 1.0) -> dict[str, ExtractedField]:
    """Each letter comb's reading laid onto its cells, and accepted when both readers agree on the ink's letters.

    Args:
        fields: The page's fields as the text readers left them (``readings``: tesseract's then PP-OCRv6's).
        combs: The page's inked letter combs.
        inked: Field name → :func:`inked_cells`.
        marked: Field name → :func:`marks_above`.
        lines: Field name → PP-OCRv6's reading of the comb as :func:`line_on_cells` gives it (frames gaps as blank).
        ocr: ``letter_comb.readers_agree_confidence``, ``letter_comb.min_letter_probability``,
            ``letter_comb.count_differs_confidence``.
        quality: What the page's registration leaves of a confidence (0-1).

    Returns:
        Field name → the field with its value on the cells; accepted (confidence
        ``readers_agree_confidence × quality``, no doubt) when both readers' letters are the same, as many as
        the inked cells, PP-OCRv6's least sure letter of them is at ``min_letter_probability`` or more, and no mark
        over a cell is left unexplained (:func:`unread_marks`) nor does a spelling with an accent more or less score
        better (:func:`accent_rival_wins`), nor is the field's best listed value another spelling (given names,
        towns: the lexicon decoding runs first, and a value it accepted stands); held
        at ``count_differs_confidence`` when neither reading has that many letters.
    """
    settings = ocr.letter_comb
    out: dict[str, ExtractedField] = {}
    for f in combs:
        current = fields.get(f.name)
        if current is None or f.name not in inked:
            continue
        constrained = [r for r in current.readings if r.reader is Reader.PPOCR_CONSTRAINED]
        if constrained and current.doubt is None and any(r.startswith("constrained_") for r in current.rules):
            continue  # accepted against the field's list (``pipeline.reading.scan.constrained``): it stands
        laid = [on_cells(f.kind, r.value if isinstance(r.value, str) else None, inked[f.name])
                for r in current.readings[:2]]
        value, fits = on_cells(f.kind, current.value if isinstance(current.value, str) else None, inked[f.name])
        if not fits:  # the value shown is the reading that has the ink's letter count, when one has
            value, fits = next(((v, ok) for v, ok in laid if ok), (value, fits))
        update: dict[str, object] = {"value": value}
        agree = len(laid) == 2 and all(ok for _, ok in laid) and laid[0][0] == laid[1][0]
        line = lines.get(f.name)
        letters, worst = least_sure_letter(line.frames if line is not None else None)
        sure = agree and _letters(f.kind, letters) == _letters(f.kind, laid[0][0]) and (
            worst >= settings.min_letter_probability) and not (
            f.kind is FieldKind.TEXT and unread_marks(_letters(f.kind, laid[0][0]), inked[f.name],
                                                      marked.get(f.name, [False] * len(f.cells))))
        sure = sure and not caps_that_bite(f, laid[0][0], ocr)  # the value has the field's shape (e-mail, name)
        # A field with a list (given names, towns) whose best listed value is another spelling: the list does not know
        # what both readers read (« REMY » where the list has « Rémy »), and a person decides.
        sure = sure and all(str(r.value).casefold() == str(laid[0][0]).casefold() for r in constrained)
        sure = sure and not (f.kind is FieldKind.TEXT and accent_rival_wins(
            line.frames if line is not None else None, _letters(f.kind, laid[0][0])))
        if sure and settings.enabled and current.doubt in (None, *HANDWRITING_DOUBTS):
            update |= {"value": laid[0][0], "confidence": settings.readers_agree_confidence * quality, "doubt": None,
                       "rules": (*current.rules, AGREE_RULE)}
        elif not fits:
            update |= {"confidence": min(current.confidence, settings.count_differs_confidence),
                       "rules": (*current.rules, COUNT_RULE)}
        out[f.name] = current.model_copy(update=update)
    return out


def _letters(kind: FieldKind, value: str | None) -> str:
    """A value's letters without white space (lower case for an e-mail), to compare two readings of a comb."""
    letters = "".join((value or "").split())
    return letters.lower() if kind is FieldKind.EMAIL else letters
