"""Scale benchmark: the nightly flow itself over N generated forms of mixed kinds, on 1 and on more Dask workers.

``clas-referrals bench --forms N --workers W`` generates N forms cycling through every kind of the sample generator
(:class:`samples.kinds.SampleKind`: fillable and typed PDFs, scans, photos, copies, handwriting, invalid forms and
files that are not the form), then runs the nightly flow (``flows.nightly``, with its Prefect server, store and
retention purge) over them once per worker count (1, then W), each on a fresh SQLite store, with the reading
tasks on a local Dask cluster of that many workers (``flows.runner``). It measures, per run:

* wall time of the flow call (the cluster's start and stop included; not the generation, timed apart);
* forms per minute;
* peak memory of the whole process tree (this process, the Prefect server, the Dask scheduler, workers and
  their reading processes), sampled every :data:`MEMORY_SAMPLE_S` s: the sum of the proportional set sizes
  (PSS: a page shared by several processes, such as the readers preloaded by the forkserver, counted once), and
  the sum of the resident sizes (RSS: shared pages counted in each process, an upper bound);
* the speed-up, wall time on 1 worker over wall time on W.

The flow records no per-stage times (the per-page reading stages are ``pipeline/reading``'s); the outcome counts
come from the run's own accounting. :func:`estimate_night` turns the measured rates into a paper estimate for
larger nights, stated as an estimate.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from pipeline.deciding.directory import load_directory
from pipeline.settings import ScaleSettings, Settings
from samples.kinds import SampleKind

MEMORY_SAMPLE_S = 0.5
"""Seconds between two memory samples of the process tree: a reading worker lives about a second or more per
document on a 2-core machine, so a peak is rarely missed; reading every process's smaps costs a few ms."""
MIB = 1024 * 1024

ProgressFactory = Callable[[str, int], AbstractContextManager[Callable[[], None]]]
"""``progress(label_fr, total)``: a context giving the function to call per item (``flows.progress.progress_line``)."""


@dataclass(frozen=True)
class ScaleRun:
    """One run of the flow over the corpus.

    Attributes:
        workers: Dask workers reading.
        forms: Forms in the inbox.
        files: Files in the inbox (a scan may come in one file per page).
        wall_s: Wall time of the flow call, in seconds.
        forms_per_minute: ``forms / wall_s * 60``.
        peak_pss_mib: Peak of the process tree's summed PSS, in MiB.
        peak_rss_mib: Peak of the process tree's summed RSS, in MiB (upper bound).
        peak_processes: Processes in the tree at the PSS peak.
        outcomes: The run's accounting (outcome → files).
        peak_by_role: At the PSS peak, MiB of PSS per kind of process (:func:`process_role`).
        worker_cores: Cores each Dask worker was bound to; 0 when unbound (every worker may use every core).
    """

    workers: int
    forms: int
    files: int
    wall_s: float
    forms_per_minute: float
    peak_pss_mib: float
    peak_rss_mib: float
    peak_processes: int
    outcomes: dict[str, object]
    peak_by_role: dict[str, float] = field(default_factory=dict)
    worker_cores: int = 0


@dataclass(frozen=True)
class ScaleFigures:
    """The benchmark's result.

    Attributes:
        forms: Forms generated.
        kinds: Kinds cycled through.
        generation_s: Seconds spent generating them (not part of any run).
        runs: One run per worker count, in the order run.
        speedup: Wall time on the first worker count over wall time on the last.
        prefect_server: ``"temporary"`` when the runs started Prefect's temporary server (a process of the tree,
            its memory counted), else the URL of the server they reported to (``PREFECT_API_URL``: the long-lived
            local server or another, outside the tree and not counted, as a database server is not).
    """

    forms: int
    kinds: int
    generation_s: float
    runs: tuple[ScaleRun, ...]
    speedup: float | None
    prefect_server: str = "temporary"

    def as_dict(self) -> dict[str, object]:
        """JSON form."""
        return asdict(self)


def process_role(proc: psutil.Process, root_pid: int) -> str:
    """What a process of the tree is, from its command line and its parent's: for the peak's breakdown."""
    try:
        if proc.pid == root_pid:
            return "commande (flux, Prefect)"
        cmdline = " ".join(proc.cmdline())
        parent = proc.parent()
        parent_cmdline = " ".join(parent.cmdline()) if parent is not None else ""
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return "autre"
    if "multiprocessing.forkserver" in cmdline:
        return "lecture (un document)" if "multiprocessing.forkserver" in parent_cmdline else \
            "forkserver (lecteurs préchargés)"
    if "prefect.server" in cmdline:
        return "serveur Prefect temporaire"
    if "resource_tracker" in cmdline:
        return "autre"
    if "multiprocessing.spawn" in cmdline:
        return "travailleur Dask"
    return "autre"


class TreeMemory:
    """Samples the memory of this process and all its descendants in a thread while in a ``with`` block."""

    def __init__(self, interval_s: float = MEMORY_SAMPLE_S) -> None:
        self.interval_s = interval_s
        self.peak_pss = 0
        self.peak_rss = 0
        self.peak_processes = 0
        self.peak_by_role: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> None:
        """Take one sample now."""
        root = psutil.Process()
        pss = rss = count = 0
        by_role: dict[str, int] = {}
        for proc in [root, *root.children(recursive=True)]:
            try:
                info = proc.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue  # ended between the listing and the reading
            share = getattr(info, "pss", info.rss)
            pss += share
            rss += info.rss
            count += 1
            role = process_role(proc, root.pid)
            by_role[role] = by_role.get(role, 0) + share
        if pss > self.peak_pss:
            self.peak_pss, self.peak_processes, self.peak_by_role = pss, count, by_role
        self.peak_rss = max(self.peak_rss, rss)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.sample()

    def __enter__(self) -> TreeMemory:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def mixed_kinds(forms: int) -> list[tuple[SampleKind, int]]:
    """``forms`` (kind, index) pairs cycling through every kind in order: kind ``i % K``, index ``i // K``."""
    kinds = list(SampleKind)
    return [(kinds[i % len(kinds)], i // len(kinds)) for i in range(forms)]


def generate_inbox(folder: Path, forms: int, seed: int, settings: Settings,
                   progress: Callable[[], None] | None = None, processes: int = 2) -> int:
    """Write ``forms`` mixed forms into ``folder`` (no truth: the run's accounting is what is measured).

    The forms are made in ``processes`` spawned processes, so that the generator's libraries (faker, the PDF
    and image writers) never weigh on this process, whose memory the runs then measure.

    Returns:
        The number of files written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(folder, kind, index, seed, settings.directory_file, settings.school_year)
            for kind, index in mixed_kinds(forms)]
    files = 0
    with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as pool:
        for written in pool.map(_write_form, *zip(*jobs, strict=True)):
            files += written
            if progress:
                progress()
    return files


def _write_form(folder: Path, kind: SampleKind, index: int, seed: int, directory_file: Path,
                school_year: str) -> int:
    """Write the file(s) of one generated form into ``folder``; returns how many."""
    from samples.generator import generate_documents

    docs = generate_documents(kind, index, seed, load_directory(directory_file), school_year)
    for doc in docs:
        (folder / doc.name).write_bytes(doc.data)
    return len(docs)


def run_once(inbox: Path, work: Path, workers: int, forms: int,
             progress: Callable[[str], None] | None = None, worker_cores: int = 0) -> ScaleRun:
    """Run the nightly flow over ``inbox`` on a fresh store under ``work``, reading on ``workers`` Dask workers,
    each bound to ``worker_cores`` cores when that is above 0 (``ScaleSettings.worker_cores``).

    The flow and its workers read their settings from the environment, so this sets ``CLAS_DATABASE_URL``,
    ``CLAS_DATA_DIR`` and ``CLAS_SCALE__WORKER_CORES`` for the run (and puts back what was there).
    """
    from flows.nightly import nightly
    from flows.runner import with_reading_runner

    saved = {key: os.environ.get(key) for key in ("CLAS_DATABASE_URL", "CLAS_DATA_DIR", "CLAS_SCALE__WORKER_CORES")}
    os.environ["CLAS_DATABASE_URL"] = f"sqlite:///{work / f'bench-{workers}.sqlite3'}"
    os.environ["CLAS_DATA_DIR"] = str(work / f"data-{workers}")
    os.environ["CLAS_SCALE__WORKER_CORES"] = str(worker_cores)
    try:
        flow_ = with_reading_runner(nightly, ScaleSettings(dask_workers=workers, worker_cores=worker_cores))
        with TreeMemory() as memory:
            start = time.perf_counter()
            summary = flow_(str(inbox), progress=progress)
            wall = time.perf_counter() - start
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    files = len([p for p in inbox.iterdir() if p.is_file()])
    return ScaleRun(workers, forms, files, wall, forms / wall * 60, memory.peak_pss / MIB, memory.peak_rss / MIB,
                    memory.peak_processes, summary,
                    {role: round(size / MIB, 1) for role, size in sorted(memory.peak_by_role.items())}, worker_cores)


GENERATED_MANIFEST = "generated.json"
"""File beside a kept scale inbox (``keep/inbox``) saying what was generated in it and how long it took."""


def scale_bench(forms: int, seed: int, settings: Settings, worker_counts: Sequence[int],
                progress: ProgressFactory | None = None, keep: Path | None = None,
                worker_cores: int = 0) -> ScaleFigures:
    """Generate ``forms`` mixed forms, then run the flow over them once per worker count.

    Args:
        forms: Forms to generate.
        seed: Corpus seed.
        settings: Product settings (directory, school year).
        worker_counts: Dask workers of each run, e.g. ``(1, 2)``.
        progress: ``with progress(label_fr, total) as advance:`` around the generation and each run, ``advance()``
            called per item (``flows.progress.progress_line``); none when ``None``.
        keep: A folder to generate the forms in (``keep/inbox``) and keep them for the next run, which reuses them
            when :data:`GENERATED_MANIFEST` names the same forms, seed, kinds and school year (1,000 forms take about
            20 minutes to generate on a 2-core machine, issue 19); ``None`` generates them in a temporary folder.
        worker_cores: Cores each worker is bound to (``ScaleSettings.worker_cores``): 1 gives each worker a core
            of its own, so that the speed-up measures what a worker adds rather than two workers sharing the cores
            one page's readers already fill; 0 leaves them unbound.

    Returns:
        The figures; ``speedup`` compares the first and the last run; ``generation_s`` is the generation's time,
        when it was done earlier (reused) the time it took then.
    """
    show = progress or _no_progress
    with tempfile.TemporaryDirectory(prefix="clas-scale-") as tmp:
        work = Path(tmp)
        inbox, files, generation = _generated_inbox(keep or work, forms, seed, settings, show, reuse=keep is not None)
        runs = []
        for workers in worker_counts:
            with show(f"Exécution sur {workers} travailleur(s)", files) as tick:
                runs.append(run_once(inbox, work, workers, forms, _per_file(tick), worker_cores))
    speedup = runs[0].wall_s / runs[-1].wall_s if len(runs) > 1 else None
    return ScaleFigures(forms, len(SampleKind), generation, tuple(runs), speedup, prefect_server_used())


def _generated_inbox(folder: Path, forms: int, seed: int, settings: Settings, show: ProgressFactory,
                     reuse: bool) -> tuple[Path, int, float]:
    """``folder/inbox`` holding the forms (reused when ``reuse`` and its manifest matches, else generated), its file
    count and the generation's seconds."""
    inbox, manifest = folder / "inbox", folder / GENERATED_MANIFEST
    wanted = {"forms": forms, "seed": seed, "kinds": [k.value for k in SampleKind], "school_year": settings.school_year}
    if reuse and manifest.is_file():
        done = json.loads(manifest.read_text(encoding="utf-8"))
        if {k: done.get(k) for k in wanted} == wanted and inbox.is_dir():
            return inbox, int(done["files"]), float(done["generation_s"])
    if inbox.exists():
        shutil.rmtree(inbox)  # another corpus, or one whose generation did not finish
    manifest.unlink(missing_ok=True)
    start = time.perf_counter()
    with show("Génération des fiches", forms) as advance:
        files = generate_inbox(inbox, forms, seed, settings, advance)
    generation = time.perf_counter() - start
    if reuse:
        manifest.write_text(json.dumps({**wanted, "files": files, "generation_s": round(generation, 1)}),
                            encoding="utf-8")
    return inbox, files, generation


def prefect_server_used() -> str:
    """``"temporary"`` when this process runs its flows on Prefect's temporary server, else ``PREFECT_API_URL``."""
    return os.environ.get("PREFECT_API_URL") or "temporary"


def _per_file(tick: Callable[[], None]) -> Callable[[str], None]:
    """The flow's progress callback (called with a label per file) from a plain per-item ``tick``."""
    return lambda _label: tick()


@contextmanager
def _no_progress(_label_fr: str, _total: int) -> Iterator[Callable[[], None]]:
    yield lambda: None


def estimate_night(figures: ScaleFigures, forms: int) -> dict[int, float]:
    """Paper estimate: hours to run ``forms`` forms on each measured worker count, from the measured rate.

    Linear in the forms (the run's fixed part, the cluster's start, is small against hours); an estimate, not a
    measurement.
    """
    return {run.workers: forms / run.forms_per_minute / 60 for run in figures.runs}
