"""Deactivations over SCIM: the client's right to make members leave, and the roster's
mass-change guard applied to a window of time.

A roster import is one file, so its guard counts the members one import would mark as
left. SCIM sends one user per request, so here the same limit —
``roster.mass_change_limit`` of the active members — is applied to the deactivations
SCIM made within ``CAMPUSCONF_SCIM_MASS_CHANGE_HOURS``, this one included. Past it, the
request is refused with a 409 that says so, nothing is stored, and the deactivation
waits for staff: ``record_hold`` keeps it, ``holds.py`` applies or drops it.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from scim2_models import ConflictException, ForbiddenException

from campusconf.audit.actors import Actor
from campusconf.audit.log import record
from campusconf.audit.models import AuditEntry
from campusconf.directory.models import HeldDeactivation, ScimClient, ScimUser
from campusconf.directory.roster import mass_change_limit
from campusconf.directory.scim.context import HoldRequest, current
from campusconf.members.models import Member

logger = logging.getLogger(__name__)

# Audit actions of SCIM writes; a write that made a member leave has deactivated=True.
AUDIT_PREFIX = "scim."


class DeactivationHeld(ConflictException):
    """409: the deactivation waits for staff; the client should not retry it now."""


def recent_deactivations(now: datetime.datetime | None = None) -> int:
    since = (now or timezone.now()) - datetime.timedelta(
        hours=settings.CAMPUSCONF_SCIM_MASS_CHANGE_HOURS
    )
    return AuditEntry.objects.filter(
        action__startswith=AUDIT_PREFIX + "user.",
        created_at__gte=since,
        details__deactivated=True,
    ).count()


def check_deactivation(
    row: ScimUser,
    member: Member,
    kind: HeldDeactivation.Kind,
    resource: dict[str, Any],
    base_version: int,
) -> None:
    """Let the write make ``member`` leave, or raise: 403 without the right, 409 past
    the guard (with the hold to record in ``current().held``)."""
    call = current()
    if call.client is not None and not call.client.can_deactivate:
        raise ForbiddenException(
            detail=f"the token of {call.client.name} may not deactivate members "
            "(its rights are chosen when it is made: campusconf scim-token create "
            "--scope read,write,deactivate)"
        )
    if call.approved_by is not None:
        return  # staff looked at this one
    # One guard for all clients and processes: these row locks queue the deactivating
    # requests on PostgreSQL; SQLite's IMMEDIATE transactions already queue writers.
    list(ScimClient.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
    done = recent_deactivations()
    # The directory as it was before this window's deactivations, as the roster counts
    # the members before its import: otherwise each one would lower the limit.
    active = Member.objects.filter(status=Member.Status.ACTIVE).count() + done
    limit = mass_change_limit(active)
    if done < limit:
        return
    call.held = HoldRequest(
        scim_user_id=None if row._state.adding else row.pk,
        member_id=member.pk,
        user_name=row.user_name,
        kind=kind,
        resource=resource,
        base_version=base_version,
    )
    hours = settings.CAMPUSCONF_SCIM_MASS_CHANGE_HOURS
    raise DeactivationHeld(
        detail=f"held for staff approval, nothing was changed: {done} members were "
        f"deactivated over SCIM in the last {hours} hours, and the mass-change limit "
        f"is {limit} (min({settings.CAMPUSCONF_MASS_CHANGE_PERCENT} % of {active} "
        f"active members, {settings.CAMPUSCONF_MASS_CHANGE_MAX})). Staff approve or "
        "reject it in the back office; do not send it again."
    )


def record_hold(client: ScimClient | None, held: HoldRequest) -> HeldDeactivation | None:
    """Keep a refused deactivation for staff; a retry of one already held adds nothing."""
    if client is None:
        return None
    try:
        with transaction.atomic():
            hold = HeldDeactivation.objects.create(
                client=client,
                scim_user_id=held.scim_user_id,
                member_id=held.member_id,
                user_name=held.user_name,
                kind=held.kind,
                resource=held.resource,
                base_version=held.base_version,
            )
            record(
                Actor.scim(client.name),
                "scim.user.deactivation_held",
                hold,
                f"SCIM request from {client.name}, past the mass-change limit",
                client=client.name,
                user_name=held.user_name,
            )
    except IntegrityError:  # already waiting: the client sent it again
        return None
    logger.warning(
        "scim: %s of %s by %s held for staff (mass-change limit)",
        held.kind,
        held.user_name,
        client.name,
    )
    return hold
