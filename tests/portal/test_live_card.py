"""The card that follows the member (issue #22): a waiting card asks for itself again,
gets nothing (204) until its state moves, then the new card and a sentence for the
page's live region; a settled card stops asking. Own account only, never cached."""

import re

import pytest

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.states import Cause, State
from campusconf.provisioning.models import Watch

pytestmark = pytest.mark.django_db

POLL = re.compile(r'hx-get="(/my/services/[^"]+/card/\?v=[^"]+)"')


def card_url(page_text: str) -> str:
    match = POLL.search(page_text)
    assert match, "the waiting card does not refresh itself"
    return match.group(1).replace("&amp;", "&")


@pytest.mark.parametrize(
    ("language", "waiting", "news"),
    [
        (
            "en",
            "Waiting for you to press the button in the mail",
            "The state of Zoom changed to “active”",
        ),
        ("ja", "このカードは自動で更新されます", "Zoom の状態が「"),
    ],
)
def test_a_waiting_card_refreshes_until_its_state_settles(
    signed_in, make_service, account_in, language, waiting, news
):
    service = make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="Zoom")
    account = account_in(signed_in.member, service, State.INVITED)
    signed_in.cookies["django_language"] = language
    page = signed_in.get("/my/")
    assert 'id="card-news"' in page.text and 'aria-live="polite"' in page.text
    assert waiting in page.text
    url = card_url(page.text)
    assert 'hx-trigger="every 5s"' in page.text

    unchanged = signed_in.get(url, headers={"HX-Request": "true"})
    assert unchanged.status_code == 204 and unchanged.content == b""
    assert "no-store" in unchanged["Cache-Control"]

    transition(account, State.ACTIVE, cause=Cause.RECONCILE)
    changed = signed_in.get(url, headers={"HX-Request": "true"})
    assert changed.status_code == 200 and "no-store" in changed["Cache-Control"]
    body = changed.content.decode()
    assert 'data-testid="state-zoom"' in body
    assert 'hx-swap-oob="innerHTML"' in body and news in body
    assert "hx-get" not in body  # settled: the refreshing stops
    assert "<html" not in body  # a card, not a page


def test_an_open_page_brings_the_accounts_next_check_forward(signed_in, make_service, account_in):
    service = make_service()
    account = account_in(signed_in.member, service, State.INVITED)
    before = Watch.objects.get(account=account).next_check_at
    signed_in.get("/my/")
    after = Watch.objects.get(account=account).next_check_at
    assert (
        (after - Watch.objects.get(account=account).since).total_seconds()
        <= 30
        < (before - Watch.objects.get(account=account).since).total_seconds()
    )


def test_a_settled_card_does_not_refresh(signed_in, make_service, account_in):
    service = make_service()
    account_in(signed_in.member, service, State.ACTIVE)
    page = signed_in.get("/my/")
    assert "hx-get" not in page.text and "card-news" in page.text
