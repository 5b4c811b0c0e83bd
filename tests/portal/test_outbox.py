"""Notices are queued with the state change that calls for them and sent once, later,
over real SMTP; a mail server that is down delays them but loses none."""

import datetime
import socket

import pytest
from django.db import transaction
from django.utils import timezone

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.states import Cause, State
from campusconf.portal import outbox
from campusconf.portal.models import Notice
from campusconf.portal.notices import queue_notice
from campusconf.provisioning.engine import schedules

pytestmark = pytest.mark.django_db


def kinds(account):
    return list(Notice.objects.filter(account=account).values_list("kind", flat=True))


def body(message, subtype):
    return message.get_body((subtype,)).get_content()


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_applying_and_the_invitation_each_queue_one_notice(make_member, make_service):
    account = open_account(make_member(), make_service(), cause=Cause.MEMBER)
    assert kinds(account) == ["application_received"]
    transition(account, State.INVITED, cause=Cause.ENGINE)
    assert kinds(account) == ["application_received", "invitation_sent"]


def test_a_resend_does_not_say_application_received_again(make_member, make_service, account_in):
    account = account_in(make_member(), make_service(), State.UNLICENSED)
    assert kinds(account) == ["application_received", "invitation_sent", "wrong_activation"]
    transition(account, State.REQUESTED, cause=Cause.MEMBER)
    assert kinds(account).count("application_received") == 1


def test_expiry_and_wrong_activation_queue_their_notices(make_member, make_service, account_in):
    expired = account_in(make_member(), make_service(), State.INVITATION_EXPIRED)
    assert "invitation_expired" in kinds(expired)
    wrong = account_in(make_member(), make_service(slug="zoom", vendor="zoom"), State.UNLICENSED)
    assert "wrong_activation" in kinds(wrong)


def test_a_rolled_back_change_leaves_no_notice(make_member, make_service, account_in):
    account = account_in(make_member(), make_service(), State.REQUESTED)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition(account, State.INVITED, cause=Cause.ENGINE)
        raise RuntimeError("the job failed after the transition")
    account.refresh_from_db()
    assert account.state == State.REQUESTED
    assert kinds(account) == ["application_received"]


def test_sent_once_in_the_members_language_as_text_and_html(smtp, make_member, make_service):
    member = make_member(language="ja")
    account = open_account(member, make_service(), cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE)

    assert outbox.send_due() == 2
    assert outbox.send_due(later(120)) == 0  # nothing is sent twice
    assert [m["To"] for m in smtp.messages] == [member.mail_address] * 2
    received, invited = smtp.messages
    assert "申請を受け付けました" in received["Subject"]
    assert "招待" in invited["Subject"]
    assert "山田 太郎 様" in body(invited, "plain")
    assert 'lang="ja"' in body(invited, "html")
    assert set(Notice.objects.values_list("status", flat=True)) == {Notice.Status.SENT}


def test_smtp_down_means_later_not_lost_and_not_twice(settings, make_member, make_service):
    account = open_account(make_member(language="en"), make_service(), cause=Cause.MEMBER)
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port

    assert outbox.send_due() == 0
    notice = Notice.objects.get(account=account)
    assert notice.status == Notice.Status.PENDING
    assert notice.attempts == 1 and "Connection" in notice.last_error
    assert notice.next_attempt_at > timezone.now()  # not hammered every minute
    assert outbox.send_due() == 0  # still waiting for its retry time
    assert Notice.objects.get(pk=notice.pk).attempts == 1


def test_sent_after_the_mail_server_is_back(smtp, settings, make_member, make_service):
    account = open_account(make_member(language="en"), make_service(), cause=Cause.MEMBER)
    good_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # refused
    assert outbox.send_due() == 0 and smtp.messages == []
    settings.EMAIL_PORT = good_port
    assert outbox.send_due(later(5)) == 1
    assert outbox.send_due(later(120)) == 0
    assert len(smtp.messages) == 1
    notice = Notice.objects.get(account=account)
    assert notice.status == Notice.Status.SENT and notice.attempts == 2
    assert "We received your application" in body(smtp.messages[0], "plain")


def test_a_claimed_notice_is_not_taken_by_a_second_worker(make_member, make_service):
    account = open_account(make_member(), make_service(), cause=Cause.MEMBER)
    notice = Notice.objects.get(account=account)
    now = timezone.now()
    assert outbox._claim(notice, now)
    assert not outbox._claim(notice, now)  # the other worker's stale copy loses


def test_a_notice_whose_moment_passed_is_skipped(smtp, make_member, make_service, account_in):
    account = account_in(make_member(language="en"), make_service(), State.INVITED)
    transition(account, State.ACTIVE, cause=Cause.ENGINE)  # activated before the sender ran
    outbox.send_due()
    subjects = [m["Subject"] for m in smtp.messages]
    assert len(subjects) == 1 and "application" in subjects[0]
    assert Notice.objects.get(kind="invitation_sent").status == Notice.Status.SKIPPED


def test_the_daily_sweep_reminds_once_per_invitation(make_member, make_service, account_in):
    now = timezone.now()
    soon = account_in(
        make_member(),
        make_service(),
        State.INVITED,
        invitation_expires_at=now + datetime.timedelta(days=2),
    )
    account_in(
        make_member(),
        make_service(slug="zoom", vendor="zoom"),
        State.INVITED,
        invitation_expires_at=now + datetime.timedelta(days=5),
    )
    assert outbox.queue_expiring(now) == 1
    assert outbox.queue_expiring(now + datetime.timedelta(hours=24)) == 0
    assert Notice.objects.filter(kind="invitation_expiring").get().account == soon


def test_queue_notice_is_idempotent_per_occasion(make_member, make_service, account_in):
    account = account_in(make_member(), make_service(), State.ACTIVE)
    assert queue_notice("licence_ending", account, key="2027-03-31") is not None
    assert queue_notice("licence_ending", account, key="2027-03-31") is None
    assert queue_notice("licence_ending", account, key="2028-03-31") is not None
    with pytest.raises(ValueError, match="unknown notice kind 'licence_end'"):
        queue_notice("licence_end", account)


def test_the_workers_schedules_send_and_sweep(smtp, make_member, make_service, account_in):
    schedules.ensure()
    from campusconf.provisioning.models import Schedule

    names = set(Schedule.objects.values_list("name", flat=True))
    assert {"notices", "notices-expiring"} <= names
    account_in(
        make_member(language="en"),
        make_service(),
        State.INVITED,
        invitation_expires_at=timezone.now() + datetime.timedelta(days=1),
    )
    schedules.run("notices-expiring")
    schedules.run("notices")
    subjects = [m["Subject"] for m in smtp.messages]
    assert any("expires in 3 days" in s for s in subjects), subjects


def test_a_conversion_request_is_announced_with_its_own_mail(smtp, make_member, make_service):
    member = make_member(language="en")
    account = open_account(member, make_service(slug="zoom", vendor="zoom"), cause=Cause.MEMBER)
    transition(account, State.CONVERSION_PENDING, cause=Cause.ENGINE)
    assert kinds(account) == ["application_received", "invitation_sent"]
    assert outbox.send_due() == 2
    text = body(smtp.messages[1], "plain")
    assert "invited you to join their Zoom account" in text and "Approve Request" in text


def test_a_campaign_invitation_is_no_application_of_the_members(make_member, make_service):
    account = open_account(make_member(), make_service(), cause=Cause.STAFF, reason="campaign 1")
    assert kinds(account) == []
    transition(account, State.INVITED, cause=Cause.ENGINE)
    assert kinds(account) == ["invitation_sent"]


def test_an_unreachable_server_stops_the_batch(settings, make_member, make_service):
    accounts = [open_account(make_member(), make_service(), cause=Cause.MEMBER)]
    accounts.append(
        open_account(make_member(), make_service(slug="zoom", vendor="zoom"), cause=Cause.MEMBER)
    )
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # refused
    assert outbox.send_due() == 0
    # One try, not one time-out per notice: the other waits for the next run, untouched.
    tried = sorted(Notice.objects.values_list("attempts", flat=True))
    assert tried == [0, 1]


def test_a_refused_recipient_does_not_hold_up_the_others(smtp, make_member, make_service):
    member = make_member(language="en")
    smtp.refuse = member.mail_address
    refused = open_account(member, make_service(), cause=Cause.MEMBER)
    other = open_account(
        make_member(language="en"), make_service(slug="zoom", vendor="zoom"), cause=Cause.MEMBER
    )
    assert outbox.send_due() == 1
    assert Notice.objects.get(account=refused).status == Notice.Status.PENDING
    assert Notice.objects.get(account=other).status == Notice.Status.SENT


def test_events_written_in_bulk_queue_their_notices_too(make_member, make_service, account_in):
    # The engine's batch settle writes events with bulk_create and sends the signal itself.
    from campusconf.accounts.lifecycle import account_transitioned
    from campusconf.accounts.models import Account, AccountEvent

    account = account_in(make_member(), make_service(), State.REQUESTED)
    event = AccountEvent(account=account, from_state=State.REQUESTED, to_state=State.INVITED)
    event.cause = Cause.ENGINE
    Account.objects.filter(pk=account.pk).update(state=State.INVITED)
    with transaction.atomic():
        (written,) = AccountEvent.objects.bulk_create([event])
        account_transitioned.send(sender=Account, account=account, event=written)
    assert kinds(account) == ["application_received", "invitation_sent"]
    assert Notice.objects.get(kind="invitation_sent").key


def test_a_queued_notice_brings_the_senders_schedule_forward(
    make_member, make_service, account_in, django_capture_on_commit_callbacks
):
    # The vendor's mail leaves as its API call returns; ours must not wait for the
    # schedule's next turn (issue #22: it came ~14 s after the vendor's).
    from campusconf.provisioning.models import Schedule

    schedules.ensure()
    Schedule.objects.filter(name="notices").update(next_run_at=later(10))
    account = account_in(make_member(), make_service(), State.REQUESTED)
    with django_capture_on_commit_callbacks(execute=True):
        transition(account, State.INVITED, cause=Cause.ENGINE)
    assert Schedule.objects.get(name="notices").next_run_at <= timezone.now()


def test_a_state_change_without_a_notice_leaves_the_schedule_alone(
    make_member, make_service, account_in, django_capture_on_commit_callbacks
):
    from campusconf.provisioning.models import Schedule

    schedules.ensure()
    account = account_in(make_member(), make_service(), State.INVITED)
    Schedule.objects.filter(name="notices").update(next_run_at=later(10))
    with django_capture_on_commit_callbacks(execute=True):
        transition(account, State.ACTIVE, cause=Cause.ENGINE)
    assert Schedule.objects.get(name="notices").next_run_at > timezone.now()


@pytest.mark.parametrize(
    ("vendor", "new", "existing"),
    [
        (
            "webex",
            ("has invited you to Cisco Webex", "“Activate”"),
            ("Convert to Enterprise", "“Review”", "“Convert account”"),
        ),
        (
            "zoom",
            ("“Activate Zoom Account”", "Sign up with password"),
            ("invited you to join their Zoom account", "“Approve Request”", "“Confirm and Switch”"),
        ),
    ],
)
def test_the_invitation_notice_names_both_mails_the_vendor_may_send(
    smtp, make_member, make_service, vendor, new, existing
):
    # S7: neither API shows whether the address had an account of its own, so the
    # notice names the invitation and the conversion / join request, as the card does.
    member = make_member(language="en")
    account = open_account(member, make_service(slug=vendor, vendor=vendor), cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    assert outbox.send_due() == 2
    text = body(smtp.messages[1], "plain")
    for words in (*new, *existing, member.mail_address):
        assert words in text, words


def test_a_mailbox_that_refuses_mail_is_shown_on_the_portal_until_mail_goes_through(
    smtp, client, make_member, make_service
):
    """A university mailbox not activated yet refuses mail for good (5xx); the vendors'
    invitations are lost in it without a word, so the member is told on /my/."""
    from campusconf.signin.members import sign_in_user

    member = make_member(language="en")
    client.force_login(
        sign_in_user(member.common_id),
        backend="campusconf.signin.backends.DevelopmentSessionBackend",
    )
    smtp.refuse = member.mail_address
    open_account(member, make_service(), cause=Cause.MEMBER)
    outbox.send_due()
    assert outbox.mailbox_refuses(member)
    page = client.get("/my/").content.decode()
    assert 'data-mailbox="refused"' in page
    assert f"Your university mailbox {member.mail_address} refuses mail" in page

    smtp.refuse = None  # the member activated it: the next attempt goes through
    assert outbox.send_due(now=later(2)) == 1
    assert not outbox.mailbox_refuses(member)
    assert 'data-mailbox="refused"' not in client.get("/my/").content.decode()


def test_a_server_that_is_down_is_no_refused_mailbox(settings, make_member, make_service):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    member = make_member(language="en")
    open_account(member, make_service(), cause=Cause.MEMBER)
    outbox.send_due()
    assert Notice.objects.get().attempts == 1
    assert not outbox.mailbox_refuses(member)


def test_a_notice_refused_for_days_keeps_its_hourly_retry(smtp, make_member, make_service):
    """Found by the rehearsal: the 42nd failure's pause overflowed and the schedule died."""
    member = make_member(language="en")
    smtp.refuse = member.mail_address
    account = open_account(member, make_service(), cause=Cause.MEMBER)
    Notice.objects.filter(account=account).update(attempts=200)
    assert outbox.send_due() == 0
    notice = Notice.objects.get(account=account)
    assert notice.attempts == 201
    assert notice.next_attempt_at - timezone.now() <= outbox.LONGEST_RETRY
