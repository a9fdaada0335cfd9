"""Scoring strings against a CTC recogniser's per-frame probabilities: constrained decoding's arithmetic.

PP-OCRv6's recogniser (:mod:`pipeline.reading.scan.second_reader`) gives, for each frame of a line (about one per
8 px of the crop resized to 48 px high), a probability for every character and for CTC's blank. Its greedy reading
takes the likeliest class frame by frame; this module asks instead how likely a *given* string is: the sum over
every frame alignment of that string (Graves et al. 2006, "Connectionist temporal classification", §4.1, the
forward variable α), in log space. Pure functions over ``float32 (T, C)`` log-probability arrays whose column 0 is
blank and column ``k + 1`` is ``FRAME_ALPHABET[k]``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np

from pipeline.reading.scan.second_reader import FRAME_ALPHABET

BLANK = 0
"""Column of CTC's blank in the frames."""


@cache
def _column_of() -> dict[str, int]:
    return {c: k + 1 for k, c in enumerate(FRAME_ALPHABET)}


def column(character: str) -> int:
    """The frame column of one character of :data:`FRAME_ALPHABET`.

    Raises:
        KeyError: The character is not in it.
    """
    return _column_of()[character]


def greedy_with_least_sure(frames: np.ndarray, alphabet: str = FRAME_ALPHABET) -> tuple[str, float]:
    """Greedy CTC decoding of ``frames`` and the probability of its least sure character.

    Args:
        frames: ``float32 (T, len(alphabet) + 1)`` log-probabilities, column 0 blank, column ``k + 1``
            ``alphabet[k]`` (the recogniser's frames, or a selection of their columns with blank first).
        alphabet: The characters of columns 1 on.

    Returns:
        The characters read (a repeated class counts once until a blank or another class parts it) and the least
        probability (0-1) among the frames that emit one; ``("", 0.0)`` when none does.
    """
    best = frames.argmax(axis=1)
    text: list[str] = []
    worst, previous = 0.0, -1
    for t, k in enumerate(best):
        if k != previous and k != BLANK:
            text.append(alphabet[int(k) - 1])
            worst = min(worst, float(frames[t, k]))
        previous = int(k)
    return "".join(text), float(np.exp(worst)) if text else 0.0


def encode(value: str) -> list[int] | None:
    """``value`` (Unicode NFC) as frame columns; ``None`` when a character is not in :data:`FRAME_ALPHABET`."""
    columns = _column_of()
    out = [columns.get(c) for c in unicodedata.normalize("NFC", value)]
    return None if any(c is None for c in out) else [c for c in out if c is not None]


def log_likelihoods(frames: np.ndarray, values: Sequence[str]) -> np.ndarray:
    """CTC log-likelihood of each value given a line's frames, all values in one batched forward pass.

    Args:
        frames: ``float32 (T, C)`` log-probabilities (:attr:`pipeline.reading.scan.second_reader.LineReading.frames`).
        values: Strings to score.

    Returns:
        ``float64 (len(values),)``, natural log; ``-inf`` for an empty value, a value with a character outside
        :data:`FRAME_ALPHABET`, or one that needs more frames than the line has.
    """
    encoded = [encode(v) if v else None for v in values]
    out = np.full(len(values), -np.inf)
    keep = [i for i, e in enumerate(encoded) if e]
    if not keep or frames.shape[0] == 0:
        return out
    labels = [encoded[i] or [] for i in keep]
    width = 2 * max(len(lab) for lab in labels) + 1
    ext = np.zeros((len(keep), width), dtype=np.int64)  # blank, l1, blank, l2, …, blank; padded with blank
    skip = np.zeros((len(keep), width), dtype=bool)  # s may be reached from s - 2 (a label unlike the one before)
    ends = np.array([2 * len(lab) for lab in labels])
    for n, lab in enumerate(labels):
        ext[n, 1:2 * len(lab):2] = lab
        for j in range(1, len(lab)):
            skip[n, 2 * j + 1] = lab[j] != lab[j - 1]
    emissions = frames[:, ext].astype(np.float64)  # (T, N, S)
    alpha = np.full((len(keep), width), -np.inf)
    alpha[:, 0] = emissions[0, :, 0]
    alpha[:, 1] = emissions[0, :, 1]
    for t in range(1, frames.shape[0]):
        one = np.concatenate([np.full((len(keep), 1), -np.inf), alpha[:, :-1]], axis=1)
        two = np.concatenate([np.full((len(keep), 2), -np.inf), alpha[:, :-2]], axis=1)
        two = np.where(skip, two, -np.inf)
        alpha = np.logaddexp(np.logaddexp(alpha, one), two) + emissions[t]
    rows = np.arange(len(keep))
    final = np.logaddexp(alpha[rows, ends], alpha[rows, ends - 1])
    out[keep] = final
    return out


def per_character_scores(frames: np.ndarray, values: Sequence[str]) -> np.ndarray:
    """:func:`log_likelihoods` divided by each value's length (characters): a long name is not penalised for its
    length. 0 is certain; ``-inf`` as there."""
    lengths = np.array([max(1, len(v)) for v in values], dtype=np.float64)
    return log_likelihoods(frames, values) / lengths


def greedy_reading(frames: np.ndarray, allowed: str | None = None) -> tuple[str, float]:
    """Best path decoding (CTC's greedy reading) over blank and the ``allowed`` characters only.

    Args:
        frames: As for :func:`log_likelihoods`.
        allowed: Characters the line may hold (``"0123456789"`` for digits-only decoding); every character of
            :data:`FRAME_ALPHABET` when ``None``.

    Returns:
        The reading (repeats merged, blanks dropped) and its mean per-frame log-probability over the frames
        that emit a character (0 when none does).
    """
    columns = [BLANK, *(_column_of()[c] for c in (allowed if allowed is not None else FRAME_ALPHABET))]
    restricted = frames[:, columns]
    best = restricted.argmax(axis=1)
    text: list[str] = []
    scores: list[float] = []
    previous = -1
    for t, k in enumerate(best):
        if k != previous and k != 0:
            text.append(FRAME_ALPHABET[columns[k] - 1])
            scores.append(float(restricted[t, k]))
        previous = int(k)
    return "".join(text), float(np.mean(scores)) if scores else 0.0
