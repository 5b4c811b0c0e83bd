"""The morning dashboard: counts per service and in total, each linked to a list of
exactly those accounts, in a bounded number of queries."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import State
from campusconf.backoffice import overview
from campusconf.portal.inquiries import open_inquiry
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import RateBucket, ReconcilePass

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_services(make_member, make_service, make_account):
    now = timezone.now()
    webex = make_service(seats=10)
    zoom = make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="ズーム", seats=None)
    make_account(
        make_member(),
        webex,
        State.FAILED,
        last_error_reason="vendor_refused",
        last_error_params={"detail": "vendor said no"},
    )
    make_account(make_member(), zoom, State.FAILED)
    make_account(make_member(), zoom, State.UNLICENSED)
    make_account(make_member(), webex, State.ACTIVE)
    stuck = make_account(make_member(), zoom, State.REQUESTED)
    Account.objects.filter(pk=stuck.pk).update(created_at=now - datetime.timedelta(hours=3))
    make_account(make_member(), zoom, State.REQUESTED)  # just applied: not stuck
    for age in (
        datetime.timedelta(hours=2),
        datetime.timedelta(days=3),
        datetime.timedelta(days=20),
    ):
        make_account(
            make_member(),
            webex,
            State.INVITED,
            invitation_sent_at=now - age,
        )
    member = make_member()
    open_inquiry(member, webex, Inquiry.Topic.NO_MAIL, "Nothing came.")
    done = open_inquiry(member, zoom, Inquiry.Topic.OTHER, "Fine now.")
    Inquiry.objects.filter(pk=done.pk).update(status=Inquiry.Status.RESOLVED)
    ReconcilePass.objects.create(
        service=webex, status=ReconcilePass.Status.DONE, started_at=now, finished_at=now
    )
    RateBucket.objects.create(
        service=zoom,
        category=overview.category("zoom", "create"),
        rate=1,
        burst=1,
        tokens=1,
        stamp=0,
        day=now.astimezone(datetime.UTC).date(),
        day_count=7,
    )
    return webex, zoom


def test_counts_per_service_and_in_total(two_services):
    webex, zoom = two_services
    rows = overview.rows([webex, zoom])
    by = {(r.service.slug if r.service else "total"): r for r in rows}
    assert by["webex"].counts["failed"] == 1 and by["zoom"].counts["failed"] == 1
    assert by["zoom"].counts["stuck"] == 1
    assert by["zoom"].counts["needs_person"] == 3  # failed, unlicensed, stuck
    assert by["total"].counts["needs_person"] == 4
    assert [
        by["webex"].counts[k]
        for k in ("waiting_day", "waiting_week", "waiting_fortnight", "waiting_older")
    ] == [1, 1, 0, 1]
    assert by["webex"].counts["seats"] == 4  # active and three invited
    assert (by["webex"].inquiries, by["zoom"].inquiries, by["total"].inquiries) == (1, 0, 1)
    assert by["webex"].last_reconcile_at is not None and by["zoom"].last_reconcile_at is None
    assert (by["zoom"].creates_today, by["zoom"].daily_cap) == (7, overview.daily_create_cap(zoom))
    assert by["webex"].daily_cap is None
    assert by["total"].seats is None  # Zoom has no limit, so the total has none


def test_the_dashboard_takes_the_same_queries_however_many_accounts(
    staff_client, two_services, make_member, make_account
):
    webex, _zoom = two_services
    staff_client.get("/staff/")  # the first request also fills the session and caches
    with CaptureQueriesContext(connection) as few:
        staff_client.get("/staff/")
    for _ in range(20):
        make_account(make_member(), webex, State.FAILED)
    with CaptureQueriesContext(connection) as many:
        staff_client.get("/staff/")
    assert len(many) == len(few), "\n".join(q["sql"][:100] for q in many.captured_queries)


def test_every_number_links_to_a_list_of_exactly_those_rows(staff_client, two_services):
    page = staff_client.get("/staff/").content.decode()
    links = re.findall(r'data-filter="(\w+)" href="([^"]+)">(\d+)</a>', page)
    assert len(links) >= 3 * 9
    for key, href, n in links:
        href = href.replace("&amp;", "&")
        listed = staff_client.get(href).content.decode()
        if key == "inquiries":
            assert f"{n} inquir" in listed, href
            assert listed.count("/staff/inquiries/") - listed.count(
                'href="/staff/inquiries/"'
            ) >= int(n)
        else:
            assert re.search(rf'id="account-count">{n} account', listed), href
            assert listed.count('href="/staff/accounts/') - listed.count(
                'href="/staff/accounts/"'
            ) == int(n), href


def test_an_unknown_filter_is_not_found(staff_client):
    assert staff_client.get("/staff/accounts/list/", {"filter": "nope"}).status_code == 404
    assert (
        staff_client.get("/staff/accounts/list/", {"filter": "failed", "service": "x"}).status_code
        == 404
    )


def test_the_chart_walks_states_back_through_the_events(make_member, make_service, make_account):
    service = make_service()
    account = make_account(make_member(), service, State.ACTIVE)
    # The account was activated today; yesterday it was still invited.
    AccountEvent.objects.filter(account=account, to_state=State.INVITED).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    days, series = overview.state_history(service)
    active = dict(series)[next(name for name, _ in series if str(name) == "active")]
    assert len(days) == 30 and days[-1] == timezone.localdate()
    assert active[-1] == 1
    on_the_way = series[1][1]
    assert on_the_way[-2] == 1 and active[-2] == 0
