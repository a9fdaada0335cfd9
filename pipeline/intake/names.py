"""Received file names made safe: the one helper every name passes through before it reaches the disk, the
database or a log.

Schools name files after the pupil (``DUPONT Léa fiche.pdf``), in whatever encoding their computer or
mail client uses. A received name is kept as the school sent it (staff recognise it), but only once it is:

* valid Unicode in NFC (a file system name that is not UTF-8 is decoded, see :func:`decode_fs_name`);
* one path component of printable characters: control and format characters (including the
  bidirectional overrides that disguise ``fdp.exe`` as ``exe.pdf``), surrogates, NUL and path separators
  are replaced by ``_``, and leading dots are dropped (no hidden file);
* at most :data:`FILENAME_MAX_BYTES` bytes in UTF-8, cut at a character boundary and keeping its
  extension, so that it can be written as a file (issue 17: 104 CJK characters are 312 bytes).

A name may still hold a pupil's name: it is never logged (log the document's SHA-256 instead).
"""

from __future__ import annotations

import os
import re
import unicodedata
from typing import NamedTuple

FILENAME_MAX_BYTES = 255
"""Longest name, in UTF-8 bytes: ``NAME_MAX`` of Linux file systems (ext4, XFS, Btrfs, tmpfs; ``<linux/limits.h>``)
and of APFS and NTFS in their own units. A longer name cannot be written and raised ``ENAMETOOLONG``."""
LEGACY_FS_ENCODING = "cp1252"
"""Encoding tried for a name that is not UTF-8: Windows' Western European code page, in which French
file names copied from old Windows machines and zip archives are written (it decodes every Latin-1 letter)."""
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_REPLACED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories replaced: controls, format characters (bidi overrides, zero-width), surrogates,
private use, unassigned, line and paragraph separators."""


class DecodedName(NamedTuple):
    """A name read from the file system.

    Attributes:
        name: The name as text (never holds a surrogate escape).
        was_utf8: Whether its bytes were valid UTF-8.
    """

    name: str
    was_utf8: bool


def decode_fs_name(name: str) -> DecodedName:
    """Decode a name as ``os.listdir`` returns it (undecodable bytes as surrogate escapes, PEP 383).

    Bytes that are not UTF-8 are read as :data:`LEGACY_FS_ENCODING` (undefined bytes become U+FFFD).
    """
    raw = os.fsencode(name)
    try:
        return DecodedName(raw.decode("utf-8"), True)
    except UnicodeDecodeError:
        return DecodedName(raw.decode(LEGACY_FS_ENCODING, errors="replace"), False)


def _safe_char(ch: str) -> str:
    if ch in "/\\" or unicodedata.category(ch) in _REPLACED_CATEGORIES:
        return "_"
    return ch


def fit_bytes(name: str, max_bytes: int = FILENAME_MAX_BYTES, marker: str = "") -> str:
    """``name`` with ``marker`` put before its extension, cut to ``max_bytes`` UTF-8 bytes, extension kept.

    The stem is cut at a character boundary; the extension (a dot and 1 to 8 ASCII letters or digits)
    and the marker (e.g. `` (2)``, to make a name unique) are always kept.

    Raises:
        ValueError: The extension and marker alone take ``max_bytes`` or more.
    """
    match = _EXTENSION.search(name)
    stem, ext = (name[:match.start()], match.group()) if match and match.start() > 0 else (name, "")
    budget = max_bytes - len((marker + ext).encode())
    if budget <= 0:
        raise ValueError(f"no room for a name in {max_bytes} bytes")
    if len(stem.encode()) > budget:
        stem = stem.encode()[:budget].decode("utf-8", errors="ignore").rstrip()
    return stem + marker + ext


def safe_filename(name: str, max_bytes: int = FILENAME_MAX_BYTES) -> str | None:
    """A received name made safe as one path component, in NFC, at most ``max_bytes`` bytes.

    Args:
        name: The name as decoded (RFC 2231, RFC 2047, TNEF, or :func:`decode_fs_name`).
        max_bytes: Longest result, in UTF-8 bytes.

    Returns:
        The safe name, or ``None`` when nothing is left of it (the caller invents one).
    """
    name = unicodedata.normalize("NFC", name)
    name = "".join(_safe_char(ch) for ch in name).strip().lstrip(".").rstrip(". ")
    if not name.strip("_ "):
        return None
    return fit_bytes(name, max_bytes)
