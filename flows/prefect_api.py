"""Which Prefect API a command reports to: ``PREFECT_API_URL``, else a long-lived local server, else a temporary one.

Starting Prefect's temporary server costs about 6 s of a run on a 2-core machine (issue 19: 16 s for an empty
inbox, of which 5.6 s the server's start and 1.4 s its stop). A long-lived local server, started once with
``clas-referrals prefect-server`` (or ``make prefect-server``), removes that cost: a command without
``PREFECT_API_URL`` asks it for its health (``CLAS_SCALE__PREFECT_LOCAL_API_URL``, Prefect's default
``http://127.0.0.1:4200/api``) and, when it answers, reports to it. When it does not, the command starts the
temporary server as before (:mod:`flows.temporary_server`), so ``make demo`` needs nothing running.

Everything here runs before Prefect is imported: Prefect reads ``PREFECT_API_URL`` once, at import.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from urllib.parse import urlsplit

API_URL_ENV = "PREFECT_API_URL"


def server_answers(api_url: str, timeout_s: float) -> bool:
    """Whether a Prefect server answers its health check at ``api_url`` (``…/api``) within ``timeout_s`` seconds.

    A closed port is refused at once; anything but Prefect's ``true`` on ``/health`` is no server.
    """
    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout_s) as answer:  # noqa: S310
            return bool(answer.status == 200 and answer.read(16).strip() == b"true")
    except (OSError, ValueError):  # refused, timed out, not HTTP, a malformed URL
        return False


def use_local_server(local_api_url: str, timeout_s: float) -> str | None:
    """Point this process at the long-lived local server when ``PREFECT_API_URL`` is unset and the server answers.

    Call before Prefect is imported.

    Returns:
        The API URL now in ``PREFECT_API_URL`` (the caller's own, or the local server's), or ``None`` when there is
        none: the command starts Prefect's temporary server.
    """
    if os.environ.get(API_URL_ENV):
        return os.environ[API_URL_ENV]
    if not server_answers(local_api_url, timeout_s):
        return None
    os.environ[API_URL_ENV] = local_api_url
    return local_api_url


def server_command(local_api_url: str, background: bool) -> list[str]:
    """The ``prefect server start`` command line that serves ``local_api_url`` (host and port taken from it).

    Raises:
        ValueError: The URL has no host or no port.
    """
    parts = urlsplit(local_api_url)
    if not parts.hostname or not parts.port:
        raise ValueError(f"no host and port in {local_api_url!r}")
    command = ["prefect", "server", "start", "--host", parts.hostname, "--port", str(parts.port),
               "--analytics-off"]
    return [*command, "--background"] if background else command
