"""Signing in and out: throttled credentials check, a new server-side session, the audit entries.

The audit log (``audit_events``, read by staff with database access only) records every attempt
with the username as typed and the client address; the application log says only what happened
(``login failed``, ``login throttled``), never who or from where.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pipeline.store import AuditRow, Store
from web import throttle
from web.accounts import authenticate
from web.deps import CurrentUser
from web.models import Role
from web.sessions import open_session, revoke
from web.settings import WebSettings

logger = logging.getLogger(__name__)
MAX_ACTOR_CHARS = 100


@dataclass(frozen=True)
class SignedIn:
    """Credentials accepted.

    Attributes:
        user: The account.
        token: The new session's token, for the cookie.
    """

    user: CurrentUser
    token: str


@dataclass(frozen=True)
class WrongCredentials:
    """Unknown account, wrong password or deactivated account (the page never says which)."""

    message_fr: str = "Identifiant ou mot de passe incorrect."


@dataclass(frozen=True)
class Throttled:
    """Too many failures: refused without checking the password.

    Attributes:
        refusal: Which counter refused, and for how long.
    """

    refusal: throttle.Refusal


def typed_name(username: str) -> str:
    """The username as typed, made safe for the audit log's actor column (printable, bounded)."""
    cleaned = "".join(ch for ch in throttle.account_key(username) if ch.isprintable())
    return cleaned[:MAX_ACTOR_CHARS] or "(vide)"


def sign_in(store: Store, username: str, password: str, address: str, web: WebSettings, *,
            previous_token: str | None = None) -> SignedIn | WrongCredentials | Throttled:
    """Check credentials unless the account name or the address is throttled; open a session on success.

    Args:
        store: The database.
        username: As typed.
        password: As typed.
        address: Client address.
        web: Throttling thresholds and session lifetimes.
        previous_token: The session this browser had, ended when a new one opens.

    Returns:
        The outcome; every one is audited with the typed username and the address.
    """
    actor = typed_name(username)
    with store.session() as s:
        refusal = throttle.check(s, username, address, web)
        if refusal is not None:
            s.add(AuditRow(actor=actor, action="login_throttled", detail=f"address {address}; "
                           f"{refusal.scope.value} counter; retry after {refusal.retry_after_s} s"))
            logger.info("login throttled (%s counter)", refusal.scope.value)
            return Throttled(refusal)
        row = authenticate(s, username, password)
        if row is None:
            failure = throttle.record_failure(s, username, address, web)
            s.add(AuditRow(actor=actor, action="login_failed",
                           detail=f"address {address}; consecutive failures {failure.failures}"))
            for scope in failure.newly_locked:
                s.add(AuditRow(actor=actor, action="login_locked",
                               detail=f"address {address}; {scope.value} locked {web.login_lockout_s} s"))
            logger.info("login failed%s", " (lock set)" if failure.newly_locked else "")
            return WrongCredentials()
        throttle.clear_account(s, row.username)
        if previous_token:
            revoke(s, previous_token)
        token = open_session(s, row.id, address, web)
        s.add(AuditRow(actor=row.username, action="login", detail=f"address {address}"))
        return SignedIn(CurrentUser(row.id, row.username, Role(row.role), row.carrier_id), token)


def sign_out(store: Store, token: str | None, user: CurrentUser | None, address: str) -> None:
    """End the session of ``token`` (and audit it when it was a signed-in user's)."""
    with store.session() as s:
        if token:
            revoke(s, token)
        if user is not None:
            s.add(AuditRow(actor=user.username, action="logout", detail=f"address {address}"))
