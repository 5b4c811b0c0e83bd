"""Real links to the vendor's sign-in and home pages: the vendor's own, or the ones a
service names (the demo's point at the sandbox)."""

import html

import pytest

from campusconf.accounts.states import State
from campusconf.portal.vendor_links import vendor_link

pytestmark = pytest.mark.django_db


def test_the_vendors_pages_unless_the_service_names_its_own(make_service):
    webex = make_service()
    zoom = make_service(slug="zoom", vendor="zoom")
    assert vendor_link(webex, "sign_in_url") == "https://signin.webex.com/"
    assert vendor_link(zoom, "home_url") == "https://zoom.us/"
    own = make_service(
        slug="zoom-demo",
        vendor="zoom",
        connector_settings={"sign_in_url": "http://127.0.0.1:8100/zoom/signin"},
    )
    assert vendor_link(own, "sign_in_url") == "http://127.0.0.1:8100/zoom/signin"
    assert vendor_link(own, "home_url") == "https://zoom.us/"  # the one it did not name
    with pytest.raises(ValueError, match="unknown vendor link"):
        vendor_link(webex, "admin_url")


def test_a_link_that_is_no_web_address_is_not_used(make_service):
    odd = make_service(connector_settings={"sign_in_url": "javascript:alert(1)"})
    assert vendor_link(odd, "sign_in_url") == "https://signin.webex.com/"


@pytest.mark.parametrize(
    ("language", "words"), [("en", "Sign in at Zoom"), ("ja", "Zoom にサインイン")]
)
def test_an_active_account_leads_with_signing_in_at_the_vendor(
    signed_in, make_service, account_in, language, words
):
    service = make_service(slug="zoom", vendor="zoom")
    account_in(signed_in.member, service, State.ACTIVE)
    signed_in.cookies["django_language"] = language
    page = html.unescape(signed_in.get("/my/").text)
    card = page[page.index('id="service-zoom"') :]
    assert f'<a class="button" href="https://zoom.us/signin">{words}</a>' in card
    # First in the card's step, before the licence's dates.
    step = card[card.index('class="next-step"') :]
    assert step.split("<p", 1)[1].startswith(' class="step-lead"')
    assert step.index(words) < step.index("</div>")


def test_the_self_repair_steps_link_the_vendors_home_page(signed_in, make_service, account_in):
    service = make_service(slug="zoom", vendor="zoom")
    account_in(signed_in.member, service, State.UNLICENSED)
    signed_in.cookies["django_language"] = "en"
    page = html.unescape(signed_in.get("/my/").text)
    assert '<a href="https://zoom.us/">Zoom\'s home page</a>' in page
