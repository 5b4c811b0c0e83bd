"""S15 on Zoom: a user Zoom has just created is "User does not exist" for minutes.

The check Zoom's ``user.created`` webhook triggers comes within seconds of the create:
it respects the same window the reconcile pass gives a new user (``FRESH_SECONDS``) and
looks again after it instead of concluding the user is gone; and an account the job
gave up on while Zoom did not list its user is moved back to invited by the pass that
finds the pending user, its first invitation's dates kept.
"""

import datetime

import pytest
from django.utils import timezone

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import State
from campusconf.portal.models import Notice
from campusconf.provisioning import worker
from campusconf.provisioning.engine import account_job, vendors
from campusconf.provisioning.engine.reconcile import run_pass
from campusconf.provisioning.engine.steps import Retry, give_up_account
from campusconf.provisioning.models import Job

from .test_zoom_google_sign_in import invited

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lagging(vendor, settings):
    """Every new Zoom user invisible to reads for ten minutes; the engine's window 120 s."""
    vendor.faults(consistency_delay_seconds=600, consistency_rate=1.0)
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "FRESH_SECONDS": 120}
    yield vendor
    vendor.faults()


def test_the_webhook_check_right_after_the_create_waits_for_the_window(
    make_member, zoom_service, lagging
):
    account = invited(make_member, zoom_service)
    conn = vendors.connector_for(zoom_service)
    step = account_job.look(conn, account)
    # Not "gone at the vendor": look again once the window has passed, no attempt used.
    assert isinstance(step, Retry) and step.count is False
    assert 100 < (step.wait or 0) <= 125
    account.refresh_from_db()
    assert account.state == State.INVITED and account.vendor_user_id
    assert not AccountEvent.objects.filter(account=account, reason_code="gone_at_vendor").exists()


def test_after_the_window_a_user_still_missing_is_gone(make_member, zoom_service, lagging):
    account = invited(make_member, zoom_service)
    past = timezone.now() - datetime.timedelta(seconds=300)
    Account.objects.filter(pk=account.pk).update(updated_at=past)
    account.refresh_from_db()
    conn = vendors.connector_for(zoom_service)
    account_job.look(conn, account)  # what reconcile would conclude too
    account.refresh_from_db()
    assert account.state == State.REQUESTED


def test_a_failed_account_whose_user_turns_up_pending_is_invited_again(
    make_member, zoom_service, vendor
):
    account = invited(make_member, zoom_service)
    sent, expires = account.invitation_sent_at, account.invitation_expires_at
    # The job gave up while Zoom did not list the user ("could not be created").
    give_up_account(account.pk, "User does not exist", "retries", exhausted=True)
    Job.objects.all().delete()
    account.refresh_from_db()
    assert account.state == State.FAILED

    record = run_pass(zoom_service)
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert record.changes.get("to_invited") == 1
    assert (account.invitation_sent_at, account.invitation_expires_at) == (sent, expires)
    last = AccountEvent.objects.filter(account=account).latest("pk")
    assert (last.from_state, last.reason_code) == (State.FAILED, "found_pending")
    # The first link still works: the member is not sent a second invitation mail.
    worker.drain(max_seconds=30)
    assert Notice.objects.filter(account=account, kind="invitation_sent").count() == 1
