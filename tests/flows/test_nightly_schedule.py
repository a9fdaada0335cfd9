"""The nightly schedule across the daylight-saving changes of Paris: exactly one run per local night.

Dates come from the Prefect server's own ``CronSchedule.get_dates`` (what its
scheduler service calls to plan runs), built from the deployment's schedule.
Prefect 3 walks the cron's wall-clock times with croniter and places each in the
zone with ``whenever`` (first occurrence of a repeated time, a missing time moved
forward by the gap):

* last Sunday of March (2027-03-28): 02:00 does not exist in Paris (clocks go from
  02:00 CET to 03:00 CEST), so that night's run is at 03:00 CEST, 01:00 UTC, and
  the night still has exactly one run;
* last Sunday of October (2026-10-25, 2027-10-31): 02:00-02:59 happens twice; the
  run is at the first 02:00 (CEST, 00:00 UTC) only, never again at 02:00 CET, even
  when the scheduler plans again from inside the repeated hour.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prefect.server.schemas.schedules import CronSchedule

from flows.nightly import nightly_deployment

PARIS = ZoneInfo("Europe/Paris")


def _server_schedule() -> CronSchedule:
    """The deployment's schedule as the server reads it."""
    [schedule] = nightly_deployment().schedules
    return CronSchedule.model_validate(schedule.schedule.model_dump(include={"cron", "timezone", "day_or"}))


def _runs(start: datetime, end: datetime) -> list[datetime]:
    dates = asyncio.run(_server_schedule().get_dates(start=start, end=end))
    return list(dates)


def _night(when: datetime) -> date:
    """The local night a run belongs to (a run at 03:00 belongs to the same night as one at 02:00)."""
    return (when.astimezone(PARIS) - timedelta(hours=12)).date()


@pytest.mark.parametrize("sunday", [date(2027, 3, 28), date(2026, 10, 25), date(2027, 10, 31)])
def test_one_run_per_local_night_around_the_change(sunday: date) -> None:
    start = datetime(sunday.year, sunday.month, sunday.day, 12, tzinfo=PARIS) - timedelta(days=7)
    runs = _runs(start, start + timedelta(days=14))
    assert len(runs) == 14
    per_night = Counter(_night(r) for r in runs)
    assert set(per_night.values()) == {1}
    assert len(per_night) == 14
    for run in runs:
        local = run.astimezone(PARIS)
        expected = (3, 0) if local.date() == date(2027, 3, 28) else (2, 0)
        assert (local.hour, local.minute) == expected, local


def test_march_sunday_runs_at_three_summer_time() -> None:
    [run] = _runs(datetime(2027, 3, 28, 0, 0, tzinfo=PARIS), datetime(2027, 3, 28, 12, 0, tzinfo=PARIS))
    assert run.astimezone(UTC) == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)
    assert run.astimezone(PARIS).utcoffset() == timedelta(hours=2)  # 03:00 CEST: 02:00 never happened


@pytest.mark.parametrize("sunday", [date(2026, 10, 25), date(2027, 10, 31)])
def test_october_sunday_runs_once_at_the_first_two_o_clock(sunday: date) -> None:
    first = datetime(sunday.year, sunday.month, sunday.day, 0, 0, tzinfo=UTC)  # 02:00 CEST
    second = first + timedelta(hours=1)  # 02:00 CET, the repeated hour
    night_start = datetime(sunday.year, sunday.month, sunday.day, 0, 0, tzinfo=PARIS)
    runs = _runs(night_start, night_start + timedelta(hours=12))
    assert [r.astimezone(UTC) for r in runs] == [first]
    assert second not in {r.astimezone(UTC) for r in runs}
    # The scheduler plans again every few seconds from "now": from any minute of that night,
    # before, inside or after the repeated hour, the next run is that night's only run or the next night's.
    next_night = first + timedelta(days=1, hours=1)  # 02:00 CET the next day
    now = first - timedelta(hours=2)
    while now < first + timedelta(hours=4):
        [upcoming] = asyncio.run(_server_schedule().get_dates(n=1, start=now))
        assert upcoming.astimezone(UTC) == (first if now <= first else next_night), now
        now += timedelta(minutes=10)
