"""Quarantined and duplicate files at the desk, and the overview's files-versus-forms counts (issue 17).

The database is made by the pipeline's own stages on generated files: a form scanned in two
files (one per page), a file that is not the form, a form and an exact copy of it, and, in a
second run, the same form saved again (another file, the same serial).
"""

from __future__ import annotations

import html
import io
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select

from pipeline.deciding.directory import load_directory
from pipeline.intake.ingest import ingest_file
from pipeline.intake.mail import AttachmentCandidate, AttachmentStatus
from pipeline.intake.mail_store import MailStore
from pipeline.reading.limits import DocumentTimeoutError
from pipeline.settings import MailSettings, Settings, SmtpSettings
from pipeline.stages import (
    FileResult,
    RunContext,
    decide_and_record,
    group_forms,
    is_duplicate,
    read_file,
    receive_file,
    record_duplicate,
    record_failure,
    summarise,
)
from pipeline.store import AuditRow, DocumentRow, ReceiptRow, Store
from samples.generator import generate_documents
from samples.kinds import SampleKind
from schemas.document import MediaType
from tests.support.mail_servers import smtp_server
from tests.web.conftest import DemoData, build_demo, login
from web.main import create_app

SEED = 1717
SCHOOL_ADDRESS = "ce.0950001a@ac-versailles.example"
SCHOOL_FILE_NAME = "scan du lundi.pdf"


def _run(settings: Settings, inbox: Path) -> dict[str, object]:
    """One run over ``inbox`` in the order of the nightly flow, duplicates included."""
    ctx = RunContext(settings)
    try:
        run_id = ctx.store.start_run(f"folder:{inbox}")
        results: list[FileResult] = []
        readings, dups, seen = [], [], set()
        for path in sorted(inbox.iterdir()):
            received = receive_file(ctx, path, f"folder:{inbox}")
            if isinstance(received, FileResult):
                results.append(received)
            elif is_duplicate(ctx, received, seen):
                dups.append(received)
            else:
                seen.add(received.sha256)
                readings.append(read_file(ctx, received))
        groups, failures = group_forms(readings)
        results += [record_failure(ctx, run_id, f) for f in failures]
        for group in groups:
            results += decide_and_record(ctx, run_id, group)
        results += [record_duplicate(ctx, run_id, d) for d in dups]
        counts = summarise(results).as_dict()
        ctx.store.finish_run(run_id, counts)
        return counts
    finally:
        ctx.close()


def _pages(data: bytes) -> list[bytes]:
    reader = PdfReader(io.BytesIO(data))
    out = []
    for page in reader.pages:
        writer = PdfWriter()
        writer.add_page(page)
        buf = io.BytesIO()
        writer.write(buf)
        out.append(buf.getvalue())
    return out


@pytest.fixture(scope="module")
def intake(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoData, dict[str, str]]:
    """The desk's accounts on a database the pipeline filled as described above; the second item names files."""
    root = tmp_path_factory.mktemp("quarantine")
    (root / "desk").mkdir()
    demo = build_demo(root / "desk")  # accounts and a few forms
    settings = demo.settings
    directory = load_directory(settings.directory_file)
    year = settings.school_year
    split = generate_documents(SampleKind.TEXT_PDF, 10, SEED, directory, year)[0]
    whole = generate_documents(SampleKind.TEXT_PDF, 11, SEED, directory, year)[0]
    other = generate_documents(SampleKind.NOT_THE_FORM, 12, SEED, directory, year)[0]
    inbox = root / "inbox1"
    inbox.mkdir()
    page1, page2 = _pages(split.data)
    (inbox / "a-page1.pdf").write_bytes(page1)
    (inbox / "a-page2.pdf").write_bytes(page2)
    (inbox / "b.pdf").write_bytes(whole.data)
    (inbox / "b2-copie.pdf").write_bytes(whole.data)  # the same content again
    (inbox / "c-pas-une-fiche.pdf").write_bytes(other.data)
    _run(settings, inbox)
    again = root / "inbox2"
    again.mkdir()
    writer = PdfWriter(clone_from=io.BytesIO(whole.data))
    writer.add_metadata({"/Producer": "scanner du secrétariat"})
    buf = io.BytesIO()
    writer.write(buf)
    (again / "b-renvoi.pdf").write_bytes(buf.getvalue())  # the same form, another file
    _run(settings, again)
    return demo, {"split": str(split.truth["form_id"]), "whole": str(whole.truth["form_id"]),
                  "other_sha": _sha_of(settings, "c-pas-une-fiche.pdf")}


def _sha_of(settings: Settings, name: str) -> str:
    store = Store(settings.database_url)
    with store.session() as s:
        sha = s.scalars(select(DocumentRow.sha256).where(DocumentRow.original_name == name)).one()
    store.close()
    return sha


@pytest.fixture
def fresh(intake: tuple[DemoData, dict[str, str]], tmp_path: Path) -> tuple[Settings, dict[str, str]]:
    """A private copy of the intake database and kept files (tests that act on files change them)."""
    demo, names = intake
    db = tmp_path / "clas.sqlite3"
    shutil.copyfile(Path(str(demo.settings.database_url).removeprefix("sqlite:///")), db)
    data = tmp_path / "data"
    shutil.copytree(demo.settings.data_dir, data)
    settings = demo.settings.model_copy(update={"database_url": f"sqlite:///{db}", "data_dir": data})
    store = Store(settings.database_url)
    with store.session() as s:
        for row in s.scalars(select(DocumentRow)):
            row.stored_path = str(data / Path(row.stored_path).relative_to(demo.settings.data_dir))
    store.close()
    return settings, names


def _cell(page: str, row: str, column: str) -> int:
    m = re.search(rf'id="holding-{row}">.*?class="num {column}">(?:<strong>)?(\d+)<', page, re.S)
    assert m, (row, column)
    return int(m.group(1))


def test_the_overview_shows_files_received_and_forms_side_by_side(intake: tuple[DemoData, dict[str, str]]) -> None:
    demo, _ = intake
    with TestClient(create_app(demo.settings)) as client:
        login(client, "agent")
        page = html.unescape(client.get("/overview").text)
    assert "fichiers reçus" in page and "fiches" in page
    # Demo: one file per form. Here: one form in two files, one form and its exact copy,
    # the same form in another file, one file that is not a form.
    assert _cell(page, "quarantined", "files") == 1 and _cell(page, "quarantined", "forms") == 0
    assert _cell(page, "duplicate", "files") == 2
    assert _cell(page, "total", "files") == len(demo.forms) + 6
    assert _cell(page, "total", "forms") == len(demo.forms) + 2  # a form sent twice is one form
    assert "Fichiers reçus</th>" in page  # the runs' column says what it counts


def test_staff_see_quarantined_files_with_their_reason_and_original(intake: tuple[DemoData, dict[str, str]]) -> None:
    demo, names = intake
    sha = names["other_sha"]
    with TestClient(create_app(demo.settings)) as client:
        assert "/login" in client.get("/quarantine").url.path  # anonymous
        login(client, "structure")
        assert client.get("/quarantine").status_code == 403  # carriers never
        assert client.get(f"/quarantine/{sha}/file").status_code == 403
    with TestClient(create_app(demo.settings)) as client:
        login(client, "agent")
        page = html.unescape(client.get("/quarantine").text)
        assert "c-pas-une-fiche.pdf" in page and "fiche d'orientation" in page  # the reason in French
        original = client.get(f"/quarantine/{sha}/file")
        store = Store(demo.settings.database_url)
        with store.session() as s:
            stored = Path(s.get_one(DocumentRow, sha).stored_path).read_bytes()
            viewed = s.scalars(select(AuditRow.action).where(AuditRow.sha256 == sha,
                                                             AuditRow.action.like("quarantine_file_%"))).all()
        store.close()
        assert original.status_code == 200 and original.content == stored
        assert original.headers["content-disposition"].startswith("inline")
        download = client.get(f"/quarantine/{sha}/file?download=1")
        assert download.headers["content-disposition"].startswith("attachment")
        assert "pas-une-fiche" not in download.headers["content-disposition"]  # never the school's file name
        assert "quarantine_file_viewed" in viewed
        assert client.get(f"/quarantine/{'0' * 64}/file").status_code == 404
        # Duplicates with the original they duplicate.
        dups = page.split('id="duplicates"')[1]
        assert "b2-copie.pdf" in dups and "même fichier" in dups
        assert "b-renvoi.pdf" in dups and "même fiche" in dups
        assert dups.count(names["whole"]) >= 2


def test_delete_removes_the_file_and_its_records_and_is_audited(fresh: tuple[Settings, dict[str, str]]) -> None:
    settings, names = fresh
    sha = names["other_sha"]
    store = Store(settings.database_url)
    with store.session() as s:
        stored = Path(s.get_one(DocumentRow, sha).stored_path)
    with TestClient(create_app(settings)) as client:
        token = login(client, "agent")
        assert client.post(f"/quarantine/{sha}/delete", data={"csrf_token": token}).status_code == 422
        assert stored.is_file()
        r = client.post(f"/quarantine/{sha}/delete", data={"csrf_token": token, "confirmed": "1"},
                        follow_redirects=False)
        assert r.status_code == 303
        assert "supprimé" in html.unescape(client.get("/quarantine").text)
    with store.session() as s:
        assert s.get(DocumentRow, sha) is None
        assert not s.scalars(select(ReceiptRow).where(ReceiptRow.sha256 == sha)).all()
        audit = s.scalars(select(AuditRow).where(AuditRow.sha256 == sha, AuditRow.action == "quarantine_deleted")).one()
    store.close()
    assert audit.actor == "agent" and not stored.exists()


def test_release_reads_the_file_again_and_decides_it_as_a_run_would(fresh: tuple[Settings, dict[str, str]],
                                                                    tmp_path: Path) -> None:
    settings, names = fresh
    directory = load_directory(settings.directory_file)
    # A form quarantined for a passing cause (a time limit on a loaded night).
    form = generate_documents(SampleKind.TEXT_PDF, 20, SEED, directory, settings.school_year)[0]
    source = tmp_path / "arrivee.pdf"
    source.write_bytes(form.data)
    store = Store(settings.database_url)
    doc = ingest_file(source, f"folder:{tmp_path}", settings.data_dir / "originals")
    run_id = store.start_run(f"folder:{tmp_path}")
    slow = DocumentTimeoutError("slow", timeout_s=60)
    store.record_quarantine(run_id, doc, [{"field": None, "code": slow.code, "message_fr": slow.reason_fr}])
    with TestClient(create_app(settings)) as client:
        token = login(client, "agent")
        assert "Lecture trop longue" in html.unescape(client.get("/quarantine").text)
        r = client.post(f"/quarantine/{doc.sha256}/release", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        flash = html.unescape(client.get("/quarantine").text)
        assert f"relu (fiche {form.truth['form_id']})" in flash
        # Not a form: read again, still quarantined with its reason.
        r = client.post(f"/quarantine/{names['other_sha']}/release", data={"csrf_token": token})
        assert "relu : en quarantaine" in html.unescape(r.text)
        assert client.post(f"/quarantine/{doc.sha256}/release", data={"csrf_token": token}).status_code == 409
    with store.session() as s:
        row = s.get_one(DocumentRow, doc.sha256)
        receipts = s.scalars(select(ReceiptRow).where(ReceiptRow.sha256 == doc.sha256)).all()
        audit = s.scalars(select(AuditRow.action).where(AuditRow.sha256 == doc.sha256)).all()
        still = s.get_one(DocumentRow, names["other_sha"]).status
    store.close()
    assert row.status in ("routed", "waiting_list") and row.form_id == form.truth["form_id"]
    assert len(receipts) == 1  # a release is not a new reception: the run's accounting is unchanged
    assert any(a.startswith("quarantine_released_") for a in audit)
    assert still == "quarantined"


def _record_mail(settings: Settings, sha: str) -> None:
    store = Store(settings.database_url)
    with store.session() as s:
        data = Path(s.get_one(DocumentRow, sha).stored_path).read_bytes()
    run_id = store.start_run("imap:INBOX")
    attachment = AttachmentCandidate(1, "2", SCHOOL_FILE_NAME, "application/pdf", MediaType.PDF, len(data),
                                     AttachmentStatus.DOCUMENT, data=data)
    MailStore(store).record_received(run_id, "lundi@ac-versailles.example", "imap:INBOX", len(data) + 2000,
                                     SCHOOL_ADDRESS, "known", ["0950001A"], False, [attachment])
    store.close()


@pytest.mark.mail_server
def test_ask_the_school_sends_the_acknowledgement_wording_once(fresh: tuple[Settings, dict[str, str]]) -> None:
    settings, names = fresh
    sha = names["other_sha"]
    with TestClient(create_app(settings)) as client:  # replies off: nothing sent, the page says so
        token = login(client, "agent")
        r = client.post(f"/quarantine/{sha}/ask", data={"csrf_token": token})  # followed to the list
        assert "Réponses aux écoles désactivées : aucune demande envoyée." in html.unescape(r.text)
    _record_mail(settings, sha)
    with smtp_server() as sink:
        smtp = SmtpSettings(enabled=True, host="127.0.0.1", port=sink.port, security="none",
                            sender="clas@ville.example", timeout_s=10)
        with TestClient(create_app(replace_settings(settings, smtp))) as client:
            token = login(client, "agent")
            assert "sera envoyé par courriel" in html.unescape(client.get("/quarantine").text)
            page = html.unescape(client.post(f"/quarantine/{sha}/ask", data={"csrf_token": token}).text)
            assert "Demande envoyée à l'école par courriel." in page and "Demande à l'école : envoyée" in page
            again = client.post(f"/quarantine/{sha}/ask", data={"csrf_token": token})  # never twice
            assert "Demande déjà faite pour ce fichier" in html.unescape(again.text)
        assert len(sink.messages) == 1
    recipients, message = sink.messages[0]
    assert recipients == [SCHOOL_ADDRESS]
    body = message.get_content()
    assert "À corriger (merci de renvoyer la fiche corrigée) :" in body and f"« {SCHOOL_FILE_NAME} »" in body


def replace_settings(settings: Settings, smtp: SmtpSettings) -> Settings:
    """The settings with replies through ``smtp``."""
    return settings.model_copy(update={"mail": MailSettings(smtp=smtp)})



def test_the_overview_says_how_each_run_ended(intake: tuple[DemoData, dict[str, str]]) -> None:
    demo, _ = intake
    store = Store(demo.settings.database_url)
    store.start_run("nuit")  # killed before it recorded its end
    reason = "Exécution interrompue sans avoir enregistré sa fin (arrêt de la machine ou du processus)."
    store.close_interrupted_runs(reason)
    store.close()
    with TestClient(create_app(demo.settings)) as client:
        login(client, "agent")
        page = html.unescape(client.get("/overview").text)
    assert "<th>État</th>" in page
    assert f"interrompue <span class=\"muted\">— {reason}</span>" in page
