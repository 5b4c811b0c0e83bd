"""Waiting accounts read one at a time (provisioning/engine/watch.py): the row follows the wait,
the back-off by age, the read allowance, the member who looks, and an activation at the
sandbox seen without a reconcile pass."""

import datetime
from typing import Any

import pytest
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State
from campusconf.provisioning import worker
from campusconf.provisioning.engine import watch
from campusconf.provisioning.models import Job, ReconcilePass, Watch
from campusconf.provisioning.verbs import actions
from tests.fixtures.sandbox import activate_webex

from .test_reactivate import _Mails

pytestmark = pytest.mark.django_db(transaction=True)


def invited(make_member: Any, service: Any) -> Account:
    account = actions.apply_for_service(make_member(), service)
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.INVITED
    return account


def test_the_back_off_doubles_with_age_and_leaves_old_waits_to_reconcile(settings: Any) -> None:
    settings.CAMPUSCONF_ENGINE = {"RECONCILE_MINUTES": 30}
    day = 24 * 3600
    assert watch.interval(0, webhooks=False) == 180
    assert watch.interval(day - 1, webhooks=False) == 180
    assert watch.interval(day, webhooks=False) == 360
    assert watch.interval(3 * day, webhooks=False) == 1440
    assert watch.interval(4 * day, webhooks=False) is None  # 48 min ≥ the 30-min pass
    assert watch.interval(0, webhooks=True) == 600
    assert watch.interval(2 * day, webhooks=True) is None


def test_the_row_follows_the_wait_and_an_activation_is_seen_without_a_pass(
    make_member: Any, webex_service: Any, vendor: Any
) -> None:
    account = invited(make_member, webex_service)
    row = Watch.objects.get(account=account)
    assert (row.next_check_at - row.since).total_seconds() == 180  # Webex sends no webhooks

    activate_webex(_Mails(vendor), account.member.mail_address)  # type: ignore[arg-type]
    assert watch.run() == 0  # not due yet
    later = row.since + datetime.timedelta(seconds=181)
    assert watch.run(now=later) == 1
    worker.drain(max_seconds=60)
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert not ReconcilePass.objects.exists()
    assert not Watch.objects.filter(account=account).exists()  # the wait is over


def test_a_member_looking_brings_the_check_forward_once_per_interval(
    make_member: Any, webex_service: Any, settings: Any
) -> None:
    account = invited(make_member, webex_service)
    row = Watch.objects.get(account=account)
    now = row.since + datetime.timedelta(seconds=5)
    assert watch.looked_at([account.pk], now=now) == 1
    assert Watch.objects.get(pk=row.pk).next_check_at == row.since + datetime.timedelta(seconds=30)
    assert watch.looked_at([account.pk], now=now) == 0  # the next poll writes nothing
    due = row.since + datetime.timedelta(seconds=30)
    assert watch.run(now=due) == 1
    after = Watch.objects.get(pk=row.pk)
    assert after.checked_at == due and after.next_check_at == due + datetime.timedelta(seconds=180)
    # Still looking: the next check comes 30 s after this one, not 180 s.
    assert watch.looked_at([account.pk], now=due + datetime.timedelta(seconds=5)) == 1
    assert Watch.objects.get(pk=row.pk).next_check_at == due + datetime.timedelta(seconds=30)


def test_checks_stay_within_the_read_allowance(
    make_member: Any, zoom_service: Any, settings: Any
) -> None:
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "WATCH_READ_SHARE": 0.001}
    assert watch.reads_per_minute(zoom_service) == 1  # 0.1 % of 1,800 "light" a minute
    accounts = [invited(make_member, zoom_service) for _ in range(3)]
    Job.objects.all().delete()
    later = timezone.now() + datetime.timedelta(seconds=700)  # Zoom's first check: 600 s
    ticks = [later + datetime.timedelta(seconds=5 * n) for n in range(36)]  # three minutes
    assert [sum(watch.run(now=t) for t in ticks[m * 12 : m * 12 + 12]) for m in range(3)] == [
        1,
        1,
        1,
    ]  # one read a minute, one wait each: Zoom reads users one at a time
    assert Job.objects.filter(kind=Job.Kind.OBSERVE).count() == 3
    assert {j.account_id for j in Job.objects.all()} == {a.pk for a in accounts}


def test_the_back_off_stops_at_the_ceiling_of_reads_of_many() -> None:
    day = 24 * 3600
    # 1,000 waits, 85 a read, 15 reads a minute: 12 reads, 48 s; twice that is 96 s.
    assert watch.ceiling(1000, 85, 15) == 96
    assert watch.ceiling(10_000, 85, 15) == 944  # 118 reads
    assert watch.ceiling(10_000, 1, 15) is None  # one at a time: the back-off as before
    assert watch.interval(3 * day, webhooks=False, ceiling=96) == 180  # never below the first
    assert watch.interval(3 * day, webhooks=False, ceiling=944) == 944  # 1,440 without it
    assert watch.interval(20 * day, webhooks=False, ceiling=944) == 944  # still watched
    assert watch.interval(0, webhooks=False, ceiling=944) == 180
    assert watch.interval(20 * day, webhooks=False, ceiling=1800) is None  # the pass's turn


def test_a_resend_ends_the_wait_and_the_new_invitation_begins_another(
    make_member: Any, webex_service: Any
) -> None:
    account = invited(make_member, webex_service)
    first = Watch.objects.get(account=account).since
    actions.resend_invitation(account, cause=Cause.STAFF)
    assert not Watch.objects.filter(account=account).exists()  # requested: the job's
    worker.drain(max_seconds=60)
    assert Watch.objects.get(account=account).since > first
