"""The card of an address held by an account elsewhere (Errata Z-d, W-f), and the
member's "Done: ask the vendor again"."""

import pytest
from django.urls import reverse

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import Cause, State
from campusconf.provisioning.models import Job

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("vendor", "language", "says"),
    [
        ("zoom", "en", ["already belongs to another Zoom account", "Approve Request"]),
        ("zoom", "ja", ["別の Zoom アカウント", "「Approve Request」"]),
        ("webex", "en", ["a free Webex account already uses it", "Delete your Webex account"]),
        ("webex", "ja", ["無料の Webex アカウント", "「Webex アカウントを削除する」"]),
    ],
)
def test_the_card_says_what_the_member_must_do(
    signed_in, make_service, account_in, vendor, language, says
):
    service = make_service(slug=vendor, vendor=vendor)
    account_in(signed_in.member, service, State.HELD_ELSEWHERE)
    signed_in.cookies["django_language"] = language
    page = signed_in.get("/my/")
    assert page.status_code == 200
    assert signed_in.member.mail_address in page.text
    for text in says:
        assert text in page.text
    assert reverse("portal:released", args=[vendor]) in page.text


def test_done_asks_the_vendor_again_once_then_waits(signed_in, make_service, account_in):
    service = make_service(slug="zoom", vendor="zoom", name_en="Zoom")
    account = account_in(signed_in.member, service, State.HELD_ELSEWHERE)
    url = reverse("portal:released", args=[service.slug])
    assert signed_in.get(url).status_code == 405
    first = signed_in.post(url, follow=True, headers={"accept-language": "en"})
    assert "asking Zoom again to create your account" in first.text
    account.refresh_from_db()
    assert account.state == State.REQUESTED
    assert Job.objects.filter(account=account, status=Job.Status.QUEUED).count() == 1
    # The vendor still refuses: back to held_elsewhere; a second press within 5 minutes
    # is refused with the reason, and changes nothing.
    from campusconf.accounts.lifecycle import transition

    Job.objects.filter(account=account).update(status=Job.Status.DONE)
    transition(account, State.HELD_ELSEWHERE, cause=Cause.ENGINE)
    page = signed_in.get("/my/", headers={"accept-language": "en"})
    assert "disabled" in page.text.split("Done: ask the vendor again")[0].rsplit("<button", 1)[1]
    second = signed_in.post(url, follow=True, headers={"accept-language": "en"})
    assert "wait 5 minutes" in second.text
    account.refresh_from_db()
    assert account.state == State.HELD_ELSEWHERE
    asked = AccountEvent.objects.filter(account=account, from_state=State.HELD_ELSEWHERE)
    assert asked.filter(to_state=State.REQUESTED, cause=Cause.MEMBER).count() == 1


def test_done_is_refused_in_any_other_state(signed_in, make_service, account_in):
    service = make_service(slug="zoom", vendor="zoom")
    account = account_in(signed_in.member, service, State.INVITED)
    response = signed_in.post(
        reverse("portal:released", args=[service.slug]),
        follow=True,
        headers={"accept-language": "en"},
    )
    assert "nothing to check again" in response.text
    account.refresh_from_db()
    assert account.state == State.INVITED


def test_done_only_ever_touches_the_members_own_account(
    signed_in, make_member, make_service, account_in
):
    service = make_service(slug="zoom", vendor="zoom")
    other = account_in(make_member(), service, State.HELD_ELSEWHERE)
    response = signed_in.post(reverse("portal:released", args=[service.slug]))
    assert response.status_code == 404  # the signed-in member has no account there
    assert Account.objects.get(pk=other.pk).state == State.HELD_ELSEWHERE
