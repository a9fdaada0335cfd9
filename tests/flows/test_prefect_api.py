"""Which Prefect API a command uses (issue 19): its own ``PREFECT_API_URL``, a long-lived local server that
answers, or none (the command then starts Prefect's temporary server, as ``make demo`` on a fresh machine)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest

from flows.prefect_api import API_URL_ENV, server_answers, server_command, use_local_server
from tests.support.mail_servers import free_port
from tests.support.prefect_server import PrefectServer, clean_env


class _Health(BaseHTTPRequestHandler):
    body = b"true"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/api/health" else 404)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    """A loopback HTTP server answering ``true`` on ``/api/health``, as Prefect's does; yields its API URL."""
    server = HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api"
    server.shutdown()
    server.server_close()


def test_a_server_that_answers_is_used_and_a_closed_port_is_not(health_server: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(API_URL_ENV, raising=False)
    closed = f"http://127.0.0.1:{free_port()}/api"
    start = time.monotonic()
    assert server_answers(closed, 0.5) is False
    assert time.monotonic() - start < 0.5  # refused at once, not waited for
    assert use_local_server(closed, 0.5) is None and API_URL_ENV not in os.environ
    assert server_answers(health_server, 0.5) is True
    assert use_local_server(health_server, 0.5) == health_server
    assert os.environ[API_URL_ENV] == health_server


def test_the_callers_own_api_url_wins(health_server: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(API_URL_ENV, "http://prefect.ville.example/api")
    assert use_local_server(health_server, 0.5) == "http://prefect.ville.example/api"
    assert os.environ[API_URL_ENV] == "http://prefect.ville.example/api"


def test_something_else_on_the_port_is_not_a_prefect_server(health_server: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Health, "body", b"<html>autre service</html>")
    assert server_answers(health_server, 0.5) is False


def test_the_server_command_serves_the_configured_address() -> None:
    assert server_command("http://127.0.0.1:4200/api", background=False) == [
        "prefect", "server", "start", "--host", "127.0.0.1", "--port", "4200", "--analytics-off"]
    assert server_command("http://127.0.0.1:4311/api", background=True)[-1] == "--background"
    with pytest.raises(ValueError, match="no host and port"):
        server_command("http://127.0.0.1/api", background=False)


@pytest.mark.prefect_server
def test_a_run_reports_to_the_long_lived_server_and_starts_no_temporary_one(prefect_api: PrefectServer,
                                                                             tmp_path: Path) -> None:
    (tmp_path / "inbox").mkdir()
    env = clean_env(CLAS_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", CLAS_DATA_DIR=str(tmp_path / "data"),
                    PREFECT_HOME=str(tmp_path / "prefect"), CLAS_SCALE__PREFECT_LOCAL_API_URL=prefect_api.api_url)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "flows.cli", "run", "--inbox", str(tmp_path / "inbox"), "--json"],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["received"] == 0
    runs = httpx.post(f"{prefect_api.api_url}/flow_runs/filter", json={}, timeout=10).json()
    assert [(r["name"] != "", r["state_type"]) for r in runs if r["parameters"].get("inbox") == str(
        tmp_path / "inbox")] == [(True, "COMPLETED")]
    # No temporary server was started: it would have been recorded under PREFECT_HOME (flows.temporary_server).
    assert not list((tmp_path / "prefect").glob("clas-temporary-servers/*"))
    print(f"empty run on the long-lived server: {seconds:.2f} s")
