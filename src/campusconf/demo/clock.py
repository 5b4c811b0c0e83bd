"""A demo tool: let days pass for invitations, at the vendor sandbox and in CampusConf.

CampusConf has no clock of its own to move: it judges an invitation's expiry by
``timezone.now()`` against ``Account.invitation_expires_at``. So "16 days pass" means
moving the sandbox's clock (its links die) and moving CampusConf's invitation dates back
by the same amount, as the S4 browser test does. Only for the demo's database.
"""

import datetime
import logging

import httpx
from django.db import transaction
from django.db.models import F

from campusconf.accounts.models import Account
from campusconf.accounts.states import State

logger = logging.getLogger(__name__)


class ClockError(Exception):
    """The sandbox could not be reached or refused; nothing was changed."""


def move_sandbox_clock(sandbox_url: str, admin_token: str, days: float) -> str:
    """Advance the sandbox's clock; returns the sandbox's new "now"."""
    try:
        response = httpx.post(
            f"{sandbox_url.rstrip('/')}/_admin/clock",
            json={"advance_days": days},
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=10,
        )
    except httpx.HTTPError as error:
        raise ClockError(
            f"the vendor sandbox at {sandbox_url} is not reachable ({error})"
        ) from error
    if response.status_code != 200:
        raise ClockError(
            f"the vendor sandbox at {sandbox_url} answered {response.status_code}: "
            f"{response.text[:200]}"
        )
    return str(response.json()["now"])


@transaction.atomic
def age_invitations(days: float) -> int:
    """Move the sent and expiry dates of the invitations still waiting ``days`` into the
    past. Only those: an account already active would otherwise show an invitation sent
    days before the events of its own timeline, which the demo does not move."""
    delta = datetime.timedelta(days=days)
    return Account.objects.filter(
        state__in=[State.INVITED, State.CONVERSION_PENDING], invitation_expires_at__isnull=False
    ).update(
        invitation_expires_at=F("invitation_expires_at") - delta,
        invitation_sent_at=F("invitation_sent_at") - delta,
    )


def let_days_pass(sandbox_url: str, admin_token: str, days: float) -> tuple[str, int]:
    """The sandbox first: if it cannot move, CampusConf's dates stay as they are."""
    sandbox_now = move_sandbox_clock(sandbox_url, admin_token, days)
    aged = age_invitations(days)
    logger.info(
        "demo clock: %s days passed; sandbox now %s; %s invitations aged", days, sandbox_now, aged
    )
    return sandbox_now, aged
