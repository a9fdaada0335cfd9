"""The command line as a user runs it: a clean run with no Prefect server, JSON accounting; ``mail`` on a Maildir."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli import main
from pipeline.settings import Settings
from samples.generator import generate_documents
from samples.kinds import SampleKind
from tests.conftest import SAMPLES_INBOX
from tests.support import mail_builders as b
from tests.support.mail_servers import free_port


@pytest.mark.prefect_server  # the command's flow starts Prefect's temporary server
def test_run_json_is_clean_and_balanced(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("text_pdf-0000.pdf", "text_pdf-0000_renvoi.pdf", "not_the_form-0000.pdf",
                 "invalid_no_criterion-0000.pdf"):
        shutil.copy(SAMPLES_INBOX / name, inbox / name)
    # No run takes a hidden file (a transfer's part-written copy looks so) nor a link: each is counted and said.
    shutil.copy(SAMPLES_INBOX / "fillable-0000.pdf", inbox / ".fiche.pdf")
    (inbox / "lien.pdf").symlink_to(SAMPLES_INBOX / "fillable-0000.pdf")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAS_"))}
    env |= {"CLAS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CLAS_DATA_DIR": str(tmp_path / "data"),
            "PREFECT_HOME": str(tmp_path / "prefect"),
            # No long-lived server however the machine is set up: this run starts its temporary one.
            "CLAS_SCALE__PREFECT_LOCAL_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--inbox", str(inbox), "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)  # stdout is the accounting alone: the progress went to stderr
    assert summary["received"] == 4
    assert summary["left_out"] == {"links_or_special_files": 1, "hidden": 1}
    assert "1 entrée(s) cachée(s) du dossier" in proc.stderr and "1 entrée(s) du dossier laissée(s)" in proc.stderr
    assert "Lecture des fiches : 0/4 (0 %)" in proc.stderr and "Lecture des fiches : 4/4 (100 %)" in proc.stderr
    assert "Lecture" not in proc.stdout
    assert (summary["routed"] + summary["waiting_list"], summary["review"], summary["quarantined"],
            summary["duplicate"]) == (1, 1, 1, 1)
    output = proc.stdout + proc.stderr
    for bad in ("Traceback", "telemetry", "ERROR", "Error"):
        assert bad not in output
    # No pupil name leaks into what the command prints.
    truth = json.loads((SAMPLES_INBOX.parent / "truth" / "text_pdf-0000.pdf.json").read_text(encoding="utf-8"))
    assert truth["values"]["pupil_surname"] not in output


@pytest.mark.prefect_server
def test_a_missing_lexicon_stops_the_run_before_any_document_with_what_to_install(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES_INBOX / "text_pdf-0000.pdf", inbox / "text_pdf-0000.pdf")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAS_"))}
    env |= {"CLAS_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "CLAS_DATA_DIR": str(tmp_path / "data"),
            "PREFECT_HOME": str(tmp_path / "prefect"), "CLAS_OCR__FIRST_NAMES_FILE": str(tmp_path / "absent.dic"),
            "CLAS_SCALE__PREFECT_LOCAL_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--inbox", str(inbox), "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 4, proc.stderr[-2000:]
    assert "lexique des prénoms" in proc.stderr and "hunspell-fr-comprehensive" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (inbox / "text_pdf-0000.pdf").exists()  # nothing was taken in


def test_missing_inbox_says_so_in_french(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAS_")}
    env["CLAS_DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--inbox", str(tmp_path / "absent")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 2
    assert "Dossier introuvable" in proc.stderr


def test_a_corpus_folder_without_truth_is_named_in_french(tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "bench", "--corpus", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"Corpus introuvable : {tmp_path} doit contenir les dossiers inbox/ et truth/."


@pytest.mark.parametrize(("variables", "named"), [
    ({"CLAS_SCHOOL_YEAR": "2026-2028"}, "deux années qui se suivent"),
    ({"CLAS_SCHOOL_YEAR": "26-27"}, "CLAS_SCHOOL_YEAR : valeur refusée (format attendu : deux années qui se suivent"),
    ({"CLAS_ENVIRONMENT": "production"}, "CLAS_SECRET_KEY doit être défini"),
    ({"CLAS_LIMITS__DOCUMENT_TIMEOUT_S": "trois"}, "CLAS_LIMITS__DOCUMENT_TIMEOUT_S : valeur refusée (un nombre"),
    ({"CLAS_OCR__TESSERACT_THREADS": "0"}, "CLAS_OCR__TESSERACT_THREADS : valeur refusée (au moins 1)"),
])
def test_a_setting_that_does_not_validate_is_named_in_french_before_anything_is_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        variables: dict[str, str], named: str) -> None:
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)

    assert main(["run", "--inbox", str(SAMPLES_INBOX)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Configuration invalide") and named in err and "Traceback" not in err
    assert not (tmp_path / "db.sqlite3").exists()  # nothing was written


def test_kind_groups_and_kinds_are_expanded_and_an_unknown_name_is_refused_in_french() -> None:
    from flows.cli import kinds_named
    from samples.kinds import KIND_GROUPS, SampleKind

    assert kinds_named(["photo_jpeg", "hard"]) == [SampleKind.PHOTO_JPEG, *KIND_GROUPS["hard"]]
    assert len(KIND_GROUPS["hard"]) == 13 and SampleKind.FAX_HALFTONE in KIND_GROUPS["hard"]
    with pytest.raises(SystemExit, match="Type inconnu : photos"):
        kinds_named(["photos"])


def test_the_mail_command_reads_a_maildir(harness: None, tmp_path: Path, settings: Settings,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import main
    from pipeline.deciding.directory import load_directory

    form = generate_documents(SampleKind.TEXT_PDF, 0, 77, load_directory(settings.directory_file))[0]
    msg = b.attach(b.message("Fiche", b.SCHOOL_SENDER), form.data, "application/pdf", "fiche.pdf")
    root = b.maildir(tmp_path / "Maildir", [msg.as_bytes(), b.message("Sans pièce jointe").as_bytes()])
    monkeypatch.setenv("CLAS_MAIL__SOURCE", "imap")  # the command's --maildir overrides it (restored afterwards)
    monkeypatch.setenv("CLAS_MAIL__PATH", "")
    code = main(["mail", "--maildir", str(root), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # the progress went to stderr: standard output is pure JSON
    assert captured.err.splitlines()[-1].startswith("Lecture des messages : 2, ")
    assert report["received"] == 1 and report["mail"]["statuses"] == {"processed": 1, "quarantined": 1}
    assert report["mail"]["all_filed"] is True and code == 0
    assert len(list((root / ".Quarantaine" / "cur").iterdir())) == 1
    assert list((root / "new").iterdir()) == []


def test_the_command_lines_own_words_are_french(capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 17: argparse's usage line, headings, --help and errors were English.
    from flows.cli import main

    for argv in (["--help"], ["bench", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert out.startswith("utilisation : clas-referrals")
        assert "afficher cette aide et quitter" in out and "show this help" not in out
    with pytest.raises(SystemExit) as exited:
        main(["inconnue"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "clas-referrals : erreur : argument COMMANDE : choix invalide : 'inconnue'" in err


def _subcommands() -> dict[str, object]:
    import argparse

    from flows.cli import build_parser

    [group] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(group.choices)


def test_every_subcommand_and_option_has_french_help() -> None:
    # Issue 17: options without help, English value names (INBOX, PER_KIND), subcommands without description.
    import argparse

    english = re.compile(r"\b(the|of|to|and|file|folder|default|number|show|output)\b", re.IGNORECASE)
    for name, parser in _subcommands().items():
        assert isinstance(parser, argparse.ArgumentParser)
        assert parser.description and not english.search(parser.description), name
        for action in parser._actions:
            assert action.help and not english.search(action.help), (name, action.dest)
            if action.option_strings and action.nargs != 0:  # an option taking a value names it in French
                assert action.metavar is not None, (name, action.dest)  # not argparse's English dest, INBOX


def test_every_word_argparse_prints_has_its_french() -> None:
    # Every message this Python's argparse passes through gettext/ngettext, read from its source.
    import argparse
    import ast
    import inspect

    from flows.argparse_fr import ARGPARSE_FR

    messages = {arg.value for node in ast.walk(ast.parse(inspect.getsource(argparse)))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "ngettext")
                for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)}
    assert messages and messages <= ARGPARSE_FR.keys(), sorted(messages - ARGPARSE_FR.keys())


def test_wrong_values_are_refused_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    for argv, expected in ((["bench", "--per-kind", "x"], "valeur invalide (entier attendu) : 'x'"),
                           (["form", "--series", "26"], "année attendue en quatre chiffres"),
                           (["run", "--inbox"], "une valeur attendue")):
        with pytest.raises(SystemExit) as exited:
            main(argv)
        err = capsys.readouterr().err
        assert exited.value.code == 2 and expected in err, err
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "--inbox DOSSIER" in out and "Traiter un dossier de réception." in out


def test_report_writes_html_and_pdf_and_refuses_a_malformed_year(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    assert main(["migrate"]) == 0
    assert main(["report", "--year", "2026-2027", "--out", str(tmp_path / "bilan")]) == 0
    assert "Bilan 2026-2027 : 0 fiche(s)" in capsys.readouterr().out
    assert (tmp_path / "bilan" / "bilan-clas-2026-2027.pdf").read_bytes().startswith(b"%PDF")
    assert "Bilan annuel CLAS 2026-2027" in (tmp_path / "bilan" / "bilan-clas-2026-2027.html").read_text("utf-8")
    with pytest.raises(SystemExit):
        main(["report", "--year", "2026-2028"])
    assert "année scolaire attendue sous la forme AAAA-AAAA" in capsys.readouterr().err


def test_report_without_its_chart_font_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    monkeypatch.setenv("CLAS_REPORT__FONT_FILE", str(tmp_path / "absent.ttf"))
    assert main(["migrate"]) == 0

    assert main(["report", "--year", "2026-2027", "--out", str(tmp_path / "bilan")]) == 4

    err = capsys.readouterr().err
    assert "police des graphiques du bilan absente" in err and "fonts-dejavu-core" in err
    assert not (tmp_path / "bilan" / "bilan-clas-2026-2027.pdf").exists()


def test_report_refuses_a_missing_database_and_an_output_that_is_a_file(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'mistyped' / 'clas.sqlite3'}")
    assert main(["report", "--out", str(tmp_path / "bilan")]) == 2
    assert "Base de données introuvable" in capsys.readouterr().err
    assert not (tmp_path / "mistyped").exists() and not (tmp_path / "bilan").exists()  # nothing made, no zero report

    monkeypatch.setenv("CLAS_DATABASE_URL", f"sqlite:///{tmp_path / 'clas.sqlite3'}")
    assert main(["migrate"]) == 0
    taken = tmp_path / "a-file"
    taken.write_text("x")
    assert main(["report", "--out", str(taken)]) == 2
    assert "Impossible d'écrire le bilan" in capsys.readouterr().err


def test_calibrate_names_a_missing_simulation_folder_in_french(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calibrate", "--simulate", str(tmp_path / "nope")]) == 2
    assert f"Dossier introuvable : {tmp_path / 'nope'}" in capsys.readouterr().err
    (tmp_path / "corpus").mkdir()
    assert main(["calibrate", "--simulate", str(tmp_path / "corpus")]) == 2
    assert f"Dossier introuvable : {tmp_path / 'corpus_truth'}" in capsys.readouterr().err


def test_calibrate_refuses_a_missing_store_and_writes_nothing_without_verifications(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    database = settings.database_url.removeprefix("sqlite:///")
    thresholds = settings.data_dir / "calibration.json"

    assert main(["calibrate"]) == 2  # a mistyped CLAS_DATABASE_URL: no empty store created
    assert "Base de données introuvable" in capsys.readouterr().err and not Path(database).exists()
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["calibrate"]) == 0
    assert "Aucun champ vérifié" in capsys.readouterr().err and not thresholds.exists()
def test_form_prints_version_2_on_request_and_version_1_by_default(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from pypdf import PdfReader

    for argv, version in (([], 1), (["--form-version", "2"], 2)):
        out = tmp_path / f"v{version}"
        assert main(["form", "--out", str(out), "--copies", "0", *argv]) == 0
        fillable = PdfReader(out / "fiche-orientation-CLAS-remplissable.pdf")
        assert f"CLASFO|v{version}|FO-2026-N00001|p1/2" in (fillable.pages[0].extract_text() or "")
        assert f"(version {version})" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["form", "--form-version", "9"])
    assert "choix invalide : 9 (choisir parmi 1, 2)" in capsys.readouterr().err


def test_every_stage_of_a_scanned_page_has_a_french_name_in_the_stage_table() -> None:
    from flows.cli import STAGE_LABELS_FR

    source = (Path(__file__).parents[2] / "pipeline" / "reading" / "scan" / "page.py").read_text(encoding="utf-8")
    stages = set(re.findall(r'stage\("(\w+)"\)', source)) | set(re.findall(r'timed, "(\w+)"', source))
    assert {"ink", "second_reader", "streak_reread"} <= stages  # the patterns still find the stages
    assert stages <= set(STAGE_LABELS_FR), stages - set(STAGE_LABELS_FR)
