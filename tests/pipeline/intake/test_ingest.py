"""Ingestion: type by content, SHA-256, an owner-only kept copy."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

import pytest

from pipeline.intake.ingest import detect_media_type, ingest_file, list_inbox, scan_inbox
from schemas.document import MediaType


@pytest.mark.parametrize(("head", "expected"), [
    (b"%PDF-1.7\n", MediaType.PDF),
    (b"\xef\xbb\xbf\r\n%PDF-1.4", MediaType.PDF),  # junk before the header, as some tools write
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", MediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n\x00\x00", MediaType.PNG),
    (b"II*\x00\x08\x00\x00\x00", MediaType.TIFF),
    (b"MM\x00*\x00\x00\x00\x08", MediaType.TIFF),
    (b"\x00\x00\x00\x18ftypheic\x00\x00", MediaType.HEIC),
    (b"PK\x03\x04\x14\x00", MediaType.UNKNOWN),
    (b"PK\x03\x04\x0a\x00\x00\x00\x00\x00fiche.pdf%PDF-1.4", MediaType.UNKNOWN),  # a zip storing a PDF
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", MediaType.UNKNOWN),  # an old Word file
])
def test_media_type_is_detected_from_content(head: bytes, expected: MediaType) -> None:
    assert detect_media_type(head) is expected


def test_ingest_keeps_an_owner_only_copy_named_by_hash(tmp_path: Path) -> None:
    data = b"%PDF-1.4\n% invented content\n"
    source = tmp_path / "Fiche élève.bin"  # a wrong extension: the content decides
    source.write_bytes(data)
    doc = ingest_file(source, "folder:test", tmp_path / "originals")
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert doc.media_type is MediaType.PDF
    assert doc.original_name == "Fiche élève.bin"
    assert doc.stored_path == tmp_path / "originals" / f"{doc.sha256}.pdf"
    assert doc.stored_path.read_bytes() == data
    assert stat.S_IMODE(doc.stored_path.stat().st_mode) == 0o600


def test_a_link_or_a_fifo_handed_to_ingest_is_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4\n% not the school's\n")
    link, fifo = tmp_path / "fiche.pdf", tmp_path / "tube.pdf"
    link.symlink_to(secret)
    os.mkfifo(fifo)
    originals = tmp_path / "originals"

    with pytest.raises(OSError):
        ingest_file(link, "folder:test", originals)  # swapped for a link after the inbox was listed
    with pytest.raises(OSError):
        ingest_file(fifo, "folder:test", originals)  # would hang a reader that waits for a writer
    assert list(originals.iterdir()) == []  # no copy, no leftover part file


def test_the_same_bytes_twice_keep_one_copy(tmp_path: Path) -> None:
    data = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8000  # over a 1 MiB read
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    first.write_bytes(data)
    second.write_bytes(data)

    docs = [ingest_file(p, "folder:test", tmp_path / "originals") for p in (first, second)]

    assert {d.sha256 for d in docs} == {hashlib.sha256(data).hexdigest()} and docs[0].size_bytes == len(data)
    assert [p.name for p in (tmp_path / "originals").iterdir()] == [f"{docs[0].sha256}.png"]
    assert docs[0].stored_path.read_bytes() == data


def test_list_inbox_is_sorted_and_skips_hidden_files(tmp_path: Path) -> None:
    for name in ("b.pdf", "a.jpg", ".DS_Store"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.png").write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in list_inbox(tmp_path)] == ["a.jpg", "b.pdf", "sub/c.png"]
    (tmp_path / ".git").mkdir()  # a hidden folder counts once, whatever it holds
    (tmp_path / ".git" / "config").write_bytes(b"x")
    scan = scan_inbox(tmp_path, log_skipped=False)
    assert (scan.special, scan.hidden) == (0, 2)


def test_links_and_special_files_are_never_taken_from_the_inbox(tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    inbox, outside = tmp_path / "inbox", tmp_path / "outside"
    (inbox / "sub").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"root:x:0:0")
    (inbox / "fiche.pdf").write_bytes(b"%PDF-1.7")
    (inbox / "passwd.pdf").symlink_to(outside / "secret.txt")  # would copy the target into the originals
    (inbox / "linked-folder").symlink_to(outside, target_is_directory=True)
    os.mkfifo(inbox / "sub" / "pipe.pdf")  # reading it would hang the run

    caplog.set_level(logging.WARNING, logger="pipeline.intake.ingest")
    assert [p.relative_to(inbox).as_posix() for p in list_inbox(inbox)] == ["fiche.pdf"]
    assert [r.getMessage() for r in caplog.records] == ["inbox: 3 link(s) or special file(s) left out"]
    # The CLI's look before the run says it in French and does not log it again.
    assert scan_inbox(inbox, log_skipped=False)[1] == 3
    assert len(caplog.records) == 1


def test_missing_inbox_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list_inbox(tmp_path / "nope")


def test_an_empty_file_is_kept_with_its_own_reason(tmp_path: Path) -> None:
    (tmp_path / "fiche.pdf").write_bytes(b"")
    (tmp_path / "fiche2.pdf").write_bytes(b"%PDF-1.7 x")

    empty = ingest_file(tmp_path / "fiche.pdf", "folder", tmp_path / "originals")
    full = ingest_file(tmp_path / "fiche2.pdf", "folder", tmp_path / "originals")

    assert empty.intake_reason is not None and empty.intake_reason[0] == "empty_file"
    assert "Fichier vide" in empty.intake_reason[1] and empty.stored_path.read_bytes() == b""
    assert full.intake_reason is None
