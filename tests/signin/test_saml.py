"""SAML 2.0 sign-in against a real pysaml2 IdP, through real HTTP redirects and posts."""

import base64
import datetime

import httpx
import pytest
from djangosaml2.conf import get_config
from saml2.metadata import create_metadata_string

from campusconf.members.actions import mark_left
from campusconf.signin.saml import config_loader
from tests.signin.saml_idp import UniversityIdP, posted_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def idp(tmp_path, settings, live_server):
    idp = UniversityIdP(tmp_path)
    settings.CAMPUSCONF_SAML_ENABLED = True
    settings.CAMPUSCONF_SAML_IDP_METADATA_FILE = str(idp.write_metadata())
    settings.CAMPUSCONF_SAML_BASE_URL = live_server.url
    sp_conf = get_config(config_loader, None)
    idp.trust(create_metadata_string(None, config=sp_conf, valid=1).decode())
    with idp.serving():
        yield idp


def sign_in_at_idp(browser: httpx.Client, live_url: str) -> tuple[str, dict[str, str]]:
    start = browser.get(f"{live_url}/saml2/login/", params={"next": "/my/"})
    assert start.status_code == 302, start.text
    at_idp = httpx.get(start.headers["location"], timeout=30)
    assert at_idp.status_code == 200
    return posted_form(at_idp.text)


@pytest.mark.parametrize("attribute", ["eduPersonPrincipalName", "uid"])
def test_sign_in_through_the_idp(idp, live_server, make_member, settings, attribute):
    member = make_member()
    settings.CAMPUSCONF_SAML_COMMON_ID_ATTRIBUTE = attribute
    idp.user = {
        "eduPersonPrincipalName": [f"{member.common_id}@utac.example.ac.jp"],
        "uid": [member.common_id],
    }
    with httpx.Client(timeout=30) as browser:
        action, fields = sign_in_at_idp(browser, live_server.url)
        assert action == f"{live_server.url}/saml2/acs/"
        landed = browser.post(action, data=fields)
        assert landed.status_code == 302 and landed.headers["location"] == "/my/"
        page = browser.get(f"{live_server.url}/my/")
        assert page.status_code == 200 and member.common_id in page.text


def test_a_person_not_in_the_directory_is_refused_politely(idp, live_server):
    idp.user = {"eduPersonPrincipalName": ["9999999999@utac.example.ac.jp"]}
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as browser:
        action, fields = sign_in_at_idp(browser, live_server.url)
        refused = browser.post(action, data=fields)
        assert refused.status_code == 403
        assert "could not find your common ID" in refused.text
        assert browser.get(f"{live_server.url}/my/").status_code == 302


def test_a_member_who_left_is_refused(idp, live_server, make_member):
    member = make_member()
    mark_left(member, datetime.date(2026, 3, 31))
    idp.user = {"eduPersonPrincipalName": [f"{member.common_id}@utac.example.ac.jp"]}
    with httpx.Client(timeout=30, headers={"accept-language": "en"}) as browser:
        action, fields = sign_in_at_idp(browser, live_server.url)
        refused = browser.post(action, data=fields)
        assert refused.status_code == 403 and "membership has ended" in refused.text


def test_a_tampered_response_is_refused(idp, live_server, make_member):
    member, victim = make_member(), make_member()
    idp.user = {"eduPersonPrincipalName": [f"{member.common_id}@utac.example.ac.jp"]}
    with httpx.Client(timeout=30) as browser:
        action, fields = sign_in_at_idp(browser, live_server.url)
        xml = base64.b64decode(fields["SAMLResponse"]).decode()
        assert member.common_id in xml
        forged = xml.replace(member.common_id, victim.common_id)
        fields["SAMLResponse"] = base64.b64encode(forged.encode()).decode()
        refused = browser.post(action, data=fields)
        assert refused.status_code == 403
        assert browser.get(f"{live_server.url}/my/").status_code == 302


def test_a_replayed_assertion_is_refused(idp, live_server, make_member):
    member = make_member()
    idp.user = {"eduPersonPrincipalName": [f"{member.common_id}@utac.example.ac.jp"]}
    with httpx.Client(timeout=30) as browser:
        action, fields = sign_in_at_idp(browser, live_server.url)
        assert browser.post(action, data=fields).status_code == 302
        browser.post(f"{live_server.url}/signout/")
    # The same response again: from the same browser, and from a fresh one that has
    # itself just started a sign-in (so it has a request outstanding).
    with httpx.Client(timeout=30) as same:
        assert same.post(action, data=fields).status_code in (400, 403)
    with httpx.Client(timeout=30) as attacker:
        sign_in_at_idp(attacker, live_server.url)
        replay = attacker.post(action, data=fields)
        assert replay.status_code in (400, 403)
        assert attacker.get(f"{live_server.url}/my/").status_code == 302


def test_metadata_is_published_when_enabled(idp, live_server):
    metadata = httpx.get(f"{live_server.url}/saml2/metadata/", timeout=30)
    assert metadata.status_code == 200
    assert "AssertionConsumerService" in metadata.text


STAFF_VALUE = "urn:mace:utac.example.ac.jp:campusconf:staff"


@pytest.fixture
def staff_from_entitlement(settings):
    settings.CAMPUSCONF_SAML_STAFF_ATTRIBUTE = "eduPersonEntitlement"
    settings.CAMPUSCONF_SAML_STAFF_VALUES = [STAFF_VALUE]


@pytest.mark.usefixtures("staff_from_entitlement")
def test_staff_rights_come_from_the_idps_attribute_at_each_sign_in(idp, live_server, make_member):
    from campusconf.audit.models import AuditEntry

    member = make_member(staff=True)
    scoped = [f"{member.common_id}@utac.example.ac.jp"]
    idp.user = {"eduPersonPrincipalName": scoped, "eduPersonEntitlement": [STAFF_VALUE, "x"]}
    with httpx.Client(timeout=30) as browser:
        start = browser.get(f"{live_server.url}/saml2/login/", params={"next": "/staff/"})
        action, fields = posted_form(httpx.get(start.headers["location"], timeout=30).text)
        assert browser.post(action, data=fields).headers["location"] == "/staff/"
        assert browser.get(f"{live_server.url}/staff/").status_code == 200
        browser.post(f"{live_server.url}/signout/")
    signed_in = AuditEntry.objects.get(action="signin.success")
    assert signed_in.details["staff"] is True and signed_in.details["method"] == "saml"
    assert signed_in.details["issuer"] == idp.entity_id
    assert AuditEntry.objects.filter(action="signin.staff_rights_granted").count() == 1

    idp.user = {"eduPersonPrincipalName": scoped, "eduPersonEntitlement": ["x"]}
    with httpx.Client(timeout=30) as browser:
        action, fields = sign_in_at_idp(browser, live_server.url)
        assert browser.post(action, data=fields).headers["location"] == "/my/"
        assert browser.get(f"{live_server.url}/staff/").status_code == 403
    assert AuditEntry.objects.filter(action="signin.staff_rights_removed").count() == 1
