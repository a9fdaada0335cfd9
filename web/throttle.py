"""Failed sign-ins: a growing delay, then a lockout, per account name and per client address (issue 17).

Thirty wrong passwords in a row used to be neither slowed nor locked. Now each failure is counted
twice, under the account name as typed (known or not: the answer never tells which accounts
exist) and under the client address. Past ``free`` failures every next attempt must wait
``base · 2^(failures − free)`` seconds (capped) after the last failure, and ``lockout``
failures lock for ``WebSettings.login_lockout_s``: an attempt that comes too early is refused
without its password being checked, so it teaches an attacker nothing and costs no hash. The
account counter is cleared by a successful sign-in or an admin's password reset; both counters
forget failures older than ``WebSettings.login_failure_window_s``.

Parallel attempts may each pass the delay before the first failure is recorded; the lockout,
counted in the database with ``failures + 1``, still bounds the guesses to about
``lockout`` plus the attacker's concurrency per lock period.

Thresholds and their sources: :class:`web.settings.WebSettings`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.store import utcnow
from web.auth_models import LoginThrottleRow
from web.sessions import aware
from web.settings import WebSettings

now = utcnow
"""The clock (a module attribute so that tests can move time instead of sleeping)."""
MAX_KEY_CHARS = 100


class Scope(StrEnum):
    """What a counter counts."""

    ACCOUNT = "account"
    ADDRESS = "address"


@dataclass(frozen=True)
class Refusal:
    """An attempt refused before its password was checked.

    Attributes:
        scope: The counter that refused it (the account's or the address's).
        retry_after_s: Seconds to wait (the ``Retry-After`` header).
        locked: Whether a lockout refused it, rather than the growing delay.
    """

    scope: Scope
    retry_after_s: int
    locked: bool

    @property
    def message_fr(self) -> str:
        """What the sign-in page says."""
        wait = f"{math.ceil(self.retry_after_s / 60)} min" if self.retry_after_s >= 120 else f"{self.retry_after_s} s"
        if self.locked:
            return (f"Trop d'échecs de connexion : accès verrouillé pendant {wait}. Réessayer ensuite, "
                    "ou demander à un administrateur de réinitialiser le mot de passe.")
        return f"Trop de tentatives de connexion : réessayer dans {wait}."


def account_key(username: str) -> str:
    """The counter key of an account name as typed (folded like :func:`web.accounts.authenticate` does)."""
    return username.strip().lower()[:MAX_KEY_CHARS]


def _limits(scope: Scope, web: WebSettings) -> tuple[int, int]:
    if scope is Scope.ACCOUNT:
        return web.login_free_failures, web.login_lockout_failures
    return web.address_free_failures, web.address_lockout_failures


def delay_s(failures: int, free: int, web: WebSettings) -> float:
    """Seconds an attempt must wait after the last of ``failures`` consecutive failures.

    Example:
        With 3 free failures and a 2 s base: 0 s after 1 or 2 failures, 2 s after 3, 4 s after 4, 8 s after 5.
    """
    if failures < free:
        return 0.0
    return min(web.login_delay_max_s, web.login_delay_base_s * 2.0 ** (failures - free))


def _counters(s: Session, keys: dict[Scope, str]) -> dict[Scope, LoginThrottleRow]:
    found: dict[Scope, LoginThrottleRow] = {}
    for scope, key in keys.items():
        row = s.scalar(select(LoginThrottleRow).where(LoginThrottleRow.scope == scope.value,
                                                      LoginThrottleRow.key == key))
        if row is not None:
            found[scope] = row
    return found


def _fresh(row: LoginThrottleRow, moment: datetime, web: WebSettings) -> bool:
    return moment - aware(row.last_failure_at) <= timedelta(seconds=web.login_failure_window_s)


def check(s: Session, username: str, address: str, web: WebSettings) -> Refusal | None:
    """Whether an attempt may have its password checked now.

    Returns:
        ``None`` when it may, else the refusal with the time left.
    """
    moment = now()
    for scope, row in _counters(s, {Scope.ACCOUNT: account_key(username), Scope.ADDRESS: address}).items():
        if not _fresh(row, moment, web):
            continue
        if row.locked_until is not None and moment < aware(row.locked_until):
            return Refusal(scope, max(1, math.ceil((aware(row.locked_until) - moment).total_seconds())), True)
        free, _ = _limits(scope, web)
        ready = aware(row.last_failure_at) + timedelta(seconds=delay_s(row.failures, free, web))
        if moment < ready:
            return Refusal(scope, max(1, math.ceil((ready - moment).total_seconds())), False)
    return None


def _counter(s: Session, scope: Scope, key: str) -> LoginThrottleRow:
    row = _counters(s, {scope: key}).get(scope)
    if row is not None:
        return row
    try:
        with s.begin_nested():  # two first failures at once: one insert wins, the other reads it
            s.add(LoginThrottleRow(scope=scope.value, key=key, failures=0, last_failure_at=now()))
    except IntegrityError:
        pass
    return _counters(s, {scope: key})[scope]


@dataclass(frozen=True)
class Failure:
    """A failure as counted.

    Attributes:
        failures: Consecutive failures of the account name, this one included.
        newly_locked: The counters this failure locked.
    """

    failures: int
    newly_locked: tuple[Scope, ...]


def record_failure(s: Session, username: str, address: str, web: WebSettings) -> Failure:
    """Count a failed attempt under the account name and the address; lock the ones past their limit.

    Also forgets the counters whose last failure left the window (bounded table).
    """
    moment = now()
    s.execute(delete(LoginThrottleRow).where(
        LoginThrottleRow.last_failure_at < moment - timedelta(seconds=web.login_failure_window_s)))
    locked: list[Scope] = []
    account_failures = 0
    for scope, key in ((Scope.ACCOUNT, account_key(username)), (Scope.ADDRESS, address[:MAX_KEY_CHARS])):
        row = _counter(s, scope, key)
        if _fresh(row, moment, web):  # counted by the database: concurrent failures all count
            s.execute(update(LoginThrottleRow).where(LoginThrottleRow.id == row.id)
                      .values(failures=LoginThrottleRow.failures + 1, last_failure_at=moment))
            s.refresh(row)
        else:
            row.failures, row.last_failure_at, row.locked_until = 1, moment, None
        _, lockout = _limits(scope, web)
        if row.failures >= lockout:
            row.locked_until = moment + timedelta(seconds=web.login_lockout_s)
            locked.append(scope)
        if scope is Scope.ACCOUNT:
            account_failures = row.failures
    return Failure(account_failures, tuple(locked))


def clear_account(s: Session, username: str) -> None:
    """Forget an account's failures (a successful sign-in, an admin's password reset)."""
    s.execute(delete(LoginThrottleRow).where(LoginThrottleRow.scope == Scope.ACCOUNT.value,
                                             LoginThrottleRow.key == account_key(username)))
