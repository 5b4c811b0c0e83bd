"""An upgrade from the previous release's database, with data in it, loses nothing.

The previous release is the schema the first wave shipped (its last migration of each
app, below). The test takes the suite's database back to it, writes rows as that
release wrote them (its own historical models), upgrades with this release's migrations
and reads every row back through today's models. Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from campusconf.accounts.models import Account, AccountEvent
from campusconf.directory.models import ScimClient
from campusconf.members.models import Member
from campusconf.provisioning.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

PREVIOUS_RELEASE = {
    "accounts": "0002_fewer_indexes_written",
    "audit": "0001_initial",
    "backoffice": "0004_seatwait_campaign",
    "directory": "0002_leavernotice",
    "members": "0001_initial",
    "portal": "0003_fewer_indexes_written",
    "provisioning": "0004_fewer_indexes_written",
    "services": "0002_licence_end_policy",
}
NOW = datetime.datetime(2026, 4, 1, 9, 0, tzinfo=datetime.UTC)


def migrate_to(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection)  # a fresh graph, as the next process would read it


def write_as_the_previous_release(apps) -> None:
    member_model = apps.get_model("members", "Member")
    service_model = apps.get_model("services", "Service")
    account_model = apps.get_model("accounts", "Account")
    event_model = apps.get_model("accounts", "AccountEvent")
    job_model = apps.get_model("provisioning", "Job")
    scim_model = apps.get_model("directory", "ScimClient")
    service = service_model.objects.create(
        slug="zoom",
        vendor="zoom",
        name_ja="Zoom",
        name_en="Zoom",
        description_ja="",
        description_en="",
        plan_name="Pro",
        max_participants=300,
        invitation_validity_days=30,
        eligible_roles="faculty staff student",
    )
    for n, state in enumerate(["active", "invited", "failed"]):
        member = member_model.objects.create(
            common_id=f"260000000{n}",
            family_name_ja="山田",
            given_name_ja="花子",
            family_name_latin="Yamada",
            given_name_latin=f"Hanako{n}",
            affiliation="Faculty of Science",
            roles="student",
            university_account_created_on=datetime.date(2025, 4, 1),
        )
        account = account_model.objects.create(
            member=member,
            service=service,
            state=state,
            vendor_user_id=f"zoom-{n}" if state != "failed" else "",
            vendor_address=f"{member.common_id}@example.ac.jp",
            observed_login_type="",
            last_error_code="S12" if state == "failed" else "",
            last_error_message="signed in with Google (S7 or S12)" if state == "failed" else "",
        )
        event_model.objects.create(
            account=account,
            from_state="requested",
            to_state=state,
            cause="engine",
            reason="created at the vendor" if state != "failed" else "gave up after 5 tries",
        )
    job_model.objects.create(
        kind="create", run_after=NOW, worker="", next_kind="", last_error="", service=service
    )
    scim_model.objects.create(name="idp", token_hash="x" * 64)


def test_an_upgrade_keeps_every_row_and_the_new_columns_get_their_values():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    executor = migrate_to(list(PREVIOUS_RELEASE.items()))
    try:
        write_as_the_previous_release(
            executor.loader.project_state(list(PREVIOUS_RELEASE.items())).apps
        )
    finally:
        migrate_to(latest)  # whatever happens, the suite's database ends current
    assert sorted(Account.objects.values_list("state", flat=True)) == [
        "active",
        "failed",
        "invited",
    ]
    assert Member.objects.count() == 3 and AccountEvent.objects.count() == 3
    # Members from before the Japanese affiliation show the English one (members.0002).
    assert set(Member.objects.values_list("affiliation", "affiliation_ja")) == {
        ("Faculty of Science", "")
    }
    assert Account.objects.get(state="invited").vendor_user_id == "zoom-1"
    assert Job.objects.get().kind == "create"
    # The release gave SCIM clients rights; an existing client keeps what it could do.
    client = ScimClient.objects.get()
    assert (client.can_read, client.can_write, client.can_deactivate) == (True, True, True)
