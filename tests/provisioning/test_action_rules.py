"""The action layer's rules, written out by hand: which action each account and cause
may take, the lane each caller's work runs in, what each action records, and the
member's resend and "I have released it" limits at their edges."""

import datetime

import pytest
from django.utils import timezone, translation

from campusconf.accounts.lifecycle import IllegalTransition, transition
from campusconf.accounts.models import Account, AccountEvent, Application
from campusconf.accounts.states import Cause, State
from campusconf.provisioning.models import Campaign, Job
from campusconf.provisioning.queueing import job_queue
from campusconf.provisioning.verbs import actions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def service(make_service):
    return make_service()


def live_job(account):
    return Job.objects.get(account=account, status__in=job_queue.LIVE)


def at(account, state):
    Account.objects.filter(pk=account.pk).update(state=state)
    account.refresh_from_db()
    return account


@pytest.mark.parametrize(
    ("cause", "lane"),
    [("member", 0), ("staff", 10), ("engine", 20), ("reconcile", 20), ("vendor", 20)],
)
def test_each_callers_work_runs_in_its_lane(cause, lane):
    assert actions.lane_for(cause) == lane
    assert actions.lane_for(cause, Campaign()) == 30  # a campaign's work waits for everyone's


# action -> states in which a member (M) or staff (S) may take it, by hand from the
# lifecycle rules: resend and retry need a resendable or retryable state; the member
# cannot re-provision an active account; anyone may have an account removed.
PERMITTED = {
    "resend_invitation": {
        "M": {"invited", "conversion_pending", "invitation_expired", "unlicensed"},
        "S": {"invited", "conversion_pending", "invitation_expired", "unlicensed"},
    },
    "retry_account": {"M": {"failed", "held_elsewhere"}, "S": {"failed", "held_elsewhere"}},
    "suspend_account": {
        "M": {"invited", "active", "unlicensed"},
        "S": {"invited", "active", "unlicensed"},
    },
    "deprovision_account": {
        "M": {s for s in State.values if s != "removed"},
        "S": {s for s in State.values if s != "removed"},
    },
    "reprovision_account": {
        "M": {
            "invited",
            "conversion_pending",
            "held_elsewhere",
            "invitation_expired",
            "unlicensed",
            "failed",
            "suspended",
            "removed",
        },
        "S": {
            "invited",
            "conversion_pending",
            "held_elsewhere",
            "invitation_expired",
            "active",
            "unlicensed",
            "failed",
            "suspended",
            "removed",
        },
    },
    "reconcile_account": {"M": set(State.values), "S": set(State.values)},
}


@pytest.mark.parametrize("action", sorted(PERMITTED))
def test_which_actions_each_state_offers(make_member, service, action):
    account = actions.apply_for_service(make_member(), service)
    for letter, cause in (("M", Cause.MEMBER), ("S", Cause.STAFF)):
        offered = set()
        for state in State.values:
            if actions.permitted(action, at(account, state), cause):
                offered.add(state)
        assert offered == PERMITTED[action][letter], (action, cause)


def test_the_engine_may_suspend_but_reconcile_may_not(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "active")
    assert actions.permitted("suspend_account", account, Cause.ENGINE)
    assert not actions.permitted("suspend_account", account, Cause.RECONCILE)
    assert not actions.permitted("no_such_action", account, Cause.STAFF)


def test_applying_records_the_application_and_queues_the_members_job(
    make_member, service, django_user_model
):
    staff = django_user_model.objects.create_user(username="desk", password="x")
    before = timezone.now()
    account = actions.apply_for_service(
        make_member(), service, cause=Cause.STAFF, actor=staff, reason="on behalf"
    )
    application = Application.objects.get()
    assert (application.account, application.outcome) == (account, "accepted")
    assert application.decided_at >= before
    job = live_job(account)
    assert (job.kind, job.lane, job.campaign) == ("sync", 10, None)
    event = AccountEvent.objects.get(account=account)
    assert (event.cause, event.actor_id, event.reason) == ("staff", staff.pk, "on behalf")


def test_an_ineligible_member_is_told_why_and_nothing_is_written(make_member, make_service):
    service = make_service(eligible_roles="faculty")
    with pytest.raises(actions.NotEligible) as refused:
        actions.apply_for_service(make_member(student=True), service)
    assert refused.value.reason == "This service is offered to: faculty."
    assert str(refused.value) == "This service is offered to: faculty."
    assert not Account.objects.exists() and not Application.objects.exists()


def last_event(account):
    return AccountEvent.objects.filter(account=account).order_by("-pk").first()


def test_each_action_records_its_default_reason_job_and_lane(make_member, service):
    member = make_member()
    account = at(actions.apply_for_service(member, service), "invited")
    Job.objects.all().delete()

    actions.resend_invitation(account, cause=Cause.MEMBER)
    assert (last_event(account).reason_code, account.state) == ("resend", "requested")
    assert (live_job(account).kind, live_job(account).lane) == ("reinvite", 0)
    Job.objects.all().delete()

    at(account, "active")
    actions.suspend_account(account, cause=Cause.STAFF)
    assert (last_event(account).reason_code, account.state) == ("suspend", "suspended")
    assert (live_job(account).kind, live_job(account).lane) == ("sync", 10)
    Job.objects.all().delete()

    actions.reprovision_account(account, cause=Cause.STAFF)
    account.refresh_from_db()
    assert (last_event(account).reason_code, account.state, account.desired_state) == (
        "reprovision",
        "requested",
        "present",
    )
    assert (live_job(account).kind, live_job(account).lane) == ("sync", 10)
    Job.objects.all().delete()

    at(account, "failed")
    actions.retry_account(account, cause=Cause.ENGINE)
    assert (last_event(account).reason_code, account.state) == ("retry", "requested")
    assert live_job(account).lane == 20
    Job.objects.all().delete()

    at(account, "held_elsewhere")
    actions.released_elsewhere(account)
    assert last_event(account).reason_code == "released_elsewhere"
    assert (last_event(account).cause, live_job(account).lane) == ("member", 0)
    Job.objects.all().delete()

    actions.reconcile_account(account)
    assert (live_job(account).kind, live_job(account).lane) == ("observe", 10)


def test_a_reason_given_is_kept(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "active")
    actions.suspend_account(account, cause=Cause.STAFF, reason="left the lab")
    assert last_event(account).reason == "left the lab"


def test_deprovision_changes_the_intent_not_the_state(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "active")
    Job.objects.all().delete()
    actions.deprovision_account(account, cause=Cause.MEMBER)
    assert (account.state, account.desired_state) == ("active", "absent")
    assert (live_job(account).kind, live_job(account).lane) == ("sync", 0)
    at(account, "removed")
    with pytest.raises(IllegalTransition):
        actions.deprovision_account(account, cause=Cause.STAFF)


@pytest.mark.parametrize(
    ("state", "verb", "cause"),
    [
        ("active", "resend_invitation", Cause.MEMBER),
        ("active", "retry_account", Cause.STAFF),
        ("failed", "released_elsewhere", Cause.MEMBER),
        ("failed", "suspend_account", Cause.STAFF),
        ("active", "reprovision_account", Cause.MEMBER),
    ],
)
def test_a_refused_action_changes_nothing_and_queues_nothing(
    make_member, service, state, verb, cause
):
    account = at(actions.apply_for_service(make_member(), service), state)
    Job.objects.all().delete()
    events = AccountEvent.objects.filter(account=account).count()
    with pytest.raises(IllegalTransition):
        getattr(actions, verb)(account, cause=cause)
    assert Account.objects.get(pk=account.pk).state == state
    assert AccountEvent.objects.filter(account=account).count() == events
    assert not Job.objects.exists()


def member_resends(account, times):
    for _ in range(times):
        actions.resend_invitation(account, cause=Cause.MEMBER)
        transition(account, State.INVITED, cause=Cause.ENGINE)


def test_a_member_may_resend_once_per_ten_minutes_and_three_times_a_day(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "invited")
    now = timezone.now()
    assert actions.resend_allowed(account, now) == (True, "")
    member_resends(account, 1)
    assert actions.resend_allowed(account, now + datetime.timedelta(minutes=9)) == (
        False,
        "An invitation was sent again a few minutes ago; please wait 10 minutes.",
    )
    assert actions.resend_allowed(account, now + datetime.timedelta(minutes=11)) == (True, "")
    member_resends(account, 2)
    assert actions.resend_allowed(account, now + datetime.timedelta(minutes=11)) == (
        False,
        "The invitation was sent again too often today; please ask the help desk.",
    )
    # A day later the three have aged out of the count.
    assert actions.resend_allowed(account, now + datetime.timedelta(days=1, minutes=1)) == (
        True,
        "",
    )


def test_the_staff_s_resends_do_not_count_against_the_member(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "invited")
    for _ in range(3):
        actions.resend_invitation(account, cause=Cause.STAFF)
        transition(account, State.INVITED, cause=Cause.ENGINE)
    assert actions.resend_allowed(account, timezone.now()) == (True, "")


def test_no_resend_where_there_is_no_invitation(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "active")
    assert actions.resend_allowed(account, timezone.now()) == (
        False,
        "There is no invitation to send again for this account.",
    )


def member_releases(account, times):
    for _ in range(times):
        actions.released_elsewhere(account)
        transition(account, State.HELD_ELSEWHERE, cause=Cause.ENGINE)


def test_i_have_released_it_once_per_five_minutes_and_five_times_a_day(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "held_elsewhere")
    now = timezone.now()
    assert actions.released_allowed(account, now) == (True, "")
    member_releases(account, 1)
    assert actions.released_allowed(account, now + datetime.timedelta(minutes=4)) == (
        False,
        "We asked the vendor a few minutes ago; please wait 5 minutes.",
    )
    assert actions.released_allowed(account, now + datetime.timedelta(minutes=6)) == (True, "")
    member_releases(account, 3)
    assert actions.released_allowed(account, now + datetime.timedelta(minutes=6)) == (True, "")
    member_releases(account, 1)
    assert actions.released_allowed(account, now + datetime.timedelta(minutes=6)) == (
        False,
        "We asked the vendor too often today; please ask the help desk.",
    )
    assert actions.released_allowed(account, now + datetime.timedelta(days=1, minutes=1)) == (
        True,
        "",
    )


def test_nothing_to_release_unless_held_elsewhere(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "failed")
    assert actions.released_allowed(account, timezone.now()) == (
        False,
        "There is nothing to check again for this account.",
    )


def test_each_action_records_who_took_it(make_member, service, django_user_model):
    staff = django_user_model.objects.create_user(username="desk", password="x")
    account = at(actions.apply_for_service(make_member(), service), "active")
    steps = [
        ("suspend_account", "active"),
        ("reprovision_account", "suspended"),
        ("retry_account", "failed"),
        ("released_elsewhere", "held_elsewhere"),
    ]
    for verb, state in steps:
        at(account, state)
        Job.objects.all().delete()
        getattr(actions, verb)(account, cause=Cause.STAFF, actor=staff)
        assert last_event(account).actor_id == staff.pk, verb


@pytest.mark.parametrize(
    ("state", "verb", "cause", "target"),
    [
        ("active", "resend_invitation", "member", "requested"),
        ("active", "retry_account", "staff", "requested"),
        ("failed", "released_elsewhere", "member", "requested"),
        ("failed", "suspend_account", "staff", "suspended"),
        ("active", "reprovision_account", "member", "requested"),
        ("removed", "deprovision_account", "staff", "removed"),
    ],
)
def test_a_refusal_names_the_move_refused(make_member, service, state, verb, cause, target):
    account = at(actions.apply_for_service(make_member(), service), state)
    with pytest.raises(IllegalTransition) as refused:
        getattr(actions, verb)(account, cause=Cause(cause))
    assert (refused.value.source, refused.value.target, refused.value.cause) == (
        state,
        target,
        cause,
    )


def test_only_this_accounts_member_resends_count(make_member, service):
    mine = at(actions.apply_for_service(make_member(), service), "invited")
    theirs = at(actions.apply_for_service(make_member(), service), "invited")
    member_resends(theirs, 3)
    # The member reporting a Google sign-in moves the account, but sends nothing.
    transition(mine, State.UNLICENSED, cause=Cause.MEMBER)
    assert actions.resend_allowed(mine, timezone.now()) == (True, "")


def test_only_this_accounts_member_releases_count(make_member, service):
    mine = at(actions.apply_for_service(make_member(), service), "held_elsewhere")
    theirs = at(actions.apply_for_service(make_member(), service), "held_elsewhere")
    member_releases(theirs, 5)
    for _ in range(5):  # the staff's retries are not the member's presses
        actions.retry_account(mine, cause=Cause.STAFF)
        transition(mine, State.HELD_ELSEWHERE, cause=Cause.ENGINE)
    transition(mine, State.REMOVED, cause=Cause.MEMBER)  # withdrawn: not a release either
    at(mine, "held_elsewhere")
    assert actions.released_allowed(mine, timezone.now()) == (True, "")


def test_five_minutes_after_a_release_the_member_may_press_again(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "held_elsewhere")
    member_releases(account, 1)
    pressed = (
        AccountEvent.objects.filter(account=account, to_state="requested", cause="member")
        .order_by("-pk")
        .first()
        .created_at
    )
    assert actions.released_allowed(account, pressed + datetime.timedelta(minutes=5)) == (True, "")


def test_reprovisioning_wants_the_account_present_again(make_member, service):
    account = at(actions.apply_for_service(make_member(), service), "suspended")
    actions.deprovision_account(account, cause=Cause.STAFF)
    Job.objects.all().delete()
    actions.reprovision_account(account, cause=Cause.STAFF)
    account.refresh_from_db()
    assert (account.state, account.desired_state) == ("requested", "present")
