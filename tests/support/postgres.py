"""A throwaway PostgreSQL server on loopback for the tests (Debian's ``postgresql`` package).

``initdb`` refuses to run as root, so the cluster is created and started as the
``postgres`` user (``runuser``) in a fresh folder under ``/tmp`` (the pytest
temporary folders are root-only), listening on 127.0.0.1 on a free port, with
trust authentication for that one local user.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} not found: apt-get install postgresql (see .ci/run)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(*cmd: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start a PostgreSQL cluster; yield a SQLAlchemy URL to its empty ``clas`` database; stop and delete it."""
    root = Path(tempfile.mkdtemp(prefix="clas-pg-"))
    root.chmod(0o755)
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = _free_port()
    run = {"check": True, "capture_output": True, "timeout": 120}
    subprocess.run(_as_postgres(_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "clas", "-E", "UTF8",
                                "--locale=C.UTF-8"), **run)  # type: ignore[call-overload]
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} -c fsync=off"
    subprocess.run(_as_postgres(_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w",
                                "start"), **run)  # type: ignore[call-overload]
    try:
        subprocess.run(_as_postgres(_bin("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "clas", "clas"),
                       **run)  # type: ignore[call-overload]
        yield f"postgresql+psycopg://clas@127.0.0.1:{port}/clas"
    finally:
        subprocess.run(_as_postgres(_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"),
                       check=False, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def reset_database(url: str) -> None:
    """Drop every table of the test database (each test starts from an empty schema)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
