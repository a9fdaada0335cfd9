"""Prefect's temporary server, tracked so that what a killed run left is stopped by the next one.

Without ``PREFECT_API_URL``, a flow run starts Prefect's temporary server (a ``uvicorn`` subprocess, about
230 MB) and stops it when the command exits. A command killed outright (SIGKILL, the OOM killer) cannot stop
it: the server kept running for ever (issue 17). So the command starts the server itself
(:func:`start_temporary_server`, the same instance Prefect's client then uses) and records it under
``PREFECT_HOME`` (``var/prefect`` by default): one file per command, with the command's and the server's
process ids and start times. The next command stops every recorded server whose command is gone
(:func:`stop_orphaned_servers`), after checking the process is that very server: same start time (a
process id can be reused), same user, and Prefect's server on its command line.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

SERVER_MARKER = "prefect.server.api.server:create_app"
"""On the command line of Prefect's temporary server (``SubprocessASGIServer._run_uvicorn_command``, Prefect 3)."""
RECORDS_DIR = "clas-temporary-servers"
"""Folder of the records, under ``PREFECT_HOME``."""
STOP_WAIT_S = 5.0
"""Seconds a server has to exit after SIGTERM before SIGKILL (Prefect's own ``stop`` waits as long)."""
SERVER_LOG_LEVEL_ENV = "PREFECT_SERVER_LOGGING_LEVEL"
"""The Prefect setting, as an environment variable, that gives the server's own log level."""
TEMPORARY_SERVER_LOG_LEVEL = "CRITICAL"
"""Log level of the temporary server's own loggers (``prefect.server.*``), unless ``PREFECT_SERVER_LOGGING_LEVEL``
is set. The server shares the command's terminal, and when the command ends it is stopped while its services may
still be writing Prefect's own run history: they then print ``Error flushing 1 events`` and four tracebacks of
``CancelledError`` after the run's summary (every second ``make demo``, measured 2026-12-05). That history lives
in a server that stops with the command; the run's own accounting is in the product's database, whatever the
server logs. A long-lived server (``make prefect-server``) logs as configured."""


@dataclass(frozen=True)
class ProcessId:
    """A process, told apart from a later one with the same pid by its start time.

    Attributes:
        pid: The process id.
        start_ticks: Its start time in clock ticks after boot (``/proc/<pid>/stat``, field 22).
    """

    pid: int
    start_ticks: int


@dataclass(frozen=True)
class ServerRecord:
    """A temporary server and the command that started it."""

    owner: ProcessId
    server: ProcessId


def _start_ticks(pid: int) -> int | None:
    """The start time of process ``pid`` (``None`` if there is no such process, or it has exited and only waits to
    be reaped: a zombie runs nothing, and a signal's wait for it would last until its parent reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    after_name = stat.rpartition(")")[2].split()  # fields 3 on, counted after the command name
    if after_name[0] in ("Z", "X"):
        return None
    return int(after_name[19])  # field 22


def process_id(pid: int) -> ProcessId | None:
    """``pid`` with its start time, if the process exists."""
    ticks = _start_ticks(pid)
    return ProcessId(pid, ticks) if ticks is not None else None


def is_alive(proc: ProcessId) -> bool:
    """Whether this very process (same pid and start time) still runs."""
    return _start_ticks(proc.pid) == proc.start_ticks


def is_our_server(proc: ProcessId) -> bool:
    """Whether ``proc`` still runs, belongs to this user and is Prefect's temporary server."""
    if not is_alive(proc):
        return False
    try:
        owner_uid = Path(f"/proc/{proc.pid}").stat().st_uid
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return owner_uid == os.getuid() and SERVER_MARKER.encode() in cmdline


def records_dir(prefect_home: Path) -> Path:
    """Where the records are kept."""
    return prefect_home / RECORDS_DIR


def record_server(prefect_home: Path, server_pid: int, owner_pid: int | None = None) -> Path | None:
    """Record a temporary server started by this process (or ``owner_pid``); returns the record's path."""
    owner = process_id(owner_pid or os.getpid())
    server = process_id(server_pid)
    if owner is None or server is None:
        return None
    folder = records_dir(prefect_home)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{owner.pid}.json"
    path.write_text(json.dumps(asdict(ServerRecord(owner, server))), encoding="utf-8")
    return path


def _read(path: Path) -> ServerRecord | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerRecord(ProcessId(**data["owner"]), ProcessId(**data["server"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _stop(proc: ProcessId) -> None:
    """SIGTERM, then SIGKILL after :data:`STOP_WAIT_S`."""
    try:
        os.kill(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline and is_alive(proc):
            time.sleep(0.1)
        if is_alive(proc):
            os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_orphaned_servers(prefect_home: Path) -> list[int]:
    """Stop every recorded temporary server whose command is gone; forget their records.

    A server is stopped only if it is still that very process, ours, and Prefect's server
    (:func:`is_our_server`); a record whose command still runs is left alone.

    Returns:
        The process ids of the servers stopped.
    """
    stopped = []
    folder = records_dir(prefect_home)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        record = _read(path)
        if record is not None and is_alive(record.owner):
            continue  # its command still runs: not orphaned
        if record is not None and is_our_server(record.server):
            logger.warning("stopping Prefect's temporary server %s left by a killed command", record.server.pid)
            _stop(record.server)
            stopped.append(record.server.pid)
        path.unlink(missing_ok=True)
    return stopped


def start_temporary_server(prefect_home: Path) -> int | None:
    """Start Prefect's temporary server now, as a flow run would, and record it; ``None`` with a real server.

    The server is Prefect's own singleton (``SubprocessASGIServer()``): the flow's client reuses it, and
    Prefect stops it at exit. The record is removed at exit too. Its own loggers are started at
    :data:`TEMPORARY_SERVER_LOG_LEVEL`.

    Raises:
        RuntimeError: The server did not answer within ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``.
    """
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    if SERVER_LOG_LEVEL_ENV in os.environ:
        server.start()
    else:
        from prefect.settings import PREFECT_SERVER_LOGGING_LEVEL, temporary_settings

        # The server process is given this process's Prefect settings when it starts (``_run_uvicorn_command``).
        with temporary_settings(updates={PREFECT_SERVER_LOGGING_LEVEL: TEMPORARY_SERVER_LOG_LEVEL}):
            server.start()
    if server.server_process is None:  # pragma: no cover - start() raises rather
        return None
    pid = server.server_process.pid
    path = record_server(prefect_home, pid)
    if path is not None:
        atexit.register(path.unlink, missing_ok=True)
    return pid
