"""Configuration: one pydantic-settings model, environment variables prefixed ``CLAS_``.

The sections of the reading and deciding stages live in ``pipeline.settings.reading`` and
``pipeline.settings.deciding``; the others, and the model itself, here.

Nested sections use ``__`` in variable names, e.g. ``CLAS_OMR__TICKED_MIN=0.2``.
Stages receive only the section they need; settings are frozen, nobody mutates
them in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.settings.deciding import StructureSettings
from pipeline.settings.reading import (
    IcrSettings,
    OcrSettings,
    OmrSettings,
    RegistrationSettings,
    ScanSettings,
    TextLayerSettings,
)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
PROJECT_DIR = PACKAGE_DIR.parent


class SmtpSettings(BaseModel):
    """The SMTP server that sends replies to schools (``CLAS_MAIL__SMTP__*``).

    Replies are off by default (``enabled``); see ``pipeline.intake.replies``.
    """

    model_config = ConfigDict(frozen=True)

    enabled: bool = False
    host: str = ""
    port: int | None = None
    """Defaults to 465 for ``tls``, 587 for ``starttls``, 25 for ``none``."""
    security: Literal["tls", "starttls", "none"] = "starttls"
    user: str = ""
    password: SecretStr = SecretStr("")
    ca_file: Path | None = None
    """Extra CA certificate (PEM) to trust, for a server with a private certificate."""
    sender: str = ""
    """The ``From`` address of replies, e.g. ``clas@ville-argenteuil.example``."""
    timeout_s: float = 30.0


class MailSettings(BaseModel):
    """The shared mailbox read by ``clas-referrals mail`` (``CLAS_MAIL__*``).

    ``source`` picks where messages come from: an IMAP mailbox (``imap``), a folder
    of ``.eml`` files (``eml``) or a Maildir (``maildir``), the last two at ``path``.
    Limits bound one run's memory and reject abuse; defaults are documented per field.
    """

    model_config = ConfigDict(frozen=True)

    source: Literal["imap", "eml", "maildir"] = "imap"
    path: Path | None = None
    """Folder of ``.eml`` files or Maildir, for ``eml`` and ``maildir`` sources."""
    host: str = ""
    port: int | None = None
    """Defaults to 993 for ``tls``, 143 for ``starttls`` and ``none``."""
    security: Literal["tls", "starttls", "none"] = "tls"
    """``none`` is accepted only for a loopback host (tests, a local bridge)."""
    user: str = ""
    password: SecretStr = SecretStr("")
    ca_file: Path | None = None
    """Extra CA certificate (PEM) to trust, for a server with a private certificate."""
    folder: str = "INBOX"
    processed_folder: str = "Traités"
    quarantine_folder: str = "Quarantaine"
    after: Literal["move", "flag"] = "move"
    """``move`` files each message in its folder; ``flag`` leaves it and sets a keyword."""
    timeout_s: float = 60.0
    """Socket timeout of one IMAP command, in seconds."""
    max_message_bytes: int = 25 * 1024 * 1024
    """Largest message read (25 MiB: the sending limit of the common webmails)."""
    max_attachments: int = 30
    """Most attachments in one message; beyond, the message is quarantined whole."""
    max_nesting: int = 5
    """Deepest chain of forwarded messages (``message/rfc822``) opened."""
    decoration_max_side_px: int = 600
    """An image whose longer side is under this many pixels cannot hold a readable A4
    page (A4 is 842 px long at 72 dpi) and is taken as a logo or decoration."""
    smtp: SmtpSettings = SmtpSettings()


class LimitSettings(BaseModel):
    """Bounds on the reading of one document (``CLAS_LIMITS__*``).

    Defaults: the slowest legitimate document measured (a two-page 300 dpi grey
    scan, all three Tesseract calls per page) reads in about 15 s on a 2-core
    machine, so 180 s leaves a wide margin while still ending a hung reader within
    a night's run. 3 GiB of address space covers the largest accepted image
    (``CLAS_SCAN__MAX_PIXELS`` = 60 Mpx, 60 MB grey + copies) and OpenCV's arenas.
    """

    model_config = ConfigDict(frozen=True)

    document_timeout_s: float = 180.0
    """Wall-clock seconds one document may take to read; 0 disables the worker process."""
    document_memory_mib: int = 3072
    """Address space of the reading worker in MiB (``RLIMIT_AS``); 0 for no memory limit."""
    documents_per_worker: int = Field(default=20, ge=1)
    """Documents a reading worker reads, one at a time, before it ends and the next document gets a new one
    (``pipeline.reading.limits.run_limited``). One worker per document cost each document the worker's cold start:
    40-120 ms (its first allocations, OpenCV's thread pool, first calls of the readers; issue 19, 2026-12-06,
    first against second reading of the same devset document in one worker). A worker keeps what it allocated
    until it ends, so the count stays small: the memory of its largest document is held for at most this many."""
    worker_keep_uss_mib: int = Field(default=160, ge=0)
    """A reading worker whose private memory (USS: what no other process shares, in MiB) is above this once it has
    read a document ends rather than read the next; 0 for no bound. A kept worker holds what its readers allocated
    (caches of the blank form at each resolution met, ONNX Runtime's arena, the heap's free blocks), and its private
    memory grew about 5 MiB a document: measured 2026-12-06 on 70 documents of the 1,000-form benchmark's inbox (2-core
    machine), 85-89 MiB after a first scanned page, 156-177 after a first fax or halftone fax, 160-220 after 19
    documents. With 20 documents a worker and no bound, the 1,000-form default run's peak PSS was 1,030 MiB (the
    document being read 528 MiB) against 926 MiB (454) at 8026320 with a worker per document (issue 19: ≤ 1 GB). At
    160, a worker reads about 10 documents before it ends."""
    worker_release_memory: bool = True
    """Whether a reading worker hands its heap's free memory back to the system after each document (glibc's
    ``malloc_trim``; ``pipeline.reading.limits.release_free_memory``), so that ``worker_keep_uss_mib`` measures what
    it keeps rather than what glibc keeps for it. Issue 19, measured 2026-12-06 on the 2-core machine, 24 devset files
    (29 pages) read one after another through the workers: private memory after the first document 185 → 117 MiB,
    after 24 documents in one worker 516 → 298 MiB; with the defaults (a worker ends above 160 MiB), every devset
    document had a new worker, and now about three share one: 0.727-0.744 → 0.675-0.692 s a page (three runs each,
    alternated with the commit before), the same readings (one worker kept for all 24: 0.58 s a page, its memory
    unbounded). The scale benchmark (``bench --forms 100 --workers 1``, the long-lived Prefect server, alternated):
    peak PSS of the tree 964 and 1,018 MiB before, 945 and 964 after; flow wall time 112.0 and 118.8 s before, 120.9
    and 119.0 s after (the project's own forms already stayed under the bound: no change beyond noise)."""
    worker_idle_s: float = 60.0
    """A reading worker idle this long (seconds) is ended rather than given the next document."""
    worker_glibc_tunables: str = "glibc.malloc.hugetlb=1"
    """``GLIBC_TUNABLES`` of the reading workers' forkserver, hence of every worker (``pipeline.reading.limits``);
    empty to leave glibc's defaults. ``glibc.malloc.hugetlb=1`` (glibc 2.35 on) has malloc ask the kernel for
    transparent huge pages (``madvise``), so that a page's many full-page arrays of OpenCV and NumPy fault in 2 MiB at
    a time instead of 4 KiB: the same readings, faster. Issue 19, measured 2026-12-06 on the 2-core machine (kernel
    THP in ``madvise`` mode), 31 devset pages read through the workers, alternated runs: 0.490-0.495 s a page
    without, 0.461-0.466 with. glibc ignores a tunable it does not know, and the kernel the advice when THP is
    off."""


class RetentionSettings(BaseModel):
    """How long personal data is kept (``CLAS_RETENTION__*``), enforced by ``pipeline.privacy.retention``.

    Defaults are the city's proposal, to be confirmed by its data protection officer:
    originals are only needed while a person may check the reading against the paper
    (30 days after the decision); files that never became a form are kept 90 days for
    the school to resend; referrals not enrolled are kept to the end of the school year
    (the French school calendar ends in early July) plus 60 days for late enrolments
    and the carriers' yearly report (CNIL, *référentiel relatif aux traitements de
    données à caractère personnel mis en œuvre dans le cadre de l'accueil des enfants*,
    keeps records no longer than the activity's year unless a text requires more).
    """

    model_config = ConfigDict(frozen=True)

    originals_days: int = 30
    """Days after a form is decided (routed, waiting list, rejected, duplicate) before its files go."""
    quarantine_days: int = 90
    """Days after reception before a quarantined or duplicate file goes."""
    grace_days: int = 60
    """Days after the end of the school year before referrals not enrolled are deleted whole."""
    school_year_end_month: int = 7
    school_year_end_day: int = 4
    """Last day of the school year (month, day) in its second calendar year."""


class AlertSettings(BaseModel):
    """The e-mail sent to staff when a nightly run fails (``CLAS_ALERTS__*``), see ``pipeline.runs.alerts``.

    Off while ``staff_address`` is empty. Sent through the SMTP server of the replies
    (``CLAS_MAIL__SMTP__*``: host, port, security, login and ``sender``), whether or not
    replies to schools are enabled.
    """

    model_config = ConfigDict(frozen=True)

    staff_address: str = ""
    """Where the alert goes, e.g. the CLAS team's shared address; empty for no alert."""
    connect_attempts: int = 3
    """Tries to reach the SMTP server; a try that delivered part of the message is never repeated."""
    backoff_s: float = 10.0
    """Wait before the second try, doubled before each next one (10 s, 20 s: a server restarting)."""


class ReportSettings(BaseModel):
    """The yearly report for the CAF and the network (``CLAS_REPORT__*``), see ``pipeline.reporting``.

    Counts only, never a name; the rule that hides small counts is :mod:`pipeline.reporting.suppression`.
    """

    model_config = ConfigDict(frozen=True)

    min_cell: int = 5
    """Smallest count shown; counts 1 to ``min_cell - 1`` are shown « < 5 ». Source: issue 20 (« no cell under
    5 »), the usual small-count threshold of French public statistics on persons."""
    delay_bounds_days: tuple[int, ...] = (7, 14, 30, 60)
    """Upper bounds (days, inclusive) of the classes of time from reception of a referral to the pupil's
    enrolment: 0–7, 8–14, 15–30, 31–60, over 60. Source: a week, a fortnight, a month and two months, the
    periods the network's meetings talk in (issue 20)."""
    font_file: Path = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    """The charts' typeface: DejaVu Sans from Debian's ``fonts-dejavu-core`` (installed by the Makefile), so a
    chart never depends on the fonts a machine has."""
    chart_dpi: int = 150
    """Pixels per inch of the charts' PNG (a 6.4 in wide chart is 960 px, sharp in the PDF at 100 % zoom)."""


class NoticeSettings(BaseModel):
    """Notices of outcome to the referring teacher (``CLAS_NOTICES__*``), see ``pipeline.notices``.

    Sent through the SMTP server of the replies (``CLAS_MAIL__SMTP__*``: host, port, security, login and
    ``sender``), whether or not replies to schools are enabled. A school receives them only when staff ticked
    it on the desk (« Avis aux enseignants »): off by default.
    """

    model_config = ConfigDict(frozen=True)

    enabled: bool = False
    """Whether ``clas-referrals notify`` (and the nightly run) sends pending notices at all."""
    max_attempts: int = 5
    """Sends tried for one notice before it is marked failed for staff (one try per run: five nights)."""


class DatabaseSettings(BaseModel):
    """How long the store waits for a lock another connection holds (``CLAS_DATABASE__*``), see ``pipeline.store``.

    The wait is bounded so that a run never hangs: past it the run stops cleanly (every transaction is whole or
    absent) with a French message, and the next run takes the files again.
    """

    model_config = ConfigDict(frozen=True)

    busy_timeout_s: float = 300.0
    """Seconds a statement waits for another connection's lock before the run stops: SQLite's busy timeout
    (its busy handler retries the lock during this time, https://www.sqlite.org/c3ref/busy_timeout.html) and
    PostgreSQL's ``lock_timeout``. Source: a night's backup of the database file held the lock over 30 s, the
    previous fixed value, and failed the run (issue 17); copying a 1 GB SQLite file to a network share at
    10 MB/s takes about 100 s, and 300 s (5 min) leaves room while still ending a stuck night early."""


class ScaleSettings(BaseModel):
    """Where a run's Prefect API and reading tasks live (``CLAS_SCALE__*``), read by ``flows/`` (issue 19).

    By default a run is one machine: a long-lived local Prefect server when one answers, else Prefect's temporary
    one, and the reading tasks in the run's own process. ``dask_address`` or ``dask_workers`` sends the reading
    tasks to a Dask cluster through prefect-dask (``docs/deployment.md``).
    """

    model_config = ConfigDict(frozen=True)

    prefect_local_api_url: str = "http://127.0.0.1:4200/api"
    """The API of the long-lived local Prefect server (``clas-referrals prefect-server``, ``make prefect-server``,
    Prefect's default port 4200). A run without ``PREFECT_API_URL`` uses it when it answers, and starts Prefect's
    temporary server otherwise (about 6 s on a 2-core machine, issue 19)."""
    prefect_probe_timeout_s: float = 0.5
    """Seconds the run waits for that server's health answer. A server on loopback answers in milliseconds and a
    closed port refuses at once; 0.5 s bounds a server too busy to serve the run anyway."""
    dask_address: str = ""
    """Address of an existing Dask scheduler (``tcp://host:8786``) that runs the reading tasks; empty for none."""
    dask_workers: int = 0
    """Without ``dask_address``: a local Dask cluster of this many worker processes for the reading tasks (each
    worker reads one document at a time); 0 reads in the run's own process, one document at a time."""
    worker_cores: int = Field(default=0, ge=0)
    """CPU cores each worker of a local cluster is bound to (Linux CPU affinity, inherited by its reading processes;
    ``flows.runner.worker_cores``): worker ``i`` gets cores ``i·c`` to ``i·c + c − 1``, wrapping round the machine's;
    0 binds none, and each worker's readers may use every core. Binding one core per worker gives each its own, as
    separate machines would: how ``clas-referrals bench --forms N --workers W --worker-cores 1`` measures what a
    worker adds (issue 19), where unbound workers on a 2-core machine share two cores that a single page's readers
    already fill."""


class Settings(BaseSettings):
    """All settings of the product.

    Attributes:
        environment: ``development`` (default) or ``production``; production refuses
            the placeholder secret.
        database_url: SQLAlchemy URL; SQLite file by default, PostgreSQL by URL.
        data_dir: Where received files, quarantined files and crops are stored.
        inbox_dir: Folder read by ``clas-referrals run`` when none is given.
        directory_file: The school and carrier directory (TOML).
        school_year: Year the referrals are for, ``AAAA-AAAA``.
        secret_key: Secret for signed cookies (review desk).
        database: Bounded waits on database locks (``CLAS_DATABASE__BUSY_TIMEOUT_S``).
        scale: The Prefect API and the Dask cluster a run uses (``CLAS_SCALE__*``).
    """

    model_config = SettingsConfigDict(env_prefix="CLAS_", env_nested_delimiter="__", frozen=True)

    environment: str = "development"
    database_url: str = Field(default_factory=lambda: f"sqlite:///{PROJECT_DIR / 'var' / 'clas.sqlite3'}")
    data_dir: Path = PROJECT_DIR / "var" / "data"
    inbox_dir: Path = PROJECT_DIR / "samples" / "inbox"
    directory_file: Path = PACKAGE_DIR / "config" / "directory.toml"
    school_year: str = Field(default="2026-2027", pattern=r"^\d{4}-\d{4}$")
    secret_key: str = "dev-only-change-me"
    omr: OmrSettings = OmrSettings()
    ocr: OcrSettings = OcrSettings()
    scan: ScanSettings = ScanSettings()
    text_layer: TextLayerSettings = TextLayerSettings()
    registration: RegistrationSettings = RegistrationSettings()
    structure: StructureSettings = StructureSettings()
    mail: MailSettings = MailSettings()
    limits: LimitSettings = LimitSettings()
    retention: RetentionSettings = RetentionSettings()
    alerts: AlertSettings = AlertSettings()
    database: DatabaseSettings = DatabaseSettings()
    report: ReportSettings = ReportSettings()
    notices: NoticeSettings = NoticeSettings()
    scale: ScaleSettings = ScaleSettings()

    @model_validator(mode="before")
    @classmethod
    def _decode_schools_against_the_routing_directory(cls, data: Any) -> Any:  # noqa: ANN401 - pydantic's raw input
        """A school zone is decoded against the directory the run routes with.

        ``CLAS_DIRECTORY_FILE`` (``directory_file``) also becomes ``ocr.constrained.directory_file``
        (``pipeline.reading.scan.constrained``), unless that is given too. Without this, a city that set its own
        directory had its schools' handwritten names decoded against the bundled sample directory.
        """
        if not isinstance(data, dict) or data.get("directory_file") is None:
            return data
        directory = Path(data["directory_file"])
        ocr = data.get("ocr", {})
        if isinstance(ocr, OcrSettings):
            if "directory_file" in ocr.constrained.model_fields_set:
                return data
            constrained = ocr.constrained.model_copy(update={"directory_file": directory})
            return {**data, "ocr": ocr.model_copy(update={"constrained": constrained})}
        if not isinstance(ocr, dict):
            return data  # pydantic reports what is wrong with it
        given = ocr.get("constrained", {})
        if isinstance(given, BaseModel):
            if "directory_file" in given.model_fields_set:
                return data
            return {**data, "ocr": {**ocr, "constrained": given.model_copy(update={"directory_file": directory})}}
        if not isinstance(given, dict) or "directory_file" in given:
            return data
        return {**data, "ocr": {**ocr, "constrained": {**given, "directory_file": directory}}}

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        if self.environment != "development" and self.secret_key == "dev-only-change-me":
            raise ValueError("CLAS_SECRET_KEY doit être défini hors développement")  # shown to the administrator
        start, end = (int(y) for y in self.school_year.split("-"))
        if end != start + 1:
            raise ValueError(f"CLAS_SCHOOL_YEAR : deux années qui se suivent, comme 2026-2027 "
                             f"(reçu {self.school_year})")
        return self


__all__ = [
    "PACKAGE_DIR", "PROJECT_DIR", "AlertSettings", "DatabaseSettings", "IcrSettings", "LimitSettings", "MailSettings",
    "NoticeSettings", "OcrSettings", "OmrSettings", "RegistrationSettings", "ReportSettings", "RetentionSettings",
    "ScaleSettings", "ScanSettings", "Settings", "SmtpSettings", "StructureSettings", "TextLayerSettings",
]
