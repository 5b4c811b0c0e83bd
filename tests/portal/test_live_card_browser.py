"""The card follows the member (issue #22): after "Apply", the card goes from "being
created" to "invitation sent", and after the member activates at the sandbox, to
"active", without a reload; the page's live region says so. The engine runs here, as the
workers would: the watch's schedule (its first interval shortened to a second, as in
production it is three minutes for Webex) and the jobs it queues — no reconcile pass.
"""

import time

import pytest

from campusconf.accounts.states import State
from campusconf.provisioning import worker
from campusconf.provisioning.engine import schedules
from campusconf.provisioning.models import ReconcilePass
from tests.fixtures.browser import shot
from tests.fixtures.sandbox import link
from tests.portal.test_flows_browser import portal, sign_in, state_of  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def watch_until(member, slug: str, state: State, rounds: int = 60) -> None:
    """The workers' watch schedule and its observe jobs, round after round."""
    for _ in range(rounds):
        schedules.run("watch")
        worker.drain(max_seconds=30)
        if state_of(member, slug) == state:
            return
        time.sleep(0.5)  # the watch's shortened interval is a second
    raise AssertionError(f"{slug} never became {state}")


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_card_changes_from_invited_to_active_without_a_reload(
    page,
    live_server,
    portal,  # noqa: F811 (the flows' fixture, imported)
    smtp_capture,
    make_member,
    settings,
    language,
):
    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "WATCH_FIRST_SECONDS": 1}
    member = make_member(language=language)
    sign_in(page, live_server, member)
    apply = "Apply for Webex" if language == "en" else "ウェベックスを申請する"
    page.get_by_role("button", name=apply).click()
    page.wait_for_load_state()
    card = page.locator("#service-webex")
    badge = page.get_by_test_id("state-webex")
    news = page.locator("#card-news")
    invited, active = {
        "en": ("invitation sent", "active"),
        "ja": (None, None),
    }[language]
    # A mark on this very document: a reload would lose it.
    page.evaluate("window.notReloaded = true")
    confirmation = page.locator("#message-card-webex")  # "We received your application…"
    assert confirmation.is_visible()
    before = smtp_capture.count()
    worker.drain(max_seconds=60)
    assert state_of(member, "webex") == State.INVITED
    page.locator("#service-webex.state-invited").wait_for(timeout=20_000)
    # It spoke of the card as it was ("being created"): it goes with that card.
    confirmation.wait_for(state="detached", timeout=5_000)
    # ...and so does its box (it held the focus ring): nothing empty above the cards.
    # (An empty box has no height, so "visible" cannot tell: its focus ring still shows.)
    assert page.locator(".messages").evaluate_all(
        "boxes => boxes.every(box => getComputedStyle(box).display === 'none')"
    )
    assert page.get_by_test_id("waiting-webex").is_visible()
    if invited:
        assert badge.inner_text() == invited
        assert "Waiting for you to press the button in the mail" in card.inner_text()
    shot(page, f"live-card-invited-{language}")

    mail = smtp_capture.wait_for(
        member.mail_address, "has invited you to Cisco Webex", after=before
    )
    vendor = page.context.new_page()  # the member's mail, opened beside the portal
    vendor.goto(link(mail, "Activate"))
    vendor.fill("input[name=password]", "Activate2024")
    vendor.fill("input[name=confirm]", "Activate2024")
    vendor.get_by_role("button", name="Save & Sign in").click()
    vendor.wait_for_load_state()
    vendor.close()

    watch_until(member, "webex", State.ACTIVE)
    assert not ReconcilePass.objects.exists()  # the watch saw it, not a full listing
    # The card polls every 5 s: the change reaches the open page within two polls.
    page.locator("#service-webex.state-active").wait_for(timeout=15_000)
    assert page.evaluate("window.notReloaded === true")
    assert page.get_by_test_id("waiting-webex").count() == 0
    assert card.get_attribute("hx-get") is None  # settled: it stops asking
    if active:
        assert badge.inner_text() == active
        assert news.inner_text() == "The state of Webex changed to “active”."
    else:
        assert "ウェベックス の状態が「" in news.inner_text()
    assert news.get_attribute("aria-live") == "polite"
    shot(page, f"live-card-active-{language}")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"live-card-active-{language}-phone")
