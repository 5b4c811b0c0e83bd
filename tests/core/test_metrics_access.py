"""/metrics outside development: staff or the scraper's bearer token, nobody else."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

CLOSED = {"CAMPUSCONF_METRICS_OPEN": False, "CAMPUSCONF_METRICS_TOKEN": "scrape-me-123"}


@pytest.fixture
def closed(settings):
    for name, value in CLOSED.items():
        setattr(settings, name, value)


def test_anonymous_is_refused_with_a_bearer_challenge(client, closed, caplog):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"campusconf_jobs" not in response.content
    assert "metrics: refused" in caplog.text


@pytest.mark.parametrize("header", ["Bearer wrong", "Basic scrape-me-123", "Bearer ", ""])
def test_a_wrong_token_is_refused(client, closed, header):
    assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401


def test_the_configured_token_reads_the_metrics(client, closed):
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me-123")
    assert response.status_code == 200
    assert b"campusconf_queue_lag_seconds" in response.content


def test_no_token_configured_means_no_token_works(client, settings):
    settings.CAMPUSCONF_METRICS_OPEN = False
    settings.CAMPUSCONF_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401


def test_staff_may_read_them_in_the_browser(client, closed):
    staff = get_user_model().objects.create_user("ops", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/metrics").status_code == 200


def test_a_member_may_not(client, closed):
    member = get_user_model().objects.create_user("someone", password="x")
    client.force_login(member)
    assert client.get("/metrics").status_code == 401
