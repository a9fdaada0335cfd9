"""The nightly deployment: 02:00 every night, Paris local time."""

from __future__ import annotations

from flows.nightly import nightly_deployment


def test_nightly_deployment_runs_at_two_in_paris() -> None:
    deployment = nightly_deployment()
    assert deployment.name == "nightly"
    [schedule] = deployment.schedules
    assert schedule.schedule.cron == "0 2 * * *"
    assert schedule.schedule.timezone == "Europe/Paris"
