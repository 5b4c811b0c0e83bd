"""The Account lifecycle: its states, its causes and every allowed transition.

This table is the single source of truth; docs/lifecycle.md draws it, and
``campusconf.accounts.lifecycle.transition`` is the only code that changes a state.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    REQUESTED = "requested", _("requested")
    INVITED = "invited", _("invited")
    CONVERSION_PENDING = "conversion_pending", _("conversion pending")
    HELD_ELSEWHERE = "held_elsewhere", _("address held elsewhere")
    INVITATION_EXPIRED = "invitation_expired", _("invitation expired")
    ACTIVE = "active", _("active")
    UNLICENSED = "unlicensed", _("unlicensed")
    FAILED = "failed", _("failed")
    SUSPENDED = "suspended", _("suspended")
    REMOVED = "removed", _("removed")


class Cause(models.TextChoices):
    MEMBER = "member", _("member")
    STAFF = "staff", _("staff")
    ENGINE = "engine", _("engine")
    RECONCILE = "reconcile", _("reconcile")
    VENDOR = "vendor", _("vendor")


class DesiredState(models.TextChoices):
    PRESENT = "present", _("present")
    ABSENT = "absent", _("absent")


S = State
C = Cause
PEOPLE = frozenset({C.MEMBER, C.STAFF})
MACHINE = frozenset({C.ENGINE, C.RECONCILE, C.VENDOR})
ANYONE = PEOPLE | MACHINE

# (from, to) -> causes allowed, with a short account of what happens.
TRANSITIONS: dict[tuple[State, State], tuple[frozenset[Cause], str]] = {
    (S.REQUESTED, S.INVITED): (MACHINE, "vendor user created; invitation mail sent"),
    (S.REQUESTED, S.CONVERSION_PENDING): (
        MACHINE,
        "address already has a personal account; conversion mail sent (S7)",
    ),
    (S.REQUESTED, S.ACTIVE): (MACHINE, "vendor already holds an active, licensed user"),
    (S.REQUESTED, S.HELD_ELSEWHERE): (
        MACHINE,
        "the address holds an account outside the university that the vendor will not "
        "take in (Zoom: a paid account elsewhere; Webex: a free account on an unverified "
        "domain); the member must release it",
    ),
    (S.REQUESTED, S.UNLICENSED): (
        MACHINE,
        "the member changed the address at the vendor and the vendor would not take "
        "the university address back (S9)",
    ),
    (S.REQUESTED, S.FAILED): (MACHINE, "vendor refused, or retries exhausted"),
    (S.REQUESTED, S.REMOVED): (ANYONE, "withdrawn before the vendor user existed"),
    (S.INVITED, S.ACTIVE): (MACHINE, "member activated (S6)"),
    (S.INVITED, S.INVITATION_EXPIRED): (MACHINE, "invitation validity passed (S4)"),
    (S.INVITED, S.UNLICENSED): (
        MACHINE | {C.MEMBER},
        "activated the wrong way, e.g. Google (S12); the member says so where Zoom cannot",
    ),
    (S.INVITED, S.REQUESTED): (ANYONE, "resend (S4, S13), or user vanished at the vendor"),
    (S.INVITED, S.FAILED): (MACHINE, "vendor refused a follow-up call"),
    (S.INVITED, S.SUSPENDED): (PEOPLE | {C.ENGINE}, "staff or licence-end policy suspends"),
    (S.INVITED, S.REMOVED): (ANYONE, "deprovisioned: vendor user removed"),
    (S.CONVERSION_PENDING, S.ACTIVE): (MACHINE, "member converted the account (S7)"),
    (S.CONVERSION_PENDING, S.INVITATION_EXPIRED): (MACHINE, "conversion window passed"),
    (S.CONVERSION_PENDING, S.REQUESTED): (ANYONE, "resend, or user vanished at the vendor"),
    (S.CONVERSION_PENDING, S.FAILED): (MACHINE, "vendor refused a follow-up call"),
    (S.CONVERSION_PENDING, S.REMOVED): (ANYONE, "deprovisioned"),
    (S.HELD_ELSEWHERE, S.REQUESTED): (
        ANYONE,
        "the member released the account elsewhere (said so on the portal), staff "
        "retried, or the vendor now shows the user",
    ),
    (S.HELD_ELSEWHERE, S.REMOVED): (ANYONE, "withdrawn or deprovisioned"),
    (S.INVITATION_EXPIRED, S.REQUESTED): (ANYONE, "invitation resent (S4)"),
    (S.INVITATION_EXPIRED, S.ACTIVE): (MACHINE, "activated after all (late reconcile)"),
    (S.INVITATION_EXPIRED, S.REMOVED): (ANYONE, "deprovisioned"),
    (S.ACTIVE, S.UNLICENSED): (MACHINE, "licence lost: wrong licence or changed address (S9)"),
    (S.ACTIVE, S.SUSPENDED): (PEOPLE | {C.ENGINE}, "staff, leaving or licence end suspends"),
    (S.ACTIVE, S.REQUESTED): (MACHINE | {C.STAFF}, "gone at the vendor but still wanted"),
    (S.ACTIVE, S.REMOVED): (ANYONE, "deprovisioned"),
    (S.UNLICENSED, S.ACTIVE): (MACHINE, "licence restored (self-service recovery, S14)"),
    (S.UNLICENSED, S.REQUESTED): (ANYONE, "activation resent from the portal (S13)"),
    (S.UNLICENSED, S.SUSPENDED): (PEOPLE | {C.ENGINE}, "staff or policy suspends"),
    (S.UNLICENSED, S.REMOVED): (ANYONE, "deprovisioned"),
    (S.FAILED, S.REQUESTED): (ANYONE, "retried"),
    (S.FAILED, S.ACTIVE): (MACHINE, "reconcile found the user active after all"),
    (S.FAILED, S.INVITED): (MACHINE, "reconcile found the invitation after all"),
    (S.FAILED, S.REMOVED): (ANYONE, "given up"),
    (S.SUSPENDED, S.ACTIVE): (PEOPLE | MACHINE, "reactivated"),
    (S.SUSPENDED, S.REQUESTED): (PEOPLE | MACHINE, "re-provisioned"),
    (S.SUSPENDED, S.REMOVED): (ANYONE, "deprovisioned"),
    (S.REMOVED, S.REQUESTED): (PEOPLE | {C.RECONCILE}, "applied again, or re-provisioned"),
}

# States in which a vendor user exists or is being made: the account is "live".
LIVE_STATES = frozenset(set(State) - {S.REMOVED})
# States from which a member or staff may ask for the invitation to be sent again.
RESENDABLE_STATES = frozenset({S.INVITED, S.CONVERSION_PENDING, S.INVITATION_EXPIRED, S.UNLICENSED})
# States from which the engine is asked to try the create again (staff's "retry"; the
# member's "I have released it" for held_elsewhere).
RETRYABLE_STATES = frozenset({S.FAILED, S.HELD_ELSEWHERE})


def allowed_causes(source: State, target: State) -> frozenset[Cause]:
    entry = TRANSITIONS.get((source, target))
    return entry[0] if entry else frozenset()
