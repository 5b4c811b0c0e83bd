"""Sessions end after a while without activity (staff 30 minutes, members 60 by
default) and, however busy, a fixed time after signing in (12 hours)."""

import pytest
from django.contrib.auth import SESSION_KEY

from campusconf.signin import sessions

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dev_mode")]


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def move(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sessions, "now", lambda: clock.now)
    return clock


@pytest.fixture
def dev_mode(settings):
    settings.DEBUG = True
    settings.CAMPUSCONF_DEV_LOGIN = True


def sign_in(client, member, *, staff: bool = False) -> None:
    data = {"common_id": member.common_id, **({"staff": "1"} if staff else {})}
    assert client.post("/dev-login/", data).status_code == 302


def test_a_staff_session_ends_after_30_idle_minutes(client, clock, make_member):
    sign_in(client, make_member(staff=True), staff=True)
    for _ in range(3):  # activity keeps it going
        clock.move(29)
        assert client.get("/staff/").status_code == 200
    clock.move(31)
    response = client.get("/staff/", headers={"accept-language": "en"})
    assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    assert SESSION_KEY not in client.session
    page = client.get(response["Location"], headers={"accept-language": "en"})
    assert "no activity for a while" in page.text
    assert "no activity for a while" not in client.get("/staff/login/").text  # told once


def test_a_members_session_ends_after_60_idle_minutes(client, clock, make_member):
    sign_in(client, make_member())
    clock.move(59)
    assert client.get("/my/").status_code == 200
    clock.move(61)
    response = client.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/signin/")
    page = client.get(response["Location"], headers={"accept-language": "ja"})
    assert "しばらく操作がなかったため" in page.text


def test_the_limits_are_settings(client, clock, make_member, settings):
    settings.CAMPUSCONF_STAFF_IDLE_MINUTES = 5
    sign_in(client, make_member(staff=True), staff=True)
    clock.move(6)
    assert client.get("/staff/").status_code == 302


def test_a_pages_background_refresh_is_not_activity(client, clock, make_member):
    sign_in(client, make_member(staff=True), staff=True)
    poll = {"HX-Request": "true"}
    clock.move(20)
    assert client.get("/staff/", headers=poll).status_code == 200
    clock.move(15)  # 35 minutes since the person last did something
    response = client.get("/staff/", headers=poll)
    assert response.status_code == 302 and response["HX-Refresh"] == "true"
    assert SESSION_KEY not in client.session


def test_every_session_ends_12_hours_after_sign_in(client, clock, make_member):
    sign_in(client, make_member())
    for _ in range(14):  # busy all day
        clock.move(50)
        assert client.get("/my/").status_code == 200
    clock.move(50)  # 12 h 30 min since signing in
    response = client.get("/my/", headers={"accept-language": "en"})
    assert response.status_code == 302
    page = client.get(response["Location"], headers={"accept-language": "en"})
    assert "reached its time limit" in page.text


def test_a_session_is_not_saved_on_every_request(client, clock, make_member):
    """A minute's precision: the session row is written at most once a minute."""
    sign_in(client, make_member())
    before = client.session[sessions.LAST_SEEN]
    clock.move(0.5)
    client.get("/my/")
    assert client.session[sessions.LAST_SEEN] == before
    clock.move(1)
    client.get("/my/")
    assert client.session[sessions.LAST_SEEN] == clock.now
