"""A failed nightly run e-mails staff once, in French, without personal data (real aiosmtpd on loopback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

import flows.nightly as nightly_flow
from flows.mail_intake import mail_intake
from pipeline.errors import NotTheFormError
from pipeline.runs.alerts import ALERT_SUBJECT_FR, AlertStatus, alert_text, describe_failure, send_alert
from pipeline.settings import Settings
from pipeline.store import RunAlreadyActiveError, Store
from tests.mail.servers import SmtpSink, free_port, smtp_server
from tests.orchestration.prefect_server import PrefectServer

STAFF = "equipe-clas@ville-argenteuil.example"
PUPIL = "Léa Dupont-Moreau"
"""An invented pupil's name, put where a careless alert would copy it (a path, an exception message)."""


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    """A loopback SMTP server that keeps what it receives."""
    with smtp_server() as sink:
        yield sink


def _alert_settings(monkeypatch: pytest.MonkeyPatch, port: int) -> Settings:
    monkeypatch.setenv("CLAS_ALERTS__STAFF_ADDRESS", STAFF)
    monkeypatch.setenv("CLAS_MAIL__SMTP__HOST", "127.0.0.1")
    monkeypatch.setenv("CLAS_MAIL__SMTP__PORT", str(port))
    monkeypatch.setenv("CLAS_MAIL__SMTP__SECURITY", "none")
    monkeypatch.setenv("CLAS_MAIL__SMTP__SENDER", "clas@ville-argenteuil.example")
    return Settings()


def _body(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_a_failed_run_sends_one_french_alert_without_personal_data(
        on_prefect_server: PrefectServer, settings: Settings, smtp: SmtpSink, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _alert_settings(monkeypatch, smtp.port)
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
    settings = _alert_settings(monkeypatch, smtp.port)
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
    _alert_settings(monkeypatch, smtp.port)
    monkeypatch.setenv("CLAS_ALERTS__STAFF_ADDRESS", "")
    with pytest.raises(FileNotFoundError):
        nightly_flow.nightly(str(tmp_path / "absent"))
    assert smtp.messages == []


def test_the_mail_flow_alerts_too() -> None:
    assert nightly_flow.alert_staff in mail_intake.on_failure_hooks
    assert nightly_flow.alert_staff in nightly_flow.nightly.on_failure_hooks


def test_the_alert_copies_a_known_error_s_reason_and_only_the_type_of_others() -> None:
    at = datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    known = describe_failure("clas-nightly", "calm-otter", "0000", at,
                             NotTheFormError(f"form of {PUPIL}", page_count=1))
    assert known.error_code == "not_the_form" and known.reason_fr == NotTheFormError.default_reason_fr
    other = describe_failure("clas-nightly", "calm-otter", "0000", at, ValueError(f"bad phone for {PUPIL}"))
    assert other.error_code == "ValueError"
    for failure in (known, other):
        text = alert_text(failure)
        assert "Dupont" not in text
        assert "du 28/03/2027 à 03:00 (heure de Paris)" in text  # 01:00 UTC is 03:00 summer time that day


@contextmanager
def _sink_on(port: int, sink: SmtpSink) -> Iterator[None]:
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN202, N802 - aiosmtpd's hook
            sink.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content,
                                                                               policy=policy.default)))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield
    finally:
        controller.stop()


def test_the_alert_waits_for_the_smtp_server_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    settings = _alert_settings(monkeypatch, port)
    failure = describe_failure("clas-nightly", "calm-otter", "0000", datetime.now(UTC), None)
    sink = SmtpSink(port)
    waits: list[float] = []
    with ExitStack() as server:

        def sleep_then_start(seconds: float) -> None:
            waits.append(seconds)
            if len(waits) == 2:  # the server comes back during the second wait
                server.enter_context(_sink_on(port, sink))

        status = send_alert(settings.alerts, settings.mail.smtp, failure, sleep=sleep_then_start)
    assert status is AlertStatus.SENT
    assert waits == [10.0, 20.0]
    assert len(sink.messages) == 1


def test_an_unreachable_smtp_server_fails_the_alert_quietly(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _alert_settings(monkeypatch, free_port())  # nothing listens there
    failure = describe_failure("clas-nightly", "calm-otter", "0000", datetime.now(UTC), None)
    waits: list[float] = []
    assert send_alert(settings.alerts, settings.mail.smtp, failure, sleep=waits.append) is AlertStatus.FAILED
    assert waits == [10.0, 20.0]  # three tries in all
