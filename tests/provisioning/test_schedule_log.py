"""A worker's log names the hourly schedules it runs, not the ones that come every 5 s."""

import datetime
import logging

import pytest
from django.utils import timezone

from campusconf.provisioning.engine import schedules
from campusconf.provisioning.models import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def ran(monkeypatch):
    names: list[str] = []
    monkeypatch.setattr(schedules, "run", names.append)
    monkeypatch.setattr(schedules, "_ensured", [float("inf")])  # only the rows made here
    return names


def _due(name: str, interval: int) -> None:
    past = timezone.now() - datetime.timedelta(seconds=1)
    Schedule.objects.create(name=name, interval_seconds=interval, next_run_at=past)


def test_frequent_schedule_runs_without_an_info_line(ran, caplog):
    _due("campaigns", 5)
    with caplog.at_level(logging.DEBUG, logger="campusconf.provisioning"):
        assert schedules.run_due()
    assert ran == ["campaigns"]
    levels = {r.levelno for r in caplog.records if "schedule campaigns running" in r.message}
    assert levels == {logging.DEBUG}


def test_hourly_schedule_is_logged_at_info(ran, caplog):
    _due("licence-end", 3600)
    with caplog.at_level(logging.INFO, logger="campusconf.provisioning"):
        assert schedules.run_due()
    assert ran == ["licence-end"]
    assert any(
        r.levelno == logging.INFO and "schedule licence-end running" in r.message
        for r in caplog.records
    )


def test_a_changed_interval_reaches_an_existing_schedule():
    schedules.ensure()
    Schedule.objects.filter(name="notices").update(interval_seconds=60)  # an older release
    schedules.ensure()
    assert Schedule.objects.get(name="notices").interval_seconds == 10
