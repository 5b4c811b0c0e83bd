import datetime

import pytest
from django.utils import timezone


@pytest.fixture
def held_pass(make_member, make_service, sandbox, settings, monkeypatch):
    """Three accounts at the sandbox's Webex, two of members who left and were told:
    more than the guard (1) lets a pass deprovision alone."""
    from campusconf.directory.models import LeaverNotice
    from campusconf.members.actions import mark_left
    from campusconf.provisioning.engine import reconcile, vendors
    from campusconf.provisioning.models import ReconcilePass
    from campusconf.provisioning.verbs import actions
    from vendor_sandbox.launcher import connector_settings, vendor_env

    settings.CAMPUSCONF_ENGINE = {**settings.CAMPUSCONF_ENGINE, "GUARD_MAX": 1}
    for key, value in vendor_env(sandbox.creds).items():
        monkeypatch.setenv(key, value)
    vendors.close_all()
    service = make_service(connector_settings=connector_settings("webex", sandbox.creds))
    members = [make_member() for _ in range(3)]
    for m in members:
        actions.apply_for_service(m, service)
    for m in members[:2]:
        mark_left(m, datetime.date(2020, 1, 1))
        LeaverNotice.objects.create(
            member=m,
            left_on=m.left_on,
            notified_at=timezone.now(),
            deprovision_on=timezone.localdate(),
        )
    held = reconcile.run_pass(service)
    assert held.status == ReconcilePass.Status.HELD
    yield service, held, members
    vendors.close_all()
