"""The account desk finds members without an account and applies on their behalf."""

import datetime

import pytest

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.members.actions import mark_left
from campusconf.provisioning.models import Job, SeatWait

pytestmark = pytest.mark.django_db


def _apply_url(member, service):
    return f"/staff/accounts/members/{member.pk}/apply/{service.slug}/"


def test_the_search_lists_members_without_an_account(
    staff_client, make_member, make_service, make_account
):
    webex = make_service()
    zoom = make_service("zoom", "zoom", name_en="Zoom", name_ja="ズーム")
    without = make_member(affiliation="Faculty of Letters")
    with_both = make_member()
    make_account(with_both, webex)
    make_account(with_both, zoom)
    for term in (without.common_id, without.given_name_latin, "山田"):
        page = staff_client.get("/staff/accounts/", {"q": term}).content.decode()
        assert "Members without an account" in page, term
        assert without.common_id in page and "Faculty of Letters" in page
        assert _apply_url(without, webex) in page and _apply_url(without, zoom) in page
        # A member with an account everywhere is found by the account search only.
        assert _apply_url(with_both, webex) not in page
    page = staff_client.get("/staff/accounts/", {"q": "nobody-like-this"}).content.decode()
    assert "Members without an account" not in page


def test_a_member_with_one_account_is_offered_the_other_service(
    staff_client, make_member, make_service, make_account
):
    webex = make_service()
    zoom = make_service("zoom", "zoom", name_en="Zoom", name_ja="ズーム")
    member = make_member()
    make_account(member, webex)
    page = staff_client.get("/staff/accounts/", {"q": member.common_id}).content.decode()
    assert _apply_url(member, zoom) in page
    assert _apply_url(member, webex) not in page
    assert "has an account" in page


def test_an_ineligible_member_is_listed_without_the_action(staff_client, make_member, make_service):
    service = make_service(eligible_roles="faculty")
    student = make_member(student=True)
    page = staff_client.get("/staff/accounts/", {"q": student.common_id}).content.decode()
    assert student.common_id in page and "not eligible" in page
    assert _apply_url(student, service) not in page


def test_apply_on_behalf_opens_the_account_through_the_engine_and_audits_it(
    staff_client, staff_user, make_member, make_service
):
    service = make_service()
    member = make_member()
    url = _apply_url(member, service)
    assert "Reason" in staff_client.get(url).content.decode()
    assert not Account.objects.exists()  # the GET only asks
    response = staff_client.post(url, {"reason": "Inquiry by phone"}, follow=True)
    account = Account.objects.get(member=member, service=service)
    assert response.redirect_chain[-1][0] == f"/staff/accounts/{account.pk}/"
    assert "Applied for Webex on behalf of" in response.content.decode()
    assert account.state == State.REQUESTED
    assert Job.objects.filter(account=account, kind=Job.Kind.SYNC).exists()
    entry = AuditEntry.objects.get(action="account.apply")
    assert entry.actor_id == staff_user.pk and entry.reason == "Inquiry by phone"
    assert entry.details["member"] == member.common_id
    assert entry.details["origin"] == "account_desk"
    assert account.events.get().actor_id == staff_user.pk
    # A second application is refused: the account is live already.
    page = staff_client.post(url, {"reason": "again"}, follow=True).content.decode()
    assert "Nothing was changed" in page and "already has an account" in page
    assert Account.objects.count() == 1 and AuditEntry.objects.count() == 1


def test_members_get_403_and_change_nothing(member_client, make_member, make_service):
    service = make_service()
    member = make_member()
    url = _apply_url(member, service)
    assert member_client.get(url).status_code == 403
    assert member_client.post(url, {"reason": "me"}).status_code == 403
    assert member_client.get("/staff/accounts/", {"q": member.common_id}).status_code == 403
    assert not Account.objects.exists() and not AuditEntry.objects.exists()


def test_a_missing_reason_is_refused(staff_client, make_member, make_service):
    service = make_service()
    member = make_member()
    for data in ({}, {"reason": "  "}):
        response = staff_client.post(_apply_url(member, service), data)
        assert response.status_code == 200
        assert "This field is required." in response.content.decode()
    assert not Account.objects.exists() and not AuditEntry.objects.exists()


def test_an_ineligible_member_is_refused_with_no_change(staff_client, make_member, make_service):
    service = make_service(eligible_roles="faculty")
    student = make_member(student=True)
    leaver = make_member()
    mark_left(leaver, datetime.date(2020, 1, 1))
    for member in (student, leaver):
        response = staff_client.post(_apply_url(member, service), {"reason": "asked"}, follow=True)
        page = response.content.decode()
        assert "Nothing was changed" in page and "may not have Webex" in page
    assert not Account.objects.exists() and not AuditEntry.objects.exists()
    assert not Job.objects.exists()


def test_with_every_seat_taken_the_member_waits_in_the_queue(
    staff_client, make_member, make_service, make_account
):
    service = make_service(seats=1)
    make_account(make_member(), service)
    member = make_member()
    page = staff_client.post(
        _apply_url(member, service), {"reason": "asked"}, follow=True
    ).content.decode()
    assert "All seats of Webex are taken" in page and "place 1" in page
    assert not Account.objects.filter(member=member).exists()
    assert SeatWait.objects.filter(member=member, outcome=SeatWait.Outcome.WAITING).exists()
    assert AuditEntry.objects.get(action="account.apply").details["waiting_for_seat"] == 1


def test_a_disabled_service_is_not_offered(staff_client, make_member, make_service):
    service = make_service(enabled=False)
    member = make_member()
    assert staff_client.post(_apply_url(member, service), {"reason": "x y z"}).status_code == 404
    assert not Account.objects.exists()


def test_the_desk_page_in_japanese(staff_client, make_member, make_service):
    make_service()
    member = make_member()
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    page = staff_client.get("/staff/accounts/", {"q": member.common_id}).content.decode()
    assert "アカウントのない構成員" in page and "本人に代わって申請" in page
    assert "Members without an account" not in page
