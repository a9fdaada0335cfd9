"""CTC scoring of strings against per-frame probabilities (constrained decoding's arithmetic)."""

from __future__ import annotations

import itertools

import numpy as np

from pipeline.reading.scan import ctc
from pipeline.reading.scan.second_reader import FRAME_ALPHABET


def _frames(rows: list[dict[str, float]]) -> np.ndarray:
    """Log-probability frames from per-frame {character or "" (blank): probability}; the rest shares what is left."""
    width = len(FRAME_ALPHABET) + 1
    out = np.zeros((len(rows), width))
    for t, row in enumerate(rows):
        rest = (1.0 - sum(row.values())) / (width - len(row))
        out[t] = rest
        for ch, p in row.items():
            out[t, 0 if ch == "" else ctc.column(ch)] = p
    return np.log(out).astype(np.float32)


def _brute_force(frames: np.ndarray, value: str) -> float:
    """The likelihood of ``value`` summed over every frame path that collapses to it (the CTC definition)."""
    labels = [0, *(ctc.column(c) for c in value)]
    total = 0.0
    for path in itertools.product(sorted(set(labels)), repeat=frames.shape[0]):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == labels[1:]:
            total += float(np.exp(sum(frames[t, k] for t, k in enumerate(path))))
    return float(np.log(total))


def test_the_forward_pass_sums_every_alignment() -> None:
    frames = _frames([{"a": 0.6, "": 0.3}, {"a": 0.2, "": 0.5, "b": 0.2}, {"b": 0.7, "": 0.2}, {"": 0.8, "b": 0.1}])

    got = ctc.log_likelihoods(frames, ["ab", "a", "aa", "b", "ba"])

    for value, score in zip(["ab", "a", "aa", "b", "ba"], got, strict=True):
        assert abs(score - _brute_force(frames, value)) < 1e-5, value


def test_a_repeated_letter_needs_a_blank_between_its_frames() -> None:
    frames = _frames([{"l": 0.9}, {"l": 0.9}])  # no room for "l", blank, "l"

    assert ctc.log_likelihoods(frames, ["ll"])[0] == -np.inf
    assert ctc.log_likelihoods(frames, ["l"])[0] > np.log(0.8)


def test_scores_are_per_character_and_unknown_characters_score_nothing() -> None:
    frames = _frames([{"J": 0.9}, {"": 0.9}, {"u": 0.9}, {"l": 0.9}, {"e": 0.9}, {"s": 0.9}])

    jules, julie, chinese, empty = ctc.per_character_scores(frames, ["Jules", "Julie", "中", ""])

    assert np.exp(jules) > 0.85 > np.exp(julie)
    assert chinese == -np.inf and empty == -np.inf


def test_digits_only_decoding_ignores_the_letters_a_hand_makes_of_digits() -> None:
    frames = _frames([{"0": 0.9}, {"O": 0.6, "6": 0.3}, {"": 0.9}, {"1": 0.4, "l": 0.5}])

    assert ctc.greedy_reading(frames)[0] == "0Ol"
    assert ctc.greedy_reading(frames, "0123456789")[0] == "061"


def test_greedy_decoding_collapses_repeats_and_gives_its_least_sure_character() -> None:
    # a a (blank) a b b: "a" twice (a blank parts them), then "b"; the least sure emitting frame is the second "a".
    frames = _frames([{"a": 0.9}, {"a": 0.8}, {"": 0.7}, {"a": 0.6}, {"b": 0.95}, {"b": 0.85}])

    text, least = ctc.greedy_with_least_sure(frames)

    assert text == "aab"
    assert abs(least - 0.6) < 1e-6


def test_greedy_decoding_on_a_selection_of_columns_reads_only_them() -> None:
    # The likeliest class of frame 0 is "O", but only blank and the digits are looked at: "0" is read.
    frames = _frames([{"O": 0.7, "0": 0.2}, {"": 0.9}, {"1": 0.5, "l": 0.4}])
    digits = "0123456789"

    text, least = ctc.greedy_with_least_sure(frames[:, [ctc.BLANK, *(ctc.column(d) for d in digits)]], digits)

    assert text == "01"
    assert abs(least - 0.2) < 1e-6
    assert ctc.greedy_with_least_sure(_frames([{"": 0.9}, {"": 0.8}])) == ("", 0.0)
