"""Server-side sessions: the cookie carries a random token, the database says whether it is still valid.

A signed cookie alone stayed valid for its whole lifetime (8 h) after logout (issue 17). Now the
cookie (still signed, by Starlette's ``SessionMiddleware``) holds a 256-bit random token; the
``web_sessions`` table holds its SHA-256 with the user, the creation and last-use times and the
revocation time. A session opens a page only while:

* not revoked: logout, the user's password changed or reset, the account deactivated;
* used within ``WebSettings.session_idle_timeout_s``;
* younger than ``WebSettings.session_max_age_s``.

Times from SQLite come back naive; they are UTC (written by :func:`pipeline.store.utcnow`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pipeline.store import utcnow
from web.auth_models import WebSessionRow
from web.models import UserRow
from web.settings import WebSettings

TOKEN_BYTES = 32
"""Random bytes of a session token (256 bits; OWASP Session Management: at least 64 bits of entropy)."""


def token_hash(token: str) -> str:
    """SHA-256 hex of a session token (a fast hash is enough for 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()


def aware(moment: datetime) -> datetime:
    """A stored time as timezone-aware UTC (SQLite returns naive UTC times)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ValidSession:
    """A session that may open pages.

    Attributes:
        session_id: Row id in ``web_sessions``.
        user: The account, active.
    """

    session_id: int
    user: UserRow


def open_session(s: Session, user_id: int, address: str, web: WebSettings) -> str:
    """Record a new session for ``user_id`` (in the caller's transaction); drop sessions past their lifetime.

    Args:
        s: The sign-in's session.
        user_id: The account that signed in.
        address: Client address (kept for the account's audit; never logged).
        web: Lifetimes.

    Returns:
        The token to put in the cookie (only its hash is stored).
    """
    too_old = utcnow() - timedelta(seconds=web.session_max_age_s)
    s.execute(delete(WebSessionRow).where(WebSessionRow.created_at < too_old))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    s.add(WebSessionRow(token_sha256=token_hash(token), user_id=user_id, address=address[:64]))
    return token


def resolve(s: Session, token: str, web: WebSettings, now: datetime | None = None) -> ValidSession | None:
    """The session of ``token`` and its active user, or ``None`` when unknown, revoked, idle or too old.

    Refreshes the last use at most every ``web.session_touch_interval_s`` seconds.
    """
    now = now or utcnow()
    row = s.scalar(select(WebSessionRow).where(WebSessionRow.token_sha256 == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    if now - aware(row.created_at) > timedelta(seconds=web.session_max_age_s) \
            or now - aware(row.last_seen_at) > timedelta(seconds=web.session_idle_timeout_s):
        row.revoked_at = now  # ends for good: a clock moved back never revives it
        return None
    user = s.get(UserRow, row.user_id)
    if user is None or not user.active:
        return None
    if now - aware(row.last_seen_at) >= timedelta(seconds=web.session_touch_interval_s):
        row.last_seen_at = now
    return ValidSession(row.id, user)


def revoke(s: Session, token: str) -> None:
    """End the session of ``token`` (logout); an unknown token is ignored."""
    s.execute(update(WebSessionRow).where(WebSessionRow.token_sha256 == token_hash(token),
                                          WebSessionRow.revoked_at.is_(None)).values(revoked_at=utcnow()))


def revoke_user_sessions(s: Session, user_id: int, *, keep_token: str | None = None) -> int:
    """End every session of ``user_id`` but the one of ``keep_token`` (password change, reset, deactivation).

    Returns:
        How many sessions were ended.
    """
    query = update(WebSessionRow).where(WebSessionRow.user_id == user_id, WebSessionRow.revoked_at.is_(None))
    if keep_token is not None:
        query = query.where(WebSessionRow.token_sha256 != token_hash(keep_token))
    result = s.execute(query.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)
