"""Reconcile passes held by the mass-deprovision guard, and their approval from the
back office: what ``campusconf reconcile <slug> --approve`` does, with a person's
reason in the audit log.

The held pass records only how many accounts it would have let go; which ones is
worked out again here, from the same rule the engine applies (members who left, were
told, and whose date has come), so staff see a sample of real names before approving.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from campusconf.accounts.models import Account
from campusconf.audit.log import record
from campusconf.provisioning.engine import reconcile
from campusconf.provisioning.engine.reconcile_snapshot import Snapshot
from campusconf.provisioning.models import ReconcilePass

SAMPLE = 10


class ApprovalRefused(Exception):
    """Nothing was approved; the message says why (for staff, in their language)."""


@dataclass
class HeldReview:
    held: ReconcilePass
    would_deprovision: int  # counted now, not when the pass was held
    sample: list[Account]
    guard: int


def held_passes(service_id: int) -> list[ReconcilePass]:
    return list(
        ReconcilePass.objects.filter(
            service_id=service_id, status=ReconcilePass.Status.HELD
        ).order_by("-started_at")
    )


def _leaver_account_ids(held: ReconcilePass, now: datetime.datetime) -> list[int]:
    return reconcile.leavers(held.service, Snapshot(held.service, now), now)


def review(held: ReconcilePass, now: datetime.datetime | None = None) -> HeldReview:
    now = now or timezone.now()
    ids = _leaver_account_ids(held, now)
    sample = list(
        Account.objects.filter(pk__in=ids[:SAMPLE])
        .select_related("member")
        .order_by("member__common_id")
    )
    live = Account.objects.filter(service=held.service).exclude(state="removed").count()
    return HeldReview(held, len(ids), sample, reconcile.guard_threshold(live))


def approve(
    held: ReconcilePass, *, actor: AbstractBaseUser, reason: str, expected: int
) -> ReconcilePass:
    """Run an approved pass now, through the engine; the held passes of the service
    are closed. ``expected`` is the count the person saw: if more accounts would go
    now, nothing is approved and they must look again."""
    from django.utils.translation import gettext as _

    now = timezone.now()
    ids = _leaver_account_ids(held, now)
    if len(ids) > expected:
        raise ApprovalRefused(
            _(
                "Nothing was approved: %(now)s accounts would be deprovisioned now, "
                "more than the %(seen)s you reviewed. Review them again."
            )
            % {"now": len(ids), "seen": expected}
        )
    with transaction.atomic():
        # Compare-and-set: two people approving at once run one pass, not two.
        closed = ReconcilePass.objects.filter(
            service=held.service, status=ReconcilePass.Status.HELD, started_at__lte=held.started_at
        ).update(status=ReconcilePass.Status.APPROVED)
        if not closed:
            raise ApprovalRefused(_("Nothing was approved: this pass is no longer held."))
        sample = list(
            Account.objects.filter(pk__in=ids[:SAMPLE]).values_list("member__common_id", flat=True)
        )
        record(
            actor,
            "reconcile.approve",
            held,
            reason,
            service=held.service.slug,
            would_deprovision=len(ids),
            sample=sample,
        )
    result = reconcile.run_pass(held.service, approve=True)
    ReconcilePass.objects.filter(pk=held.pk).update(
        message=f"{held.message} — approved; pass {result.pk}: {result.status}"
    )
    return result
