"""A member sees and acts on their own accounts and inquiries only."""

import pytest
from django.urls import reverse

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.portal.inquiries import open_inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim(make_member, make_service, account_in):
    member = make_member()
    service = make_service()
    account = account_in(member, service, State.INVITATION_EXPIRED)
    inquiry = open_inquiry(member, service, "other", "private words of the victim")
    inquiry.replies.create(body="private reply", from_staff=True)
    return {"member": member, "service": service, "account": account, "inquiry": inquiry}


def test_another_members_inquiry_is_not_found(signed_in, victim):
    inquiry = victim["inquiry"]
    assert signed_in.get(f"/my/inquiries/{inquiry.pk}/").status_code == 404
    listing = signed_in.get("/my/inquiries/")
    assert "private words" not in listing.text
    assert f"/my/inquiries/{inquiry.pk}/" not in listing.text


def test_resend_acts_on_the_signed_in_members_account_only(signed_in, victim):
    # The URL names a service, not an account: whatever id a client sends is ignored.
    response = signed_in.post(
        reverse("portal:resend", args=[victim["service"].slug]),
        {"account": victim["account"].pk, "member": victim["member"].pk},
    )
    assert response.status_code == 404
    victim["account"].refresh_from_db()
    assert victim["account"].state == State.INVITATION_EXPIRED


def test_apply_creates_an_account_for_the_signed_in_member_only(signed_in, victim, make_service):
    zoom = make_service(slug="zoom", vendor="zoom")
    signed_in.post(reverse("portal:apply", args=["zoom"]), {"member": victim["member"].pk})
    assert not Account.objects.filter(member=victim["member"], service=zoom).exists()
    assert Account.objects.filter(member=signed_in.member, service=zoom).exists()


def test_my_services_shows_only_my_accounts(signed_in, victim):
    page = signed_in.get("/my/", headers={"accept-language": "en"})
    assert victim["member"].common_id not in page.text
    assert "invitation expired" not in page.text


def test_inquiry_prefill_cannot_name_another_member(signed_in, victim):
    form = signed_in.get("/my/inquiries/new/", {"member": victim["member"].pk, "topic": "no_mail"})
    assert victim["member"].common_id not in form.text
    assert signed_in.member.common_id in form.text


MEMBER_URLS = [
    ("get", "/my/"),
    ("get", "/my/inquiries/"),
    ("get", "/my/inquiries/new/"),
    ("get", "/my/inquiries/{inquiry}/"),
    ("get", "/my/services/{service}/card/"),
    ("post", "/my/services/{service}/apply/"),
    ("post", "/my/services/{service}/resend/"),
    ("post", "/my/services/{service}/chose-google/"),
    ("post", "/my/inquiries/new/"),
]


@pytest.mark.parametrize(("method", "template"), MEMBER_URLS)
def test_every_member_url_refuses_anonymous_visitors(client, victim, method, template):
    url = template.format(inquiry=victim["inquiry"].pk, service=victim["service"].slug)
    response = getattr(client, method)(url)
    assert response.status_code == 302 and response["Location"].startswith("/signin/")


@pytest.mark.parametrize(("method", "template"), MEMBER_URLS)
def test_every_member_url_with_another_members_ids(signed_in, victim, method, template):
    url = template.format(inquiry=victim["inquiry"].pk, service=victim["service"].slug)
    response = getattr(signed_in, method)(url)
    body = response.content.decode()
    assert "private words" not in body and "private reply" not in body
    victim["account"].refresh_from_db()
    assert victim["account"].state == State.INVITATION_EXPIRED
    if "{inquiry}" in template:
        assert response.status_code == 404
