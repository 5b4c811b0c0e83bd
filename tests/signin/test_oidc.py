"""OpenID Connect sign-in against a real provider, through real HTTP redirects."""

import datetime
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from oidc_provider_mock import User

from campusconf.audit.models import AuditEntry
from campusconf.members.actions import mark_left
from tests.signin.oidc import provider, settings_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp(make_member, settings):
    member = make_member()
    left = make_member()
    mark_left(left, datetime.date(2026, 3, 31))
    users = [
        User(sub="alice", claims={"preferred_username": f"{member.common_id}@utac.example.ac.jp"}),
        User(sub="stranger", claims={"preferred_username": "9999999999"}),
        User(sub="leaver", claims={"preferred_username": left.common_id}),
        # Another organisation's account at a provider that serves several (a
        # multi-tenant OP): the common ID is the member's, the domain is not ours.
        User(sub="outsider", claims={"preferred_username": f"{member.common_id}@other.example"}),
    ]
    with provider(users) as base:
        for name, value in settings_for(base).items():
            setattr(settings, name, value)
        yield {"member": member, "base": base}


def start(browser: httpx.Client, live_url: str) -> str:
    response = browser.get(f"{live_url}/oidc/authenticate/", params={"next": "/my/"})
    assert response.status_code == 302
    return response.headers["location"]


def authorize(authorize_url: str, sub: str) -> str:
    """What the person does at the provider: choose who they are, and consent."""
    answer = httpx.post(authorize_url, data={"sub": sub}, timeout=30)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def test_sign_in_through_the_provider(idp, live_server):
    with httpx.Client(headers={"accept-language": "en"}, timeout=30) as browser:
        authorize_url = start(browser, live_server.url)
        assert authorize_url.startswith(idp["base"])
        assert "nonce=" in authorize_url
        callback = authorize(authorize_url, "alice")
        assert callback.startswith(live_server.url + "/oidc/callback/")
        landed = browser.get(callback)
        assert landed.status_code == 302 and landed.headers["location"] == "/my/"
        page = browser.get(f"{live_server.url}/my/")
        assert page.status_code == 200
        assert idp["member"].common_id in page.text


@pytest.mark.parametrize(
    ("sub", "words"),
    [("stranger", "could not find your common ID"), ("leaver", "membership has ended")],
)
def test_people_who_may_not_enter_are_told_why(idp, live_server, sub, words):
    with httpx.Client(headers={"accept-language": "en"}, timeout=30) as browser:
        landed = browser.get(authorize(start(browser, live_server.url), sub))
        assert landed.headers["location"] == "/signin/refused/"
        page = browser.get(live_server.url + landed.headers["location"])
        assert page.status_code == 403 and words in page.text
        assert browser.get(f"{live_server.url}/my/").status_code == 302


def test_a_callback_with_a_wrong_state_is_refused(idp, live_server):
    with httpx.Client(timeout=30) as browser:
        callback = authorize(start(browser, live_server.url), "alice")
        query = parse_qs(urlparse(callback).query)
        forged = browser.get(
            f"{live_server.url}/oidc/callback/",
            params={"code": query["code"][0], "state": "forged-state"},
        )
        assert forged.status_code == 400
        assert browser.get(f"{live_server.url}/my/").status_code == 302


def test_a_token_minted_for_another_nonce_is_refused(idp, live_server):
    """Two sign-ins started in one session: the code of the first, presented with the
    state of the second, carries the first nonce and must not sign anyone in."""
    with httpx.Client(timeout=30) as browser:
        first = start(browser, live_server.url)
        second = start(browser, live_server.url)
        code = parse_qs(urlparse(authorize(first, "alice")).query)["code"][0]
        second_state = parse_qs(urlparse(second).query)["state"][0]
        mixed = browser.get(
            f"{live_server.url}/oidc/callback/", params={"code": code, "state": second_state}
        )
        assert mixed.status_code == 400
        assert browser.get(f"{live_server.url}/my/").status_code == 302


def test_a_callback_is_used_once(idp, live_server):
    with httpx.Client(timeout=30) as browser:
        callback = authorize(start(browser, live_server.url), "alice")
        assert browser.get(callback).headers["location"] == "/my/"
        again = browser.get(callback)
        assert again.status_code == 400


@pytest.mark.usefixtures("still_limiter_clock")
def test_the_callback_is_rate_limited(idp, live_server, settings):
    settings.CAMPUSCONF_SIGNIN_RATE_LIMIT = (2, 60)
    with httpx.Client(timeout=30) as browser:
        codes = [
            browser.get(
                f"{live_server.url}/oidc/callback/", params={"code": "x", "state": "y"}
            ).status_code
            for _ in range(3)
        ]
    assert codes[-1] == 429


def refused_page(browser: httpx.Client, live_url: str, sub: str) -> httpx.Response:
    landed = browser.get(authorize(start(browser, live_url), sub))
    assert landed.headers["location"] == "/signin/refused/"
    return browser.get(live_url + landed.headers["location"])


def test_tokens_from_another_issuer_are_refused(idp, live_server, settings):
    settings.OIDC_OP_ISSUER = "https://login.utac.example.ac.jp"
    with httpx.Client(headers={"accept-language": "en"}, timeout=30) as browser:
        page = refused_page(browser, live_server.url, "alice")
        assert page.status_code == 403
        assert "identity provider that this service does not accept" in page.text
        assert browser.get(f"{live_server.url}/my/").status_code == 302
    entry = AuditEntry.objects.get(action="signin.refused")
    assert (entry.details["code"], entry.details["issuer"]) == ("idp_not_accepted", idp["base"])


def test_a_common_id_in_another_domain_is_refused(idp, live_server):
    with httpx.Client(headers={"accept-language": "en"}, timeout=30) as browser:
        page = refused_page(browser, live_server.url, "outsider")
        assert page.status_code == 403 and "account of another organisation" in page.text
        assert browser.get(f"{live_server.url}/my/").status_code == 302
    entry = AuditEntry.objects.get(action="signin.refused")
    assert (entry.details["code"], entry.details["scope"]) == (
        "scope_not_accepted",
        "other.example",
    )


def test_userinfo_about_another_subject_is_not_used(idp, live_server, monkeypatch, make_member):
    """The provider's UserInfo answer is merged over the ID token's claims only when it
    is about the same subject (OpenID Connect Core 5.3.2)."""
    from campusconf.signin.backends import MemberOIDCBackend

    victim = make_member()
    monkeypatch.setattr(
        MemberOIDCBackend,
        "get_userinfo",
        lambda self, *args: {"sub": "someone-else", "preferred_username": victim.common_id},
    )
    with httpx.Client(headers={"accept-language": "en"}, timeout=30) as browser:
        page = refused_page(browser, live_server.url, "alice")
        assert page.status_code == 403
        assert browser.get(f"{live_server.url}/my/").status_code == 302
    assert "UserInfo" in AuditEntry.objects.get(action="signin.refused").details["detail"]


def test_staff_rights_come_from_the_providers_claim(make_member, settings, live_server):
    member = make_member(staff=True)
    users = [
        User(sub="it", claims={"preferred_username": member.common_id, "groups": ["cc-it"]}),
    ]
    with provider(users) as base:
        for name, value in settings_for(base).items():
            setattr(settings, name, value)
        settings.CAMPUSCONF_OIDC_STAFF_CLAIM = "groups"
        settings.CAMPUSCONF_OIDC_STAFF_VALUES = ["cc-it"]
        with httpx.Client(timeout=30) as browser:
            start_url = browser.get(
                f"{live_server.url}/oidc/authenticate/", params={"next": "/staff/"}
            ).headers["location"]
            assert browser.get(authorize(start_url, "it")).headers["location"] == "/staff/"
            assert browser.get(f"{live_server.url}/staff/").status_code == 200
    entry = AuditEntry.objects.get(action="signin.success")
    assert entry.details["staff"] is True and entry.details["method"] == "oidc"
