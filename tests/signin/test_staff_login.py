"""Staff sign-in: passwords only for the break-glass superuser, with a one-time code,
throttled per address and locked out per account (django-axes); every sign-in, failure
and lockout in the audit log."""

import base64
from urllib.parse import parse_qs, urlparse

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django_otp.oath import TOTP

from campusconf.audit.models import AuditEntry
from campusconf.signin.passwords import enrol_totp

pytestmark = pytest.mark.django_db

PASSWORD = "break-glass-pass-123"
WRONG = "not-the-password"
REFUSED = "may not sign in with a password"


def current_code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device) -> str:
    return f"{(int(current_code(device)) + 1) % 10**device.digits:0{device.digits}d}"


@pytest.fixture
def root():
    user = get_user_model().objects.create_superuser("root", password=PASSWORD)
    return user, enrol_totp(user)


def sign_in(client, username: str, password: str, code: str, **extra):
    return client.post(
        "/staff/login/",
        {"username": username, "password": password, "otp_token": code},
        headers={"accept-language": "en"},
        **extra,
    )


def test_the_break_glass_superuser_signs_in_with_password_and_code(client, root):
    user, device = root
    response = sign_in(client, "root", PASSWORD, current_code(device))
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get("/staff/").status_code == 200
    assert client.get("/admin/").status_code == 200  # verified by its code
    entry = AuditEntry.objects.get(action="signin.success")
    assert entry.actor == user and entry.details["method"] == "password"


def test_a_code_is_taken_once(client, root):
    _user, device = root
    code = current_code(device)
    assert sign_in(client, "root", PASSWORD, code).status_code == 302
    client.post("/signout/")
    again = sign_in(client, "root", PASSWORD, code)
    assert again.status_code == 200 and REFUSED in again.text
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("code", ["wrong", "missing"])
def test_the_right_password_without_the_right_code_is_a_failed_sign_in(client, root, code):
    user, device = root
    response = sign_in(client, "root", PASSWORD, wrong_code(device) if code == "wrong" else "")
    assert response.status_code == 200 and REFUSED in response.text
    assert SESSION_KEY not in client.session
    entry = AuditEntry.objects.get(action="signin.failed")
    assert entry.reason == "password sign-in failed: wrong one-time code"
    assert entry.target_id == str(user.pk) and entry.details["username"] == "root"
    assert AccessAttempt.objects.get(username="root").failures_since_start == 1


def test_staff_who_are_not_superusers_cannot_sign_in_with_a_password(client):
    get_user_model().objects.create_user("helpdesk1", password=PASSWORD, is_staff=True)
    response = sign_in(client, "helpdesk1", PASSWORD, "123456")
    assert response.status_code == 200 and REFUSED in response.text
    assert SESSION_KEY not in client.session
    entry = AuditEntry.objects.get(action="signin.failed")
    assert entry.details["username"] == "helpdesk1" and "not a superuser" in entry.reason


def test_a_superuser_without_a_device_cannot_sign_in(client):
    get_user_model().objects.create_superuser("nodevice", password=PASSWORD)
    response = sign_in(client, "nodevice", PASSWORD, "123456")
    assert response.status_code == 200 and REFUSED in response.text
    assert SESSION_KEY not in client.session


def test_wrong_passwords_lock_the_account_out_even_for_the_right_one(client, root, settings):
    """The Done-when of issue #20: after CAMPUSCONF_LOCKOUT_FAILURES wrong passwords the
    right password and code are refused too, from any address; the audit shows it."""
    user, device = root
    limit = settings.AXES_FAILURE_LIMIT
    statuses = [
        sign_in(client, "root", WRONG, current_code(device)).status_code for _ in range(limit)
    ]
    assert statuses == [200] * (limit - 1) + [429]

    right = sign_in(client, "root", PASSWORD, current_code(device))
    assert right.status_code == 429
    assert "too many failed sign-ins" in right.text and "30 minutes" in right.text
    assert SESSION_KEY not in client.session
    elsewhere = sign_in(client, "root", PASSWORD, current_code(device), REMOTE_ADDR="192.0.2.7")
    assert elsewhere.status_code == 429 and SESSION_KEY not in client.session
    assert client.get("/staff/").status_code == 302

    failures = AuditEntry.objects.filter(action="signin.failed", target_id=str(user.pk))
    assert failures.count() == limit + 2
    while_locked = failures.filter(reason__endswith="the account is locked out")
    assert while_locked.count() == 2
    lockouts = AuditEntry.objects.filter(action="signin.locked_out", target_id=str(user.pk))
    assert lockouts.count() == 3  # the one that locked it, and each attempt while locked
    assert lockouts.order_by("id").first().details["failures"] == limit
    assert not AuditEntry.objects.filter(action="signin.success").exists()


def test_the_lockout_page_speaks_japanese(client, root, settings):
    _user, device = root
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(
            "/staff/login/",
            {"username": "root", "password": WRONG, "otp_token": current_code(device)},
            headers={"accept-language": "ja"},
        )
    assert response.status_code == 429 and "サインイン" in response.text


@pytest.mark.usefixtures("still_limiter_clock")
@override_settings(CAMPUSCONF_SIGNIN_RATE_LIMIT=(3, 60))
def test_password_attempts_are_throttled_per_address(client, root):
    _user, device = root
    names = ["a", "b", "c", "root"]  # different accounts: only the address counts
    codes = [sign_in(client, name, WRONG, "000000").status_code for name in names]
    assert codes == [200, 200, 200, 429]
    assert sign_in(client, "root", PASSWORD, current_code(device)).status_code == 429


def test_the_admin_has_no_password_form_of_its_own(client, root):
    response = client.get("/admin/login/", {"next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=%2Fadmin%2F"
    posted = client.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert posted.status_code == 302 and SESSION_KEY not in client.session


def test_the_admin_needs_a_session_verified_by_its_code(client, root):
    user, _device = root
    client.force_login(user)  # a superuser's session that no code verified
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_the_totp_enrol_command(capsys, root):
    _user, device = root
    with pytest.raises(CommandError, match="already enrolled"):
        call_command("totp-enrol", "root")
    call_command("totp-enrol", "root", "--replace")
    uri = capsys.readouterr().out.strip().splitlines()[-1]
    assert uri.startswith("otpauth://totp/")
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    assert secret != base64.b32encode(device.bin_key).decode().rstrip("=")  # a new secret
    get_user_model().objects.create_user("plain", password=PASSWORD)
    with pytest.raises(CommandError, match="superuser"):
        call_command("totp-enrol", "plain")
    enrolments = AuditEntry.objects.filter(action="signin.totp_enrolled")
    assert [e.details["replaced"] for e in enrolments.order_by("id")] == [0, 1]
