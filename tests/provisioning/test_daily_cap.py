"""Zoom's daily create cap, with or without its headers (Errata Z-e), against the sandbox.

Documented: a 429 with ``X-RateLimit-Type: Daily-limit`` and an ISO ``Retry-After``;
reported: the same 429 with neither. Either way creates pause until the vendor's reset
(00:00 UTC when the answer names no time), nothing fails, and every finish estimate
says so: the campaign's, ``campusconf status`` and the member's card.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.portal.next_step import next_step
from campusconf.provisioning import worker
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.models import Campaign, Job
from campusconf.provisioning.queueing import rate_limits
from campusconf.provisioning.verbs import actions, campaign_progress
from vendor_sandbox.launcher import Sandbox, connector_settings, running_sandbox, vendor_env

pytestmark = pytest.mark.django_db(transaction=True)
CAP = 2


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    env = {"SANDBOX_LIMITS": "on", "SANDBOX_ZOOM_DAILY_CREATE_LIMIT": str(CAP)}
    with running_sandbox(Path(tmp_path_factory.mktemp("capped")), **env) as sandbox:
        yield sandbox


@pytest.fixture
def capped_zoom(capped, make_service, engine_settings, monkeypatch) -> Any:
    capped.reset()
    for key, value in vendor_env(capped.credentials()).items():
        monkeypatch.setenv(key, value)
    vendors.close_all()
    # The engine does not count the cap ahead here (RATE_LIMITS off): the vendor's 429 is
    # what stops it, as when other apps of the same Zoom account used the day's creates.
    yield make_service(
        slug="zoom",
        vendor="zoom",
        invitation_validity_days=30,
        connector_settings=connector_settings("zoom", capped.credentials()),
    )
    vendors.close_all()


def next_utc_midnight() -> datetime.datetime:
    today = datetime.datetime.now(datetime.UTC).date()
    return datetime.datetime.combine(today, datetime.time(), datetime.UTC) + datetime.timedelta(1)


@pytest.mark.parametrize("headers", ["documented", "absent"])
def test_the_daily_cap_pauses_creates_until_the_reset_and_nothing_fails(
    capped, capped_zoom, make_member, headers
):
    capped.admin("PUT", "variants", json={"zoom_daily_cap_headers": headers})
    members = [make_member() for _ in range(CAP + 1)]
    accounts = [actions.apply_for_service(m, capped_zoom) for m in members]
    # The paused job waits for the reset: the drain runs out of time, not of work.
    worker.drain(max_seconds=5)
    states = sorted(Account.objects.filter(pk__in=[a.pk for a in accounts]).values_list("state"))
    assert states == [(State.INVITED,)] * CAP + [(State.REQUESTED,)]
    reset = next_utc_midnight()
    assert rate_limits.creates_paused_until(capped_zoom) == reset
    waiting = Job.objects.get(status=Job.Status.QUEUED)
    # The wait used up no attempt: a 429 created nothing, and nothing will fail of it.
    assert waiting.run_after >= reset and waiting.attempts == 0
    assert not Account.objects.filter(state=State.FAILED).exists()
    assert len(capped.zoom_users()) == CAP


def test_every_finish_estimate_says_creates_wait_for_the_reset(capped, capped_zoom, make_member):
    capped.admin("PUT", "variants", json={"zoom_daily_cap_headers": "absent"})
    members = [make_member() for _ in range(CAP + 1)]
    campaign = Campaign.objects.create(service=capped_zoom, planned=len(members))
    for member in members:
        actions.apply_for_service(member, capped_zoom, campaign=campaign)
    worker.drain(max_seconds=5)
    reset = next_utc_midnight()
    now = timezone.now()

    finish = campaign_progress.finish_estimate(capped_zoom, 1, now=now)
    assert finish.paused_until == reset and finish.at is not None and finish.at > reset
    text = campaign_progress.progress(campaign).finish_estimate
    assert "creates paused until" in text and "resume by themselves" in text

    from campusconf.backoffice import campaigns as desk

    shown = desk.progress(campaign, now)
    assert shown.paused_until == reset and shown.finish_at is not None and shown.finish_at > reset

    out = io.StringIO()
    call_command("status", stdout=out)
    # campusconf status speaks the configured time zone, as the back office does.
    assert f"creates paused until {timezone.localtime(reset):%Y-%m-%d %H:%M}" in out.getvalue()
    assert f"#{campaign.pk} finish about" in out.getvalue()

    waiting = Account.objects.get(state=State.REQUESTED)
    card = next_step(waiting.member, capped_zoom, waiting, now)
    assert card.kind == "requested" and card.facts["paused_until"] == reset
