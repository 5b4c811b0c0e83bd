"""Applying for a service on a member's behalf from the account desk.

The desk goes through the engine's own verb, ``apply_for_service``, as the CLI's
``campusconf provision`` does, so eligibility and the seat cap are decided in one
place, and the verb writes the staff member's reason to the audit log in the same
transaction as the application; this module turns its refusals into the desk's words.
"""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause
from campusconf.audit.actors import Actor
from campusconf.members.models import Member
from campusconf.provisioning.verbs.actions import (
    AccountAlreadyLive,
    NotEligible,
    WaitingForSeat,
    apply_for_service,
)
from campusconf.services.models import Service

log = logging.getLogger(__name__)


class ApplyRefused(Exception):
    """Nothing was changed; the message says why, for the person at the desk."""


class ApplyQueued(Exception):
    """All seats are taken: the member waits at ``place`` (that row is kept)."""

    def __init__(self, place: int) -> None:
        super().__init__(place)
        self.place = place


def apply_on_behalf(
    member: Member, service: Service, *, actor: AbstractBaseUser, reason: str
) -> Account:
    try:
        # The action audits itself ("account.apply"), with the place in the seat queue
        # when all seats are taken: not a refusal, and that row is kept.
        account = apply_for_service(
            member,
            service,
            cause=Cause.STAFF,
            actor=Actor.person(actor, origin="account_desk"),
            reason=reason,
        )
    except WaitingForSeat as wait:
        raise ApplyQueued(wait.place) from wait
    except NotEligible as refusal:
        log.info("apply refused: member=%s service=%s", member.common_id, service.slug)
        raise ApplyRefused(
            _("%(member)s may not have %(service)s: %(why)s")
            % {"member": member.common_id, "service": service.name, "why": refusal.reason}
        ) from refusal
    except AccountAlreadyLive as refusal:
        raise ApplyRefused(
            _("%(member)s already has an account at %(service)s (%(state)s).")
            % {
                "member": member.common_id,
                "service": service.name,
                "state": refusal.account.get_state_display(),
            }
        ) from refusal
    return account
