"""Licence end (S16): told once 30 days before, then the staff's policy; renewing cancels."""

import datetime

import pytest

from campusconf.accounts.models import Account
from campusconf.accounts.states import DesiredState, State
from campusconf.audit.models import AuditEntry
from campusconf.portal.models import Notice
from campusconf.provisioning.engine import schedules
from campusconf.provisioning.models import Job
from campusconf.provisioning.verbs.licence_end import sweep
from campusconf.services.models import Service

END = datetime.date(2027, 3, 31)


@pytest.fixture
def ending(make_member, make_service, make_account):
    service = make_service(seats=10, valid_until=END)
    accounts = {
        "active": make_account(make_member(), service, State.ACTIVE),
        "invited": make_account(make_member(), service, State.INVITED),
        "failed": make_account(make_member(), service, State.FAILED),
    }
    return service, accounts


def notices(service):
    return Notice.objects.filter(account__service=service, kind="licence_ending")


@pytest.mark.django_db
def test_members_are_told_once_from_30_days_before(ending):
    service, accounts = ending
    assert sweep(END - datetime.timedelta(days=31)).notified == 0
    assert not notices(service).exists()
    assert sweep(END - datetime.timedelta(days=30)).notified == 2
    told = set(notices(service).values_list("account_id", flat=True))
    assert told == {accounts["active"].pk, accounts["invited"].pk}  # not the failed one
    # The next runs (another worker, the next hour, the next day) tell nobody again.
    assert sweep(END - datetime.timedelta(days=30)).notified == 0
    assert sweep(END - datetime.timedelta(days=29)).notified == 0
    assert notices(service).count() == 2


@pytest.mark.django_db
def test_at_the_end_the_live_accounts_are_suspended(ending):
    _service, accounts = ending
    assert sweep(END).suspended == 0  # the last day is still covered
    done = sweep(END + datetime.timedelta(days=1))
    assert done.suspended == 2  # active and invited; the failed one has no vendor user to stop
    states = {k: Account.objects.get(pk=a.pk).state for k, a in accounts.items()}
    assert states == {"active": State.SUSPENDED, "invited": State.SUSPENDED, "failed": State.FAILED}
    # Each suspension goes to the vendor through a job.
    assert Job.objects.filter(account=accounts["active"], status=Job.Status.QUEUED).exists()
    assert sweep(END + datetime.timedelta(days=2)).suspended == 0  # once


@pytest.mark.django_db
def test_deprovision_policy_removes_the_accounts(ending):
    service, _accounts = ending
    Service.objects.filter(pk=service.pk).update(licence_end_policy="deprovision")
    done = sweep(END + datetime.timedelta(days=1))
    assert done.deprovisioned == 3
    assert set(Account.objects.filter(service=service).values_list("desired_state", flat=True)) == {
        DesiredState.ABSENT
    }


@pytest.mark.django_db
def test_keep_policy_changes_nothing(ending):
    service, accounts = ending
    Service.objects.filter(pk=service.pk).update(licence_end_policy="keep")
    done = sweep(END + datetime.timedelta(days=1))
    assert (done.suspended, done.deprovisioned) == (0, 0)
    assert Account.objects.get(pk=accounts["active"].pk).state == State.ACTIVE
    service.refresh_from_db()
    assert service.licence_end_applied_for == END


@pytest.mark.django_db
def test_renewing_cancels_the_end_and_announces_the_new_one(ending, staff_client):
    service, accounts = ending
    sweep(END - datetime.timedelta(days=10))
    assert notices(service).count() == 2
    renewed = END.replace(year=END.year + 1)
    response = staff_client.post(
        f"/staff/services/{service.slug}/terms/",
        {
            "plan_name": service.plan_name,
            "seats": "10",
            "valid_until": renewed.isoformat(),
            "licence_end_policy": "suspend",
            "reason": "renewed for a year",
        },
    )
    assert response.status_code == 302
    audit = AuditEntry.objects.get(action="service.licence_terms")
    assert audit.reason == "renewed for a year"
    # The old end passes: nothing happens.
    assert sweep(END + datetime.timedelta(days=1)).suspended == 0
    assert Account.objects.get(pk=accounts["active"].pk).state == State.ACTIVE
    # 30 days before the new end, the members are told again, about the new date.
    assert sweep(renewed - datetime.timedelta(days=30)).notified == 2
    assert notices(service).filter(key__contains=renewed.isoformat()).count() == 2


@pytest.mark.django_db
def test_the_terms_page_shows_the_policy_and_the_queue(ending, staff_client):
    service, _ = ending
    page = staff_client.get(f"/staff/services/{service.slug}/terms/").content.decode()
    assert "2027-03-31" in page
    assert "will be told on 2027-03-01" in page
    assert 'name="licence_end_policy"' in page
    sweep(END - datetime.timedelta(days=30))
    page = staff_client.get(f"/staff/services/{service.slug}/terms/").content.decode()
    assert "have been told" in page


@pytest.mark.django_db
def test_a_bad_policy_is_refused_and_nothing_changes(ending, staff_client):
    service, _ = ending
    response = staff_client.post(
        f"/staff/services/{service.slug}/terms/",
        {
            "plan_name": service.plan_name,
            "seats": "10",
            "valid_until": END.isoformat(),
            "licence_end_policy": "explode",
            "reason": "testing",
        },
    )
    assert response.status_code == 200
    assert "licence_end_policy" in response.context["form"].errors
    service.refresh_from_db()
    assert service.licence_end_policy == "suspend"
    assert not AuditEntry.objects.filter(action="service.licence_terms").exists()


@pytest.mark.django_db
def test_the_workers_schedule_runs_the_sweep(ending):
    service, _ = ending
    schedules.ensure()
    from campusconf.provisioning.models import Schedule

    assert Schedule.objects.filter(name="licence-end").exists()
    assert Schedule.objects.filter(name="seats").exists()
    Service.objects.filter(pk=service.pk).update(valid_until=datetime.date.today())
    schedules.run("licence-end")
    assert notices(service).count() == 2


@pytest.mark.django_db
def test_after_the_end_nobody_new_gets_an_account_unless_kept(ending, make_member):
    from campusconf.provisioning.verbs import actions

    service, _ = ending
    Service.objects.filter(pk=service.pk).update(valid_until=datetime.date(2020, 3, 31))
    service.refresh_from_db()
    with pytest.raises(actions.NotEligible, match="ended on 2020-03-31"):
        actions.apply_for_service(make_member(), service)
    Service.objects.filter(pk=service.pk).update(licence_end_policy="keep")
    service.refresh_from_db()
    assert actions.apply_for_service(make_member(), service).state == State.REQUESTED


# The licence_ending mail says "we will write to you again": each way out does.
def follow_ups(service, kind):
    return set(
        Notice.objects.filter(account__service=service, kind=kind).values_list("account_id", "key")
    )


@pytest.mark.django_db
def test_the_suspended_are_told_their_account_is_suspended(ending):
    service, accounts = ending
    sweep(END + datetime.timedelta(days=1))
    key = f"licence-end:{END}"
    assert follow_ups(service, "licence_ended_suspended") == {
        (accounts["active"].pk, key),
        (accounts["invited"].pk, key),
    }
    sweep(END + datetime.timedelta(days=2))
    assert Notice.objects.filter(kind="licence_ended_suspended").count() == 2  # once


@pytest.mark.django_db
def test_the_removed_are_told_their_account_goes(ending):
    service, accounts = ending
    Service.objects.filter(pk=service.pk).update(licence_end_policy="deprovision")
    sweep(END + datetime.timedelta(days=1))
    told = {account_id for account_id, _key in follow_ups(service, "licence_ended_removed")}
    assert told == {a.pk for a in accounts.values()}
    assert not Notice.objects.filter(kind="licence_ended_suspended").exists()


@pytest.mark.django_db
def test_a_renewal_is_announced_to_those_told_once(ending, staff_client):
    service, accounts = ending
    sweep(END - datetime.timedelta(days=10))
    renewed = END.replace(year=END.year + 1)
    staff_client.post(
        f"/staff/services/{service.slug}/terms/",
        {
            "plan_name": service.plan_name,
            "seats": "10",
            "valid_until": renewed.isoformat(),
            "licence_end_policy": "suspend",
            "reason": "renewed for a year",
        },
    )
    assert not Notice.objects.filter(kind="licence_renewed").exists()  # the sweep sends it
    assert sweep(END - datetime.timedelta(days=9)).notified == 2
    key = f"licence-renewed:{END}"
    assert follow_ups(service, "licence_renewed") == {
        (accounts["active"].pk, key),
        (accounts["invited"].pk, key),
    }
    assert sweep(END - datetime.timedelta(days=8)).notified == 0  # once
    # The new end is announced in its turn, 30 days before it.
    assert sweep(renewed - datetime.timedelta(days=30)).notified == 2
    assert Notice.objects.filter(kind="licence_renewed").count() == 2


@pytest.mark.django_db
def test_an_earlier_end_is_not_a_renewal(ending):
    service, _accounts = ending
    sweep(END - datetime.timedelta(days=10))
    Service.objects.filter(pk=service.pk).update(valid_until=END - datetime.timedelta(days=5))
    sweep(END - datetime.timedelta(days=9))
    assert not Notice.objects.filter(kind="licence_renewed").exists()


@pytest.mark.django_db
def test_the_keep_policy_tells_those_told_that_it_is_renewed(ending):
    service, accounts = ending
    Service.objects.filter(pk=service.pk).update(licence_end_policy="keep")
    sweep(END - datetime.timedelta(days=10))
    sweep(END + datetime.timedelta(days=1))
    told = {account_id for account_id, _key in follow_ups(service, "licence_renewed")}
    assert told == {accounts["active"].pk, accounts["invited"].pk}
    # Not told twice when the date moves after the end was kept.
    Service.objects.filter(pk=service.pk).update(valid_until=END.replace(year=END.year + 1))
    sweep(END + datetime.timedelta(days=2))
    assert Notice.objects.filter(kind="licence_renewed").count() == 2


# A renewal after the "suspend" policy was applied gives back what the policy took.
RENEWED = END.replace(year=END.year + 1)


@pytest.fixture
def ended_and_suspended(ending, make_member, make_account):
    """The suspend policy applied at END; one more account the staff suspended before,
    for a reason of their own."""
    from campusconf.accounts.states import Cause
    from campusconf.provisioning.verbs.actions import suspend_account

    service, accounts = ending
    staff_suspended = make_account(make_member(), service, State.ACTIVE)
    suspend_account(staff_suspended, cause=Cause.STAFF, reason="misuse reported")
    accounts = {**accounts, "staff": staff_suspended}
    assert sweep(END + datetime.timedelta(days=1)).suspended == 2
    return service, accounts


def states_of(accounts):
    return {k: Account.objects.get(pk=a.pk).state for k, a in accounts.items()}


@pytest.mark.django_db
def test_renewing_after_the_suspend_policy_restores_only_what_it_suspended(
    ended_and_suspended, staff_client
):
    service, accounts = ended_and_suspended
    response = staff_client.post(
        f"/staff/services/{service.slug}/terms/",
        {
            "plan_name": service.plan_name,
            "seats": "10",
            "valid_until": RENEWED.isoformat(),
            "licence_end_policy": "suspend",
            "reason": "renewed late",
        },
    )
    assert response.status_code == 302
    done = sweep(END + datetime.timedelta(days=5))
    assert (done.restored, done.suspended) == (2, 0)
    assert states_of(accounts) == {
        "active": State.REQUESTED,  # the job reactivates the vendor user it had
        "invited": State.REQUESTED,
        "failed": State.FAILED,
        "staff": State.SUSPENDED,  # suspended for another reason: the staff decide
    }
    restored = [accounts["active"], accounts["invited"]]
    for account in restored:
        event = account.events.order_by("-created_at", "-id").first()
        assert (event.from_state, event.to_state, event.cause) == (
            "suspended",
            "requested",
            "engine",
        )
        assert event.reason_code == "licence_renewed"
        assert event.reason_params == {"until": str(RENEWED), "ended": str(END)}
        assert Job.objects.filter(account=account, status=Job.Status.QUEUED).exists()
    key = f"licence-renewed:{END}"
    assert follow_ups(service, "licence_renewed") == {(a.pk, key) for a in restored}
    # Once: the next runs restore and tell nobody again.
    assert sweep(END + datetime.timedelta(days=6)).restored == 0
    assert Notice.objects.filter(kind="licence_renewed").count() == 2
    service.refresh_from_db()
    assert service.licence_end_applied_for is None
    # The jobs reactivate the vendor users (tests/provisioning); then the new end is
    # announced and applied in its turn.
    Account.objects.filter(pk__in=[a.pk for a in restored]).update(state=State.ACTIVE)
    assert sweep(RENEWED - datetime.timedelta(days=30)).notified == 2
    assert sweep(RENEWED + datetime.timedelta(days=1)).suspended == 2


@pytest.mark.django_db
def test_removing_the_end_date_restores_too(ended_and_suspended):
    service, accounts = ended_and_suspended
    Service.objects.filter(pk=service.pk).update(valid_until=None)
    assert sweep(END + datetime.timedelta(days=3)).restored == 2
    assert states_of(accounts)["active"] == State.REQUESTED
    assert states_of(accounts)["staff"] == State.SUSPENDED


@pytest.mark.django_db
def test_a_new_end_that_has_passed_as_well_restores_nothing(ended_and_suspended):
    service, accounts = ended_and_suspended
    Service.objects.filter(pk=service.pk).update(valid_until=END + datetime.timedelta(days=2))
    assert sweep(END + datetime.timedelta(days=5)).restored == 0
    assert states_of(accounts)["active"] == State.SUSPENDED
    # Renewed for real later: the accounts the first end suspended come back.
    Service.objects.filter(pk=service.pk).update(valid_until=RENEWED)
    assert sweep(END + datetime.timedelta(days=6)).restored == 2
    assert states_of(accounts)["staff"] == State.SUSPENDED


@pytest.mark.django_db
def test_an_account_the_staff_suspended_again_after_the_end_stays_suspended(
    ended_and_suspended,
):
    from campusconf.accounts.states import Cause
    from campusconf.provisioning.verbs.actions import reprovision_account, suspend_account

    service, accounts = ended_and_suspended
    active = Account.objects.get(pk=accounts["active"].pk)
    reprovision_account(active, cause=Cause.STAFF, reason="exception granted")
    Account.objects.filter(pk=active.pk).update(state=State.ACTIVE)
    suspend_account(Account.objects.get(pk=active.pk), cause=Cause.STAFF, reason="misuse")
    Service.objects.filter(pk=service.pk).update(valid_until=RENEWED)
    assert sweep(END + datetime.timedelta(days=5)).restored == 1  # the invited one only
    assert states_of(accounts)["active"] == State.SUSPENDED


@pytest.mark.django_db
def test_the_restored_hear_their_account_works_again_even_before_the_job_ran(
    ended_and_suspended, settings
):
    from django.core import mail

    from campusconf.portal import outbox

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    service, accounts = ended_and_suspended
    outbox.send_due()  # the end's own mails
    mail.outbox.clear()
    Service.objects.filter(pk=service.pk).update(valid_until=RENEWED)
    sweep(END + datetime.timedelta(days=5))
    assert Account.objects.get(pk=accounts["active"].pk).state == State.REQUESTED
    assert outbox.send_due() == 2  # not skipped although the accounts are still requested
    bodies = [m.body for m in mail.outbox]
    assert len(bodies) == 2
    assert all("works again as it was" in b or "再び使えるように" in b for b in bodies)
