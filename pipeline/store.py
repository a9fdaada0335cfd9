"""The store: SQLAlchemy models and the few operations the pipeline needs.

SQLite by default, PostgreSQL by URL (``CLAS_DATABASE_URL``). Every document's
outcome is written in one transaction (receipt, document, field results,
referral, review item, audit entries), so a crash leaves either all of it or none.
Places used by a carrier are derived from its routed referrals, never stored.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from pipeline.errors import ClasError
from pipeline.settings import DatabaseSettings
from schemas.document import Outcome, ReceivedDocument

REFERRAL_DECLINED = "declined"
"""``referrals.status`` of a referral its carrier declined (:meth:`Store.decline_referral`): no longer counted
by :meth:`Store.places_used`, waiting for staff to re-orient it. Not a document outcome: the
documents keep ``routed``, so a run's accounting is unchanged."""

REFERRAL_WITHDRAWN = "withdrawn"
"""``referrals.status`` of an enrolled pupil who left the support during the year, as the carrier recorded
(``web.carrier_queue.withdraw_enrolled``, issue 20): no longer counted by :meth:`Store.places_used`, so the place
goes to the next referral. The follow-up keeps ``enrolled`` (the pupil was enrolled)."""

RUN_LOCK_KEY = 0x434C4153  # "CLAS": the advisory-lock key of a run (any 64-bit number no one else uses)
PLACES_LOCK_KEY = 0x434C4150  # "CLAP": the transaction-level advisory-lock key of a decision that uses places


class RunAlreadyActiveError(ClasError):
    """Another run (folder or mailbox) is processing documents on this database right now."""

    code: ClassVar[str] = "run_already_active"
    default_reason_fr: ClassVar[str] = (
        "Une autre exécution est déjà en cours sur cette base : celle-ci s'arrête sans rien traiter. "
        "Relancer après la fin de l'autre exécution (les fichiers restent dans le dossier de réception)."
    )


class DatabaseLockedError(ClasError):
    """Another connection held a lock past the bounded wait (``CLAS_DATABASE__BUSY_TIMEOUT_S``); nothing of the
    current transaction was written and the run stops.

    Attributes:
        waited_s: The bound that was reached, in seconds.
    """

    code: ClassVar[str] = "database_locked"

    def __init__(self, waited_s: float) -> None:
        """Create the error for a wait of ``waited_s`` seconds (English message for logs, French for staff)."""
        super().__init__(
            f"the database stayed locked by another connection for more than {waited_s:g} s "
            "(CLAS_DATABASE__BUSY_TIMEOUT_S); the transaction was rolled back, nothing half-written",
            reason_fr=(f"La base de données est restée verrouillée plus de {waited_s:g} s par un autre programme "
                       "(une sauvegarde ?) : l'exécution s'est arrêtée proprement, sans rien enregistrer à moitié ; "
                       "les fichiers non traités seront repris à la prochaine exécution. Si cela se répète, "
                       "décaler la sauvegarde ou allonger CLAS_DATABASE__BUSY_TIMEOUT_S."))
        self.waited_s = waited_s


_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_PG_LOCK_NOT_AVAILABLE = "55P03"


def is_lock_timeout(exc: OperationalError) -> bool:
    """Whether a database error is a lock not obtained in time (SQLite ``SQLITE_BUSY``/``SQLITE_LOCKED``,
    PostgreSQL ``lock_not_available``), as opposed to a connection fault."""
    orig = exc.orig
    if getattr(orig, "sqlite_errorcode", None) in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return True
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    return "database is locked" in str(orig) or "database table is locked" in str(orig)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


class RunStatus(StrEnum):
    """Where a run stands (``runs.status``)."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    """Stopped by an error it recorded (``end_reason``); its files are taken again by the next run."""
    CRASHED = "crashed"
    """Ended without recording its end (killed, machine stopped); marked so by the next run (issue 17)."""


class RunRow(Base):
    """One run of the pipeline over a source."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=RunStatus.RUNNING.value,
                                        server_default=RunStatus.FINISHED.value)
    """A :class:`RunStatus` value (rows older than migration 0003 read ``finished``)."""
    end_reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    """Why a failed or crashed run ended, in French (no personal data)."""


class FormSerialRow(Base):
    """The last serial number allocated to printed forms of a series (``FO-<series>-<number>``), so that every
    print batch gets new serials, for ever (issue 17: each call restarted at 1)."""

    __tablename__ = "form_serials"
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class InterruptedRun:
    """A run found unfinished when the next one starts (see :meth:`Store.close_interrupted_runs`).

    Attributes:
        run_id: Its row.
        source: What it was reading (a folder or a mailbox, no personal data).
        started_at: When it started.
    """

    run_id: int
    source: str
    started_at: datetime


class DocumentRow(Base):
    """A distinct file content (by SHA-256) and where it ended."""

    __tablename__ = "documents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str] = mapped_column(String(500))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(String(1000))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(30), index=True)
    form_id: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class ReceiptRow(Base):
    """One reception of a file: the same content received twice gives two receipts, one document."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("source", "original_name", "sha256", name="uq_receipt"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"), index=True)
    source: Mapped[str] = mapped_column(String(500))
    original_name: Mapped[str] = mapped_column(String(500))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(30))


class FieldResultRow(Base):
    """One extracted field of a document (value, confidence, source, zone), and its evidence.

    ``evidence`` is ``{"readings": [{"reader", "value", "score"}, ...], "rules": [name, ...]}``: what each
    reader read before any rule, and the rules that changed, held or vouched for the value
    (``ExtractedField.readings`` and ``.rules``; :data:`pipeline.reading.rules.FIELD_RULES`). Personal data
    like the value: erased with it (``pipeline.privacy``).
    """

    __tablename__ = "field_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    confidence: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    page: Mapped[int] = mapped_column(Integer)
    zone: Mapped[dict[str, float]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class FieldVerificationRow(Base):
    """A field a person verified or corrected on the desk, kept to calibrate the readers (issue 18).

    ``readings`` is the field's evidence as the readers left it (``[{"reader", "value", "score"}, ...]``, the
    constrained reading among them), ``machine_value`` and ``machine_confidence`` what the pipeline decided,
    ``final_value`` what the person approved; ``crop`` is the field's crop's path under the data folder
    (``crops/<form_id>/p<page>/<field>.png``, ``pipeline.reading.crops.crop_path``). Personal data like the
    value: in the owner-only store, erased with its form
    (``pipeline.privacy``), never logged. ``clas-referrals calibrate`` reads them
    (``pipeline.reading.calibration``).
    """

    __tablename__ = "field_verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(50), index=True)
    name: Mapped[str] = mapped_column(String(100))
    crop: Mapped[str] = mapped_column(String(200))
    readings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    machine_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    machine_confidence: Mapped[float] = mapped_column(Float)
    final_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReferralRow(Base):
    """A validated referral and where it went."""

    __tablename__ = "referrals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(50), unique=True)
    school_year: Mapped[str] = mapped_column(String(9), index=True)
    pupil_key: Mapped[str] = mapped_column(String(64), index=True)
    school_id: Mapped[str] = mapped_column(String(50))
    class_level: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(30), index=True)
    carrier_id: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReviewItemRow(Base):
    """A document waiting for a person, with the reasons in French."""

    __tablename__ = "review_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    form_id: Mapped[str] = mapped_column(String(50), unique=True)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    min_confidence: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditRow(Base):
    """Audit trail of state changes: who, when, what (no personal data in ``detail``)."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class RetentionCountRow(Base):
    """Anonymous counts kept when retention deletes referrals and documents (no identifier at all)."""

    __tablename__ = "retention_counts"
    __table_args__ = (UniqueConstraint("school_year", "category", name="uq_retention_count"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    school_year: Mapped[str] = mapped_column(String(9))
    category: Mapped[str] = mapped_column(String(50))
    """``referral_<status>`` or ``document_<status>``."""
    count: Mapped[int] = mapped_column(Integer, default=0)


def make_engine(url: str, busy_timeout_s: float = DatabaseSettings().busy_timeout_s) -> Engine:
    """Create the engine; for SQLite, create the file's folder and keep it owner-only.

    Args:
        url: SQLAlchemy database URL.
        busy_timeout_s: Longest wait for another connection's lock, in seconds (SQLite's ``busy_timeout``,
            PostgreSQL's ``lock_timeout``; ``DatabaseSettings.busy_timeout_s``).

    Raises:
        sqlalchemy.exc.ArgumentError: The URL is malformed.
        DatabaseLockedError: Another connection held a lock past ``busy_timeout_s`` while missing tables
            were created.
    """
    timeout_ms = max(1, round(busy_timeout_s * 1000))
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        connect_args["options"] = f"-c lock_timeout={timeout_ms}"
    # Parameters never appear in errors or logs: they hold names and file names (issue 17).
    engine = create_engine(url, future=True, hide_parameters=True, connect_args=connect_args)
    if engine.dialect.name == "sqlite":

        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # SQLite's busy handler retries a held lock until this bound, then the statement fails.
            cursor.execute(f"PRAGMA busy_timeout={timeout_ms}")
            cursor.close()

        event.listen(engine, "connect", _sqlite_pragmas)
        db_path = engine.url.database
        if db_path and db_path != ":memory:":
            path = Path(db_path)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600, exist_ok=True)
            os.chmod(path, 0o600)
    try:
        Base.metadata.create_all(engine)
    except OperationalError as exc:
        engine.dispose()
        if is_lock_timeout(exc):
            raise DatabaseLockedError(busy_timeout_s) from None
        raise
    return engine


def migrate(url: str, revision: str = "head") -> None:
    """Bring the database's schema to ``revision`` through the Alembic migrations (``migrations/``).

    Schema changes go through migrations; ``Store`` still creates missing tables on
    a fresh database so that tests and the demo need no step. Tables are declared in
    ``pipeline.store``, ``pipeline.intake.mail_store`` and ``web.models``.

    Raises:
        alembic.util.exc.CommandError: Unknown revision or broken migration chain.
    """
    from alembic import command
    from alembic.config import Config

    from pipeline.settings import PROJECT_DIR

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


class Store:
    """Operations on the database used by the pipeline and the flow.

    Args:
        url: SQLAlchemy database URL.
        busy_timeout_s: Longest wait for another connection's lock, in seconds (see :func:`make_engine`).
    """

    def __init__(self, url: str, busy_timeout_s: float = DatabaseSettings().busy_timeout_s) -> None:
        self.busy_timeout_s = busy_timeout_s
        self.engine = make_engine(url, busy_timeout_s)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        Raises:
            DatabaseLockedError: Another connection held a lock past ``busy_timeout_s`` (rolled back).
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except OperationalError as exc:
            if is_lock_timeout(exc):
                raise DatabaseLockedError(self.busy_timeout_s) from None
            raise

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # --- runs -------------------------------------------------------------------
    @contextmanager
    def exclusive_run(self) -> Iterator[None]:
        """Hold the database's run lock for the block: two runs never process documents at once.

        PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a connection
        kept open for the run. SQLite: an exclusive ``flock`` on ``<database>.lock`` beside
        the file. Both are released by the operating system or the server when the process
        dies, even by SIGKILL, so a crashed run never blocks the next one.

        Raises:
            RunAlreadyActiveError: Another run holds the lock (this one must stop, processing nothing).
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as conn:
                got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY}).scalar()
                conn.commit()
                if not got:
                    raise RunAlreadyActiveError("another run holds the PostgreSQL advisory lock")
                try:
                    yield
                finally:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY})
                    conn.commit()
            return
        db_path = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not db_path or db_path == ":memory:":
            yield  # an in-memory database belongs to this process alone
            return
        lock_path = Path(f"{db_path}.lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RunAlreadyActiveError("another run holds the SQLite lock file") from None
            yield
        finally:
            os.close(fd)  # closing releases the flock

    def start_run(self, source: str) -> int:
        """Record a run's start; returns its id."""
        with self.session() as s:
            run = RunRow(source=source, status=RunStatus.RUNNING.value)
            s.add(run)
            s.flush()
            return run.id

    def finish_run(self, run_id: int, counts: Mapping[str, object]) -> None:
        """Record a run's end and its accounting."""
        with self.session() as s:
            run = s.get_one(RunRow, run_id)
            run.finished_at = utcnow()
            run.counts = dict(counts)
            run.status = RunStatus.FINISHED.value

    def fail_run(self, run_id: int, reason_fr: str) -> None:
        """Record that a run stopped on an error (``reason_fr``: French, no personal data)."""
        with self.session() as s:
            run = s.get_one(RunRow, run_id)
            run.finished_at, run.status, run.end_reason = utcnow(), RunStatus.FAILED.value, reason_fr[:1000]

    def close_interrupted_runs(self, reason_fr: str) -> list[InterruptedRun]:
        """Mark ``crashed`` every run that never recorded its end, and return them.

        Call it only under :meth:`exclusive_run`: no other run is active then, so an unfinished
        row is one whose process died (SIGKILL, power cut) before it could say so.
        """
        with self.session() as s:
            rows = s.scalars(select(RunRow).where(RunRow.finished_at.is_(None)).order_by(RunRow.id)).all()
            now = utcnow()
            for run in rows:
                run.finished_at, run.status, run.end_reason = now, RunStatus.CRASHED.value, reason_fr[:1000]
            return [InterruptedRun(r.id, r.source, r.started_at) for r in rows]

    # --- printed form serials -----------------------------------------------------
    def allocate_form_serials(self, series: str, count: int, highest_used: Callable[[Sequence[str]], int]
                              ) -> range:
        """Allocate ``count`` new serial numbers of ``series``, never given before (one transaction).

        The counter starts above the highest number already received for the series (forms printed
        before serials were kept), which ``highest_used`` reads from the recorded form ids.

        Args:
            series: The series, e.g. ``"2026"``.
            count: How many numbers (at least 1).
            highest_used: Recorded form ids → the highest number of the series among them (0 if none).

        Returns:
            The numbers, consecutive.

        Raises:
            ValueError: ``count`` is below 1.
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        for _attempt in range(3):
            try:
                with self.session() as s:
                    # Write first: the row is locked before it is read, so two allocations never overlap.
                    last = s.execute(update(FormSerialRow).where(FormSerialRow.series == series)
                                     .values(last_number=FormSerialRow.last_number + count)
                                     .returning(FormSerialRow.last_number)).scalar_one_or_none()
                    if last is None:
                        ids = s.scalars(select(DocumentRow.form_id).where(DocumentRow.form_id.is_not(None))).all()
                        last = highest_used([i for i in ids if i]) + count
                        s.add(FormSerialRow(series=series, last_number=last))
                        s.flush()
                    return range(last - count + 1, last + 1)
            except IntegrityError:
                continue  # another allocation created the series' row first: take from it
        raise RuntimeError(f"could not allocate form serials of series {series}")

    # --- lookups ----------------------------------------------------------------
    def already_received(self, source: str, original_name: str, sha256: str) -> bool:
        """Whether this exact file (same source, name and content) was processed by an earlier run."""
        with self.session() as s:
            return s.scalar(select(ReceiptRow.id).where(
                ReceiptRow.source == source, ReceiptRow.original_name == original_name,
                ReceiptRow.sha256 == sha256)) is not None

    def document_status(self, sha256: str) -> str | None:
        """Outcome recorded for a content, or ``None`` if never seen."""
        with self.session() as s:
            return s.scalar(select(DocumentRow.status).where(DocumentRow.sha256 == sha256))

    def places_used(self, school_year: str | None = None) -> dict[str, int]:
        """Carrier id → referrals routed to it, over all runs (of ``school_year`` when given), in a session of its own.

        Inside a transaction, use :meth:`count_places` on that transaction's session: a caller
        that holds a pooled connection and asks for a second one deadlocks the pool once as many
        callers do so at once as the pool has connections (the desk's load test saw it, issue 17).
        """
        with self.session() as s:
            return self.count_places(s, school_year)

    @staticmethod
    def count_places(s: Session, school_year: str | None = None) -> dict[str, int]:
        """Carrier id → referrals routed to it (of ``school_year`` when given), read in the caller's session."""
        query = select(ReferralRow.carrier_id, func.count()).where(
            ReferralRow.status == Outcome.ROUTED.value, ReferralRow.carrier_id.is_not(None))
        if school_year is not None:
            query = query.where(ReferralRow.school_year == school_year)
        rows = s.execute(query.group_by(ReferralRow.carrier_id)).all()
        return {str(carrier): int(n) for carrier, n in rows}

    @staticmethod
    def lock_places(s: Session) -> None:
        """Hold, until the caller's transaction ends, the lock of decisions that use places or decide a form.

        Two reviewers approving at once each count a carrier's places, then route: without the
        lock both may take its last place. Every decision on a form or a referral takes it before reading what it
        decides on (the nightly run, the desk's approve, set aside, duplicate, consent claim and place given, a
        carrier's outcome, undo, withdrawal and settled refusal): SQLite ignores row locks (``with_for_update``),
        and an attack (2026-12-07) had a place given beside an approval take a carrier past its places, a set
        aside overwrite an approval, and a carrier record both « inscrit » and « refus ».
        PostgreSQL: ``pg_advisory_xact_lock`` on ``PLACES_LOCK_KEY``. SQLite: a write that changes nothing, so the
        transaction holds the database's write lock from here (SQLite serialises writers; a plain read would not).
        Waits up to ``DatabaseSettings.busy_timeout_s``.

        Raises:
            sqlalchemy.exc.OperationalError: The wait ran out (:meth:`session` turns it into
                :class:`DatabaseLockedError`).
        """
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PLACES_LOCK_KEY})
        else:
            s.execute(text(f"UPDATE {ReferralRow.__tablename__} SET id = id WHERE 0"))

    @staticmethod
    def decline_referral(s: Session, referral_id: int, carrier_id: str) -> bool:
        """Mark a routed referral declined by its carrier (the family or the carrier said no): its place is freed.

        :meth:`places_used` counts ``routed`` referrals only, so a ``declined`` one stops
        counting and the carrier's place goes back to the next referral; the review desk
        lists declined referrals for staff to re-orient. The carrier id stays on the row (who
        declined). Works in the caller's session, so the change commits with the caller's
        own records (the carrier's follow-up, the audit entry) or not at all.

        Args:
            s: The caller's session.
            referral_id: The referral's row id.
            carrier_id: The carrier declining it; a referral routed elsewhere is left alone.

        Returns:
            Whether the referral was routed to that carrier and is now declined.
        """
        result = s.execute(update(ReferralRow).where(
            ReferralRow.id == referral_id, ReferralRow.carrier_id == carrier_id,
            ReferralRow.status == Outcome.ROUTED.value).values(status=REFERRAL_DECLINED))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    def earlier_referral(s: Session, pupil_key: str, school_year: str) -> str | None:
        """Form serial of an earlier referral of the same pupil this school year, if any, read in the caller's
        session."""
        return s.scalar(select(ReferralRow.form_id).where(
            ReferralRow.pupil_key == pupil_key, ReferralRow.school_year == school_year).limit(1))

    # --- writing ----------------------------------------------------------------
    def record_duplicate(self, run_id: int, doc: ReceivedDocument) -> None:
        """Record a second reception of a content already held (one transaction)."""
        with self.session() as s:
            s.add(ReceiptRow(run_id=run_id, sha256=doc.sha256, source=doc.source,
                             original_name=doc.original_name, received_at=doc.received_at,
                             outcome=Outcome.DUPLICATE.value))
            s.add(AuditRow(actor="pipeline", action="duplicate_received", sha256=doc.sha256,
                           detail=f"run {run_id}"))

    def _add_document(self, s: Session, run_id: int, doc: ReceivedDocument, outcome: Outcome,
                      reasons_json: list[dict[str, Any]], form_id: str | None) -> None:
        s.add(DocumentRow(sha256=doc.sha256, source=doc.source, original_name=doc.original_name,
                          media_type=doc.media_type.value, size_bytes=doc.size_bytes,
                          stored_path=str(doc.stored_path), received_at=doc.received_at,
                          status=outcome.value, form_id=form_id, reasons=reasons_json))
        s.flush()
        s.add(ReceiptRow(run_id=run_id, sha256=doc.sha256, source=doc.source, original_name=doc.original_name,
                         received_at=doc.received_at, outcome=outcome.value))
        codes = ",".join(sorted({str(r["code"]) for r in reasons_json})) or "-"
        s.add(AuditRow(actor="pipeline", action=f"document_{outcome.value}", sha256=doc.sha256,
                       detail=f"run {run_id}; form {form_id or '-'}; reasons: {codes}"))

    def add_duplicate_form(self, s: Session, run_id: int, doc: ReceivedDocument, form_id: str) -> None:
        """Record, in the caller's session, a new file carrying a form serial an earlier run already recorded."""
        reasons = [{"field": None, "code": "form_already_received",
                    "message_fr": f"Fiche {form_id} déjà reçue lors d'un envoi précédent : non traitée à nouveau."}]
        self._add_document(s, run_id, doc, Outcome.DUPLICATE, reasons, form_id)

    def record_quarantine(self, run_id: int, doc: ReceivedDocument, reasons: Sequence[Mapping[str, Any]]) -> None:
        """Record a document that could not be read as a form (one transaction)."""
        with self.session() as s:
            self._add_document(s, run_id, doc, Outcome.QUARANTINED, json.loads(json.dumps(list(reasons))), None)

    def add_form(
        self,
        s: Session,
        run_id: int,
        docs: Sequence[ReceivedDocument],
        form_id: str,
        outcome: Outcome,
        reasons: Sequence[Mapping[str, Any]],
        *,
        fields: Sequence[Mapping[str, Any]] = (),
        referral: Mapping[str, Any] | None = None,
        min_confidence: float = 1.0,
    ) -> None:
        """Write a form's whole outcome, for every document that carried its pages, in the caller's session (the
        run decides the form and records it in one transaction, under :meth:`lock_places`).

        Args:
            s: The caller's session.
            run_id: The current run.
            docs: The documents holding the form's pages (usually one).
            form_id: The form serial.
            outcome: Where the form (and so each of its documents) ends.
            reasons: ``{"field", "code", "message_fr"}`` items explaining review or waiting list.
            fields: Extracted fields as ``ExtractedField.model_dump(mode="json")``.
            referral: For a validated referral: ``pupil_key``, ``school_year``, ``school_id``,
                ``class_level``, ``carrier_id`` (or ``None``) and ``data`` (JSON-able).
            min_confidence: Lowest field confidence, to order the review list.
        """
        reasons_json = json.loads(json.dumps(list(reasons)))
        for doc in docs:
            self._add_document(s, run_id, doc, outcome, reasons_json, form_id)
        for f in fields:
            s.add(FieldResultRow(form_id=form_id, name=f["name"], value=f["value"], confidence=f["confidence"],
                                 source=f["source"], page=f["page"], zone=f["zone"],
                                 evidence={"readings": f.get("readings", []), "rules": f.get("rules", [])}))
        if referral is not None:
            s.add(ReferralRow(form_id=form_id, status=outcome.value, pupil_key=referral["pupil_key"],
                              school_year=referral["school_year"], school_id=referral["school_id"],
                              class_level=referral["class_level"], carrier_id=referral.get("carrier_id"),
                              data=referral["data"]))
        if outcome is Outcome.REVIEW:
            s.add(ReviewItemRow(form_id=form_id, reasons=reasons_json, min_confidence=min_confidence))

    def field_verifications(self) -> list[dict[str, Any]]:
        """Every field staff verified or corrected (:class:`FieldVerificationRow`), as plain records
        (``name``, ``readings``, ``final_value``, ``corrected``) for ``pipeline.reading.calibration``."""
        with self.session() as s:
            return [{"name": r.name, "readings": r.readings, "final_value": r.final_value, "corrected": r.corrected}
                    for r in s.scalars(select(FieldVerificationRow))]

    @staticmethod
    def form_recorded(s: Session, form_id: str) -> bool:
        """Whether a form serial was already recorded by an earlier run, read in the caller's session."""
        return s.scalar(select(DocumentRow.sha256).where(DocumentRow.form_id == form_id).limit(1)) is not None
