"""The home page lists the services with their terms, in Japanese unless asked otherwise."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_home_page_lists_the_services_with_their_terms(make_service):
    make_service(
        slug="zoom", vendor="zoom", name_en="Zoom Pro", max_participants=500, webinars=True
    )
    page = Client().get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Zoom Pro" in html
    assert "up to 500 people" in html


def test_home_page_speaks_japanese_by_default(make_service):
    make_service(name_ja="ウェベックス")
    html = Client().get("/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert 'lang="ja"' in html
    assert "ウェベックス" in html
    assert "サービス" in html  # the "Services" heading, translated
