"""Waiting accounts read many at once (provisioning/engine/watch_batch.py, Webex's
``GET /people?id=…``): which rows a run takes, what a read sends on to an observe job,
and the reads staying within the allowance."""

import datetime
from typing import Any

import pytest
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.connectors.base import UserState, VendorUser
from campusconf.connectors.webex import WebexConnector
from campusconf.provisioning.engine import vendors, watch, watch_batch
from campusconf.provisioning.models import Job, ReconcilePass, Watch
from tests.fixtures.sandbox import activate_webex

from .test_reactivate import _Mails
from .test_watch import invited

pytestmark = pytest.mark.django_db(transaction=True)

PENDING = Account.Observed.PENDING


def account(**fields: Any) -> Account:
    base = {
        "vendor_user_id": "p1",
        "observed_state": PENDING,
        "observed_licensed": True,
        "vendor_address": "Taro@Example.ac.jp",
    }
    return Account(**{**base, **fields})


def user(**fields: Any) -> VendorUser:
    base: dict[str, Any] = {
        "vendor_id": "p1",
        "email": "taro@example.ac.jp",
        "state": UserState.PENDING,
        "licensed": True,
    }
    return VendorUser(**{**base, **fields})


def test_a_read_of_many_sends_on_only_what_changed_or_was_not_found() -> None:
    assert watch_batch.looks_the_same(account(), user())  # addresses compared case-blind
    assert not watch_batch.looks_the_same(account(), user(state=UserState.ACTIVE))
    assert not watch_batch.looks_the_same(account(), user(licensed=False))
    assert not watch_batch.looks_the_same(account(), user(email="taro@gmail.com"))
    assert watch_batch.looks_the_same(account(), user(partial=True, licensed=False))
    # An invitation records no licence yet: nothing to compare while the user is pending.
    assert watch_batch.looks_the_same(account(observed_licensed=None), user(licensed=False))
    # Never read before (no observed state yet): its observe job records it.
    assert not watch_batch.looks_the_same(account(observed_state=""), user())

    same, active, gone = (account(vendor_user_id=v) for v in ("p1", "p2", "p3"))
    found = {"p1": user(), "p2": user(vendor_id="p2", state=UserState.ACTIVE)}
    assert watch_batch.to_observe([same, active, gone], found) == [active, gone]


def _rows(service: Any, make_member: Any, offsets: list[int], now: Any) -> list[int]:
    ids = []
    for seconds in offsets:
        acc = Account.objects.create(member=make_member(), service=service, state=State.INVITED)
        Watch.objects.update_or_create(
            account=acc,
            defaults={
                "service": service,
                "since": now - datetime.timedelta(hours=1),
                "next_check_at": now + datetime.timedelta(seconds=seconds),
            },
        )
        ids.append(acc.pk)
    return ids


def test_a_read_of_many_fills_up_with_the_waits_due_within_the_gathering_time(
    make_member: Any, webex_service: Any, settings: Any
) -> None:
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "WATCH_GATHER_SECONDS": 60}
    now = timezone.now()
    a, b, c, d, _late = _rows(webex_service, make_member, [-10, -5, 30, 50, 90], now)

    def taken(calls: int, size: int) -> list[int]:
        return [w.account_id for w in watch.due_rows(webex_service, now, calls, size)]

    assert taken(1, 1) == [a]  # reads of one: the most overdue, nothing early
    assert taken(2, 1) == [a, b]
    assert taken(1, 3) == [a, b, c]  # one read of three: filled up with c, due in 30 s
    assert taken(1, 85) == [a, b, c, d]  # the last, due in 90 s,, is not gathered
    assert taken(5, 2) == [a, b]  # two due fill one read: no second call for c and d
    assert watch.due_rows(webex_service, now - datetime.timedelta(seconds=20), 1, 85) == []


def test_one_call_reads_the_waits_and_only_the_activated_one_is_observed(
    make_member: Any, webex_service: Any, vendor: Any
) -> None:
    accounts = [invited(make_member, webex_service) for _ in range(3)]
    assert watch_batch.batch_size(webex_service) == 85
    Job.objects.all().delete()
    activate_webex(_Mails(vendor), accounts[1].member.mail_address)  # type: ignore[arg-type]
    later = timezone.now() + datetime.timedelta(seconds=200)
    before = vendors.calls[(webex_service.pk, "Ok")]
    assert watch.run(now=later) == 3
    assert vendors.calls[(webex_service.pk, "Ok")] - before == 1  # one GET /people?id=a,b,c
    assert list(Job.objects.values_list("account_id", "kind")) == [
        (accounts[1].pk, Job.Kind.OBSERVE)
    ]
    from campusconf.provisioning import worker

    worker.drain(max_seconds=60)
    states = [Account.objects.get(pk=a.pk).state for a in accounts]
    assert states == [State.INVITED, State.ACTIVE, State.INVITED]
    assert not ReconcilePass.objects.exists()
    for a in (accounts[0], accounts[2]):  # read, and their next check moved on
        assert Watch.objects.get(account=a).checked_at == later


def test_reads_of_many_stay_within_the_read_allowance(
    make_member: Any, webex_service: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.CAMPUSCONF_ENGINE = {
        **settings.CAMPUSCONF_ENGINE,
        "WATCH_READ_SHARE": 0.004,
        "WATCH_GATHER_SECONDS": 0,  # only what is due: one read a minute, then none
    }
    assert watch.reads_per_minute(webex_service) == 1  # 0.4 % of 300 a minute
    monkeypatch.setattr(WebexConnector, "max_batch", 2)
    accounts = [invited(make_member, webex_service) for _ in range(5)]
    Job.objects.all().delete()
    before = vendors.calls[(webex_service.pk, "Ok")]
    later = timezone.now() + datetime.timedelta(seconds=200)
    ticks = [later + datetime.timedelta(seconds=5 * n) for n in range(36)]  # three minutes
    per_minute = [sum(watch.run(now=t) for t in ticks[m * 12 : m * 12 + 12]) for m in range(3)]
    assert per_minute == [2, 2, 1]  # one read a minute, two waits a read
    assert vendors.calls[(webex_service.pk, "Ok")] - before == 3
    assert not Job.objects.exists()  # nobody activated: nothing to observe
    assert {w.account_id for w in Watch.objects.exclude(checked_at=None)} == {
        a.pk for a in accounts
    }


def test_a_refused_read_of_many_leaves_the_service_to_reads_of_one(
    make_member: Any, webex_service: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campusconf.connectors.outcomes import Rejected

    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "WATCH_READ_SHARE": 0.04}
    assert watch.reads_per_minute(webex_service) == 12  # one read in each 5-second run

    accounts = [invited(make_member, webex_service) for _ in range(2)]
    Job.objects.all().delete()
    refused = Rejected(reason="GET /people?id= answered without invitePending (W-i)")
    monkeypatch.setattr(WebexConnector, "get_users", lambda self, ids: refused)
    monkeypatch.setattr(watch_batch, "_one_at_a_time", set())
    later = timezone.now() + datetime.timedelta(seconds=200)
    assert watch.run(now=later) == 2
    assert not Job.objects.exists()  # nothing known: their next check, or the pass
    assert watch_batch.batch_size(webex_service) == 1
    again = later + datetime.timedelta(seconds=200)
    assert watch.run(now=again) == 1  # one read of one in this run: an observe job
    assert [j.kind for j in Job.objects.all()] == [Job.Kind.OBSERVE]
    assert Job.objects.get().account_id in {a.pk for a in accounts}


def test_a_read_of_many_refused_for_the_credential_pauses_the_service(
    make_member: Any, webex_service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from campusconf.connectors.outcomes import NotAuthorised
    from campusconf.provisioning.engine import service_access

    invited(make_member, webex_service)
    Job.objects.all().delete()
    refused = NotAuthorised(reason="The request requires a valid access token.", http_status=401)
    monkeypatch.setattr(WebexConnector, "get_users", lambda self, ids: refused)
    assert watch.run(now=timezone.now() + datetime.timedelta(seconds=200)) == 1
    assert service_access.paused(webex_service.pk)  # as when a job meets it
    assert not Job.objects.exists()
    assert watch.run(now=timezone.now() + datetime.timedelta(seconds=400)) == 0  # skipped
