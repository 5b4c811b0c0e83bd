"""Reconcile deprovisions a member who left only once they were told (issue 7, point 3)."""

import datetime

import pytest
from django.utils import timezone

from campusconf.accounts.lifecycle import open_account
from campusconf.accounts.states import Cause
from campusconf.directory.models import LeaverNotice
from campusconf.members.actions import mark_left
from campusconf.provisioning.engine.reconcile import Snapshot, leavers

pytestmark = pytest.mark.django_db


@pytest.fixture
def leaver_account(make_member, make_service, settings):
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "LEAVER_GRACE_DAYS": 30}
    member = make_member()
    service = make_service()
    account = open_account(member, service, cause=Cause.MEMBER)
    mark_left(member, datetime.date(2026, 1, 1))
    return account


def test_a_leaver_past_the_grace_period_but_never_told_keeps_the_account(leaver_account):
    now = timezone.now()
    assert leavers(leaver_account.service, Snapshot(leaver_account.service), now) == []


def test_a_leaver_told_and_due_is_deprovisioned_by_reconcile(leaver_account):
    now = timezone.now()
    LeaverNotice.objects.create(
        member=leaver_account.member,
        left_on=leaver_account.member.left_on,
        notified_at=now - datetime.timedelta(days=10),
        deprovision_on=timezone.localdate(now),
    )
    snap = Snapshot(leaver_account.service)
    assert leavers(leaver_account.service, snap, now) == [leaver_account.pk]


def test_a_leaver_told_but_not_yet_due_keeps_the_account(leaver_account):
    now = timezone.now()
    LeaverNotice.objects.create(
        member=leaver_account.member,
        left_on=leaver_account.member.left_on,
        notified_at=now,
        deprovision_on=timezone.localdate(now) + datetime.timedelta(days=7),
    )
    assert leavers(leaver_account.service, Snapshot(leaver_account.service), now) == []
