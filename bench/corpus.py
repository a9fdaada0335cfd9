"""Score a corpus folder with truth (``inbox/`` + ``truth/``) against the product, as a nightly run reads it.

The corpus is the layout of ``../shared/devset`` (an independent generator's referrals): ``inbox/`` holds
the files as schools send them, ``truth/<id>.json`` one referral each, naming its files (``files``), its
``profile`` (what happened to the paper), its ``hand`` and the 43 field values (``values``) in the
reader's raw value shape.

Unlike :func:`bench.benchmark.bench_kind`, which decides each generated form from its own pages, every
file of the inbox goes through the run's own stages (:mod:`pipeline.stages`): read
(:func:`pipeline.reading.document.read_received`), grouped by form serial
(:func:`pipeline.stages.group_forms`), decided (:func:`pipeline.deciding.decide.decide_form`). A referral
whose pages end up in several forms (two files sharing the fillable PDF's serial, say) is scored as the
run leaves it: its fields from the form holding their page, its outcome the most cautious of its forms'.

A referral is expected to be routed when the product's validator accepts its true values (the devset's
README: "run your validator on ``values``"), and to go to review otherwise. Figures are those of
:class:`bench.benchmark.KindFigures`, per profile, per hand and per format, and for all referrals.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bench.benchmark import KindFigures, bare_tesseract_seconds, page_images, score_form
from pipeline.deciding.decide import Decision, decide_form
from pipeline.deciding.directory import load_directory
from pipeline.deciding.validate import validate_referral
from pipeline.form.definition import form_v1
from pipeline.intake.ingest import ingest_file
from pipeline.reading.document import DocumentReading, read_received
from pipeline.settings import Settings
from pipeline.stages import group_forms
from schemas.directory import Directory
from schemas.document import Outcome, ReceivedDocument
from schemas.extraction import RawValue

CAUTION = (Outcome.QUARANTINED, Outcome.REVIEW, Outcome.WAITING_LIST, Outcome.ROUTED)
"""Outcomes from the most to the least cautious: a referral split over several forms takes the first."""


@dataclass(frozen=True)
class CorpusReferral:
    """One referral of a corpus and its truth.

    Attributes:
        id: The truth file's id (``r0008-phone-comic``).
        profile: What happened to the paper (``phone``, ``fax``…).
        hand: How the values were written (``typed``, ``comic``…).
        handwriting: Whether the values are handwritten.
        format: The files' format (``jpg``, ``pdf``…).
        files: The inbox files holding its pages, in page order.
        values: Field name → true raw value.
    """

    id: str
    profile: str
    hand: str
    handwriting: bool
    format: str
    files: tuple[str, ...]
    values: dict[str, RawValue]


class CorpusIncompleteError(FileNotFoundError):
    """A corpus folder without ``inbox/`` or ``truth/``, or a truth naming a file its inbox lacks.

    Attributes:
        message_fr: What the command tells the user, in French.
    """

    def __init__(self, message: str, message_fr: str) -> None:
        super().__init__(message)
        self.message_fr = message_fr


def load_corpus(root: Path) -> list[CorpusReferral]:
    """The referrals of a corpus folder, in id order.

    Raises:
        CorpusIncompleteError: ``root`` has no ``truth/`` or ``inbox/`` folder, or a truth names a missing file.
    """
    truth_dir, inbox = root / "truth", root / "inbox"
    if not truth_dir.is_dir() or not inbox.is_dir():
        raise CorpusIncompleteError(f"{root} must hold inbox/ and truth/",
                                    f"Corpus introuvable : {root} doit contenir les dossiers inbox/ et truth/.")
    referrals = []
    for path in sorted(truth_dir.glob("*.json")):
        t = json.loads(path.read_text(encoding="utf-8"))
        for name in t["files"]:
            if not (inbox / name).is_file():
                raise CorpusIncompleteError(f"{path.name} names {name}, missing from {inbox}",
                                            f"Corpus incomplet : {path.name} nomme {name}, absent de {inbox}.")
        referrals.append(CorpusReferral(t["id"], t["profile"], t["hand"], bool(t["handwriting"]), t["format"],
                                        tuple(t["files"]), t["values"]))
    return referrals


@dataclass(frozen=True)
class ReferralResult:
    """What the run made of one referral: its decisions (one per form its pages fell in), reading time, and the
    time of the speed reference on its image pages (:func:`bench.benchmark.bare_tesseract_seconds`)."""

    referral: CorpusReferral
    decisions: tuple[Decision, ...]
    quarantined: bool
    pages: int
    seconds_reading: float
    reference_seconds: float = 0.0
    reference_pages: int = 0
    pages_read: tuple[object, ...] = ()


def read_corpus(root: Path, settings: Settings, workers: int = 1,
                progress: Callable[[], None] | None = None) -> list[ReferralResult]:
    """Read and decide every file of ``root/inbox`` through the run's stages, and gather them per referral.

    Args:
        root: The corpus folder.
        settings: Product settings.
        workers: Files read at once (each reading already runs in its own worker process). With one, each file's
            bare tesseract reference is timed right after its reading, so that both see the machine in the same
            state (a shared machine's speed drifts over a run: the reference timed after all readings varied
            1.07-1.33 s/page between runs of one hour, 2026-12-05); with more, the references are timed alone after
            all readings.
        progress: Called after each file read (for a progress line on stderr).

    Returns:
        One result per referral of the truth, in id order.
    """
    referrals = load_corpus(root)
    directory = load_directory(settings.directory_file)
    by_file = {name: r for r in referrals for name in r.files}
    with tempfile.TemporaryDirectory(prefix="clas-corpus-") as tmp:
        docs = [ingest_file(root / "inbox" / name, "corpus", Path(tmp)) for name in by_file]
        name_of = {doc.sha256: name for doc, name in zip(docs, by_file, strict=True)}

        reference: dict[str, tuple[float, int]] = {}

        def timed(doc: ReceivedDocument) -> tuple[DocumentReading, float]:
            start = time.perf_counter()
            reading = read_received(doc, settings)
            seconds = time.perf_counter() - start
            if workers <= 1:  # the reference right after, on the same pages: both see the machine's same state
                name = name_of[doc.sha256]
                reference[name] = _reference(root / "inbox" / name, Path(tmp))
            if progress:
                progress()
            return reading, seconds

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            timed_readings = list(pool.map(timed, docs))
        if workers > 1:  # timed alone, after the readings that ran side by side
            reference = {name: _reference(root / "inbox" / name, Path(tmp)) for name in by_file}
    readings = [r for r, _ in timed_readings]
    seconds = {name_of[r.doc.sha256]: s for r, s in timed_readings}
    groups, failures = group_forms(readings)
    decisions: dict[str, list[Decision]] = {r.id: [] for r in referrals}
    for group in groups:
        decision = decide_form(group.pages, settings, directory, {}, lambda _key, _year: None)
        for owner in {by_file[name_of[r.doc.sha256]].id for r in group.readings}:
            decisions[owner].append(decision)
    failed = {by_file[name_of[r.doc.sha256]].id for r in failures}
    pages = {name_of[r.doc.sha256]: len(r.pages) or 1 for r in readings}
    return [ReferralResult(r, tuple(decisions[r.id]), r.id in failed, sum(pages[n] for n in r.files),
                           sum(seconds[n] for n in r.files), sum(reference[n][0] for n in r.files),
                           sum(reference[n][1] for n in r.files),
                           tuple(p for reading in readings if name_of[reading.doc.sha256] in r.files
                                 for p in reading.pages)) for r in referrals]


def _reference(path: Path, work: Path) -> tuple[float, int]:
    """Seconds of the bare single-thread Tesseract reference on a file's image pages, and their count."""
    images = page_images([path], work)
    return (bare_tesseract_seconds(images), len(images)) if images else (0.0, 0)


def expected_valid(referral: CorpusReferral, directory: Directory, settings: Settings) -> bool:
    """Whether the product's validator accepts the referral's true values."""
    return validate_referral(referral.values, directory, settings.school_year).referral is not None


def score_referral(result: ReferralResult, directory: Directory, settings: Settings) -> KindFigures:
    """The figures of one referral: fields and ticks from the form holding each page, outcome, misroute."""
    referral = result.referral
    figures = KindFigures(referral.id, 1, 0, 0, 0, 0, 0, 0, 0, 0, result.pages, result.seconds_reading, None, 0)
    figures.add_pages_timed(result.pages_read)
    valid = expected_valid(referral, directory, settings)
    definition = form_v1()
    covered = {p for d in result.decisions if d.form is not None for p in d.form.pages_found}
    for field in definition.fields:  # a page no form holds: its fields and boxes were not read
        if field.page not in covered:
            figures.fields += 1
            figures.ticks += len(field.boxes)
    outcomes = [d.outcome for d in result.decisions] + ([Outcome.QUARANTINED] if result.quarantined else [])
    if not outcomes:
        return figures
    outcome = min(outcomes, key=CAUTION.index)
    automatic = outcome in (Outcome.ROUTED, Outcome.WAITING_LIST)
    figures.expected_outcome_met += automatic == valid
    scored: set[int] = set()
    for decision in result.decisions:
        if decision.form is None:
            continue
        pages = [p for p in decision.form.pages_found if p not in scored]  # a page read twice counts once
        scored |= set(pages)
        figures.add(score_form(decision, referral.values, pages, definition, directory,
                               settings.ocr.text_confidence_min, decided_without_person=automatic))
    figures.forms = 1
    figures.auto_decided = int(automatic)
    figures.routed = int(outcome is Outcome.ROUTED)
    figures.misroutes = int(outcome is Outcome.ROUTED and figures.misroutes > 0)
    return figures


def figures_by(results: Iterable[ReferralResult], key: str, directory: Directory, settings: Settings
               ) -> list[KindFigures]:
    """Figures summed per value of ``key`` (``profile``, ``hand``, ``format`` or ``all``), in key order."""
    groups: dict[str, KindFigures] = {}
    for result in results:
        label = "all" if key == "all" else f"{key}={getattr(result.referral, key)}"
        figures = score_referral(result, directory, settings)
        if label not in groups:
            groups[label] = KindFigures(label, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, None, 0)
        group = groups[label]
        group.add(figures)
        if result.reference_pages:  # the reference is summed here: add() keeps a kind's own
            group.reference_seconds = (group.reference_seconds or 0.0) + result.reference_seconds
            group.reference_pages += result.reference_pages
    return [groups[k] for k in sorted(groups)]


def corpus_figures(root: Path, settings: Settings, workers: int = 1,
                   keys: Sequence[str] = ("all", "handwriting", "hand", "profile", "format"),
                   progress: Callable[[], None] | None = None) -> list[KindFigures]:
    """Read a corpus and return its figures for every grouping in ``keys`` (``progress`` per file read)."""
    results = read_corpus(root, settings, workers, progress)
    directory = load_directory(settings.directory_file)
    return [f for key in keys for f in figures_by(results, key, directory, settings)]
