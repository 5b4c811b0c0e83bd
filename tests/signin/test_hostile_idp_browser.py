"""Issue #20's attack in a real browser: another institution's IdP, listed in the same
federation metadata, asserts ``<victim>@other.example``; the victim's /my/ stays out of
reach and the person is told what happened, in Japanese or English."""

import httpx
import pytest
from djangosaml2.conf import get_config
from saml2.metadata import create_metadata_string

from campusconf.audit.models import AuditEntry
from campusconf.signin.saml import config_loader
from tests.fixtures.browser import shot
from tests.signin.saml_idp import UniversityIdP, write_federation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOME_SCOPE = "utac.example.ac.jp"
TOLD = {
    "en": ("You cannot sign in", "identity provider that this service does not accept"),
    "ja": ("サインインできません", "このサービスが受け付けていない ID プロバイダー"),
}


@pytest.fixture
def site(live_server):
    # 127.0.0.1 like the IdPs: their POST back is then same-site, as over HTTPS in production.
    url = live_server.url.replace("localhost", "127.0.0.1")
    httpx.get(f"{url}/healthz", timeout=60)  # the first request loads pysaml2's schemas
    return url


@pytest.fixture
def federation(tmp_path, settings, site):
    home = UniversityIdP(tmp_path, name="home", scopes=(HOME_SCOPE,))
    hostile = UniversityIdP(tmp_path, name="hostile", scopes=("other.example",), hostile=True)
    settings.CAMPUSCONF_SAML_ENABLED = True
    settings.CAMPUSCONF_SAML_IDP_METADATA_FILE = str(write_federation(tmp_path, [home, hostile]))
    settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS = [home.entity_id]
    settings.CAMPUSCONF_SAML_BASE_URL = site
    sp_metadata = create_metadata_string(None, config=get_config(config_loader, None), valid=1)
    for idp in (home, hostile):
        idp.trust(sp_metadata.decode())
    with home.serving(), hostile.serving():
        yield home, hostile


def detour_to(page, site: str, home: UniversityIdP, hostile: UniversityIdP) -> None:
    """The attacker's browser carries the request our SP addresses to the university's
    IdP to their own IdP instead, which answers it with a signed assertion."""

    def redirect(route):
        answer = route.fetch(max_redirects=0)
        location = answer.headers["location"]
        assert location.startswith(home.base)
        detoured = hostile.base + location[len(home.base) :]
        route.fulfill(response=answer, headers={**answer.headers, "location": detoured})

    page.route(f"{site}/saml2/login/**", redirect)


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_hostile_idp_cannot_open_a_members_page(browser, federation, site, make_member, language):
    home, hostile = federation
    victim = make_member(language=language)
    hostile.user = {"eduPersonPrincipalName": [f"{victim.common_id}@other.example"]}
    locale = "ja-JP" if language == "ja" else "en-US"
    context = browser.new_context(locale=locale, viewport={"width": 1100, "height": 820})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        detour_to(page, site, home, hostile)
        page.goto(f"{site}/signin/")
        page.get_by_role("link", name="SAML").click()
        page.wait_for_url(f"{site}/saml2/acs/")  # the hostile IdP's form posted itself here
        heading, message = TOLD[language]
        assert page.inner_text("h1") == heading
        assert message in page.inner_text("main")
        shot(page, f"signin-hostile-idp-refused-{language}")

        page.goto(f"{site}/my/")
        assert "/signin/" in page.url
        assert victim.common_id not in page.content()
    finally:
        context.close()
    entry = AuditEntry.objects.get(action="signin.refused")
    assert entry.details["issuer"] == hostile.entity_id


def test_the_victim_still_signs_in_through_the_university(page, federation, site, make_member):
    home, hostile = federation
    member = make_member(language="en")
    home.user = {"eduPersonPrincipalName": [f"{member.common_id}@{HOME_SCOPE}"]}
    hostile.user = {"eduPersonPrincipalName": [f"{member.common_id}@other.example"]}
    page.goto(f"{site}/signin/")
    page.get_by_role("link", name="SAML").click()
    page.wait_for_url(f"{site}/my/")
    assert member.common_id in page.inner_text("main")
