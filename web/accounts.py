"""Accounts: create, authenticate, list and (de)activate users; change and reset passwords.

Every new password meets :func:`web.security.check_password_policy`; a password change ends
the user's other sessions, an admin's reset and a deactivation end all of them
(:mod:`web.sessions`). Each is audited with the actor's username and the account's, never the
password.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store import AuditRow
from schemas.directory import Directory
from web import throttle
from web.models import Role, UserRow
from web.security import WeakPasswordError, check_password_policy, hash_password, verify_password
from web.sessions import revoke_user_sessions
from web.settings import WebSettings

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")


class AccountError(ValueError):
    """An account cannot be created as asked.

    Attributes:
        message_fr: What to change, in French for the admin.
    """

    def __init__(self, message: str, message_fr: str) -> None:
        super().__init__(message)
        self.message_fr = message_fr


def _new_hash(password: str, username: str, web: WebSettings | None) -> str:
    """The hash of a new password that meets the policy.

    Raises:
        AccountError: The password does not meet it (French reason).
    """
    try:
        check_password_policy(password, username, web or WebSettings())
        return hash_password(password)
    except WeakPasswordError as exc:
        raise AccountError("weak password", exc.message_fr) from exc


def create_user(s: Session, directory: Directory, username: str, password: str, role: Role,
                carrier_id: str | None = None, *, actor: str, web: WebSettings | None = None) -> UserRow:
    """Add an account (in the caller's transaction) and audit it.

    Args:
        web: Password policy thresholds; read from ``CLAS_WEB_*`` when omitted.

    Raises:
        AccountError: Bad username, taken username, carrier missing or unknown, weak password.
    """
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError("bad username", "Identifiant : 2 à 50 caractères, lettres minuscules, chiffres, . _ -")
    if s.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise AccountError("username taken", "Cet identifiant existe déjà.")
    if role is Role.CARRIER:
        if carrier_id not in {c.id for c in directory.carriers}:
            raise AccountError("unknown carrier", "Choisir la structure de ce compte.")
    else:
        carrier_id = None
    password_hash = _new_hash(password, username, web)
    user = UserRow(username=username, password_hash=password_hash, role=role.value, carrier_id=carrier_id)
    s.add(user)
    s.flush()
    s.add(AuditRow(actor=actor, action="user_created", detail=f"user {username}; role {role.value}"
                   + (f"; carrier {carrier_id}" if carrier_id else "")))
    return user


def authenticate(s: Session, username: str, password: str) -> UserRow | None:
    """The active account matching these credentials, or ``None`` (same time either way)."""
    user = s.scalar(select(UserRow).where(UserRow.username == username.strip().lower()))
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        return None
    return user


def list_users(s: Session) -> Sequence[UserRow]:
    """Every account, by username."""
    return s.scalars(select(UserRow).order_by(UserRow.username)).all()


def set_active(s: Session, user_id: int, active: bool, *, actor: str) -> UserRow | None:
    """(De)activate an account; a deactivated user's session ends at its next request."""
    user = s.get(UserRow, user_id)
    if user is None:
        return None
    user.active = active
    if not active:
        revoke_user_sessions(s, user.id)
    s.add(AuditRow(actor=actor, action="user_activated" if active else "user_deactivated",
                   detail=f"user {user.username}"))
    return user


def change_password(s: Session, user_id: int, current: str, new: str, *, keep_token: str | None,
                    web: WebSettings | None = None) -> None:
    """The user changes their own password; their other sessions end (in the caller's transaction).

    Args:
        s: The request's session.
        user_id: The signed-in account.
        current: Its password now (checked again: a session left open is not enough).
        new: The new password.
        keep_token: The session token of the browser making the change (it stays signed in).
        web: Policy thresholds.

    Raises:
        AccountError: Current password wrong, or the new one does not meet the policy.
    """
    user = s.get(UserRow, user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise AccountError("current password wrong", "Mot de passe actuel incorrect.")
    if verify_password(user.password_hash, new):
        raise AccountError("same password", "Le nouveau mot de passe doit être différent de l'actuel.")
    user.password_hash = _new_hash(new, user.username, web)
    ended = revoke_user_sessions(s, user.id, keep_token=keep_token)
    s.add(AuditRow(actor=user.username, action="password_changed", detail=f"user {user.username}; "
                   f"other sessions ended {ended}"))


def reset_password(s: Session, user_id: int, new: str, *, actor: str, web: WebSettings | None = None) -> UserRow:
    """An admin sets a new password for an account: its sessions and its sign-in lock end.

    Raises:
        AccountError: Unknown account, or the password does not meet the policy.
    """
    user = s.get(UserRow, user_id)
    if user is None:
        raise AccountError("unknown user", "Compte introuvable.")
    user.password_hash = _new_hash(new, user.username, web)
    ended = revoke_user_sessions(s, user.id)
    throttle.clear_account(s, user.username)
    s.add(AuditRow(actor=actor, action="password_reset", detail=f"user {user.username}; sessions ended {ended}"))
    return user
