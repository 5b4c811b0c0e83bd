import pytest

from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.provisioning.models import Job

pytestmark = pytest.mark.django_db


def test_search_by_common_id_name_and_alias(staff_client, make_member, make_service, make_account):
    service = make_service()
    member = make_member(aliases=("taro.alias@g.ecc.example.ac.jp",))
    account = make_account(member, service, State.INVITED)
    url = f"/staff/accounts/{account.pk}/"
    for term in (member.common_id, member.given_name_latin, "taro.alias", "山田"):
        page = staff_client.get("/staff/accounts/", {"q": term}).content.decode()
        assert url in page, term
    page = staff_client.get("/staff/accounts/", {"q": "nobody-like-this"}).content.decode()
    assert url not in page


def test_account_page_shows_timeline_and_vendor_data(
    staff_client, make_member, make_service, make_account
):
    account = make_account(make_member(), make_service(), State.INVITED, vendor_user_id="vu-123")
    page = staff_client.get(f"/staff/accounts/{account.pk}/").content.decode()
    assert "vu-123" in page
    assert "requested → invited" in page


def _offered(client, account):
    page = client.get(f"/staff/accounts/{account.pk}/").content.decode()
    everything = ("resend", "retry", "reconcile", "suspend", "deprovision", "reprovision")
    return {r for r in everything if f"/staff/accounts/{account.pk}/{r}/" in page}


def test_the_account_page_offers_only_the_actions_legal_in_its_state(
    staff_client, make_member, make_service, make_account
):
    service = make_service()
    failed = make_account(make_member(), service, State.FAILED)
    # A failed account has no vendor user: nothing to resend or suspend.
    assert _offered(staff_client, failed) == {"retry", "reconcile", "deprovision", "reprovision"}
    invited = make_account(make_member(), service, State.INVITED, vendor_user_id="vu-1")
    assert _offered(staff_client, invited) == {
        "resend",
        "reconcile",
        "suspend",
        "deprovision",
        "reprovision",
    }
    active = make_account(make_member(), service, State.ACTIVE)
    assert "resend" not in _offered(staff_client, active)
    assert "retry" not in _offered(staff_client, active)


def test_an_illegal_action_posted_anyway_is_refused_in_plain_words(
    staff_client, make_member, make_service, make_account
):
    account = make_account(make_member(), make_service(), State.FAILED)
    for remedy, label in (("suspend", "Suspend"), ("resend", "Resend invitation")):
        response = staff_client.post(
            f"/staff/accounts/{account.pk}/{remedy}/", {"reason": "old tab"}, follow=True
        )
        page = response.content.decode()
        assert f"Nothing was changed: “{label}” is not possible while the account is failed." in (
            page
        )
    account.refresh_from_db()
    assert account.state == State.FAILED
    assert not Job.objects.filter(account=account).exclude(kind=Job.Kind.SYNC).exists()
    assert not AuditEntry.objects.exists()
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "ja"
    page = staff_client.post(
        f"/staff/accounts/{account.pk}/suspend/", {"reason": "old tab"}, follow=True
    ).content.decode()
    assert "何も変更されていません" in page and "失敗" in page


def test_a_remedy_needs_confirmation_and_a_reason(
    staff_client, make_member, make_service, make_account
):
    account = make_account(make_member(), make_service(), State.INVITED)
    url = f"/staff/accounts/{account.pk}/resend/"
    confirm = staff_client.get(url)
    assert confirm.status_code == 200
    assert 'name="reason"' in confirm.content.decode()

    refused = staff_client.post(url, {"reason": ""})
    assert refused.status_code == 200  # the form again, with its error
    account.refresh_from_db()
    assert account.state == State.INVITED
    assert not AuditEntry.objects.exists()


def test_resend_goes_through_the_engine_and_is_audited(
    staff_client, staff_user, make_member, make_service, make_account
):
    account = make_account(make_member(), make_service(), State.INVITED)
    response = staff_client.post(
        f"/staff/accounts/{account.pk}/resend/", {"reason": "member wrote in, mail lost"}
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.state == State.REQUESTED
    event = account.events.last()
    assert event.actor_id == staff_user.pk and event.cause == "staff"
    assert Job.objects.filter(account=account, kind=Job.Kind.REINVITE).exists()
    entry = AuditEntry.objects.get()
    assert entry.action == "account.resend"
    assert entry.reason == "member wrote in, mail lost"
    assert entry.details["state_before"] == "invited"
    assert entry.details["state_after"] == "requested"


def test_an_illegal_remedy_changes_nothing_and_says_why(
    staff_client, make_member, make_service, make_account
):
    account = make_account(make_member(), make_service(), State.ACTIVE)
    response = staff_client.post(
        f"/staff/accounts/{account.pk}/retry/", {"reason": "try it"}, follow=True
    )
    assert "Nothing was changed" in response.content.decode()
    account.refresh_from_db()
    assert account.state == State.ACTIVE
    assert not AuditEntry.objects.exists()


def test_suspend_and_deprovision(staff_client, make_member, make_service, make_account):
    account = make_account(make_member(), make_service(), State.ACTIVE)
    staff_client.post(f"/staff/accounts/{account.pk}/suspend/", {"reason": "left the lab"})
    account.refresh_from_db()
    assert account.state == State.SUSPENDED
    staff_client.post(f"/staff/accounts/{account.pk}/deprovision/", {"reason": "left for good"})
    account.refresh_from_db()
    assert account.desired_state == "absent"
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "account.suspend",
        "account.deprovision",
    ]


def test_unknown_remedy_is_404(staff_client, make_member, make_service, make_account):
    account = make_account(make_member(), make_service())
    assert staff_client.get(f"/staff/accounts/{account.pk}/explode/").status_code == 404
