"""The batch's creates: loaded as plain values, settled together in one transaction.

``load_creates`` picks the claimed jobs whose whole work is one create and reads what
the creates need for the whole batch in three queries. ``settle_created`` records the
vendor ids, moves the accounts, writes their events and finishes the jobs in one
transaction, and tells the receivers of state changes (the portal's notices) of the
whole batch at once, inside it; the moves are ``lifecycle.transition_many``'s, the one
writer of an account's state. The worker's main thread does this for every job, so
its CPU per job is the engine's ceiling: values rather than model instances, and
statements per batch rather than per job.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from campusconf.accounts import lifecycle
from campusconf.accounts.models import Account
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

    The moves are ``lifecycle.transition_many``'s, on rows it locked and read here;
    an account someone moved meanwhile keeps its state (their change queued its own
    work) but still gets the vendor id, and its job ends. The moves' receivers (the
    portal's notices) hear of the whole batch at once, in the same transaction.

    Four statements for the whole batch, whatever its size: the jobs still held end
    (one UPDATE that also says which were held), the accounts are locked and read,
    each kind of move is one UPDATE that writes the vendor ids too, and the events
    are one INSERT.
    """
    now = clock.now()
    with transaction.atomic():
        _commit_without_waiting_for_disk()
        held = _end_held_jobs([c.job.id for c, _ in created], worker, now)
        locked = lifecycle.lock_many([c.account_id for c, _ in created], "activated_at")
        moves: list[lifecycle.Move] = []
        unmoved: list[tuple[int, str, str]] = []
        for create, out in created:
            row = locked.get(create.account_id)
            if row is None:
                continue
            state, activated_at = row
            vendor = (out.user.vendor_id or "", out.user.email)
            days = create.service.invitation_validity_days
            target, changes = account_job.arrival(out.user, now, activated_at, days)
            if create.job.id not in held or Cause.ENGINE not in allowed_causes(
                State(state), target
            ):
                unmoved.append((create.account_id, *vendor))
                continue
            moves.append(
                lifecycle.Move(
                    create.account_id, state, target, tuple(sorted(changes.items())), vendor
                )
            )
        lifecycle.transition_many(
            moves,
            cause=Cause.ENGINE,
            reason=Reason.VENDOR_USER_CREATED,
            own_fields=VENDOR_FACTS,
            now=now,
        )
        lifecycle.note_many(unmoved, VENDOR_FACTS, now=now)
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


# What each created account gets of its vendor user, moved or not.
VENDOR_FACTS = ("vendor_user_id", "vendor_address")


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
