import datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import override_settings
from django.utils import translation

from campusconf.members.actions import mark_left

pytestmark = pytest.mark.django_db


@pytest.fixture
def dev_mode(settings):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True


@pytest.mark.parametrize(
    ("debug", "flag"),
    [(False, False), (False, True), (True, False)],
    ids=["off", "flag-only", "debug-only"],
)
def test_dev_login_does_not_exist_unless_debug_and_the_setting(client, debug, flag, make_member):
    member = make_member()
    with override_settings(DEBUG=debug, CAMPUSCONF_DEV_LOGIN=flag):
        assert client.get("/dev-login/").status_code == 404
        assert client.post("/dev-login/", {"common_id": member.common_id}).status_code == 404
    assert SESSION_KEY not in client.session


@pytest.mark.usefixtures("dev_mode")
def test_choose_a_member_by_name_or_common_id(client, make_member):
    member = make_member()
    other = make_member()
    page = client.get("/dev-login/", {"q": member.given_name_latin})
    assert member.common_id in page.text and other.common_id not in page.text
    page = client.get("/dev-login/", {"q": other.common_id})
    assert other.common_id in page.text
    assert "devbanner" in page.text  # every page says "development"


@pytest.mark.usefixtures("dev_mode")
def test_the_whole_sample_university_is_listed_without_searching(client, make_member):
    members = [make_member() for _ in range(61)]
    page = client.get("/dev-login/")
    last = max(m.common_id for m in members)
    assert f'value="{last}"' in page.text


@pytest.mark.usefixtures("dev_mode")
def test_sign_in_creates_the_user_and_renews_the_session(client, make_member):
    member = make_member()
    client.get("/dev-login/")
    before = client.session.session_key
    response = client.post("/dev-login/", {"common_id": member.common_id})
    assert response.status_code == 302 and response["Location"] == "/my/"
    member.refresh_from_db()
    assert member.user is not None
    assert member.user.username == member.common_id
    assert not member.user.has_usable_password()
    assert client.session[SESSION_KEY] == str(member.user.pk)
    assert client.session.session_key != before
    # Second sign-in reuses the same user.
    client.post("/signout/")
    client.post("/dev-login/", {"common_id": member.common_id})
    member.refresh_from_db()
    assert client.session[SESSION_KEY] == str(member.user.pk)


@pytest.mark.usefixtures("dev_mode")
def test_unknown_common_id_is_told_politely_in_their_language(client):
    with translation.override("ja"):
        response = client.post(
            "/dev-login/", {"common_id": "9999999999"}, headers={"accept-language": "ja"}
        )
    assert response.status_code == 403
    assert "共通ID" in response.text and "見つかりません" in response.text
    assert SESSION_KEY not in client.session
    response = client.post(
        "/dev-login/", {"common_id": "9999999999"}, headers={"accept-language": "en"}
    )
    assert "could not find your common ID" in response.text


@pytest.mark.usefixtures("dev_mode")
def test_a_member_who_left_cannot_sign_in_and_loses_their_session(client, make_member):
    member = make_member()
    other_client_member = make_member()
    client.post("/dev-login/", {"common_id": member.common_id})
    assert client.get("/my/").status_code == 200
    mark_left(member, datetime.date(2026, 3, 31))
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    assert SESSION_KEY not in client.session
    refused = client.post(
        "/dev-login/", {"common_id": member.common_id}, headers={"accept-language": "en"}
    )
    assert refused.status_code == 403 and "membership has ended" in refused.text
    assert other_client_member.status == "active"


@pytest.mark.usefixtures("dev_mode")
@pytest.mark.usefixtures("dev_mode")
def test_pages_speak_the_members_preferred_language_until_they_switch(client, make_member):
    member = make_member(language="en")
    client.post("/dev-login/", {"common_id": member.common_id}, headers={"accept-language": "ja"})
    assert "My services" in client.get("/my/", headers={"accept-language": "ja"}).text
    client.cookies["django_language"] = "ja"
    assert "利用サービス" in client.get("/my/").text


@pytest.mark.usefixtures("dev_mode")
def test_sign_out_is_a_post_and_ends_the_session(client, make_member):
    member = make_member()
    client.post("/dev-login/", {"common_id": member.common_id})
    old_key = client.session.session_key
    assert client.get("/signout/").status_code == 405
    assert client.post("/signout/").status_code == 302
    assert SESSION_KEY not in client.session
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=old_key).exists()


@pytest.mark.usefixtures("dev_mode")
def test_sign_in_needs_a_csrf_token(make_member):
    from django.test import Client

    member = make_member()
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/dev-login/", {"common_id": member.common_id}).status_code == 403
    assert SESSION_KEY not in strict.session


@pytest.mark.usefixtures("dev_mode", "still_limiter_clock")
@override_settings(CAMPUSCONF_SIGNIN_RATE_LIMIT=(3, 60))
def test_sign_in_attempts_are_rate_limited(client):
    codes = [client.post("/dev-login/", {"common_id": "9999999999"}).status_code for _ in range(4)]
    assert codes == [403, 403, 403, 429]


@pytest.mark.usefixtures("dev_mode")
def test_the_next_parameter_cannot_leave_the_site(client, make_member):
    member = make_member()
    response = client.post(
        "/dev-login/", {"common_id": member.common_id, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/my/"


def test_signin_page_lists_only_configured_ways_in(client):
    page = client.get("/signin/")
    assert page.status_code == 200
    assert "/oidc/authenticate/" not in page.text
    assert "/saml2/login/" not in page.text
    assert "/dev-login/" not in page.text
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/saml2/login/").status_code == 404


@pytest.mark.usefixtures("dev_mode")
def test_roles_are_shown_in_the_page_language(client, make_member):
    member = make_member(faculty=True, staff=True)
    client.cookies["django_language"] = "ja"
    row = _row(client.get("/dev-login/", {"q": member.common_id}).text, member.common_id)
    assert "教員, 職員" in row and "faculty" not in row
    client.cookies["django_language"] = "en"
    row = _row(client.get("/dev-login/", {"q": member.common_id}).text, member.common_id)
    assert "faculty, staff" in row


def _row(html: str, common_id: str) -> str:
    return html.split(f"<td>{common_id}</td>")[1].split("</tr>")[0]


@pytest.mark.usefixtures("dev_mode")
def test_development_sign_in_with_staff_rights(client, make_member):
    """The demo's IT staff: the development sign-in stands in for the university's, and
    its box stands in for the IdP's staff attribute."""
    from campusconf.audit.models import AuditEntry

    member = make_member(staff=True)
    page = client.get("/dev-login/", {"staff": "1", "next": "/staff/"})
    assert 'name="staff" value="1" checked' in page.text
    response = client.post(
        "/dev-login/", {"common_id": member.common_id, "staff": "1", "next": "/staff/"}
    )
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert AuditEntry.objects.get(action="signin.success").details["method"] == "development"
    client.post("/signout/")
    client.post("/dev-login/", {"common_id": member.common_id})
    assert client.get("/staff/").status_code == 403
    assert AuditEntry.objects.filter(action="signin.staff_rights_removed").count() == 1


@pytest.mark.usefixtures("dev_mode")
def test_a_members_own_sign_in_is_not_in_the_audit_log(client, make_member):
    from campusconf.audit.models import AuditEntry

    client.post("/dev-login/", {"common_id": make_member().common_id})
    assert client.get("/my/").status_code == 200
    assert not AuditEntry.objects.exists()
