"""The batch's creates: loaded as plain values, settled together in one transaction.

``load_creates`` picks the claimed jobs whose whole work is one create and reads what
the creates need for the whole batch in three queries. ``settle_created`` records the
vendor ids, moves the accounts, writes their events and finishes the jobs in one
transaction, and tells the receivers of state changes (the portal's notices) of the
whole batch at once, inside it. The worker's main thread does this for every job, so
its CPU per job is the engine's ceiling: values rather than model instances, and
statements per batch rather than per job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from campusconf.accounts import lifecycle
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import Cause, State, allowed_causes
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import UserSpec
from campusconf.members.models import MemberAddress
from campusconf.provisioning import jobs, queue
from campusconf.provisioning.models import Job
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


@dataclass(slots=True)
class Create:
    """A claimed job whose whole work is one create, with what the create needs.

    Loaded for the whole batch as plain values (no model instance per account), with
    the batch's services shared: the main thread's CPU per job is the engine's ceiling.
    """

    job: Job
    account_id: int
    service: Service
    spec: UserSpec


def load_creates(claimed: list[Job]) -> dict[int, Create]:
    """The claimed jobs that are one create each (``jobs.creates``), by job id.

    Three queries for the batch: the accounts with their members' names, the members'
    addresses, the services. Any other job is run by ``runner.run_one``, which reads
    its account itself.
    """
    by_account = {j.account_id: j for j in claimed if j.account_id is not None}
    if not by_account:
        return {}
    rows = [
        row
        for row in Account.objects.filter(pk__in=list(by_account)).values_list(
            "pk",
            "state",
            "desired_state",
            "vendor_user_id",
            "service_id",
            "member_id",
            "member__given_name_latin",
            "member__family_name_latin",
        )
        if jobs.creates(by_account[row[0]], row[1], row[2], row[3])
    ]
    if not rows:
        return {}
    addresses: dict[int, list[tuple[str, bool]]] = {}
    for member_id, address, primary in MemberAddress.objects.filter(
        member_id__in=[row[5] for row in rows]
    ).values_list("member_id", "address", "is_primary"):
        addresses.setdefault(member_id, []).append((address, primary))
    services = Service.objects.in_bulk({row[4] for row in rows})
    creates: dict[int, Create] = {}
    for pk, _, _, _, service_id, member_id, given, family in rows:
        job = by_account[pk]
        ordered = jobs.ordered_addresses(addresses.get(member_id, ()))
        spec = jobs.user_spec(ordered, given, family)
        creates[job.pk] = Create(job, pk, services[service_id], spec)
    return creates


def settle_created(created: list[tuple[Create, o.Created]], worker: str) -> None:
    """Record every vendor id, move each account on and finish each job: one transaction.

    The same checks as ``lifecycle.transition``, made on rows locked and re-read here;
    an account someone moved meanwhile keeps its state (their change queued its own
    work) but still gets the vendor id, and its job ends. The moves' receivers (the
    portal's notices) hear of the whole batch at once, in the same transaction.
    """
    now = timezone.now()
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        held = dict(
            Job.objects.select_for_update()
            .filter(pk__in=[c.job.pk for c, _ in created], worker=worker, status=Job.Status.RUNNING)
            .values_list("pk", "again")
        )
        # Only what the checks need, as values: a locked row's state and activation time.
        locked = {
            pk: (state, activated_at)
            for pk, state, activated_at in Account.objects.select_for_update()
            .filter(pk__in=[c.account_id for c, _ in created])
            .values_list("pk", "state", "activated_at")
        }
        ids: list[tuple[str, str, int]] = []
        events: list[AccountEvent] = []
        # Accounts moved alike share one UPDATE (normally the whole batch: invited).
        moves: dict[tuple[State, tuple[tuple[str, Any], ...]], list[int]] = {}
        for create, out in created:
            row = locked.get(create.account_id)
            if row is None:
                continue
            state, activated_at = row
            ids.append((out.user.vendor_id or "", out.user.email, create.account_id))
            days = create.service.invitation_validity_days
            target, changes = jobs.arrival(out.user, now, activated_at, days)
            if create.job.pk not in held or Cause.ENGINE not in allowed_causes(
                State(state), target
            ):
                continue
            events.append(
                AccountEvent(
                    account_id=create.account_id,
                    from_state=state,
                    to_state=target,
                    cause=Cause.ENGINE,
                    reason=jobs.CREATED_REASON,
                )
            )
            moves.setdefault((target, tuple(sorted(changes.items()))), []).append(create.account_id)
        _record_vendor_ids(ids, now)
        for (state, same), pks in moves.items():
            Account.objects.filter(pk__in=pks).update(state=state, updated_at=now, **dict(same))
        if events:
            _insert_events(events, now)
            lifecycle.accounts_transitioned.send(sender=Account, events=events)
        plain = [pk for pk, again in held.items() if not again]
        Job.objects.filter(pk__in=plain).update(
            status=Job.Status.DONE, finished_at=now, lease_until=None, worker=""
        )
    if log.isEnabledFor(logging.INFO):
        for create, out in created:
            log.info(
                "created vendor user account=%s job=%s vendor_id=%s tracking=%s",
                create.account_id,
                create.job.pk,
                out.user.vendor_id,
                out.tracking_id,
            )
    for create, _ in created:
        if held.get(create.job.pk):
            queue.finish(create.job, worker)  # asked for again meanwhile: queued once more


def _commit_without_waiting_for_disk() -> None:
    """On PostgreSQL, this settle's commit does not wait for its WAL to reach the disk.

    The worker's main thread sends and reads the vendor calls between settles, so a
    commit that waits ~2 ms for fsync holds every connection idle that long; one
    worker on PostgreSQL ran at half SQLite's rate. SQLite already commits this way
    (WAL with synchronous=NORMAL). A crash of the database server may lose the last
    few settles, never corrupt them: their jobs are then still running under a lease,
    which expires, and the next attempt looks the vendor user up before creating
    (the path the SIGKILL soak proves), so nothing is created twice. The claim and
    every other transaction keep the server's setting.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _record_vendor_ids(rows: list[tuple[str, str, int]], now: Any) -> None:
    """(vendor id, vendor address, account id) for every row, in one round trip.

    The ORM's ``bulk_update`` builds a CASE per field and row, which cost more CPU
    than everything else in a batch; one parametrised statement run for each row does
    the same writes.
    """
    if not rows:
        return
    table = connection.ops.quote_name(Account._meta.db_table)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET vendor_user_id = %s, vendor_address = %s, updated_at = %s "  # noqa: S608 - the model's own table name
            "WHERE id = %s",
            [(vendor_id, address, stamp, pk) for vendor_id, address, pk in rows],
        )


def _insert_events(events: list[AccountEvent], now: Any) -> None:
    """Write the batch's events with one multi-row INSERT, and give each its id.

    What ``bulk_create`` does, without preparing every value of every row through its
    field (that cost a fifth of the main thread's time per job). Rows come back in the
    order given, as ``bulk_create`` also relies on, on both databases.
    """
    meta = AccountEvent._meta
    names = ["account_id", "from_state", "to_state", "cause", "actor_id", "reason", "created_at"]
    columns = ", ".join(connection.ops.quote_name(n) for n in names)  # the table's columns
    stamp = connection.ops.adapt_datetimefield_value(now)
    placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(events), 500):  # SQLite's limit on parameters
            chunk = events[start : start + 500]
            params: list[Any] = []
            for e in chunk:
                params += [
                    e.account_id,
                    str(e.from_state),
                    str(e.to_state),
                    str(e.cause),
                    None,
                    e.reason,
                    stamp,
                ]
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) "  # noqa: S608 - the model's own table and columns
                f"VALUES {', '.join([placeholders] * len(chunk))} RETURNING id",
                params,
            )
            for event, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                event.pk, event.created_at = pk, now
                event._state.adding, event._state.db = False, connection.alias
