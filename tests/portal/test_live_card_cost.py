"""What a live card's refresh costs when nothing changed, pinned without timing: its
statements, the 204 / 304 answers, the catalogue behind it, and the confirmation above
the cards going once the card it was about has moved on."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.states import Cause, State
from campusconf.portal import live
from tests.portal.test_query_budget import IDLE_CARD_STATEMENTS

pytestmark = pytest.mark.django_db

POLL = re.compile(r'hx-get="(/my/services/zoom/card/\?v=[^"]+)"')


def card_url(client) -> str:
    match = POLL.search(client.get("/my/").text)
    assert match, "the waiting card does not refresh itself"
    return match.group(1).replace("&amp;", "&")


@pytest.fixture
def zoom(make_service):
    return make_service(slug="zoom", vendor="zoom", name_en="Zoom", name_ja="Zoom")


def test_an_unchanged_card_costs_the_session_and_two_reads(signed_in, zoom, account_in):
    account_in(signed_in.member, zoom, State.INVITED)
    url = card_url(signed_in)

    with CaptureQueriesContext(connection) as ctx:
        answer = signed_in.get(url, headers={"HX-Request": "true"})

    assert answer.status_code == 204 and answer.content == b""
    statements = [q["sql"] for q in ctx.captured_queries]
    assert len(statements) == IDLE_CARD_STATEMENTS, "\n".join(statements)
    assert not any('FROM "services_service"' in sql for sql in statements)
    assert not any('FROM "accounts_accountevent"' in sql for sql in statements)


def test_an_unchanged_card_answers_304_to_its_etag(signed_in, zoom, account_in):
    account = account_in(signed_in.member, zoom, State.INVITED)
    path = card_url(signed_in).split("?")[0]
    first = signed_in.get(path, headers={"HX-Request": "true"})
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.strip('"').startswith("invited.")

    again = signed_in.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again["ETag"] == etag
    assert "no-store" in again["Cache-Control"]

    transition(account, State.ACTIVE, cause=Cause.RECONCILE)
    moved = signed_in.get(path, headers={"If-None-Match": etag})
    assert moved.status_code == 200 and 'data-testid="state-zoom"' in moved.text


@pytest.mark.parametrize("state", sorted(live.WAITING_STATES))
def test_a_waiting_state_is_its_steps_kind(signed_in, zoom, account_in, state):
    """The shortcut's premise: a waiting account's step is named as its state, so the
    row alone tells an unchanged card."""
    from campusconf.core import clock
    from campusconf.portal.next_step import next_step

    account = account_in(signed_in.member, zoom, State(state))
    step = next_step(signed_in.member, zoom, account, clock.now())
    assert step.kind == state
    assert live.unchanged(account, live.version(step))


def test_a_card_of_a_service_disabled_meanwhile_is_gone(signed_in, zoom, account_in):
    account_in(signed_in.member, zoom, State.INVITED)
    url = card_url(signed_in)
    zoom.enabled = False
    zoom.save()  # the catalogue the card reads forgets its copy on save

    assert signed_in.get(url, headers={"HX-Request": "true"}).status_code == 404


def test_the_confirmation_goes_when_its_card_moves_on(signed_in, zoom, account_in):
    account = account_in(signed_in.member, zoom, State.INVITED, invitation_sent_at=None)
    signed_in.post("/my/services/zoom/resend/")
    page = signed_in.get("/my/").text
    assert 'id="message-card-zoom"' in page and "is on its way" in page
    url = POLL.search(page).group(1).replace("&amp;", "&")
    assert "m=1" in url

    account.refresh_from_db()
    transition(account, State.ACTIVE, cause=Cause.RECONCILE)
    changed = signed_in.get(url, headers={"HX-Request": "true"}).text

    assert '<p id="message-card-zoom" hx-swap-oob="delete"></p>' in changed
    assert "m=1" not in changed
    # The page drawn afterwards has no confirmation left to remove.
    assert "message-card-zoom" not in signed_in.get("/my/").text
