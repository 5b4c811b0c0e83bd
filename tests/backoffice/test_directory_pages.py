"""The directory feed in the back office: roster upload, pending records, SCIM tokens."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campusconf.audit.models import AuditEntry
from campusconf.directory.models import ScimClient, ScimUser
from campusconf.directory.tokens import authenticate_scim_client
from campusconf.members.models import Member
from tests.directory.test_roster import HEADER, row

pytestmark = pytest.mark.django_db

ROSTER = "/staff/directory/roster/"
PENDING = "/staff/directory/pending/"
TOKENS = "/staff/directory/scim-tokens/"


def upload(text: str | bytes, name: str = "roster.csv") -> SimpleUploadedFile:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return SimpleUploadedFile(name, data, content_type="text/csv")


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


@pytest.mark.parametrize("url", [ROSTER, PENDING, TOKENS, TOKENS + "1/revoke/"])
def test_a_member_gets_403(member_client, url):
    assert member_client.get(url).status_code == 403
    assert member_client.post(url, {"reason": "let me in"}).status_code == 403
    assert not ScimClient.objects.exists()


def test_a_bad_roster_is_refused_line_by_line_and_changes_nothing(staff_client):
    text = csv_text(row(1), row(2, common_id="12345"), row(3, roles="teacher"))
    page = staff_client.post(ROSTER, {"roster": upload(text), "reason": "spring roster"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "roster-errors" in body and "Nothing was written" in body
    assert "<td>3</td><td>common_id</td>" in body
    assert "<td>4</td><td>roles</td>" in body
    assert 'name="confirm"' not in body
    assert not Member.objects.exists()
    assert not AuditEntry.objects.filter(action="directory.roster_import").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("ä,b\n".encode("latin-1"), "not UTF-8"),
        (b"\x00\x01\x02binary", "not a CSV file"),
    ],
)
def test_a_bad_file_gets_a_clear_message(staff_client, data, message):
    page = staff_client.post(ROSTER, {"roster": upload(data), "reason": "spring roster"})
    assert message in page.content.decode()
    assert not Member.objects.exists()


def test_a_too_large_file_is_refused(staff_client, monkeypatch):
    monkeypatch.setattr("campusconf.backoffice.directory_forms.ROSTER_MAX_BYTES", 100)
    page = staff_client.post(ROSTER, {"roster": upload(csv_text(row(1))), "reason": "spring"})
    assert "too large" in page.content.decode()
    assert not Member.objects.exists()


def test_a_clean_roster_is_applied_after_the_confirm_step_and_audited(staff_client):
    text = csv_text(row(1), row(2))
    page = staff_client.post(ROSTER, {"roster": upload(text), "reason": "spring roster"})
    body = page.content.decode()
    assert "Dry run" in body and "New members: 2" in body
    assert not Member.objects.exists()
    digest = page.context["pending"]["digest"]

    wrong = staff_client.post(ROSTER, {"confirm": "1", "digest": "x" * 64})
    assert wrong.status_code == 302 and not Member.objects.exists()

    staff_client.post(ROSTER, {"roster": upload(text), "reason": "spring roster"})
    done = staff_client.post(ROSTER, {"confirm": "1", "digest": digest}, follow=True)
    assert "The roster is applied." in done.content.decode()
    assert Member.objects.count() == 2
    entry = AuditEntry.objects.get(action="directory.roster_import")
    assert entry.reason == "spring roster"
    # The confirmation is used up: a second one changes nothing.
    again = staff_client.post(ROSTER, {"confirm": "1", "digest": digest})
    assert again.status_code == 302
    assert AuditEntry.objects.filter(action="directory.roster_import").count() == 1


def test_a_full_roster_is_behind_the_mass_change_guard(staff_client, settings):
    settings.CAMPUSCONF_MASS_CHANGE_PERCENT = 10
    staff_client.post(
        ROSTER, {"roster": upload(csv_text(row(1), row(2), row(3))), "reason": "first roster"}
    )
    staff_client.post(
        ROSTER,
        {"confirm": "1", "digest": staff_client.session["backoffice_pending_roster"]["digest"]},
    )
    assert Member.objects.filter(status=Member.Status.ACTIVE).count() == 3
    text = csv_text(row(1))
    page = staff_client.post(
        ROSTER, {"roster": upload(text), "full": "on", "reason": "second roster"}
    )
    assert "mass-change guard" in page.content.decode()
    page = staff_client.post(
        ROSTER,
        {
            "roster": upload(text),
            "full": "on",
            "allow_mass_change": "on",
            "reason": "second roster",
        },
    )
    assert "Members leaving: 2" in page.content.decode()
    digest = page.context["pending"]["digest"]
    staff_client.post(ROSTER, {"confirm": "1", "digest": digest})
    assert Member.objects.filter(status=Member.Status.ACTIVE).count() == 1


def test_the_pending_records_are_listed(staff_client):
    ScimUser.objects.create(user_name="nobody@example.ac.jp", pending_reason="no common ID")
    body = staff_client.get(PENDING).content.decode()
    assert "nobody@example.ac.jp" in body and "no common ID" in body


def test_a_scim_token_is_created_shown_once_and_revoked(staff_client):
    rights = ["read", "write", "deactivate"]
    page = staff_client.post(TOKENS, {"name": "entra", "scopes": rights, "reason": "new IdP"})
    token = page.context["new_token"]
    assert token and token in page.content.decode()
    client = ScimClient.objects.get(name="entra")
    assert authenticate_scim_client(token) == client
    assert token not in staff_client.get(TOKENS).content.decode()
    assert AuditEntry.objects.filter(action="directory.scim_client_create").count() == 1

    dup = staff_client.post(TOKENS, {"name": "entra", "scopes": rights, "reason": "again"})
    assert "exists already" in dup.content.decode()

    staff_client.post(f"{TOKENS}{client.pk}/revoke/", {"reason": ""})
    assert authenticate_scim_client(token) == client  # no reason, no revocation
    staff_client.post(f"{TOKENS}{client.pk}/revoke/", {"reason": "IdP retired"})
    assert authenticate_scim_client(token) is None
    assert AuditEntry.objects.get(action="directory.scim_client_revoke").reason == "IdP retired"
