"""The local mail sources (``pipeline.intake.mailbox``: folder of .eml files, Maildir): list, fetch, file.

The ``mail`` command over a Maildir is tested in ``tests/flows/test_cli.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.intake.mailbox import EmlFolderSource, MaildirSource, MailSourceError, read_header
from pipeline.settings import MailSettings
from tests.support import mail_builders as b


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
    root = b.maildir(tmp_path / "Maildir", raws)
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
