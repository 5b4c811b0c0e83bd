"""A member marked inactive over SCIM is told, then loses their accounts after the grace period."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from campusconf.accounts.lifecycle import open_account
from campusconf.accounts.states import Cause, DesiredState
from campusconf.directory.leavers import process_leavers
from campusconf.directory.models import LeaverNotice
from campusconf.members.models import Member
from tests.directory.conftest import user_payload

pytestmark = pytest.mark.django_db
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(9)))


@pytest.fixture
def grace(settings):
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "LEAVER_GRACE_DAYS": 30}
    settings.CAMPUSCONF_LEAVER_NOTICE_DAYS = 7


def deactivate_over_scim(scim, language="ja"):
    user = scim("post", "/Users", user_payload(preferredLanguage=language)).json()
    body = {
        "schemas": [PATCH],
        "Operations": [{"op": "Replace", "path": "active", "value": "False"}],
    }
    assert scim("patch", f"/Users/{user['id']}", body).status_code in (200, 204)
    return Member.objects.get(common_id="1234567890")


def test_a_member_made_inactive_is_told_then_loses_accounts_after_the_grace_period(
    scim, make_service, grace
):
    member = deactivate_over_scim(scim)
    account = open_account(member, make_service(), cause=Cause.MEMBER)
    left = member.left_on
    assert left is not None

    assert process_leavers(at(left + datetime.timedelta(days=10))).notified == 0
    assert mail.outbox == []

    report = process_leavers(at(left + datetime.timedelta(days=23)))
    assert report.notified == 1 and report.deprovisioned == 0
    [notice] = mail.outbox
    assert notice.to == ["1234567890@g.ecc.example.ac.jp"]
    assert "ウェベックス" in notice.body and "ヘルプデスク" in notice.body
    assert notice.alternatives[0][1] == "text/html"
    account.refresh_from_db()
    assert account.desired_state == DesiredState.PRESENT

    assert process_leavers(at(left + datetime.timedelta(days=29))).deprovisioned == 0
    assert len(mail.outbox) == 1  # told once

    report = process_leavers(at(left + datetime.timedelta(days=30)))
    assert report.deprovisioned == 1
    account.refresh_from_db()
    assert account.desired_state == DesiredState.ABSENT
    assert LeaverNotice.objects.get().deprovisioned_at is not None
    assert process_leavers(at(left + datetime.timedelta(days=31))).deprovisioned == 0


def test_a_long_gone_member_still_gets_the_full_notice_period(scim, make_service, grace):
    member = deactivate_over_scim(scim, language="en")
    account = open_account(member, make_service(), cause=Cause.MEMBER)
    late = member.left_on + datetime.timedelta(days=90)
    assert process_leavers(at(late)).notified == 1
    assert "will be removed" in mail.outbox[0].body
    assert process_leavers(at(late + datetime.timedelta(days=6))).deprovisioned == 0
    assert process_leavers(at(late + datetime.timedelta(days=7))).deprovisioned == 1
    account.refresh_from_db()
    assert account.desired_state == DesiredState.ABSENT


def test_a_member_who_came_back_keeps_their_accounts(scim, make_service, grace):
    member = deactivate_over_scim(scim)
    account = open_account(member, make_service(), cause=Cause.MEMBER)
    left = member.left_on
    member.status, member.left_on = Member.Status.ACTIVE, None
    member.save()
    report = process_leavers(at(left + datetime.timedelta(days=60)))
    assert (report.notified, report.deprovisioned) == (0, 0)
    account.refresh_from_db()
    assert account.desired_state == DesiredState.PRESENT


def test_nothing_is_removed_while_the_notice_cannot_be_sent(scim, make_service, grace, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_PORT = 9  # nothing listens there
    settings.EMAIL_TIMEOUT = 1
    member = deactivate_over_scim(scim)
    account = open_account(member, make_service(), cause=Cause.MEMBER)
    report = process_leavers(at(member.left_on + datetime.timedelta(days=60)))
    assert report.mail_failures == 1 and report.deprovisioned == 0
    account.refresh_from_db()
    assert account.desired_state == DesiredState.PRESENT
