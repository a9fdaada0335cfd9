"""Calibration from verification: the acceptance threshold of constrained decoding fitted on fields staff checked.

Fonts are not pens: the thresholds of :class:`pipeline.settings.reading.ConstrainedSettings` were set on
handwriting fonts. Every field a person verifies or corrects on the desk is kept (``field_verifications``,
``web.review.approve``), with each reader's value and score. For each decoder (a rule of
:data:`pipeline.reading.scan.constrained.FIELD_DECODERS`, or ``constrained_digits``), the constrained reading's
probability and whether its value was the one the person approved make one labelled point; this module turns
them into a reliability table (confidence band → share right, count, in uniform bands) and a
fitted threshold: the lowest probability above which at least ``min_verified`` verified fields lie and the
one-sided 95 % Clopper-Pearson upper bound of their error rate is at most ``max_error``. With
``ConstrainedSettings.calibration_min_verified`` = 59 and none wrong that bound is 4.95 %, so a kind with fewer
verified fields keeps the font-set threshold.

Pure functions over plain values; the store access is :func:`labelled_points` (rows) and the command line
``clas-referrals calibrate``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from pipeline.form.definition import FieldKind, form_v1
from pipeline.settings import Settings
from pipeline.settings.reading import ConstrainedSettings
from schemas.extraction import Reader

CALIBRATION_FILE = "calibration.json"
"""The fitted thresholds' file in ``Settings.data_dir`` (written by ``clas-referrals calibrate``, owner-only)."""
MAX_ERROR = 0.05
"""Highest error rate (upper 95 % bound) a fitted threshold may let through: one accepted value in twenty wrong
at worst, the bound the minimum count of ``ConstrainedSettings.calibration_min_verified`` is chosen for."""
BANDS = 10
"""Confidence bands of the reliability table (0-0.1, …, 0.9-1.0)."""


@dataclass(frozen=True)
class Point:
    """One verified field as calibration sees it.

    Attributes:
        kind: The decoder's rule name (``constrained_first_name``…).
        probability: The constrained reading's score, 0-1.
        right: Whether the constrained value is the value the person approved.
    """

    kind: str
    probability: float
    right: bool


@dataclass(frozen=True)
class ReliabilityBand:
    """One row of a reliability table: the fields whose final confidence falls in ``[low, high)``.

    Attributes:
        low: The band's lower confidence (0-1).
        high: Its upper confidence (1.0 is in the last band).
        fields: Fields in the band.
        mean_confidence: Their mean confidence (``None`` when the band is empty).
        share_right: The share of them read right (``None`` when empty).
    """

    low: float
    high: float
    fields: int
    mean_confidence: float | None
    share_right: float | None

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class Fit:
    """A fitted acceptance threshold for one kind.

    Attributes:
        kind: The decoder's rule name.
        threshold: Lowest probability accepted, or ``None`` when too few verified fields support one.
        verified: Verified fields of this kind.
        accepted: Of those, at or above ``threshold``.
        wrong: Of the accepted, how many were not the approved value.
        error_bound: One-sided 95 % upper bound of the accepted fields' error rate.
    """

    kind: str
    threshold: float | None
    verified: int
    accepted: int
    wrong: int
    error_bound: float | None


def decoder_of(field_name: str) -> str | None:
    """The constrained decoder's rule name for a field, or ``None`` when it has none."""
    from pipeline.reading.scan.constrained import FIELD_DECODERS, LISTED_COMBS  # the readers: not for a run's start

    if field_name in FIELD_DECODERS:
        return FIELD_DECODERS[field_name][0]
    if field_name in LISTED_COMBS:
        return "constrained_postcode"
    return "constrained_digits" if _field_kinds().get(field_name) in (FieldKind.DATE, FieldKind.PHONE) else None


@cache
def _field_kinds() -> dict[str, FieldKind]:
    """Field name → kind on form version 1, built once (:func:`decoder_of` runs once per verified field)."""
    return {f.name: f.kind for f in form_v1().fields}


def same_value(a: object, b: object) -> bool:
    """Whether two values are the same once white space, Unicode form and case are folded (combs: digits only)."""
    if a is None or b is None:
        return a is b
    fa, fb = (" ".join(unicodedata.normalize("NFC", str(v)).casefold().split()) for v in (a, b))
    if fa.replace("/", "").isdigit() or fb.replace("/", "").isdigit():
        return "".join(c for c in fa if c.isdigit()) == "".join(c for c in fb if c.isdigit())
    return fa == fb


def labelled_points(rows: Iterable[Mapping[str, Any]]) -> list[Point]:
    """Calibration points from verification records (``name``, ``readings``, ``final_value``); records without
    a constrained reading (a typed field, a field with no decoder) give none."""
    out = []
    for row in rows:
        kind = decoder_of(str(row["name"]))
        constrained = [r for r in row.get("readings") or [] if r.get("reader") == Reader.PPOCR_CONSTRAINED.value]
        if kind is None or not constrained or constrained[-1].get("score") is None:
            continue
        reading = constrained[-1]
        out.append(Point(kind, float(reading["score"]), same_value(reading.get("value"), row.get("final_value"))))
    return out


def reliability_table(scored: Sequence[tuple[float, bool]], bands: int = BANDS) -> list[ReliabilityBand]:
    """Confidence band → share of fields right: how far the readers' confidence can be taken at its word.

    A calibrated confidence of 0.9 is right 9 times in 10. The bands are uniform bins as in scikit-learn's
    :func:`sklearn.calibration.calibration_curve`, each ``[low, high)`` (a confidence on an edge is in the band
    it opens; 1.0 is in the last), and each band's count, mean confidence and share right are taken from the same
    fields. (Until 2026-12-07 the share and mean came from ``calibration_curve`` itself, whose bins close on
    the right instead, ``(low, high]``, while the counts were ``[low, high)``: a confidence on an edge, such as the
    held fields' 0.2, was counted in one band and averaged in the one below, and when the two binnings left a
    different number of bands filled, ``bench --json`` stopped with ``StopIteration``: the project's faxes of seed
    71.)

    Args:
        scored: ``(final confidence 0-1, read right)`` per field scored.
        bands: Equal-width bands over 0-1.

    Returns:
        One band per ``1/bands`` of confidence, empty ones included.
    """
    import numpy as np  # here: every run reads the fitted thresholds at its start, and needs no numpy for that

    edges = np.round(np.linspace(0.0, 1.0, bands + 1), 12)  # 0.3, not linspace's 0.30000000000000004
    confidence = np.clip(np.array([c for c, _ in scored], dtype=float), 0.0, 1.0)
    right = np.array([r for _, r in scored], dtype=float)
    index = np.searchsorted(edges[1:-1], confidence, side="right")
    out = []
    for i, (low, high) in enumerate(zip(edges, edges[1:], strict=False)):
        inside = index == i
        count = int(inside.sum())
        out.append(ReliabilityBand(float(low), float(high), count,
                                   round(float(confidence[inside].mean()), 4) if count else None,
                                   round(float(right[inside].mean()), 4) if count else None))
    return out


def error_upper_bound(wrong: int, count: int, confidence: float = 0.95) -> float:
    """One-sided Clopper-Pearson upper bound of an error rate seen as ``wrong`` of ``count`` (1.0 when none)."""
    if count == 0:
        return 1.0
    from scipy.stats import beta  # SciPy: only when thresholds are fitted, never for a run's start

    return 1.0 if wrong >= count else float(beta.ppf(confidence, wrong + 1, count - wrong))


def fit_threshold(points: Sequence[Point], kind: str, min_verified: int, max_error: float = MAX_ERROR) -> Fit:
    """The lowest probability threshold for ``kind`` whose accepted fields number ``min_verified`` or more and
    whose error's upper bound is at most ``max_error``; ``threshold`` ``None`` when none qualifies.

    Args:
        points: Verified fields (any kinds; those of ``kind`` are used).
        kind: The decoder's rule name.
        min_verified: Fewest accepted fields a threshold must rest on
            (``ConstrainedSettings.calibration_min_verified``).
        max_error: Highest upper bound of the error rate.
    """
    mine = sorted((p for p in points if p.kind == kind), key=lambda p: -p.probability)
    best: Fit = Fit(kind, None, len(mine), 0, 0, None)
    wrong = 0
    for n, p in enumerate(mine, start=1):
        wrong += not p.right
        if n < len(mine) and mine[n].probability == p.probability:
            continue  # a threshold keeps every field of its probability
        bound = error_upper_bound(wrong, n)
        if n >= min_verified and bound <= max_error:
            best = Fit(kind, p.probability, len(mine), n, wrong, bound)
    return best


def fit_all(points: Sequence[Point], settings: ConstrainedSettings) -> list[Fit]:
    """One :class:`Fit` per kind seen in ``points``, in name order."""
    return [fit_threshold(points, kind, settings.calibration_min_verified)
            for kind in sorted({p.kind for p in points})]


def fitted_thresholds(fits: Iterable[Fit]) -> dict[str, float]:
    """Kind → fitted threshold, for the kinds that have one."""
    return {f.kind: f.threshold for f in fits if f.threshold is not None}


def write_thresholds(path: Path, fits: Iterable[Fit]) -> None:
    """Write the fitted thresholds as JSON (``{"constrained_first_name": 0.83, …}``), owner-only (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(fitted_thresholds(fits), indent=2, sort_keys=True), encoding="utf-8")
    path.chmod(0o600)


def read_thresholds(path: Path | None) -> tuple[tuple[str, float], ...]:
    """Fitted thresholds written by :func:`write_thresholds`, as ``ConstrainedSettings.fitted`` holds them; empty
    when there is no file yet.

    Raises:
        ValueError: The file is not a JSON object of kind → number in 0-1.
    """
    if path is None or not path.is_file():
        return ()
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, int | float) and 0 <= v <= 1 for v in data.values()):
        raise ValueError(f"calibration file {path}: expected an object of field kind → threshold in 0-1")
    return tuple(sorted((str(k), float(v)) for k, v in data.items()))


def calibration_path(settings: Settings) -> Path:
    """Where ``clas-referrals calibrate`` writes the fitted thresholds and the nightly run reads them."""
    return settings.data_dir / CALIBRATION_FILE


def with_fitted_thresholds(settings: Settings) -> Settings:
    """``settings`` with the fitted thresholds of :func:`calibration_path` in ``ocr.constrained.fitted`` (the same
    settings when none was fitted yet).

    Raises:
        ValueError: The calibration file is malformed (:func:`read_thresholds`).
    """
    fitted = read_thresholds(calibration_path(settings))
    if not fitted:
        return settings
    constrained = settings.ocr.constrained.model_copy(update={"fitted": fitted})
    return settings.model_copy(update={"ocr": settings.ocr.model_copy(update={"constrained": constrained})})

