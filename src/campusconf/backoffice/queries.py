"""What the back office reads: counts, queues and searches. No writes here."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from campusconf.accounts.models import Account, AccountEvent, Application
from campusconf.accounts.states import State

# Which accounts hold a seat is the engine's rule, defined once (provisioning/seats.py,
# SEAT_STATES) and re-exported here, so the dashboard counts exactly what the cap counts.
from campusconf.provisioning.models import ReconcilePass
from campusconf.provisioning.seats import seats_used as seats_used
from campusconf.services.models import Service


def last_checked_at(service: Service) -> datetime.datetime | None:
    """When a reconcile pass last finished reading the service's users at the vendor
    and applying what it saw. The engine books passes per service (ReconcilePass),
    not per account, so this is what "last checked against the vendor" can honestly
    say of an account. A held or failed pass applied nothing and does not count."""
    finished: datetime.datetime | None = ReconcilePass.objects.filter(
        service=service,
        status__in=[ReconcilePass.Status.DONE, ReconcilePass.Status.APPROVED],
    ).aggregate(at=Max("finished_at"))["at"]
    return finished


STUCK_AFTER = datetime.timedelta(hours=1)  # S5: no invitation within an hour
EXPIRING_WITHIN = datetime.timedelta(days=3)
QUEUE_SAMPLE = 20


@dataclass
class Queue:
    key: str
    count: int
    rows: list[Any] = field(default_factory=list)


@dataclass
class DayCount:
    day: datetime.date
    applications: int
    activations: int


def accounts_by_state(service: Service) -> list[tuple[State, int]]:
    counts = dict(
        Account.objects.filter(service=service)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return [(state, counts.get(state.value, 0)) for state in State]


def _per_day(qs: QuerySet[Any], field_name: str, since: datetime.datetime) -> dict[Any, int]:
    tz = timezone.get_current_timezone()
    return dict(
        qs.filter(**{f"{field_name}__gte": since})
        .annotate(day=TruncDate(field_name, tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )


def daily_activity(service: Service, days: int = 30) -> list[DayCount]:
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    applied = _per_day(Application.objects.filter(service=service), "created_at", since)
    activated = _per_day(
        AccountEvent.objects.filter(account__service=service, to_state=State.ACTIVE),
        "created_at",
        since,
    )
    return [
        DayCount(d, applied.get(d, 0), activated.get(d, 0))
        for d in (first + datetime.timedelta(days=i) for i in range(days))
    ]


def _queue(key: str, qs: QuerySet[Any]) -> Queue:
    return Queue(key, qs.count(), list(qs[:QUEUE_SAMPLE]))


def _accounts(service: Service) -> QuerySet[Account]:
    return Account.objects.filter(service=service).select_related("member", "service")


def failed_accounts(service: Service) -> QuerySet[Account]:
    """The service's failed queue, oldest failure first."""
    return _accounts(service).filter(state=State.FAILED).order_by("updated_at", "pk")


def attention_queues(service: Service, now: datetime.datetime | None = None) -> list[Queue]:
    """The work that needs a person, most urgent first."""
    now = now or timezone.now()
    waiting = (State.INVITED, State.CONVERSION_PENDING)
    queues = [
        _queue("failed", failed_accounts(service)),
        _queue(
            "unlicensed",
            _accounts(service).filter(state=State.UNLICENSED).order_by("updated_at"),
        ),
        _queue(
            "not_activated",
            _accounts(service)
            .filter(state__in=waiting, invitation_sent_at__lt=now - STUCK_AFTER)
            .order_by("invitation_sent_at"),
        ),
        _queue(
            "expiring",
            _accounts(service)
            .filter(
                state__in=waiting,
                invitation_expires_at__gte=now,
                invitation_expires_at__lt=now + EXPIRING_WITHIN,
            )
            .order_by("invitation_expires_at"),
        ),
    ]
    queues.extend(_engine_queues(service))
    from campusconf.backoffice.models import SeatWait

    queues.append(
        _queue(
            "seat_wait",
            SeatWait.objects.filter(service=service, outcome=SeatWait.Outcome.WAITING)
            .select_related("member")
            .order_by("created_at", "id"),
        )
    )
    return queues


def _engine_queues(service: Service) -> list[Queue]:
    # The engine's report tables; read lazily so the back office works without it.
    try:
        from campusconf.provisioning.models import ReconcilePass, UnmatchedVendorUser
    except ImportError:
        return []
    return [
        _queue(
            "unmatched",
            UnmatchedVendorUser.objects.filter(service=service).order_by("first_seen_at"),
        ),
        _queue(
            "held_reconcile",
            ReconcilePass.objects.filter(
                service=service, status=ReconcilePass.Status.HELD
            ).order_by("started_at"),
        ),
    ]


def search_accounts(term: str) -> QuerySet[Account]:
    """By common ID, name (Japanese or Latin), primary address, alias or vendor address."""
    term = term.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    qs = Account.objects.select_related("member", "service").order_by(
        "member__common_id", "service__display_order"
    )
    if not term:
        return qs.none()
    match = (
        Q(member__common_id__startswith=term)
        | Q(member__family_name_latin__icontains=term)
        | Q(member__given_name_latin__icontains=term)
        | Q(member__family_name_ja__icontains=term)
        | Q(member__given_name_ja__icontains=term)
        | Q(member__addresses__address__icontains=term)
        | Q(vendor_address__icontains=term)
    )
    parts = term.split()
    if len(parts) == 2:
        # "Taro Yamada", "Yamada Taro" or "山田 太郎"
        a, b = parts
        for family, given in ((a, b), (b, a)):
            match |= Q(
                member__family_name_latin__iexact=family, member__given_name_latin__iexact=given
            )
            match |= Q(member__family_name_ja=family, member__given_name_ja=given)
    return qs.filter(match).distinct()
