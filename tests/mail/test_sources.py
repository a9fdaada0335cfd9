"""The local sources (folder of .eml files, Maildir): list, fetch, file; and the ``mail`` command over a Maildir."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.utilities import prefect_test_harness

from pipeline.intake.mailbox import EmlFolderSource, MaildirSource, MailSourceError, read_header
from pipeline.settings import MailSettings, Settings
from samples.generator import SampleKind, generate_documents
from tests.mail import builders as b


def _maildir(root: Path, messages: list[bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, raw in enumerate(messages):
        (root / "new" / f"17000000{i:02d}.M{i}P1.test").write_bytes(raw)
    return root


def test_eml_folder_lists_fetches_and_files(tmp_path: Path) -> None:
    raws = [b.message(f"m{i}").as_bytes() for i in range(2)]
    for i, raw in enumerate(raws):
        (tmp_path / f"m{i}.eml").write_bytes(raw)
    source = EmlFolderSource(MailSettings(source="eml", path=tmp_path))
    refs = source.list_messages()
    assert [r.key for r in refs] == ["m0.eml", "m1.eml"] and refs[0].size_bytes == len(raws[0])
    assert source.fetch("m1.eml") == raws[1]
    assert source.fetch_header("m0.eml").startswith(b"From:") and b"Bonjour" not in source.fetch_header("m0.eml")
    source.file_message("m0.eml", "Traités")
    assert (tmp_path / "Traités" / "m0.eml").read_bytes() == raws[0]
    assert [r.key for r in source.list_messages()] == ["m1.eml"]


def test_maildir_files_messages_into_maildir_plus_plus_folders(tmp_path: Path) -> None:
    raws = [b.message(f"m{i}").as_bytes() for i in range(2)]
    root = _maildir(tmp_path / "Maildir", raws)
    source = MaildirSource(MailSettings(source="maildir", path=root))
    refs = source.list_messages()
    assert [source.fetch(r.key) for r in refs] == raws
    source.file_message(refs[0].key, "Quarantaine")
    [filed] = (root / ".Quarantaine" / "cur").iterdir()
    assert filed.read_bytes() == raws[0] and filed.name.endswith(":2,")
    assert (root / ".Quarantaine" / "maildirfolder").exists()
    assert len(source.list_messages()) == 1
    with pytest.raises(MailSourceError):
        source.fetch("../etc/passwd")
    with pytest.raises(MailSourceError):
        MaildirSource(MailSettings(source="maildir", path=tmp_path / "absent"))


def test_read_header_stops_at_the_blank_line(tmp_path: Path) -> None:
    path = tmp_path / "m.eml"
    path.write_bytes(b"Subject: x\r\nFrom: a@b.example\r\n\r\nbody " + bytes(10_000))
    assert read_header(path) == b"Subject: x\r\nFrom: a@b.example\r\n\r\n"


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_the_mail_command_reads_a_maildir(harness: None, tmp_path: Path, settings: Settings,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.cli import main
    from pipeline.deciding.directory import load_directory

    form = generate_documents(SampleKind.TEXT_PDF, 0, 77, load_directory(settings.directory_file))[0]
    msg = b.attach(b.message("Fiche", b.SCHOOL_SENDER), form.data, "application/pdf", "fiche.pdf")
    root = _maildir(tmp_path / "Maildir", [msg.as_bytes(), b.message("Sans pièce jointe").as_bytes()])
    monkeypatch.setenv("CLAS_MAIL__SOURCE", "imap")  # the command's --maildir overrides it (restored afterwards)
    monkeypatch.setenv("CLAS_MAIL__PATH", "")
    code = main(["mail", "--maildir", str(root), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["received"] == 1 and report["mail"]["statuses"] == {"processed": 1, "quarantined": 1}
    assert report["mail"]["all_filed"] is True and code == 0
    assert len(list((root / ".Quarantaine" / "cur").iterdir())) == 1
    assert list((root / "new").iterdir()) == []
