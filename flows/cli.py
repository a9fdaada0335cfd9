"""The ``clas-referrals`` command: run the inbox, generate samples, benchmark, print the forms.

Prefect runs locally, with no telemetry and no internet: on the long-lived local server of
``clas-referrals prefect-server`` when it answers, else on a temporary server started for the
command (``flows.prefect_api``); its home defaults to ``var/prefect`` in the project so nothing is
written elsewhere. Commands import what they use when they use it: a run's fixed cost is mostly
imports (issue 19).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from flows.argparse_fr import entier, use_french
from pipeline.settings import PROJECT_DIR

if TYPE_CHECKING:
    from pipeline.settings import Settings
    from pipeline.store import Store
    from samples.kinds import SampleKind

_PREFECT_DEFAULTS = {
    "PREFECT_HOME": str(PROJECT_DIR / "var" / "prefect"),
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    # The temporary server migrates its database on first start: slow on a 2-core machine.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}


def _quiet_prefect() -> None:
    """Set Prefect's environment before it is imported (the caller's values win).

    Without ``PREFECT_API_URL``, the long-lived local server is used when it answers
    (:func:`flows.prefect_api.use_local_server`).
    """
    from flows.prefect_api import use_local_server
    from pipeline.settings import Settings

    for key, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # Prefect's temporary server cannot create its database in a missing folder.
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    scale = Settings().scale
    use_local_server(scale.prefect_local_api_url, scale.prefect_probe_timeout_s)


def _start_prefect() -> None:
    """Stop what killed commands left (their temporary Prefect servers), then start and record this one's.

    See :mod:`flows.temporary_server` (issue 17: a killed run left a 230 MB server running for ever).
    """
    from flows.temporary_server import start_temporary_server, stop_orphaned_servers

    home = Path(os.environ["PREFECT_HOME"]).expanduser()
    stop_orphaned_servers(home)
    start_temporary_server(home)


def _without_heartbeats():  # noqa: ANN202 - Prefect's settings context manager
    """Prefect's settings for a command's flow run: no flow-run heartbeats.

    Prefect's heartbeat thread sleeps in 1 s steps and the run joins it at its end: about 0.9 s of every
    command (issue 19, measured 1.1-1.3 s against 0.2 s for an empty inbox). A command's run that dies is caught
    without them: the flows' ``on_crashed`` hook for a signal, and the next run's ``close_interrupted_runs`` for a
    SIGKILL. The served nightly deployment keeps them.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    return temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})


def cmd_run(args: argparse.Namespace) -> int:
    """Process an inbox folder and print its accounting."""
    _quiet_prefect()
    from flows.nightly import nightly
    from flows.progress import progress_line
    from flows.runner import with_reading_runner
    from pipeline.installation import MissingInstallError, SecondReaderError
    from pipeline.intake.ingest import scan_inbox
    from pipeline.settings import Settings
    from pipeline.stages import check_readers_installed
    from pipeline.store import DatabaseLockedError, RunAlreadyActiveError

    settings = Settings()
    inbox = Path(args.inbox) if args.inbox else settings.inbox_dir
    try:
        scan = scan_inbox(inbox, log_skipped=False)  # said in French after the run, and counted; the run logs it
    except FileNotFoundError:
        print(f"Dossier introuvable : {inbox}", file=sys.stderr)
        return 2
    total = len(scan.files)
    try:
        busy = _run_already_active(settings)
    except DatabaseLockedError as exc:
        print(exc.reason_fr, file=sys.stderr)
        return 5
    if busy is not None:
        print(busy, file=sys.stderr)
        return 3
    try:  # before Prefect starts, so that the message is all the user sees; an empty inbox reads nothing
        if total:
            check_readers_installed(settings)
    except (MissingInstallError, SecondReaderError) as exc:  # the installation
        print(getattr(exc, "reason_fr", str(exc)), file=sys.stderr)
        return 4
    _start_prefect()
    # Progress on stderr only, with --json too: stdout carries the accounting alone.
    # The error's French message comes after the progress line's last word (where the run stopped).
    try:
        with _without_heartbeats(), progress_line("Lecture des fiches", total) as advance:
            summary = with_reading_runner(nightly, settings.scale)(str(inbox), progress=lambda _label: advance())
    except RunAlreadyActiveError as exc:  # lost the race after the check above
        print(exc.reason_fr, file=sys.stderr)
        return 3
    except (MissingInstallError, SecondReaderError) as exc:  # the installation
        print(getattr(exc, "reason_fr", str(exc)), file=sys.stderr)
        return 4
    except DatabaseLockedError as exc:  # a backup or another program held the database too long
        print(exc.reason_fr, file=sys.stderr)
        return 5
    # Entries of the folder that no run takes, so that none is left out unsaid (they are no received file). Counted
    # by the look before the run: an entry dropped in the folder while the run reads is counted by the next run.
    summary = {**summary, "left_out": {"links_or_special_files": scan.special, "hidden": scan.hidden}}
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        _print_summary(summary, settings)
    for line in _left_out_fr(scan.special, scan.hidden):
        print(line, file=sys.stderr if args.json else sys.stdout)
    return 0 if summary["balanced"] else 1


def _left_out_fr(special: int, hidden: int) -> list[str]:
    """What :func:`pipeline.intake.ingest.scan_inbox` left out of the inbox, told in French (counts only)."""
    lines = []
    if special:
        lines.append(f"{special} entrée(s) du dossier laissée(s) de côté sans être lue(s) : lien symbolique ou "
                     "fichier spécial (tube, périphérique). Y déposer les fichiers eux-mêmes.")
    if hidden:
        lines.append(f"{hidden} entrée(s) cachée(s) du dossier (nom commençant par un point) laissée(s) de côté "
                     "sans être lue(s) : fichiers du système ou copies en cours. Renommer sans le point un "
                     "fichier qui doit être lu.")
    return lines


def _run_already_active(settings: Settings) -> str | None:
    """The French message if another run holds the database's run lock now, else ``None``.

    Checked before starting Prefect so that the common case gets a clean message and
    exit code 3; the flow takes the lock itself too, which settles a race.

    Raises:
        pipeline.store.DatabaseLockedError: The database stayed locked past ``CLAS_DATABASE__BUSY_TIMEOUT_S``.
    """
    from pipeline.store import RunAlreadyActiveError

    store = _store(settings)
    try:
        with store.exclusive_run():
            return None
    except RunAlreadyActiveError as exc:
        return exc.reason_fr
    finally:
        store.close()


def _store(settings: Settings) -> Store:
    """The store of ``CLAS_DATABASE_URL``, waiting for locks as long as ``CLAS_DATABASE__BUSY_TIMEOUT_S`` says."""
    from pipeline.store import Store

    return Store(settings.database_url, settings.database.busy_timeout_s)


def _print_summary(summary: dict[str, object], settings: object) -> None:
    from rich.console import Console
    from rich.table import Table

    from pipeline.stages import RunSummary
    from schemas.document import OUTCOME_LABELS_FR, REASON_LABELS_FR, Outcome

    counts = {o.value: int(summary[o.value]) for o in Outcome}  # type: ignore[call-overload]
    run = RunSummary(int(summary["received"]), counts, int(summary["already_processed"]),  # type: ignore[call-overload]
                     dict(summary["reasons"]))  # type: ignore[call-overload]
    console = Console()
    table = Table(title="Exécution CLAS : issue de chaque fichier reçu")
    table.add_column("Issue")
    table.add_column("Fichiers", justify="right")
    for outcome in Outcome:
        table.add_row(OUTCOME_LABELS_FR[outcome], str(counts[outcome.value]))
    console.print(table)
    if run.reasons:
        reasons = Table(title="Motifs (fichiers concernés)")
        reasons.add_column("Motif")
        reasons.add_column("Code")
        reasons.add_column("Fichiers", justify="right")
        for code, n in sorted(run.reasons.items(), key=lambda kv: -kv[1]):
            reasons.add_row(REASON_LABELS_FR.get(code, code), code, str(n))
        console.print(reasons)
    console.print(run.line())
    console.print(f"Base de données : {getattr(settings, 'database_url', '')}")


def _require_samples_extra() -> None:
    """Stop with a French message when the sample generator's dependencies are not installed.

    Raises:
        SystemExit: ``faker`` is missing (the engine runs without it; ``samples`` and ``bench`` need it).
    """
    import importlib.util

    if importlib.util.find_spec("faker") is None:
        raise SystemExit("Le générateur d'exemples et le banc d'essai demandent les dépendances « samples » : "
                         "pip install -e '.[samples]' (ou make venv).")


def cmd_samples(args: argparse.Namespace) -> int:
    """Generate a seeded corpus with ground truth."""
    _require_samples_extra()
    from flows.progress import progress_line
    from pipeline.deciding.directory import load_directory
    from pipeline.settings import Settings
    from samples.generator import write_corpus
    from samples.kinds import SampleKind

    settings = Settings()
    kinds = kinds_named(args.kinds) if args.kinds else list(SampleKind)
    out = Path(args.out)
    with progress_line("Génération des fiches", len(kinds) * args.per_kind) as advance:
        paths = write_corpus(out, Path(args.truth) if args.truth else out.parent / f"{out.name}_truth", kinds,
                             args.per_kind, args.seed, load_directory(settings.directory_file), settings.school_year,
                             progress=advance)
    print(f"{len(paths)} fichier(s) écrit(s) dans {out}")
    return 0


def kinds_named(names: list[str]) -> list[SampleKind]:
    """Kinds named on the command line, groups (``base``, ``hard``) expanded, in the order given.

    Raises:
        SystemExit: A name is neither a kind nor a group (exit code 2, message in French).
    """
    from samples.kinds import KIND_GROUPS, SampleKind

    kinds: list[SampleKind] = []
    for name in names:
        if name in KIND_GROUPS:
            kinds += KIND_GROUPS[name]
        elif name in {k.value for k in SampleKind}:
            kinds.append(SampleKind(name))
        else:
            raise SystemExit(f"Type inconnu : {name}. Types : {', '.join(k.value for k in SampleKind)} ; "
                             f"groupes : {', '.join(KIND_GROUPS)}.")
    return kinds


def _figures_table(title: str, figures: list) -> object:  # a rich Table of bench.benchmark.KindFigures
    """The benchmark's table: one row per kind (or corpus group), headed in French."""
    from rich.table import Table

    table = Table(title=title)
    for col in ("type", "champs exacts", "cases justes", "cases fausses sûres", "sans personne", "mal orientées",
                "issue attendue", "faux sûrs /10k", "faux acceptés /10k", "champs acceptés", "à vérifier (méd.)",
                "s/page", "tesseract s/page"):
        table.add_column(col, justify="right")
    for f in figures:
        ref = f.reference_seconds_per_page
        table.add_row(f.kind, f"{f.field_accuracy:.2%}", f"{f.tick_accuracy:.2%}", str(f.ticks_wrong_confident),
                      f"{f.auto_decided}/{f.forms}", str(f.misroutes), f"{f.expected_outcome_met}/{f.forms}",
                      f"{f.wrong_confident_per_10k:.0f}", f"{f.accepted_wrong_per_10k:.0f}", str(f.accepted_fields),
                      f"{f.median_fields_to_check:g}",
                      f"{f.seconds_per_page:.2f}", "-" if ref is None else f"{ref:.2f}")
    return table


def _reliability_table(title: str, figures: list) -> object:  # a rich Table of bench.benchmark.KindFigures
    """The reliability table of the figures' ``all`` row (or of every row summed): confidence band → share right."""
    scored = [pair for f in figures if f.kind == "all" for pair in f.scored] or [
        pair for f in figures for pair in f.scored]
    return _bands_table(title, "confiance", scored)


def _bands_table(title: str, measure: str, scored: list[tuple[float, bool]]) -> object:  # a rich Table
    """A reliability table in French: band of ``measure`` (« confiance », « probabilité ») → fields, mean, share right.

    ``scored`` holds ``(confidence or probability 0-1, read right)`` pairs
    (:func:`pipeline.reading.calibration.reliability_table`).
    """
    from rich.table import Table

    from pipeline.reading.calibration import reliability_table

    table = Table(title=title)
    for col in (measure, "champs", f"{measure} moyenne", "part juste"):
        table.add_column(col, justify="right")
    for band in reliability_table(scored):
        table.add_row(f"{band.low:.1f}–{band.high:.1f}", str(band.fields),
                      "-" if band.mean_confidence is None else f"{band.mean_confidence:.2f}",
                      "-" if band.share_right is None else f"{band.share_right:.2%}")
    return table


STAGE_LABELS_FR = {
    "identify_register": "identification et recalage", "ink": "encre (tampons, traînées, poussières)",
    "zones": "zones de texte", "realign": "recalage fin des cases et peignes", "combs": "peignes (chiffres)",
    "tick_boxes": "cases à cocher (OMR)",
    "tesseract_text": "Tesseract : texte", "tesseract_mail": "Tesseract : courriels",
    "tesseract_combs": "Tesseract : chiffres", "second_reader": "PP-OCRv6 : toutes les zones",
    "waiting_for_ocr": "attente des deux lecteurs", "hands": "écriture à la main ou tapée",
    "fields": "choix des valeurs et confiances", "constrained": "décodage contraint (écriture à la main)",
    "crops": "vignettes pour le bureau", "waiting_for_realign": "attente du recalage fin",
    "streak_reread": "relecture sans les traînées de photocopieuse",
    "third_reading": "Tesseract : relecture des zones en désaccord",
    "photo_witness": "PP-OCRv6 : relecture des photos sans préparation",
}
"""French names of :class:`pipeline.reading.timing.StageClock` stages, as the per-stage table prints them."""


def _stage_table(title: str, figures: list) -> object:  # a rich Table of bench.benchmark.KindFigures
    """Per-stage wall seconds per scanned page over all rows, beside the bare single-thread Tesseract reference.

    The OCR stages, the fine realignment and the crops run in threads beside the main thread's stages:
    « attente des deux lecteurs » and « attente du recalage fin » are what the page waited for them, and the
    stages add up to more than the page's time.
    """
    from rich.table import Table

    from bench.benchmark import add_stage_seconds

    rows = [f for f in figures if f.kind == "all"] or figures
    seconds: dict[str, float] = {}
    for f in rows:
        seconds = add_stage_seconds(seconds, f.stage_seconds)
    pages = sum(f.timed_pages for f in rows)
    ref_seconds = sum(f.reference_seconds or 0.0 for f in rows)
    ref_pages = sum(f.reference_pages for f in rows if f.reference_seconds)
    reference = ref_seconds / ref_pages if ref_pages else None
    table = Table(title=title)
    for col in ("étape", "s/page", "part de tesseract -l fra seul"):
        table.add_column(col, justify="right")
    for name, total in seconds.items():
        per_page = total / pages
        table.add_row(STAGE_LABELS_FR.get(name, name), f"{per_page:.3f}",
                      "-" if reference is None else f"{per_page / reference:.2f}")
    table.add_row("pages scannées", str(pages), "-" if reference is None else f"référence {reference:.2f} s/page")
    return table


def cmd_bench(args: argparse.Namespace) -> int:
    """Benchmark readers per kind against ground truth, or score a corpus folder with truth (``--corpus``)."""
    _require_samples_extra()
    if args.forms:
        return _bench_scale(args)
    from rich.console import Console

    from bench.benchmark import least_confident_sheet, reference_summary, run_bench
    from flows.progress import progress_line
    from pipeline.settings import Settings
    console = Console(width=max(Console().width, 150))  # the table is wide; never truncate figures
    if args.corpus:
        from bench.corpus import CorpusIncompleteError, corpus_figures, load_corpus

        corpus = Path(args.corpus)
        try:
            files = len({name for r in load_corpus(corpus) for name in r.files})
        except CorpusIncompleteError as exc:
            print(exc.message_fr, file=sys.stderr)
            return 2
        with progress_line("Lecture du corpus", files) as advance:
            figures = corpus_figures(corpus, Settings(), workers=args.workers, progress=advance)
        if args.json:
            print(json.dumps({"corpus": str(args.corpus), "groups": [f.as_dict() for f in figures]}, indent=1))
            return 0
        console.print(_figures_table(f"Corpus {args.corpus} (par profil, écriture et format)", figures))
        console.print(_reliability_table("Fiabilité de la confiance (tous les champs du corpus)", figures))
        console.print(_stage_table("Temps par étape de lecture d'une page scannée (tout le corpus)", figures))
        return 0
    from samples.kinds import KIND_GROUPS

    kinds = kinds_named(args.kinds) if args.kinds else [*KIND_GROUPS["base"], *KIND_GROUPS["hard"]]
    with progress_line("Banc d'essai (fiches générées, lues et notées)", len(kinds) * args.per_kind) as advance:
        figures = run_bench(args.per_kind, args.seed, Settings(), kinds, workers=args.workers, progress=advance)
    reference = reference_summary(figures)
    sheet = least_confident_sheet(figures)
    if sheet is not None:
        sheet_path = Path(args.sheet)
        sheet_path.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(sheet_path)
    if args.json:
        print(json.dumps({"kinds": [f.as_dict() for f in figures], "reference": reference}, indent=1))
        return 0
    console.print(_figures_table(f"Benchmark ({args.per_kind} fiche(s) par type, graine {args.seed})", figures))
    console.print(_reliability_table("Fiabilité de la confiance (tous les champs, tous les types)", figures))
    console.print(_stage_table("Temps par étape de lecture d'une page scannée (tous les types)", figures))
    console.print(f"Référence (médianes sur les scans) : {reference}")
    if sheet is not None:
        console.print(f"Planche des 30 champs les moins sûrs : {args.sheet}")
    return 0


def _bench_scale(args: argparse.Namespace) -> int:
    """``bench --forms N``: the nightly flow over N mixed forms, on 1 then ``--workers`` Dask workers."""
    _quiet_prefect()
    from rich.console import Console
    from rich.table import Table

    from bench.scale import estimate_night, scale_bench
    from flows.progress import progress_line
    from pipeline.settings import Settings

    _start_prefect()
    counts = sorted({1, max(1, args.workers)})
    figures = scale_bench(args.forms, args.seed, Settings(), counts, progress=progress_line,
                          keep=Path(args.scale_dir) if args.scale_dir else None, worker_cores=args.worker_cores)
    nights = {n: estimate_night(figures, n) for n in (1000, 5000)}
    if args.json:
        print(json.dumps({**figures.as_dict(), "estimate_hours": nights}, ensure_ascii=False, indent=1))
        return 0
    console = Console(width=max(Console().width, 120))
    table = Table(title=f"Montée en charge : le flux nocturne sur {figures.forms} fiches de {figures.kinds} types "
                        f"(génération {figures.generation_s:.0f} s, à part)")
    for col in ("travailleurs", "fichiers", "durée (s)", "fiches/min", "mémoire max PSS (Mio)",
                "mémoire max RSS (Mio)", "processus", "compte équilibré"):
        table.add_column(col, justify="right")
    for run in figures.runs:
        table.add_row(str(run.workers), str(run.files), f"{run.wall_s:.1f}", f"{run.forms_per_minute:.1f}",
                      f"{run.peak_pss_mib:.0f}", f"{run.peak_rss_mib:.0f}", str(run.peak_processes),
                      "oui" if run.outcomes.get("balanced") else "NON")
    console.print(table)
    console.print("Serveur Prefect : temporaire, démarré par la commande (compté dans la mémoire)"
                  if figures.prefect_server == "temporary" else
                  f"Serveur Prefect : {figures.prefect_server}, hors de l'arbre des processus (non compté)")
    for run in figures.runs:
        parts = ", ".join(f"{role} {mib:.0f}" for role, mib in run.peak_by_role.items())
        console.print(f"Mémoire au maximum sur {run.workers} travailleur(s), PSS en Mio : {parts}")
    if args.worker_cores:
        console.print(f"Chaque travailleur Dask lié à {args.worker_cores} cœur(s) qui lui sont propres "
                      "(le processus de la commande et le serveur Prefect ne sont pas liés)")
    if figures.speedup is not None:
        console.print(f"Accélération 1 → {counts[-1]} travailleurs : {figures.speedup:.2f}×")
    for n, hours in nights.items():
        estimate = ", ".join(f"{h:.1f} h sur {w} travailleur(s)" for w, h in hours.items())
        console.print(f"Estimation (calcul, pas une mesure) pour {n} fiches : {estimate}")
    return 0


def cmd_form(args: argparse.Namespace) -> int:
    """Write print copies (each with a new serial, allocated in the database) and the fillable form."""
    from pipeline.form.definition import form_definition
    from pipeline.form.render import Rendering, render_form
    from pipeline.form.serials import allocate_print_serials
    from pipeline.settings import Settings

    definition = form_definition(args.form_version)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    serials: list[str] = []
    if args.copies > 0:
        store = _store(Settings())
        try:
            serials = allocate_print_serials(store, args.series, args.copies)
        finally:
            store.close()
    for serial in serials:  # named by serial: a second batch never overwrites the first
        render_form(out / f"fiche-orientation-CLAS-imprimable-{serial}.pdf", serial, definition=definition)
    render_form(out / "fiche-orientation-CLAS-remplissable.pdf", f"FO-{args.series}-N{args.fillable_serial:05d}",
                Rendering.FILLABLE, definition=definition)
    first = f" (numéros {serials[0]} à {serials[-1]})" if serials else ""
    print(f"{len(serials)} fiche(s) imprimable(s){first} et la fiche remplissable (version {definition.version}) "
          f"écrites dans {out}")
    return 0


def cmd_mail(args: argparse.Namespace) -> int:
    """Read the shared mailbox (``CLAS_MAIL__*``) and print its accounting."""
    _quiet_prefect()
    if args.eml or args.maildir:
        os.environ["CLAS_MAIL__SOURCE"] = "eml" if args.eml else "maildir"
        os.environ["CLAS_MAIL__PATH"] = args.eml or args.maildir
    from flows.mail_intake import mail_intake
    from flows.progress import progress_line
    from pipeline.intake.mailbox import MailSourceError
    from pipeline.runs.mail import MailRunSummary
    from pipeline.settings import Settings
    from pipeline.store import DatabaseLockedError

    settings = Settings()
    _start_prefect()
    try:
        with _without_heartbeats(), progress_line("Lecture des messages", None) as advance:
            summary = mail_intake(progress=lambda _label: advance())
    except MailSourceError as exc:
        print(f"Boîte aux lettres inaccessible : {exc}", file=sys.stderr)
        return 2
    except DatabaseLockedError as exc:
        print(exc.reason_fr, file=sys.stderr)
        return 5
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    else:
        _print_summary(summary, settings)
        mail = summary["mail"]
        print(MailRunSummary(int(mail["messages"]), dict(mail["statuses"]),  # type: ignore[index, call-overload]
                             dict(mail["attachments"]), dict(mail["replies"])).line())  # type: ignore[index, call-overload]
    return 0 if summary["balanced"] and summary["mail"]["all_filed"] else 1  # type: ignore[index]


def cmd_prefect_server(args: argparse.Namespace) -> int:
    """Start the long-lived local Prefect server that runs report to (``CLAS_SCALE__PREFECT_LOCAL_API_URL``).

    In the foreground (stop it with Ctrl-C), or with ``--background`` as Prefect's own background server (its
    process id in ``PREFECT_HOME``; ``prefect server stop`` stops it). Its state is kept in ``PREFECT_HOME``
    (``var/prefect`` by default), as the temporary server's is.
    """
    import shutil
    import subprocess

    from flows.prefect_api import server_answers, server_command
    from pipeline.settings import Settings

    for key, value in _PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    # The temporary server logs at its own level (flows.temporary_server.TEMPORARY_SERVER_LOG_LEVEL); this one warns.
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    scale = Settings().scale
    if server_answers(scale.prefect_local_api_url, scale.prefect_probe_timeout_s):
        print(f"Un serveur Prefect répond déjà à {scale.prefect_local_api_url}.", file=sys.stderr)
        return 0
    command = server_command(scale.prefect_local_api_url, args.background)
    prefect = shutil.which("prefect", path=str(Path(sys.executable).parent)) or shutil.which("prefect")
    if prefect is None:
        print("Commande prefect introuvable : installer le projet (make venv).", file=sys.stderr)
        return 4
    if not args.background:
        print(f"Serveur Prefect local sur {scale.prefect_local_api_url} (Ctrl-C pour l'arrêter).", file=sys.stderr)
    return subprocess.run([prefect, *command[1:]], check=False).returncode


def cmd_serve(_args: argparse.Namespace) -> int:
    """Serve the nightly deployment (a Prefect server in PREFECT_API_URL, or the long-lived local one)."""
    _quiet_prefect()
    from prefect import serve

    from flows.nightly import nightly_deployments
    from pipeline.settings import Settings

    serve(*nightly_deployments(Settings()))
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    """Start the review desk (uvicorn); loopback only unless told otherwise."""
    import uvicorn

    from web.settings import WebSettings

    web = WebSettings()
    uvicorn.run("web.main:create_app", factory=True, host=args.host or web.host, port=args.port or web.port,
                proxy_headers=False, log_level="info")
    return 0


def cmd_create_admin(args: argparse.Namespace) -> int:
    """Create an admin account of the review desk (password asked twice, or read from stdin)."""
    import getpass

    from pipeline.deciding.directory import load_directory
    from pipeline.settings import Settings
    from web.accounts import AccountError, create_user
    from web.models import Role

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Mot de passe (12 caractères au moins) : ")
        if getpass.getpass("Mot de passe, à nouveau : ") != password:
            print("Les deux mots de passe diffèrent.", file=sys.stderr)
            return 2
    settings = Settings()
    store = _store(settings)
    try:
        with store.session() as s:
            create_user(s, load_directory(settings.directory_file), args.username, password, Role.ADMIN,
                        actor="cli")
    except AccountError as exc:
        print(exc.message_fr, file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"Compte administrateur « {args.username} » créé.")
    return 0


def _birth_date(text: str) -> date:
    """Parse ``JJ/MM/AAAA`` (argparse type).

    Raises:
        argparse.ArgumentTypeError: Not a real date in that shape.
    """
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise argparse.ArgumentTypeError("date de naissance attendue au format JJ/MM/AAAA") from None


def _series(text: str) -> str:
    """A series of form serials: four digits (argparse type).

    Raises:
        argparse.ArgumentTypeError: Anything else.
    """
    if len(text) != 4 or not text.isdigit():
        raise argparse.ArgumentTypeError("année attendue en quatre chiffres, p. ex. 2026")
    return text


def cmd_purge(args: argparse.Namespace) -> int:
    """Apply the retention rules (``CLAS_RETENTION__*``), or list what they would delete."""
    from pipeline.privacy.retention import purge
    from pipeline.settings import Settings

    settings = Settings()
    store = _store(settings)
    try:
        report = purge(store, settings.retention, dry_run=args.dry_run, actor=args.actor,
                       data_dir=settings.data_dir)
    finally:
        store.close()
    print(report.line_fr())
    return 0


def cmd_subject_access(args: argparse.Namespace) -> int:
    """Export everything held about one pupil (audited)."""
    from pipeline.privacy.keys import pupil_hash_key
    from pipeline.privacy.subject_rights import subject_access
    from pipeline.settings import Settings

    settings = Settings()
    store = _store(settings)
    try:
        found = subject_access(store, args.surname, args.first_name, args.birth_date, pupil_hash_key(settings),
                               Path(args.out), args.actor, settings.data_dir)
    except FileExistsError:
        print(f"Le dossier {args.out} n'est pas vide : en choisir un autre.", file=sys.stderr)
        return 2
    except PermissionError:
        print(f"Le dossier {args.out} n'est pas à vous (il ne peut pas être rendu lisible par vous seul) : "
              "en choisir un autre.", file=sys.stderr)
        return 2
    finally:
        store.close()
    print(f"{len(found.form_ids)} fiche(s) et {len(found.shas)} fichier(s) exportés dans {args.out} "
          "(donnees.json et fichiers/ ; dossier lisible par vous seul).")
    _print_to_check(found.to_check)
    return 0


def _print_to_check(form_ids: Sequence[str]) -> None:
    """Say which forms bear the pupil's names but no readable birth date: a person decides (French)."""
    if form_ids:
        print(f"{len(form_ids)} fiche(s) au même nom sans date de naissance lue, laissée(s) de côté : "
              f"peut-être un autre élève ; les vérifier sur le bureau ({', '.join(form_ids)}).")


def cmd_erase(args: argparse.Namespace) -> int:
    """Erase everything held about one pupil, everywhere (audited)."""
    from pipeline.privacy.keys import pupil_hash_key
    from pipeline.privacy.subject_rights import erase
    from pipeline.settings import Settings

    if not args.yes:
        print("Effacement définitif : relancer avec --yes pour confirmer.", file=sys.stderr)
        return 2
    settings = Settings()
    store = _store(settings)
    try:
        found = erase(store, args.surname, args.first_name, args.birth_date, pupil_hash_key(settings), args.actor,
                      settings.school_year, settings.data_dir)
    finally:
        store.close()
    print(f"Effacé : {len(found.form_ids)} fiche(s) et {len(found.shas)} fichier(s).")
    if found.shared_messages:
        print(f"{len(found.shared_messages)} message(s) reçu(s) gardé(s) en quarantaine porte(nt) aussi d'autres "
              "pièces (d'autres élèves peut-être) : non supprimé(s) ; les ouvrir, faire renvoyer ces pièces puis "
              f"les supprimer à la main ({', '.join(found.shared_messages)} dans le dossier mail/quarantine).")
    _print_to_check(found.to_check)
    return 0


def cmd_record_of_processing(args: argparse.Namespace) -> int:
    """Print (or write) the GDPR art. 30 record of processing, generated from the code."""
    from pipeline.deciding.directory import load_directory
    from pipeline.privacy.processing_record import record_of_processing
    from pipeline.settings import Settings

    settings = Settings()
    markdown = record_of_processing(settings, load_directory(settings.directory_file))
    if args.out:
        Path(args.out).write_text(markdown, encoding="utf-8")
        print(f"Registre écrit dans {args.out}")
    else:
        print(markdown)
    return 0


def _school_year(text: str) -> str:
    """A school year ``AAAA-AAAA`` whose second year follows the first (argparse type).

    Raises:
        argparse.ArgumentTypeError: Anything else.
    """
    first, _, second = text.partition("-")
    if not (len(first) == len(second) == 4 and first.isdigit() and second.isdigit()
            and int(second) == int(first) + 1):
        raise argparse.ArgumentTypeError("année scolaire attendue sous la forme AAAA-AAAA, p. ex. 2026-2027")
    return text


def cmd_report(args: argparse.Namespace) -> int:
    """Write the yearly report (HTML and PDF, counts only, small counts hidden) for a school year."""

    from pipeline.deciding.directory import load_directory
    from pipeline.installation import MissingInstallError
    from pipeline.reporting.figures import yearly_report
    from pipeline.reporting.render import write_report
    from pipeline.settings import Settings
    from pipeline.store import Store, utcnow

    settings = Settings()
    year = args.year or settings.school_year
    # A mistyped path would create an empty database and a report of zero referrals for the CAF.
    if not _sqlite_database_exists(settings, "aucun bilan écrit"):
        return 2
    store = Store(settings.database_url, settings.database.busy_timeout_s)
    try:
        with store.session() as s:
            report = yearly_report(s, load_directory(settings.directory_file), year, settings.report, utcnow())
    finally:
        store.close()
    try:
        files = write_report(report, Path(args.out), settings.report)
    except MissingInstallError as exc:  # the charts' font: what to install, not a traceback
        print(str(exc), file=sys.stderr)
        return 4
    except OSError as exc:  # --out is a file, or a folder that cannot be made
        print(f"Impossible d'écrire le bilan dans {args.out} : {exc.strerror or type(exc).__name__}. "
              "Donner avec --out un dossier où écrire.", file=sys.stderr)
        return 2
    print(f"Bilan {year} : {report.total.text} fiche(s) ; écrit dans {files.html} et {files.pdf}")
    return 0


def cmd_notify(_args: argparse.Namespace) -> int:
    """Queue the waiting list's notices and send the due ones to referring teachers (``CLAS_NOTICES__*``)."""
    from pipeline.deciding.directory import load_directory
    from pipeline.notices import queue_waiting_list_notices, send_pending
    from pipeline.settings import Settings
    from pipeline.store import Store

    settings = Settings()
    if not settings.notices.enabled:
        print("Avis aux enseignants désactivés (CLAS_NOTICES__ENABLED=false) : rien n'est envoyé.")
    store = Store(settings.database_url, settings.database.busy_timeout_s)
    try:
        queued = queue_waiting_list_notices(store, settings.school_year)
        done = send_pending(store, settings.mail.smtp, settings.notices, load_directory(settings.directory_file))
    finally:
        store.close()
    print(f"Avis aux enseignants : {queued} mis en file (liste d'attente), {done.sent} envoyé(s), "
          f"{done.retry} à réessayer, {done.failed} en échec, {done.uncertain} incertain(s), "
          f"{done.skipped} non envoyé(s) (établissement non inscrit ou pas d'enseignant).")
    return 0 if not (done.failed or done.uncertain) else 1


def _sqlite_database_exists(settings: Settings, consequence_fr: str) -> bool:
    """Whether the store a reading command opens exists; a SQLite file that does not is named on stderr, in French,
    with ``consequence_fr``. Opening it would create an empty store and report on nothing. Other back ends
    (PostgreSQL) are not checked here: connecting never creates one."""
    from sqlalchemy.engine import make_url

    database = make_url(settings.database_url)
    if database.get_backend_name() == "sqlite" and not Path(database.database or "").is_file():
        print(f"Base de données introuvable : {database.database} (CLAS_DATABASE_URL) ; {consequence_fr}.",
              file=sys.stderr)
        return False
    return True


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit constrained decoding's acceptance per field kind from verified fields and print the reliability table
    (``pipeline.reading.calibration``); ``--simulate`` verifies a generated corpus from its truth instead."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.reading.calibration import (
        calibration_path,
        fit_all,
        labelled_points,
        write_thresholds,
    )
    from pipeline.settings import Settings

    settings = Settings()
    if args.simulate:
        _require_samples_extra()
        from bench.verifications import corpus_files, simulated_verifications
        from flows.progress import progress_line

        folder = Path(args.simulate)
        truth = Path(args.truth) if args.truth else folder.parent / f"{folder.name}_truth"
        for wanted in (folder, truth):
            if not wanted.is_dir():
                print(f"Dossier introuvable : {wanted} (--simulate DOSSIER, vérité dans --truth ou "
                      "<DOSSIER>_truth)", file=sys.stderr)
                return 2
        with progress_line("Lecture du corpus à vérifier", len(corpus_files(folder))) as advance:
            records = simulated_verifications(folder, truth, settings, progress=advance)
    else:
        if not _sqlite_database_exists(settings, "aucun seuil écrit"):
            return 2
        store = _store(settings)
        try:
            records = store.field_verifications()
        finally:
            store.close()
    points = labelled_points(records)
    if not points:
        # Nothing to fit: the thresholds in force (the settings', or an earlier fit) are left as they are.
        print("Aucun champ vérifié sur le bureau de vérification pour l'instant : rien à ajuster, les seuils en "
              "vigueur sont gardés.", file=sys.stderr)
        return 0
    console = Console(width=max(Console().width, 120))  # never truncate a kind's name or a figure
    console.print(_bands_table(f"Fiabilité du décodage contraint ({len(points)} champ(s) vérifié(s))", "probabilité",
                               [(p.probability, p.right) for p in points]))
    fits = fit_all(points, settings.ocr.constrained)
    per_kind = Table(title=f"Seuil d'acceptation par type de champ (au moins "
                           f"{settings.ocr.constrained.calibration_min_verified} vérifiés, erreur ≤ 5 % à 95 %)")
    for title in ("type", "vérifiés", "seuil ajusté", "acceptés", "faux", "borne d'erreur"):
        per_kind.add_column(title, justify="right")
    for fit in fits:
        per_kind.add_row(fit.kind, str(fit.verified),
                         "trop peu" if fit.threshold is None else f"{fit.threshold:.3f}", str(fit.accepted),
                         str(fit.wrong), "-" if fit.error_bound is None else f"{fit.error_bound:.1%}")
    console.print(per_kind)
    if not args.simulate and not args.dry_run:
        write_thresholds(calibration_path(settings), fits)
        console.print(f"Seuils écrits dans {calibration_path(settings)} (lus par la prochaine exécution nocturne).")
    return 0


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Apply the database migrations (Alembic) to ``CLAS_DATABASE_URL``."""
    from pipeline.settings import Settings
    from pipeline.store import migrate

    migrate(Settings().database_url)
    print("Base de données à jour.")
    return 0


def _add_pupil_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--surname", required=True, metavar="NOM", help="nom de l'élève")
    parser.add_argument("--first-name", required=True, metavar="PRÉNOM", help="prénom de l'élève")
    parser.add_argument("--birth-date", required=True, type=_birth_date, metavar="JJ/MM/AAAA",
                        help="date de naissance de l'élève")
    parser.add_argument("--actor", required=True, metavar="QUI", help="qui fait la demande (inscrit au journal)")


def _command(sub: argparse._SubParsersAction, name: str, help_fr: str, details_fr: str = ""  # type: ignore[type-arg]
             ) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` starts with its French description (``help_fr``, then ``details_fr``)."""
    description = help_fr[0].upper() + help_fr[1:] + "." + (f" {details_fr}" if details_fr else "")
    parser: argparse.ArgumentParser = sub.add_parser(name, help=help_fr, description=description)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The command-line parser: every subcommand and option with its French help and French value names."""
    use_french()
    parser = argparse.ArgumentParser(prog="clas-referrals", description="Fiches d'orientation CLAS : lecture, "
                                     "orientation et suivi. Chaque commande a son aide : clas-referrals COMMANDE -h.")
    sub = parser.add_subparsers(dest="command", required=True, title="commandes", metavar="COMMANDE")
    run = _command(sub, "run", "traiter un dossier de réception",
                   "Chaque fichier finit orienté, en liste d'attente, à vérifier, en quarantaine ou en doublon.")
    run.add_argument("--inbox", metavar="DOSSIER", help="dossier à lire (défaut : CLAS_INBOX_DIR ou samples/inbox)")
    run.add_argument("--json", action="store_true", help="afficher le compte en JSON")
    run.set_defaults(func=cmd_run)
    samples = _command(sub, "samples", "générer un corpus d'exemples avec vérité terrain")
    samples.add_argument("--out", default="samples/corpus/inbox", metavar="DOSSIER",
                         help="dossier où écrire les fiches (défaut : samples/corpus/inbox)")
    samples.add_argument("--truth", metavar="DOSSIER", help="dossier de la vérité terrain (défaut : <out>_truth)")
    samples.add_argument("--per-kind", type=entier, default=5, metavar="N", help="fiches par type (défaut : 5)")
    samples.add_argument("--seed", type=entier, default=2026, metavar="GRAINE", help="graine du tirage (défaut : 2026)")
    samples.add_argument("--kinds", nargs="*", metavar="TYPE", help="types à générer (défaut : tous)")
    samples.set_defaults(func=cmd_samples)
    bench = _command(sub, "bench", "mesurer précision et vitesse par type de document")
    bench.add_argument("--per-kind", type=entier, default=10, metavar="N",
                       help="fiches générées par type (défaut : 10)")
    bench.add_argument("--seed", type=entier, default=2026, metavar="GRAINE", help="graine du tirage (défaut : 2026)")
    bench.add_argument("--kinds", nargs="*", metavar="TYPE", help="types, ou groupes : base (PDF, scans, invalides), "
                                                                  "hard (photos, copies, fax, écriture manuscrite)")
    bench.add_argument("--json", action="store_true", help="afficher les chiffres en JSON")
    bench.add_argument("--corpus", metavar="DOSSIER",
                       help="dossier d'un corpus avec vérité (inbox/ et truth/, p. ex. ../shared/devset) "
                            "à mesurer à la place des types générés")
    bench.add_argument("--workers", type=entier, default=1, metavar="N",
                       help="fiches traitées en parallèle (les temps incluent alors la concurrence ; défaut : 1)")
    bench.add_argument("--forms", type=entier, default=0, metavar="N",
                       help="montée en charge : le flux nocturne sur N fiches de tous les types, sur 1 puis "
                            "--workers travailleurs Dask (durée, fiches par minute, mémoire maximale)")
    bench.add_argument("--scale-dir", metavar="DOSSIER",
                       help="avec --forms : dossier où garder les fiches générées (DOSSIER/inbox), réutilisées par "
                            "la mesure suivante si elles sont les mêmes (nombre, graine, types)")
    bench.add_argument("--worker-cores", type=entier, default=0, metavar="C",
                       help="avec --forms : lier chaque travailleur Dask à C cœurs qui lui sont propres, comme "
                            "autant de machines (0 : aucun lien, tous les cœurs partagés ; défaut : 0)")
    bench.add_argument("--sheet", default=str(PROJECT_DIR / "var" / "bench" / "least-confident-fields.png"),
                       metavar="FICHIER", help="planche contact (PNG) des 30 champs les moins sûrs")
    bench.set_defaults(func=cmd_bench)
    form = _command(sub, "form", "écrire la fiche imprimable et la fiche remplissable",
                    "Chaque exemplaire imprimable reçoit un numéro de série jamais donné auparavant, tenu par la "
                    "base de données.")
    form.add_argument("--out", default="var/forms", metavar="DOSSIER",
                      help="dossier où écrire les fiches (défaut : var/forms)")
    form.add_argument("--copies", type=entier, default=1, metavar="N",
                      help="exemplaires imprimables, chacun avec un nouveau numéro de série (défaut : 1)")
    form.add_argument("--series", default="2026", type=_series, metavar="ANNÉE",
                      help="année des numéros de série, quatre chiffres (défaut : 2026)")
    form.add_argument("--fillable-serial", type=entier, default=1, metavar="N",
                      help="numéro de la fiche remplissable, partagé par tous ses exemplaires (défaut : 1)")
    form.add_argument("--form-version", dest="form_version", type=int, choices=(1, 2), default=1,
                      metavar="VERSION",
                      help="version de la fiche : 1 (lignes) ou 2 (noms, commune et courriels en lettres capitales "
                           "dans des cases, langues à cocher) ; défaut : 1")
    form.set_defaults(func=cmd_form)
    mail = _command(sub, "mail", "lire la boîte partagée (IMAP, dossier .eml ou Maildir ; CLAS_MAIL__*)")
    mail.add_argument("--eml", metavar="DOSSIER", help="lire ce dossier de fichiers .eml au lieu de la boîte IMAP")
    mail.add_argument("--maildir", metavar="DOSSIER", help="lire ce Maildir au lieu de la boîte IMAP")
    mail.add_argument("--json", action="store_true", help="afficher le compte en JSON")
    mail.set_defaults(func=cmd_mail)
    serve = _command(sub, "serve", "servir le déploiement nocturne (02:00, Europe/Paris)",
                     "Demande un serveur Prefect : PREFECT_API_URL, ou le serveur local durable "
                     "(clas-referrals prefect-server).")
    serve.set_defaults(func=cmd_serve)
    server = _command(sub, "prefect-server", "démarrer le serveur Prefect local durable",
                      "Les exécutions l'utilisent quand il répond (CLAS_SCALE__PREFECT_LOCAL_API_URL, par défaut "
                      "http://127.0.0.1:4200/api) au lieu de démarrer un serveur temporaire à chaque fois (quelques "
                      "secondes et environ 400 Mo de plus) ; s'il ne répond pas, elles en démarrent un.")
    server.add_argument("--background", action="store_true",
                        help="démarrer en arrière-plan (arrêt : prefect server stop, avec le même PREFECT_HOME)")
    server.set_defaults(func=cmd_prefect_server)
    web = _command(sub, "web", "démarrer le bureau de vérification (page web)")
    web.add_argument("--host", metavar="ADRESSE", help="adresse d'écoute (défaut : CLAS_WEB_HOST ou 127.0.0.1)")
    web.add_argument("--port", type=entier, metavar="PORT", help="port (défaut : CLAS_WEB_PORT ou 8000)")
    web.set_defaults(func=cmd_web)
    admin = _command(sub, "create-admin", "créer un compte administrateur du bureau de vérification")
    admin.add_argument("--username", default="admin", metavar="IDENTIFIANT",
                       help="identifiant du compte (défaut : admin)")
    admin.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    admin.set_defaults(func=cmd_create_admin)
    purge_p = _command(sub, "purge", "appliquer les durées de conservation (CLAS_RETENTION__*)")
    purge_p.add_argument("--dry-run", action="store_true", help="compter sans rien supprimer")
    purge_p.add_argument("--actor", default="purge", metavar="QUI", help="auteur inscrit au journal (défaut : purge)")
    purge_p.set_defaults(func=cmd_purge)
    access = _command(sub, "subject-access", "exporter tout ce qui est détenu sur un élève (droit d'accès)")
    _add_pupil_arguments(access)
    access.add_argument("--out", required=True, metavar="DOSSIER", help="dossier d'export (vide ou absent)")
    access.set_defaults(func=cmd_subject_access)
    erase_p = _command(sub, "erase", "effacer tout ce qui est détenu sur un élève (droit à l'effacement)")
    _add_pupil_arguments(erase_p)
    erase_p.add_argument("--yes", action="store_true", help="confirmer l'effacement définitif")
    erase_p.set_defaults(func=cmd_erase)
    migrate_p = _command(sub, "migrate", "mettre à jour le schéma de la base (migrations Alembic)",
                         "Base de CLAS_DATABASE_URL.")
    migrate_p.set_defaults(func=cmd_migrate)
    report = _command(sub, "report", "écrire le bilan annuel (page HTML et PDF) pour la CAF et le réseau",
                      "Nombres seulement, sans aucun nom ; un nombre de 1 à 4 apparaît « < 5 ».")
    report.add_argument("--year", type=_school_year, metavar="AAAA-AAAA",
                        help="année scolaire (défaut : CLAS_SCHOOL_YEAR)")
    report.add_argument("--out", default="var/report", metavar="DOSSIER",
                        help="dossier où écrire le bilan (défaut : var/report)")
    report.set_defaults(func=cmd_report)
    notify = _command(sub, "notify", "envoyer les avis de suite aux enseignants qui ont orienté",
                      "Seulement aux établissements inscrits sur le bureau ; un avis par changement, jamais deux.")
    notify.set_defaults(func=cmd_notify)
    calibrate = _command(sub, "calibrate", "ajuster les seuils du décodage contraint sur les champs vérifiés",
                         "Lit les champs vérifiés ou corrigés au bureau de vérification, affiche la fiabilité par "
                         "tranche de probabilité et écrit les seuils ajustés dans le dossier de données.")
    calibrate.add_argument("--dry-run", action="store_true", help="afficher sans écrire les seuils")
    calibrate.add_argument("--simulate", metavar="DOSSIER",
                           help="vérifier à partir de la vérité un corpus généré (clas-referrals samples) au lieu de "
                                "la base ; rien n'est écrit")
    calibrate.add_argument("--truth", metavar="DOSSIER", help="dossier de la vérité terrain (défaut : <DOSSIER>_truth)")
    calibrate.set_defaults(func=cmd_calibrate)
    record = _command(sub, "record-of-processing", "registre des traitements (RGPD art. 30), en Markdown")
    record.add_argument("--out", metavar="FICHIER", help="fichier à écrire (défaut : la sortie standard)")
    record.set_defaults(func=cmd_record_of_processing)
    return parser


FORMATS_FR = {"SCHOOL_YEAR": "deux années qui se suivent, comme 2026-2027"}
"""The expected form of a setting whose value must match a pattern, in words (keyed by its ``CLAS_`` name)."""


def _why_fr(variable: str, error: Mapping[str, Any]) -> str:
    """Why one setting was refused, in French: the constraint for the common pydantic errors, the model's own
    (French) message for a model check, else pydantic's English message, which states the constraint."""
    kind, context = error["type"], error.get("ctx") or {}
    if kind == "string_pattern_mismatch":
        return f"format attendu : {FORMATS_FR.get(variable.removeprefix('CLAS_'), context.get('pattern', ''))}"
    if kind in ("int_parsing", "float_parsing", "int_from_float"):
        return "un nombre est attendu"
    if kind == "bool_parsing":
        return "true ou false attendu"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        words = {"greater_than_equal": "au moins", "greater_than": "plus de", "less_than_equal": "au plus",
                 "less_than": "moins de"}[kind]
        return f"{words} {next(iter(context.values()), '')}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def settings_error_fr(exc: ValidationError) -> str:
    """A French message naming each setting that did not validate, as its ``CLAS_`` variable, and why
    (:func:`_why_fr`)."""
    lines = ["Configuration invalide : corriger ces réglages (variables d'environnement) puis relancer."]
    for error in exc.errors():
        path = "__".join(str(part) for part in error["loc"]).upper()
        variable = f"CLAS_{path}" if path else "CLAS_*"
        lines.append(f"  - {variable} : valeur refusée ({_why_fr(variable, error)})")
    return "\n".join(lines)



def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clas-referrals``.

    A setting that does not validate (``CLAS_*`` environment variables) is named on stderr in French with what
    it must be, and the command exits 2, before anything is read or written.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        if not exc.title.endswith("Settings"):  # the settings models (pipeline.settings) all end so
            raise
        print(settings_error_fr(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
