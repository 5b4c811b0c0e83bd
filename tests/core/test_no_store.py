"""No cache keeps a page with someone's data: ``Cache-Control: no-store``."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def member_client(make_member):
    member = make_member()
    user = get_user_model().objects.create_user(member.common_id)
    member.user = user
    member.save(update_fields=["user"])
    client = Client()
    client.force_login(user)
    return client


def test_a_members_pages_are_not_stored(member_client):
    for path in ("/my/", "/my/inquiries/", "/"):
        answer = member_client.get(path)
        assert answer.status_code == 200, path
        assert "no-store" in answer["Cache-Control"], path


def test_staff_pages_are_not_stored_even_the_redirect_to_sign_in():
    answer = Client().get("/staff/")
    assert answer.status_code == 302
    assert "no-store" in answer["Cache-Control"]
    assert "no-store" in Client().get("/staff/login/")["Cache-Control"]


def test_scim_answers_are_not_stored():
    assert "no-store" in Client().get("/scim/v2/Users")["Cache-Control"]


def test_a_public_page_for_the_anonymous_may_be_cached():
    answer = Client().get("/")
    assert answer.status_code == 200
    assert "no-store" not in answer.get("Cache-Control", "")
