"""What a killed command left: its temporary Prefect server is stopped by the next command, and nothing else is.

Fake servers are ``python -c 'sleep'`` processes carrying Prefect's server marker on their command line; the
real case (a ``clas-referrals run`` killed with SIGKILL) is in ``tests/flows/test_crash.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.temporary_server import (
    SERVER_MARKER,
    ProcessId,
    is_alive,
    is_our_server,
    process_id,
    records_dir,
    stop_orphaned_servers,
)


@pytest.fixture
def fake_server() -> Iterator[subprocess.Popen[bytes]]:
    """A process that looks like Prefect's temporary server on its command line."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", SERVER_MARKER])
    yield proc
    proc.kill()
    proc.wait()


def _dead_pid() -> ProcessId:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    me = process_id(proc.pid)
    proc.wait()
    assert me is not None
    return me


def _record(home: Path, owner: ProcessId, server: ProcessId) -> Path:
    folder = records_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{owner.pid}.json"
    path.write_text(json.dumps({"owner": owner.__dict__, "server": server.__dict__}))
    return path


def _wait_gone(proc: subprocess.Popen[bytes]) -> int | None:
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        return None


def test_a_server_whose_command_died_is_stopped(tmp_path: Path, fake_server: subprocess.Popen[bytes]) -> None:
    server = process_id(fake_server.pid)
    assert server is not None and is_our_server(server)
    record = _record(tmp_path, _dead_pid(), server)

    assert stop_orphaned_servers(tmp_path) == [fake_server.pid]
    assert _wait_gone(fake_server) is not None and not is_alive(server)
    assert not record.exists()


def test_a_server_whose_command_still_runs_is_left_alone(tmp_path: Path,
                                                         fake_server: subprocess.Popen[bytes]) -> None:
    server, owner = process_id(fake_server.pid), process_id(fake_server.pid)  # its owner: a live process
    assert server is not None and owner is not None
    record = _record(tmp_path, owner, server)
    assert stop_orphaned_servers(tmp_path) == []
    assert fake_server.poll() is None and record.exists()


def test_a_reused_pid_or_another_program_is_never_killed(tmp_path: Path,
                                                         fake_server: subprocess.Popen[bytes]) -> None:
    live = process_id(fake_server.pid)
    assert live is not None
    reused = ProcessId(live.pid, live.start_ticks - 1)  # the recorded server was an earlier process of that pid
    record = _record(tmp_path, _dead_pid(), reused)
    assert stop_orphaned_servers(tmp_path) == []
    assert fake_server.poll() is None and not record.exists()  # the stale record is forgotten

    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # no server marker
    try:
        other_id = process_id(other.pid)
        assert other_id is not None
        _record(tmp_path, _dead_pid(), other_id)
        assert stop_orphaned_servers(tmp_path) == []
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


_SERVER_LOG_LEVEL = """
import sys
from pathlib import Path
from flows.temporary_server import start_temporary_server
from prefect.server.api.server import SubprocessASGIServer
pid = start_temporary_server(Path(sys.argv[1]))
try:
    env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\\0")
    print(next(v.split(b"=", 1)[1].decode() for v in env if v.startswith(b"PREFECT_SERVER_LOGGING_LEVEL=")))
finally:
    SubprocessASGIServer().stop()
"""


@pytest.mark.prefect_server
@pytest.mark.parametrize(("given", "expected"), [(None, "CRITICAL"), ("INFO", "INFO")])
def test_the_temporary_server_logs_only_what_stops_it_unless_told_otherwise(
        tmp_path: Path, given: str | None, expected: str) -> None:
    # Its services, stopped with the command while they write Prefect's run history, printed four tracebacks
    # after the run's summary of every second `make demo`.
    from tests.support.prefect_server import clean_env

    env = clean_env(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    if given is not None:
        env["PREFECT_SERVER_LOGGING_LEVEL"] = given
    else:
        env.pop("PREFECT_SERVER_LOGGING_LEVEL", None)
    (tmp_path / "prefect").mkdir()
    proc = subprocess.run([sys.executable, "-c", _SERVER_LOG_LEVEL, str(tmp_path / "prefect")], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == [expected]


def test_a_server_that_exited_but_is_not_yet_reaped_is_not_alive() -> None:
    # A SIGTERMed child of the stopping process stays a zombie until reaped: waiting for it to die took the whole
    # STOP_WAIT_S before SIGKILL.
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        running = process_id(proc.pid)
        assert running is not None and is_alive(running)
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)

        assert not is_alive(running) and process_id(proc.pid) is None
    finally:
        proc.kill()
        proc.wait()
