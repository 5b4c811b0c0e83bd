"""Small wording rules of the member's cards: Japanese quotes, times with their zone."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from campusconf.accounts.states import State
from campusconf.portal import notices

pytestmark = pytest.mark.django_db


@pytest.fixture
def invited_card(signed_in, make_service, account_in, sent_long_ago):
    account_in(signed_in.member, make_service(), State.INVITED, **sent_long_ago)

    def page(language: str) -> str:
        signed_in.cookies["django_language"] = language
        return signed_in.get("/my/").text

    return page


def test_japanese_cards_quote_the_mail_subject_with_kagikakko(invited_card):
    ja = invited_card("ja")
    assert "<dd>「" in ja and "<dd>“" not in ja
    assert "<dd>“" in invited_card("en")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_times_on_the_card_name_their_zone(invited_card, sent_long_ago, language):
    expires = timezone.localtime(sent_long_ago["invitation_expires_at"])
    assert f"{expires:%Y-%m-%d %H:%M} JST" in invited_card(language)


def test_times_in_the_mails_name_their_zone(make_member, make_service, account_in, now):
    expires = now + datetime.timedelta(days=15)
    member = make_member(language="en")
    account = account_in(member, make_service(), State.INVITED, invitation_expires_at=expires)
    notices.invitation_sent(account)
    assert f"{timezone.localtime(expires):%Y-%m-%d %H:%M} JST" in mail.outbox[0].body


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_resend_on_its_way_is_not_called_being_created(
    signed_in, make_service, account_in, sent_long_ago, language
):
    service = make_service()
    account = account_in(signed_in.member, service, State.REQUESTED)
    signed_in.cookies["django_language"] = language
    first = signed_in.get("/my/").text
    account.invitation_sent_at = sent_long_ago["invitation_sent_at"]  # invited before
    account.save(update_fields=["invitation_sent_at"])
    again = signed_in.get("/my/").text
    created, resent = {
        "en": ("We are creating your account", "a new invitation"),
        "ja": ("作成しています", "新しい招待"),
    }[language]
    assert created in first and resent not in first
    assert resent in again and created not in again


def test_the_home_page_links_each_service_help(client, make_service):
    service = make_service()
    assert f'href="/help/{service.slug}/"' in client.get("/").text


@pytest.mark.parametrize(
    ("language", "name", "not_name"), [("en", "Yamada", "山田"), ("ja", "山田", "Yamada")]
)
def test_the_inquiry_text_writes_the_name_as_its_language_does(
    make_member, make_service, language, name, not_name
):
    from django.utils import translation

    from campusconf.portal.inquiries import suggested_text

    with translation.override(language):
        first_line = suggested_text(make_member(), make_service(), "no_mail").splitlines()[0]
    assert name in first_line and not_name not in first_line
