"""The seat cap holds under concurrent applications; the rest wait, first come first served."""

import threading

import pytest
from django.db import close_old_connections, connection

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.backoffice.models import SeatWait
from campusconf.backoffice.seats import admit_waiting, apply_within_seats, place_in_queue
from campusconf.provisioning.actions import deprovision_account


@pytest.mark.django_db
def test_applications_beyond_the_seats_wait_in_order(make_member, make_service):
    service = make_service(seats=2)
    members = [make_member() for _ in range(4)]
    decisions = [apply_within_seats(m, service) for m in members]
    assert [d.account is not None for d in decisions] == [True, True, False, False]
    assert [d.place for d in decisions] == [None, None, 1, 2]
    # Asking again does not queue twice or lose the place.
    assert apply_within_seats(members[3], service).place == 2


@pytest.mark.django_db
def test_more_seats_let_the_queue_in_oldest_first(staff_client, make_member, make_service):
    service = make_service(seats=1)
    first, second, third = (make_member() for _ in range(3))
    for m in (first, second, third):
        apply_within_seats(m, service)
    staff_client.post(
        f"/staff/services/{service.slug}/terms/",
        {"plan_name": "Enterprise", "seats": "2", "reason": "bought one more seat"},
    )
    assert Account.objects.filter(service=service, member=second).exists()
    assert not Account.objects.filter(service=service, member=third).exists()
    assert place_in_queue(third, service) == 1


@pytest.mark.django_db
def test_a_freed_seat_goes_to_the_first_in_line(make_member, make_service, make_account):
    service = make_service(seats=1)
    holder, waiter = make_member(), make_member()
    account = apply_within_seats(holder, service).account
    assert apply_within_seats(waiter, service).place == 1
    assert admit_waiting(service) == []  # still full
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause

    deprovision_account(account, cause=Cause.STAFF, reason="left")
    transition(account, State.REMOVED, cause=Cause.ENGINE)  # the job's part
    admitted = admit_waiting(service)
    assert [a.member_id for a in admitted] == [waiter.pk]
    assert SeatWait.objects.get(member=waiter).outcome == SeatWait.Outcome.ADMITTED


@pytest.mark.django_db(transaction=True)
def test_the_cap_holds_under_concurrent_applications(make_member, make_service):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time; the race needs PostgreSQL")
    service = make_service(seats=3)
    members = [make_member() for _ in range(10)]
    start = threading.Barrier(len(members))
    errors: list[BaseException] = []

    def apply(member):
        try:
            start.wait()
            apply_within_seats(member, service)
        except BaseException as error:  # any failure in a thread is reported below
            errors.append(error)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=apply, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Account.objects.filter(service=service).count() == 3
    waits = SeatWait.objects.filter(service=service, outcome=SeatWait.Outcome.WAITING)
    assert waits.count() == 7
    assert sorted(place_in_queue(w.member, service) for w in waits) == list(range(1, 8))
