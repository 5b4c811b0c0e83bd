"""Waiting accounts read together (issue #22): where the vendor reads many users by id in
one call (``connectors.base.BatchRead``: Webex's ``GET /people?id=…``, up to 85), the
watch checks its due waits that way, so every young wait can be read every few minutes
for a call or two a minute, whatever the number of waits.

A batch read only sorts: an account whose vendor user looks as it did at the last read
waits on, at no further cost; one that changed (activated, a licence gone, another
address) or that the batch did not find gets an observe job, whose single read is judged
like any other (``account_job.look``), so the judgement stays in one place and a change costs
one more read. An account without a vendor id yet goes to its observe job directly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from campusconf.accounts.models import Account
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import BatchRead, VendorUser
from campusconf.provisioning.engine import service_access, vendors
from campusconf.provisioning.engine.observe import OBS
from campusconf.provisioning.engine.steps import count_call
from campusconf.provisioning.models import Job, Lane
from campusconf.provisioning.queueing.job_queue import enqueue
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


# Services whose id-list reads were refused (Webex left out the invitation flags, W-i):
# read one at a time from then on, in this process; a restart tries again.
_one_at_a_time: set[int] = set()


def batch_size(service: Service) -> int:
    """How many waits one read of ``service`` checks: 1 unless its connector reads by id
    lists. A connector that cannot be built reads one at a time, and its observe jobs
    report the configuration error as they do for any job."""
    if service.pk in _one_at_a_time:
        return 1
    try:
        conn = vendors.connector_for(service)
    except vendors.ServiceConfigError:
        return 1
    return max(1, int(conn.max_batch)) if isinstance(conn, BatchRead) else 1


def looks_the_same(account: Account, user: VendorUser) -> bool:
    """Whether ``user`` shows what the account last recorded of it: then nothing can have
    happened that an observe job would act on. A licence not recorded yet (an invitation
    records none) is not compared: while the user is pending it decides nothing, and an
    activation shows in the state."""
    licence = account.observed_licensed
    return (
        OBS[user.state] == account.observed_state
        and (user.partial or licence is None or user.licensed == licence)
        and (not user.email or user.email.lower() == account.vendor_address.lower())
    )


def to_observe(accounts: Sequence[Account], found: dict[str, VendorUser]) -> list[Account]:
    """The accounts of a batch that need their own read: changed or not found."""
    return [
        a
        for a in accounts
        if a.vendor_user_id not in found or not looks_the_same(a, found[a.vendor_user_id])
    ]


def read(service: Service, account_ids: Sequence[int]) -> int:
    """Check these waiting accounts of ``service`` in calls of up to its batch size and
    queue an observe job for each that needs one; the number of calls made."""
    conn = vendors.connector_for(service)
    if not isinstance(conn, BatchRead):
        raise TypeError(f"service {service.slug!r}: its connector reads one user at a time")
    fields = ("pk", "service_id", "vendor_user_id", "observed_state", "observed_licensed")
    accounts = list(
        Account.objects.filter(pk__in=account_ids).only(*fields, "vendor_address").order_by("pk")
    )
    observe = [a for a in accounts if not a.vendor_user_id]
    known = [a for a in accounts if a.vendor_user_id]
    calls = 0
    size = max(1, int(conn.max_batch))
    for start in range(0, len(known), size):
        chunk = known[start : start + size]
        answer = conn.get_users([a.vendor_user_id for a in chunk])
        calls += 1
        if not isinstance(answer, dict):
            count_call(service.pk, answer)
            if isinstance(answer, o.NotAuthorised):
                # The service's problem: it pauses, as when a job meets it, and the
                # watch skips it until the credential works again.
                service_access.report(service.pk, answer, "get")
                break
            if isinstance(answer, o.Rejected):
                _one_at_a_time.add(service.pk)
                log.warning(
                    "watch %s: reads of many refused (%s): reading one at a time",
                    service.slug,
                    answer.reason,
                )
                break
            # The next check, the member's look or the reconcile pass reads them again;
            # a vendor that fails is not asked once per account on top of it.
            log.warning(
                "watch %s: a read of %d waiting accounts failed: %s",
                service.slug,
                len(chunk),
                answer,
            )
            continue
        count_call(service.pk, o.Ok())
        observe += to_observe(chunk, answer)
    for account in observe:
        enqueue(account, Job.Kind.OBSERVE, lane=Lane.ENGINE)
    log.debug("watch %s: %d read, %d to observe", service.slug, len(accounts), len(observe))
    return calls
