"""Deactivations held by the mass-change guard (which records them, ``guard.record_hold``),
approved or rejected by staff in the back office (``/staff/directory/scim-holds/``).

Approving applies what the client asked — the user's resource as it would have become,
or its deletion — through the same storage, guard and audit as any SCIM write, but as
the staff member's act; if the user changed since the client asked, approval refuses and
the hold stays for a rejection. Every step is audited.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from scim2_models import SCIMException

from campusconf.audit.log import record
from campusconf.directory.models import HeldDeactivation, ScimUser
from campusconf.directory.scim.context import ScimCall, scim_call
from campusconf.directory.scim.server import application

logger = logging.getLogger(__name__)


class HoldNotApplied(Exception):
    """Approval could not apply the held change; the message says why."""


def pending_holds() -> Any:
    return HeldDeactivation.objects.filter(status=HeldDeactivation.Status.HELD).select_related(
        "client", "member"
    )


def _apply(hold: HeldDeactivation) -> None:
    app = application()
    service = app.service
    storage = app.handler.storage
    user_type = service.get_resource_type("User")
    if hold.kind == HeldDeactivation.Kind.DELETE:
        if hold.scim_user_id is None:
            raise HoldNotApplied(_("The directory record is gone already."))
        storage.delete(
            user_type, str(hold.scim_user_id), expected_version=f'W/"{hold.base_version}"'
        )
        return
    data = dict(hold.resource)
    if hold.scim_user_id is None:
        storage.create(user_type, service.get_model(user_type).model_validate(data))
        return
    current = (
        ScimUser.objects.filter(pk=hold.scim_user_id).values_list("version", flat=True).first()
    )
    if current != hold.base_version:
        raise HoldNotApplied(_("The directory record changed after the request; reject this one."))
    data["id"] = str(hold.scim_user_id)
    storage.update(
        user_type,
        service.get_model(user_type).model_validate(data),
        expected_version=f'W/"{hold.base_version}"',
    )


def approve_hold(hold_id: int, *, actor: AbstractBaseUser, reason: str) -> HeldDeactivation:
    """Apply the held deactivation as ``actor``'s act; HoldNotApplied if it cannot be."""
    with transaction.atomic():
        hold = (
            HeldDeactivation.objects.select_for_update()
            .select_related("client")
            .filter(pk=hold_id)
            .first()
        )
        if hold is None or hold.status != HeldDeactivation.Status.HELD:
            raise HoldNotApplied(_("This request was decided already."))
        call = ScimCall(client=hold.client, approved_by=actor, approved_reason=reason)
        try:
            with scim_call(call), transaction.atomic():
                _apply(hold)
        except SCIMException as refusal:
            raise HoldNotApplied(str(refusal)) from refusal
        _decide(hold, HeldDeactivation.Status.APPROVED, actor, reason)
    return hold


def reject_hold(hold_id: int, *, actor: AbstractBaseUser, reason: str) -> HeldDeactivation:
    """Drop the held deactivation: nothing changes for the member."""
    with transaction.atomic():
        hold = HeldDeactivation.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None or hold.status != HeldDeactivation.Status.HELD:
            raise HoldNotApplied(_("This request was decided already."))
        _decide(hold, HeldDeactivation.Status.REJECTED, actor, reason)
    return hold


def _decide(
    hold: HeldDeactivation, status: HeldDeactivation.Status, actor: AbstractBaseUser, reason: str
) -> None:
    hold.status = status
    hold.decided_at = timezone.now()
    hold.decided_by_id = actor.pk
    hold.save(update_fields=["status", "decided_at", "decided_by"])
    record(actor, f"directory.held_deactivation_{status}", hold, reason, user_name=hold.user_name)
