"""The second text reader: PP-OCRv6's recogniser, run on the same zone crops as tesseract.

Two independent readers that agree are stronger evidence than one reader's score (issue 16). The
recogniser is the ONNX model that ships inside the ``rapidocr`` wheel (Apache-2.0),
``rapidocr/models/PP-OCRv6_rec_small.onnx``: it is loaded from that file, its SHA-256 is checked against
:data:`MODEL_SHA256` first, and nothing is ever downloaded (its character list is stored inside the
model, so rapidocr never looks for a dictionary file). Only the recogniser runs: each text zone of this
form is one line (17 pt high), so no detector is needed.

Crops are ``uint8`` grey arrays at any resolution (the scan reader gives them at ``OcrSettings.text_ocr_dpi``,
paper white, ink dark). One engine is built per process, single-threaded, and reused; several threads may read
with it at once (ONNX Runtime's ``InferenceSession.run`` is thread-safe), each on its own crops
(:func:`balanced_parts`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.installation import SecondReaderError

log = logging.getLogger(__name__)

MODEL_FILE = "PP-OCRv6_rec_small.onnx"
"""The recogniser inside the rapidocr wheel's ``models/`` folder."""
MODEL_SHA256 = "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"
"""SHA-256 of :data:`MODEL_FILE` as shipped in rapidocr 3.10.0 (``constraints.txt``); an upgrade that changes
the model is a deliberate commit that re-runs the benchmark."""
INK_PAD_FRACTION = 0.25
"""Paper kept around a zone's ink before recognition, as a share of the ink's height: the recogniser was
trained on line crops with a little margin, and a crop cut at the ink loses its first and last letters."""
INK_GREY_MAX = 160
"""Grey level (0-255) under which a pixel of a crop counts as ink when trimming it to its writing (the
crops are ``paper_to_white`` pages: paper is 255)."""


@dataclass(frozen=True)
class LineReading:
    """What the second reader read on one zone.

    Attributes:
        text: The line as read, in Unicode NFKC (``""`` when nothing was read). The recogniser's alphabet holds
            the full-width marks of Chinese text, which it gives for specks (``：`` read on an empty zone of a devset
            photocopy, beside tesseract's nothing); NFKC folds them to the marks both readers share (``:``).
        score: The recogniser's mean character probability, 0-1 (not calibrated).
    """

    text: str
    score: float
    frames: np.ndarray | None = field(default=None, repr=False, compare=False)
    """The recogniser's per-frame log-probabilities before greedy decoding, ``float32 (T, len(FRAME_ALPHABET) + 1)``:
    column 0 is CTC's blank, column ``k + 1`` the character ``FRAME_ALPHABET[k]``; ``T`` is the number of frames
    (about one per 8 px of the crop resized to 48 px high). ``None`` for a blank crop. Constrained decoding scores
    a field's allowed values against them (:mod:`pipeline.reading.scan.constrained`)."""


def line_text(raw: str) -> str:
    """The recogniser's line in Unicode NFKC, stripped: full-width marks folded to the ones tesseract gives
    (``：`` → ``:``), accents kept (composed)."""
    return unicodedata.normalize("NFKC", raw).strip()


def model_path() -> Path:
    """The bundled recogniser's path inside the installed rapidocr package.

    Raises:
        SecondReaderError: rapidocr is not installed, the file is missing, or its SHA-256 differs.
    """
    try:
        import rapidocr
    except ImportError as exc:
        raise SecondReaderError("the rapidocr package is not installed (make venv installs it)",
                                Path("rapidocr")) from exc
    path = Path(rapidocr.__file__).parent / "models" / MODEL_FILE
    if not path.is_file():
        raise SecondReaderError(f"{MODEL_FILE} is missing from the rapidocr package", path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != MODEL_SHA256:
        raise SecondReaderError(f"{MODEL_FILE} has SHA-256 {digest}, expected {MODEL_SHA256}", path)
    return path


_lock = threading.Lock()

FRAME_ALPHABET = "".join(chr(c) for c in (*range(0x20, 0x7F), *range(0xC0, 0x180)) if chr(c) != "\x7f")
"""Characters whose per-frame probabilities are kept (:attr:`LineReading.frames`): printable ASCII (space
included), Latin-1 and Latin Extended-A letters, every one of which is in PP-OCRv6's alphabet. The other 18,000
characters of its alphabet (CJK, symbols) are never a value of this form; their mass is left out."""


@cache
def _frame_columns() -> np.ndarray:
    """Indices in the recogniser's output of blank (0) then each :data:`FRAME_ALPHABET` character."""
    character = _engine()._load_rec_model().postprocess_op.character
    index = {c: i for i, c in enumerate(character)}
    missing = [c for c in FRAME_ALPHABET if c not in index]
    if missing:
        raise SecondReaderError(f"{MODEL_FILE} has no class for {''.join(missing)!r}", model_path())
    return np.array([0, *(index[c] for c in FRAME_ALPHABET)], dtype=np.int64)


@cache
def _engine() -> Any:
    """The recogniser, built once per process, single-threaded, on :func:`_session`'s ONNX session.

    rapidocr builds its recogniser on first use; it is built here first, the way rapidocr's ``_load_rec_model``
    does, with the session handed over (rapidocr's own custom-session support: ``OrtInferSession`` takes
    ``cfg.session``), because rapidocr's config cannot set the session's memory options. The model is loaded
    once: letting rapidocr load it, then replacing its session, loaded it twice (issue 19: 0.31 s, now 0.18 s,
    measured in one process on the 2-core machine).
    """
    from omegaconf import flag_override
    from rapidocr import RapidOCR
    from rapidocr.ch_ppocr_rec.main import TextRecognizer

    path = model_path()
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    engine = RapidOCR(params={
        "Global.use_det": False, "Global.use_cls": False, "Global.log_level": "error",
        "Rec.model_path": str(path),
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    })
    rec = engine.cfg.Rec
    rec.engine_cfg = engine.cfg.EngineConfig[rec.engine_type.value]
    rec.font_path = engine.cfg.Global.font_path
    rec.model_root_dir = engine.cfg.Global.model_root_dir
    with flag_override(rec, "allow_objects", True):
        rec.session = _session(path)
        engine.text_rec = TextRecognizer(rec)  # type: ignore[assignment]  # rapidocr declares it None until built
    return engine


def _session(path: Path) -> Any:
    """The recogniser's ONNX Runtime session: rapidocr's options, with ONNX Runtime's CPU arena on and its memory
    pattern off.

    Issue 19, measured on the recognition of a devset photocopy's text zones (its 27 line crops, read twice, in one
    process): rapidocr's default (no arena, memory pattern on) peaked at 429 MiB resident and took 2.28 s of CPU;
    the arena without the memory pattern, 353 MiB and 1.96 s, with the same texts, scores and per-frame
    probabilities. The memory pattern plans a buffer per input shape, and every batch of line crops has its own
    width; the arena reuses freed blocks instead of returning them to malloc. The arena keeps what it took until
    the process ends: a reading worker ends after a few documents (:mod:`pipeline.reading.limits`).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = False
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


def warm_up() -> None:
    """Load and check the model now, and run it once (its first run allocates), so that a forked worker starts warm.

    Raises:
        SecondReaderError: The model is missing or is not the measured one.
    """
    blank = np.full((48, 96), 255, dtype=np.uint8)
    blank[16:32, 16:80] = 0
    read_lines([blank])


def trim_to_ink(crop: np.ndarray) -> np.ndarray | None:
    """The crop cut to its ink's bounding box plus :data:`INK_PAD_FRACTION` of its height; ``None`` if blank."""
    rows, cols = np.nonzero(crop < INK_GREY_MAX)
    if not len(rows):
        return None
    pad = max(2, round(INK_PAD_FRACTION * (rows.max() - rows.min() + 1)))
    top, bottom = max(0, rows.min() - pad), min(crop.shape[0], rows.max() + pad + 1)
    left, right = max(0, cols.min() - pad), min(crop.shape[1], cols.max() + pad + 1)
    return crop[top:bottom, left:right]


def read_lines(crops: Sequence[np.ndarray], batch: int = 1, threads: int = 1) -> list[LineReading]:
    """Read each crop as one line of text.

    Args:
        crops: ``uint8`` grey zone crops, paper white, any size.
        batch: Crops per call of the recogniser, each padded to the call's widest
            (``OcrSettings.second_reader_batch``).
        threads: Threads the crops are shared out to (:func:`balanced_parts`), each running the recogniser
            single-threaded on its share (``OcrSettings.second_reader_threads``). The readings do not depend on it.

    Returns:
        One reading per crop, in order (an empty reading for a blank crop).

    Raises:
        SecondReaderError: The model is missing or is not the measured one.
    """
    trimmed = [trim_to_ink(c) for c in crops]
    inked = [(i, t) for i, t in enumerate(trimmed) if t is not None and t.shape[0] >= 4 and t.shape[1] >= 4]
    out = [LineReading("", 0.0)] * len(crops)
    if not inked:
        return out
    images = [np.ascontiguousarray(np.repeat(t[:, :, None], 3, axis=2)) for _, t in inked]
    with _lock:  # the engine is built once per process (the forkserver's warm-up has usually built it)
        _engine()._load_rec_model()
        _frame_columns()
    parts = [p for p in balanced_parts(images, threads) if p]
    if len(parts) == 1:
        lines = _recognise(images, batch)
    else:  # ONNX Runtime's session runs calls from several threads at once
        lines = [LineReading("", 0.0)] * len(images)
        with ThreadPoolExecutor(max_workers=len(parts)) as pool:
            done = pool.map(lambda part: _recognise([images[k] for k in part], batch), parts)
            for part, read in zip(parts, done, strict=True):
                for k, line in zip(part, read, strict=True):
                    lines[k] = line
    for (i, _), line in zip(inked, lines, strict=True):
        out[i] = line
    return out


def balanced_parts(crops: Sequence[np.ndarray], parts: int) -> list[list[int]]:
    """Split line images (trimmed to their ink) into ``parts`` groups of about the same total width, for as many
    threads.

    The recogniser's cost grows with a line's width once resized to 48 px high, so the lines are dealt widest
    first, each to the group with the least width so far (width over height, the width the recogniser sees).

    Returns:
        ``parts`` lists of indices into ``crops`` (some empty when there are fewer crops), each in input order.
    """
    groups: list[list[int]] = [[] for _ in range(max(1, parts))]
    loads = [0.0] * len(groups)
    ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
    for i in sorted(range(len(crops)), key=lambda k: -ratios[k]):
        g = loads.index(min(loads))
        groups[g].append(i)
        loads[g] += ratios[i]
    return [sorted(g) for g in groups]


def _recognise(images: Sequence[np.ndarray], batch_size: int) -> list[LineReading]:
    """Run rapidocr's recogniser on ``uint8 (h, w, 3)`` line images, keeping its per-frame probabilities.

    The same steps as ``rapidocr.ch_ppocr_rec.main.TextRecognizer.__call__`` (batches of ``batch_size`` by
    width, each image resized to 48 px high and padded to the batch's widest ratio, then its CTC greedy decoding
    ``postprocess_op``), so the text and score are the package's own; the ONNX session's output is kept before
    that decoding, cut to each image's own width, for :attr:`LineReading.frames`.
    """
    rec = _engine()._load_rec_model()
    columns = _frame_columns()
    _, height, width = rec.rec_image_shape[:3]
    ratios = [im.shape[1] / float(im.shape[0]) for im in images]
    order = np.argsort(np.array(ratios))
    out: list[LineReading] = [LineReading("", 0.0)] * len(images)
    for start in range(0, len(images), batch_size):
        batch = [int(k) for k in order[start:start + batch_size]]
        max_ratio = max(width / height, *(ratios[k] for k in batch))
        norm = np.concatenate([rec.resize_norm_img(images[k], max_ratio)[np.newaxis, :] for k in batch])
        preds = rec.session(norm.astype(np.float32))
        decoded, _ = rec.postprocess_op(preds, False, wh_ratio_list=[ratios[k] for k in batch],
                                        max_wh_ratio=max_ratio)
        for row, k in enumerate(batch):
            text, score = decoded[row]
            used = min(preds.shape[1], max(1, int(np.ceil(preds.shape[1] * min(1.0, ratios[k] / max_ratio)))))
            frames = np.log(np.clip(preds[row, :used][:, columns], 1e-12, 1.0)).astype(np.float32)
            out[k] = LineReading(line_text(str(text)), float(score), frames)
    return out
