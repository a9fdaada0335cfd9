"""Ingest: turn a file in the inbox into a :class:`ReceivedDocument`, kept safely.

The file's bytes are copied once, under their SHA-256, to the originals folder with
owner-only permissions; nothing downstream reads the inbox again.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from pipeline.intake.names import decode_fs_name, safe_filename
from schemas.document import MediaType, ReceivedDocument

logger = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, int, MediaType], ...] = (
    (b"%PDF-", 0, MediaType.PDF),
    (b"\xff\xd8\xff", 0, MediaType.JPEG),
    (b"\x89PNG\r\n\x1a\n", 0, MediaType.PNG),
    (b"II*\x00", 0, MediaType.TIFF),
    (b"MM\x00*", 0, MediaType.TIFF),
)
CONTAINER_MAGIC: dict[bytes, str] = {b"PK\x03\x04": "zip", b"\xd0\xcf\x11\xe0": "ole", b"Rar!": "rar",
                                     b"7z\xbc\xaf": "7z"}
"""Magic numbers of archives and office files (PKWARE APPNOTE §4.3.7; [MS-CFB] §2.2; RAR; 7-Zip).
Checked before the lenient PDF header search: a zip storing a PDF uncompressed has
``%PDF-`` in its first kilobyte, yet is not a PDF."""
_HEIC_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis")
NAME_NOT_UTF8_FR = ("Nom de fichier illisible (caractères d'un ancien encodage, pas UTF-8) : le fichier est gardé "
                    "en quarantaine sans être lu ; le renommer simplement (ex. fiche.pdf) et le redéposer, ou le "
                    "libérer après vérification.")
EMPTY_FILE_FR = ("Fichier vide (0 octet) : l'envoi n'a rien transmis. Demander à l'école de renvoyer la fiche "
                 "(PDF, JPEG, PNG ou TIFF).")
"""Reason of an empty file, which is kept and quarantined, never read: « type non pris en charge » told nothing."""
_EXTENSIONS = {MediaType.PDF: ".pdf", MediaType.JPEG: ".jpg", MediaType.PNG: ".png", MediaType.TIFF: ".tif",
               MediaType.HEIC: ".heic", MediaType.UNKNOWN: ".bin"}


def detect_media_type(head: bytes) -> MediaType:
    """Recognise a file's type from its first bytes (at least 16), whatever its name says.

    A PDF may start with a few junk bytes before ``%PDF-`` (readers accept up to
    1024; ISO 32000-1 §7.5.2 implementation note), so the header is searched there.
    """
    for magic, offset, media_type in _MAGIC:
        if head[offset:offset + len(magic)] == magic:
            return media_type
    if head[:4] in CONTAINER_MAGIC:
        return MediaType.UNKNOWN
    if b"%PDF-" in head[:1024]:
        return MediaType.PDF
    if head[4:8] == b"ftyp" and head[8:12] in _HEIC_BRANDS:
        return MediaType.HEIC
    return MediaType.UNKNOWN


def list_inbox(folder: Path) -> list[Path]:
    """Regular files to ingest in ``folder`` (recursively), in a stable order; hidden files excluded.

    Symbolic links (to a file or a folder) and special files (FIFOs, devices, sockets) are never taken: a link
    would copy whatever it points at, ``/etc/passwd`` say, into the kept originals, and a FIFO or a device
    could hang the run. Hidden entries (a name starting with ``.``: ``.DS_Store``, an editor's lock file, a
    transfer tool's part-written copy) are not taken either. Both are counted by :func:`scan_inbox` and logged,
    without their names.

    Raises:
        FileNotFoundError: The folder does not exist.
    """
    return scan_inbox(folder).files


class InboxScan(NamedTuple):
    """One walk of an inbox folder (:func:`scan_inbox`).

    Attributes:
        files: The regular files to ingest, sorted.
        special: Symbolic links and special files (FIFOs, devices, sockets) left out.
        hidden: Hidden files and folders (a name starting with ``.``) left out, a folder counting once.
    """

    files: list[Path]
    special: int
    hidden: int


def scan_inbox(folder: Path, log_skipped: bool = True) -> InboxScan:
    """The files of :func:`list_inbox` and what was left out, in one walk of ``folder``.

    What was left out is logged (counts only, never a name) unless ``log_skipped`` is false (the CLI's look before
    the run, which tells the user in French and puts the counts in the run's accounting; the run's own walk logs
    them once).

    Raises:
        FileNotFoundError: The folder does not exist.
    """
    if not folder.is_dir():
        raise FileNotFoundError(f"inbox folder not found: {folder}")
    files: list[Path] = []
    special = hidden = 0
    for root, dirs, names in os.walk(folder, followlinks=False):
        for name in [d for d in dirs if not d.startswith(".") and os.path.islink(os.path.join(root, d))]:
            special += 1
            dirs.remove(name)
        hidden += sum(d.startswith(".") for d in dirs)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.startswith("."):
                hidden += 1
                continue
            path = Path(root) / name
            if stat.S_ISREG(path.lstat().st_mode):
                files.append(path)
            else:
                special += 1
    if special and log_skipped:
        logger.warning("inbox: %d link(s) or special file(s) left out", special)
    if hidden and log_skipped:
        logger.warning("inbox: hidden entries left out: %d", hidden)
    return InboxScan(sorted(files), special, hidden)


def received_name(path: Path) -> tuple[str, bool]:
    """The name a received file is recorded under, and whether its bytes were UTF-8.

    The name goes through :func:`pipeline.intake.names.safe_filename` (NFC, safe characters, at most
    255 bytes); a name that is not UTF-8 (undecodable bytes from the file system) is decoded from
    Windows-1252 first. An empty result becomes ``fichier-sans-nom``.
    """
    decoded = decode_fs_name(path.name)
    return safe_filename(decoded.name) or "fichier-sans-nom", decoded.was_utf8


def ingest_file(path: Path, source: str, originals_dir: Path, now: datetime | None = None) -> ReceivedDocument:
    """Record one received file and keep a copy of it.

    Its name is recorded as :func:`received_name` makes it; a name that was not UTF-8 sets
    ``intake_reason`` (code ``file_name_not_utf8``), and so does an empty file (``empty_file``): the file is kept
    and quarantined, never read.

    Args:
        path: The file as received.
        source: Where it came from (e.g. ``folder:/srv/inbox``).
        originals_dir: Where the kept copy goes, as ``<sha256><ext>``, mode 0600.
        now: Reception time (UTC); defaults to the current time.

    Returns:
        The document record; its identity is the SHA-256 of the bytes.

    The file is opened once, without following a symbolic link, and read once: its hash, its type and the kept
    copy all come from the same bytes, so a file swapped or rewritten while it is taken in cannot leave a copy
    that differs from its recorded identity, nor a link copy whatever it points at.

    Raises:
        OSError: The file cannot be read, is a symbolic link (``ELOOP``) or not a regular file, or the copy cannot
            be written.
    """
    originals_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        tmp = originals_dir / f".incoming-{os.getpid()}-{secrets.token_hex(8)}.part"
        digest, head, size = hashlib.sha256(), b"", 0
        try:
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
                while chunk := fh.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
                    head += chunk[:1024 - len(head)]
                    size += len(chunk)
            media_type = detect_media_type(head)
            stored = originals_dir / f"{digest.hexdigest()}{_EXTENSIONS[media_type]}"
            if not stored.exists():
                os.replace(tmp, stored)  # atomic: a crash never leaves a half-written original
        finally:
            tmp.unlink(missing_ok=True)  # the copy of a file already kept, or of one that failed
    name, was_utf8 = received_name(path)
    reason = (("file_name_not_utf8", NAME_NOT_UTF8_FR) if not was_utf8
              else ("empty_file", EMPTY_FILE_FR) if size == 0 else None)
    return ReceivedDocument(
        sha256=digest.hexdigest(),
        source=source,
        original_name=name,
        media_type=media_type,
        size_bytes=size,
        received_at=now or datetime.now(UTC),
        stored_path=stored,
        intake_reason=reason,
    )
