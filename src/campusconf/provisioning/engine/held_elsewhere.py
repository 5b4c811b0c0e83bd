"""An address that already holds an account outside the university (Errata Z-d, W-f).

Zoom will not invite a paid account elsewhere with ``action=create`` (409, or code
1009); Webex will not add an address whose free account sits on a domain the
organisation has not verified (409). Retrying changes nothing until the member lets
that account go, so the account moves to its own state, ``held_elsewhere``, which
tells the member what to do; it moves on when the member says it is done (the
portal), when staff retry, or when the vendor shows the user in our organisation
(reconcile, ``observe.judge``). There is no retry loop.
"""

from __future__ import annotations

import datetime
import logging

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import Cause, State
from campusconf.connectors import outcomes as o
from campusconf.core import clock
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.models import Job

log = logging.getLogger("campusconf.provisioning")

# An "already exists" for a user an earlier attempt of ours may have created is waited
# for, since a vendor may not list a new user at once: it is taken for an account
# elsewhere from this attempt on once the job is older than the engine's FRESH_SECONDS
# (reconcile's own allowance for the same delay), and at the last attempt in any case,
# before the retries run out and the account would fail with a misleading reason.
AFTER_ATTEMPTS = 5


def may_have_created(account: Account, job: Job) -> bool:
    """Whether an earlier call of ours may have created the account's vendor user: the
    condition under which the provisioning job looks the user up before creating."""
    return bool(account.vendor_user_id) or job.attempts > 1 or job.kind == Job.Kind.REINVITE


def concluded(account: Account, job: Job) -> bool:
    """The vendor said "already exists" and our organisation has no such user: is that
    an account elsewhere? Surely when nothing of ours can be behind it; else only once
    the user has stayed unlisted for several attempts and long enough to be listed."""
    if not may_have_created(account, job):
        return True
    if job.attempts >= int(engine_setting("MAX_ATTEMPTS")):
        return True
    waited = clock.now() - job.created_at  # not claimed with the job: one read
    fresh = datetime.timedelta(seconds=float(engine_setting("FRESH_SECONDS")))
    return job.attempts >= AFTER_ATTEMPTS and waited >= fresh


def record(account: Account, out: o.AlreadyExists | o.HeldElsewhere) -> None:
    """Requested → held_elsewhere, with the vendor's words and tracking id."""
    tracking = f" [tracking {out.tracking_id}]" if out.tracking_id else ""
    said = out.reason or type(out).__name__
    reason = Why(Reason.HELD_ELSEWHERE, detail=f"{said}{tracking}")
    transition(
        account,
        State.HELD_ELSEWHERE,
        cause=Cause.ENGINE,
        reason=reason,
        observed_state=Account.Observed.ABSENT,
        last_error_code=(out.vendor_code or str(out.http_status or ""))[:64],
        **error_fields(reason),
        last_error_at=clock.now(),
    )
    log.info("account=%s held elsewhere: %s", account.pk, said)
