"""Settings of the web page only (``CLAS_WEB_`` prefix); product settings stay in ``pipeline.settings``.

Kept apart because ``pipeline/`` imports no web code. The key that signs session cookies is
resolved by :func:`web.secret.session_signing_key`: derived from ``CLAS_SECRET_KEY`` when one is
set (a known or short one is refused in every mode), else a random key generated at first start
in an owner-only file beside the data folder (``var/web-session.key``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    """Options of the review desk.

    Attributes:
        host: Interface uvicorn listens on; loopback by default (put a TLS proxy in front).
        port: TCP port.
        cookie_secure: Send the session cookie over HTTPS only in development too. Outside
            development (``CLAS_ENVIRONMENT`` other than ``development``) the cookie is always
            ``Secure``, whatever this says.
        secret_key_file: Where the generated session key is kept; ``None``: ``web-session.key``
            in the parent of the data folder (``var/`` by default). Owner-only (0600).
        session_max_age_s: Absolute session lifetime: 8 h, one working day (OWASP Session
            Management Cheat Sheet: absolute timeouts of a few hours for internal applications;
            NIST SP 800-63B-4 §2.2.3 allows at most 24 h at AAL2).
        session_idle_timeout_s: A session unused this long ends: 30 min (NIST SP 800-63B §4.2.3,
            AAL2: reauthenticate after no more than 30 minutes of inactivity; OWASP: 15-30 min).
        session_touch_interval_s: A session's last use is written at most this often (bounds the
            database writes of a busy desk; the idle timeout is exact to within this much).
        login_free_failures: Consecutive failed sign-ins on one account allowed without delay
            (typing errors). After that each attempt waits a growing delay.
        login_delay_base_s: Delay after the first failure beyond the free ones, doubled at each
            next failure (CNIL délibération n° 2022-100 on passwords: restrict access after failures
            by a "temporisation" of the account; ANSSI's 2021 password guide likewise advises slowing
            repeated attempts). 2 s, 4 s, 8 s… costs a person nothing and a guesser hours.
        login_delay_max_s: Ceiling of that delay.
        login_lockout_failures: Consecutive failures that lock an account for ``login_lockout_s``
            (CNIL délibération n° 2022-100: block after at most 10 failed attempts; NIST SP 800-63B
            §5.2.2: no more than 100 consecutive failures per account).
        login_lockout_s: How long a locked account refuses any password (15 min); an admin's
            password reset ends it at once.
        address_free_failures: Failed sign-ins from one client address, whatever the account,
            allowed without delay. Higher than the account's: a city office shares one address.
        address_lockout_failures: Failures from one address that lock that address.
        login_failure_window_s: A failure older than this no longer counts (24 h of quiet resets
            the counters; a success resets the account's at once).
        password_min_length: ANSSI recommends at least 12 characters for passwords protecting personal
            data (Recommandations relatives à l'authentification multifacteur et aux mots de passe,
            2021, R22; CNIL délibération n° 2022-100 asks 12 or more too).
        password_max_length: Longest password accepted: NIST SP 800-63B §5.1.1.2 asks for at least
            64; 128 bounds the strength estimate's and the hash's work.
        password_min_score: Least zxcvbn score (0-4) accepted: 3, "safely unguessable" (under 10^10
            guesses), zxcvbn's own advice for protecting accounts. zxcvbn checks its lists of common
            passwords, words and names, repeats, sequences, keyboard patterns, and the username
            (NIST SP 800-63B §5.1.1.2: refuse values from lists of commonly-used or compromised
            passwords, repetitive or sequential characters, and context-specific words).
        page_dpi: Resolution at which form pages are shown (pixels per inch).
        crop_dpi: Resolution of field crops: 150 dpi keeps handwriting legible at 1:1.
        image_cache_forms: How many forms' page images are kept in memory (bounded cache).
        followup_undo_s: Seconds during which a carrier's « Inscrit(e) » or « Refus » can be undone;
            a refusal frees its place only once this has passed (issue 17: "an undo within a day").
    """

    model_config = SettingsConfigDict(env_prefix="CLAS_WEB_", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    cookie_secure: bool = False
    secret_key_file: Path | None = None
    session_max_age_s: int = 8 * 3600
    session_idle_timeout_s: int = 30 * 60
    session_touch_interval_s: int = 60
    login_free_failures: int = 3
    login_delay_base_s: float = 2.0
    login_delay_max_s: float = 60.0
    login_lockout_failures: int = 10
    login_lockout_s: int = 15 * 60
    address_free_failures: int = 10
    address_lockout_failures: int = 50
    login_failure_window_s: int = 24 * 3600
    password_min_length: int = 12
    password_max_length: int = 128
    password_min_score: int = 3
    page_dpi: int = 100
    crop_dpi: int = 150
    image_cache_forms: int = 8
    followup_undo_s: int = 24 * 3600

    @property
    def followup_undo(self) -> timedelta:
        """``followup_undo_s`` as a duration."""
        return timedelta(seconds=self.followup_undo_s)
