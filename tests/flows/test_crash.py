"""Crash safety of a real ``clas-referrals run``: SIGKILL at several points, run again, nothing lost or doubled.

The kill comes from the process itself at a named point (``CLAS_TEST_KILL_AT``, see
``pipeline.stages.crash_point``), which is the same to the database and the files as
a kill from outside, but lands at the same step every time. Also: two runs at once
never process the same document (the run lock), and the second says so in French.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from flows.temporary_server import ProcessId, records_dir
from pipeline.deciding.directory import load_directory
from pipeline.settings import Settings
from pipeline.store import DocumentRow, ReceiptRow, ReferralRow, RunAlreadyActiveError, Store
from tests.conftest import NO_LOCAL_PREFECT_SERVER, SAMPLES_INBOX, SAMPLES_TRUTH
from tests.support.prefect_server import PrefectServer

# One form in two image files (page 1 then page 2), a duplicate, a quarantine, reviews, routings.
CRASH_INBOX = ("fillable-0000.pdf", "invalid_no_agreement-0000.pdf", "invalid_page2_missing-0000.pdf",
               "not_the_form-0000.pdf", "scan_300_grey_jpeg-0000-p1.jpg", "scan_300_grey_jpeg-0000-p2.jpg",
               "text_pdf-0000.pdf", "text_pdf-0000_renvoi.pdf")


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Prefect home for every CLI run of the module (the temporary server migrates its database once)."""
    return tmp_path_factory.mktemp("prefect")


def _cli(args: list[str], db: str, data: Path, prefect_home: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI in its own session; once it exits (or is killed), end what it left behind.

    A SIGKILLed run cannot stop the temporary Prefect server it started, which would
    keep the output pipes open: output goes to files and the session is killed after.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAS_"))}
    env |= {"CLAS_DATABASE_URL": db, "CLAS_DATA_DIR": str(data), "PREFECT_HOME": str(prefect_home),
            "CLAS_SCALE__PREFECT_LOCAL_API_URL": NO_LOCAL_PREFECT_SERVER, **extra}
    out_path, err_path = data.parent / "cli.out", data.parent / "cli.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "flows.cli", *args], stdout=out, stderr=err, env=env,
                                start_new_session=True)
        try:
            code = proc.wait(timeout=300)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return subprocess.CompletedProcess(proc.args, code, out_path.read_text(), err_path.read_text())


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in CRASH_INBOX:
        shutil.copy(SAMPLES_INBOX / name, inbox / name)
    return inbox


@pytest.mark.prefect_server
@pytest.mark.parametrize("point", ["after_ingest:3", "mid_extraction:4", "before_record:2"])
def test_a_run_killed_then_rerun_accounts_for_every_file_once(point: str, tmp_path: Path, prefect_home: Path,
                                                              prefect_api: PrefectServer) -> None:
    # The runs report to a long-lived Prefect server, as in production (docs/deployment.md): a kill then leaves
    # a run unfinished on the server and nothing else. A killed run's temporary server is the next test's.
    inbox = _inbox(tmp_path)
    db, data = f"sqlite:///{tmp_path / 'clas.sqlite3'}", tmp_path / "data"
    server = {"CLAS_SCALE__PREFECT_LOCAL_API_URL": prefect_api.api_url}

    killed = _cli(["run", "--inbox", str(inbox), "--json"], db, data, prefect_home, CLAS_TEST_KILL_AT=point, **server)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not list(records_dir(prefect_home).glob("*.json"))  # it started no temporary server
    rerun = _cli(["run", "--inbox", str(inbox), "--json"], db, data, prefect_home, **server)
    assert rerun.returncode == 0, rerun.stderr[-2000:]

    store = Store(db)
    with store.session() as s:
        receipts = Counter(r.original_name for r in s.scalars(select(ReceiptRow)))
        outcomes = {r.original_name: r.outcome for r in s.scalars(select(ReceiptRow))}
        forms = Counter(r.form_id for r in s.scalars(select(ReferralRow)))
        documents = s.scalar(select(func.count()).select_from(DocumentRow))
    places = store.places_used(Settings().school_year)
    routed = store.places_used()
    store.close()
    # Every file accounted for exactly once, across the killed run and the rerun.
    assert receipts == Counter(CRASH_INBOX)
    assert documents == len(CRASH_INBOX) - 1  # the "renvoi" is the same content as text_pdf-0000.pdf
    assert all(n == 1 for n in forms.values())
    # Each file ends where a clean run puts it (scans may go to a person for a doubtful reading only).
    for name in CRASH_INBOX:
        truth = json.loads((SAMPLES_TRUTH / f"{name}.json").read_text(encoding="utf-8"))
        if name.startswith("scan_") and outcomes[name] == "review":
            continue
        assert outcomes[name] == truth["expected_outcome"], name
    # Places: counted from routed referrals, never more than a carrier has.
    directory = load_directory(Settings().directory_file)
    for carrier_id, used in places.items():
        assert used <= directory.carrier(carrier_id).places
    assert places == routed


def test_two_runs_at_once_never_share_the_database(tmp_path: Path, prefect_home: Path) -> None:
    inbox = _inbox(tmp_path)
    db, data = f"sqlite:///{tmp_path / 'clas.sqlite3'}", tmp_path / "data"
    holder = Store(db)
    # This test process plays the first run: it holds the run lock as a run does.
    with holder.exclusive_run():
        with pytest.raises(RunAlreadyActiveError):
            with Store(db).exclusive_run():
                pass
        second = _cli(["run", "--inbox", str(inbox)], db, data, prefect_home)
    assert second.returncode == 3
    assert "Une autre exécution est déjà en cours" in second.stderr
    assert "Traceback" not in second.stderr
    with holder.session() as s:
        assert s.scalar(select(func.count()).select_from(ReceiptRow)) == 0  # it processed nothing
    # Once the first run is over, the lock is free again.
    with holder.exclusive_run():
        pass
    holder.close()


@pytest.mark.prefect_server
@pytest.mark.mail_server  # the staff alert goes to an SMTP server on loopback
def test_the_next_start_cleans_what_a_killed_run_left(tmp_path: Path, prefect_home: Path) -> None:
    # Issue 17: a SIGKILLed run left Prefect's temporary server running (about 230 MB) and its runs row
    # unfinished, and no alert was sent.
    from flows.temporary_server import ServerRecord, is_our_server, records_dir
    from pipeline.store import RunRow
    from tests.support.mail_servers import smtp_server

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES_INBOX / "not_the_form-0000.pdf", inbox / "autre.pdf")
    db, data = f"sqlite:///{tmp_path / 'clas.sqlite3'}", tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "CLAS_"))}
    env |= {"CLAS_DATABASE_URL": db, "CLAS_DATA_DIR": str(data), "PREFECT_HOME": str(prefect_home),
            "CLAS_TEST_KILL_AT": "after_ingest:1", "CLAS_SCALE__PREFECT_LOCAL_API_URL": NO_LOCAL_PREFECT_SERVER}
    killed = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--inbox", str(inbox)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        assert killed.wait(timeout=300) == -signal.SIGKILL
        [path] = records_dir(prefect_home).glob(f"{killed.pid}.json")
        left = json.loads(path.read_text())
        record = ServerRecord(_pid(left["owner"]), _pid(left["server"]))
        assert is_our_server(record.server)  # still running after its command was killed

        with smtp_server() as smtp:
            rerun = _cli(["run", "--inbox", str(inbox), "--json"], db, data, prefect_home,
                         CLAS_ALERTS__STAFF_ADDRESS="equipe-clas@ville-argenteuil.example",
                         CLAS_MAIL__SMTP__HOST="127.0.0.1", CLAS_MAIL__SMTP__PORT=str(smtp.port),
                         CLAS_MAIL__SMTP__SECURITY="none", CLAS_MAIL__SMTP__SENDER="clas@ville-argenteuil.example")
            alerts = list(smtp.messages)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert not is_our_server(record.server)  # stopped by the next start
        assert not path.exists()
        store = Store(db)
        with store.session() as s:
            runs = list(s.scalars(select(RunRow).order_by(RunRow.id)))
        store.close()
        assert [(r.status, r.finished_at is not None) for r in runs] == [("crashed", True), ("finished", True)]
        assert len(alerts) == 1 and "run_crashed" in alerts[0][1].get_body(("plain",)).get_content()
    finally:
        try:
            os.killpg(killed.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _pid(value: dict[str, int]) -> ProcessId:
    """A :class:`ProcessId` from its JSON form."""
    return ProcessId(**value)
