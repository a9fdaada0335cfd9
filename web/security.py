"""Passwords (argon2id, and the policy a new one must meet) and CSRF tokens.

Session cookies are signed by Starlette's ``SessionMiddleware`` (itsdangerous, key from
:mod:`web.secret`); the cookie holds a session token (:mod:`web.sessions`) and the CSRF token
only, never personal data.

The password policy (issue 17: twelve spaces, ``aaaaaaaaaaaa`` or the username were accepted):
a length between ``WebSettings.password_min_length`` and ``password_max_length``, not the
username, and a zxcvbn score of at least ``password_min_score``. zxcvbn (Dropbox's estimator,
maintained on PyPI as ``zxcvbn``) ships its own lists of common passwords, English words and
names and detects repeats, sequences, keyboard walks and dates; nothing is downloaded. French
words it does not list are caught only when they make a guessable pattern; the length rule
covers the rest.
"""

from __future__ import annotations

import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from web.settings import WebSettings

MIN_PASSWORD_LENGTH = WebSettings.model_fields["password_min_length"].default
"""The floor every hash respects, whatever the settings (source in ``WebSettings.password_min_length``)."""
CONTEXT_WORDS = ("clas", "orientation", "orientations", "fiche", "ville", "bureau", "verification", "structure",
                 "argenteuil", "motdepasse", "password")
"""Words of this product that a guesser tries first (NIST SP 800-63B §5.1.1.2: context-specific words)."""

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 "low memory" defaults
_DUMMY_HASH = _HASHER.hash("timing equaliser, never a real password")


class WeakPasswordError(ValueError):
    """The password does not meet the policy.

    Attributes:
        message_fr: What to change, in French for the user.
    """

    def __init__(self, message: str, message_fr: str) -> None:
        super().__init__(message)
        self.message_fr = message_fr


def check_password_policy(password: str, username: str, web: WebSettings) -> None:
    """Refuse a password a guesser would find (policy in the module docstring).

    Args:
        password: The new password, as typed (spaces count; nothing is stripped).
        username: The account's name, which the password must not be nor build on.
        web: Thresholds (``password_min_length``, ``password_max_length``, ``password_min_score``).

    Raises:
        WeakPasswordError: With a French ``message_fr`` saying what to change.
    """
    if len(password) < web.password_min_length:
        raise WeakPasswordError("password too short",
                                f"Mot de passe trop court : {web.password_min_length} caractères au moins.")
    if len(password) > web.password_max_length:
        raise WeakPasswordError("password too long",
                                f"Mot de passe trop long : {web.password_max_length} caractères au plus.")
    folded = password.strip().casefold()
    if not folded or folded == username.strip().casefold():
        raise WeakPasswordError("password is the username or blank",
                                "Le mot de passe ne doit être ni vide ni l'identifiant du compte.")
    result = zxcvbn(password, user_inputs=[username, *username.replace(".", " ").replace("-", " ").split(),
                                           *CONTEXT_WORDS])
    if int(result["score"]) < web.password_min_score:
        raise WeakPasswordError(f"password zxcvbn score {result['score']}",
                                "Mot de passe trop facile à deviner (mot de passe courant, répétition, suite de "
                                "caractères, identifiant ou mot lié au service) : choisir par exemple plusieurs "
                                "mots sans rapport entre eux, séparés par des tirets.")


def hash_password(password: str) -> str:
    """Hash a new password with argon2id.

    The policy is :func:`check_password_policy`, applied by the callers that know the username.

    Raises:
        WeakPasswordError: Shorter than ``MIN_PASSWORD_LENGTH``.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(f"password shorter than {MIN_PASSWORD_LENGTH} characters",
                                f"Mot de passe trop court : {MIN_PASSWORD_LENGTH} caractères au moins.")
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
