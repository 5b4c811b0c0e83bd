"""The dry run lists every member the filters reach, "invited" or why left out, in the
page (paginated), in a CSV behind the injection guard and the audit, and after a
language switch."""

import csv
import datetime
import io

import pytest

from campusconf.accounts.states import State
from campusconf.audit.models import AuditEntry
from campusconf.backoffice import campaign_preview, campaigns
from campusconf.backoffice.campaigns import Cohort
from campusconf.members.models import Member
from campusconf.provisioning.models import Campaign

pytestmark = pytest.mark.django_db

CUTOFF = "2026-03-24"


@pytest.fixture
def scene(make_member, make_service, make_account):
    service = make_service()
    invited = [make_member(student=True, created_on=datetime.date(2025, 4, 1)) for _ in range(3)]
    late = make_member(student=True, created_on=datetime.date(2026, 4, 1))
    active = make_member(student=True, created_on=datetime.date(2025, 4, 1))
    make_account(active, service, State.ACTIVE)
    gone = make_member(student=True, created_on=datetime.date(2025, 4, 1))
    Member.objects.filter(pk=gone.pk).update(
        status=Member.Status.LEFT, left_on=datetime.date(2026, 3, 31)
    )
    make_member(faculty=True)  # outside the filters: not in the list at all
    return service, invited, late, active, gone


def _preview(staff_client, service):
    return staff_client.post(
        "/staff/campaigns/new/",
        {"service": service.slug, "roles": ["student"], "created_before": CUTOFF, "preview": "1"},
    )


def test_every_member_in_scope_is_invited_or_left_out_with_the_reason(scene):
    service, invited, late, active, gone = scene
    cohort = Cohort(["student"], datetime.date.fromisoformat(CUTOFF), [], ["9999999999"])
    rows = {r.common_id: r for r in campaign_preview.rows(service, cohort)}
    # With a list, only the listed IDs are in scope; try without one for the rest.
    assert set(rows) == {"9999999999"}
    assert "no member" in rows["9999999999"].reason

    rows = {
        r.common_id: r
        for r in campaign_preview.rows(service, Cohort(["student"], cohort.created_before, [], []))
    }
    assert {m.common_id for m in invited} == {c for c, r in rows.items() if r.outcome == "invited"}
    assert "cut-off 2026-03-24" in rows[late.common_id].reason
    # Left out of the first wave only: the campaign invites them after it (latecomers).
    assert rows[late.common_id].reason.endswith(": invited after the first wave")
    listed = Cohort(["student"], cohort.created_before, [], [late.common_id])
    [by_list] = campaign_preview.rows(service, listed)
    assert by_list.reason.endswith("cut-off 2026-03-24")  # a list is the whole audience
    assert rows[active.common_id].reason == "already has an account (active)"
    assert rows[gone.common_id].reason == "has left the university"
    assert len(rows) == 6
    # The page's count and the list agree: both follow the start's own rules.
    preview = campaigns.preview(service, Cohort(["student"], cohort.created_before, [], []))
    assert preview.to_invite == 3


def test_the_preview_page_lists_everyone_and_survives_a_language_switch(staff_client, scene):
    service, invited, late, _active, _gone = scene
    response = _preview(staff_client, service)
    assert response.status_code == 302
    url = response["Location"]
    assert "?preview=" in url
    page = staff_client.get(url).content.decode()
    assert "3 members would be invited" in page
    assert late.common_id in page and "cut-off" in page
    # The language switch posts "next" = this URL and comes back to it.
    switched = staff_client.post("/i18n/setlang/", {"language": "ja", "next": url})
    assert switched["Location"] == url
    ja = staff_client.get(url, headers={"accept-language": "ja"}).content.decode()
    assert invited[0].common_id in ja and 'id="preview"' in ja
    assert not Campaign.objects.exists()


def test_the_preview_csv_lists_every_member_and_is_audited(staff_client, scene, make_member):
    service, _invited, late, active, gone = scene
    make_member(student=True, created_on=datetime.date(2025, 4, 1))
    sneaky = Member.objects.order_by("-pk").first()
    Member.objects.filter(pk=sneaky.pk).update(given_name_latin="=HYPERLINK(1)")
    url = _preview(staff_client, service)["Location"]
    key = url.split("preview=")[1].split("#")[0]
    response = staff_client.get(f"/staff/campaigns/preview/{key}.csv")
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    table = list(csv.DictReader(io.StringIO(body)))
    outcome = {r["common_id"]: r for r in table}
    assert len(table) == 7
    assert [r["outcome"] for r in table].count("invited") == 4
    assert outcome[late.common_id]["outcome"] == "left_out"
    assert "cut-off" in outcome[late.common_id]["reason"]
    assert outcome[gone.common_id]["reason"] == "has left the university"
    assert outcome[active.common_id]["reason"].startswith("already has an account")
    assert outcome[sneaky.common_id]["name_latin"].startswith("'=")  # the injection guard
    entry = AuditEntry.objects.get(action="campaign.export_preview")
    assert entry.details["cohort"]["roles"] == ["student"]


def test_a_forgotten_preview_says_so_and_its_csv_is_not_found(staff_client):
    page = staff_client.get("/staff/campaigns/new/?preview=nothing").content.decode()
    assert "no longer kept" in page
    assert staff_client.get("/staff/campaigns/preview/nothing.csv").status_code == 404
    assert not AuditEntry.objects.filter(action="campaign.export_preview").exists()


def test_the_full_list_is_paginated(staff_client, make_service, make_member):
    service = make_service()
    for _ in range(55):
        make_member(student=True)
    url = staff_client.post(
        "/staff/campaigns/new/", {"service": service.slug, "roles": ["student"], "preview": "1"}
    )["Location"]
    first = staff_client.get(url.split("#")[0]).content.decode()
    assert "Page 1 of 2" in first
    second = staff_client.get(url.split("#")[0] + "&page=2").content.decode()
    assert second.count("<tr><td>30") == 5
