"""The nightly deployment: 02:00 every night, Paris local time."""

from __future__ import annotations

from flows.nightly import nightly_deployment


def test_nightly_deployment_runs_at_two_in_paris() -> None:
    deployment = nightly_deployment()
    assert deployment.name == "nightly"
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "Europe/Paris"


def test_with_a_mailbox_configured_the_nightly_run_reads_it(monkeypatch) -> None:  # noqa: ANN001
    from flows.nightly import nightly_deployments
    from pipeline.settings import Settings

    assert [d.name for d in nightly_deployments(Settings())] == ["nightly"]
    monkeypatch.setenv("CLAS_MAIL__HOST", "imap.ville.example")
    [deployment] = nightly_deployments(Settings())
    assert deployment.name == "nightly-mail"
    assert deployment.schedules[0].schedule.timezone == "Europe/Paris"
