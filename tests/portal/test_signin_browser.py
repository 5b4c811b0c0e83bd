"""Signing in through the university's providers in a real browser (S1)."""

import httpx
import pytest
from djangosaml2.conf import get_config
from oidc_provider_mock import User
from saml2.metadata import create_metadata_string

from campusconf.signin.saml import config_loader
from tests.fixtures.browser import shot
from tests.signin.oidc import provider, settings_for
from tests.signin.saml_idp import UniversityIdP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site(live_server):
    # 127.0.0.1 like the providers: the IdP's POST back to us is then same-site, so the
    # browser sends the (SameSite=Lax) session cookie as it does over HTTPS in production.
    url = live_server.url.replace("localhost", "127.0.0.1")
    httpx.get(f"{url}/healthz", timeout=60)  # the first request loads pysaml2's schemas
    return url


def test_openid_connect_in_the_browser(page, site, settings, make_member):
    member = make_member(language="en")
    users = [User(sub="alice", claims={"preferred_username": member.common_id})]
    with provider(users) as base:
        for name, value in settings_for(base).items():
            setattr(settings, name, value)
        page.goto(f"{site}/signin/")
        shot(page, "signin-oidc-en")
        page.get_by_role("link", name="OpenID Connect").click()
        page.get_by_role("button", name="alice").click()
        page.wait_for_url(f"{site}/my/")
        assert member.common_id in page.inner_text("main")
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{site}/my/")
        assert "/signin/" in page.url


def test_saml_in_the_browser(page, site, settings, tmp_path, make_member):
    member = make_member(language="ja")
    idp = UniversityIdP(tmp_path)
    settings.CAMPUSCONF_SAML_ENABLED = True
    settings.CAMPUSCONF_SAML_IDP_METADATA_FILE = str(idp.write_metadata())
    settings.CAMPUSCONF_SAML_BASE_URL = site
    idp.trust(
        create_metadata_string(None, config=get_config(config_loader, None), valid=1).decode()
    )
    idp.user = {"eduPersonPrincipalName": [f"{member.common_id}@utac.example.ac.jp"]}
    with idp.serving():
        page.goto(f"{site}/signin/")
        page.get_by_role("link", name="SAML").click()
        page.wait_for_url(f"{site}/my/")  # the IdP's form posts itself back
        assert "利用サービス" in page.inner_text("h1")
        shot(page, "signin-saml-ja-landed")
