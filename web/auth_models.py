"""Tables of the desk's sign-in: server-side sessions and failed sign-in counters (issue 17).

Declared on the pipeline's ``Base`` like :mod:`web.models` (which imports this module, so every
web table is registered wherever ``web.models`` is); created by migration ``0004_web_sessions``.

* ``web_sessions``: one row per signed-in browser. The cookie holds a random token; the table
  holds only its SHA-256, so a copy of the database opens no session. A session is valid while
  not revoked (logout, password change or reset, account deactivated), used within the idle
  timeout and younger than the absolute lifetime (:mod:`web.sessions`).
* ``login_throttle``: consecutive failed sign-ins per account name and per client address, with
  the lock end (:mod:`web.throttle`). The key of an account is the name as typed (folded), known
  or not, so the throttle says nothing about which accounts exist.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store import Base, utcnow


class WebSessionRow(Base):
    """A signed-in browser's session."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    address: Mapped[str] = mapped_column(String(64), default="")


class LoginThrottleRow(Base):
    """Consecutive failed sign-ins of one account name or one client address."""

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_login_throttle_scope_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # "account" or "address"
    key: Mapped[str] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
