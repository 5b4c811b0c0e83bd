"""A paused service in a real browser: the dashboard says so first, in both languages, with
what to fix."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from campusconf.provisioning.models import ServiceProblem
from tests.fixtures.browser import shot
from tests.signin.browser_session import sign_in_browser_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def paused_zoom(make_service):
    service = make_service(
        "zoom",
        "zoom",
        name_ja="Zoom Pro",
        name_en="Zoom Pro",
        connector_settings={
            "base_url": "https://api.zoom.us/v2",
            "account_id_env": "CAMPUSCONF_ZOOM_ACCOUNT_ID",
            "client_id_env": "CAMPUSCONF_ZOOM_CLIENT_ID",
            "client_secret_env": "CAMPUSCONF_ZOOM_CLIENT_SECRET",
        },
    )
    make_service()  # a Webex service that works, beside it
    now = timezone.now()
    ServiceProblem.objects.create(
        service=service,
        kind=ServiceProblem.Kind.PERMISSION,
        detail="Invalid access token, does not contain scopes:[user:write:user:admin, "
        "user:write:admin]. [tracking v=2.0;clid=us06;rid=WEB_1f]",
        scopes="user:write:user:admin user:write:admin",
        operation="create",
        since=now - datetime.timedelta(minutes=7),
        last_seen_at=now,
        next_probe_at=now + datetime.timedelta(minutes=1),
        last_probe_at=now - datetime.timedelta(seconds=10),
        last_probe_result="the app's token still lacks user:write:user:admin or user:write:admin",
    )
    return service


def sign_in(page, live_server, language):
    page.request.get(f"{live_server.url}/healthz", timeout=120_000)
    user, _ = get_user_model().objects.get_or_create(username="ops", defaults={"is_staff": True})
    page.set_extra_http_headers({"Accept-Language": language})
    # Staff sign in through the university's SSO (tests/signin); here the session it leaves.
    sign_in_browser_as(page, live_server.url, user)
    page.goto(f"{live_server.url}/staff/")
    page.wait_for_url(f"{live_server.url}/staff/")


def test_the_dashboard_shows_a_paused_service_first_in_english(page, live_server, paused_zoom):
    sign_in(page, live_server, "en")
    banner = page.locator("#problem-zoom")
    assert banner.is_visible()
    text = banner.inner_text()
    assert "Zoom Pro is paused: the vendor refuses CampusConf." in text
    assert "add the scope user:write:user:admin or user:write:admin to the app" in text
    assert "No account is marked failed" in text
    assert page.locator(".badge-failed", has_text="paused").count() == 1
    # The banner comes before the services' cards, and the service's card says so too.
    assert page.evaluate(
        "document.querySelector('#problem-zoom').compareDocumentPosition("
        "document.querySelector('.overview')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert "paused" in page.locator("#overview-zoom h2").inner_text()
    shot(page, "backoffice-service-paused-en")
    page.goto(f"{live_server.url}/staff/services/zoom/")
    assert page.locator("#problem-zoom").is_visible()
    shot(page, "backoffice-service-paused-page-en")


def test_the_dashboard_shows_a_paused_service_in_japanese(page, live_server, paused_zoom):
    sign_in(page, live_server, "ja")
    text = page.locator("#problem-zoom").inner_text()
    assert "Zoom Pro は一時停止中です" in text
    assert "Zoom App Marketplace で、アプリにスコープ user:write:user:admin または" in text
    shot(page, "backoffice-service-paused-ja")
