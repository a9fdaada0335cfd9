"""The order of the stages, in one place: from a received file to its recorded outcome.

This is the module to open to see where a form is decided. ``flows/nightly.py`` (a folder) and
``flows/mail_intake.py`` (a mailbox, through ``pipeline.runs.mail``) wrap these functions as
Prefect tasks; the benchmark and the tests call them directly, so the pipeline runs without Prefect.

Per file: :func:`receive_file` (ingest: hash, keep a copy; ``pipeline.intake``) → skip if this
exact file was already processed → :func:`is_duplicate` if the content is already held →
:func:`read_file` (``pipeline.reading``: fillable fields, text layer, or identification,
registration and the scan reader) → :func:`record_failure` for a document that could not be read.
Then per form serial (pages of one form may come in several files): :func:`group_forms` →
:func:`decide_and_record` (``pipeline.deciding``: assemble, cross-check, validate, route;
:func:`pipeline.deciding.decide.decide_form`) → the whole outcome recorded in one transaction.
Duplicates are recorded last, once their first copy is (:func:`record_duplicate`). Every received
document ends in exactly one place: routed, waiting list, awaiting review, quarantined or duplicate.
"""

from __future__ import annotations

import errno
import os
import signal
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pipeline.deciding.directory import load_directory
from pipeline.errors import ClasError
from pipeline.form.definition import is_shared_serial
from pipeline.intake.ingest import ingest_file
from pipeline.reading.pages import PageReading
from pipeline.settings import Settings
from pipeline.store import Store
from schemas.directory import Directory
from schemas.document import OUTCOME_LABELS_FR, REASON_LABELS_FR, Outcome, ReceivedDocument

if TYPE_CHECKING:
    from pipeline.deciding.decide import Decision
    from pipeline.reading.document import DocumentReading, Reason
    from pipeline.reading.pages import PageResult

# The readers and the deciding stage are imported where they are used, not here (issue 19): importing them
# costs about 2 s (the comb digit model's scikit-learn), which a run over an empty inbox, the mailbox's
# bookkeeping and every command that only opens the store need not pay. The reading workers load them once
# each (pipeline.reading.worker_preload).

SKIPPED = "already_processed"


class IngestIOError(ClasError):
    """A file of the inbox could not be read or copied (I/O; retried by the flow, then by the next run).

    Attributes:
        errno_code: The operating system's error number, if any.
    """

    code: ClassVar[str] = "ingest_io"
    default_reason_fr: ClassVar[str] = (
        "Fichier illisible dans le dossier de réception (droits, disque) : il sera repris à la prochaine exécution."
    )

    def __init__(self, message: str, *, errno_code: int | None = None, reason_fr: str | None = None) -> None:
        """Create the error; see the class docstring for ``errno_code``."""
        super().__init__(message, reason_fr=reason_fr)
        self.errno_code = errno_code


@dataclass(frozen=True)
class FileResult:
    """What became of one file of the inbox (no personal data: safe to log).

    Attributes:
        sha256: Content hash.
        outcome: An :class:`Outcome` value, or ``already_processed`` for a file an
            earlier run handled (not a new reception).
        reason_codes: Codes of the reasons, when not routed.
        carrier_id: Carrier chosen, when routed.
    """

    sha256: str
    outcome: str
    reason_codes: tuple[str, ...] = ()
    carrier_id: str | None = None


KILL_AT_ENV = "CLAS_TEST_KILL_AT"
"""Fault injection for the crash tests (``tests/flows/test_crash.py``): ``point[:n]`` makes the
process SIGKILL itself the ``n``-th time (default 1) it reaches ``point``. Points:
``after_ingest`` (a file kept, nothing recorded), ``mid_extraction`` (before reading a
document), ``before_record`` (a form decided and routed, its transaction not yet begun).
Unset in production, where :func:`crash_point` does nothing."""
_KILL_COUNTS: Counter[str] = Counter()


def crash_point(point: str) -> None:
    """Kill this process with SIGKILL here if ``CLAS_TEST_KILL_AT`` names this point (crash tests only)."""
    wanted = os.environ.get(KILL_AT_ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != point:
        return
    _KILL_COUNTS[point] += 1
    if _KILL_COUNTS[point] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)


class RunContext:
    """What every file's processing needs: settings, store and directory (opened once per run).

    Args:
        settings: Product settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Kept files are personal data about minors: owner-only folders (files are 0600, see ingest).
        settings.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(settings.data_dir, 0o700)
        self.store = Store(settings.database_url, settings.database.busy_timeout_s)
        self.directory: Directory = load_directory(settings.directory_file)

    @property
    def originals_dir(self) -> Path:
        """Folder of kept originals (owner-only)."""
        return self.settings.data_dir / "originals"

    def close(self) -> None:
        """Release the database."""
        self.store.close()


_CONTEXTS: dict[Settings, RunContext] = {}


_READERS_CHECKED: set[Settings] = set()
"""Settings whose readers' installation this process has checked (:func:`check_readers_installed`)."""


def run_context(settings: Settings, check_readers: bool = False) -> RunContext:
    """The run context for these settings, opened once per process and reused.

    Tasks receive the (small, frozen) settings and look their context up here,
    so that no open client crosses a task boundary. A run that reads documents asks first for the readers'
    installed parts to be checked (:func:`check_readers_installed`), once per process and settings, so a broken
    installation stops the run before any document is read instead of quarantining every scan.

    Args:
        settings: The run's settings.
        check_readers: Check the readers' installation, unless this process already has for these settings. A run's
            first task passes ``True`` when it has documents to read (``flows.tasks.connect_task``); a run with
            nothing to read does not pay for it (issue 19: the check loads numpy, the form's fonts and the
            given-name lexicon, and hashes the second reader's 21 MB model, about 0.2 s of CPU). The check is kept
            apart from the context: a long-lived process whose first run had nothing to read still checks before
            its first run that reads.

    Raises:
        FormFontMissingError: The form's font is not installed.
        SecondReaderError: The second reader's model is missing or not the measured one.
        LexiconMissingError: The given-name lexicon is not installed.
    """
    if check_readers and settings not in _READERS_CHECKED:
        check_readers_installed(settings)
        _READERS_CHECKED.add(settings)
    if settings not in _CONTEXTS:
        _CONTEXTS[settings] = RunContext(settings)
    return _CONTEXTS[settings]


def check_readers_installed(settings: Settings | None = None) -> None:
    """Check what the readers need from the installation: the form's embedded font (verification by synthesis,
    the blank form), the second reader's model (its SHA-256), the given-name lexicon and the French dictionary.

    Args:
        settings: Where the lexicons are (``settings.ocr.first_names_file``, ``french_words_file``); the defaults
            when not given.

    Raises:
        FormFontMissingError: The form's font is not installed (``pipeline.form.fonts``).
        SecondReaderError: The second reader's model is missing or not the measured one.
        LexiconMissingError: The given-name lexicon is missing or holds too few names (``pipeline.reading.lexicon``),
            or the French dictionary is missing (``FrenchWordsMissingError``, ``pipeline.reading.french_words``).
    """
    from pipeline.form.fonts import register_form_fonts
    from pipeline.reading.french_words import french_words
    from pipeline.reading.lexicon import first_names
    from pipeline.reading.scan.second_reader import model_path

    register_form_fonts()
    model_path()
    ocr = (settings or Settings()).ocr
    first_names(ocr.first_names_file)
    french_words(ocr.french_words_file)


def close_run_contexts() -> None:
    """Close every context opened by :func:`run_context` and end this process's idle reading workers; the next run
    that reads checks the readers again."""
    from pipeline.reading.limits import stop_idle_workers

    stop_idle_workers()
    _READERS_CHECKED.clear()
    while _CONTEXTS:
        _CONTEXTS.popitem()[1].close()


def receive_file(ctx: RunContext, path: Path, source: str) -> ReceivedDocument | FileResult:
    """Ingest one file of the inbox, or say that an earlier run already handled it.

    Raises:
        IngestIOError: The file cannot be read or kept (nothing is recorded; the next run
            retries). Its message names the error number only, never the path: file names
            sent by schools often carry the pupil's name, and Prefect logs a failed task's
            exception.
    """
    try:
        doc = ingest_file(path, source, ctx.originals_dir)
    except OSError as exc:
        raise IngestIOError(f"file cannot be read or kept: {errno.errorcode.get(exc.errno or 0, 'EIO')}",
                            errno_code=exc.errno) from None
    crash_point("after_ingest")
    if ctx.store.already_received(source, doc.original_name, doc.sha256):
        return FileResult(doc.sha256, SKIPPED)
    return doc


def is_duplicate(ctx: RunContext, doc: ReceivedDocument, seen_this_run: set[str]) -> bool:
    """Whether the content was already received (earlier run, or earlier in this run)."""
    return doc.sha256 in seen_this_run or ctx.store.document_status(doc.sha256) is not None


def record_duplicate(ctx: RunContext, run_id: int, doc: ReceivedDocument) -> FileResult:
    """Record a second reception of a content (call after the first one is recorded)."""
    ctx.store.record_duplicate(run_id, doc)
    return FileResult(doc.sha256, Outcome.DUPLICATE.value, ("duplicate_file",))


def read_file(ctx: RunContext, doc: ReceivedDocument) -> DocumentReading:
    """Read a received document's pages (never raises for bad input).

    A document whose ingestion already gave it a quarantine reason (``doc.intake_reason``) is not read.
    """
    from pipeline.reading.document import DocumentReading, Reason, read_received

    crash_point("mid_extraction")
    if doc.intake_reason is not None:
        return DocumentReading(doc, failure=Reason(*doc.intake_reason))
    return read_received(doc, ctx.settings)


@dataclass(frozen=True)
class FormGroup:
    """The documents that carry the pages of one form serial in this run.

    Attributes:
        form_id: The serial.
        readings: The documents' readings, in inbox order.
    """

    form_id: str
    readings: tuple[DocumentReading, ...]

    @property
    def pages(self) -> list[PageResult]:
        """Every page of the form's documents."""
        return [p for r in self.readings for p in r.pages]


def group_forms(readings: Iterable[DocumentReading]) -> tuple[list[FormGroup], list[DocumentReading]]:
    """Gather readings by form serial (pages are assembled by QR, never by scan order).

    Files of the shared serial (the fillable PDF's) are each their own form, except a file holding only
    page 1 and one holding only page 2 that name the same pupil, and no other such file does
    (:func:`pipeline.deciding.assemble.pair_by_pupil`): they are one form.

    Returns:
        ``(groups, failures)``: one group per form serial, and the readings that failed
        (their ``failure`` says why).
    """
    by_form: dict[str, list[DocumentReading]] = {}
    failures = []
    for reading in readings:
        reading = _several_forms_in_one_file(reading)
        if reading.failure is not None:
            failures.append(reading)
        else:
            by_form.setdefault(reading.form_ids[0], []).append(reading)
    # A shared serial's page 1 and page 2 scanned to two files: paired by the pupil they name.
    singles = {key: [p for r in rs for p in r.pages] for key, rs in by_form.items()
               if is_shared_serial(key.partition("@")[0])}
    if singles:  # else nothing to pair, and the deciding stage need not be imported (a run's fixed cost)
        from pipeline.deciding.assemble import pair_by_pupil

        for first, second in pair_by_pupil(singles):
            by_form[first] += by_form.pop(second)
    return [FormGroup(form_id, tuple(rs)) for form_id, rs in by_form.items()], failures


def _several_forms_in_one_file(reading: DocumentReading) -> DocumentReading:
    """``reading``, or the same document failed with :class:`~pipeline.errors.RepeatedPageError` when a page of the
    fillable's shared serial comes twice in it and the copies are not one page sent twice
    (:func:`pipeline.deciding.assemble.repeated_page_copies`)."""
    numbers = [(p.identity.form_id, p.identity.page) for p in reading.pages
               if isinstance(p, PageReading) and is_shared_serial(p.identity.form_id)]
    if reading.failure is not None or len(numbers) == len(set(numbers)):
        return reading  # no shared-serial page twice: the deciding stage need not be imported (a run's fixed cost)
    from pipeline.deciding.assemble import repeated_page_copies
    from pipeline.errors import RepeatedPageError
    from pipeline.reading.document import Reason

    copies = repeated_page_copies(reading.pages)
    if not copies:
        return reading
    err = RepeatedPageError("one page of the shared serial twice, with different values", form_count=copies)
    return replace(reading, pages=(), failure=Reason(err.code, err.reason_fr))


def record_failure(ctx: RunContext, run_id: int, reading: DocumentReading) -> FileResult:
    """Quarantine a document that could not be read as a form, with its reason."""
    reasons = [reading.failure.as_dict()] if reading.failure else []
    ctx.store.record_quarantine(run_id, reading.doc, reasons)
    return FileResult(reading.doc.sha256, Outcome.QUARANTINED.value, tuple(str(r["code"]) for r in reasons))


def decide_and_record(ctx: RunContext, run_id: int, group: FormGroup,
                      extra_reasons: Callable[[Decision], Sequence[Reason]] | None = None) -> list[FileResult]:
    """Decide one form and record the outcome for each of its documents (one transaction, places locked).

    A form serial already recorded by an earlier run makes its documents duplicates
    (the same form sent again): it is never routed twice.

    Args:
        ctx: The run context.
        run_id: The current run.
        group: The documents of one form serial.
        extra_reasons: Reasons from outside the form, given its decision (the mail
            intake's sender check, ``pipeline.intake.mail.sender_reasons``). Any reason sends a
            form that would have been routed or put on the waiting list to review instead;
            reasons never turn a review into a routing.
    """
    from pipeline.deciding.decide import decide_form

    docs = [r.doc for r in group.readings]
    store = ctx.store
    # Places are counted, taken and recorded in one transaction under the places lock, as the desk's approvals
    # are (``web.review.approve``): a reviewer approving during the run cannot take the same last place.
    with store.session() as s:
        store.lock_places(s)
        if store.form_recorded(s, group.form_id):
            for doc in docs:
                store.add_duplicate_form(s, run_id, doc, group.form_id)
            return [FileResult(doc.sha256, Outcome.DUPLICATE.value, ("form_already_received",)) for doc in docs]
        decision = decide_form(group.pages, ctx.settings, ctx.directory,
                               store.count_places(s, ctx.settings.school_year),
                               lambda key, year: store.earlier_referral(s, key, year))
        extra = tuple(extra_reasons(decision)) if extra_reasons else ()
        if extra:
            kept = tuple(r for r in decision.reasons if r.code != "waiting_list")
            decision = replace(decision, outcome=Outcome.REVIEW, reasons=kept + extra, carrier_id=None)
        referral = None
        if decision.referral is not None and decision.pupil_key is not None:
            r = decision.referral
            referral = {"pupil_key": decision.pupil_key, "school_year": r.school_year, "school_id": r.school_id,
                        "class_level": str(r.class_level), "carrier_id": decision.carrier_id,
                        "data": r.model_dump(mode="json")}
        fields = [f.model_dump(mode="json") for f in decision.form.fields.values()] if decision.form else []
        crash_point("before_record")
        store.add_form(s, run_id, docs, group.form_id, decision.outcome, [r.as_dict() for r in decision.reasons],
                       fields=fields, referral=referral, min_confidence=decision.min_confidence)
    codes = tuple(r.code for r in decision.reasons)
    return [FileResult(doc.sha256, decision.outcome.value, codes, decision.carrier_id) for doc in docs]


@dataclass(frozen=True)
class RunSummary:
    """A run's accounting: ``received = routed + waiting_list + review + quarantined + duplicate``.

    Attributes:
        received: New receptions in this run.
        counts: Outcome value → number of files.
        already_processed: Files an earlier run had handled (not counted as received).
        reasons: Reason code → number of files it applies to.
    """

    received: int
    counts: dict[str, int]
    already_processed: int
    reasons: dict[str, int]

    @property
    def balanced(self) -> bool:
        """Whether every received file is in exactly one outcome."""
        return self.received == sum(self.counts.get(o.value, 0) for o in Outcome)

    def as_dict(self) -> dict[str, object]:
        """JSON form (for ``--json`` and the artifact)."""
        return {"received": self.received, **{o.value: self.counts.get(o.value, 0) for o in Outcome},
                "already_processed": self.already_processed, "balanced": self.balanced,
                "reasons": self.reasons}

    def line(self) -> str:
        """The accounting line, in French, as printed at the end of a run."""
        parts = " + ".join(f"{self.counts.get(o.value, 0)} {OUTCOME_LABELS_FR[o]}" for o in Outcome)
        status = "" if self.balanced else "  /!\\ COMPTE NON ÉQUILIBRÉ"
        return (f"Fichiers reçus : {self.received} = {parts}{status}"
                f"  (déjà traitées lors d'une exécution précédente : {self.already_processed})")

    def markdown(self) -> str:
        """The summary as a Markdown table (the Prefect artifact)."""
        rows = "\n".join(f"| {OUTCOME_LABELS_FR[o]} | {self.counts.get(o.value, 0)} |" for o in Outcome)
        reasons = "\n".join(f"| {REASON_LABELS_FR.get(code, code)} (`{code}`) | {n} |"
                            for code, n in sorted(self.reasons.items()))
        return (f"# Exécution CLAS\n\n| Issue | Nombre |\n|---|---|\n| **reçues** | **{self.received}** |\n{rows}\n"
                f"| déjà traitées | {self.already_processed} |\n\n"
                f"Compte équilibré : {'oui' if self.balanced else 'NON'}\n\n"
                f"## Motifs\n\n| Motif | Fichiers |\n|---|---|\n{reasons}\n")


def summarise(results: Iterable[FileResult]) -> RunSummary:
    """Build the run's accounting from its file results."""
    results = list(results)
    counts = Counter(r.outcome for r in results if r.outcome != SKIPPED)
    reasons = Counter(code for r in results if r.outcome != SKIPPED for code in set(r.reason_codes))
    return RunSummary(received=sum(counts.values()), counts=dict(counts),
                      already_processed=sum(1 for r in results if r.outcome == SKIPPED), reasons=dict(reasons))
