"""Secret keys never written in a source file (issue 17): the desk's session key and the pupil hash key.

A key set in the environment (``CLAS_SECRET_KEY``) must be long and not a known value, in every mode. When none is
set (development), a random key is generated at first use into an owner-only file (0600) beside the data folder
and read back at the next starts: the desk's (``web.secret``) and the pupil hash's (:func:`pupil_hash_key`), so
that the hash of a pupil's name is never keyed by a value anyone can read in the source.
"""

from __future__ import annotations

import os
import secrets
import stat
from functools import cache
from pathlib import Path

from pipeline.settings import Settings

PUPIL_KEY_FILE_NAME = "pupil-hash.key"
"""The generated pupil hash key's file, beside the data folder (``var/pupil-hash.key``)."""
MIN_KEY_CHARS = 32
"""Shortest key accepted: 32 characters, at least 128 bits even for hex (OWASP Cryptographic Storage
Cheat Sheet: 128-bit keys at least)."""
GENERATED_KEY_BYTES = 32
"""Random bytes of a generated key (256 bits), written as URL-safe base64 (43 characters)."""
KNOWN_KEYS = frozenset({
    "dev-only-change-me",  # the placeholder of pipeline.settings, in the source since the start
    "changeme", "change-me", "change_me", "changethis", "secret", "secret-key", "secret_key", "secretkey",
    "your-secret-key", "your_secret_key", "mysecret", "my-secret-key", "development", "dev", "test",
    "password", "default", "insecure", "django-insecure", "notsecret", "s3cr3t",
})
"""Keys seen in sources and tutorials; compared case-insensitively, with any ``CHANGE_ME``-like
prefix or suffix of a placeholder caught by :func:`_looks_like_placeholder`."""


class SecretKeyError(ValueError):
    """The session key is unsafe or its file cannot be trusted; the message says what to do."""


def _looks_like_placeholder(key: str) -> bool:
    folded = key.strip().lower()
    if folded in KNOWN_KEYS:
        return True
    squashed = folded.replace("-", "").replace("_", "").replace(" ", "")
    return any(word in squashed for word in ("changeme", "changethis", "devonly", "placeholder", "insecure"))


def check_key(key: str, origin: str) -> None:
    """Refuse a known, placeholder-like or short key.

    Args:
        key: The key as configured or read.
        origin: Where it came from, for the message (``CLAS_SECRET_KEY`` or a file path).

    Raises:
        SecretKeyError: The key is known, looks like a placeholder, or is shorter than ``MIN_KEY_CHARS``.
    """
    if _looks_like_placeholder(key):
        raise SecretKeyError(f"{origin} holds a known placeholder key; remove it to have one generated, "
                             "or set a random one (python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    if len(key.strip()) < MIN_KEY_CHARS:
        raise SecretKeyError(f"{origin} is shorter than {MIN_KEY_CHARS} characters; set a random key "
                             "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")


def _read_key_file(path: Path) -> str:
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise SecretKeyError(f"{path} may be read by others (mode {stat.S_IMODE(info.st_mode):o}); "
                             f"run chmod 0600 {path}, or delete it to have a new key generated")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise SecretKeyError(f"{path} belongs to another user; the desk's own user must own it (mode 0600)")
    key = path.read_text(encoding="ascii").strip()
    check_key(key, str(path))
    return key


def generated_key(path: Path) -> str:
    """The key kept in ``path``, generated there (mode 0600, folder 0700 when created) on first use.

    Two processes starting at once both end with the same key: the file is created exclusively
    and whoever loses the race reads the winner's.

    Raises:
        SecretKeyError: The file is readable by others, owned by another user, or holds a weak key.
        OSError: The folder cannot be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key_file(path)
    key = secrets.token_urlsafe(GENERATED_KEY_BYTES)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(key + "\n")
    return key


def configured_key(settings: Settings) -> str | None:
    """``CLAS_SECRET_KEY`` when it was set (checked), ``None`` when it is the source's placeholder default.

    Raises:
        SecretKeyError: The key is known, looks like a placeholder, or is short.
    """
    if "secret_key" in settings.model_fields_set or settings.secret_key != Settings.model_fields["secret_key"].default:
        check_key(settings.secret_key, "CLAS_SECRET_KEY")
        return settings.secret_key
    return None


def pupil_hash_key(settings: Settings) -> str:
    """The key of the pupil hash (:func:`pipeline.deciding.decide.pupil_key`): ``CLAS_SECRET_KEY`` when set, else
    the key generated in ``PUPIL_KEY_FILE_NAME`` beside the data folder (read once per process).

    Raises:
        SecretKeyError: The configured key is weak, or the key file is unsafe.
        OSError: The key file cannot be created.
    """
    return configured_key(settings) or _kept_key(settings.data_dir.parent / PUPIL_KEY_FILE_NAME)


@cache
def _kept_key(path: Path) -> str:
    return generated_key(path)
