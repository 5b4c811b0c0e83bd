"""The worker's vendor-call counts reach the database, also when a counted service has
gone since (the rehearsal after other tests met it as a foreign-key failure)."""

import pytest

from campusconf.provisioning.engine import vendors
from campusconf.provisioning.models import VendorCallCount
from campusconf.provisioning.worker import flush_counts

pytestmark = pytest.mark.django_db


def test_counts_are_added_to_the_stored_ones(make_service):
    service = make_service()
    VendorCallCount.objects.create(service=service, outcome="ok", count=5)
    vendors.calls[(service.pk, "ok")] += 2
    vendors.calls[(service.pk, "rate_limited")] += 1

    flush_counts()

    stored = dict(VendorCallCount.objects.values_list("outcome", "count"))
    assert stored == {"ok": 7, "rate_limited": 1}
    assert not vendors.calls


def test_a_removed_services_calls_do_not_stop_the_others(make_service):
    service = make_service()
    gone = make_service(slug="gone")
    gone_id = gone.pk
    gone.delete()
    vendors.calls[(gone_id, "ok")] += 3
    vendors.calls[(service.pk, "ok")] += 1

    flush_counts()

    assert list(VendorCallCount.objects.values_list("service_id", "outcome", "count")) == [
        (service.pk, "ok", 1)
    ]
    assert not vendors.calls
