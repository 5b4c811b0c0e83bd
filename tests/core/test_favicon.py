"""Every page names an icon, and /favicon.ico, which browsers ask for anyway, is no 404."""

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_pages_link_the_svg_icon(client):
    html = client.get("/").content.decode()
    assert 'rel="icon" href="/static/campusconf/favicon.svg"' in html


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/campusconf/favicon.svg"
    path = finders.find("campusconf/favicon.svg")
    assert path is not None
    with open(path) as icon:
        assert icon.read().startswith("<svg")
