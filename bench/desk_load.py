"""Load test of the review desk on loopback: concurrent reviewers for a bounded time (issue 17).

A uvicorn server (its own process, ``web.main:create_app``) serves a database the pipeline
made from generated forms, plus copies of one form awaiting review so that every reviewer
has forms of their own to decide. Each reviewer is a thread with its own session
(httpx): it signs in, then until the deadline opens the review list, one of its forms,
approves it with the school corrected, and opens the overview. Page images are not
fetched (rendering is serialised by one lock: a separate measure).

Reported: requests, errors (a 5xx, a refused decision or a failed connection), the 50th and
95th percentiles of page time in milliseconds, decisions the clients saw accepted, and
decisions lost (accepted by the server but not in the database with their audit entry).

Run the full measure (30 reviewers, 60 s)::

    .venv/bin/python -m bench.desk_load --reviewers 30 --duration 60

The test suite runs it short (``tests/web/test_load.py``, ``CLAS_LOAD_DURATION_S``, 5 s by default).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import select

from flows.argparse_fr import entier, use_french
from pipeline.settings import PROJECT_DIR, Settings
from pipeline.store import AuditRow, DocumentRow, FieldResultRow, ReferralRow, ReviewItemRow, Store

_CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
LOAD_PREFIX = "LOAD-"


@dataclass
class LoadReport:
    """What a load run measured.

    Attributes:
        reviewers: Concurrent reviewers.
        duration_s: Length of the run in seconds.
        requests: Page requests made (sign-in excluded).
        errors: Failed requests or refused decisions, as ``"METHOD path: status"`` lines.
        times_ms: Each request's time in milliseconds.
        decided: Forms whose approval the server accepted (303).
        lost: Of those, forms not approved in the database or without their audit entry.
    """

    reviewers: int
    duration_s: float
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    times_ms: list[float] = field(default_factory=list)
    decided: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    def percentile(self, q: int) -> float:
        """The ``q``-th percentile of page time in milliseconds (0 when nothing was measured)."""
        if len(self.times_ms) < 2:
            return self.times_ms[0] if self.times_ms else 0.0
        return statistics.quantiles(self.times_ms, n=100, method="inclusive")[q - 1]

    def line(self) -> str:
        """One line for a person."""
        return (f"{self.reviewers} reviewers, {self.duration_s:.0f} s: {self.requests} requests, "
                f"{len(self.errors)} errors, p50 {self.percentile(50):.0f} ms, p95 {self.percentile(95):.0f} ms, "
                f"{len(self.decided)} decisions, {len(self.lost)} lost")


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clone_forms(settings: Settings, template_form: str, count: int) -> list[str]:
    """Copy one form awaiting review ``count`` times (fields, document, review item) under new serials.

    The copies share the template's kept file; each gets its own document row (a made-up
    SHA-256) so that deciding it touches only its own rows.

    Returns:
        The new serials.
    """
    store = Store(settings.database_url)
    serials = [f"{LOAD_PREFIX}{i:05d}" for i in range(count)]
    try:
        with store.session() as s:
            doc = s.scalars(select(DocumentRow).where(DocumentRow.form_id == template_form)).one()
            item = s.scalars(select(ReviewItemRow).where(ReviewItemRow.form_id == template_form)).one()
            fields = s.scalars(select(FieldResultRow).where(FieldResultRow.form_id == template_form)).all()
            for n, serial in enumerate(serials):
                s.add(DocumentRow(sha256=f"{n:064x}", source=doc.source, original_name=f"{serial}.pdf",
                                  media_type=doc.media_type, size_bytes=doc.size_bytes, stored_path=doc.stored_path,
                                  received_at=doc.received_at, status=doc.status, form_id=serial,
                                  reasons=doc.reasons))
                s.add(ReviewItemRow(form_id=serial, reasons=item.reasons, min_confidence=item.min_confidence))
                for f in fields:
                    s.add(FieldResultRow(form_id=serial, name=f.name, value=f.value, confidence=f.confidence,
                                         source=f.source, page=f.page, zone=f.zone, evidence=f.evidence))
    finally:
        store.close()
    return serials


def start_server(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    """uvicorn serving ``web.main:create_app`` on 127.0.0.1:``port`` in its own process (the caller stops it).

    Raises:
        RuntimeError: It did not answer within 30 s.
    """
    env = {**os.environ, "CLAS_DATABASE_URL": settings.database_url, "CLAS_DATA_DIR": str(settings.data_dir)}
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "web.main:create_app", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"], cwd=PROJECT_DIR, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("the desk did not start on loopback")


def _reviewer(base: str, username: str, password: str, forms: list[str], school: str, start: threading.Barrier,
              clock: dict[str, float], report: LoadReport, lock: threading.Lock) -> None:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as client:
        token = _CSRF_RE.search(client.get("/login").text)
        page = client.post("/login", data={"username": username, "password": password, "next": "",
                                           "csrf_token": token.group(1) if token else ""}, follow_redirects=True)
        found = _CSRF_RE.search(page.text)
        start.wait()  # the load starts once every reviewer is signed in (argon2 is slow on purpose)
        deadline = clock["deadline"]
        if found is None:
            with lock:
                report.errors.append(f"sign-in of {username}: {page.status_code}")
            return
        csrf = found.group(1)
        pending = list(forms)

        def timed(method: str, path: str, data: dict[str, str] | None = None, ok: tuple[int, ...] = (200,)) -> bool:
            start = time.perf_counter()
            try:
                r = client.request(method, path, data=data)
                status = r.status_code
            except httpx.HTTPError as exc:
                status, r = 0, None
                detail = type(exc).__name__
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                report.requests += 1
                report.times_ms.append(elapsed)
                if status not in ok:
                    report.errors.append(f"{method} {path}: {status or detail}")
            return status in ok

        while time.monotonic() < deadline and pending:
            form = pending.pop(0)
            url = f"/review/{quote(form, safe='')}"
            timed("GET", "/review")
            timed("GET", url)
            if time.monotonic() >= deadline:
                break
            data = {"csrf_token": csrf, "p.school_name": "1", "f.school_name": school, "same_pupil_confirmed": "1"}
            if timed("POST", f"{url}/approve", data, ok=(303,)):
                with lock:
                    report.decided.append(form)
            timed("GET", "/overview")


def run_load(settings: Settings, base: str, accounts: list[str], password: str, forms: list[str], school: str,
             duration_s: float) -> LoadReport:
    """Run one reviewer per account against ``base`` for ``duration_s`` seconds, then check every decision.

    Args:
        settings: Settings of the database the server uses (for the final check).
        base: The desk's URL on loopback.
        accounts: Staff usernames, one per reviewer.
        password: Their password.
        forms: Forms awaiting review, shared out between the reviewers (each decides its own).
        school: A school name that makes the forms valid.
        duration_s: Seconds of load.
    """
    report = LoadReport(len(accounts), duration_s)
    lock = threading.Lock()
    clock: dict[str, float] = {}
    start = threading.Barrier(len(accounts),
                              action=lambda: clock.__setitem__("deadline", time.monotonic() + duration_s))
    shares = [forms[i::len(accounts)] for i in range(len(accounts))]
    threads = [threading.Thread(target=_reviewer, args=(base, name, password, share, school, start, clock, report,
                                                        lock))
               for name, share in zip(accounts, shares, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration_s + 300)
    store = Store(settings.database_url)
    try:
        with store.session() as s:
            approved = set(s.scalars(select(ReviewItemRow.form_id).where(ReviewItemRow.status == "approved")))
            referred = set(s.scalars(select(ReferralRow.form_id)))
            audited = {d.split(";")[0].removeprefix("form ") for d in s.scalars(
                select(AuditRow.detail).where(AuditRow.action == "review_approved"))}
    finally:
        store.close()
    report.lost = [f for f in report.decided if not (f in approved and f in referred and f in audited)]
    return report


def prepare(root: Path, reviewers: int, forms_per_reviewer: int) -> tuple[Settings, list[str], list[str], str, str]:
    """A database made by the pipeline (the desk tests' demo), ``reviewers`` staff accounts and the forms to decide.

    Returns:
        ``(settings, accounts, forms, school, password)``.
    """
    from pipeline.deciding.directory import load_directory
    from tests.web.conftest import PASSWORD, build_demo
    from tests.web.test_review import _school_with_places
    from web.accounts import create_user
    from web.models import Role

    demo = build_demo(root)
    template = demo.forms["invalid_unknown_school-2"]
    level = demo.truths[template]["values"]["class_level"][0]  # type: ignore[index]
    school = _school_with_places(demo, level)
    forms = clone_forms(demo.settings, template, reviewers * forms_per_reviewer)
    directory = load_directory(demo.settings.directory_file)
    accounts = [f"relecteur{i:02d}" for i in range(reviewers)]
    store = Store(demo.settings.database_url)
    try:
        with store.session() as s:
            for name in accounts:
                create_user(s, directory, name, PASSWORD, Role.STAFF, actor="bench")
    finally:
        store.close()
    return demo.settings, accounts, forms, school, PASSWORD


def measure(reviewers: int, duration_s: float, root: Path) -> LoadReport:
    """Prepare a database under ``root``, serve it on loopback, run the load and stop the server."""
    forms_per_reviewer = max(3, int(duration_s))  # more than a reviewer can decide in the time
    settings, accounts, forms, school, password = prepare(root, reviewers, forms_per_reviewer)
    port = free_port()
    server = start_server(settings, port)
    try:
        return run_load(settings, f"http://127.0.0.1:{port}", accounts, password, forms, school, duration_s)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> int:
    """Command line: run the load and print the report; exit 1 on any error or lost decision."""
    use_french()
    parser = argparse.ArgumentParser(prog="desk_load", description="Test de charge du bureau de vérification "
                                     "(boucle locale) : relecteurs simultanés pendant une durée bornée.")
    parser.add_argument("--reviewers", type=entier, default=30, metavar="N", help="relecteurs simultanés (30)")
    parser.add_argument("--duration", type=float, default=60.0, metavar="SECONDES",
                        help="durée de la charge en secondes (60)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="desk-load-") as tmp:
        report = measure(args.reviewers, args.duration, Path(tmp))
    print(report.line())
    for line in report.errors[:20]:
        print("  error:", line)
    return 1 if report.errors or report.lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
