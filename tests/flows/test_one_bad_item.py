"""Issue 17, « one bad item never stops a run »: each measured case through the real flows, under Prefect's harness.

A mail whose attachment name cannot be decoded, an attachment name over 255 bytes, a MIME boundary holding an
apostrophe (``clas-referrals mail --eml``), and a file of the inbox folder whose name is not UTF-8: each is
quarantined with its French reason or read, and the run goes on with the next item.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

import pipeline.runs.mail as run_mail
from flows.cli import main
from flows.nightly import nightly
from pipeline.intake.mail_store import MailAttachmentRow, MailMessageRow
from pipeline.settings import Settings
from pipeline.store import DocumentRow, ReceiptRow, Store
from tests.conftest import SAMPLES_INBOX
from tests.support import mail_builders as b

SURNAME = "DURAND"
"""The invented pupil surname put in file names: it must never reach a log."""


def _eml_folder(root: Path, messages: list[bytes]) -> Path:
    root.mkdir()
    for i, raw in enumerate(messages):
        (root / f"{i:02d}.eml").write_bytes(raw)
    return root


def _mail_rows(settings: Settings) -> list[tuple[MailMessageRow, list[MailAttachmentRow]]]:
    store = Store(settings.database_url)
    with store.session() as s:
        rows = [(m, list(s.scalars(select(MailAttachmentRow).where(MailAttachmentRow.message_row_id == m.id)
                                  .order_by(MailAttachmentRow.position))))
                for m in s.scalars(select(MailMessageRow).order_by(MailMessageRow.id))]
    store.close()
    return rows


def _run_mail(folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
              ) -> tuple[int, dict[str, object]]:
    monkeypatch.setenv("CLAS_MAIL__SOURCE", "imap")  # --eml overrides them (and monkeypatch restores them)
    monkeypatch.setenv("CLAS_MAIL__PATH", "")
    code = main(["mail", "--eml", str(folder), "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def prefect_logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record of the run, Prefect's included (its loggers do not propagate by default)."""
    monkeypatch.setattr(logging.getLogger("prefect"), "propagate", True)
    caplog.set_level(logging.DEBUG)
    return caplog


def test_a_mail_with_an_undecodable_attachment_name_is_quarantined_and_the_next_mail_is_read(
        harness: None, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = b.raw_with_utf16_continued_name(b.sample("text_pdf-0000.pdf"))
    good = b.attach(b.message("Fiche"), b.sample("fillable-0000.pdf"), "application/pdf", "fiche.pdf").as_bytes()
    folder = _eml_folder(tmp_path / "eml", [broken, good])

    code, report = _run_mail(folder, capsys, monkeypatch)

    mail = report["mail"]
    assert mail["messages"] == 2 and mail["all_filed"] is True  # type: ignore[index]
    (first, first_files), (second, second_files) = _mail_rows(settings)
    assert first.status == "quarantined"
    assert [(a.kind, a.reason_code) for a in first_files] == [("rejected", "attachment_name_undecodable")]
    assert "Nom de la pièce jointe illisible" in str(first_files[0].reason_fr)
    assert run_mail.raw_message_path(settings.data_dir, first.message_id).read_bytes() == broken  # kept as received
    assert (second.status, [a.kind for a in second_files]) == ("processed", ["document"])
    assert sorted(p.name for p in (folder / "Quarantaine").iterdir()) == ["00.eml"]
    assert sorted(p.name for p in (folder / "Traités").iterdir()) == ["01.eml"]
    assert code == 0


def test_a_mail_the_parser_cannot_read_at_all_is_quarantined_whole(
        harness: None, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Fault injection: the attachment walk of the first message raises what a parser bug raises.
    real = run_mail.extract_attachments
    calls: list[int] = []

    def extract(message, settings):  # noqa: ANN001, ANN202
        calls.append(1)
        if len(calls) == 1:
            raise IndexError("list index out of range")  # email._header_value_parser's known failure
        return real(message, settings)

    monkeypatch.setattr(run_mail, "extract_attachments", extract)
    first = b.attach(b.message("Fiche"), b.sample("text_pdf-0000.pdf"), "application/pdf", "fiche.pdf").as_bytes()
    second = b.attach(b.message("Fiche"), b.sample("fillable-0000.pdf"), "application/pdf", "f.pdf").as_bytes()
    folder = _eml_folder(tmp_path / "eml", [first, second])

    code, report = _run_mail(folder, capsys, monkeypatch)

    (row, files), (other, _) = _mail_rows(settings)
    assert row.status == "quarantined" and files == []
    assert [r["code"] for r in row.reasons] == ["message_unreadable"]
    assert run_mail.raw_message_path(settings.data_dir, row.message_id).read_bytes() == first
    assert other.status == "processed"
    assert len(calls) == 2  # not retried: a parse error is not an I/O fault
    assert report["mail"]["all_filed"] is True and code == 0  # type: ignore[index]


def test_an_attachment_name_over_255_bytes_is_cut_and_its_mail_settled(
        harness: None, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = "報告書" * 34 + "表.pdf"  # 104 characters, under the old 180-character cap; 316 bytes
    msg = b.attach(b.message("Fiche"), b.sample("text_pdf-0000.pdf"), "application/pdf", name)
    folder = _eml_folder(tmp_path / "eml", [msg.as_bytes()])

    code, report = _run_mail(folder, capsys, monkeypatch)

    [(row, [attachment])] = _mail_rows(settings)
    assert row.status == "processed"  # was left "received" for ever
    assert attachment.kind == "document" and attachment.outcome in ("routed", "waiting_list", "review")
    assert attachment.filename.endswith(".pdf") and len(attachment.filename.encode()) <= 255
    assert attachment.filename == name.encode()[:251].decode("utf-8", errors="ignore") + ".pdf"
    assert report["received"] == 1 and code == 0


def test_a_pdf_behind_a_boundary_with_an_apostrophe_is_read_not_quarantined_as_bin(
        harness: None, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = b.raw_with_boundary(b.sample("text_pdf-0000.pdf"), "=_l'ecole_0042")
    folder = _eml_folder(tmp_path / "eml", [raw])

    code, report = _run_mail(folder, capsys, monkeypatch)

    [(row, files)] = _mail_rows(settings)
    assert [(a.filename, a.media_type, a.kind) for a in files] == [("fiche.pdf", "application/pdf", "document")]
    assert files[0].outcome in ("routed", "waiting_list", "review")
    assert row.status == "processed" and report["quarantined"] == 0 and code == 0


def test_a_folder_file_whose_name_is_not_utf8_is_quarantined_unlogged_and_the_run_goes_on(
        harness: None, settings: Settings, tmp_path: Path, prefect_logs: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bad = os.fsdecode(SURNAME.encode() + b" \xe9l\xe8ve fiche.pdf")  # Windows-1252 bytes: not UTF-8
    shutil.copy(SAMPLES_INBOX / "text_pdf-0000.pdf", inbox / bad)
    shutil.copy(SAMPLES_INBOX / "not_the_form-0000.pdf", inbox / "autre.pdf")

    summary = nightly(str(inbox))

    assert summary["received"] == 2 and summary["balanced"] is True
    assert summary["reasons"] == {"file_name_not_utf8": 1, "not_the_form": 1}
    store = Store(settings.database_url)
    with store.session() as s:
        docs = {d.original_name: d for d in s.scalars(select(DocumentRow))}
    normalised = f"{SURNAME} élève fiche.pdf"  # decoded from Windows-1252, in NFC
    assert set(docs) == {normalised, "autre.pdf"}
    assert docs[normalised].status == "quarantined"
    assert "Nom de fichier illisible" in docs[normalised].reasons[0]["message_fr"]
    printed = capsys.readouterr()  # Prefect's console handler, when it does not log through logging
    assert "file(s) in the inbox" in prefect_logs.text + printed.err  # the run's log was seen
    for text in (prefect_logs.text, printed.out, printed.err):
        assert SURNAME not in text and "\udce9" not in text
    # The normalised name is stable: the next run knows the file.
    again = nightly(str(inbox))
    assert again["received"] == 0 and again["already_processed"] == 2
    with store.session() as s:
        assert len(list(s.scalars(select(ReceiptRow)))) == 2
    store.close()


def test_messages_sharing_a_message_id_are_each_read_and_a_true_copy_is_not(
        harness: None, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An attack of 2026-12-07: a copier's scan-to-mail gave three different messages one Message-ID; the first
    was read, the two others filed as processed unread, their forms lost without a word."""
    def scan_to_mail(name: str, sample: str) -> bytes:
        msg = b.attach(b.message("Numérisation"), b.sample(sample), "application/pdf", name)
        msg.replace_header("Message-ID", "<scan-to-mail@copieur.ecole.example>")
        return msg.as_bytes()

    first, second = scan_to_mail("fiche-A.pdf", "text_pdf-0000.pdf"), scan_to_mail("fiche-B.pdf", "fillable-0000.pdf")
    third = scan_to_mail("fiche-C.pdf", "invalid_no_agreement-0000.pdf")

    code, report = _run_mail(_eml_folder(tmp_path / "eml", [first, second, third, first]), capsys, monkeypatch)

    assert (code, report["received"]) == (0, 3)  # the first message again is the same message: filed, not read
    rows = _mail_rows(settings)
    assert [(m.status, [a.filename for a in files]) for m, files in rows] == [
        ("processed", ["fiche-A.pdf"]), ("processed", ["fiche-B.pdf"]), ("processed", ["fiche-C.pdf"])]
    assert rows[0][0].message_id == "scan-to-mail@copieur.ecole.example"
    assert len({m.message_id for m, _ in rows}) == 3
    assert report["mail"]["messages"] == 4 and report["mail"]["all_filed"] is True  # type: ignore[index]
