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

import functools
import json
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from campusconf.accounts import lifecycle
from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State, allowed_causes
from campusconf.connectors import outcomes as o
from campusconf.connectors.base import UserSpec
from campusconf.core import clock, sql
from campusconf.members.models import Member, MemberAddress
from campusconf.provisioning.engine import account_job
from campusconf.provisioning.models import Job
from campusconf.provisioning.queueing import job_queue
from campusconf.services.models import Service

log = logging.getLogger("campusconf.provisioning")


@dataclass(slots=True)
class Create:
    """A claimed job whose whole work is one create, with what the create needs.

    Loaded for the whole batch as plain values (no model instance per account), with
    the batch's services shared: the main thread's CPU per job is the engine's ceiling.
    The pipeline reads ``job.id`` and ``service.id``, plain attributes, where ``pk`` is
    a property that looks the primary key up each time (a few per cent of that CPU).
    """

    job: Job
    account_id: int
    service: Service
    spec: UserSpec


def load_creates(claimed: list[Job]) -> dict[int, Create]:
    """The claimed jobs that are one create each (``account_job.will_create``), by job id.

    Three queries for the batch: the accounts, their members' names with their
    addresses, the services. Any other job is run by ``worker.run_one``, which reads
    its account itself.
    """
    by_account = {j.account_id: j for j in claimed if j.account_id is not None}
    if not by_account:
        return {}
    a = functools.partial(sql.column, Account)
    ids, params = sql.in_list(a("id"), list(by_account))
    with connection.cursor() as cursor:
        # The accounts alone: joined to the members here, PostgreSQL hashed the whole
        # members table once a batch held some 60 accounts (every member read per batch).
        cursor.execute(
            f"SELECT {a('id')}, {a('state')}, {a('desired_state')}, {a('vendor_user_id')}, "  # noqa: S608 - the model's own table and columns
            f"{a('service')}, {a('member')} FROM {sql.table(Account)} WHERE {ids}",
            params,
        )
        rows = [
            row
            for row in cursor.fetchall()
            if account_job.will_create(by_account[row[0]], row[1], row[2], row[3])
        ]
        if not rows:
            return {}
        people = _people(cursor, [row[5] for row in rows])
    services = Service.objects.in_bulk({row[4] for row in rows})
    creates: dict[int, Create] = {}
    for pk, _, _, _, service_id, member_id in rows:
        job = by_account[pk]
        given, family, addresses = people.get(member_id, ("", "", []))
        spec = account_job.user_spec(account_job.ordered_addresses(addresses), given, family)
        creates[job.id] = Create(job, pk, services[service_id], spec)
    return creates


_Person = tuple[str, str, list[tuple[str, bool]]]  # given name, family name, addresses


def _people(cursor: Any, member_ids: list[int]) -> dict[int, _Person]:
    """Each member's Latin names and addresses, in one query.

    The ids bound both tables, the addresses' too: bound only through the join, the
    planner may hash every address rather than look up the batch's.
    """
    m = functools.partial(sql.column, Member)
    ad = functools.partial(sql.column, MemberAddress)
    members, params = sql.in_list(f"m.{m('id')}", member_ids)
    owners, owner_params = sql.in_list(f"ad.{ad('member')}", member_ids)
    cursor.execute(
        f"SELECT m.{m('id')}, m.{m('given_name_latin')}, m.{m('family_name_latin')}, "  # noqa: S608 - the models' own tables and columns
        f"ad.{ad('address')}, ad.{ad('is_primary')} FROM {sql.table(Member)} m "
        f"LEFT JOIN {sql.table(MemberAddress)} ad ON ad.{ad('member')} = m.{m('id')} "
        f"AND {owners} WHERE {members}",
        owner_params + params,
    )
    people: dict[int, _Person] = {}
    for member_id, given, family, address, primary in cursor.fetchall():
        person = people.setdefault(member_id, (given, family, []))
        if address is not None:
            person[2].append((address, bool(primary)))
    return people


def settle_created(created: list[tuple[Create, o.Created]], worker: str) -> None:
    """Record every vendor id, move each account on and finish each job: one transaction.

    The same checks as ``lifecycle.transition``, made on rows locked and re-read here;
    an account someone moved meanwhile keeps its state (their change queued its own
    work) but still gets the vendor id, and its job ends. The moves' receivers (the
    portal's notices) hear of the whole batch at once, in the same transaction.

    Four statements for the whole batch, whatever its size: the jobs still held end
    (one UPDATE that also says which were held), the accounts are locked and read,
    each kind of move is one UPDATE that writes the vendor ids too, and the events
    are one INSERT. Hand-written, because the ORM spent more CPU building them than
    the database spent running them.
    """
    now = clock.now()
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        held = _end_held_jobs([c.job.id for c, _ in created], worker, now)
        locked = _lock_accounts([c.account_id for c, _ in created])
        events: list[AccountEvent] = []
        # Accounts moved alike share one UPDATE (normally the whole batch: invited);
        # those that do not move (someone moved them meanwhile) only get the vendor id.
        moves: dict[tuple[State, tuple[tuple[str, Any], ...]], list[_Ids]] = {}
        unmoved: list[_Ids] = []
        for create, out in created:
            row = locked.get(create.account_id)
            if row is None:
                continue
            state, activated_at = row
            ids = (create.account_id, out.user.vendor_id or "", out.user.email)
            days = create.service.invitation_validity_days
            target, changes = account_job.arrival(out.user, now, activated_at, days)
            if create.job.id not in held or Cause.ENGINE not in allowed_causes(
                State(state), target
            ):
                unmoved.append(ids)
                continue
            events.append(
                AccountEvent(
                    account_id=create.account_id,
                    from_state=state,
                    to_state=target,
                    cause=Cause.ENGINE,
                    reason_code=Reason.VENDOR_USER_CREATED,
                    reason_params={},
                )
            )
            moves.setdefault((target, tuple(sorted(changes.items()))), []).append(ids)
        for (state, same), rows in moves.items():
            _update_accounts(rows, now, {"state": state, **dict(same)})
        _update_accounts(unmoved, now, {})
        if events:
            _insert_events(events, now)
            lifecycle.accounts_transitioned.send(sender=Account, events=events)
    if log.isEnabledFor(logging.INFO):
        for create, out in created:
            log.info(
                "created vendor user account=%s job=%s vendor_id=%s tracking=%s",
                create.account_id,
                create.job.id,
                out.user.vendor_id,
                out.tracking_id,
            )
    for create, _ in created:
        if held.get(create.job.id):
            job_queue.finish(create.job, worker)  # asked for again meanwhile: queued once more


_Ids = tuple[int, str, str]  # account id, vendor id, address at the vendor


def _end_held_jobs(job_ids: list[int], worker: str, now: Any) -> dict[int, bool]:
    """The jobs still held by ``worker`` (id → asked for again), locked; those not asked
    for again are done. One UPDATE that returns what it matched."""
    j = functools.partial(sql.column, Job)
    again = j("again")
    held: dict[int, bool] = {}
    with connection.cursor() as cursor:
        for chunk in sql.chunks(job_ids):
            ids, params = sql.in_list(j("id"), chunk)
            cursor.execute(
                f"UPDATE {sql.table(Job)} SET "  # noqa: S608 - the model's own table and columns
                f"{j('status')} = CASE WHEN {again} THEN {j('status')} ELSE %s END, "
                f"{j('finished_at')} = CASE WHEN {again} THEN {j('finished_at')} ELSE %s END, "
                f"{j('lease_until')} = CASE WHEN {again} THEN {j('lease_until')} ELSE NULL END, "
                f"{j('worker')} = CASE WHEN {again} THEN {j('worker')} ELSE '' END "
                f"WHERE {ids} AND {j('worker')} = %s AND {j('status')} = %s "
                f"RETURNING {j('id')}, {again}",
                [str(Job.Status.DONE), sql.stamp(now), *params, worker, str(Job.Status.RUNNING)],
            )
            held.update((pk, bool(flag)) for pk, flag in cursor.fetchall())
    return held


def _lock_accounts(account_ids: list[int]) -> dict[int, tuple[str, Any]]:
    """Each account's state and activation time, the rows locked until the commit."""
    a = functools.partial(sql.column, Account)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    read = sql.reader(Account, ("id", "state", "activated_at"))
    locked: dict[int, tuple[str, Any]] = {}
    with connection.cursor() as cursor:
        for chunk in sql.chunks(account_ids):
            ids, params = sql.in_list(a("id"), chunk)
            cursor.execute(
                f"SELECT {a('id')}, {a('state')}, {a('activated_at')} "  # noqa: S608 - the model's own table and columns
                f"FROM {sql.table(Account)} WHERE {ids}{lock}",
                params,
            )
            for pk, state, activated_at in map(read, cursor.fetchall()):
                locked[pk] = (state, activated_at)
    return locked


def _update_accounts(rows: list[_Ids], now: Any, changes: dict[str, Any]) -> None:
    """Write each row's vendor id and address, and ``changes`` to them all: one UPDATE.

    The vendor ids go in with the move rather than before it, so each account gets
    one new row version, not two (on PostgreSQL every index is written again for each).
    """
    if not rows:
        return
    a = functools.partial(sql.column, Account)
    sets = [f"{a('vendor_user_id')} = v.vendor_id", f"{a('vendor_address')} = v.address"]
    values: list[Any] = []
    for name, value in {**changes, "updated_at": now}.items():
        sets.append(f"{a(name)} = %s")
        values.append(sql.prepared(Account, name, value))
    table = sql.table(Account)
    with connection.cursor() as cursor:
        for chunk in sql.chunks(rows):
            source, params = sql.rows(Account, ("id", "vendor_user_id", "vendor_address"), chunk)
            # The ids once more, as a condition on the table: PostgreSQL cannot tell how
            # many rows the JSON holds, and without it joined them to a scan of every
            # account (5 ms a settle at 20,000 accounts, growing with them).
            ids, id_params = sql.in_list(f"{table}.{a('id')}", [row[0] for row in chunk])
            cursor.execute(
                f"WITH v (id, vendor_id, address) AS ({source}) "  # noqa: S608 - the model's own table and columns
                f"UPDATE {table} SET {', '.join(sets)} FROM v "
                f"WHERE {table}.{a('id')} = v.id AND {ids}",
                params + values + id_params,
            )


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


def _insert_events(events: list[AccountEvent], now: Any) -> None:
    """Write the batch's events with one multi-row INSERT, and give each its id.

    What ``bulk_create`` does, without preparing every value of every row through its
    field (that cost a fifth of the main thread's time per job). Rows come back in the
    order given, as ``bulk_create`` also relies on, on both databases.
    """
    names = (
        *("account", "from_state", "to_state", "cause", "actor"),
        *("reason_code", "reason_params", "created_at"),
    )
    stamp = sql.stamp(now)
    # PostgreSQL reads the rows from one JSON document, where the parameters are an
    # object already; SQLite stores JSON as text.
    as_json = connection.vendor == "postgresql"
    values = [
        (
            *(e.account_id, str(e.from_state), str(e.to_state), str(e.cause), None),
            *(str(e.reason_code), e.reason_params if as_json else json.dumps(e.reason_params)),
            stamp,
        )
        for e in events
    ]
    returned = sql.insert(
        AccountEvent, names, values, f"RETURNING {sql.column(AccountEvent, 'id')}"
    )
    alias = connection.alias  # a proxy: each read of it costs a thread-local look-up
    for event, (pk,) in zip(events, returned, strict=True):
        event.pk, event.created_at = pk, now
        event._state.adding, event._state.db = False, alias
