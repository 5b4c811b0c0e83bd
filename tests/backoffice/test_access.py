"""Staff pages need staff rights: every one of them, found from the URLconf."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from campusconf.core.staff_access import STAFF_SESSION_KEY

# The sign-in pages, the API's description (it says how to call, not what is there) and
# its 404 for addresses it does not have.
OPEN = {
    "backoffice:login",
    "backoffice:logout",
    "backoffice:api_openapi",
    "backoffice:api_not_found",
}
SAMPLE_ARGS = {"pk": 1, "slug": "webex", "remedy": "resend", "action": "pause", "key": "abc"}


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            yield prefix + str(p.pattern), namespace + p.name, p.pattern.converters


def staff_urls(api: bool = False) -> list[str]:
    """Every page under /staff/; with ``api``, the JSON API's instead (tokens, not sessions)."""
    urls = []
    for route, name, converters in _walk(get_resolver().url_patterns):
        wanted = route.startswith("staff/") and route.startswith("staff/api/") == api
        if wanted and name not in OPEN:
            urls.append(reverse(name, kwargs={k: SAMPLE_ARGS[k] for k in converters}))
    return urls


def test_the_walk_finds_the_staff_pages():
    urls = staff_urls()
    assert "/staff/" in urls
    assert "/staff/audit/" in urls
    assert "/staff/accounts/1/resend/" in urls
    assert len(urls) >= 10


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls())
def test_a_member_gets_403_everywhere(member_client, url):
    assert member_client.get(url).status_code == 403
    assert member_client.post(url, {"reason": "let me in"}).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls())
def test_anonymous_is_sent_to_the_staff_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("backoffice:login") + "?next=")


@pytest.mark.django_db
def test_staff_see_the_dashboard(staff_client):
    assert staff_client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_the_permission_or_the_sso_group_grants_access(client, settings):
    user = get_user_model().objects.create_user("it-person")
    client.force_login(user)
    assert client.get("/staff/").status_code == 403

    user.user_permissions.add(Permission.objects.get(codename="access"))
    user = get_user_model().objects.get(pk=user.pk)  # drop the permission cache
    client.force_login(user)
    assert client.get("/staff/").status_code == 200

    other = get_user_model().objects.create_user("sso-staff")
    settings.CAMPUSCONF_STAFF_GROUP = "cc-staff"
    other.groups.add(Group.objects.create(name="cc-staff"))
    client.force_login(other)
    assert client.get("/staff/").status_code == 200

    through_group = get_user_model().objects.create_user("group-staff")
    client.force_login(through_group)
    assert client.get("/staff/").status_code == 403
    desk = Group.objects.create(name="help desk")
    desk.permissions.add(Permission.objects.get(codename="access"))
    through_group.groups.add(desk)
    assert client.get("/staff/").status_code == 200

    through_group.is_active = False
    through_group.save()
    client.force_login(through_group)
    assert client.get("/staff/").status_code != 200


@pytest.mark.django_db
def test_a_session_flag_from_sign_in_grants_access(client):
    user = get_user_model().objects.create_user("saml-staff")
    client.force_login(user)
    session = client.session
    session[STAFF_SESSION_KEY] = True
    session.save()
    assert client.get("/staff/").status_code == 200


@pytest.mark.django_db
def test_staff_sign_in_is_through_the_university_not_a_password(client, staff_user):
    """Passwords are for the break-glass superuser only (tests/signin/test_staff_login.py)."""
    from tests.fixtures.accounts import STAFF_PASSWORD

    page = client.get("/staff/login/")
    assert page.status_code == 200
    response = client.post(
        "/staff/login/",
        {"username": "helpdesk1", "password": STAFF_PASSWORD, "otp_token": "123456"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "may not sign in with a password" in response.content.decode()
    assert client.get("/staff/").status_code == 302


@pytest.mark.django_db
def test_admin_is_for_superusers_only(client, staff_user):
    from django_otp import DEVICE_ID_SESSION_KEY

    from campusconf.signin.passwords import enrol_totp

    client.force_login(staff_user)
    response = client.get("/admin/")
    assert response.status_code == 302  # to the sign-in: not enough rights
    boss = get_user_model().objects.create_superuser("root", password="root-pass-123")
    device = enrol_totp(boss)
    client.force_login(boss)
    assert client.get("/admin/").status_code == 302  # no one-time code yet
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id  # as the break-glass form does
    session.save()
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("url", staff_urls(api=True))
def test_the_api_ignores_a_members_session(member_client, url):
    response = member_client.get(url)
    assert response.status_code == 401
    assert response.json()["error"]
