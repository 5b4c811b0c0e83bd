"""SAML sign-in bound to its IdP: two real IdPs in one federation metadata file, one of
them another institution's (hostile), each with its own key and shibmd:Scope."""

import base64

import httpx
import pytest
from djangosaml2.conf import get_config
from saml2.metadata import create_metadata_string

from campusconf.audit.models import AuditEntry
from campusconf.signin.saml import config_loader
from tests.signin.saml_idp import UniversityIdP, posted_form, write_federation

pytestmark = pytest.mark.django_db(transaction=True)

HOME_SCOPE = "utac.example.ac.jp"
NOT_ACCEPTED = "identity provider that this service does not accept"
OTHER_ORGANISATION = "account of another organisation"


@pytest.fixture
def federation(tmp_path, settings, live_server):
    home = UniversityIdP(tmp_path, name="home", scopes=(HOME_SCOPE,))
    hostile = UniversityIdP(tmp_path, name="hostile", scopes=("other.example",), hostile=True)
    settings.CAMPUSCONF_SAML_ENABLED = True
    settings.CAMPUSCONF_SAML_IDP_METADATA_FILE = str(write_federation(tmp_path, [home, hostile]))
    settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS = [home.entity_id]
    settings.CAMPUSCONF_SAML_BASE_URL = live_server.url
    sp_metadata = create_metadata_string(None, config=get_config(config_loader, None), valid=1)
    for idp in (home, hostile):
        idp.trust(sp_metadata.decode())
    with home.serving(), hostile.serving():
        yield home, hostile


def start(browser: httpx.Client, live_url: str, **params: str) -> httpx.Response:
    return browser.get(f"{live_url}/saml2/login/", params={"next": "/my/", **params})


def answer_from(idp: UniversityIdP, request_url: str) -> tuple[str, dict[str, str]]:
    """The attacker takes the request our SP addressed to the university's IdP to an
    IdP they control, which answers it (it is in the federation metadata: its key is
    trusted for its own entity ID)."""
    query = request_url.split("?", 1)[1]
    at_idp = httpx.get(f"{idp.base}/sso/redirect?{query}", timeout=30)
    assert at_idp.status_code == 200, at_idp.text
    return posted_form(at_idp.text)


def signs_in(browser: httpx.Client, live_url: str) -> bool:
    return browser.get(f"{live_url}/my/").status_code == 200


def test_the_home_idp_signs_its_members_in(federation, live_server, make_member):
    home, _hostile = federation
    member = make_member()
    home.user = {"eduPersonPrincipalName": [f"{member.common_id}@{HOME_SCOPE}"]}
    with httpx.Client(timeout=30) as browser:
        request = start(browser, live_server.url)
        assert request.headers["location"].startswith(home.base)
        action, fields = answer_from(home, request.headers["location"])
        assert browser.post(action, data=fields).headers["location"] == "/my/"
        assert signs_in(browser, live_server.url)


@pytest.mark.parametrize("scope", ["other.example", HOME_SCOPE])
def test_another_idp_in_the_metadata_cannot_sign_in_as_a_member(
    federation, live_server, make_member, scope
):
    _home, hostile = federation
    victim = make_member()
    hostile.user = {"eduPersonPrincipalName": [f"{victim.common_id}@{scope}"]}
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as attacker:
        action, fields = answer_from(hostile, start(attacker, live_server.url).headers["location"])
        refused = attacker.post(action, data=fields)
        assert refused.status_code == 403 and NOT_ACCEPTED in refused.text
        assert not signs_in(attacker, live_server.url)
    entry = AuditEntry.objects.get(action="signin.refused")
    assert entry.details["issuer"] == hostile.entity_id
    assert entry.details["code"] == "idp_not_accepted"


def test_a_response_that_names_the_home_idp_outside_the_signature_is_refused(
    federation, live_server, make_member
):
    """Only the assertion is signed: the Response's own Issuer is the attacker's to write."""
    home, hostile = federation
    victim = make_member()
    hostile.user = {"eduPersonPrincipalName": [f"{victim.common_id}@{HOME_SCOPE}"]}
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as attacker:
        action, fields = answer_from(hostile, start(attacker, live_server.url).headers["location"])
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        outer = xml.index(hostile.entity_id)
        assert outer < xml.index("Assertion ")  # the Response's Issuer comes first
        forged = xml[:outer] + home.entity_id + xml[outer + len(hostile.entity_id) :]
        fields["SAMLResponse"] = base64.b64encode(forged.encode()).decode()
        refused = attacker.post(action, data=fields)
        assert refused.status_code == 403 and NOT_ACCEPTED in refused.text
        assert not signs_in(attacker, live_server.url)
    assert (
        "not the assertion's" in AuditEntry.objects.get(action="signin.refused").details["detail"]
    )


def test_a_sign_in_cannot_be_sent_to_another_idp(federation, live_server):
    _home, hostile = federation
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as browser:
        asked = start(browser, live_server.url, idp=hostile.entity_id)
        assert asked.status_code == 403 and NOT_ACCEPTED in asked.text
        assert "location" not in asked.headers


def test_without_the_setting_a_federation_names_no_idp(federation, live_server, settings):
    settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS = []
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as browser:
        asked = start(browser, live_server.url)
        assert asked.status_code == 403 and NOT_ACCEPTED in asked.text


@pytest.fixture
def both_trusted(federation, settings):
    """Two IdPs accepted (say, an IdP being replaced): scopes keep each to its own."""
    home, hostile = federation
    settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS = [home.entity_id, hostile.entity_id]
    return home, hostile


@pytest.mark.parametrize(
    ("who", "scope", "home_scopes"),
    [
        ("hostile", HOME_SCOPE, []),  # not a scope its metadata gives it
        ("hostile", "other.example", [HOME_SCOPE]),  # its own, but not the university's
        ("home", "other.example", []),  # kept and compared: the home IdP may not either
    ],
)
def test_a_scope_the_idp_may_not_assert_is_refused(
    both_trusted, live_server, make_member, settings, who, scope, home_scopes
):
    home, hostile = both_trusted
    settings.CAMPUSCONF_SIGNIN_SCOPES = home_scopes
    idp = hostile if who == "hostile" else home
    victim = make_member()
    idp.user = {"eduPersonPrincipalName": [f"{victim.common_id}@{scope}"]}
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as attacker:
        request = start(attacker, live_server.url, idp=idp.entity_id)
        action, fields = answer_from(idp, request.headers["location"])
        refused = attacker.post(action, data=fields)
        assert refused.status_code == 403 and OTHER_ORGANISATION in refused.text
        assert not signs_in(attacker, live_server.url)
    entry = AuditEntry.objects.get(action="signin.refused")
    assert (entry.details["code"], entry.details["scope"]) == ("scope_not_accepted", scope)


def test_each_trusted_idp_signs_in_within_its_own_scope(
    both_trusted, live_server, make_member, settings
):
    home, _hostile = both_trusted
    settings.CAMPUSCONF_SIGNIN_SCOPES = [HOME_SCOPE]
    member = make_member()
    home.user = {"eduPersonPrincipalName": [f"{member.common_id}@{HOME_SCOPE.upper()}"]}
    with httpx.Client(timeout=30) as browser:
        action, fields = answer_from(home, start(browser, live_server.url).headers["location"])
        assert browser.post(action, data=fields).headers["location"] == "/my/"
        assert signs_in(browser, live_server.url)
    assert not AuditEntry.objects.filter(action="signin.refused").exists()
