"""Small wording rules of the member's cards: Japanese quotes, times with their zone."""

import pytest

from campusconf.accounts.states import State

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
