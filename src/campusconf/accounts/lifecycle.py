"""Performing Account transitions: checked, locked, and recorded in one transaction.

Callers that must also enqueue work (the engine's jobs) call these inside their own
``transaction.atomic()`` block, so the state change and the job commit together.
``transition`` moves one account; ``lock_many`` and ``transition_many`` move a batch
with a few statements (the engine's settle), by the same rules and with the same events.
Nothing else writes ``Account.state``.
"""

import datetime
import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.dispatch import Signal

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.reasons import Because, stored
from campusconf.accounts.states import LIVE_STATES, Cause, DesiredState, State, allowed_causes
from campusconf.core import sql
from campusconf.members.models import Member
from campusconf.services.models import Service

# Fields a transition may set together with the state (vendor facts, timestamps, errors).
MUTABLE_FIELDS = frozenset(
    {
        "desired_state",
        "observed_state",
        "vendor_user_id",
        "vendor_address",
        "observed_login_type",
        "observed_licensed",
        "invitation_sent_at",
        "invitation_expires_at",
        "activated_at",
        "last_reconciled_at",
        "last_error_code",
        "last_error_reason",
        "last_error_params",
        "last_error_at",
    }
)


# Sent inside the transaction that changes an account's state, after its AccountEvent is
# written, with ``account`` (the locked, updated row) and ``event``. A receiver's writes
# commit or roll back with the change itself, so side effects such as mail notices
# (campusconf.portal.outbox) are queued exactly when the state changes, and the
# lifecycle needs to know nothing about them. A receiver that raises undoes the change.
account_transitioned = Signal()

# The same for many accounts at once: the engine's batch settle moves a batch of
# accounts with a few statements and sends this once, with ``events`` (the batch's
# AccountEvents, written, with their ids where the database returns them). Same
# contract as above: sent inside the transaction, after the accounts are updated, so a
# receiver's writes commit or roll back with the moves. An event carries its
# ``account_id``; a receiver that needs more of the account reads the rows itself, in
# one query for the batch. A receiver of state changes connects to both signals.
accounts_transitioned = Signal()


class IllegalTransition(Exception):
    """A transition the lifecycle does not allow; the message names both states."""

    def __init__(self, source: str, target: str, cause: str) -> None:
        # Plain strings: the message reads "'invited'", not "State.INVITED".
        self.source, self.target, self.cause = str(source), str(target), str(cause)
        allowed = sorted(map(str, allowed_causes(State(source), State(target)))) if source else []
        detail = f" (allowed causes: {', '.join(allowed)})" if allowed else ""
        super().__init__(
            f"an account cannot go from {self.source or 'nothing'!r} to {self.target!r} "
            f"by cause {self.cause!r}{detail}"
        )


class AccountAlreadyLive(Exception):
    def __init__(self, account: Account) -> None:
        self.account = account
        super().__init__(
            f"member {account.member.common_id} already has a live account at "
            f"{account.service.slug} (state {account.state!r})"
        )


def _actor_id(actor: AbstractBaseUser | None) -> Any:
    return actor.pk if actor is not None else None


def _reason_fields(reason: Because) -> dict[str, Any]:
    code, params = stored(reason)
    return {"reason_code": code, "reason_params": params}


def transition(
    account: Account,
    target: State,
    *,
    cause: Cause,
    actor: AbstractBaseUser | None = None,
    reason: Because = "",
    **changes: Any,
) -> AccountEvent:
    """Move ``account`` to ``target``, or raise IllegalTransition and change nothing.

    The row is re-read under a lock, so a caller holding a stale copy cannot undo a
    concurrent change: the check is made against the state in the database. ``reason``
    is a code (``Reason``, or ``Why`` with parameters), or a person's own words.
    """
    unknown = set(changes) - MUTABLE_FIELDS
    if unknown:
        raise TypeError(f"transition() cannot set {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        source = State(locked.state)
        if cause not in allowed_causes(source, target):
            raise IllegalTransition(source, target, cause)
        locked.state = target
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.save(update_fields=["state", "updated_at", *changes])
        event = AccountEvent.objects.create(
            account=locked,
            from_state=source,
            to_state=target,
            cause=cause,
            actor_id=_actor_id(actor),
            **_reason_fields(reason),
        )
        account_transitioned.send(sender=Account, account=locked, event=event)
    account.refresh_from_db()
    return event


def open_account(
    member: Member,
    service: Service,
    *,
    cause: Cause,
    actor: AbstractBaseUser | None = None,
    reason: Because = "",
) -> Account:
    """Create the member's account at ``service`` in state requested, or reopen a removed one.

    Raises AccountAlreadyLive when the member already holds a live account there.
    """
    with transaction.atomic():
        account, created = Account.objects.select_for_update().get_or_create(
            member=member,
            service=service,
            defaults={"state": State.REQUESTED, "desired_state": DesiredState.PRESENT},
        )
        if created:
            event = AccountEvent.objects.create(
                account=account,
                from_state="",
                to_state=State.REQUESTED,
                cause=cause,
                actor_id=_actor_id(actor),
                **_reason_fields(reason),
            )
            account_transitioned.send(sender=Account, account=account, event=event)
            return account
        if account.state in LIVE_STATES:
            raise AccountAlreadyLive(account)
        transition(
            account,
            State.REQUESTED,
            cause=cause,
            actor=actor,
            reason=reason,
            desired_state=DesiredState.PRESENT,
            vendor_user_id="",
            observed_state=Account.Observed.UNKNOWN,
        )
        return account


def replay(events: list[AccountEvent]) -> str:
    """The state the events lead to; it must equal the account's stored state."""
    state = ""
    for event in events:
        if event.from_state != state:
            raise ValueError(
                f"event {event.pk} starts from {event.from_state!r} but the replay is at {state!r}"
            )
        state = event.to_state
    return state


# -- many accounts at once --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Move:
    """One account's part in ``transition_many``.

    ``source`` is the state ``lock_many`` read in this transaction. ``changes`` are
    fields set with the state (moves with the same target and changes share one
    UPDATE); ``own`` are this row's values of the batch's ``own_fields`` (the vendor id
    each account got).
    """

    account_id: int
    source: str
    target: State
    changes: tuple[tuple[str, Any], ...] = ()
    own: tuple[Any, ...] = ()


def lock_many(account_ids: Sequence[int], *fields: str) -> dict[int, tuple[Any, ...]]:
    """Each account's ``(state, *fields)``, the rows locked until the transaction ends.

    What ``transition`` re-reads under its lock, for a batch: one SELECT per chunk.
    """
    a = functools.partial(sql.column, Account)
    names = ("id", "state", *fields)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    read = sql.reader(Account, names)
    locked: dict[int, tuple[Any, ...]] = {}
    with connection.cursor() as cursor:
        for chunk in sql.chunks(account_ids):
            ids, params = sql.in_list(a("id"), chunk)
            cursor.execute(
                f"SELECT {', '.join(a(n) for n in names)} "  # noqa: S608 - the model's own table and columns
                f"FROM {sql.table(Account)} WHERE {ids}{lock}",
                params,
            )
            for row in map(read, cursor.fetchall()):
                locked[row[0]] = tuple(row[1:])
    return locked


def transition_many(
    moves: Sequence[Move],
    *,
    cause: Cause,
    reason: Because = "",
    own_fields: tuple[str, ...] = (),
    actor: AbstractBaseUser | None = None,
    now: datetime.datetime,
) -> list[AccountEvent]:
    """Move every account of ``moves``, or raise IllegalTransition and change nothing.

    The rules and events of ``transition``, for a batch locked by ``lock_many`` in the
    caller's transaction: one UPDATE per target and changes (normally one for the
    batch), one INSERT for the events, and ``accounts_transitioned`` once, inside the
    transaction. No savepoint: a receiver that raises undoes the caller's whole batch.
    """
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("transition_many needs the lock's transaction")
    _check_fields([*own_fields, *(name for move in moves for name, _ in move.changes)])
    for move in moves:
        if cause not in allowed_causes(State(move.source), move.target):
            raise IllegalTransition(move.source, move.target, cause)
    groups: dict[tuple[State, tuple[tuple[str, Any], ...]], list[tuple[Any, ...]]] = {}
    for move in moves:
        groups.setdefault((move.target, move.changes), []).append((move.account_id, *move.own))
    for (target, changes), rows in groups.items():
        _update(rows, own_fields, now, {"state": target, **dict(changes)})
    code, params = stored(reason)
    events = [
        AccountEvent(
            account_id=move.account_id,
            from_state=move.source,
            to_state=move.target,
            cause=cause,
            actor_id=_actor_id(actor),
            reason_code=code,
            reason_params=params,
        )
        for move in moves
    ]
    if events:
        _insert_events(events, now)
        accounts_transitioned.send(sender=Account, events=events)
    return events


def note_many(
    rows: Sequence[tuple[Any, ...]], own_fields: tuple[str, ...], *, now: datetime.datetime
) -> None:
    """Write each row's ``(account id, *own_fields)`` values and leave the state alone:
    vendor facts of accounts someone moved meanwhile. One UPDATE per chunk."""
    _check_fields(own_fields)
    _update(rows, own_fields, now, {})


def _check_fields(names: Iterable[str]) -> None:
    unknown = set(names) - MUTABLE_FIELDS
    if unknown:
        raise TypeError(f"a transition cannot set {', '.join(sorted(unknown))}")


def _update(
    rows: Sequence[tuple[Any, ...]],
    own_fields: tuple[str, ...],
    now: datetime.datetime,
    changes: dict[str, Any],
) -> None:
    """Each row's own values and ``changes`` to them all: one UPDATE per chunk.

    Own values go in with the move rather than before it, so each account gets one new
    row version, not two (on PostgreSQL every index is written again for each).
    Hand-written: the ORM spent more CPU building it than the database running it.
    """
    if not rows:
        return
    a = functools.partial(sql.column, Account)
    sets = [f"{a(name)} = v.{a(name)}" for name in own_fields]
    values: list[Any] = []
    for name, value in {**changes, "updated_at": now}.items():
        sets.append(f"{a(name)} = %s")
        values.append(sql.prepared(Account, name, value))
    table = sql.table(Account)
    shape = ", ".join(a(name) for name in ("id", *own_fields))
    with connection.cursor() as cursor:
        for chunk in sql.chunks(rows):
            source, params = sql.rows(Account, ("id", *own_fields), chunk)
            # The ids once more, as a condition on the table: PostgreSQL cannot tell how
            # many rows the JSON holds, and without it joined them to a scan of every
            # account (5 ms a settle at 20,000 accounts, growing with them).
            ids, id_params = sql.in_list(f"{table}.{a('id')}", [row[0] for row in chunk])
            cursor.execute(
                f"WITH v ({shape}) AS ({source}) "  # noqa: S608 - the model's own table and columns
                f"UPDATE {table} SET {', '.join(sets)} FROM v "
                f"WHERE {table}.{a('id')} = v.{a('id')} AND {ids}",
                params + values + id_params,
            )


def _insert_events(events: list[AccountEvent], now: datetime.datetime) -> None:
    """Write the batch's events with one multi-row INSERT, and give each its id.

    What ``bulk_create`` does, without preparing every value of every row through its
    field (that cost a fifth of the engine's main thread per job). Rows come back in the
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
            *(e.account_id, str(e.from_state), str(e.to_state), str(e.cause), e.actor_id),
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
