"""Acting on the webhook events the view recorded: the workers' ``webhooks`` schedule.

Each event makes the engine re-read its user now (an observe job for the account), so a
member who activated sees it within seconds rather than at the next reconcile pass. An
event is claimed with a compare-and-set before it is acted on, so two workers never act
on one; its job joins any live job of the account (``job_queue.enqueue``).
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import Q

from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason, Why
from campusconf.accounts.states import Cause
from campusconf.core import clock
from campusconf.members.models import MemberAddress
from campusconf.provisioning.models import WebhookEvent
from campusconf.provisioning.verbs.actions import reconcile_account

log = logging.getLogger("campusconf.provisioning")

BATCH = 500
# Rows are kept this long after they were acted on, so that Zoom's retries of an event
# (the last 85 minutes after the first try) find it and change nothing.
KEEP = datetime.timedelta(days=1)


def process(now: datetime.datetime | None = None) -> int:
    """Act on up to BATCH recorded events, oldest first; returns how many."""
    now = now or clock.now()
    done = 0
    todo = WebhookEvent.objects.filter(processed_at__isnull=True).order_by("received_at", "pk")
    for event in todo.select_related("service")[:BATCH]:
        with transaction.atomic():
            claimed = WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
                processed_at=now
            )
            if not claimed:
                continue  # another worker acted on it
            account = account_for(event)
            if account is not None:
                reconcile_account(
                    account,
                    cause=Cause.VENDOR,
                    reason=Why(Reason.VENDOR_WEBHOOK, vendor="zoom", event=event.event),
                )
        done += 1
        log.info("zoom webhook %s: account=%s", event.event, account.pk if account else "no match")
    WebhookEvent.objects.filter(processed_at__lt=now - KEEP).delete()
    return done


def account_for(event: WebhookEvent) -> Account | None:
    """The event's account: by the vendor's user id, else by any of the member's addresses."""
    match = Q(vendor_user_id=event.vendor_user_id) if event.vendor_user_id else Q(pk__in=[])
    if event.email:
        members = MemberAddress.objects.filter(address__iexact=event.email).values("member_id")
        match |= Q(member_id__in=members) | Q(vendor_address__iexact=event.email)
    return Account.objects.filter(match, service=event.service).first()
