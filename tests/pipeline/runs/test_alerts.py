"""Failure alerts (``pipeline.runs.alerts``): what an alert says, without personal data, and how it is sent.

The nightly flows' failure hook that calls them is tested in ``tests/flows/test_alert_staff.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from pipeline.errors import NotTheFormError
from pipeline.runs.alerts import AlertStatus, alert_text, describe_failure, send_alert
from tests.support.alerts import PUPIL, alert_settings
from tests.support.mail_servers import SmtpSink, free_port


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


@pytest.mark.mail_server  # aiosmtpd, started during the second wait
def test_the_alert_waits_for_the_smtp_server_with_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    settings = alert_settings(monkeypatch, port)
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
    settings = alert_settings(monkeypatch, free_port())  # nothing listens there
    failure = describe_failure("clas-nightly", "calm-otter", "0000", datetime.now(UTC), None)
    waits: list[float] = []
    assert send_alert(settings.alerts, settings.mail.smtp, failure, sleep=waits.append) is AlertStatus.FAILED
    assert waits == [10.0, 20.0]  # three tries in all
