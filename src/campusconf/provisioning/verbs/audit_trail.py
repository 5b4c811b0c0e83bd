"""The audit entry each verb writes about the account it changed, in the verb's own
transaction: the change and the entry explaining it commit together or not at all.

A verb takes its actor as an ``audit.actors.Actor`` (the CLI, a SCIM client, a person
with where they acted from), a signed-in user, or nothing. Nothing means the engine's own
work (seat admission, licence end, campaigns, leavers): its record is the account's
event, with cause and reason code, not an audit entry per account.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from campusconf.accounts.reasons import Because
from campusconf.audit.actors import Actor, Kind
from campusconf.audit.log import record

Who = Actor | AbstractBaseUser | None

# What a member did needs no words of theirs: the portal's buttons say it.
MEMBER_REASON = "the member's own request in the portal"


def actor_of(who: Who) -> Actor | None:
    if who is None or isinstance(who, Actor):
        return who
    return Actor.person(who)


def user_of(who: Who) -> AbstractBaseUser | None:
    """The person behind ``who``, for the account's event."""
    return who.user if isinstance(who, Actor) else who


def write(
    who: Who,
    verb: str,
    target: models.Model,
    reason: Because,
    *,
    before: str,
    after: str,
    **details: Any,
) -> None:
    """Append ``account.<verb>`` (``member.<verb>`` for a member's own), unless the
    engine acted. The names are the audit log's filters; keep them."""
    actor = actor_of(who)
    if actor is None:
        return
    prefix = "member" if actor.kind == Kind.MEMBER else "account"
    record(
        actor,
        f"{prefix}.{verb}",
        target,
        _text(reason, actor),
        state_before=before,
        state_after=after,
        **details,
    )


def _text(reason: Because, actor: Actor) -> str:
    """A person's words as they are; a code (``Reason``, or ``Why``) as the code."""
    text = str(getattr(reason, "code", reason)).strip()
    if text:
        return text
    return MEMBER_REASON if actor.kind == Kind.MEMBER else "no reason given"


def write_for_account(
    who: Who, verb: str, account: Any, reason: Because, *, before: str, **details: Any
) -> None:
    """``write`` about an account, naming its member and service (read only when an
    entry is written: the engine's own calls cost no query here)."""
    if who is None:
        return
    write(
        who,
        verb,
        account,
        reason,
        before=before,
        after=account.state,
        member=account.member.common_id,
        service=account.service.slug,
        **details,
    )


def waiting(place: int | None) -> dict[str, int]:
    """The seat-queue place a verb got instead of a change, as the entry's detail."""
    return {} if place is None else {"waiting_for_seat": place}
