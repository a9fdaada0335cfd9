"""The key that signs the desk's session cookies: never one written in a source file (issue 17).

``CLAS_SECRET_KEY`` used to sign cookies with its default, ``dev-only-change-me``, in development:
anyone who read the source could forge an admin's cookie. Now:

* ``CLAS_SECRET_KEY`` set: it must be long and not a known value, in every mode (development
  too); the cookie key is derived from it by HMAC, so the pupil hash key
  (:func:`pipeline.deciding.decide.pupil_key`) and the cookie key are never the same bytes.
* not set (development): a random key is generated at first start into an owner-only file
  (0600) beside the data folder, ``var/web-session.key``, and read back at the next starts, so
  sessions survive a restart. A file that others may read, or that holds a weak key, is refused.

The checks and the key files are :mod:`pipeline.privacy.keys`'s, which keys the pupil hash the same way.
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from pipeline.privacy.keys import configured_key, generated_key
from pipeline.settings import Settings
from web.settings import WebSettings

KEY_FILE_NAME = "web-session.key"
_DERIVATION_LABEL = b"clas review desk session cookies v1"


def key_file(settings: Settings, web: WebSettings) -> Path:
    """Where the generated key lives: ``web.secret_key_file``, else beside the data folder."""
    return web.secret_key_file or settings.data_dir.parent / KEY_FILE_NAME


def session_signing_key(settings: Settings, web: WebSettings) -> str:
    """The key that signs the session cookies.

    Returns:
        A hex HMAC-SHA256 derivation of ``CLAS_SECRET_KEY`` when it is set, else the generated key.

    Raises:
        SecretKeyError: ``CLAS_SECRET_KEY`` is known or weak (in every mode), or the key file is unsafe.
    """
    configured = configured_key(settings)
    if configured is not None:
        return hmac.new(configured.encode(), _DERIVATION_LABEL, hashlib.sha256).hexdigest()
    return generated_key(key_file(settings, web))
