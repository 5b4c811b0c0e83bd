"""Staff actions on one account: each one goes through the engine's action, which
writes the audit entry in its own transaction, so a remedy never happens without its
reason.

The back office never changes account rows itself; the engine owns the lifecycle,
the job queue and the vendor calls.
"""

import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campusconf.accounts.lifecycle import AccountAlreadyLive, IllegalTransition
from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause
from campusconf.audit.actors import Actor
from campusconf.audit.log import record
from campusconf.provisioning.verbs.seats import WaitingForSeat

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Remedy:
    slug: str
    engine_action: str
    label: Promise
    explanation: Promise
    dangerous: bool = False


REMEDIES: dict[str, Remedy] = {
    r.slug: r
    for r in [
        Remedy(
            "resend",
            "resend_invitation",
            _("Resend invitation"),
            _("The vendor sends a fresh activation mail to the member's university address."),
        ),
        Remedy(
            "retry",
            "retry_account",
            _("Retry"),
            _("The engine tries again to create or repair the account at the vendor."),
        ),
        Remedy(
            "reconcile",
            "reconcile_account",
            _("Reconcile now"),
            _("The engine reads the account at the vendor and brings ours in step."),
        ),
        Remedy(
            "suspend",
            "suspend_account",
            _("Suspend"),
            _("The member can no longer sign in to the service; the account is kept."),
            dangerous=True,
        ),
        Remedy(
            "deprovision",
            "deprovision_account",
            _("Deprovision"),
            _("The vendor user is removed and the seat is freed."),
            dangerous=True,
        ),
        Remedy(
            "reprovision",
            "reprovision_account",
            _("Re-provision"),
            _("A suspended or removed account is created again at the vendor."),
        ),
    ]
}


class RemedyRefused(Exception):
    """The engine said no (wrong state, engine not installed); nothing changed."""


class RemedyQueued(Exception):
    """Every seat is taken: the member now waits at ``place`` in the seat queue, and
    the engine carries the remedy out when a seat frees. Audited like a done remedy."""

    def __init__(self, place: int) -> None:
        super().__init__(f"all seats are taken; the member waits at place {place}")
        self.place = place


def engine_action(name: str) -> Callable[..., Any]:
    try:
        module = importlib.import_module("campusconf.provisioning.verbs.actions")
        action: Callable[..., Any] = getattr(module, name)
    except (ImportError, AttributeError) as missing:
        raise RemedyRefused(_("The provisioning engine cannot do this yet.")) from missing
    return action


def legal(account: Account, remedy: Remedy) -> bool:
    """Whether the engine's action would accept this account as it is now, by the
    action's own precondition (``actions.PRECONDITIONS``, read from the lifecycle)."""
    try:
        module = importlib.import_module("campusconf.provisioning.verbs.actions")
    except ImportError:
        return False
    return bool(module.permitted(remedy.engine_action, account, Cause.STAFF))


def offered(account: Account) -> list[Remedy]:
    """The remedies to show on the account's page: only those legal in its state."""
    return [r for r in REMEDIES.values() if legal(account, r)]


def apply_remedy(
    account: Account,
    slug: str,
    *,
    actor: AbstractBaseUser,
    reason: str,
    **context: Any,
) -> None:
    remedy = REMEDIES[slug]
    action = engine_action(remedy.engine_action)
    if not legal(account, remedy):
        # An old page, a second tab, or a hand-made POST: refused before anything runs.
        log.info("remedy %s refused: account=%s is %s", slug, account.pk, account.state)
        raise RemedyRefused(
            _("“%(what)s” is not possible while the account is %(state)s.")
            % {"what": remedy.label, "state": account.get_state_display()}
        )
    who = Actor.person(actor, **{"origin": "account_desk", **context})
    try:
        # The action audits itself ("account.<verb>"), with the place in the seat queue
        # when it got one instead: that is not a refusal, and it is committed.
        action(account, cause=Cause.STAFF, actor=who, reason=reason)
    except WaitingForSeat as wait:
        raise RemedyQueued(wait.place) from wait
    except (IllegalTransition, AccountAlreadyLive) as refusal:
        raise RemedyRefused(str(refusal)) from refusal
    account.refresh_from_db()


# One click retries at most this many accounts, so the request stays short; the page
# says how many are left, and another click takes the next ones.
RETRY_ALL_LIMIT = 500


@dataclass
class RetryAllOutcome:
    retried: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)  # waiting for a seat
    refused: list[int] = field(default_factory=list)  # no longer failed, or the engine said no
    left: int = 0  # failed accounts beyond RETRY_ALL_LIMIT, untouched


def retry_all(
    accounts: Iterable[Account],
    *,
    actor: AbstractBaseUser,
    reason: str,
    scope: models.Model,
    action: str,
    total: int,
) -> RetryAllOutcome:
    """Retry every failed account given (oldest failure first), each through the
    engine's ``retry_account`` like the desk's Retry — so the seat cap holds and a
    member may end up queued for a seat — and each audited as ``account.retry``; then
    one entry ``action`` on ``scope`` (the service or campaign) with the counts and
    the accounts. Each account is its own transaction: one refusal (the account was
    retried meanwhile) leaves the others done."""
    outcome = RetryAllOutcome()
    for account in accounts:
        try:
            apply_remedy(
                account,
                "retry",
                actor=actor,
                reason=reason,
                origin="retry_all",
                scope=f"{scope._meta.model_name}:{scope.pk}",
            )
        except RemedyQueued:
            outcome.queued.append(account.pk)
        except RemedyRefused as refusal:
            log.info("retry all: account=%s refused: %s", account.pk, refusal)
            outcome.refused.append(account.pk)
        else:
            outcome.retried.append(account.pk)
    handled = len(outcome.retried) + len(outcome.queued) + len(outcome.refused)
    outcome.left = max(total - handled, 0)
    record(
        actor,
        action,
        scope,
        reason,
        count=handled,
        retried=outcome.retried,
        queued_for_seat=outcome.queued,
        refused=outcome.refused,
        left=outcome.left,
    )
    return outcome
