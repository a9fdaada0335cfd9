"""Accounts: create, authenticate, list and (de)activate users of the review desk."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store import AuditRow
from schemas.directory import Directory
from web.models import Role, UserRow
from web.security import hash_password, verify_password

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,49}$")


class AccountError(ValueError):
    """An account cannot be created as asked.

    Attributes:
        message_fr: What to change, in French for the admin.
    """

    def __init__(self, message: str, message_fr: str) -> None:
        super().__init__(message)
        self.message_fr = message_fr


def create_user(s: Session, directory: Directory, username: str, password: str, role: Role,
                carrier_id: str | None = None, *, actor: str) -> UserRow:
    """Add an account (in the caller's transaction) and audit it.

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
    try:
        password_hash = hash_password(password)
    except ValueError as exc:
        raise AccountError("weak password", "Mot de passe trop court : 12 caractères au moins.") from exc
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
    s.add(AuditRow(actor=actor, action="user_activated" if active else "user_deactivated",
                   detail=f"user {user.username}"))
    return user
