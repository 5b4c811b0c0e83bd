"""``campusconf status``: one table for a person, the same facts as JSON for a script."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from campusconf.provisioning.models import Job, ReconcilePass, ServiceProblem

pytestmark = pytest.mark.django_db

# 03:30 UTC is 12:30 in Tokyo, the configured time zone: the operator reads local times.
STARTED = datetime.datetime(2026, 4, 1, 3, 30, tzinfo=datetime.UTC)


def status(*args: str) -> str:
    out = io.StringIO()
    call_command("status", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def services(make_service):
    zoom = make_service(slug="zoom", vendor="zoom")
    webex = make_service(slug="webex", vendor="webex")
    ReconcilePass.objects.create(
        service=zoom,
        status=ReconcilePass.Status.DONE,
        started_at=STARTED,
        seen=12,
        changes={"activated": 2},
    )
    ServiceProblem.objects.create(
        service=webex,
        kind=ServiceProblem.Kind.values[0],
        detail="the token lacks spark-admin:people_write",
        since=STARTED,
        last_seen_at=STARTED,
        next_probe_at=STARTED,
    )
    return zoom, webex


def test_the_table_has_a_row_per_service_in_local_time(services):
    text = status()
    assert "(Asia/Tokyo)" in text.splitlines()[0]
    rows = {line.split()[0]: line for line in text.splitlines() if line[:5] in ("zoom ", "webex")}
    assert "2026-04-01 12:30 done, 12 seen, activated 2" in rows["zoom"]
    assert rows["zoom"].split()[1] == "running" and rows["webex"].split()[1] == "PAUSED"
    assert "never" in rows["webex"]
    # What needs the operator is spelt out below the table, with the command that checks it.
    assert "PAUSED since 2026-04-01 12:30" in text
    assert "spark-admin:people_write" in text and "campusconf vendor-check webex" in text
    assert "{" not in text  # no Python dicts for a person to decode


def test_json_holds_the_same_facts(services, make_member):
    zoom, _ = services
    Job.objects.create(service=zoom, kind=Job.Kind.values[0], run_after=timezone.now())
    report = json.loads(status("--json"))
    assert report["time_zone"] == "Asia/Tokyo"
    assert report["jobs"] == {"queued": 1}
    by_slug = {s["service"]: s for s in report["services"]}
    assert by_slug["zoom"]["runnable"] == 1 and by_slug["zoom"]["paused"] is None
    assert by_slug["zoom"]["last_reconcile"]["started_at"] == "2026-04-01T12:30:00+09:00"
    assert by_slug["webex"]["paused"]["since"] == "2026-04-01T12:30:00+09:00"
    assert by_slug["webex"]["last_reconcile"] is None
