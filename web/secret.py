"""The key that signs the desk's session cookies: never one written in a source file (issue 17).

``CLAS_SECRET_KEY`` used to sign cookies with its default, ``dev-only-change-me``, in development:
anyone who read the source could forge an admin's cookie. Now:

* ``CLAS_SECRET_KEY`` set: it must be long and not a known value, in every mode (development
  too); the cookie key is derived from it by HMAC, so the pupil hash key
  (:func:`pipeline.deciding.decide.pupil_key`) and the cookie key are never the same bytes.
* not set (development): a random key is generated at first start into an owner-only file
  (0600) beside the data folder, ``var/web-session.key``, and read back at the next starts, so
  sessions survive a restart. A file that others may read, or that holds a weak key, is refused.

The placeholder itself stays the pipeline's default for the pupil hash in development; outside
development :class:`pipeline.settings.Settings` refuses it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from pipeline.settings import Settings
from web.settings import WebSettings

KEY_FILE_NAME = "web-session.key"
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
_DERIVATION_LABEL = b"clas review desk session cookies v1"


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


def key_file(settings: Settings, web: WebSettings) -> Path:
    """Where the generated key lives: ``web.secret_key_file``, else beside the data folder."""
    return web.secret_key_file or settings.data_dir.parent / KEY_FILE_NAME


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


def session_signing_key(settings: Settings, web: WebSettings) -> str:
    """The key that signs the session cookies.

    Returns:
        A hex HMAC-SHA256 derivation of ``CLAS_SECRET_KEY`` when it is set, else the generated key.

    Raises:
        SecretKeyError: ``CLAS_SECRET_KEY`` is known or weak (in every mode), or the key file is unsafe.
    """
    if "secret_key" in settings.model_fields_set or settings.secret_key != Settings.model_fields["secret_key"].default:
        check_key(settings.secret_key, "CLAS_SECRET_KEY")
        return hmac.new(settings.secret_key.encode(), _DERIVATION_LABEL, hashlib.sha256).hexdigest()
    return generated_key(key_file(settings, web))
