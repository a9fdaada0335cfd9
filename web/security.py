"""Passwords (argon2id) and CSRF tokens: the two secrets the web page handles itself.

Session cookies are signed by Starlette's ``SessionMiddleware`` (itsdangerous); the
session holds the user id and the CSRF token only, never personal data.
"""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_PASSWORD_LENGTH = 12
"""ANSSI recommends at least 12 characters for passwords protecting personal data (Recommandations
relatives à l'authentification multifacteur et aux mots de passe, 2021, R22)."""

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults
_DUMMY_HASH = _HASHER.hash("timing equaliser, never a real password")


class WeakPasswordError(ValueError):
    """The password is too short; choose one of at least ``MIN_PASSWORD_LENGTH`` characters."""


def hash_password(password: str) -> str:
    """Hash a new password with argon2id.

    Raises:
        WeakPasswordError: Shorter than ``MIN_PASSWORD_LENGTH``.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"password shorter than {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with no hash (unknown user) a dummy hash is checked to equalise timing."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_csrf_token() -> str:
    """A fresh random token for the session (synchroniser token pattern, OWASP CSRF cheat sheet)."""
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, submitted: str | None) -> bool:
    """Constant-time comparison of the session's token with the submitted one."""
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
