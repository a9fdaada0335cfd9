"""A failed nightly run e-mails staff once, in French, without personal data (real aiosmtpd on loopback).

The flows' failure hook (``alert_staff``) on the real Prefect server; what the alert says and how it is
sent are tested in ``tests/pipeline/runs/test_alerts.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

import flows.nightly as nightly_flow
from flows.mail_intake import mail_intake
from pipeline.runs.alerts import ALERT_SUBJECT_FR
from pipeline.settings import Settings
from pipeline.store import RunAlreadyActiveError, Store
from tests.support.alerts import PUPIL, STAFF, alert_settings
from tests.support.mail_servers import SmtpSink, smtp_server
from tests.support.prefect_server import PrefectServer


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A loopback SMTP server that keeps what it receives."""
    with smtp_server() as sink:
        yield sink


def _body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_failed_run_sends_one_french_alert_without_personal_data(
        on_prefect_server: PrefectServer, settings: Settings, smtp: SmtpSink, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    alert_settings(monkeypatch, smtp.port)
    missing = tmp_path / f"fiches de {PUPIL}" / "absent"

    with pytest.raises(FileNotFoundError):
        nightly_flow.nightly(str(missing))

    assert len(smtp.messages) == 1
    [(recipients, message)] = smtp.messages
    assert recipients == [STAFF]
    assert message["Subject"] == ALERT_SUBJECT_FR
    assert message["Auto-Submitted"] == "auto-generated"
    body = _body(message)
    assert "L'exécution « clas-nightly » du " in body and "(heure de Paris) a échoué." in body
    assert "Code de l'erreur : FileNotFoundError" in body
    assert "aucune donnée personnelle" in body
    raw = message.as_string()
    assert "Dupont" not in raw and "fiches de" not in raw and str(tmp_path) not in raw


def test_a_run_stopped_by_another_alerts_with_its_reason_and_a_good_run_sends_nothing(
        on_prefect_server: PrefectServer, settings: Settings, smtp: SmtpSink, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = alert_settings(monkeypatch, smtp.port)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    store = Store(settings.database_url)
    try:
        with store.exclusive_run(), pytest.raises(RunAlreadyActiveError):
            nightly_flow.nightly(str(inbox))
    finally:
        store.close()
    assert len(smtp.messages) == 1
    body = _body(smtp.messages[0][1])
    assert "Code de l'erreur : run_already_active" in body
    assert RunAlreadyActiveError.default_reason_fr in body

    assert nightly_flow.nightly(str(inbox))["balanced"] is True
    assert len(smtp.messages) == 1  # a run that did not fail sends nothing


def test_no_alert_without_a_staff_address(on_prefect_server: PrefectServer, settings: Settings, smtp: SmtpSink,
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alert_settings(monkeypatch, smtp.port)
    monkeypatch.setenv("CLAS_ALERTS__STAFF_ADDRESS", "")
    with pytest.raises(FileNotFoundError):
        nightly_flow.nightly(str(tmp_path / "absent"))
    assert smtp.messages == []


def test_the_mail_flow_alerts_too() -> None:
    assert nightly_flow.alert_staff in mail_intake.on_failure_hooks
    assert nightly_flow.alert_staff in nightly_flow.nightly.on_failure_hooks


class _Killed(BaseException):
    """What a signal handler raises in a run (Prefect turns SIGTERM into such a BaseException): a crash."""


def test_a_crashed_run_alerts_staff(on_prefect_server: PrefectServer, settings: Settings, smtp: SmtpSink,
                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 17: a Crashed run (not Failed) sent no alert.
    alert_settings(monkeypatch, smtp.port)
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    def killed(_folder: Path) -> list[Path]:
        raise _Killed

    monkeypatch.setattr(nightly_flow, "list_inbox", killed)
    with pytest.raises(_Killed):
        nightly_flow.nightly(str(inbox))

    assert len(smtp.messages) == 1
    body = _body(smtp.messages[0][1])
    assert "Code de l'erreur : run_crashed" in body
    assert "Exécution interrompue brutalement" in body
    assert nightly_flow.alert_staff in mail_intake.on_crashed_hooks


def test_a_run_killed_outright_is_marked_crashed_and_alerted_by_the_next_run(
        on_prefect_server: PrefectServer, settings: Settings, smtp: SmtpSink, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A SIGKILLed run runs no hook and leaves its runs row unfinished: the next run finds it.
    from pipeline.store import RunRow

    alert_settings(monkeypatch, smtp.port)
    store = Store(settings.database_url)
    killed_run = store.start_run("folder:/srv/clas/inbox")  # as the killed process left it
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    summary = nightly_flow.nightly(str(inbox))

    assert summary["balanced"] is True
    with store.session() as s:
        rows = {r.id: r for r in s.scalars(select(RunRow))}
    store.close()
    killed = rows[killed_run]
    assert (killed.status, killed.finished_at is not None) == ("crashed", True)
    assert killed.end_reason is not None and "sans avoir enregistré sa fin" in killed.end_reason
    assert [r.status for i, r in rows.items() if i != killed_run] == ["finished"]
    assert len(smtp.messages) == 1
    body = _body(smtp.messages[0][1])
    assert "Code de l'erreur : run_crashed" in body and f"exécution n° {killed_run}" in body
    # Once marked, it is not alerted again.
    nightly_flow.nightly(str(inbox))
    assert len(smtp.messages) == 1
