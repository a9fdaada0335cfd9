"""The order of the stages for one received file, and the run's accounting.

``flows/nightly.py`` wraps these functions as Prefect tasks; the benchmark and
the tests call them directly, so the pipeline runs without Prefect.

Per file: ingest (hash, keep a copy) → skip if this exact file was already
processed → record as duplicate if the content is already held → read, assemble,
validate, route (:func:`pipeline.process.process_document`) → record the whole
outcome in one transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pipeline.directory import load_directory
from pipeline.ingest import ingest_file
from pipeline.process import Decision, process_document
from pipeline.settings import Settings
from pipeline.store import Store
from schemas.directory import Directory
from schemas.document import OUTCOME_LABELS_FR, Outcome

SKIPPED = "already_processed"


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


class RunContext:
    """What every file's processing needs: settings, store and directory (opened once per run).

    Args:
        settings: Product settings.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.database_url)
        self.directory: Directory = load_directory(settings.directory_file)

    @property
    def originals_dir(self) -> Path:
        """Folder of kept originals (owner-only)."""
        return self.settings.data_dir / "originals"

    def close(self) -> None:
        """Release the database."""
        self.store.close()


def handle_file(ctx: RunContext, run_id: int, path: Path, source: str) -> FileResult:
    """Take one file of the inbox to its outcome and record it.

    Raises:
        OSError: The file cannot be read or kept (nothing is recorded then; the
            next run picks the file up again).
        sqlalchemy.exc.SQLAlchemyError: The database refused the write.
    """
    doc = ingest_file(path, source, ctx.originals_dir)
    if ctx.store.already_received(source, doc.original_name, doc.sha256):
        return FileResult(doc.sha256, SKIPPED)
    if ctx.store.document_status(doc.sha256) is not None:
        ctx.store.record_duplicate(run_id, doc)
        return FileResult(doc.sha256, Outcome.DUPLICATE.value, ("duplicate_file",))
    decision = process_document(doc, ctx.settings, ctx.directory, ctx.store.places_used(),
                                ctx.store.pupil_already_referred)
    record_decision(ctx.store, run_id, doc, decision)
    return FileResult(doc.sha256, decision.outcome.value, tuple(r.code for r in decision.reasons),
                      decision.carrier_id)


def record_decision(store: Store, run_id: int, doc: object, decision: Decision) -> None:
    """Write a decision to the store (one transaction)."""
    referral = None
    if decision.referral is not None and decision.pupil_key is not None:
        r = decision.referral
        referral = {
            "pupil_key": decision.pupil_key,
            "school_year": r.school_year,
            "school_id": r.school_id,
            "class_level": str(r.class_level),
            "carrier_id": decision.carrier_id,
            "data": r.model_dump(mode="json"),
        }
    fields = [f.model_dump(mode="json") for f in decision.form.fields.values()] if decision.form else []
    store.record_document(run_id, doc, decision.outcome, [r.as_dict() for r in decision.reasons],  # type: ignore[arg-type]
                          form_id=decision.form.form_id if decision.form else None, fields=fields,
                          referral=referral, min_confidence=decision.min_confidence)


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
        return (f"Fiches reçues : {self.received} = {parts}{status}"
                f"  (déjà traitées lors d'une exécution précédente : {self.already_processed})")

    def markdown(self) -> str:
        """The summary as a Markdown table (the Prefect artifact)."""
        rows = "\n".join(f"| {OUTCOME_LABELS_FR[o]} | {self.counts.get(o.value, 0)} |" for o in Outcome)
        reasons = "\n".join(f"| `{code}` | {n} |" for code, n in sorted(self.reasons.items()))
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
