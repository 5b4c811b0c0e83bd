"""The language switcher also sets the member's preference, which mails follow."""

import pytest
from django.core import mail
from django.test import Client

from campusconf.accounts.states import State
from campusconf.members.models import Member
from campusconf.portal import notices
from campusconf.signin.members import sign_in_user

pytestmark = pytest.mark.django_db


def signed_in_client(member, **kwargs):
    client = Client(**kwargs)
    client.force_login(
        sign_in_user(member.common_id),
        backend="campusconf.signin.backends.DevelopmentSessionBackend",
    )
    return client


def test_switching_to_english_makes_the_mails_english(make_member, make_service, account_in):
    member = make_member(language="ja")
    client = signed_in_client(member)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/my/"})
    assert response.status_code == 302 and response["Location"] == "/my/"
    member.refresh_from_db()
    assert member.preferred_language == "en"
    account = account_in(member, make_service(), State.INVITED)
    notices.invitation_sent(account)
    assert len(mail.outbox) == 1
    assert "Dear " in mail.outbox[0].body and "様" not in mail.outbox[0].body


def test_switching_back_to_japanese(make_member):
    member = make_member(language="en")
    signed_in_client(member).post("/i18n/setlang/", {"language": "ja", "next": "/my/"})
    member.refresh_from_db()
    assert member.preferred_language == "ja"


def test_an_unknown_language_and_a_get_change_nothing(make_member):
    member = make_member(language="ja")
    client = signed_in_client(member)
    client.post("/i18n/setlang/", {"language": "xx", "next": "/my/"})
    assert client.get("/i18n/setlang/?language=en").status_code == 405
    assert Member.objects.get(pk=member.pk).preferred_language == "ja"


def test_the_switcher_still_needs_the_csrf_token(make_member):
    member = make_member(language="ja")
    client = signed_in_client(member, enforce_csrf_checks=True)
    assert client.post("/i18n/setlang/", {"language": "en"}).status_code == 403
    assert Member.objects.get(pk=member.pk).preferred_language == "ja"


def test_an_anonymous_visitor_still_switches_the_pages(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"
