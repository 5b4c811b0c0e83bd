"""The seat cap holds on every apply path, under concurrency; the rest wait, first come
first served, and the engine lets them in when seats free up."""

import threading

import pytest
from django.core.management import call_command
from django.db import connection

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account, Application
from campusconf.accounts.states import Cause, State
from campusconf.provisioning.engine import schedules
from campusconf.provisioning.models import Job, SeatWait
from campusconf.provisioning.verbs import actions
from campusconf.provisioning.verbs.seat_admission import admit_waiting
from campusconf.provisioning.verbs.seats import WaitingForSeat, leave_queue, place_in_queue


def apply(member, service, **kw):
    """The engine's apply: the account, or the place in the queue."""
    try:
        return actions.apply_for_service(member, service, **kw)
    except WaitingForSeat as wait:
        return wait.place


@pytest.mark.django_db
def test_applications_beyond_the_seats_wait_in_order(make_member, make_service):
    service = make_service(seats=2)
    members = [make_member() for _ in range(4)]
    outcomes = [apply(m, service) for m in members]
    assert [isinstance(o, Account) for o in outcomes] == [True, True, False, False]
    assert outcomes[2:] == [1, 2]
    # Nothing was opened or queued for the vendor for those who wait.
    assert Account.objects.filter(service=service).count() == 2
    assert Application.objects.filter(service=service).count() == 2
    assert Job.objects.filter(account__service=service).count() == 2
    # Asking again does not queue twice or lose the place.
    assert apply(members[3], service) == 2
    assert SeatWait.objects.filter(member=members[3]).count() == 1


@pytest.mark.django_db
def test_a_service_without_a_cap_never_queues(make_member, make_service):
    service = make_service(seats=None)
    for _ in range(3):
        assert isinstance(apply(make_member(), service), Account)
    assert not SeatWait.objects.exists()


@pytest.mark.django_db
def test_more_seats_let_the_queue_in_oldest_first(staff_client, make_member, make_service):
    service = make_service(seats=1)
    first, second, third = (make_member() for _ in range(3))
    for m in (first, second, third):
        apply(m, service)
    response = staff_client.post(
        f"/staff/services/{service.slug}/terms/",
        {
            "plan_name": "Enterprise",
            "seats": "2",
            "licence_end_policy": "suspend",
            "reason": "bought one more seat",
        },
    )
    assert response.status_code == 302
    assert Account.objects.filter(service=service, member=second).exists()
    assert not Account.objects.filter(service=service, member=third).exists()
    assert place_in_queue(third, service) == 1
    assert SeatWait.objects.get(member=second).outcome == SeatWait.Outcome.ADMITTED


@pytest.mark.django_db
def test_removing_the_cap_lets_everyone_in(make_member, make_service):
    service = make_service(seats=1)
    members = [make_member() for _ in range(3)]
    for m in members:
        apply(m, service)
    service.seats = None
    service.save(update_fields=["seats"])
    assert len(admit_waiting(service)) == 2
    assert not SeatWait.objects.filter(outcome=SeatWait.Outcome.WAITING).exists()


@pytest.mark.django_db
def test_a_freed_seat_goes_to_the_first_in_line_by_the_schedule(make_member, make_service):
    service = make_service(seats=1)
    holder, waiter, later = make_member(), make_member(), make_member()
    account = apply(holder, service)
    assert apply(waiter, service) == 1
    assert apply(later, service) == 2
    assert admit_waiting(service) == []  # still full
    actions.deprovision_account(account, cause=Cause.STAFF, reason="left")
    transition(account, State.REMOVED, cause=Cause.ENGINE)  # the job's part
    # Whatever freed the seat, the workers' sweep moves the queue.
    schedules.run("seats")
    assert Account.objects.get(member=waiter, service=service).state == State.REQUESTED
    assert SeatWait.objects.get(member=waiter).outcome == SeatWait.Outcome.ADMITTED
    # The member is told by mail: queued in the portal's outbox with the admission.
    from campusconf.portal.models import Notice

    told = Notice.objects.filter(kind="seat_available").values_list("account__member", flat=True)
    assert list(told) == [waiter.pk]
    assert place_in_queue(later, service) == 1
    # A newcomer cannot jump the queue when a seat frees: they wait behind "later".
    newcomer = make_member()
    assert apply(newcomer, service) == 2


@pytest.mark.django_db
def test_someone_who_can_no_longer_have_it_is_dropped_not_blocking(make_member, make_service):
    service = make_service(seats=1, eligible_roles="faculty student")
    holder = make_member()
    apply(holder, service)
    gone = make_member(student=True)
    nxt = make_member()
    apply(gone, service)
    apply(nxt, service)
    service.eligible_roles = "faculty"
    service.seats = 2
    service.save(update_fields=["eligible_roles", "seats"])
    admitted = admit_waiting(service)
    assert [a.member_id for a in admitted] == [nxt.pk]
    dropped = SeatWait.objects.get(member=gone)
    assert dropped.outcome == SeatWait.Outcome.DROPPED
    assert dropped.note  # the reason, for the staff


@pytest.mark.django_db
def test_leaving_the_queue_moves_the_others_up(make_member, make_service):
    service = make_service(seats=1)
    apply(make_member(), service)
    a, b = make_member(), make_member()
    apply(a, service)
    apply(b, service)
    assert leave_queue(a, service) is True
    assert leave_queue(a, service) is False
    assert place_in_queue(a, service) is None
    assert place_in_queue(b, service) == 1


@pytest.mark.django_db
def test_the_cli_prints_the_place(make_member, make_service, capsys):
    service = make_service(seats=1)
    apply(make_member(), service)
    member = make_member()
    call_command("provision", member.common_id, service.slug)
    out = capsys.readouterr().out
    assert "waiting, place 1" in out
    assert place_in_queue(member, service) == 1


@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_under_concurrent_applications(make_member, make_service):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    service = make_service(seats=3)
    members = [make_member() for _ in range(10)]
    start = threading.Barrier(len(members))
    errors: list[BaseException] = []

    def run(member):
        try:
            start.wait()
            apply(member, service)
        except BaseException as error:  # any failure in a thread is reported below
            errors.append(error)
        finally:
            connection.close()  # this thread's own connection, so the test DB can be dropped

    threads = [threading.Thread(target=run, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Account.objects.filter(service=service).count() == 3
    waits = SeatWait.objects.filter(service=service, outcome=SeatWait.Outcome.WAITING)
    assert waits.count() == 7
    assert sorted(place_in_queue(w.member, service) for w in waits) == list(range(1, 8))


@pytest.mark.django_db
def test_the_member_sees_the_place_on_my_page_and_can_leave(
    member_client, make_member, make_service
):
    from campusconf.members.models import Member

    service = make_service(seats=1)
    apply(make_member(), service)
    apply(make_member(), service)  # someone else is first in line
    response = member_client.post(f"/my/services/{service.slug}/apply/", follow=True)
    page = response.content.decode()  # the member prefers Japanese
    assert "あなたは順番待ちの2番目です" in page
    assert "ライセンスの順番待ち" in page
    me = Member.objects.get(user__isnull=False)
    assert not Account.objects.filter(service=service, member=me).exists()
    Member.objects.filter(pk=me.pk).update(preferred_language="en")
    page = member_client.get("/my/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "You are number 2 in the queue" in page
    assert "waiting for a licence" in page
    response = member_client.post(f"/my/services/{service.slug}/leave-queue/", follow=True)
    page = response.content.decode()
    assert f'action="/my/services/{service.slug}/apply/"' in page  # the apply button is back
    assert SeatWait.objects.get(member=me).outcome == SeatWait.Outcome.DROPPED


@pytest.mark.django_db
def test_a_campaigns_members_wait_too_and_join_it_when_admitted(make_member, make_service):
    from campusconf.provisioning.models import Campaign
    from campusconf.provisioning.verbs.seats import waiting_in_campaign

    service = make_service(seats=1)
    campaign = Campaign.objects.create(service=service, cohort={})
    members = [make_member(student=True) for _ in range(3)]
    outcomes = [apply(m, service, cause=Cause.STAFF, campaign=campaign) for m in members]
    assert outcomes[1:] == [1, 2]
    assert waiting_in_campaign(campaign) == 2
    service.seats = 2
    service.save(update_fields=["seats"])
    [admitted] = admit_waiting(service)
    assert admitted.member_id == members[1].pk
    # The admitted member's job belongs to the campaign (its lane, its progress).
    assert Job.objects.get(account=admitted).campaign_id == campaign.pk
    assert waiting_in_campaign(campaign) == 1
