"""Benchmark: accuracy, routing and speed per kind of document, against ground truth.

For each kind, ``per_kind`` seeded forms are generated, read and decided exactly as
the nightly run does (without the store: places are taken as free), and compared
with the values written on them. Side by side, on the same scanned page images,
a bare full-page ``tesseract -l fra`` call is timed as the reference.

Figures (per kind):
* field accuracy: share of fields whose extracted raw value equals the truth after
  normalisation, over the fields of the pages received;
* tick accuracy: share of tick boxes decided as written (ticked or not); a box whose question went to
  a person (its field under the review threshold, pointed out with its crop) counts as not right when
  the reading differs from the truth, and is also counted apart as a tick for a person; a box read
  wrong in a question at or above the threshold (what no person would be shown) is a tick wrong confident;
* auto share: forms decided without a person (routed or waiting list);
* misroutes: forms routed with any routing-critical field wrong;
* seconds per page: reading time per page, end to end (identification,
  registration, OCR, OMR; not validation);
* wrong confident: fields read wrong with a confidence at or above the review threshold
  (what a person would not have been shown), per 10,000 fields, on every form;
* wrong accepted: the same, counted only on forms decided without a person, per 10,000 of
  their fields (issue 3's "wrong values per 10,000 fields accepted without a person");
* fields to check: median per form of fields under the review threshold.

The school field is scored by the school it designates: the referral keeps the directory's
school id (``Referral.school_id``), so ``Clg Claude Monet`` read ``Cig Claude Monet`` and matched
to the same school is right; a value that matches another school, or none, is wrong. The
pupil's town is scored likewise by the lexicon town it spells, case and accents aside
(``pipeline.deciding.towns``): the form's ``ARGENTEUIL``, kept as the lexicon's ``Argenteuil``, is right.

For image kinds, the first ``SHEET_FORMS`` forms are also read page by page with
``read_scan_page`` to collect field crops; :func:`least_confident_sheet` draws the 30
least confident of them with their values (the contact sheet of issue 3).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from dataclasses import field as dc_field
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from pipeline.deciding.decide import Decision, decide_form
from pipeline.deciding.directory import load_directory, match_school
from pipeline.deciding.fields import clean_text_value
from pipeline.deciding.towns import load_towns, squeeze
from pipeline.deciding.validate import parse_school_year
from pipeline.errors import ClasError
from pipeline.form.definition import Field, FieldKind, FormDefinition, form_v1
from pipeline.intake.ingest import ingest_file
from pipeline.pdfium_lock import PDFIUM_LOCK
from pipeline.reading.calibration import reliability_table
from pipeline.reading.document import DocumentReading, read_received
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import IMAGE_KINDS, KIND_GROUPS, SampleKind
from schemas.directory import Directory
from schemas.document import Outcome
from schemas.extraction import RawValue

ROUTING_CRITICAL = ("pupil_surname", "pupil_first_name", "pupil_birth_date", "school_name", "class_level",
                    "guardian1_phone", "agreement_orientation", "agreement_data_sharing")
"""Fields a misroute is judged on (the issue's list: pupil, date of birth, school, level, phone, agreements)."""

T = TypeVar("T")


def normalise_value(kind: FieldKind, value: RawValue) -> RawValue:
    """Normalise a raw value for comparison (white space, Unicode, e-mail case)."""
    if isinstance(value, str):
        return clean_text_value(kind, value)
    if isinstance(value, list):
        return sorted(value)
    return value


@dataclass
class KindFigures:
    """Measured figures for one kind (see module docstring)."""

    kind: str
    forms: int
    fields: int
    fields_exact: int
    ticks: int
    ticks_right: int
    auto_decided: int
    routed: int
    misroutes: int
    expected_outcome_met: int
    pages: int
    seconds_reading: float
    reference_seconds: float | None
    reference_pages: int
    wrong_confident: int = 0
    ticks_wrong_confident: int = 0
    ticks_to_person: int = 0
    accepted_fields: int = 0
    accepted_wrong: int = 0
    fields_to_check: list[int] = dc_field(default_factory=list)
    stage_seconds: dict[str, float] = dc_field(default_factory=dict)
    timed_pages: int = 0
    scored: list[tuple[float, bool]] = dc_field(default_factory=list, repr=False)
    crops: list[tuple[float, str, bytes]] = dc_field(default_factory=list, repr=False)

    @property
    def wrong_confident_per_10k(self) -> float:
        """Fields read wrong yet confident, per 10,000 fields."""
        return 10_000 * self.wrong_confident / self.fields if self.fields else 0.0

    def add(self, other: KindFigures) -> None:
        """Add another set of figures of the same kind (one more form) to these, in place."""
        for f in fields(self):
            if f.name in ("kind", "reference_seconds", "reference_pages"):
                continue
            if f.name == "stage_seconds":
                self.stage_seconds = add_stage_seconds(self.stage_seconds, other.stage_seconds)
                continue
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def add_pages_timed(self, pages: Iterable[object]) -> None:
        """Add the stage times of the scan pages among ``pages`` (``PageReading.stage_seconds``), in place."""
        for page in pages:
            seconds = getattr(page, "stage_seconds", None)
            if seconds:
                self.stage_seconds = add_stage_seconds(self.stage_seconds, seconds)
                self.timed_pages += 1

    @property
    def stage_seconds_per_page(self) -> dict[str, float]:
        """Stage → wall seconds per scanned page (``timed_pages``), for the per-stage time table."""
        return {k: v / self.timed_pages for k, v in self.stage_seconds.items()} if self.timed_pages else {}

    @property
    def accepted_wrong_per_10k(self) -> float:
        """Wrong fields on forms decided without a person, per 10,000 of their fields."""
        return 10_000 * self.accepted_wrong / self.accepted_fields if self.accepted_fields else 0.0

    @property
    def median_fields_to_check(self) -> float:
        """Median over forms of the fields under the review threshold."""
        return float(statistics.median(self.fields_to_check)) if self.fields_to_check else 0.0

    @property
    def field_accuracy(self) -> float:
        """Exact fields / fields."""
        return self.fields_exact / self.fields if self.fields else 1.0

    @property
    def tick_accuracy(self) -> float:
        """Right tick boxes / tick boxes."""
        return self.ticks_right / self.ticks if self.ticks else 1.0

    @property
    def seconds_per_page(self) -> float:
        """Reading seconds per page."""
        return self.seconds_reading / self.pages if self.pages else 0.0

    @property
    def reference_seconds_per_page(self) -> float | None:
        """Bare tesseract seconds per page, for scan kinds."""
        if not (self.reference_seconds and self.reference_pages):
            return None
        return self.reference_seconds / self.reference_pages

    def as_dict(self) -> dict[str, object]:
        """JSON form, with the derived ratios (crops left out)."""
        data = {k: v for k, v in asdict(self).items() if k not in ("crops", "scored")}
        return {**data, "reliability": [band.as_dict() for band in reliability_table(self.scored)],
                "wrong_confident_per_10k": self.wrong_confident_per_10k,
                "accepted_wrong_per_10k": self.accepted_wrong_per_10k,
                "median_fields_to_check": self.median_fields_to_check, "field_accuracy": self.field_accuracy,
                "tick_accuracy": self.tick_accuracy,
                "auto_share": self.auto_decided / self.forms if self.forms else 0.0,
                "seconds_per_page": self.seconds_per_page,
                "reference_seconds_per_page": self.reference_seconds_per_page}


def add_stage_seconds(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    """Stage seconds summed stage by stage (a new dict; stages in first-seen order)."""
    return {k: a.get(k, 0.0) + b.get(k, 0.0) for k in [*a, *(k for k in b if k not in a)]}


def comparable(field: Field, value: RawValue, directory: Directory | None = None) -> RawValue:
    """A field's value as the benchmark compares it with the truth: normalised (:func:`normalise_value`), then, for
    the fields whose text names a thing, the thing it designates (a school of ``directory``, a town, a school
    year, languages case aside), so that two spellings of one value are one value.

    Args:
        field: The form field.
        value: A raw value, read or true.
        directory: The city's directory; without it a school name is compared as text.
    """
    value = normalise_value(field.kind, value)
    if field.name == "school_name" and directory is not None:
        return _school_designated(value, directory)
    designate = {"pupil_town": _town_designated, "school_year": _school_year_designated,
                 "home_languages": _languages_designated}.get(field.name)
    return designate(value) if designate else value


def _school_designated(value: RawValue, directory: Directory) -> RawValue:
    """The directory school a written school name designates (its id), or the text when none does."""
    if not isinstance(value, str) or not value:
        return value
    match = match_school(value, directory)
    return f"school:{match.school_id}" if match.school_id else value


def _town_designated(value: RawValue) -> RawValue:
    """The lexicon town a written town spells, case, accents, spaces and hyphens aside, or the text when
    none does (a misreading such as ``Argenteull`` stays text, and wrong)."""
    if not isinstance(value, str) or not value:
        return value
    return next((f"town:{t.name}" for t in load_towns() if squeeze(t.name) == squeeze(value)), value)


def _school_year_designated(value: RawValue) -> RawValue:
    """The school year a written year designates (``2026-2027``, ``2026/2027``, ``2026 2027`` and ``2026-27`` are one:
    :func:`pipeline.deciding.validate.parse_school_year`), or the text when it designates none. The referral
    keeps the parsed year, so a dash read as a space on a phone photo changes nothing the carrier receives."""
    if not isinstance(value, str):
        return value
    years = parse_school_year(value)
    return f"year:{years[0]}-{years[1]}" if years else value


def _languages_designated(value: RawValue) -> RawValue:
    """Home languages case aside: a language's name means the same in any case (French writes it in lower case, the
    value decoded from a hand is kept so, ``pipeline.reading.scan.constrained.CASELESS_RULES``; a form may write
    ``Français, arabe``)."""
    return value.casefold() if isinstance(value, str) else value


def bare_tesseract_seconds(image_paths: Sequence[Path]) -> float:
    """Time ``tesseract IMAGE - -l fra`` (default page segmentation), single-threaded, on each image, in seconds.

    The speed reference of issue 16: a bare single-thread Tesseract (``OMP_THREAD_LIMIT=1``) on the same page,
    timed in the same run, one page after another.
    """
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    total = 0.0
    for path in image_paths:
        start = time.perf_counter()
        subprocess.run(["tesseract", str(path), "-", "-l", "fra"], check=True, capture_output=True, env=env)
        total += time.perf_counter() - start
    return total


def page_images(paths: Sequence[Path], work: Path) -> list[Path]:
    """The scanned pages of ``paths`` as PNG files (what the bare tesseract call reads); a PDF page with no
    image (born digital) has none."""
    import pdfplumber
    from PIL import Image, ImageSequence
    from pillow_heif import register_heif_opener

    register_heif_opener()

    out = []
    for path in paths:
        if path.suffix == ".pdf":
            with pdfplumber.open(path) as pdf:
                for i, page in enumerate(pdf.pages):
                    if not page.images:
                        continue
                    target = work / f"{path.stem}-{i}.png"
                    biggest = max(page.images, key=lambda im: float(im["width"]))
                    dpi = float(biggest["srcsize"][0]) / (float(biggest["width"]) / 72.0)
                    with PDFIUM_LOCK:  # pdfplumber rasterises with PDFium, which is not thread-safe
                        page.to_image(resolution=dpi).original.save(target)
                    out.append(target)
        else:
            with Image.open(path) as img:
                for i, frame in enumerate(ImageSequence.Iterator(img)):
                    target = work / f"{path.stem}-{i}.png"
                    frame.save(target)
                    out.append(target)
    return out


def bench_kind(kind: SampleKind, per_kind: int, seed: int, settings: Settings, workers: int = 1,
               progress: Callable[[], None] | None = None) -> KindFigures:
    """Generate, read, decide and score ``per_kind`` forms of ``kind``.

    Args:
        kind: The kind of document.
        per_kind: Forms to generate (indices ``0 .. per_kind - 1``, each seeded by ``(seed, kind, index)``).
        seed: Corpus seed.
        settings: Product settings.
        workers: Forms benchmarked at once, each in its own process. With more than one, reading times
            include the contention of forms read side by side; the bare tesseract reference is always
            timed alone, after.
        progress: Called after each form (for a progress line on stderr).

    Returns:
        The kind's figures, summed over its forms in index order (so they do not depend on ``workers``).
    """
    definition = form_v1()
    directory = load_directory(settings.directory_file)
    with tempfile.TemporaryDirectory(prefix="clas-bench-") as tmp:
        work = Path(tmp)

        args = [(kind, i, seed, settings, directory, definition, work) for i in range(per_kind)]
        if workers > 1:
            # Processes, not threads: pdfium (rendering and rasterising the forms) is not thread-safe,
            # and two threads generating at once corrupted its heap.
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                results = [_advanced(r, progress) for r in pool.map(_bench_form, *zip(*args, strict=True))]
        else:
            results = [_advanced(_bench_form(*a), progress) for a in args]
        figures = KindFigures(kind.value, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, None, 0)
        scan_paths: list[Path] = []
        for form_figures, paths in results:
            figures.add(form_figures)
            scan_paths += paths
        if scan_paths:
            images = page_images(scan_paths, work)
            figures.reference_seconds = bare_tesseract_seconds(images)
            figures.reference_pages = len(images)
    return figures


def _advanced(result: T, progress: Callable[[], None] | None) -> T:
    """``result``, after calling ``progress`` (one item done)."""
    if progress:
        progress()
    return result


def _bench_form(kind: SampleKind, i: int, seed: int, settings: Settings, directory: Directory,
                definition: FormDefinition, work: Path) -> tuple[KindFigures, list[Path]]:
    """Figures of form ``i`` of ``kind`` alone, and the image files it came in (for the reference)."""
    figures = KindFigures(kind.value, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, None, 0)
    scan_paths: list[Path] = []
    docs = generate_documents(kind, i, seed, directory, settings.school_year)
    readings: list[DocumentReading] = []
    for doc in docs:
        path = work / doc.name
        path.write_bytes(doc.data)
        received = ingest_file(path, "bench", work / f"originals-{i}")
        start = time.perf_counter()
        readings.append(read_received(received, settings, definition))
        figures.seconds_reading += time.perf_counter() - start
        figures.add_pages_timed(readings[-1].pages)
        figures.pages += len(readings[-1].pages) or 1
        if kind in IMAGE_KINDS:
            scan_paths.append(path)
    figures.forms += 1
    truth = docs[0].truth
    if any(r.failure for r in readings):
        figures.expected_outcome_met += truth["expected_outcome"] == Outcome.QUARANTINED.value
        return figures, scan_paths
    decision = decide_form([p for r in readings for p in r.pages], settings, directory, {},
                           lambda _key, _year: None, definition)
    figures.expected_outcome_met += decision.outcome.value == truth["expected_outcome"] or (
        truth["expected_outcome"] == "routed" and decision.outcome is Outcome.WAITING_LIST)
    if decision.outcome is not Outcome.REVIEW:
        figures.auto_decided += 1
    if kind in IMAGE_KINDS and i < SHEET_FORMS:
        _collect_crops(figures, [work / d.name for d in docs], kind)
    values: dict[str, RawValue] = truth["values"]  # type: ignore[assignment]
    figures.add(score_form(decision, values, truth.get("pages", [1, 2]), definition, directory,  # type: ignore[arg-type]
                           settings.ocr.text_confidence_min, decision.outcome is not Outcome.REVIEW))
    return figures, scan_paths


def score_form(decision: Decision, values: dict[str, RawValue], pages: Sequence[int], definition: FormDefinition,
               directory: Directory, threshold: float, decided_without_person: bool) -> KindFigures:
    """Score one decided form's fields against the truth (see the module docstring for each figure).

    Args:
        decision: The form's decision (its ``form`` holds the fields read).
        values: Field name → true raw value.
        pages: The form's pages to score (fields of other pages are left out).
        definition: The form's geometry.
        directory: Schools, for scoring the school by the school it designates.
        threshold: The review threshold (0-1): a field under it is shown to a person.
        decided_without_person: Whether the form (or the referral it is part of) was decided without a
            person: its fields count as accepted.

    Returns:
        Figures with ``forms`` left at 0: fields, ticks, wrong confident, accepted, fields to check, and
        routed and misroutes when the decision routed the form.
    """
    figures = KindFigures("", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.0, None, 0)
    wrong_critical = False
    if decision.form is not None:
        figures.fields_to_check.append(sum(f.confidence < threshold for f in decision.form.fields.values()))
    for field in definition.fields:
        if field.page not in pages or decision.form is None:
            continue
        got = comparable(field, decision.form.fields[field.name].value, directory)
        want = comparable(field, values[field.name], directory)
        figures.fields += 1
        figures.fields_exact += got == want
        figures.scored.append((decision.form.fields[field.name].confidence, got == want))
        figures.wrong_confident += got != want and decision.form.fields[field.name].confidence >= threshold
        if decided_without_person:
            figures.accepted_fields += 1
            figures.accepted_wrong += got != want
        if field.is_tick:
            got_set = {"yes"} if got is True else set(got or [])  # type: ignore[arg-type]
            want_set = {"yes"} if want is True else set(want or [])  # type: ignore[arg-type]
            confident = decision.form.fields[field.name].confidence >= threshold
            for box in field.boxes:
                right = (box.option in got_set) == (box.option in want_set)
                figures.ticks += 1
                figures.ticks_right += right
                figures.ticks_wrong_confident += not right and confident
                figures.ticks_to_person += not right and not confident
        wrong_critical |= field.name in ROUTING_CRITICAL and got != want
    if decision.outcome is Outcome.ROUTED:
        figures.routed += 1
        figures.misroutes += wrong_critical
    return figures



SHEET_FORMS = 2
"""Forms per image kind whose field crops are collected for the contact sheet."""


def _collect_crops(figures: KindFigures, paths: Sequence[Path], kind: SampleKind) -> None:
    """Read single-image pages directly to keep their field crops, with value and confidence."""
    from PIL import Image, ImageOps
    from pillow_heif import register_heif_opener

    from pipeline.reading.scan.page import read_scan_page

    register_heif_opener()
    for path in paths:
        if path.suffix not in (".jpg", ".png", ".heic"):
            continue
        with Image.open(path) as img:
            grey = np.asarray(ImageOps.exif_transpose(img).convert("L"))
        try:
            result = read_scan_page(grey)
        except ClasError:
            continue
        for name, f in result.fields.items():
            if name in result.crops:
                caption = f"{kind.value} {name} = {f.value!r} ({f.confidence:.2f})"
                figures.crops.append((f.confidence, caption, result.crops[name]))


def least_confident_sheet(figures: Sequence[KindFigures], count: int = 30) -> Image.Image | None:
    """Contact sheet of the ``count`` least confident field crops over all kinds; ``None`` if no crop."""
    from pipeline.reading.crops import SheetItem, contact_sheet

    crops = sorted((c for f in figures for c in f.crops), key=lambda c: c[0])[:count]
    return contact_sheet([SheetItem(png, caption) for _, caption, png in crops]) if crops else None


def run_bench(per_kind: int, seed: int, settings: Settings,
              kinds: Sequence[SampleKind] = (*KIND_GROUPS["base"], *KIND_GROUPS["hard"]),
              workers: int = 1, progress: Callable[[], None] | None = None) -> list[KindFigures]:
    """Benchmark every kind; see :func:`bench_kind` (``progress`` is called after each form of every kind)."""
    return [bench_kind(kind, per_kind, seed, settings, workers, progress) for kind in kinds]


def reference_summary(figures: Sequence[KindFigures]) -> dict[str, float | None]:
    """Median reading and reference seconds per page over the scan kinds."""
    ours = [f.seconds_per_page for f in figures if f.reference_seconds_per_page is not None]
    ref = [f.reference_seconds_per_page for f in figures if f.reference_seconds_per_page is not None]
    return {"scan_seconds_per_page_median": statistics.median(ours) if ours else None,
            "tesseract_full_page_seconds_median": statistics.median(ref) if ref else None}  # type: ignore[type-var]
